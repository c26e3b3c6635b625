package objections

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
	"creditd/internal/workday"
)

// clock is the fixed, settable clock of a test (tests run their steps sequentially).
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// at returns hh:mm on date in Asia/Shanghai.
func at(date string, hh, mm int) time.Time {
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		panic(err)
	}
	return time.Date(d.Year(), d.Month(), d.Day(), hh, mm, 0, 0, shanghai)
}

// endOf returns 23:59:59 Asia/Shanghai of date.
func endOf(date string) time.Time { return at(date, 23, 59).Add(59 * time.Second) }

type env struct {
	t     *testing.T
	ctx   context.Context
	pool  *pgxpool.Pool
	svc   *Service
	clock *clock
	a, b  string // two enterprises

	entA, entB policy.Viewer
	operator   policy.Viewer
	ndrc, samr policy.Viewer // providers of admin.penalty and registration.basic
	tax        policy.Viewer // a provider of neither
	bank       policy.Viewer
}

func code(t *testing.T, body string) string {
	t.Helper()
	c, err := uscc.Complete(body)
	if err != nil {
		t.Fatal(err)
	}
	return string(c)
}

// newEnv makes a fresh database holding two registered enterprises, and a service on it.
func newEnv(t *testing.T) *env {
	t.Helper()
	pool := testdb.Pool(t)
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	cal, err := workday.Default()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: context.Background(), pool: pool, clock: &clock{t: at("2026-01-10", 9, 0)},
		a: code(t, "91330106MA2AXXXX0"), b: code(t, "91210102MA0QWERT1")}
	e.svc = NewService(pool, cat, cal, e.clock.now)
	e.entA = policy.Viewer{Role: policy.Enterprise, Org: e.a}
	e.entB = policy.Viewer{Role: policy.Enterprise, Org: e.b}
	e.operator = policy.Viewer{Role: policy.Operator, Org: "PLATFORM"}
	e.ndrc = policy.Viewer{Role: policy.Provider, Org: "NDRC"}
	e.samr = policy.Viewer{Role: policy.Provider, Org: "SAMR"}
	e.tax = policy.Viewer{Role: policy.Provider, Org: "TAX"}
	e.bank = policy.Viewer{Role: policy.Institution, Org: "DEMO-BANK"}
	e.submit("SAMR", ingest.Registration,
		ingest.Row{SourceID: "REG-A", USCC: e.a, OccurredOn: "2015-03-01", Data: json.RawMessage(`{"name":"甲测试有限公司","size":"small"}`)},
		ingest.Row{SourceID: "REG-B", USCC: e.b, OccurredOn: "2016-04-01", Data: json.RawMessage(`{"name":"乙测试有限公司","size":"micro"}`)})
	return e
}

// submit loads records as their provider would.
func (e *env) submit(provider, item string, rows ...ingest.Row) {
	e.t.Helper()
	cat, _ := catalog.Default()
	l := ingest.NewLoader(e.pool, cat, ingest.Options{Now: func() time.Time { return at("2026-01-10", 9, 0) }, Logger: slog.New(slog.DiscardHandler)})
	res, err := l.Submit(e.ctx, provider, item, rows)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(res.Rejected) > 0 {
		e.t.Fatalf("submit: rejected %+v", res.Rejected)
	}
}

// penalty loads an admin.penalty record for the enterprise and returns its id.
func (e *env) penalty(ent, sourceID string) string {
	e.t.Helper()
	e.submit("NDRC", "admin.penalty", ingest.Row{SourceID: sourceID, USCC: ent, OccurredOn: "2025-11-20",
		Data: json.RawMessage(`{"severity":"ordinary","decision_no":"罚字〔2025〕` + sourceID + `号","amount":5000}`)})
	return e.recordID(sourceID)
}

func (e *env) recordID(sourceID string) string {
	e.t.Helper()
	var id string
	if err := e.pool.QueryRow(e.ctx, `SELECT id::text FROM records WHERE source_id = $1`, sourceID).Scan(&id); err != nil {
		e.t.Fatalf("record %s: %v", sourceID, err)
	}
	return id
}

// set moves the clock.
func (e *env) set(t time.Time) { e.clock.t = t }

// storedRecord is the state of a record.
type storedRecord struct {
	version        int
	data           map[string]any
	underObjection bool
	deletedAt      *time.Time
	deletionReason *string
	hash           []byte
}

func (e *env) record(id string) storedRecord {
	e.t.Helper()
	var r storedRecord
	var raw []byte
	err := e.pool.QueryRow(e.ctx, `SELECT version, data::text, under_objection, deleted_at, deletion_reason, content_hash
		FROM records WHERE id = $1`, id).Scan(&r.version, &raw, &r.underObjection, &r.deletedAt, &r.deletionReason, &r.hash)
	if err != nil {
		e.t.Fatalf("record %s: %v", id, err)
	}
	if err := json.Unmarshal(raw, &r.data); err != nil {
		e.t.Fatal(err)
	}
	return r
}

// versions returns the kept earlier versions of a record, by version.
func (e *env) versions(id string) []map[string]any {
	e.t.Helper()
	rows, err := e.pool.Query(e.ctx, `SELECT data::text FROM record_versions WHERE record_id = $1 ORDER BY version`, id)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []map[string]any
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			e.t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// mustOf returns a function that fails t on an error and returns the objection otherwise.
func mustOf(t *testing.T) func(Objection, error) Objection {
	return func(o Objection, err error) Objection {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return o
	}
}

// wantCode checks that err is an *apperr.Error with code whose message contains every part.
func wantCode(t *testing.T, err error, code apperr.Code, parts ...string) {
	t.Helper()
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v, want an *apperr.Error %s", err, code)
	}
	if ae.Code != code {
		t.Fatalf("code = %s (%q), want %s", ae.Code, ae.Message, code)
	}
	for _, p := range parts {
		if !strings.Contains(ae.Message, p) {
			t.Errorf("message %q does not mention %q", ae.Message, p)
		}
	}
}

// wantState checks an objection's status, outcome, pause and deadline.
func wantState(t *testing.T, o Objection, status Status, outcome Outcome, paused bool, due *time.Time, provisional bool) {
	t.Helper()
	if o.Status != status || o.Outcome != outcome || o.Paused != paused || o.Provisional != provisional {
		t.Errorf("objection = %s/%q paused %v provisional %v; want %s/%q paused %v provisional %v",
			o.Status, o.Outcome, o.Paused, o.Provisional, status, outcome, paused, provisional)
	}
	switch {
	case due == nil && o.DueBy != nil:
		t.Errorf("dueBy = %s, want null", o.DueBy.Format(time.RFC3339))
	case due != nil && o.DueBy == nil:
		t.Errorf("dueBy = null, want %s", due.Format(time.RFC3339))
	case due != nil && !o.DueBy.Equal(*due):
		t.Errorf("dueBy = %s, want %s", o.DueBy.Format(time.RFC3339), due.Format(time.RFC3339))
	}
}

func ptr(t time.Time) *time.Time { return &t }

func ids(list []Objection) []string {
	out := make([]string, len(list))
	for i, o := range list {
		out[i] = o.ID
	}
	return out
}

func fmtIDs(list []string) string { return fmt.Sprint(list) }
