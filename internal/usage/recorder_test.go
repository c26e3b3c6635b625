package usage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"creditd/internal/store"
	"creditd/internal/testdb"
)

func TestRecordConcurrentCallersShareCommits(t *testing.T) {
	pool := testdb.Pool(t)
	r := startRecorder(t, pool, RecorderOptions{})
	const callers, perCaller = 50, 20
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		sent [][]Event
	)
	for c := range callers {
		wg.Go(func() {
			for i := range perCaller {
				e := ev("TAX", fmt.Sprintf("U%02d", c), "tax.revenue")
				e.RequestID = fmt.Sprintf("req-%d-%d", c, i)
				batch := []Event{e}
				if err := r.Record(t.Context(), batch); err != nil {
					t.Errorf("Record: %v", err)
					return
				}
				mu.Lock()
				sent = append(sent, batch)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	const total = callers * perCaller
	if n := count(t, pool, `SELECT count(DISTINCT id) FROM usage_events`); n != total {
		t.Fatalf("%d distinct events stored, want %d", n, total)
	}
	if n := count(t, pool, `SELECT count(*) FROM usage_events`); n != total {
		t.Fatalf("%d rows stored, want %d", n, total)
	}
	st := r.Stats()
	t.Logf("%d Record calls committed in %d transactions", total, st.Batches)
	if st.Batches >= total || st.Written != total || st.Failures != 0 {
		t.Fatalf("stats %+v: want fewer than %d transactions, %d written, no failure", st, total, total)
	}

	// Recording the same slices again is idempotent: ids and times were assigned in place.
	for _, batch := range sent[:100] {
		if err := r.Record(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, pool, `SELECT count(*) FROM usage_events`); n != total {
		t.Fatalf("%d rows after recording 100 events again, want %d", n, total)
	}
	if st := r.Stats(); st.Duplicates != 100 {
		t.Fatalf("duplicates = %d, want 100", st.Duplicates)
	}
}

func TestRecordStoresEveryField(t *testing.T) {
	pool := testdb.Pool(t)
	r := startRecorder(t, pool, RecorderOptions{})
	in := []Event{
		{Institution: "DEMO-BANK", Actor: "alice", USCC: "91350100M000100Y43", Item: "tax.revenue", Provider: "TAX",
			Action: Report, Purpose: "LOAN_APPLICATION", GrantID: "0190f0a4-52f3-7c4b-9c1e-8a2f1b3c4d5e", RecordCount: 3, RequestID: "r1"},
		{Institution: Platform, Actor: "op", USCC: "91350100M000100Y43", Item: "admin.penalty", Provider: "MARKET",
			Action: OperatorView, RecordCount: 0, RequestID: "r2"},
	}
	if err := r.Record(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	for _, want := range in {
		got, err := scanEvent(pool.QueryRow(t.Context(), `SELECT `+eventCols+` FROM usage_events WHERE id = $1`, want.ID))
		if err != nil {
			t.Fatal(err)
		}
		if !got.At.Equal(want.At) {
			t.Errorf("at %v, want %v", got.At, want.At)
		}
		got.At = want.At
		if got != want {
			t.Errorf("stored %+v\nwant %+v", got, want)
		}
	}
}

func TestRecordRefusesInvalidEvents(t *testing.T) {
	pool := testdb.Pool(t)
	r := startRecorder(t, pool, RecorderOptions{})
	now := time.Now()
	tests := []struct {
		name   string
		change func(*Event)
	}{
		{"unknown action", func(e *Event) { e.Action = "READ" }},
		{"empty action", func(e *Event) { e.Action = "" }},
		{"empty institution", func(e *Event) { e.Institution = "" }},
		{"empty actor", func(e *Event) { e.Actor = "" }},
		{"empty subject", func(e *Event) { e.USCC = "" }},
		{"empty item", func(e *Event) { e.Item = "" }},
		{"empty provider", func(e *Event) { e.Provider = "" }},
		{"empty request id", func(e *Event) { e.RequestID = "" }},
		{"bad id", func(e *Event) { e.ID = "42" }},
		{"bad grant", func(e *Event) { e.GrantID = "grant-1" }},
		{"negative count", func(e *Event) { e.RecordCount = -1 }},
		{"NUL byte", func(e *Event) { e.Actor = "a\x00b" }},
		{"invalid UTF-8", func(e *Event) { e.Item = "\xff" }},
		{"far past", func(e *Event) { e.At = now.Add(-time.Hour) }},
		{"far future", func(e *Event) { e.At = now.Add(time.Hour) }},
		{"operator view by an institution", func(e *Event) { e.Action = OperatorView }},
		{"platform viewing as an institution", func(e *Event) { e.Institution = Platform }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good, bad := ev("TAX", "U1", "tax.revenue"), ev("TAX", "U1", "tax.revenue")
			tt.change(&bad)
			err := r.Record(t.Context(), []Event{good, bad})
			if !errors.Is(err, ErrInvalidEvent) {
				t.Fatalf("Record = %v, want ErrInvalidEvent", err)
			}
		})
	}
	if n := count(t, pool, `SELECT count(*) FROM usage_events`); n != 0 {
		t.Fatalf("%d events stored from refused calls", n)
	}
}

func TestRecordFailsWhileInsertsFailAndRecoversByItself(t *testing.T) {
	pool := testdb.Pool(t)
	r := startRecorder(t, pool, RecorderOptions{})
	exec(t, pool, `CREATE FUNCTION refuse_usage() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'usage writes are failing'; END $$`)
	exec(t, pool, `CREATE TRIGGER refuse_usage BEFORE INSERT ON usage_events FOR EACH ROW EXECUTE FUNCTION refuse_usage()`)

	recordAll := func(n int) []error {
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs[i] = r.Record(t.Context(), []Event{ev("TAX", "U1", "tax.revenue")}) })
		}
		wg.Wait()
		return errs
	}
	for i, err := range recordAll(20) {
		if !isNotRecorded(err) {
			t.Fatalf("caller %d: Record = %v, want USAGE_NOT_RECORDED", i, err)
		}
	}
	if st := r.Stats(); st.Failures == 0 {
		t.Fatalf("stats %+v: no failed transaction counted", st)
	}

	exec(t, pool, `DROP TRIGGER refuse_usage ON usage_events`)
	for i, err := range recordAll(20) {
		if err != nil {
			t.Fatalf("caller %d after the trigger was dropped: %v", i, err)
		}
	}
	if n := count(t, pool, `SELECT count(*) FROM usage_events`); n != 20 {
		t.Fatalf("%d events stored, want the 20 recorded after recovery", n)
	}
}

func TestRecordSurvivesKilledConnections(t *testing.T) {
	url := testdb.New(t)
	pool, err := store.Open(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	admin, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) })
	r := startRecorder(t, pool, RecorderOptions{})

	// Slow commits down so that a transaction is certainly in flight when the connections die.
	exec(t, admin, `CREATE FUNCTION slow_usage() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN PERFORM pg_sleep(0.2); RETURN NULL; END $$`)
	exec(t, admin, `CREATE TRIGGER slow_usage BEFORE INSERT ON usage_events FOR EACH STATEMENT EXECUTE FUNCTION slow_usage()`)

	type result struct {
		events []Event
		err    error
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		results []result
		stop    = make(chan struct{})
	)
	for range 16 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				batch := []Event{ev("TAX", "U1", "tax.revenue"), ev("MARKET", "U1", "admin.penalty")}
				err := r.Record(t.Context(), batch)
				mu.Lock()
				results = append(results, result{batch, err})
				mu.Unlock()
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	var killed int
	if err := admin.QueryRow(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	exec(t, admin, `DROP TRIGGER slow_usage ON usage_events`)
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()

	var failed, ok int
	for _, res := range results {
		if res.err == nil {
			ok++
			for _, e := range res.events {
				if n := count(t, admin, `SELECT count(*) FROM usage_events WHERE id = $1`, e.ID); n != 1 {
					t.Fatalf("event %s was acknowledged but is not stored", e.ID)
				}
			}
			continue
		}
		if !isNotRecorded(res.err) {
			t.Fatalf("Record = %v, want USAGE_NOT_RECORDED", res.err)
		}
		failed++
	}
	t.Logf("killed %d backends: %d calls failed, %d succeeded", killed, failed, ok)
	if killed == 0 || failed == 0 {
		t.Fatalf("killed %d backends, %d calls failed: the kill hit no transaction", killed, failed)
	}

	// The recorder recovers by itself: soon every concurrent call succeeds again.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var errs []error
		var emu sync.Mutex
		var rw sync.WaitGroup
		for range 16 {
			rw.Go(func() {
				if err := r.Record(t.Context(), []Event{ev("TAX", "U2", "tax.revenue")}); err != nil {
					emu.Lock()
					errs = append(errs, err)
					emu.Unlock()
				}
			})
		}
		rw.Wait()
		if len(errs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing 10s after the kill: %v", errs[0])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestRecorderLifecycle(t *testing.T) {
	pool := testdb.Pool(t)
	r := NewRecorder(pool, RecorderOptions{FlushInterval: time.Hour, MaxBatch: 1000, Logger: quiet})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	runDone := make(chan error, 1)
	go func() { runDone <- r.Run(ctx) }()

	// An idle recorder commits at once, whatever the interval...
	if err := r.Record(t.Context(), []Event{ev("TAX", "U1", "tax.revenue")}); err != nil {
		t.Fatal(err)
	}
	// ...then a queued event waits for the (long) flush interval...
	recorded := make(chan error, 1)
	e := []Event{ev("TAX", "U1", "tax.revenue")}
	go func() { recorded <- r.Record(t.Context(), e) }()
	waitFor(t, func() bool { r.mu.Lock(); defer r.mu.Unlock(); return r.pendingEvents == 1 })

	// ...and is written when the recorder shuts down.
	cancel()
	if err := <-runDone; err != nil {
		t.Fatalf("Run = %v", err)
	}
	if err := <-recorded; err != nil {
		t.Fatalf("queued Record = %v, want it drained on shutdown", err)
	}
	if n := count(t, pool, `SELECT count(*) FROM usage_events`); n != 2 {
		t.Fatalf("%d events stored, want 2", n)
	}
	err := r.Record(t.Context(), []Event{ev("TAX", "U1", "tax.revenue")})
	if !errors.Is(err, ErrClosed) || !isNotRecorded(err) {
		t.Fatalf("Record after shutdown = %v, want ErrClosed as USAGE_NOT_RECORDED", err)
	}
	r.Close() // after Run returned: no wait, no panic
	r.Close()
	if err := r.Run(t.Context()); err == nil {
		t.Fatal("second Run succeeded")
	}
}

func TestRecorderCommitsAFullBatchAtOnce(t *testing.T) {
	pool := testdb.Pool(t)
	r := startRecorder(t, pool, RecorderOptions{FlushInterval: time.Hour, MaxBatch: 10})
	if err := r.Record(t.Context(), []Event{ev("TAX", "U1", "tax.revenue")}); err != nil {
		t.Fatal(err)
	}
	// The next commit may only start in an hour, unless ten events are queued.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if err := r.Record(ctx, []Event{ev("TAX", "U1", "tax.revenue")}); err != nil {
				t.Errorf("Record: %v", err)
			}
		})
	}
	wg.Wait()
	if st := r.Stats(); st.Batches != 2 || st.Written != 11 {
		t.Fatalf("stats %+v, want 2 transactions writing 11 events", st)
	}
}

