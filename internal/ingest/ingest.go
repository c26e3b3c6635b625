// Package ingest loads credit records pushed by data providers for `collected` catalog items:
// small batches through Submit (the submitRecords mutation) and large NDJSON or CSV files
// through LoadFile. Both paths share one merge: rows are validated in Go, the stored records
// of their sourceIds are looked up in one set-based query, new records are copied in with
// COPY, and corrections go through a temporary staging table and set-based SQL that keeps
// the previous version. Each chunk of a load is one transaction, serialized with the other
// loads of the same (provider, item) and sourceIds by a transaction-scoped advisory lock.
//
// Loading is idempotent on (provider, item, sourceId): the same row again is a duplicate, the
// same sourceId with different content is a correction (the previous version is kept in
// record_versions), and a sourceId already used for another enterprise is rejected.
package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"creditd/internal/apperr"
	"creditd/internal/catalog"
)

// MaxSubmitRows is the largest number of rows one Submit call accepts.
const MaxSubmitRows = 1000

// DefaultChunkSize is the number of file rows merged per transaction unless Options says
// otherwise. Larger chunks revisit fewer index pages per row; a chunk of this size takes
// about 50 MB of memory, and a load keeps up to three in flight.
const DefaultChunkSize = 100000

// Registration is the item whose records define which enterprises exist.
const Registration = "registration.basic"

// Row is one record as sent by a provider.
type Row struct {
	Line       int             // 1-based position: file line number, or row number in a request
	SourceID   string          // the provider's own identifier of the record
	USCC       string          // raw; validated with uscc.Parse per row
	OccurredOn string          // YYYY-MM-DD
	EndsOn     string          // optional, YYYY-MM-DD
	Data       json.RawMessage // must be a JSON object
}

// Rejection is a row that was not loaded, with the reason (naming the field and the rule).
type Rejection struct {
	Line     int
	SourceID string
	Reason   string
}

// Result counts what happened to the rows of one Submit call:
// Accepted + Updated + Duplicates + len(Rejected) equals the number of rows sent.
type Result struct {
	Accepted   int // new records
	Updated    int // corrections of existing records (version + 1, history kept)
	Duplicates int // rows identical to the stored record
	Rejected   []Rejection
}

// Options configures a Loader. Zero values take defaults.
type Options struct {
	// Now is the clock; "today" is its date in Asia/Shanghai. Default time.Now.
	Now func() time.Time
	// Logger receives load summaries (provider, item and counts only). Default slog.Default().
	Logger *slog.Logger
	// ChunkSize is the number of file rows merged per transaction. Default DefaultChunkSize.
	ChunkSize int
}

// Loader loads records into the records table.
type Loader struct {
	pool      *pgxpool.Pool
	cat       *catalog.Catalog
	now       func() time.Time
	log       *slog.Logger
	chunkSize int
}

// NewLoader returns a Loader writing through pool and checking items against cat.
func NewLoader(pool *pgxpool.Pool, cat *catalog.Catalog, opts Options) *Loader {
	l := &Loader{pool: pool, cat: cat, now: opts.Now, log: opts.Logger, chunkSize: opts.ChunkSize}
	if l.now == nil {
		l.now = time.Now
	}
	if l.log == nil {
		l.log = slog.Default()
	}
	if l.chunkSize <= 0 {
		l.chunkSize = DefaultChunkSize
	}
	return l
}

// shanghai is China Standard Time; China has not observed daylight saving time since 1991.
var shanghai = time.FixedZone("CST", 8*60*60)

// today returns the current calendar date in Asia/Shanghai, as midnight UTC.
func (l *Loader) today() time.Time {
	y, m, d := l.now().In(shanghai).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// checkItem applies the whole-call rules: the item exists, is collected, is not
// self-reported and is supplied by provider.
func (l *Loader) checkItem(provider, item string) (*catalog.Item, error) {
	it, ok := l.cat.Item(item)
	if !ok {
		return nil, apperr.New(apperr.BadInput, "item %q is not in the catalog", item).With("item", item)
	}
	if it.Provider == catalog.SelfProvider {
		return nil, apperr.New(apperr.BadInput, "item %s is self-reported: its records come only from the enterprise itself, never from a provider load", item).With("item", item)
	}
	if it.Provider != provider {
		return nil, apperr.New(apperr.BadInput, "item %s is supplied by provider %s, not %s: a provider loads only its own items", item, it.Provider, provider).With("item", item)
	}
	if it.Mode != catalog.Collected {
		return nil, apperr.New(apperr.BadInput, "item %s has mode %s: only collected items are loaded into the platform", item, it.Mode).With("item", item)
	}
	return it, nil
}

// Submit loads at most MaxSubmitRows rows (more → *apperr.Error BAD_INPUT) of one item for one
// provider, in one transaction. Whole-call problems (unknown item, another provider's item, a
// non-collected or self-reported item, too many rows) are errors; problems of single rows are
// rejections in the Result, sorted by Line, and the other rows land. A sourceId repeated in
// the call is applied in order, so its second occurrence is a duplicate or a correction.
func (l *Loader) Submit(ctx context.Context, provider, item string, rows []Row) (Result, error) {
	if _, err := l.checkItem(provider, item); err != nil {
		return Result{}, err
	}
	if len(rows) > MaxSubmitRows {
		return Result{}, apperr.New(apperr.BadInput, "records: at most %d rows per call, got %d; load larger sets as a file", MaxSubmitRows, len(rows)).With("item", item)
	}
	v := newValidator(item, l.today())
	res := Result{Rejected: []Rejection{}}
	var rounds [][]prepared
	var cur []prepared
	seen := map[string]bool{}
	for i, r := range rows {
		line := r.Line
		if line <= 0 {
			line = i + 1
		}
		p, reason := v.row(line, r.SourceID, r.USCC, r.OccurredOn, r.EndsOn, r.Data)
		if reason != "" {
			res.Rejected = append(res.Rejected, Rejection{Line: line, SourceID: r.SourceID, Reason: reason})
			continue
		}
		if seen[p.sourceID] {
			rounds = append(rounds, cur)
			cur = nil
			clear(seen)
		}
		seen[p.sourceID] = true
		cur = append(cur, p)
	}
	if len(cur) > 0 {
		rounds = append(rounds, cur)
	}
	if len(rounds) > 0 {
		out, err := l.merge(ctx, provider, item, everyLane(), rounds)
		if err != nil {
			return Result{}, err
		}
		res.Accepted, res.Updated, res.Duplicates = out.accepted, out.updated, out.duplicates
		res.Rejected = append(res.Rejected, out.rejected...)
	}
	sort.SliceStable(res.Rejected, func(i, j int) bool { return res.Rejected[i].Line < res.Rejected[j].Line })
	return res, nil
}

// describe names a load in error messages.
func describe(provider, item string) string { return fmt.Sprintf("load %s/%s", provider, item) }
