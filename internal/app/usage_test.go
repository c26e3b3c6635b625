package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"creditd/internal/usage"
)

type accessLog struct {
	AccessLog struct {
		Edges []struct {
			Cursor string
			Node   struct {
				At                                     time.Time
				Institution, Item, Action, RecordCount string
				Purpose, Grant                         *string
			}
		}
		PageInfo struct {
			HasNextPage bool
			EndCursor   *string
		}
	}
}

const accessLogQuery = `query($after: String) { accessLog(first: 100, after: $after) {
  edges { cursor node { at institution item action purpose grant recordCount } } pageInfo { hasNextPage endCursor } } }`

// accessLogCounts reads the whole access log of the enterprise, page by page, counting events
// by item/action/institution.
func (e *env) accessLogCounts(code string) map[string]int {
	e.t.Helper()
	counts := map[string]int{}
	var after any
	var last time.Time
	for page := 0; page < 100; page++ {
		var d struct {
			AccessLog struct {
				Edges []struct {
					Node struct {
						At                        time.Time
						Institution, Item, Action string
					}
				}
				PageInfo struct {
					HasNextPage bool
					EndCursor   *string
				}
			}
		}
		e.ok(e.do(e.enterprise(code), accessLogQuery, map[string]any{"after": after}), &d)
		for _, ed := range d.AccessLog.Edges {
			if !last.IsZero() && ed.Node.At.After(last) {
				e.t.Fatalf("access log is not newest first: %s after %s", ed.Node.At, last)
			}
			last = ed.Node.At
			counts[ed.Node.Item+"/"+ed.Node.Action+"/"+ed.Node.Institution]++
		}
		if !d.AccessLog.PageInfo.HasNextPage {
			return counts
		}
		after = *d.AccessLog.PageInfo.EndCursor
	}
	e.t.Fatal("access log does not end")
	return nil
}

func TestConcurrentReportsAreAllRecorded(t *testing.T) {
	e := newEnv(t, envOptions{})
	f := e.load(t)
	tok := e.bank()
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.do(tok, reportQuery, map[string]any{"u": f.company, "p": "LOAN_APPLICATION"})
			if len(r.Errors) > 0 {
				errs <- fmt.Sprint(r.Errors)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	counts := e.accessLogCounts(f.company)
	// Disclosed items: registration.basic, admin.penalty, admin.licence (the only public items
	// with records in their window); nothing for the rest.
	want := map[string]int{
		"registration.basic/REPORT/DEMO-BANK": n,
		"admin.penalty/REPORT/DEMO-BANK":      n,
		"admin.licence/REPORT/DEMO-BANK":      n,
	}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Fatalf("access log counts %v, want %v", counts, want)
	}
	// Section reads are VIEW events; verifications VERIFY; operators' reads OPERATOR_VIEW.
	e.ok(e.do(tok, sectionsQuery, map[string]any{"u": f.company, "p": "CREDIT_REVIEW", "items": []string{"admin.penalty", "tax.credit_rating"}}), nil)
	e.ok(e.verify(tok, f.company, "registration.basic", "registered_capital", "GE", "100", "CREDIT_REVIEW"), nil)
	e.ok(e.do(e.operator(), sectionsQuery, map[string]any{"u": f.company, "items": []string{"admin.licence"}}), nil)
	counts = e.accessLogCounts(f.company)
	for k, v := range map[string]int{"admin.penalty/VIEW/DEMO-BANK": 1, "registration.basic/VERIFY/DEMO-BANK": 1, "admin.licence/OPERATOR_VIEW/PLATFORM": 1} {
		if counts[k] != v {
			t.Errorf("%s: %d events, want %d (%v)", k, counts[k], v, counts)
		}
	}
	if counts["tax.credit_rating/VIEW/DEMO-BANK"] != 0 {
		t.Error("a refused section was recorded as a disclosure")
	}
	// The subject's and a provider's own reads are not uses.
	e.ok(e.do(e.enterprise(f.company), reportQuery, map[string]any{"u": f.company}), nil)
	e.ok(e.do(e.provider("NDRC"), sectionsQuery, map[string]any{"u": f.company}), nil)
	after := e.accessLogCounts(f.company)
	if fmt.Sprint(after) != fmt.Sprint(counts) {
		t.Fatalf("own reads were recorded: %v vs %v", after, counts)
	}
	// Only the enterprise reads its access log.
	for _, tok := range []string{e.bank(), e.provider("NDRC"), e.operator()} {
		e.wantCode(e.do(tok, accessLogQuery, nil), "FORBIDDEN")
	}
}

