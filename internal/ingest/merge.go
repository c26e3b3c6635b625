package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"creditd/internal/apperr"
)

// The staging table lives in the session's temporary schema: it is neither WAL-logged nor
// visible to other sessions, and its rows vanish at commit.
const stageDDL = `CREATE TEMP TABLE IF NOT EXISTS ingest_stage (
	line        integer NOT NULL,
	id          uuid NOT NULL,
	old_id      uuid,
	source_id   text NOT NULL,
	uscc        text NOT NULL,
	occurred_on date NOT NULL,
	ends_on     date,
	data        jsonb NOT NULL,
	content_hash bytea NOT NULL
) ON COMMIT DELETE ROWS`

var stageTable = pgx.Identifier{"pg_temp", "ingest_stage"}

var stageColumns = []string{"line", "id", "old_id", "source_id", "uscc", "occurred_on", "ends_on", "data", "content_hash"}

// lockSQL serializes loads of one (provider, item) so that the check that a sourceId belongs
// to one enterprise is race-free.
const lockSQL = `SELECT pg_advisory_xact_lock(hashtextextended('creditd.ingest:' || $1::text || '/' || $2::text || '#' || $3::int, 0))`

// Lanes partition the sourceIds of an item (by a hash of the sourceId) so that a large file
// is merged by several transactions at once. A sourceId always falls in the same lane, and
// each lane has its own advisory lock, so loads touching the same sourceId are still
// serialized: a file lane locks its lane, Submit locks every lane (in order, so never
// deadlocking). Registration loads use a single lane, because the enterprise row they
// refresh is shared by all the registration records of an enterprise.
const maxLanes = 2

// lanesFor is the number of lanes a file load of item uses.
func (l *Loader) lanesFor(item string) int {
	if item == Registration {
		return 1
	}
	return maxLanes
}

// laneOf is the lane of a sourceId (FNV-1a).
func laneOf(sourceID string, lanes int) int {
	if lanes == 1 {
		return 0
	}
	h := uint32(2166136261)
	for i := 0; i < len(sourceID); i++ {
		h ^= uint32(sourceID[i])
		h *= 16777619
	}
	return int(h % uint32(lanes))
}

// everyLane returns the lanes Submit locks, in order.
func everyLane() []int {
	out := make([]int, maxLanes)
	for i := range out {
		out[i] = i
	}
	return out
}

// The lookups probe records and enterprises by key, one index search per staged row, whatever
// the planner's statistics say (a table that has just been bulk-loaded has none yet): the
// LATERAL subqueries cannot be turned into a scan of the whole table.
const existingSQL = `SELECT s.source_id, r.uscc, r.id, r.content_hash
FROM unnest($3::text[]) AS s(source_id)
CROSS JOIN LATERAL (
	SELECT uscc, id, content_hash FROM records
	WHERE provider = $1 AND item = $2 AND source_id = s.source_id
	LIMIT 1
) r`

const knownSQL = `SELECT u.uscc
FROM unnest($1::text[]) AS u(uscc)
WHERE EXISTS (SELECT 1 FROM enterprises e WHERE e.uscc = u.uscc)`

const insertSQL = `INSERT INTO records (uscc, id, provider, item, source_id, occurred_on, ends_on, data, content_hash, version, created_at, updated_at)
SELECT uscc, id, $1, $2, source_id, occurred_on, ends_on, data, content_hash, 1, $3, $3
FROM pg_temp.ingest_stage WHERE old_id IS NULL
ORDER BY uscc, id`

// correctSQL keeps the previous version of each corrected record and applies the correction.
// Its joins run as index probes by primary key (see probeByKey).
const correctSQL = `WITH old AS (
	SELECT r.uscc, r.id, r.version, r.occurred_on, r.ends_on, r.data,
	       s.occurred_on AS new_occurred_on, s.ends_on AS new_ends_on, s.data AS new_data, s.content_hash AS new_hash
	FROM pg_temp.ingest_stage s
	JOIN records r ON r.uscc = s.uscc AND r.id = s.old_id
	WHERE s.old_id IS NOT NULL
	FOR UPDATE OF r
), history AS (
	INSERT INTO record_versions (uscc, record_id, version, occurred_on, ends_on, data, superseded_at)
	SELECT uscc, id, version, occurred_on, ends_on, data, $1 FROM old
)
UPDATE records r
SET occurred_on = old.new_occurred_on, ends_on = old.new_ends_on, data = old.new_data,
    content_hash = old.new_hash, version = old.version + 1, updated_at = $1
FROM old
WHERE r.uscc = old.uscc AND r.id = old.id`

