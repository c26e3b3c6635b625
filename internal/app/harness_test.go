package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"creditd/auth"
	"creditd/internal/app"
	"creditd/internal/catalog"
	"creditd/internal/connector"
	"creditd/internal/connector/sim"
	"creditd/internal/orgs"
	"creditd/internal/server"
	"creditd/internal/store"
	"creditd/internal/testdb"
	"creditd/internal/usage"
	"creditd/internal/workday"
)

// now is the fixed clock of these tests: 2026-11-27 12:00 in Shanghai.
var now = time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC)

// roundTrips counts database round trips: each query and each batch is one.
type roundTrips struct{ n atomic.Int64 }

func (c *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	if !inBatch(ctx) {
		c.n.Add(1)
	}
	return ctx
}
func (c *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

type batchKey struct{}

func inBatch(ctx context.Context) bool { return ctx.Value(batchKey{}) != nil }

func (c *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.n.Add(1)
	return context.WithValue(ctx, batchKey{}, true)
}
func (c *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

type env struct {
	clock  atomic.Pointer[time.Time] // the service's clock; starts at now
	t      *testing.T
	rec    *usage.Recorder
	srv    *httptest.Server
	sim    *httptest.Server
	pool   *pgxpool.Pool
	keys   *auth.KeySet
	trips  *roundTrips
	orgs   *orgs.Store
	client *http.Client
}

type envOptions struct {
	limits       *server.Limits
	ratePerMin   int
	development  bool
	verifyBudget int
	// sim starts a provider simulator and connects the platform to it.
	sim bool
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	ctx := context.Background()
	url := testdb.New(t)
	trips := &roundTrips{}
	pool, err := store.Open(ctx, url, trips)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	keys, err := auth.LoadKeys(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	ropts, err := redis.ParseURL(testdb.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(ropts)
	t.Cleanup(func() { _ = rdb.Close() })
	limits := server.DefaultLimits()
	if o.limits != nil {
		limits = *o.limits
	}
	e := &env{t: t, pool: pool, keys: keys, trips: trips, orgs: orgs.NewStore(pool)}
	e.setNow(now)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	// The usage log records at the wall clock: events are checked against it.
	e.rec = usage.NewRecorder(pool, usage.RecorderOptions{Logger: logger})
	go func() { _ = e.rec.Run(context.Background()) }()
	t.Cleanup(e.rec.Close)
	opts := app.Options{
		Pool: pool, Redis: rdb, Catalog: cat, Keys: keys, Development: o.development,
		Limits: limits, RatePerMinute: o.ratePerMin, Now: e.now,
		Logger: logger, VerifyBudget: o.verifyBudget, Usage: e.rec,
	}
	if o.sim {
		h, err := sim.NewHandler(sim.Options{AsOf: now})
		if err != nil {
			t.Fatal(err)
		}
		e.sim = httptest.NewServer(h)
		t.Cleanup(e.sim.Close)
		eps := map[string]connector.Endpoint{}
		for _, p := range []string{"TAX", "HF", "GRID", "NRA"} {
			eps[p] = connector.Endpoint{BaseURL: e.sim.URL + "/" + p}
		}
		client, err := connector.New(connector.Options{Providers: eps, Timeout: time.Second, Retries: 1, Backoff: 10 * time.Millisecond,
			Breaker: connector.BreakerSettings{Failures: 3, CoolDown: time.Minute}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(client.Close)
		opts.Providers = client
	}
	if opts.Calendar, err = workday.Default(); err != nil {
		t.Fatal(err)
	}
	h, err := app.Handler(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e.srv, e.client = srv, srv.Client()
	for _, in := range []orgs.Institution{
		{Code: "DEMO-BANK", Name: "示范银行", Kind: "bank"},
		{Code: "DEMO-GUARANTOR", Name: "示范担保", Kind: "guarantor"},
		{Code: "DEMO-SUSPENDED", Name: "停用银行", Kind: "bank", Status: orgs.Suspended},
	} {
		if err := e.orgs.PutInstitution(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range cat.Providers() {
		if p.Code == catalog.SelfProvider {
			continue
		}
		if err := e.orgs.PutProvider(ctx, orgs.Provider{Code: p.Code, Name: p.Name}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// now is the service's clock.
func (e *env) now() time.Time { return *e.clock.Load() }

// setNow moves the service's clock.
func (e *env) setNow(t time.Time) { e.clock.Store(&t) }

func (e *env) token(role auth.Role, org string) string {
	e.t.Helper()
	tok, err := auth.Mint(e.keys, auth.MintParams{Role: role, Org: org, Now: e.now(), TTL: time.Hour})
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

func (e *env) bank() string     { return e.token(auth.RoleInstitution, "DEMO-BANK") }
func (e *env) operator() string { return e.token(auth.RoleOperator, "PLATFORM") }
func (e *env) provider(code string) string {
	return e.token(auth.RoleProvider, code)
}
func (e *env) enterprise(code string) string { return e.token(auth.RoleEnterprise, code) }

// gqlResponse is a GraphQL response.
type gqlResponse struct {
	Status    int
	RequestID string
	Data      json.RawMessage `json:"data"`
	Errors    []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func (r gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// do posts one GraphQL operation and decodes the answer.
func (e *env) do(token, query string, vars map[string]any) gqlResponse {
	e.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		e.t.Fatal(err)
	}
	return e.raw(http.MethodPost, "application/json", token, body)
}

func (e *env) raw(method, contentType, token string, body []byte) gqlResponse {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	var out gqlResponse
	if err := json.Unmarshal(b, &out); err != nil {
		e.t.Fatalf("response is not JSON (%d): %s", resp.StatusCode, b)
	}
	out.Status = resp.StatusCode
	out.RequestID = resp.Header.Get("X-Request-Id")
	return out
}

// ok asserts a response without errors and decodes its data into v.
func (e *env) ok(r gqlResponse, v any) {
	e.t.Helper()
	if len(r.Errors) > 0 {
		e.t.Fatalf("unexpected errors (%d): %+v", r.Status, r.Errors)
	}
	if v != nil {
		if err := json.Unmarshal(r.Data, v); err != nil {
			e.t.Fatalf("decode data: %v: %s", err, r.Data)
		}
	}
}

func (e *env) wantCode(r gqlResponse, code string) {
	e.t.Helper()
	if r.code() != code {
		e.t.Fatalf("error code %q, want %q; response %d %+v data=%s", r.code(), code, r.Status, r.Errors, r.Data)
	}
}

type submitResult struct {
	SubmitRecords struct {
		Accepted, Updated, Duplicates int
		Rejected                      []struct {
			SourceID string
			Reason   string
			Row      int
		}
	}
}

const submitMutation = `mutation($item: String!, $records: [RecordInput!]!) {
  submitRecords(item: $item, records: $records) { accepted updated duplicates rejected { sourceId reason row } }
}`

// submit loads records through the API as the item's provider.
func (e *env) submit(provider, item string, records []map[string]any) submitResult {
	e.t.Helper()
	var out submitResult
	e.ok(e.do(e.provider(provider), submitMutation, map[string]any{"item": item, "records": records}), &out)
	return out
}

func rec(sourceID, code, occurred string, data map[string]any) map[string]any {
	return map[string]any{"sourceId": sourceID, "uscc": code, "occurredOn": occurred, "data": data}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