func TestProviderFeedback(t *testing.T) {
	e := newEnv(t, envOptions{})
	f := e.load(t)
	for i := 0; i < 3; i++ {
		e.ok(e.do(e.bank(), reportQuery, map[string]any{"u": f.company, "p": "LOAN_APPLICATION"}), nil)
	}
	e.ok(e.do(e.token("INSTITUTION", "DEMO-GUARANTOR"), reportQuery, map[string]any{"u": f.company, "p": "GUARANTEE_SCREENING"}), nil)
	from := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	to := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	q := `query($from: DateTime!, $to: DateTime!) { usageFeedback(from: $from, to: $to) {
	  summaries { day institution item action purpose count } checkpoint { size head at signature } } }`
	var d struct {
		UsageFeedback struct {
			Summaries []struct {
				Day, Institution, Item, Action, Purpose string
				Count                                   int
			}
			Checkpoint *struct{ Size int }
		}
	}
	e.ok(e.do(e.provider("NDRC"), q, map[string]any{"from": from, "to": to}), &d)
	got := map[string]int{}
	for _, s := range d.UsageFeedback.Summaries {
		got[s.Institution+"/"+s.Item+"/"+s.Action+"/"+s.Purpose] += s.Count
	}
	want := map[string]int{
		"DEMO-BANK/admin.penalty/REPORT/LOAN_APPLICATION":         3,
		"DEMO-BANK/admin.licence/REPORT/LOAN_APPLICATION":         3,
		"DEMO-GUARANTOR/admin.penalty/REPORT/GUARANTEE_SCREENING": 1,
		"DEMO-GUARANTOR/admin.licence/REPORT/GUARANTEE_SCREENING": 1,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("NDRC's feedback %v, want %v (registration belongs to SAMR)", got, want)
	}
	// The detail listing has the same events, newest first.
	var ev struct {
		UsageEvents struct {
			Edges []struct {
				Node struct{ Item, Institution string }
			}
		}
	}
	e.ok(e.do(e.provider("NDRC"), `query($from: DateTime!, $to: DateTime!) { usageEvents(from: $from, to: $to, first: 100) { edges { node { id at item institution action purpose recordCount } } } }`,
		map[string]any{"from": from, "to": to}), &ev)
	if len(ev.UsageEvents.Edges) != 8 {
		t.Fatalf("NDRC's detail listing has %d events, want 8", len(ev.UsageEvents.Edges))
	}
	for _, ed := range ev.UsageEvents.Edges {
		if ed.Node.Item != "admin.penalty" && ed.Node.Item != "admin.licence" {
			t.Fatalf("NDRC sees another provider's item %s", ed.Node.Item)
		}
	}
	e.wantCode(e.do(e.bank(), q, map[string]any{"from": from, "to": to}), "FORBIDDEN")
	e.wantCode(e.do(e.enterprise(f.company), q, map[string]any{"from": from, "to": to}), "FORBIDDEN")
}

