package selfreport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"creditd/internal/apperr"
	"creditd/internal/catalog"
	"creditd/internal/ingest"
	"creditd/internal/policy"
	"creditd/internal/testdb"
	"creditd/internal/uscc"
)

// testNow is 00:30 on 15 June 2026 in Asia/Shanghai, still 14 June in UTC.
var testNow = time.Date(2026, 6, 14, 16, 30, 0, 0, time.UTC)

const promise = "本企业承诺所填报信息真实、准确、完整，如有不实愿承担相应责任。"

type env struct {
	pool   *pgxpool.Pool
	loader *ingest.Loader
	svc    *Service
	now    time.Time
	a, b   string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	pool := testdb.Pool(t)
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{pool: pool, now: testNow, a: code(t, "91330106MA2AAAAA0"), b: code(t, "91330106MA2BBBBB0")}
	clock := func() time.Time { return e.now }
	e.loader = ingest.NewLoader(pool, cat, ingest.Options{Now: clock, Logger: slog.New(slog.DiscardHandler)})
	e.svc = NewService(pool, cat, clock)
	for i, u := range []string{e.a, e.b} {
		res, err := e.loader.Submit(context.Background(), "SAMR", ingest.Registration, []ingest.Row{{
			SourceID: "REG-" + u, USCC: u, OccurredOn: "2015-03-01", Data: json.RawMessage(fmt.Sprintf(`{"name":"企业%d有限公司"}`, i+1))}})
		if err != nil || res.Accepted != 1 {
			t.Fatalf("register %s: %+v, %v", u, res, err)
		}
	}
	return e
}

func code(t *testing.T, body string) string {
	t.Helper()
	c, err := uscc.Complete(body)
	if err != nil {
		t.Fatal(err)
	}
	return string(c)
}

func enterprise(u string) policy.Viewer { return policy.Viewer{Role: policy.Enterprise, Org: u} }

func wantCode(t *testing.T, err error, code apperr.Code, parts ...string) {
	t.Helper()
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != code {
		t.Fatalf("error = %v, want %s", err, code)
	}
	for _, p := range parts {
		if !strings.Contains(ae.Message, p) {
			t.Fatalf("message %q does not mention %q", ae.Message, p)
		}
	}
}

type stored struct {
	uscc, provider, item, sourceID, occurredOn string
	data                                       json.RawMessage
	hash                                       []byte
	withdrawnAt                                *time.Time
}

func read(t *testing.T, e *env, id string) stored {
	t.Helper()
	var r stored
	if err := e.pool.QueryRow(context.Background(), `
		SELECT uscc, provider, item, source_id, occurred_on::text, data::text, content_hash, withdrawn_at
		FROM records WHERE id = $1`, id).
		Scan(&r.uscc, &r.provider, &r.item, &r.sourceID, &r.occurredOn, &r.data, &r.hash, &r.withdrawnAt); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSubmit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, err := e.svc.Submit(ctx, enterprise(e.a), json.RawMessage(`{"employees": 52, "revenue": 1.50e6, "note": "新增<出口>业务", "tags": ["export"]}`), "  "+promise+"\n")
	if err != nil {
		t.Fatal(err)
	}
	r := read(t, e, id)
	if r.uscc != e.a || r.provider != catalog.SelfProvider || r.item != Item || r.sourceID != SourcePrefix+id ||
		r.occurredOn != "2026-06-15" || r.withdrawnAt != nil {
		t.Fatalf("self-report = %+v", r)
	}
	var data map[string]any
	dec := json.NewDecoder(strings.NewReader(string(r.data)))
	dec.UseNumber()
	if err := dec.Decode(&data); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"employees": json.Number("52"), "revenue": json.Number("1500000"), "note": "新增<出口>业务",
		"tags": []any{"export"}, CommitmentKey: promise}
	if fmt.Sprint(data) != fmt.Sprint(want) {
		t.Fatalf("data = %v, want %v", data, want)
	}
	hash, err := ingest.ContentHash("2026-06-15", "", r.data)
	if err != nil {
		t.Fatal(err)
	}
	if string(hash) != string(r.hash) {
		t.Fatal("content_hash is not the loader's")
	}
}

func TestSubmitRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	unregistered := code(t, "91330106MA2CCCCC0")
	tests := []struct {
		name       string
		v          policy.Viewer
		data       string
		commitment string
		code       apperr.Code
		parts      []string
	}{
		{"institution", policy.Viewer{Role: policy.Institution, Org: "DEMO-BANK"}, `{"a":1}`, promise, apperr.Forbidden, nil},
		{"provider", policy.Viewer{Role: policy.Provider, Org: "NDRC"}, `{"a":1}`, promise, apperr.Forbidden, nil},
		{"operator", policy.Viewer{Role: policy.Operator, Org: "PLATFORM"}, `{"a":1}`, promise, apperr.Forbidden, nil},
		{"unregistered enterprise", enterprise(unregistered), `{"a":1}`, promise, apperr.Forbidden, []string{"registration"}},
		{"array", enterprise(e.a), `[1, 2]`, promise, apperr.BadInput, []string{"data", "JSON object"}},
		{"string", enterprise(e.a), `"text"`, promise, apperr.BadInput, []string{"data", "JSON object"}},
		{"null", enterprise(e.a), `null`, promise, apperr.BadInput, []string{"data", "JSON object"}},
		{"empty", enterprise(e.a), ``, promise, apperr.BadInput, []string{"data", "required"}},
		{"invalid JSON", enterprise(e.a), `{"a":`, promise, apperr.BadInput, []string{"data", "not valid JSON"}},
		{"two values", enterprise(e.a), `{"a":1} {"b":2}`, promise, apperr.BadInput, []string{"data", "after the object"}},
		{"empty object", enterprise(e.a), `{}`, promise, apperr.BadInput, []string{"data", "at least one field"}},
		{"reserved key", enterprise(e.a), `{"_commitment":"x"}`, promise, apperr.BadInput, []string{"data._commitment", "reserved"}},
		{"too large", enterprise(e.a), `{"a":"` + strings.Repeat("x", MaxDataBytes) + `"}`, promise, apperr.BadInput, []string{"data", "larger than"}},
		{"NUL character", enterprise(e.a), `{"a":"x\u0000y"}`, promise, apperr.BadInput, []string{"data.a", "NUL"}},
		{"too deep", enterprise(e.a), strings.Repeat(`{"a":`, 70) + `1` + strings.Repeat(`}`, 70), promise, apperr.BadInput, []string{"nested deeper"}},
		{"missing commitment", enterprise(e.a), `{"a":1}`, " ", apperr.BadInput, []string{"commitment", "required"}},
		{"short commitment", enterprise(e.a), `{"a":1}`, "我承诺", apperr.BadInput, []string{"commitment", "at least"}},
		{"long commitment", enterprise(e.a), `{"a":1}`, strings.Repeat("诺", MaxCommitmentChars+1), apperr.BadInput, []string{"commitment", "at most"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.Submit(ctx, tc.v, json.RawMessage(tc.data), tc.commitment)
			wantCode(t, err, tc.code, tc.parts...)
		})
	}
	var n int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM records WHERE item = $1`, Item).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d self-reports saved by refused calls", n)
	}
}

func TestWithdraw(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mine, err := e.svc.Submit(ctx, enterprise(e.a), json.RawMessage(`{"employees":52}`), promise)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := e.svc.Submit(ctx, enterprise(e.b), json.RawMessage(`{"employees":7}`), promise)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.loader.Submit(ctx, "NDRC", "honour", []ingest.Row{{SourceID: "H-1", USCC: e.a, OccurredOn: "2026-01-05", Data: json.RawMessage(`{"title":"守合同重信用企业"}`)}})
	if err != nil || res.Accepted != 1 {
		t.Fatalf("load honour: %+v, %v", res, err)
	}
	var honour string
	if err := e.pool.QueryRow(ctx, `SELECT id::text FROM records WHERE source_id = 'H-1'`).Scan(&honour); err != nil {
		t.Fatal(err)
	}

	refusals := []struct {
		name  string
		v     policy.Viewer
		id    string
		code  apperr.Code
		parts []string
	}{
		{"another enterprise's self-report", enterprise(e.a), theirs, apperr.Forbidden, []string{msgNoRecord}},
		{"unknown record", enterprise(e.a), "0190a0c8-0000-7000-8000-000000000000", apperr.Forbidden, []string{msgNoRecord}},
		{"not a record id", enterprise(e.a), "self-1", apperr.Forbidden, []string{msgNoRecord}},
		{"not a self-report", enterprise(e.a), honour, apperr.BadInput, []string{"not a self-report", "honour", "NDRC"}},
		{"provider", policy.Viewer{Role: policy.Provider, Org: "NDRC"}, mine, apperr.Forbidden, nil},
		{"operator", policy.Viewer{Role: policy.Operator, Org: "PLATFORM"}, mine, apperr.Forbidden, nil},
		{"institution", policy.Viewer{Role: policy.Institution, Org: "DEMO-BANK"}, mine, apperr.Forbidden, nil},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.Withdraw(ctx, tc.v, tc.id)
			wantCode(t, err, tc.code, tc.parts...)
		})
	}
	for _, id := range []string{mine, theirs, honour} {
		if r := read(t, e, id); r.withdrawnAt != nil {
			t.Fatalf("record %s withdrawn by a refused call", id)
		}
	}

	e.now = testNow.Add(36 * time.Hour) // 12:30 on 16 June in Shanghai
	got, err := e.svc.Withdraw(ctx, enterprise(e.a), mine)
	if err != nil {
		t.Fatal(err)
	}
	if got != mine {
		t.Fatalf("Withdraw returned %s, want %s", got, mine)
	}
	if r := read(t, e, mine); r.withdrawnAt == nil || !r.withdrawnAt.Equal(e.now) {
		t.Fatalf("withdrawn_at = %v, want %v", r.withdrawnAt, e.now)
	}
	if r := read(t, e, theirs); r.withdrawnAt != nil {
		t.Fatal("withdrawing one self-report withdrew another")
	}
	_, err = e.svc.Withdraw(ctx, enterprise(e.a), mine)
	wantCode(t, err, apperr.BadInput, "already withdrawn on 2026-06-16")
}
