package connector_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/sony/gobreaker/v2"

	"creditd/internal/connector"
	"creditd/internal/connector/sim"
	"creditd/internal/uscc"
)

var asOf = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)

var providers = []string{"TAX", "HF", "GRID", "NRA"}

// code returns the i-th test enterprise code (Shenyang, 和平区).
func code(t testing.TB, i int) string {
	t.Helper()
	c, err := uscc.Complete(fmt.Sprintf("91210102%09d", i))
	if err != nil {
		t.Fatal(err)
	}
	return string(c)
}

// findCode returns the first test code whose records of item satisfy ok.
func findCode(t testing.TB, item string, ok func([]sim.Record) bool) string {
	t.Helper()
	for i := 1; i < 1000; i++ {
		c := code(t, i)
		recs, _ := sim.Records(item, c, asOf)
		if ok(recs) {
			return c
		}
	}
	t.Fatalf("no test enterprise fits for %s", item)
	return ""
}

// counting serves h and counts the requests that reach it.
type counting struct {
	h http.Handler
	n atomic.Int64
}

func (c *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.n.Add(1)
	c.h.ServeHTTP(w, r)
}

func newSim(t *testing.T, opts sim.Options) (*httptest.Server, *counting) {
	t.Helper()
	if opts.AsOf.IsZero() {
		opts.AsOf = asOf
	}
	h, err := sim.NewHandler(opts)
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, h)
}

func serve(t *testing.T, h http.Handler) (*httptest.Server, *counting) {
	t.Helper()
	c := &counting{h: h}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return srv, c
}

// newClient connects every simulated provider to base (e.g. a test server's URL).
func newClient(t *testing.T, base string, opts connector.Options) *connector.Client {
	t.Helper()
	if opts.Providers == nil {
		opts.Providers = map[string]connector.Endpoint{}
		for _, p := range providers {
			opts.Providers[p] = connector.Endpoint{BaseURL: base + "/" + p}
		}
	}
	if opts.Backoff == 0 {
		opts.Backoff = time.Millisecond
	}
	c, err := connector.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// asError checks that err is an unavailability and returns its details.
func asError(t *testing.T, err error) *connector.Error {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	if !errors.Is(err, connector.ErrUnavailable) {
		t.Fatalf("error %v does not match ErrUnavailable", err)
	}
	var ce *connector.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v is not a *connector.Error", err)
	}
	return ce
}

func normJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFetchRecords(t *testing.T) {
	srv, _ := newSim(t, sim.Options{})
	c := newClient(t, srv.URL, connector.Options{})
	for _, tc := range []struct{ provider, item string }{
		{"TAX", "tax.payment"},
		{"HF", "housing_fund.payment"},
		{"GRID", "utility.electricity"},
	} {
		t.Run(tc.item, func(t *testing.T) {
			ent := findCode(t, tc.item, func(r []sim.Record) bool { return len(r) > 0 })
			got, err := c.FetchRecords(t.Context(), tc.provider, tc.item, strings.ToLower(ent))
			if err != nil {
				t.Fatal(err)
			}
			want, _ := sim.Records(tc.item, ent, asOf)
			if len(got) != len(want) || len(got) < 12 {
				t.Fatalf("got %d records, want %d (at least 12)", len(got), len(want))
			}
			for i, w := range want {
				g := got[i]
				if g.SourceID != w.SourceID || g.OccurredOn.Format(time.DateOnly) != w.OccurredOn || g.EndsOn != nil {
					t.Errorf("record %d: got %s %s %v, want %s %s", i, g.SourceID, g.OccurredOn, g.EndsOn, w.SourceID, w.OccurredOn)
				}
				if g.OccurredOn.Location() != time.UTC || g.OccurredOn.Hour() != 0 {
					t.Errorf("record %d: occurredOn %v is not a UTC midnight date", i, g.OccurredOn)
				}
				var data any
				if err := json.Unmarshal(g.Data, &data); err != nil {
					t.Fatalf("record %d: data: %v", i, err)
				}
				if !reflect.DeepEqual(data, normJSON(t, w.Data)) {
					t.Errorf("record %d: data %s, want %v", i, g.Data, w.Data)
				}
			}
		})
	}
}

