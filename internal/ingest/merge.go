package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"creditd/internal/apperr"
)

// New records are copied straight into records. Corrections are copied into a staging
// table and merged with set-based SQL, so that history is kept in the same statement. The
// staging table lives in the session's temporary schema: it is neither WAL-logged nor visible
// to other sessions, and its rows vanish at commit.
const stageDDL = `CREATE TEMP TABLE IF NOT EXISTS ingest_stage (
	old_id       uuid NOT NULL,
	uscc         text NOT NULL,
	occurred_on  date NOT NULL,
	ends_on      date,
	data         jsonb NOT NULL,
	content_hash bytea NOT NULL
) ON COMMIT DELETE ROWS`

var stageTable = pgx.Identifier{"pg_temp", "ingest_stage"}

var stageColumns = []string{"old_id", "uscc", "occurred_on", "ends_on", "data", "content_hash"}

var recordColumns = []string{"uscc", "id", "provider", "item", "source_id", "occurred_on", "ends_on",
	"data", "content_hash", "version", "created_at", "updated_at"}

// lockSQL serializes the loads of one lane of one (provider, item), so that the check that a
// sourceId belongs to one enterprise is race-free.
const lockSQL = `SELECT pg_advisory_xact_lock(hashtextextended('creditd.ingest:' || $1::text || '/' || $2::text || '#' || $3::int, 0))`

// Lanes partition the sourceIds of an item (by a hash of the sourceId) so that a large file
// is merged by several transactions at once. A sourceId always falls in the same lane, and
// each lane has its own advisory lock, so loads touching the same sourceId are still
// serialized: a file lane locks its lane, Submit locks every lane (in order, so never
// deadlocking). Registration loads use a single lane, because the enterprise row they
// refresh is shared by all the registration records of an enterprise. Every loader of one
// database must use the same number of lanes.
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

// The lookups probe records and enterprises by key, one index search per row, whatever
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

// correctSQL keeps the previous version of each corrected record and applies the correction.
// Its joins run as index probes by primary key (see probeByKey).
const correctSQL = `WITH old AS (
	SELECT r.uscc, r.id, r.version, r.occurred_on, r.ends_on, r.data,
	       s.occurred_on AS new_occurred_on, s.ends_on AS new_ends_on, s.data AS new_data, s.content_hash AS new_hash
	FROM pg_temp.ingest_stage s
	JOIN records r ON r.uscc = s.uscc AND r.id = s.old_id
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
FROM (SELECT DISTINCT uscc FROM unnest($3::text[]) AS u(uscc)) s
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

// merge applies rounds of validated rows in one transaction holding the locks of lanes.
// Within a round sourceIds are unique; a sourceId repeated in a load starts a new round so
// that it is applied in order.
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

	// Classify each row; only new rows and corrections are written.
	var fresh, corrected []*prepared
	var oldIDs []pgtype.UUID
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
			id, err := uuid.NewV7()
			if err != nil {
				return out, fmt.Errorf("record id: %w", err)
			}
			r.id = id
			out.accepted++
			fresh = append(fresh, r)
		case bytes.Equal(ex.hash, r.hash):
			out.duplicates++
		default:
			out.updated++
			corrected = append(corrected, r)
			oldIDs = append(oldIDs, ex.id)
		}
	}

	now := l.now()
	if len(fresh) > 0 {
		// In the order of the records' indexes (most lead with the USCC), so that the copy
		// walks each index once instead of jumping around it.
		slices.SortFunc(fresh, func(a, b *prepared) int {
			if c := strings.Compare(a.uscc, b.uscc); c != 0 {
				return c
			}
			return bytes.Compare(a.id[:], b.id[:])
		})
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"records"}, recordColumns, pgx.CopyFromSlice(len(fresh), func(i int) ([]any, error) {
			r := fresh[i]
			return []any{r.uscc, pgtype.UUID{Bytes: r.id, Valid: true}, provider, item, r.sourceID,
				pgtype.Date{Time: r.occurred, Valid: true}, endsOn(r), r.data, r.hash, int32(1), now, now}, nil
		})); err != nil {
			return out, fmt.Errorf("copy new records: %w", err)
		}
	}
	b = &pgx.Batch{}
	if len(corrected) > 0 {
		if _, err := tx.CopyFrom(ctx, stageTable, stageColumns, pgx.CopyFromSlice(len(corrected), func(i int) ([]any, error) {
			r := corrected[i]
			return []any{oldIDs[i], r.uscc, pgtype.Date{Time: r.occurred, Valid: true}, endsOn(r), r.data, r.hash}, nil
		})); err != nil {
			return out, fmt.Errorf("copy corrections into stage: %w", err)
		}
		for _, q := range probeByKey {
			b.Queue(q)
		}
		b.Queue(correctSQL, now)
	}
	if item == Registration && len(fresh)+len(corrected) > 0 {
		touched := make([]string, 0, len(fresh)+len(corrected))
		for _, r := range fresh {
			touched = append(touched, r.uscc)
		}
		for _, r := range corrected {
			touched = append(touched, r.uscc)
		}
		b.Queue(enterpriseSQL, item, now, touched)
	}
	if b.Len() > 0 {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return out, fmt.Errorf("merge corrections: %w", err)
		}
	}
	return out, nil
}

func endsOn(r *prepared) pgtype.Date {
	if !r.hasEnds {
		return pgtype.Date{}
	}
	return pgtype.Date{Time: r.ends, Valid: true}
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
