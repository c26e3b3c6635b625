package seed

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"creditd/internal/catalog"
	"creditd/internal/ingest"
	"creditd/internal/orgs"
	"creditd/internal/testdb"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestDemoLoadsEverythingOnceAndIsIdempotent(t *testing.T) {
	ctx := context.Background()
	pool := testdb.Pool(t)
	cat := defaultCatalog(t)
	// The loader's today is the as-of date (noon in Asia/Shanghai).
	noon := time.Date(2026, 5, 15, 12, 0, 0, 0, shanghai())
	loader := ingest.NewLoader(pool, cat, ingest.Options{Now: func() time.Time { return noon }, Logger: quiet()})
	store := orgs.NewStore(pool)
	p := DemoParams{Orgs: store, Loader: loader, Catalog: cat, Seed: 1, AsOf: noon, Logger: quiet()}

	want := generate(t, cat, Params{Seed: 1, AsOf: noon})
	first, err := Demo(ctx, p)
	if err != nil {
		t.Fatalf("Demo: %v", err)
	}
	if first.Enterprises != DefaultEnterprises || first.Institutions != 4 || first.Providers != len(cat.Providers())-1 {
		t.Errorf("summary: %d enterprises, %d institutions, %d providers", first.Enterprises, first.Institutions, first.Providers)
	}
	if first.Records() != want.RecordCount() || first.Accepted() != want.RecordCount() {
		t.Errorf("first run: %d rows submitted, %d accepted; the data set has %d records", first.Records(), first.Accepted(), want.RecordCount())
	}
	if first.Items[0].Item != RegistrationItem {
		t.Errorf("first item loaded %s, want %s", first.Items[0].Item, RegistrationItem)
	}
	t.Logf("first run: %d records of %d items", first.Records(), len(first.Items))

	count := func(query string, args ...any) int {
		t.Helper()
		var n int
		if err := pool.QueryRow(ctx, query, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	}
	if n := count(`SELECT count(*) FROM records`); n != want.RecordCount() {
		t.Errorf("records table holds %d rows, want %d", n, want.RecordCount())
	}
	if n := count(`SELECT count(*) FROM enterprises`); n != DefaultEnterprises {
		t.Errorf("enterprises table holds %d rows, want %d", n, DefaultEnterprises)
	}
	for _, it := range want.Items {
		if n := count(`SELECT count(*) FROM records WHERE item = $1 AND provider = $2`, it.Item, it.Provider); n != len(it.Records) {
			t.Errorf("%s: %d rows stored, want %d", it.Item, n, len(it.Records))
		}
	}
	if n := count(`SELECT count(*) FROM records WHERE uscc = $1 AND item = 'admin.penalty'`, FixtureCompany); n != 3 {
		t.Errorf("fixture company has %d penalties stored, want 3", n)
	}

	for _, in := range Institutions() {
		got, err := store.Institution(ctx, in.Code)
		if err != nil || got != in {
			t.Errorf("institution %s: %+v, %v", in.Code, got, err)
		}
	}
	if in, _ := store.Institution(ctx, InstitutionSuspended); in.Status != orgs.Suspended || in.Kind != "bank" {
		t.Errorf("%s: %+v, want a suspended bank", InstitutionSuspended, in)
	}
	for _, pr := range cat.Providers() {
		got, err := store.Provider(ctx, pr.Code)
		if pr.Code == catalog.SelfProvider {
			if err == nil {
				t.Errorf("a provider account exists for %s", pr.Code)
			}
			continue
		}
		if err != nil || got.Name != pr.Name || got.Status != orgs.Active {
			t.Errorf("provider %s: %+v, %v", pr.Code, got, err)
		}
	}

	second, err := Demo(ctx, p)
	if err != nil {
		t.Fatalf("second Demo: %v", err)
	}
	for _, it := range second.Items {
		if it.Accepted != 0 || it.Updated != 0 || it.Duplicates != it.Rows {
			t.Errorf("second run, %s: %+v, want every row a duplicate", it.Item, it)
		}
	}
	if n := count(`SELECT count(*) FROM records`); n != want.RecordCount() {
		t.Errorf("after the second run the records table holds %d rows, want %d", n, want.RecordCount())
	}
	if n := count(`SELECT count(*) FROM record_versions`); n != 0 {
		t.Errorf("the second run made %d corrections", n)
	}
}

// rejectingLoader accepts every row but rejects the rows of one item, as the real loader
// rejects rows it finds invalid.
type rejectingLoader struct {
	item  string
	calls []string
}

func (l *rejectingLoader) Submit(_ context.Context, _, item string, rows []ingest.Row) (ingest.Result, error) {
	l.calls = append(l.calls, item)
	if len(rows) > ingest.MaxSubmitRows {
		return ingest.Result{}, fmt.Errorf("%d rows in one call", len(rows))
	}
	if item == l.item {
		return ingest.Result{Accepted: len(rows) - 1, Rejected: []ingest.Rejection{{Line: 1, SourceID: rows[0].SourceID, Reason: "occurredOn: after today"}}}, nil
	}
	return ingest.Result{Accepted: len(rows), Rejected: []ingest.Rejection{}}, nil
}

func TestDemoFailsOnARejectedRow(t *testing.T) {
	ctx := context.Background()
	store := orgs.NewStore(testdb.Pool(t))
	l := &rejectingLoader{item: "admin.penalty"}
	sum, err := Demo(ctx, DemoParams{Orgs: store, Loader: l, Seed: 3, Enterprises: 100, AsOf: testAsOf, Logger: quiet()})
	if err == nil || !strings.Contains(err.Error(), "admin.penalty") || !strings.Contains(err.Error(), "after today") {
		t.Fatalf("Demo error = %v, want the rejected admin.penalty row named", err)
	}
	if l.calls[0] != RegistrationItem {
		t.Errorf("first call loaded %s, want %s", l.calls[0], RegistrationItem)
	}
	if last := l.calls[len(l.calls)-1]; last != "admin.penalty" {
		t.Errorf("Demo went on loading %s after a rejection", last)
	}
	if got := sum.Items[len(sum.Items)-1]; got.Item != "admin.penalty" || got.Rows == 0 {
		t.Errorf("summary does not account for the failed item: %+v", got)
	}
}

func TestDemoSubmitsInBatches(t *testing.T) {
	ctx := context.Background()
	store := orgs.NewStore(testdb.Pool(t))
	l := &rejectingLoader{}
	sum, err := Demo(ctx, DemoParams{Orgs: store, Loader: l, Seed: 3, AsOf: testAsOf, Logger: quiet()})
	if err != nil {
		t.Fatalf("Demo: %v", err)
	}
	calls := map[string]int{}
	for _, c := range l.calls {
		calls[c]++
	}
	for _, it := range sum.Items {
		if want := (it.Rows + ingest.MaxSubmitRows - 1) / ingest.MaxSubmitRows; calls[it.Item] != want {
			t.Errorf("%s: %d rows in %d calls, want %d", it.Item, it.Rows, calls[it.Item], want)
		}
	}
	if !strings.Contains(sum.String(), "tax.invoice_detail") {
		t.Errorf("summary text lacks items:\n%s", sum)
	}
}
