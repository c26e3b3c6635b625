package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"creditd/auth"
	"creditd/internal/app"
	"creditd/internal/catalog"
	"creditd/internal/ingest"
	"creditd/internal/orgs"
	"creditd/internal/seed"
	"creditd/internal/server"
	"creditd/internal/store"
	"creditd/internal/testdb"
	"creditd/internal/usage"
	"creditd/internal/workday"
)

// noRecording stands in for the usage recorder to measure what recording costs. It exists
// only here: the service itself fails closed without a recorder.
type noRecording struct{}

func (noRecording) Record(context.Context, []usage.Event) error { return nil }

const reportBenchQuery = `query($u: USCC!) { creditReport(uscc: $u, purpose: LOAN_APPLICATION) {
  id generatedAt sections { item { code } decision records { id sourceId occurredOn data annotations } } } }`

// BenchmarkReports has 16 concurrent clients read standardized credit reports of the demo
// enterprises over HTTP, with usage recording on (every report's disclosures committed to the
// usage log before the response leaves) and off, in one run:
//
//	go test ./bench -run '^$' -bench BenchmarkReports -benchtime 4000x
func BenchmarkReports(b *testing.B) {
	env := newReportEnv(b)
	// Three alternating rounds, so that drift (autovacuum, a growing usage table) touches both.
	for _, mode := range []string{"recording=off", "recording=on", "recording=off", "recording=on", "recording=off", "recording=on"} {
		b.Run(mode, func(b *testing.B) {
			h := env.off
			if mode == "recording=on" {
				h = env.on
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
			for i := 0; i < 100; i++ { // warm connections, caches and the month's partition
				if err := report(client, srv.URL, env.token, env.codes[i]); err != nil {
					b.Fatal(err)
				}
			}
			var next atomic.Int64
			b.SetParallelism(8) // 8 × GOMAXPROCS (2 here) = 16 clients
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					code := env.codes[int(next.Add(1))%len(env.codes)]
					if err := report(client, srv.URL, env.token, code); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "reports/s")
		})
	}
}

type reportEnv struct {
	on, off http.Handler
	token   string
	codes   []string
}

func newReportEnv(b *testing.B) *reportEnv {
	b.Helper()
	ctx := context.Background()
	pool, err := store.Open(ctx, testdb.New(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	cat, err := catalog.Default()
	if err != nil {
		b.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := seed.Demo(ctx, seed.DemoParams{Orgs: orgs.NewStore(pool), Loader: ingest.NewLoader(pool, cat, ingest.Options{Logger: logger}),
		Catalog: cat, Seed: 1, Logger: logger}); err != nil {
		b.Fatal(err)
	}
	keys, err := auth.LoadKeys(b.TempDir(), true)
	if err != nil {
		b.Fatal(err)
	}
	rec := usage.NewRecorder(pool, usage.RecorderOptions{Logger: logger})
	go func() { _ = rec.Run(ctx) }()
	b.Cleanup(rec.Close)
	cal, err := workday.Default()
	if err != nil {
		b.Fatal(err)
	}
	opts := app.Options{Pool: pool, Catalog: cat, Keys: keys, Limits: server.DefaultLimits(), Logger: logger, Calendar: cal}
	env := &reportEnv{}
	opts.Usage = rec
	if env.on, err = app.Handler(opts); err != nil {
		b.Fatal(err)
	}
	opts.Usage = noRecording{}
	if env.off, err = app.Handler(opts); err != nil {
		b.Fatal(err)
	}
	if env.token, err = auth.Mint(keys, auth.MintParams{Role: auth.RoleInstitution, Org: "DEMO-BANK", TTL: 2 * time.Hour}); err != nil {
		b.Fatal(err)
	}
	rows, err := pool.Query(ctx, `SELECT uscc FROM enterprises ORDER BY uscc`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			b.Fatal(err)
		}
		env.codes = append(env.codes, c)
	}
	if err := rows.Err(); err != nil || len(env.codes) < 1000 {
		b.Fatalf("demo enterprises: %d, %v", len(env.codes), err)
	}
	return env
}

func report(client *http.Client, base, token, code string) error {
	body, _ := json.Marshal(map[string]any{"query": reportBenchQuery, "variables": map[string]any{"u": code}})
	req, err := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out struct {
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return err
	}
	if len(out.Errors) > 0 {
		return &reportError{string(out.Errors[0])}
	}
	return nil
}

type reportError struct{ msg string }

func (e *reportError) Error() string { return "report failed: " + e.msg }
