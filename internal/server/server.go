// Package server wires HTTP: authentication, the GraphQL handler with its limits, health and
// readiness probes, and the published keys.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/vektah/gqlparser/v2/ast"

	"creditd/auth"
	"creditd/graph/generated"
	"creditd/internal/apperr"
	"creditd/internal/disclosure"
	"creditd/internal/usage"
	"creditd/resolvers"
)

// Limits bound what one request may ask for.
type Limits struct {
	MaxBodyBytes  int64 // request body
	MaxTokens     int   // parser tokens of the query document
	MaxDepth      int   // nesting of selections
	MaxComplexity int   // gqlgen complexity (fields, lists weighted by their size arguments)
	RatePerMinute int   // requests per organization and minute (0: no limit)
}

// DefaultLimits are the production limits.
func DefaultLimits() Limits {
	return Limits{MaxBodyBytes: 1 << 20, MaxTokens: 5000, MaxDepth: 10, MaxComplexity: 2000, RatePerMinute: 600}
}

// ReadyChecker says whether the service can serve (database reachable, schema migrated).
type ReadyChecker interface {
	Ready(ctx context.Context) error
}

// RateLimiter counts requests per key and says whether one more is allowed, and if not,
// after how long to retry.
type RateLimiter interface {
	Allow(ctx context.Context, key string) (bool, time.Duration)
}

// UsageRecorder commits usage events; Record returns once they are committed.
type UsageRecorder interface {
	Record(ctx context.Context, events []usage.Event) error
}

// Config is everything the HTTP server is built from.
type Config struct {
	Development bool
	Limits      Limits
	Resolver    *resolvers.Resolver
	Auth        *auth.Authenticator
	Keys        *auth.KeySet
	Ready       ReadyChecker
	RateLimiter RateLimiter // nil: no rate limit
	// Usage commits each response's disclosures before the response is sent. Nil fails
	// closed: any response that discloses is replaced by USAGE_NOT_RECORDED.
	Usage UsageRecorder
	// RequestContext prepares each GraphQL request's context (per-request batching loaders).
	RequestContext func(context.Context) context.Context
	Logger         *slog.Logger
}

// New returns the service's HTTP handler.
func New(cfg Config) http.Handler {
	gql := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: cfg.Resolver}))
	gql.AddTransport(transport.POST{})
	gql.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	gql.SetParserTokenLimit(cfg.Limits.MaxTokens)
	gql.SetErrorPresenter(presenter(cfg.Logger))
	gql.SetRecoverFunc(recoverer(cfg.Logger))
	gql.Use(depthLimit{Max: cfg.Limits.MaxDepth, AllowIntrospection: cfg.Development})
	gql.Use(extension.FixedComplexityLimit(cfg.Limits.MaxComplexity))
	gql.AroundResponses(recordDisclosures(cfg.Usage, cfg.Logger))
	if cfg.Development {
		gql.Use(extension.Introspection{})
	} else {
		gql.SetDisableSuggestion(true)
	}

	var api http.Handler = gql
	inner := api
	api = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		v, _ := auth.ViewerFrom(ctx)
		ctx, _ = disclosure.Start(ctx, v.Subject, RequestID(ctx))
		if cfg.RequestContext != nil {
			ctx = cfg.RequestContext(ctx)
		}
		inner.ServeHTTP(w, r.WithContext(ctx))
	})
	if cfg.RateLimiter != nil {
		api = rateLimit(cfg.RateLimiter, api)
	}
	api = guard(cfg.Limits.MaxBodyBytes, api)
	api = cfg.Auth.Middleware(api)

	mux := http.NewServeMux()
	mux.Handle("/graphql", api)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "application/json")
		if err := cfg.Ready.Ready(ctx); err != nil {
			cfg.Logger.WarnContext(ctx, "not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"unavailable"}`))
			return
		}
		_, _ = w.Write([]byte(`{"status":"ready"}`))
	})
	mux.Handle("GET /.well-known/jwks.json", cfg.Keys.JWKSHandler())
	if cfg.Development {
		mux.Handle("GET /{$}", playground.Handler("creditd", "/graphql"))
	}
	return withRequestID(mux)
}

// rateLimit refuses callers over their per-minute budget with RATE_LIMITED.
func rateLimit(l RateLimiter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, _ := auth.ViewerFrom(r.Context())
		ok, retry := l.Allow(r.Context(), string(v.Role)+":"+v.Org)
		if !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds())+1))
			writeError(w, http.StatusTooManyRequests, apperr.RateLimited, "too many requests; retry later")
			return
		}
		next.ServeHTTP(w, r)
	})
}