func TestFetchRecordsNone(t *testing.T) {
	srv, _ := newSim(t, sim.Options{})
	c := newClient(t, srv.URL, connector.Options{})
	ent := findCode(t, "housing_fund.payment", func(r []sim.Record) bool { return len(r) == 0 })
	got, err := c.FetchRecords(t.Context(), "HF", "housing_fund.payment", ent)
	if err != nil {
		t.Fatal(err)
	}
	if got == nil || len(got) != 0 {
		t.Fatalf("got %#v, want an empty, non-nil list", got)
	}
}

func TestVerify(t *testing.T) {
	srv, _ := newSim(t, sim.Options{})
	c := newClient(t, srv.URL, connector.Options{})
	const item = "real_estate.ownership"
	owner := findCode(t, item, func(r []sim.Record) bool { return len(r) >= 2 })
	nothing := findCode(t, item, func(r []sim.Record) bool { return len(r) == 0 })
	recs, _ := sim.Records(item, owner, asOf)
	latest, _ := sim.Latest(recs)
	area := latest.Data["area_m2"].(float64)
	cert := latest.Data["certificate_no"].(string)
	// an older property's certificate is true of the enterprise but not of its latest record
	older := recs[0].Data["certificate_no"].(string)
	if older == cert {
		t.Fatal("test data: the oldest record is the latest")
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }
	taxPayer := findCode(t, "tax.payment", func(r []sim.Record) bool { return len(r) > 0 })
	taxRecs, _ := sim.Records("tax.payment", taxPayer, asOf)
	taxLatest, _ := sim.Latest(taxRecs)
	amount := taxLatest.Data["amount"].(float64)

	for _, tc := range []struct {
		name     string
		provider string
		item     string
		ent      string
		claim    connector.Claim
		want     connector.Outcome
	}{
		{"GE below", "NRA", item, owner, connector.Claim{Field: "area_m2", Op: connector.OpGE, Value: f(area - 1)}, connector.OutcomeMatch},
		{"GE equal", "NRA", item, owner, connector.Claim{Field: "area_m2", Op: connector.OpGE, Value: f(area)}, connector.OutcomeMatch},
		{"GE a cent above", "NRA", item, owner, connector.Claim{Field: "area_m2", Op: connector.OpGE, Value: f(area + 0.01)}, connector.OutcomeNoMatch},
		{"LE above", "NRA", item, owner, connector.Claim{Field: "area_m2", Op: connector.OpLE, Value: f(area + 1)}, connector.OutcomeMatch},
		{"LE equal", "NRA", item, owner, connector.Claim{Field: "area_m2", Op: connector.OpLE, Value: f(area)}, connector.OutcomeMatch},
		{"LE a cent below", "NRA", item, owner, connector.Claim{Field: "area_m2", Op: connector.OpLE, Value: f(area - 0.01)}, connector.OutcomeNoMatch},
		{"EQ certificate", "NRA", item, owner, connector.Claim{Field: "certificate_no", Op: connector.OpEQ, Value: cert}, connector.OutcomeMatch},
		{"EQ other certificate", "NRA", item, owner, connector.Claim{Field: "certificate_no", Op: connector.OpEQ, Value: older}, connector.OutcomeNoMatch},
		{"GE on text", "NRA", item, owner, connector.Claim{Field: "certificate_no", Op: connector.OpGE, Value: "1"}, connector.OutcomeUnavailable},
		{"owns nothing", "NRA", item, nothing, connector.Claim{Field: "area_m2", Op: connector.OpGE, Value: "1"}, connector.OutcomeUnavailable},
		{"tax amount GE", "TAX", "tax.payment", taxPayer, connector.Claim{Field: "amount", Op: connector.OpGE, Value: f(amount)}, connector.OutcomeMatch},
		{"tax amount LE below", "TAX", "tax.payment", taxPayer, connector.Claim{Field: "amount", Op: connector.OpLE, Value: f(amount - 0.01)}, connector.OutcomeNoMatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Verify(t.Context(), tc.provider, tc.item, tc.ent, tc.claim)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	srv, count := newSim(t, sim.Options{})
	c := newClient(t, srv.URL, connector.Options{})
	ent := code(t, 1)
	fetch := func(p, item, u string) func(context.Context) error {
		return func(ctx context.Context) error { _, err := c.FetchRecords(ctx, p, item, u); return err }
	}
	verify := func(p, item string, cl connector.Claim) func(context.Context) error {
		return func(ctx context.Context) error { _, err := c.Verify(ctx, p, item, ent, cl); return err }
	}
	for _, tc := range []struct {
		name     string
		call     func(context.Context) error
		reason   connector.Reason
		status   int
		requests int64
	}{
		{"unknown item", fetch("TAX", "no.such_item", ent), connector.ReasonRejected, 404, 1},
		{"another provider's item", fetch("HF", "tax.payment", ent), connector.ReasonRejected, 404, 1},
		{"records of a verify-only item", fetch("NRA", "real_estate.ownership", ent), connector.ReasonRejected, 404, 1},
		{"provider not configured", fetch("WATER", "utility.water", ent), connector.ReasonNotConfigured, 0, 0},
		{"bad uscc", fetch("TAX", "tax.payment", "91210102000000001X"), connector.ReasonInvalid, 0, 0},
		{"empty item", fetch("TAX", "", ent), connector.ReasonInvalid, 0, 0},
		{"bad operator", verify("NRA", "real_estate.ownership", connector.Claim{Field: "area_m2", Op: "GT", Value: "1"}), connector.ReasonInvalid, 0, 0},
		{"no field", verify("NRA", "real_estate.ownership", connector.Claim{Op: connector.OpEQ, Value: "1"}), connector.ReasonInvalid, 0, 0},
		{"non-numeric threshold", verify("NRA", "real_estate.ownership", connector.Claim{Field: "area_m2", Op: connector.OpGE, Value: "big"}), connector.ReasonRejected, 400, 1},
		{"unknown field", verify("NRA", "real_estate.ownership", connector.Claim{Field: "owner_name", Op: connector.OpEQ, Value: "x"}), connector.ReasonRejected, 400, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := count.n.Load()
			e := asError(t, tc.call(t.Context()))
			if e.Reason != tc.reason || e.Status != tc.status {
				t.Fatalf("got %s/%d (%v), want %s/%d", e.Reason, e.Status, e, tc.reason, tc.status)
			}
			if n := count.n.Load() - before; n != tc.requests {
				t.Fatalf("%d requests reached the provider, want %d (no retry of a refusal)", n, tc.requests)
			}
			if strings.Contains(e.Error(), ent) {
				t.Fatalf("error text %q names the enterprise", e.Error())
			}
		})
	}
}

func TestClosedServer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	c := newClient(t, base, connector.Options{})
	ent := code(t, 1)
	_, err := c.FetchRecords(t.Context(), "TAX", "tax.payment", ent)
	e := asError(t, err)
	if e.Reason != connector.ReasonUnreachable || e.Attempts != 1+connector.DefaultRetries {
		t.Fatalf("got %s after %d attempts, want %s after %d", e.Reason, e.Attempts, connector.ReasonUnreachable, 1+connector.DefaultRetries)
	}
	if strings.Contains(err.Error(), ent) {
		t.Fatalf("error text %q names the enterprise", err)
	}
}

