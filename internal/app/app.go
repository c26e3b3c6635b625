// Package app assembles the service from its parts: the one place where the HTTP handler is
// wired to the database, Redis, the catalog and the keys. `creditd serve` and the end-to-end
// tests both build the service here.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"creditd/auth"
	"creditd/internal/catalog"
	"creditd/internal/connector"
	"creditd/internal/credit"
	"creditd/internal/feedback"
	"creditd/internal/grants"
	"creditd/internal/ingest"
	"creditd/internal/objections"
	"creditd/internal/orgs"
	"creditd/internal/ratelimit"
	"creditd/internal/repair"
	"creditd/internal/selfreport"
	"creditd/internal/server"
	"creditd/internal/store"
	"creditd/internal/verification"
	"creditd/internal/workday"
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
	// Providers reaches providers' interfaces (provider_api, provider_verify); nil makes
	// those items UNAVAILABLE.
	Providers *connector.Client
	// VerifyBudget is the verifications per (institution, enterprise, item) in 30 days;
	// 0 takes the default.
	VerifyBudget int
	// Calendar is the working-day calendar of objection deadlines.
	Calendar *workday.Calendar
	// Usage commits every response's disclosures before it is sent (a *usage.Recorder). Nil
	// fails closed: responses that would disclose answer USAGE_NOT_RECORDED.
	Usage server.UsageRecorder
}

// Handler returns the service's HTTP handler. Pool, Catalog, Keys and Calendar are required.
func Handler(o Options) (http.Handler, error) {
	switch {
	case o.Pool == nil:
		return nil, errors.New("app: no database pool")
	case o.Catalog == nil:
		return nil, errors.New("app: no catalog")
	case o.Keys == nil:
		return nil, errors.New("app: no signing keys")
	case o.Calendar == nil:
		return nil, errors.New("app: no working-day calendar")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}

	copts := credit.Options{Now: o.Now, Logger: o.Logger}
	vopts := verification.Options{Budget: o.VerifyBudget, Now: o.Now, Logger: o.Logger}
	if o.Providers != nil {
		copts.Live = o.Providers
		vopts.Provider = o.Providers
	}
	creditSvc := credit.NewService(o.Pool, o.Catalog, copts)
	orgStore := orgs.NewStore(o.Pool)
	cfg := server.Config{
		Development: o.Development,
		Limits:      o.Limits,
		Resolver: &resolvers.Resolver{
			Cat:          o.Catalog,
			Credit:       creditSvc,
			Ingest:       ingest.NewLoader(o.Pool, o.Catalog, ingest.Options{Now: o.Now, Logger: o.Logger}),
			GrantSvc:     grants.NewService(o.Pool, o.Catalog, orgStore, o.Keys, o.Now),
			Verifier:     verification.NewService(o.Pool, o.Catalog, vopts),
			Feedback:     feedback.NewService(o.Pool, o.Now),
			ObjectionSvc: objections.NewService(o.Pool, o.Catalog, o.Calendar, o.Now),
			Repair:       repair.NewService(o.Pool, o.Catalog, o.Now),
			SelfReports:  selfreport.NewService(o.Pool, o.Catalog, o.Now),
			Clock:        o.Now,
		},
		Usage:          o.Usage,
		Auth:           auth.NewAuthenticator(auth.NewVerifier(o.Keys.Public(), auth.VerifierOptions{Now: o.Now}), orgStore, o.Logger),
		Keys:           o.Keys,
		Ready:          readiness{pool: o.Pool},
		RequestContext: creditSvc.WithLoader,
		Logger:         o.Logger,
	}
	if o.Redis != nil && o.RatePerMinute > 0 {
		cfg.RateLimiter = ratelimit.New(o.Redis, o.RatePerMinute, time.Minute, "creditd:rate:", o.Logger)
	}
	return server.New(cfg), nil
}

type readiness struct{ pool *pgxpool.Pool }

func (r readiness) Ready(ctx context.Context) error {
	if err := r.pool.Ping(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	return store.CheckMigrated(ctx, r.pool)
}