func TestRecorderClosedBeforeRun(t *testing.T) {
	r := NewRecorder(testdb.Pool(t), RecorderOptions{Logger: quiet})
	r.Close()
	if err := r.Record(t.Context(), []Event{ev("TAX", "U1", "tax.revenue")}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Record = %v, want ErrClosed", err)
	}
	if err := r.Run(t.Context()); err != nil {
		t.Fatalf("Run after Close = %v", err)
	}
}

func TestRecordGivesUpWhenCallerLeaves(t *testing.T) {
	r := NewRecorder(testdb.Pool(t), RecorderOptions{Logger: quiet}) // never run
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	err := r.Record(ctx, []Event{ev("TAX", "U1", "tax.revenue")})
	if !errors.Is(err, context.DeadlineExceeded) || !isNotRecorded(err) {
		t.Fatalf("Record = %v, want the deadline as USAGE_NOT_RECORDED", err)
	}
	r.Close()
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRecordCommitsSynchronouslyWhateverTheDefault(t *testing.T) {
	url := testdb.New(t)
	setup, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer setup.Close(context.Background())
	var db string
	if err := setup.QueryRow(t.Context(), `SELECT current_database()`).Scan(&db); err != nil {
		t.Fatal(err)
	}
	exec(t, setup, `ALTER DATABASE `+db+` SET synchronous_commit = off`)
	// A trigger notes the setting in force while the events are inserted.
	exec(t, setup, `CREATE TABLE seen (setting text)`)
	exec(t, setup, `CREATE FUNCTION note_sync() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN INSERT INTO seen VALUES (current_setting('synchronous_commit')); RETURN NEW; END $$`)
	exec(t, setup, `CREATE TRIGGER note_sync BEFORE INSERT ON usage_events FOR EACH ROW EXECUTE FUNCTION note_sync()`)

	pool, err := store.Open(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	r := startRecorder(t, pool, RecorderOptions{})
	if err := r.Record(t.Context(), []Event{ev("TAX", "U1", "tax.revenue"), ev("TAX", "U2", "tax.revenue")}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, pool, `SELECT count(*) FROM seen WHERE setting = 'on'`); n != 2 {
		t.Fatalf("%d of 2 events inserted with synchronous_commit on", n)
	}
	var after string
	if err := pool.QueryRow(t.Context(), `SHOW synchronous_commit`).Scan(&after); err != nil || after != "off" {
		t.Fatalf("session setting after recording = %q, %v; want the database default (off) untouched", after, err)
	}
}