func TestSlowServer(t *testing.T) {
	const latency = 10 * time.Second
	srv, _ := newSim(t, sim.Options{Latency: latency})
	c := newClient(t, srv.URL, connector.Options{Timeout: 50 * time.Millisecond, Retries: -1})
	start := time.Now()
	_, err := c.FetchRecords(t.Context(), "TAX", "tax.payment", code(t, 1))
	e := asError(t, err)
	if e.Reason != connector.ReasonTimeout || e.Attempts != 1 {
		t.Fatalf("got %s after %d attempts, want timeout after 1", e.Reason, e.Attempts)
	}
	if errors.Is(err, context.Canceled) {
		t.Fatal("an attempt's timeout reported as the caller's cancellation")
	}
	if waited := time.Since(start); waited >= latency/2 {
		t.Fatalf("waited %v for a server %v slow: the timeout did not cut the call", waited, latency)
	}
}

// failing answers status to the first n requests, then passes them to h.
func failing(status int, n int64, h http.Handler) http.Handler {
	var seen atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seen.Add(1) <= n {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, `{"error":"simulated"}`)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func TestRetries(t *testing.T) {
	simH, err := sim.NewHandler(sim.Options{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		status   int
		failures int64
		wantErr  connector.Reason // "" for success
		requests int64
	}{
		{"503 twice then 200", 503, 2, "", 3},
		{"429 then 200", 429, 1, "", 2},
		{"502 then 200", 502, 1, "", 2},
		{"500 three times", 500, 3, connector.ReasonServerError, 3},
		{"400 not retried", 400, 1, connector.ReasonRejected, 1},
		{"401 not retried", 401, 1, connector.ReasonUnauthorized, 1},
		{"403 not retried", 403, 1, connector.ReasonUnauthorized, 1},
		{"404 not retried", 404, 1, connector.ReasonRejected, 1},
		{"409 not retried", 409, 1, connector.ReasonRejected, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, count := serve(t, failing(tc.status, tc.failures, simH))
			c := newClient(t, srv.URL, connector.Options{})
			recs, err := c.FetchRecords(t.Context(), "TAX", "tax.payment", code(t, 1))
			if n := count.n.Load(); n != tc.requests {
				t.Errorf("%d requests, want %d", n, tc.requests)
			}
			if tc.wantErr == "" {
				if err != nil || len(recs) == 0 {
					t.Fatalf("got %d records, %v; want records", len(recs), err)
				}
				return
			}
			e := asError(t, err)
			if e.Reason != tc.wantErr || e.Status != tc.status || e.Attempts != int(tc.requests) {
				t.Fatalf("got %s/%d after %d attempts, want %s/%d after %d", e.Reason, e.Status, e.Attempts, tc.wantErr, tc.status, tc.requests)
			}
			if e.Detail != "simulated" {
				t.Fatalf("detail %q, want the provider's error text", e.Detail)
			}
		})
	}
}

// flaky answers 503 while down is set, else passes requests to h.
type flaky struct {
	down atomic.Bool
	h    http.Handler
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.down.Load() {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"error":"down"}`)
		return
	}
	f.h.ServeHTTP(w, r)
}

// waitState polls the breaker until it reaches want (the cool-down is short).
func waitState(t *testing.T, c *connector.Client, provider, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.BreakerState(provider) != want {
		if time.Now().After(deadline) {
			t.Fatalf("breaker of %s is %s, never %s", provider, c.BreakerState(provider), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestBreaker(t *testing.T) {
	simH, err := sim.NewHandler(sim.Options{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	f := &flaky{h: simH}
	f.down.Store(true)
	srv, count := serve(t, f)
	const failures = 3
	c := newClient(t, srv.URL, connector.Options{
		Retries: -1,
		Breaker: connector.BreakerSettings{Failures: failures, CoolDown: 50 * time.Millisecond},
	})
	ent := code(t, 1)
	fetch := func(provider, item string) error {
		_, err := c.FetchRecords(t.Context(), provider, item, ent)
		return err
	}

	for i := range failures {
		if e := asError(t, fetch("TAX", "tax.payment")); e.Reason != connector.ReasonServerError {
			t.Fatalf("call %d: %s, want server_error", i+1, e.Reason)
		}
	}
	if s := c.BreakerState("TAX"); s != "open" {
		t.Fatalf("after %d failures the breaker is %s, want open", failures, s)
	}
	for range 5 {
		err := fetch("TAX", "tax.payment")
		if e := asError(t, err); e.Reason != connector.ReasonBreakerOpen || e.Attempts != 0 || !errors.Is(err, gobreaker.ErrOpenState) {
			t.Fatalf("open breaker: got %s after %d attempts (%v)", e.Reason, e.Attempts, err)
		}
	}
	if n := count.n.Load(); n != failures {
		t.Fatalf("%d requests reached the provider, want %d: an open breaker sends nothing", n, failures)
	}

	// Each provider has its own breaker.
	f.down.Store(false)
	if err := fetch("GRID", "utility.electricity"); err != nil {
		t.Fatalf("another provider is held back by TAX's breaker: %v", err)
	}

	// After the cool-down one trial goes through; the provider is still down, so it opens again.
	f.down.Store(true)
	waitState(t, c, "TAX", "half-open")
	before := count.n.Load()
	if e := asError(t, fetch("TAX", "tax.payment")); e.Reason != connector.ReasonServerError {
		t.Fatalf("half-open trial: %s, want server_error", e.Reason)
	}
	if s := c.BreakerState("TAX"); s != "open" || count.n.Load() != before+1 {
		t.Fatalf("after a failed trial the breaker is %s with %d new requests, want open after 1", s, count.n.Load()-before)
	}

	// The provider recovers: the next trial closes the breaker.
	f.down.Store(false)
	waitState(t, c, "TAX", "half-open")
	if err := fetch("TAX", "tax.payment"); err != nil {
		t.Fatalf("trial after recovery: %v", err)
	}
	if s := c.BreakerState("TAX"); s != "closed" {
		t.Fatalf("after a successful trial the breaker is %s, want closed", s)
	}
	if err := fetch("TAX", "tax.payment"); err != nil {
		t.Fatal(err)
	}
}

func TestBreakerIgnoresRefusalsAndCancellation(t *testing.T) {
	srv, count := newSim(t, sim.Options{})
	c := newClient(t, srv.URL, connector.Options{Retries: -1, Breaker: connector.BreakerSettings{Failures: 2}})
	ent := code(t, 1)
	for range 5 {
		_, err := c.FetchRecords(t.Context(), "TAX", "no.such_item", ent)
		if e := asError(t, err); e.Reason != connector.ReasonRejected {
			t.Fatalf("got %s, want rejected", e.Reason)
		}
	}
	if n := count.n.Load(); n != 5 {
		t.Fatalf("%d requests, want 5", n)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for range 5 {
		_, err := c.FetchRecords(ctx, "TAX", "tax.payment", ent)
		e := asError(t, err)
		if e.Reason != connector.ReasonCanceled || !errors.Is(err, context.Canceled) {
			t.Fatalf("got %s (%v), want canceled", e.Reason, err)
		}
	}
	if s := c.BreakerState("TAX"); s != "closed" {
		t.Fatalf("breaker is %s after refusals and cancellations, want closed", s)
	}
}

func TestSecret(t *testing.T) {
	srv, count := newSim(t, sim.Options{Secret: "s3cret-value"})
	ent := code(t, 1)
	for _, tc := range []struct {
		name   string
		secret string
		ok     bool
	}{
		{"right secret", "s3cret-value", true},
		{"wrong secret", "guess", false},
		{"no secret", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, "", connector.Options{Providers: map[string]connector.Endpoint{
				"TAX": {BaseURL: srv.URL + "/TAX", Secret: tc.secret},
			}})
			before := count.n.Load()
			recs, err := c.FetchRecords(t.Context(), "TAX", "tax.payment", ent)
			if tc.ok {
				if err != nil || len(recs) == 0 {
					t.Fatalf("got %d records, %v", len(recs), err)
				}
				return
			}
			if e := asError(t, err); e.Reason != connector.ReasonUnauthorized || e.Status != 401 {
				t.Fatalf("got %s/%d, want unauthorized/401", e.Reason, e.Status)
			}
			if n := count.n.Load() - before; n != 1 {
				t.Fatalf("%d requests, want 1 (no retry)", n)
			}
		})
	}
}

func TestRequestShape(t *testing.T) {
	type seen struct {
		method, path, query, auth, rid, ctype string
		body                                  string
	}
	var (
		mu   sync.Mutex
		reqs []seen
	)
	simH, err := sim.NewHandler(sim.Options{AsOf: asOf, Secret: "k"})
	if err != nil {
		t.Fatal(err)
	}
	record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		reqs = append(reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"), r.Header.Get("X-Request-Id"), r.Header.Get("Content-Type"), string(b)})
		mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(b)))
		simH.ServeHTTP(w, r)
	})
	srv, _ := serve(t, failing(503, 1, record))
	c := newClient(t, "", connector.Options{Providers: map[string]connector.Endpoint{
		"TAX": {BaseURL: srv.URL + "/TAX/", Secret: "k"},
		"NRA": {BaseURL: srv.URL + "/NRA", Secret: "k"},
	}})
	ent := code(t, 1)

	ctx := connector.WithRequestID(t.Context(), "req-123")
	if _, err := c.Verify(ctx, "NRA", "real_estate.ownership", ent, connector.Claim{Field: "area_m2", Op: connector.OpGE, Value: "120"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.FetchRecords(t.Context(), "TAX", "tax.payment", ent); err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 2 {
		t.Fatalf("%d requests reached the provider after the first 503, want 2", len(reqs))
	}
	v, g := reqs[0], reqs[1]
	if v.method != "POST" || v.path != "/NRA/v1/items/real_estate.ownership/verify" || v.query != "" || v.ctype != "application/json" {
		t.Errorf("verify request: %+v", v)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(v.body), &body); err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"uscc": ent, "field": "area_m2", "op": "GE", "value": "120"}; !reflect.DeepEqual(body, want) {
		t.Errorf("verify body %s, want exactly %v", v.body, want)
	}
	if v.auth != "Bearer k" || v.rid != "req-123" {
		t.Errorf("verify headers: Authorization %q, X-Request-Id %q", v.auth, v.rid)
	}
	if g.method != "GET" || g.path != "/TAX/v1/items/tax.payment/records" || g.query != "uscc="+ent || g.body != "" {
		t.Errorf("records request: %+v", g)
	}
	if _, err := uuid.Parse(g.rid); err != nil {
		t.Errorf("generated request id %q is not a UUID", g.rid)
	}
}

func TestRequestIDKeptAcrossRetries(t *testing.T) {
	simH, err := sim.NewHandler(sim.Options{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		ids []string
	)
	flaky := failing(503, 2, simH)
	srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ids = append(ids, r.Header.Get("X-Request-Id"))
		mu.Unlock()
		flaky.ServeHTTP(w, r)
	}))
	c := newClient(t, srv.URL, connector.Options{})
	if _, err := c.FetchRecords(t.Context(), "TAX", "tax.payment", code(t, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.FetchRecords(t.Context(), "TAX", "tax.payment", code(t, 1)); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 4 || ids[0] == "" || ids[0] != ids[1] || ids[1] != ids[2] || ids[3] == ids[2] {
		t.Fatalf("request ids %q: want one id on the three attempts of a call, another for the next call", ids)
	}
}

func TestBadAnswers(t *testing.T) {
	ent := code(t, 1)
	rec := `{"sourceId":"a","occurredOn":"2026-01-05","endsOn":null,"data":{"x":1}}`
	for _, tc := range []struct {
		name   string
		op     string // records or verify
		status int
		ctype  string
		body   string
	}{
		{"unknown field", "records", 200, "application/json", `{"records":[],"more":1}`},
		{"unknown record field", "records", 200, "application/json", `{"records":[{"sourceId":"a","occurredOn":"2026-01-05","data":{},"secret":1}]}`},
		{"trailing data", "records", 200, "application/json", `{"records":[]} {}`},
		{"no records list", "records", 200, "application/json", `{}`},
		{"null records list", "records", 200, "application/json", `{"records":null}`},
		{"not JSON", "records", 200, "application/json", `<html>`},
		{"text content type", "records", 200, "text/plain", `{"records":[` + rec + `]}`},
		{"no content type", "records", 200, "", `{"records":[` + rec + `]}`},
		{"short date", "records", 200, "application/json", `{"records":[{"sourceId":"a","occurredOn":"2026-1-5","data":{}}]}`},
		{"bad endsOn", "records", 200, "application/json", `{"records":[{"sourceId":"a","occurredOn":"2026-01-05","endsOn":"never","data":{}}]}`},
		{"data not an object", "records", 200, "application/json", `{"records":[{"sourceId":"a","occurredOn":"2026-01-05","data":[1]}]}`},
		{"data null", "records", 200, "application/json", `{"records":[{"sourceId":"a","occurredOn":"2026-01-05","data":null}]}`},
		{"no data", "records", 200, "application/json", `{"records":[{"sourceId":"a","occurredOn":"2026-01-05"}]}`},
		{"empty sourceId", "records", 200, "application/json", `{"records":[{"sourceId":"","occurredOn":"2026-01-05","data":{}}]}`},
		{"204", "records", 204, "application/json", ``},
		{"redirect", "records", 302, "application/json", `{}`},
		{"unknown result", "verify", 200, "application/json", `{"result":"PROBABLY"}`},
		{"no result", "verify", 200, "application/json", `{}`},
		{"result and extra", "verify", 200, "application/json", `{"result":"MATCH","value":"118.5"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, count := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.status == 302 {
					w.Header().Set("Location", "/elsewhere")
				}
				if tc.ctype != "" {
					w.Header().Set("Content-Type", tc.ctype)
				} else {
					w.Header()["Content-Type"] = nil
				}
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			c := newClient(t, srv.URL, connector.Options{})
			var err error
			if tc.op == "records" {
				_, err = c.FetchRecords(t.Context(), "TAX", "tax.payment", ent)
			} else {
				_, err = c.Verify(t.Context(), "NRA", "real_estate.ownership", ent, connector.Claim{Field: "area_m2", Op: connector.OpGE, Value: "1"})
			}
			if e := asError(t, err); e.Reason != connector.ReasonBadResponse {
				t.Fatalf("got %s (%v), want bad_response", e.Reason, err)
			}
			if n := count.n.Load(); n != 1 {
				t.Fatalf("%d requests, want 1: a malformed answer is not retried", n)
			}
		})
	}
	// The well-formed variant of the answers above is accepted.
	srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = io.WriteString(w, `{"records":[`+rec+`,{"sourceId":"b","occurredOn":"2026-01-05","endsOn":"2026-02-01","data":{}}]}`)
	}))
	c := newClient(t, srv.URL, connector.Options{})
	recs, err := c.FetchRecords(t.Context(), "TAX", "tax.payment", ent)
	if err != nil || len(recs) != 2 || recs[1].EndsOn == nil || recs[1].EndsOn.Format(time.DateOnly) != "2026-02-01" || string(recs[0].Data) != `{"x":1}` {
		t.Fatalf("well-formed answer: %+v, %v", recs, err)
	}
}

func TestOversizeAnswer(t *testing.T) {
	srv, count := newSim(t, sim.Options{})
	c := newClient(t, srv.URL, connector.Options{MaxResponseBytes: 1024, Breaker: connector.BreakerSettings{Failures: 1}})
	ent := findCode(t, "tax.payment", func(r []sim.Record) bool { return len(r) > 0 })
	_, err := c.FetchRecords(t.Context(), "TAX", "tax.payment", ent)
	if e := asError(t, err); e.Reason != connector.ReasonBadResponse || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("got %s (%v), want bad_response over the limit", e.Reason, err)
	}
	if n := count.n.Load(); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
	// A provider that sends malformed answers counts as failing.
	if s := c.BreakerState("TAX"); s != "open" {
		t.Fatalf("breaker %s after a bad answer with Failures 1, want open", s)
	}

	// An endless answer without Content-Length is cut at the limit, not read until the timeout.
	chunk := strings.Repeat(" ", 1024)
	srv2, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"records":[]`)
		for r.Context().Err() == nil {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	}))
	c2 := newClient(t, srv2.URL, connector.Options{MaxResponseBytes: 1024, Timeout: 10 * time.Second})
	_, err = c2.FetchRecords(t.Context(), "TAX", "tax.payment", ent)
	if e := asError(t, err); e.Reason != connector.ReasonBadResponse {
		t.Fatalf("streamed oversize answer: %s (%v)", e.Reason, err)
	}
}

func TestCallerDeadline(t *testing.T) {
	srv, _ := newSim(t, sim.Options{Latency: 10 * time.Second})
	c := newClient(t, srv.URL, connector.Options{Timeout: 5 * time.Second})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := c.FetchRecords(ctx, "TAX", "tax.payment", code(t, 1))
	e := asError(t, err)
	if e.Reason != connector.ReasonCanceled || !errors.Is(err, context.DeadlineExceeded) || e.Attempts != 1 {
		t.Fatalf("got %s after %d attempts (%v), want canceled by the caller's deadline after 1", e.Reason, e.Attempts, err)
	}
	if s := c.BreakerState("TAX"); s != "closed" {
		t.Fatalf("breaker %s", s)
	}
}

func TestConcurrentCalls(t *testing.T) {
	srv, count := newSim(t, sim.Options{})
	c := newClient(t, srv.URL, connector.Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			ent := code(t, i+1)
			if i%2 == 0 {
				_, err := c.FetchRecords(t.Context(), providers[i%3], []string{"tax.payment", "housing_fund.payment", "utility.electricity"}[i%3], ent)
				errs <- err
				return
			}
			_, err := c.Verify(t.Context(), "NRA", "real_estate.ownership", ent, connector.Claim{Field: "area_m2", Op: connector.OpLE, Value: "500"})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := count.n.Load(); n != 40 {
		t.Fatalf("%d requests, want 40", n)
	}
}

func TestParseProviders(t *testing.T) {
	env := map[string]string{"CREDITD_PROVIDER_SECRET_TAX": "tax-secret", "CREDITD_PROVIDER_SECRET": "shared"}
	getenv := func(k string) string { return env[k] }
	for _, tc := range []struct {
		name    string
		spec    string
		getenv  func(string) string
		want    map[string]connector.Endpoint
		wantErr string
	}{
		{"empty", "", getenv, map[string]connector.Endpoint{}, ""},
		{"blank", "  ", getenv, map[string]connector.Endpoint{}, ""},
		{"two providers", "TAX=http://127.0.0.1:8091/TAX, HF=http://127.0.0.1:8091/HF", getenv, map[string]connector.Endpoint{
			"TAX": {BaseURL: "http://127.0.0.1:8091/TAX", Secret: "tax-secret"},
			"HF":  {BaseURL: "http://127.0.0.1:8091/HF", Secret: "shared"},
		}, ""},
		{"no getenv", "GRID=https://grid.example/api/", nil, map[string]connector.Endpoint{
			"GRID": {BaseURL: "https://grid.example/api/"},
		}, ""},
		{"missing =", "TAX", getenv, nil, "CODE=URL"},
		{"empty entry", "TAX=http://a/TAX,,HF=http://a/HF", getenv, nil, "entry 2 is empty"},
		{"lower-case code", "tax=http://a/TAX", getenv, nil, "upper-case"},
		{"duplicate", "TAX=http://a/T,TAX=http://b/T", getenv, nil, "listed twice"},
		{"bad scheme", "TAX=ftp://a/TAX", getenv, nil, "scheme"},
		{"no host", "TAX=http:///TAX", getenv, nil, "no host"},
		{"credentials in URL", "TAX=http://user:pw@a/TAX", getenv, nil, "credentials"},
		{"query", "TAX=http://a/TAX?x=1", getenv, nil, "query"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := connector.ParseProviders(tc.spec, tc.getenv)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "pw") {
					t.Fatalf("error %q repeats credentials", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if _, err := connector.New(connector.Options{Providers: got}); err != nil {
				t.Fatalf("New refuses what ParseProviders accepted: %v", err)
			}
		})
	}
}

func TestNewRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		eps  map[string]connector.Endpoint
	}{
		{"empty URL", map[string]connector.Endpoint{"TAX": {}}},
		{"relative URL", map[string]connector.Endpoint{"TAX": {BaseURL: "/TAX"}}},
		{"fragment", map[string]connector.Endpoint{"TAX": {BaseURL: "http://a/TAX#x"}}},
		{"bad code", map[string]connector.Endpoint{"tax office": {BaseURL: "http://a/TAX"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := connector.New(connector.Options{Providers: tc.eps}); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	c, err := connector.New(connector.Options{Providers: map[string]connector.Endpoint{"TAX": {BaseURL: "http://a/TAX"}, "HF": {BaseURL: "http://a/HF"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !c.Configured("TAX") || c.Configured("GRID") || !reflect.DeepEqual(c.Providers(), []string{"HF", "TAX"}) {
		t.Fatalf("configured: TAX %v GRID %v providers %v", c.Configured("TAX"), c.Configured("GRID"), c.Providers())
	}
	if c.BreakerState("TAX") != "closed" || c.BreakerState("GRID") != "" {
		t.Fatalf("breaker states %q %q", c.BreakerState("TAX"), c.BreakerState("GRID"))
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	ep := connector.Endpoint{BaseURL: "http://a/TAX", Secret: "hunter2"}
	var logs strings.Builder
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("endpoint", "ep", ep)
	opts := connector.Options{Providers: map[string]connector.Endpoint{"TAX": ep}}
	for _, s := range []string{fmt.Sprint(ep), fmt.Sprintf("%+v", ep), fmt.Sprintf("%#v", ep), fmt.Sprintf("%v", opts), logs.String()} {
		if strings.Contains(s, "hunter2") {
			t.Fatalf("secret printed: %s", s)
		}
	}
}

func TestLogsNameNoEnterprise(t *testing.T) {
	var logs syncBuffer
	srv, _ := newSim(t, sim.Options{})
	c := newClient(t, srv.URL, connector.Options{
		Logger:  slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Retries: -1,
		Breaker: connector.BreakerSettings{Failures: 1},
	})
	ent := code(t, 7)
	if _, err := c.Verify(t.Context(), "NRA", "real_estate.ownership", ent, connector.Claim{Field: "area_m2", Op: connector.OpGE, Value: "987.65"}); err != nil {
		t.Fatal(err)
	}
	_, _ = c.FetchRecords(t.Context(), "TAX", "no.such_item", ent)
	_, _ = c.Verify(t.Context(), "NRA", "real_estate.ownership", ent, connector.Claim{Field: "area_m2", Op: connector.OpGE, Value: "x-987.65"})
	out := logs.String()
	if !strings.Contains(out, "provider call failed") {
		t.Fatalf("no failure logged: %s", out)
	}
	for _, secret := range []string{ent, "987.65"} {
		if strings.Contains(out, secret) {
			t.Fatalf("logs contain %q: %s", secret, out)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
