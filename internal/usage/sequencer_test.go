package usage

import (
	"context"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"creditd/auth"
	"creditd/internal/testdb"
)

// recordN records n events of provider (two subjects, two items) and returns them.
func recordN(t *testing.T, r *Recorder, provider string, n int) []Event {
	t.Helper()
	events := make([]Event, n)
	for i := range events {
		events[i] = ev(provider, fmt.Sprintf("U%d", i%2), fmt.Sprintf("%s.item%d", provider, i%2))
	}
	if err := r.Record(t.Context(), events); err != nil {
		t.Fatal(err)
	}
	return events
}

func newSequencer(pool *pgxpool.Pool, ks *auth.KeySet, now func() time.Time) *Sequencer {
	return NewSequencer(pool, ks, SequencerOptions{Now: now, Logger: quiet})
}

func later() time.Time { return time.Now().Add(time.Minute) }

func TestSealSignsCheckpointsThatVerify(t *testing.T) {
	pool := testdb.Pool(t)
	ks := keySet(t)
	jwks, err := auth.ParseJWKS(ks.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	r := startRecorder(t, pool, RecorderOptions{})
	seq := newSequencer(pool, ks, later)

	recordN(t, r, "TAX", 5)
	recordN(t, r, "MARKET", 3)
	if err := seq.SealOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	recordN(t, r, "TAX", 4)
	if err := seq.SealOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := seq.SealOnce(t.Context()); err != nil { // nothing new: no new checkpoint
		t.Fatal(err)
	}

	for _, tt := range []struct {
		provider    string
		size        int64
		checkpoints int
	}{{"TAX", 9, 2}, {"MARKET", 3, 1}} {
		cp, ok, err := LatestCheckpoint(t.Context(), pool, tt.provider)
		if err != nil || !ok {
			t.Fatalf("LatestCheckpoint(%s) = %v, %v", tt.provider, ok, err)
		}
		claims, err := VerifyCheckpoint(jwks, cp.Signature)
		if err != nil {
			t.Fatalf("checkpoint of %s does not verify with the JWKS: %v", tt.provider, err)
		}
		if cp.Size != tt.size || claims.Size != tt.size || claims.Provider != tt.provider || claims.Head != cp.Head || !claims.At.Equal(cp.At) {
			t.Fatalf("checkpoint %+v, claims %+v; want size %d", cp, claims, tt.size)
		}
		if head, _ := hex.DecodeString(cp.Head); len(head) != 32 {
			t.Fatalf("head %q is not a hex SHA-256", cp.Head)
		}
		if n := count(t, pool, `SELECT count(*) FROM usage_checkpoints WHERE provider = $1`, tt.provider); n != tt.checkpoints {
			t.Fatalf("%s has %d checkpoints, want %d", tt.provider, n, tt.checkpoints)
		}
	}
	if _, ok, err := LatestCheckpoint(t.Context(), pool, "NOBODY"); ok || err != nil {
		t.Fatalf("LatestCheckpoint(NOBODY) = %v, %v; want none", ok, err)
	}
	// Another key set's token type or key does not pass.
	if _, err := VerifyCheckpoint(keySet(t), mustLatest(t, pool, "TAX").Signature); err == nil {
		t.Fatal("checkpoint verified with an unrelated key")
	}

	rep, err := VerifyChain(t.Context(), pool, jwks)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || len(rep.Providers) != 2 {
		t.Fatalf("report:\n%s", rep)
	}
	t.Logf("report:\n%s", rep)
}

func mustLatest(t *testing.T, pool *pgxpool.Pool, provider string) Checkpoint {
	t.Helper()
	cp, ok, err := LatestCheckpoint(t.Context(), pool, provider)
	if err != nil || !ok {
		t.Fatalf("LatestCheckpoint(%s) = %v, %v", provider, ok, err)
	}
	return cp
}

func TestSealLeavesYoungEventsForTheNextRound(t *testing.T) {
	pool := testdb.Pool(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	r := startRecorder(t, pool, RecorderOptions{Now: fixedClock(now)})
	recordN(t, r, "TAX", 2)

	if err := newSequencer(pool, keySet(t), fixedClock(now.Add(time.Second))).SealOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := count(t, pool, `SELECT count(*) FROM usage_chain`); n != 0 {
		t.Fatalf("%d events sealed within the margin", n)
	}
	if err := newSequencer(pool, keySet(t), fixedClock(now.Add(6*time.Second))).SealOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := count(t, pool, `SELECT count(*) FROM usage_chain`); n != 2 {
		t.Fatalf("%d events sealed after the margin, want 2", n)
	}
}

func TestSealPicksUpLateCommits(t *testing.T) {
	pool := testdb.Pool(t)
	ks := keySet(t)
	t0 := time.Now().UTC().Truncate(time.Microsecond)
	early := startRecorder(t, pool, RecorderOptions{Now: fixedClock(t0)})
	recordN(t, early, "TAX", 3)
	seq := newSequencer(pool, ks, fixedClock(t0.Add(time.Minute)))
	if err := seq.SealOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	// An event stamped before the sealed horizon commits only now.
	recordN(t, early, "TAX", 1)
	if err := seq.SealOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := count(t, pool, `SELECT count(*) FROM usage_chain WHERE provider = 'TAX'`); n != 4 {
		t.Fatalf("%d events sealed, want 4", n)
	}
	rep, err := VerifyChain(t.Context(), pool, ks)
	if err != nil || !rep.OK() {
		t.Fatalf("VerifyChain = %v\n%s", err, rep)
	}
}

func TestConcurrentSequencersKeepOneChain(t *testing.T) {
	pool := testdb.Pool(t)
	ks := keySet(t)
	r := startRecorder(t, pool, RecorderOptions{})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			s := newSequencer(pool, ks, later)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := s.SealOnce(t.Context()); err != nil {
					t.Errorf("SealOnce: %v", err)
					return
				}
			}
		})
	}
	var total int
	for range 30 {
		recordN(t, r, "TAX", 7)
		recordN(t, r, "MARKET", 3)
		total += 10
		time.Sleep(2 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if err := newSequencer(pool, ks, later).SealOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := count(t, pool, `SELECT count(*) FROM usage_chain`); n != total {
		t.Fatalf("%d chain rows, want one per event (%d)", n, total)
	}
	rep, err := VerifyChain(t.Context(), pool, ks)
	if err != nil || !rep.OK() {
		t.Fatalf("VerifyChain = %v\n%s", err, rep)
	}
}

func TestSequencerRunSealsUntilCancelled(t *testing.T) {
	pool := testdb.Pool(t)
	r := startRecorder(t, pool, RecorderOptions{})
	recordN(t, r, "TAX", 3)
	s := NewSequencer(pool, keySet(t), SequencerOptions{Interval: 10 * time.Millisecond, Now: later, Logger: quiet})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	waitFor(t, func() bool { return count(t, pool, `SELECT count(*) FROM usage_chain`) == 3 })
	recordN(t, r, "TAX", 2)
	waitFor(t, func() bool { return count(t, pool, `SELECT count(*) FROM usage_chain`) == 5 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
}

func TestSequencerIntervalIsAtMostOneMinute(t *testing.T) {
	for _, tt := range []struct{ in, want time.Duration }{{0, 30 * time.Second}, {time.Hour, time.Minute}, {5 * time.Second, 5 * time.Second}} {
		if got := NewSequencer(nil, nil, SequencerOptions{Interval: tt.in}).opts.Interval; got != tt.want {
			t.Errorf("Interval %v → %v, want %v", tt.in, got, tt.want)
		}
	}
}