func TestUsageFailureDisclosesNothing(t *testing.T) {
	e := newEnv(t, envOptions{})
	f := e.load(t)
	ctx := context.Background()
	exec := func(sql string) {
		t.Helper()
		if _, err := e.pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	exec(`CREATE FUNCTION refuse_usage() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'usage log unavailable'; END $$`)
	exec(`CREATE TRIGGER refuse_usage BEFORE INSERT ON usage_events FOR EACH ROW EXECUTE FUNCTION refuse_usage()`)
	for _, q := range []struct {
		query string
		vars  map[string]any
	}{
		{reportQuery, map[string]any{"u": f.company, "p": "LOAN_APPLICATION"}},
		{sectionsQuery, map[string]any{"u": f.company, "p": "LOAN_APPLICATION"}},
	} {
		r := e.do(e.bank(), q.query, q.vars)
		e.wantCode(r, "USAGE_NOT_RECORDED")
		if string(r.Data) != "" && string(r.Data) != "null" {
			t.Fatalf("data disclosed without a usage record: %s", r.Data)
		}
	}
	r := e.verify(e.bank(), f.company, "registration.basic", "registered_capital", "GE", "100", "CREDIT_REVIEW")
	e.wantCode(r, "USAGE_NOT_RECORDED")
	// Reads that disclose nothing to anyone else still work: the subject's own view.
	e.ok(e.do(e.enterprise(f.company), reportQuery, map[string]any{"u": f.company}), nil)

	exec(`DROP TRIGGER refuse_usage ON usage_events`)
	e.ok(e.do(e.bank(), reportQuery, map[string]any{"u": f.company, "p": "LOAN_APPLICATION"}), nil)
}

// Connections killed in the middle of a load: every answer that carries data has its usage
// events committed; the others carry none; the service recovers by itself.
func TestUsageSurvivesKilledConnections(t *testing.T) {
	e := newEnv(t, envOptions{})
	f := e.load(t)
	tok := e.bank()
	ctx := context.Background()
	var (
		mu        sync.Mutex
		disclosed []string // request ids of answers with data
		failed    atomic.Int64
		wg        sync.WaitGroup
	)
	stop := make(chan struct{})
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				r := e.do(tok, reportQuery, map[string]any{"u": f.company, "p": "CREDIT_REVIEW"})
				if len(r.Errors) == 0 {
					mu.Lock()
					disclosed = append(disclosed, r.RequestID)
					mu.Unlock()
				} else {
					failed.Add(1)
					if string(r.Data) != "" && string(r.Data) != "null" {
						t.Errorf("a failed answer carried data: %s", r.Data)
					}
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 5; i++ {
			select {
			case <-stop:
				return
			case <-time.After(40 * time.Millisecond):
			}
			killer, err := e.pool.Acquire(ctx)
			if err != nil {
				continue
			}
			_, _ = killer.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
			killer.Release()
		}
	}()
	wg.Wait()
	close(stop)
	t.Logf("%d answers with data, %d refused", len(disclosed), failed.Load())
	// Every answer with data has its three REPORT events.
	for _, id := range disclosed {
		var n int
		if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM usage_events WHERE request_id = $1`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Fatalf("request %s disclosed a report with %d usage events, want 3", id, n)
		}
	}
	// And the service has recovered.
	e.ok(e.do(tok, reportQuery, map[string]any{"u": f.company, "p": "CREDIT_REVIEW"}), nil)
}

func TestUsageWebhook(t *testing.T) {
	e := newEnv(t, envOptions{})
	f := e.load(t)
	var (
		mu      sync.Mutex
		bodies  [][]byte
		sigs    []string
		refused atomic.Int64
	)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if refused.Add(1) <= 3 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		mu.Lock()
		bodies = append(bodies, body)
		sigs = append(sigs, r.Header.Get(usage.SignatureHeader))
		mu.Unlock()
	}))
	defer recv.Close()
	var reg struct {
		RegisterUsageWebhook struct{ URL, Secret string }
	}
	e.ok(e.do(e.provider("NDRC"), `mutation($u: String!) { registerUsageWebhook(url: $u) { url secret } }`, map[string]any{"u": recv.URL}), &reg)
	if len(reg.RegisterUsageWebhook.Secret) != 64 {
		t.Fatalf("secret %q", reg.RegisterUsageWebhook.Secret)
	}
	e.wantCode(e.do(e.bank(), `mutation($u: String!) { registerUsageWebhook(url: $u) { url } }`, map[string]any{"u": recv.URL}), "FORBIDDEN")
	e.ok(e.do(e.bank(), reportQuery, map[string]any{"u": f.company, "p": "LOAN_APPLICATION"}), nil)

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	seq := usage.NewSequencer(e.pool, e.keys, usage.SequencerOptions{Margin: time.Nanosecond, Logger: quiet, Now: func() time.Time { return time.Now().Add(time.Second) }})
	if err := seq.SealOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	clock := time.Now()
	del := usage.NewDeliverer(e.pool, usage.DelivererOptions{BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond, Logger: quiet, Now: func() time.Time { return clock }})
	for i := 0; i < 10; i++ {
		clock = clock.Add(time.Second)
		if _, err := del.DeliverOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 1 {
		t.Fatalf("receiver got %d batches after refusing 3 times, want 1", len(bodies))
	}
	if !usage.VerifySignature(reg.RegisterUsageWebhook.Secret, bodies[0], sigs[0]) {
		t.Fatal("bad signature")
	}
	for _, item := range []string{"admin.penalty", "admin.licence"} {
		if !containsBytes(bodies[0], item) {
			t.Fatalf("batch lacks %s: %s", item, bodies[0])
		}
	}
	if containsBytes(bodies[0], "registration.basic") {
		t.Fatal("NDRC's batch holds SAMR's item")
	}
}

func containsBytes(b []byte, s string) bool { return contains(string(b), s) }
