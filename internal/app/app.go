// Package app assembles the service from its parts: the one place where the HTTP handler is
// wired to the database, Redis, the catalog and the keys. `creditd serve` and the end-to-end
// tests both build the service here.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"creditd/auth"
	"creditd/internal/catalog"
	"creditd/internal/credit"
	"creditd/internal/ingest"
	"creditd/internal/orgs"
	"creditd/internal/ratelimit"
	"creditd/internal/server"
	"creditd/internal/store"
	"creditd/resolvers"
)

// Options are the parts the service is built from.
type Options struct {
	Pool          *pgxpool.Pool
	Redis         *redis.Client // nil: no rate limiting
	Catalog       *catalog.Catalog
	Keys          *auth.KeySet
	Development   bool
	Limits        server.Limits
	RatePerMinute int              // 0: no rate limiting
	Now           func() time.Time // nil: the wall clock
	Logger        *slog.Logger
}

// Handler returns the service's HTTP handler.
func Handler(o Options) http.Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	creditSvc := credit.NewService(o.Pool, o.Catalog, o.Now)
	cfg := server.Config{
		Development: o.Development,
		Limits:      o.Limits,
		Resolver: &resolvers.Resolver{
			Cat:    o.Catalog,
			Credit: creditSvc,
			Ingest: ingest.NewLoader(o.Pool, o.Catalog, ingest.Options{Now: o.Now, Logger: o.Logger}),
		},
		Auth:           auth.NewAuthenticator(auth.NewVerifier(o.Keys.Public(), auth.VerifierOptions{Now: o.Now}), orgs.NewStore(o.Pool), o.Logger),
		Keys:           o.Keys,
		Ready:          readiness{pool: o.Pool},
		RequestContext: creditSvc.WithLoader,
		Logger:         o.Logger,
	}
	if o.Redis != nil && o.RatePerMinute > 0 {
		cfg.RateLimiter = ratelimit.New(o.Redis, o.RatePerMinute, time.Minute, "creditd:rate:", o.Logger)
	}
	return server.New(cfg)
}

type readiness struct{ pool *pgxpool.Pool }

func (r readiness) Ready(ctx context.Context) error {
	if err := r.pool.Ping(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	return store.CheckMigrated(ctx, r.pool)
}
