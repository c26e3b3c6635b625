package usage

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"creditd/auth"
	"creditd/internal/apperr"
)

var quiet = slog.New(slog.DiscardHandler)

// startRecorder runs a recorder until the test ends.
func startRecorder(t *testing.T, pool *pgxpool.Pool, o RecorderOptions) *Recorder {
	t.Helper()
	if o.Logger == nil {
		o.Logger = quiet
	}
	r := NewRecorder(pool, o)
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background()) }()
	t.Cleanup(func() {
		r.Close()
		if err := <-done; err != nil {
			t.Errorf("recorder Run: %v", err)
		}
	})
	return r
}

func ev(provider, uscc, item string) Event {
	return Event{Institution: "DEMO-BANK", Actor: "alice", USCC: uscc, Item: item, Provider: provider,
		Action: View, Purpose: "CREDIT_REVIEW", RecordCount: 1, RequestID: "req-1"}
}

func keySet(t *testing.T) *auth.KeySet {
	t.Helper()
	ks, err := auth.LoadKeys(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func count(t *testing.T, db Querier, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func exec(t *testing.T, db Querier, sql string, args ...any) {
	t.Helper()
	if _, err := db.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func isNotRecorded(err error) bool {
	var e *apperr.Error
	return errors.As(err, &e) && e.Code == apperr.UsageNotRecorded
}

// fixedClock returns a clock stopped at t.
func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }
