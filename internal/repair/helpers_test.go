package repair

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

var shanghai = time.FixedZone("Asia/Shanghai", 8*60*60)

// testNow is 10:00 on 15 June 2026 in Asia/Shanghai.
var testNow = time.Date(2026, 6, 15, 10, 0, 0, 0, shanghai)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

type env struct {
	pool   *pgxpool.Pool
	cat    *catalog.Catalog
	clock  *clock
	loader *ingest.Loader
	svc    *Service
	a, b   string // two registered enterprises
}

func newEnv(t *testing.T) *env {
	t.Helper()
	pool := testdb.Pool(t)
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: testNow}
	e := &env{
		pool: pool, cat: cat, clock: c,
		loader: ingest.NewLoader(pool, cat, ingest.Options{Now: c.now, Logger: slog.New(slog.DiscardHandler)}),
		svc:    NewService(pool, cat, c.now),
		a:      code(t, "91330106MA2AAAAA0"),
		b:      code(t, "91330106MA2BBBBB0"),
	}
	e.load(t, "SAMR", ingest.Registration, e.a, "REG-A", "2015-03-01", "", `{"name":"甲有限公司"}`)
	e.load(t, "SAMR", ingest.Registration, e.b, "REG-B", "2016-03-01", "", `{"name":"乙有限公司"}`)
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

// load loads one record through the provider path and returns its id.
func (e *env) load(t *testing.T, provider, item, usccCode, sourceID, occurredOn, endsOn, data string) string {
	t.Helper()
	ctx := context.Background()
	res, err := e.loader.Submit(ctx, provider, item, []ingest.Row{{SourceID: sourceID, USCC: usccCode, OccurredOn: occurredOn, EndsOn: endsOn, Data: json.RawMessage(data)}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 1 {
		t.Fatalf("load %s/%s %s: %+v", provider, item, sourceID, res)
	}
	var id string
	if err := e.pool.QueryRow(ctx, `SELECT id::text FROM records WHERE provider = $1 AND item = $2 AND source_id = $3`, provider, item, sourceID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// penalty loads an admin.penalty record of enterprise u.
func (e *env) penalty(t *testing.T, u, sourceID, severity, occurredOn string) string {
	t.Helper()
	return e.load(t, "NDRC", "admin.penalty", u, sourceID, occurredOn, "", fmt.Sprintf(`{"severity":%q,"decision_no":%q}`, severity, sourceID))
}

func enterprise(u string) policy.Viewer { return policy.Viewer{Role: policy.Enterprise, Org: u} }
func provider(p string) policy.Viewer   { return policy.Viewer{Role: policy.Provider, Org: p} }

var (
	operator    = policy.Viewer{Role: policy.Operator, Org: "PLATFORM"}
	institution = policy.Viewer{Role: policy.Institution, Org: "DEMO-BANK"}
)

const letterText = "本企业承诺已完成整改，今后依法诚信经营，如有违反自愿接受惩戒。"

// wantCode fails unless err is an *apperr.Error with code whose message contains all parts,
// and returns it.
func wantCode(t *testing.T, err error, code apperr.Code, parts ...string) *apperr.Error {
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
	return ae
}

func ptr[T any](v T) *T { return &v }
