package ratelimit

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"creditd/internal/testdb"
)

func TestLimiter(t *testing.T) {
	opts, err := redis.ParseURL(testdb.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	l := New(rdb, 3, time.Minute, fmt.Sprintf("creditd:test:%d:", time.Now().UnixNano()), slog.New(slog.NewTextHandler(io.Discard, nil)))
	base := time.Date(2026, 11, 27, 10, 0, 5, 0, time.UTC)
	l.now = func() time.Time { return base }
	ctx := context.Background()
	var got []bool
	for i := 0; i < 5; i++ {
		ok, _ := l.Allow(ctx, "INSTITUTION:DEMO-BANK")
		got = append(got, ok)
	}
	if fmt.Sprint(got) != "[true true true false false]" {
		t.Fatalf("allowed %v", got)
	}
	_, retry := l.Allow(ctx, "INSTITUTION:DEMO-BANK")
	if retry != 55*time.Second {
		t.Fatalf("retry after %s, want 55s", retry)
	}
	// Another caller has its own budget; the next window starts afresh.
	if ok, _ := l.Allow(ctx, "INSTITUTION:DEMO-GUARANTOR"); !ok {
		t.Fatal("another caller was limited")
	}
	l.now = func() time.Time { return base.Add(time.Minute) }
	if ok, _ := l.Allow(ctx, "INSTITUTION:DEMO-BANK"); !ok {
		t.Fatal("the next window is still limited")
	}
}

// Redis is never the only copy of anything: when it is down, requests go through.
func TestLimiterFailsOpen(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	defer rdb.Close()
	l := New(rdb, 1, time.Minute, "creditd:test:", slog.New(slog.NewTextHandler(io.Discard, nil)))
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow(context.Background(), "x"); !ok {
			t.Fatal("refused while Redis is unreachable")
		}
	}
}
