package usage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"creditd/internal/apperr"
)

// RecorderOptions tune a Recorder; zero values take the defaults.
type RecorderOptions struct {
	// FlushInterval is the least time between the starts of two commits, unless MaxBatch events
	// are queued. Zero (the default) starts a commit as soon as the previous one has ended, with
	// everything queued meanwhile: the lowest latency, and batches grow with the load.
	FlushInterval time.Duration
	MaxBatch      int           // events per commit; a full batch is written at once; default 500
	MaxPending    int           // queued events beyond which Record refuses at once; default 100 × MaxBatch
	FlushTimeout  time.Duration // bound on one commit; default 10s
	Now           func() time.Time
	Logger        *slog.Logger
}

// ErrClosed is returned by Record once the recorder has shut down.
var ErrClosed = errors.New("usage recorder is closed")

// Recorder writes usage events with group commit: the events of concurrent Record calls share
// one transaction (synchronous_commit on), and each caller waits for the commit that holds its
// own events. Run must be running for Record to return.
type Recorder struct {
	pool *pgxpool.Pool
	opts RecorderOptions
	log  *slog.Logger

	mu            sync.Mutex
	pending       []*request
	pendingEvents int
	started       bool
	closed        bool

	wake      chan struct{} // capacity 1: the queue became non-empty or full
	stop      chan struct{} // closed by Close
	stopOnce  sync.Once
	done      chan struct{} // closed when Run returns
	partition map[time.Time]bool

	batches, failures, written, duplicates atomic.Uint64
}

type request struct {
	events []Event
	done   chan error // capacity 1
}

// RecorderStats count what a Recorder did since it was made.
type RecorderStats struct {
	Batches    uint64 // transactions committed
	Failures   uint64 // transactions that failed (their callers got an error)
	Written    uint64 // events inserted
	Duplicates uint64 // events already present (same id and time), counted as recorded
}

// NewRecorder returns a recorder writing to pool. Start it with Run.
func NewRecorder(pool *pgxpool.Pool, o RecorderOptions) *Recorder {
	o.FlushInterval = max(o.FlushInterval, 0)
	if o.MaxBatch <= 0 {
		o.MaxBatch = 500
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 100 * o.MaxBatch
	}
	if o.FlushTimeout <= 0 {
		o.FlushTimeout = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Recorder{pool: pool, opts: o, log: o.Logger, wake: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{}), partition: map[time.Time]bool{}}
}

// Stats returns the recorder's counters.
func (r *Recorder) Stats() RecorderStats {
	return RecorderStats{Batches: r.batches.Load(), Failures: r.failures.Load(),
		Written: r.written.Load(), Duplicates: r.duplicates.Load()}
}

// Record queues events and returns once the transaction holding them has committed. It assigns
// missing ids (UUIDv7) and times in place, truncated to microseconds, so that recording the same
// slice again is idempotent. A validation failure wraps ErrInvalidEvent and queues nothing; any
// other error is an *apperr.Error with code USAGE_NOT_RECORDED: the caller must disclose nothing.
// The events of a caller whose ctx ends while it waits may still be committed.
func (r *Recorder) Record(ctx context.Context, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	now := r.opts.Now()
	for i := range events {
		e := &events[i]
		if e.ID == "" {
			id, err := uuid.NewV7()
			if err != nil {
				return notRecorded(fmt.Errorf("event id: %w", err))
			}
			e.ID = id.String()
		}
		if e.At.IsZero() {
			e.At = now
		}
		e.At = e.At.UTC().Truncate(time.Microsecond)
		if err := e.validate(now); err != nil {
			return err
		}
	}
	req := &request{events: slices.Clone(events), done: make(chan error, 1)}

	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return notRecorded(ErrClosed)
	}
	if r.pendingEvents > 0 && r.pendingEvents+len(events) > r.opts.MaxPending {
		r.mu.Unlock()
		return notRecorded(fmt.Errorf("%d events already wait for the database", r.pendingEvents))
	}
	wasEmpty := len(r.pending) == 0
	r.pending = append(r.pending, req)
	r.pendingEvents += len(events)
	full := r.pendingEvents >= r.opts.MaxBatch
	r.mu.Unlock()
	if wasEmpty || full {
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}

	select {
	case err := <-req.done:
		if err != nil {
			return notRecorded(err)
		}
		return nil
	case <-ctx.Done():
		return notRecorded(ctx.Err())
	}
}

func notRecorded(err error) error {
	return &apperr.Error{Code: apperr.UsageNotRecorded,
		Message: "the usage log could not be written, so nothing was disclosed", Err: err}
}

// Run writes queued events until ctx ends or Close is called, then writes what is still queued
// and returns. Call it once, in its own goroutine.
func (r *Recorder) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.started {
		r.mu.Unlock()
		return errors.New("usage recorder: Run called twice")
	}
	r.started = true
	closed := r.closed
	r.mu.Unlock()
	defer close(r.done)
	if !closed {
		r.loop(ctx)
	}
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	for {
		batch := r.take()
		if len(batch) == 0 {
			return nil
		}
		r.flush(ctx, batch)
	}
}

// Close stops accepting events, waits until Run has written the queued ones and returned, and
// fails the queued events if Run never started. It is safe to call more than once.
func (r *Recorder) Close() {
	r.mu.Lock()
	r.closed = true
	started := r.started
	r.mu.Unlock()
	r.stopOnce.Do(func() { close(r.stop) })
	if started {
		<-r.done
		return
	}
	for batch := r.take(); len(batch) > 0; batch = r.take() {
		for _, req := range batch {
			req.done <- ErrClosed
		}
	}
}

// loop starts a commit when events are queued and FlushInterval has passed since the previous
// one started, or at once when MaxBatch events are queued: an event queued while the recorder
// is idle is written at once, and under load the events that arrive during one commit share the
// next.
func (r *Recorder) loop(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var lastFlush time.Time
	for {
		r.mu.Lock()
		n, queued := len(r.pending), r.pendingEvents
		r.mu.Unlock()

		var fire <-chan time.Time // nil: wait until woken
		due := false
		if n > 0 {
			wait := time.Until(lastFlush.Add(r.opts.FlushInterval))
			if due = queued >= r.opts.MaxBatch || wait <= 0; !due {
				timer.Reset(wait)
				fire = timer.C
			}
		}
		if !due {
			select {
			case <-fire:
			case <-r.wake:
				timer.Stop()
				continue
			case <-ctx.Done():
				return
			case <-r.stop:
				return
			}
		}
		if batch := r.take(); len(batch) > 0 {
			lastFlush = time.Now()
			r.flush(ctx, batch)
		}
	}
}

// take removes whole requests from the queue, up to MaxBatch events (at least one request).
func (r *Recorder) take() []*request {
	r.mu.Lock()
	defer r.mu.Unlock()
	var n, total int
	for n < len(r.pending) && (n == 0 || total+len(r.pending[n].events) <= r.opts.MaxBatch) {
		total += len(r.pending[n].events)
		n++
	}
	batch := slices.Clone(r.pending[:n])
	r.pending = slices.Delete(r.pending, 0, n)
	r.pendingEvents -= total
	return batch
}

// flush writes one batch and answers its callers. It outlives ctx's cancellation (shutdown
// drains) but not FlushTimeout.
func (r *Recorder) flush(ctx context.Context, batch []*request) {
	var events []Event
	for _, req := range batch {
		events = append(events, req.events...)
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opts.FlushTimeout)
	inserted, err := r.write(fctx, events)
	cancel()
	if err != nil {
		r.failures.Add(1)
		r.log.Error("usage log write failed; callers disclose nothing", "events", len(events), "callers", len(batch), "err", err)
	} else {
		r.batches.Add(1)
		r.written.Add(uint64(inserted))
		r.duplicates.Add(uint64(len(events)) - uint64(inserted))
	}
	for _, req := range batch {
		req.done <- err
	}
}

// insertEvents writes a batch in one statement, hence one transaction and one round trip. The
// set_config call makes that transaction commit synchronously (WAL flushed before the commit
// returns) whatever the server's or session's default; it lasts only for the transaction.
const insertEvents = `
INSERT INTO usage_events (` + eventCols + `)
SELECT e.* FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[],
	$7::text[], $8::text[], $9::text[], $10::uuid[], $11::int4[], $12::text[]) AS e
CROSS JOIN (SELECT set_config('synchronous_commit', 'on', true)) AS sync
ON CONFLICT (id, at) DO NOTHING`

// write inserts events in one synchronously committed transaction and returns how many were new.
func (r *Recorder) write(ctx context.Context, events []Event) (int64, error) {
	if err := r.ensurePartitions(ctx, events); err != nil {
		return 0, err
	}
	n := len(events)
	var (
		ids, grants                                                 = make([]pgtype.UUID, n), make([]pgtype.UUID, n)
		ats                                                         = make([]time.Time, n)
		insts, actors, usccs, items, providers, actions, requestIDs = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		purposes                                                    = make([]*string, n)
		counts                                                      = make([]int32, n)
	)
	for i, e := range events {
		ids[i] = pgtype.UUID{Bytes: uuid.MustParse(e.ID), Valid: true} // validated by Record
		if e.GrantID != "" {
			grants[i] = pgtype.UUID{Bytes: uuid.MustParse(e.GrantID), Valid: true}
		}
		ats[i], insts[i], actors[i], usccs[i], items[i], providers[i] = e.At, e.Institution, e.Actor, e.USCC, e.Item, e.Provider
		actions[i], purposes[i], counts[i], requestIDs[i] = string(e.Action), nullable(e.Purpose), int32(e.RecordCount), e.RequestID
	}
	tag, err := r.pool.Exec(ctx, insertEvents, ids, ats, insts, actors, usccs, items, providers, actions, purposes, grants, counts, requestIDs)
	if err != nil {
		return 0, fmt.Errorf("insert %d usage events: %w", n, err)
	}
	return tag.RowsAffected(), nil
}

// ensurePartitions creates the partitions of months this recorder has not written to yet.
func (r *Recorder) ensurePartitions(ctx context.Context, events []Event) error {
	for _, e := range events {
		m := monthOf(e.At)
		if r.partition[m] {
			continue
		}
		if err := ensurePartition(ctx, r.pool, m); err != nil {
			return err
		}
		r.partition[m] = true
	}
	return nil
}
