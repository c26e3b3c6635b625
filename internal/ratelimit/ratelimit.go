// Package ratelimit limits requests per caller with a fixed window kept in Redis, shared by
// every replica. Redis is for speed, never the only copy of anything: when it cannot be
// reached the limiter lets requests through and says so in the log.
package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limiter allows at most Limit requests per key in each Window.
type Limiter struct {
	rdb    *redis.Client
	limit  int64
	window time.Duration
	prefix string
	now    func() time.Time
	logger *slog.Logger
}

// New returns a limiter; keys are stored under prefix.
func New(rdb *redis.Client, limit int, window time.Duration, prefix string, logger *slog.Logger) *Limiter {
	return &Limiter{rdb: rdb, limit: int64(limit), window: window, prefix: prefix, now: time.Now, logger: logger}
}

// Allow counts one request for key and says whether it is within the limit, and if not, how
// long until the next window. A Redis failure allows the request (the error is logged).
func (l *Limiter) Allow(ctx context.Context, key string) (bool, time.Duration) {
	now := l.now()
	slot := now.UnixNano() / int64(l.window)
	k := l.prefix + key + ":" + strconv.FormatInt(slot, 10)
	pipe := l.rdb.TxPipeline()
	incr := pipe.Incr(ctx, k)
	pipe.PExpire(ctx, k, l.window+time.Second)
	if _, err := pipe.Exec(ctx); err != nil {
		l.logger.WarnContext(ctx, "rate limiter unavailable; request allowed", "err", fmt.Errorf("redis: %w", err))
		return true, 0
	}
	if incr.Val() > l.limit {
		next := time.Unix(0, (slot+1)*int64(l.window))
		return false, next.Sub(now)
	}
	return true, 0
}