// probeByKey makes the rest of the transaction join by index probes rather than by hashing
// or merging whole tables: the merge touches a chunk's worth of rows of a large table.
var probeByKey = []string{`SET LOCAL enable_hashjoin = off`, `SET LOCAL enable_mergejoin = off`}

// enterpriseSQL refreshes the enterprises touched by a registration load from their latest
// registration record (by occurredOn, then by last change).
const enterpriseSQL = `INSERT INTO enterprises AS e (uscc, name, region_code, industry_code, size, subject_type, updated_at)
SELECT r.uscc, r.data->>'name', r.data->>'region_code', r.data->>'industry_code',
       r.data->>'size', r.data->>'subject_type', $2::timestamptz
FROM (SELECT DISTINCT uscc FROM pg_temp.ingest_stage) s
CROSS JOIN LATERAL (
	SELECT uscc, data FROM records
	WHERE uscc = s.uscc AND item = $1
	ORDER BY occurred_on DESC, updated_at DESC, id DESC
	LIMIT 1
) r
ON CONFLICT (uscc) DO UPDATE
SET name = EXCLUDED.name, region_code = EXCLUDED.region_code, industry_code = EXCLUDED.industry_code,
    size = EXCLUDED.size, subject_type = EXCLUDED.subject_type, updated_at = EXCLUDED.updated_at
WHERE (e.name, e.region_code, e.industry_code, e.size, e.subject_type)
      IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.region_code, EXCLUDED.industry_code, EXCLUDED.size, EXCLUDED.subject_type)`

// outcome counts the merge of validated rows.
type outcome struct {
	accepted, updated, duplicates int
	rejected                      []Rejection
}

func (o *outcome) add(x outcome) {
	o.accepted += x.accepted
	o.updated += x.updated
	o.duplicates += x.duplicates
	o.rejected = append(o.rejected, x.rejected...)
}

