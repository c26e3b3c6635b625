package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"creditd/internal/catalog"
	"creditd/internal/ingest"
	"creditd/internal/store"
	"creditd/internal/testdb"
	"creditd/internal/uscc"
)

var (
	benchRecords     = flag.Int("ingest.records", 1_000_000, "records loaded by BenchmarkIngest")
	benchEnterprises = flag.Int("ingest.enterprises", 20_000, "enterprises registered by BenchmarkIngest")
	benchChunk       = flag.Int("ingest.chunk", 0, "rows per transaction in BenchmarkIngest (0: the loader's default)")
)

// BenchmarkIngest loads a generated file of admin.penalty records into a fresh database in
// each format and reports records/s for the first load and for a reload of the same file
// (all duplicates). Run it with:
//
//	go test ./bench -run '^$' -bench BenchmarkIngest -benchtime 1x
func BenchmarkIngest(b *testing.B) {
	for _, format := range []ingest.Format{ingest.CSV, ingest.NDJSON} {
		b.Run(string(format), func(b *testing.B) {
			var load, reload time.Duration
			b.StopTimer()
			for i := 0; i < b.N; i++ {
				run := runIngest(b, format, *benchEnterprises, *benchRecords, *benchChunk, func(f func()) {
					b.StartTimer()
					f()
					b.StopTimer()
				})
				load += run.load
				reload += run.reload
			}
			b.ReportMetric(float64(*benchRecords*b.N)/load.Seconds(), "records/s")
			b.ReportMetric(float64(*benchRecords*b.N)/reload.Seconds(), "reload-records/s")
		})
	}
}

// TestIngestBenchData runs the benchmark's load on a small scale, so that `go test ./...`
// keeps the benchmark and its generated files valid.
func TestIngestBenchData(t *testing.T) {
	for _, format := range []ingest.Format{ingest.CSV, ingest.NDJSON} {
		t.Run(string(format), func(t *testing.T) {
			runIngest(t, format, 50, 3000, 500, func(f func()) { f() })
		})
	}
}

type ingestRun struct{ load, reload time.Duration }