// merge applies rounds of validated rows in one transaction holding the locks of lanes. Within a round sourceIds are
// unique; a sourceId repeated in a load starts a new round so that it is applied in order.
func (l *Loader) merge(ctx context.Context, provider, item string, lanes []int, rounds [][]prepared) (outcome, error) {
	var out outcome
	tx, err := l.pool.Begin(ctx)
	if err != nil {
		return out, fmt.Errorf("%s: begin: %w", describe(provider, item), err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // a no-op after Commit

	b := &pgx.Batch{}
	for _, lane := range lanes {
		b.Queue(lockSQL, provider, item, lane)
	}
	b.Queue(stageDDL)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return out, translate(provider, item, rounds[0][0].line, fmt.Errorf("lock and stage: %w", err))
	}
	for i, rows := range rounds {
		if i > 0 {
			if _, err := tx.Exec(ctx, `TRUNCATE pg_temp.ingest_stage`); err != nil {
				return out, translate(provider, item, rows[0].line, fmt.Errorf("clear stage: %w", err))
			}
		}
		o, err := l.mergeRound(ctx, tx, provider, item, rows)
		if err != nil {
			return out, translate(provider, item, rows[0].line, err)
		}
		out.add(o)
	}
	if err := tx.Commit(ctx); err != nil {
		return out, translate(provider, item, rounds[0][0].line, fmt.Errorf("commit: %w", err))
	}
	return out, nil
}

// existing is what the table holds for a sourceId.
type existing struct {
	uscc string
	id   pgtype.UUID
	hash []byte
}

func (l *Loader) mergeRound(ctx context.Context, tx pgx.Tx, provider, item string, rows []prepared) (outcome, error) {
	var out outcome
	ids := make([]string, len(rows))
	for i := range rows {
		ids[i] = rows[i].sourceID
	}
	checkKnown := item != Registration
	var usccs []string
	if checkKnown {
		seen := make(map[string]struct{}, len(rows))
		for i := range rows {
			if _, ok := seen[rows[i].uscc]; !ok {
				seen[rows[i].uscc] = struct{}{}
				usccs = append(usccs, rows[i].uscc)
			}
		}
	}

	// One round trip: the stored records of these sourceIds and the enterprises that exist.
	b := &pgx.Batch{}
	b.Queue(existingSQL, provider, item, ids)
	if checkKnown {
		b.Queue(knownSQL, usccs)
	}
	br := tx.SendBatch(ctx, b)
	have := map[string]existing{}
	rs, err := br.Query()
	if err != nil {
		_ = br.Close()
		return out, fmt.Errorf("read existing records: %w", err)
	}
	var e existing
	var sid string
	if _, err := pgx.ForEachRow(rs, []any{&sid, &e.uscc, &e.id, &e.hash}, func() error {
		have[sid] = e
		return nil
	}); err != nil {
		_ = br.Close()
		return out, fmt.Errorf("read existing records: %w", err)
	}
	var known map[string]struct{}
	if checkKnown {
		known = make(map[string]struct{}, len(usccs))
		rs, err := br.Query()
		if err != nil {
			_ = br.Close()
			return out, fmt.Errorf("read enterprises: %w", err)
		}
		var u string
		if _, err := pgx.ForEachRow(rs, []any{&u}, func() error {
			known[u] = struct{}{}
			return nil
		}); err != nil {
			_ = br.Close()
			return out, fmt.Errorf("read enterprises: %w", err)
		}
	}
	if err := br.Close(); err != nil {
		return out, fmt.Errorf("read existing records: %w", err)
	}

	// Classify each row; only new rows and corrections are staged.
	staged := make([]prepared, 0, len(rows))
	oldIDs := make([]pgtype.UUID, 0, len(rows))
	corrections := 0
	for i := range rows {
		r := &rows[i]
		ex, found := have[r.sourceID]
		switch {
		case found && ex.uscc != r.uscc:
			out.rejected = append(out.rejected, Rejection{Line: r.line, SourceID: r.sourceID,
				Reason: "sourceId: already used for another enterprise's record of this item; a record cannot move to another USCC"})
		case checkKnown && !isKnown(known, r.uscc):
			out.rejected = append(out.rejected, Rejection{Line: r.line, SourceID: r.sourceID,
				Reason: fmt.Sprintf("uscc: unknown enterprise %s (no %s record)", r.uscc, Registration)})
		case !found:
			out.accepted++
			staged = append(staged, *r)
			oldIDs = append(oldIDs, pgtype.UUID{})
		case bytes.Equal(ex.hash, r.hash):
			out.duplicates++
		default:
			out.updated++
			corrections++
			staged = append(staged, *r)
			oldIDs = append(oldIDs, ex.id)
		}
	}
	if len(staged) == 0 {
		return out, nil
	}

	if _, err := tx.CopyFrom(ctx, stageTable, stageColumns, pgx.CopyFromSlice(len(staged), func(i int) ([]any, error) {
		r := &staged[i]
		ends := pgtype.Date{}
		if r.hasEnds {
			ends = pgtype.Date{Time: r.ends, Valid: true}
		}
		return []any{
			int32(r.line),
			pgtype.UUID{Bytes: r.id, Valid: true},
			oldIDs[i],
			r.sourceID,
			r.uscc,
			pgtype.Date{Time: r.occurred, Valid: true},
			ends,
			r.data,
			r.hash,
		}, nil
	})); err != nil {
		return out, fmt.Errorf("copy into stage: %w", err)
	}

	now := l.now()
	b = &pgx.Batch{}
	if out.accepted > 0 {
		b.Queue(insertSQL, provider, item, now)
	}
	if corrections > 0 {
		for _, q := range probeByKey {
			b.Queue(q)
		}
		b.Queue(correctSQL, now)
	}
	if item == Registration {
		b.Queue(enterpriseSQL, item, now)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return out, fmt.Errorf("merge stage into records: %w", err)
	}
	return out, nil
}

func isKnown(known map[string]struct{}, uscc string) bool {
	_, ok := known[uscc]
	return ok
}

// translate turns database errors that can reach callers into *apperr.Error and wraps the rest.
func translate(provider, item string, line int, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "23505", pgErr.Code == "40001", pgErr.Code == "40P01":
			return &apperr.Error{Code: apperr.Internal,
				Message: fmt.Sprintf("item %s: records from line %d conflicted with a concurrent write; loading is idempotent, send them again", item, line),
				Err:     fmt.Errorf("%s: %w", describe(provider, item), err)}
		case len(pgErr.Code) == 5 && pgErr.Code[:2] == "22":
			return &apperr.Error{Code: apperr.BadInput,
				Message: fmt.Sprintf("item %s: records from line %d were refused by the database: %s", item, line, pgErr.Message),
				Err:     fmt.Errorf("%s: %w", describe(provider, item), err)}
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: stopped at line %d: %w", describe(provider, item), line, err)
	}
	return fmt.Errorf("%s: line %d: %w", describe(provider, item), line, err)
}