// runIngest creates a database, registers enterprises, then loads a generated file of records
// twice: the first load (inside timed) must accept every record, the second must find them
// all duplicates.
func runIngest(tb testing.TB, format ingest.Format, enterprises, records, chunk int, timed func(func())) ingestRun {
	tb.Helper()
	ctx := context.Background()
	cat, err := catalog.Default()
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	codes := enterpriseCodes(tb, enterprises)
	regPath := filepath.Join(dir, "registration.csv")
	writeFile(tb, regPath, func(w io.Writer) error { return writeRegistrations(w, codes) })
	path := filepath.Join(dir, "penalties."+string(format))
	writeFile(tb, path, func(w io.Writer) error { return writePenalties(w, format, codes, records) })

	pool, err := store.Open(ctx, testdb.New(tb), nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer pool.Close()
	l := ingest.NewLoader(pool, cat, ingest.Options{ChunkSize: chunk, Logger: slog.New(slog.DiscardHandler)})
	if got := loadFile(ctx, tb, l, "SAMR", "registration.basic", ingest.CSV, regPath); got.Accepted != enterprises {
		tb.Fatalf("registration: %+v", got)
	}

	var run ingestRun
	var got ingest.Progress
	timed(func() {
		start := time.Now()
		got = loadFile(ctx, tb, l, "NDRC", "admin.penalty", format, path)
		run.load = time.Since(start)
	})
	if got.Accepted != records || got.Rows != records {
		tb.Fatalf("load: %+v", got)
	}
	start := time.Now()
	got = loadFile(ctx, tb, l, "NDRC", "admin.penalty", format, path)
	run.reload = time.Since(start)
	if got.Duplicates != records {
		tb.Fatalf("reload: %+v", got)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM records WHERE item = 'admin.penalty'`).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	if n != records {
		tb.Fatalf("%d records stored, want %d", n, records)
	}
	return run
}

func loadFile(ctx context.Context, tb testing.TB, l *ingest.Loader, provider, item string, format ingest.Format, path string) ingest.Progress {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	got, err := l.LoadFile(ctx, provider, item, format, f, func(r ingest.Rejection) {
		tb.Errorf("line %d (%s) rejected: %s", r.Line, r.SourceID, r.Reason)
	}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return got
}

func writeFile(tb testing.TB, path string, write func(io.Writer) error) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := write(w); err != nil {
		tb.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// enterpriseCodes returns n valid, distinct unified social credit codes.
func enterpriseCodes(tb testing.TB, n int) []string {
	tb.Helper()
	out := make([]string, n)
	for i := range out {
		c, err := uscc.Complete(fmt.Sprintf("91330100%09d", i+1))
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = string(c)
	}
	return out
}

var (
	sizes     = []string{"micro", "small", "medium", "large"}
	regions   = []string{"330102", "330105", "330106", "330108", "330110", "330212", "330302", "330402"}
	industry  = []string{"C3911", "F5191", "I6510", "E4700", "C2710", "M7320"}
	severity  = []string{"minor", "ordinary", "ordinary", "serious"}
	reasons   = []string{"未按规定公示年度报告", "虚假宣传", "未取得许可从事经营活动", "产品质量不合格", "违反安全生产规定"}
	authority = []string{"杭州市市场监督管理局", "杭州市生态环境局", "杭州市应急管理局", "浙江省税务局稽查局"}
)

func writeRegistrations(w io.Writer, codes []string) error {
	rng := rand.New(rand.NewPCG(1, 2))
	if _, err := io.WriteString(w, "source_id,uscc,occurred_on,ends_on,name,region_code,industry_code,size,subject_type,registered_capital\n"); err != nil {
		return err
	}
	for i, c := range codes {
		day := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(8000))
		if _, err := fmt.Fprintf(w, "REG-%08d,%s,%s,,杭州测试企业%d有限公司,%s,%s,%s,enterprise,%d\n",
			i+1, c, day.Format(time.DateOnly), i+1, regions[rng.IntN(len(regions))], industry[rng.IntN(len(industry))],
			sizes[rng.IntN(len(sizes))], 10_000*(1+rng.IntN(5000))); err != nil {
			return err
		}
	}
	return nil
}

// writePenalties writes n deterministic admin.penalty records spread over the enterprises.
func writePenalties(w io.Writer, format ingest.Format, codes []string, n int) error {
	rng := rand.New(rand.NewPCG(3, 4))
	if format == ingest.CSV {
		if _, err := io.WriteString(w, "source_id,uscc,occurred_on,ends_on,severity,decision_no,authority,reason,amount\n"); err != nil {
			return err
		}
	}
	base := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		sourceID := fmt.Sprintf("PEN-%09d", i+1)
		code := codes[rng.IntN(len(codes))]
		day := base.AddDate(0, 0, rng.IntN(2500)).Format(time.DateOnly)
		sev := severity[rng.IntN(len(severity))]
		decision := fmt.Sprintf("杭市监罚〔%d〕%d号", 2019+i%6, i+1)
		auth := authority[rng.IntN(len(authority))]
		reason := reasons[rng.IntN(len(reasons))]
		amount := 500 * (1 + rng.IntN(400))
		var err error
		if format == ingest.CSV {
			_, err = fmt.Fprintf(w, "%s,%s,%s,,%s,%s,%s,%s,%d\n", sourceID, code, day, sev, decision, auth, reason, amount)
		} else {
			var line []byte
			line, err = json.Marshal(map[string]any{
				"sourceId": sourceID, "uscc": code, "occurredOn": day,
				"data": map[string]any{"severity": sev, "decision_no": decision, "authority": auth, "reason": reason, "amount": amount},
			})
			if err == nil {
				line = append(line, '\n')
				_, err = w.Write(line)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}
