package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"creditd/auth"
	"creditd/internal/app"
	"creditd/internal/catalog"
	"creditd/internal/seed"
	"creditd/internal/server"
	"creditd/internal/store"
	"creditd/internal/testdb"
	"creditd/internal/usage"
	"creditd/internal/workday"
)

type cli struct {
	t   *testing.T
	env map[string]string
}

func newCLI(t *testing.T) *cli {
	return &cli{t: t, env: map[string]string{
		"DATABASE_URL":    testdb.New(t),
		"REDIS_URL":       testdb.RedisURL(),
		"CREDITD_MODE":    "development",
		"CREDITD_KEY_DIR": filepath.Join(t.TempDir(), "keys"),
	}}
}

// run runs creditd with args and returns its standard output and error.
func (c *cli) run(args ...string) (string, string, error) {
	var out, errb bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return c.env[k] }, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), err
}

func (c *cli) must(args ...string) string {
	c.t.Helper()
	out, errOut, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("creditd %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// query serves the API over the command's database and keys, and runs one query.
func (c *cli) query(token, q string, vars map[string]any) map[string]any {
	c.t.Helper()
	ctx := context.Background()
	pool, err := store.Open(ctx, c.env["DATABASE_URL"], nil)
	if err != nil {
		c.t.Fatal(err)
	}
	defer pool.Close()
	keys, err := auth.LoadKeys(c.env["CREDITD_KEY_DIR"], false)
	if err != nil {
		c.t.Fatal(err)
	}
	cat, _ := catalog.Default()
	rec := usage.NewRecorder(pool, usage.RecorderOptions{})
	go func() { _ = rec.Run(ctx) }()
	defer rec.Close()
	cal, err := workday.Default()
	if err != nil {
		c.t.Fatal(err)
	}
	h, err := app.Handler(app.Options{Pool: pool, Catalog: cat, Keys: keys, Limits: server.DefaultLimits(), Usage: rec, Calendar: cal,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		c.t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	body, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := srv.Client().Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		c.t.Fatal(err)
	}
	if out["errors"] != nil {
		c.t.Fatalf("query errors: %v", out["errors"])
	}
	return out["data"].(map[string]any)
}

func TestSeedIngestAndRead(t *testing.T) {
	c := newCLI(t)
	if out := c.must("migrate"); !strings.Contains(out, "migrations applied") {
		t.Fatalf("migrate: %q", out)
	}
	c.must("seed", "--demo", "--enterprises", "40")
	company := strings.TrimSpace(c.must("seed", "--print-fixture", "company"))
	if company != seed.FixtureCompany {
		t.Fatalf("fixture %q", company)
	}
	// A CSV of licences: two good rows, a bad check character, an impossible date.
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")
	bad := company[:17] + map[bool]string{true: "1", false: "0"}[company[17] == '0']
	csvPath := writeFile(t, "licences.csv", "source_id,uscc,occurred_on,ends_on,licence_no,scope,fee\n"+
		"CLI-LIC-1,"+company+","+today+",,辽食经2026001,食品经营,0\n"+
		"CLI-LIC-2,"+bad+","+today+",,辽食经2026002,食品经营,0\n"+
		"CLI-LIC-3,"+company+",2026-02-30,,辽食经2026003,食品经营,0\n"+
		"CLI-LIC-4,"+strings.ToLower(company)+","+today+",,辽食经2026004,\"餐饮服务, 预包装\",12.5\n")
	out := c.must("ingest", "--provider", "NDRC", "--item", "admin.licence", csvPath)
	for _, want := range []string{"rejected line 3", "check character", "rejected line 4", "accepted 2", "rejected 2"} {
		if !strings.Contains(out, want) {
			t.Fatalf("ingest output lacks %q:\n%s", want, out)
		}
	}
	// Loading it again adds nothing.
	out = c.must("ingest", "--provider", "NDRC", "--item", "admin.licence", csvPath)
	if !strings.Contains(out, "accepted 0, updated 0, duplicates 2, rejected 2") {
		t.Fatalf("second load: %s", out)
	}
	// NDJSON: a correction of CLI-LIC-1, a malformed line, and a new row.
	ndPath := writeFile(t, "licences.ndjson",
		`{"sourceId":"CLI-LIC-1","uscc":"`+company+`","occurredOn":"`+today+`","data":{"licence_no":"辽食经2026001","scope":"食品经营（含冷藏冷冻）","fee":0}}`+"\n"+
			`{"sourceId":"CLI-LIC-5","uscc":`+"\n"+
			"\n"+
			`{"sourceId":"CLI-LIC-6","uscc":"`+company+`","occurredOn":"`+today+`","data":{"licence_no":"辽食经2026006"}}`+"\n")
	out = c.must("ingest", "--provider", "NDRC", "--item", "admin.licence", ndPath)
	if !strings.Contains(out, "rejected line 2") || !strings.Contains(out, "accepted 1, updated 1, duplicates 0, rejected 1") {
		t.Fatalf("ndjson load: %s", out)
	}
	// The wrong provider for the item is refused as a whole.
	if _, _, err := c.run("ingest", "--provider", "TAX", "--item", "admin.licence", csvPath); err == nil {
		t.Fatal("TAX loaded NDRC's item")
	}

	// A bank sees the new licences, numbers stored as numbers, the correction applied.
	bank := strings.TrimSpace(c.must("token", "--role", "INSTITUTION", "--org", "DEMO-BANK"))
	data := c.query(bank, `query($u: USCC!) { enterprise(uscc: $u, purpose: LOAN_APPLICATION) { section(item: "admin.licence") { records { sourceId data version } } } }`, map[string]any{"u": company})
	recs := data["enterprise"].(map[string]any)["section"].(map[string]any)["records"].([]any)
	got := map[string]map[string]any{}
	for _, r := range recs {
		m := r.(map[string]any)
		got[m["sourceId"].(string)] = m
	}
	for _, id := range []string{"CLI-LIC-1", "CLI-LIC-4", "CLI-LIC-6"} {
		if got[id] == nil {
			t.Fatalf("%s missing from %v", id, got)
		}
	}
	if got["CLI-LIC-1"]["version"] != float64(2) || got["CLI-LIC-1"]["data"].(map[string]any)["scope"] != "食品经营（含冷藏冷冻）" {
		t.Fatalf("correction not applied: %v", got["CLI-LIC-1"])
	}
	if d := got["CLI-LIC-4"]["data"].(map[string]any); d["fee"] != 12.5 || d["scope"] != "餐饮服务, 预包装" {
		t.Fatalf("CSV cells: %v", d)
	}
	// Seeding again changes nothing.
	before := c.query(bank, `query($u: USCC!) { creditReport(uscc: $u, purpose: LOAN_APPLICATION) { sections { records { id } } } }`, map[string]any{"u": company})
	c.must("seed", "--demo", "--enterprises", "40")
	after := c.query(bank, `query($u: USCC!) { creditReport(uscc: $u, purpose: LOAN_APPLICATION) { sections { records { id } } } }`, map[string]any{"u": company})
	if b1, _ := json.Marshal(before); !bytes.Equal(b1, mustJSON(after)) {
		t.Fatal("a second seed changed the report")
	}
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func TestTokenAndUsage(t *testing.T) {
	c := newCLI(t)
	tok := strings.TrimSpace(c.must("token", "--role", "ENTERPRISE", "--org", strings.ToLower(seed.FixtureCompany), "--ttl", "5m"))
	keys, err := auth.LoadKeys(c.env["CREDITD_KEY_DIR"], false)
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(keys, auth.VerifierOptions{}).Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if v.Role != auth.RoleEnterprise || v.Org != seed.FixtureCompany {
		t.Fatalf("viewer %+v", v)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "no command"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"token without org", []string{"token", "--role", "OPERATOR"}, "--role and --org are required"},
		{"token with bad role", []string{"token", "--role", "ADMIN", "--org", "X"}, "unknown role"},
		{"token with bad enterprise code", []string{"token", "--role", "ENTERPRISE", "--org", "91210106MA0U7RK970"}, "check character"},
		{"ingest without file", []string{"ingest", "--provider", "NDRC", "--item", "admin.licence"}, "one FILE"},
		{"ingest unknown format", []string{"ingest", "--provider", "NDRC", "--item", "admin.licence", "x.xlsx"}, "--format"},
		{"seed without demo", []string{"seed"}, "--demo"},
		{"unknown fixture", []string{"seed", "--print-fixture", "nobody"}, "unknown fixture"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := c.run(tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want it to mention %q", err, tt.want)
			}
		})
	}
	c.env["CREDITD_MODE"] = "staging"
	if _, _, err := c.run("migrate"); err == nil || !strings.Contains(err.Error(), "CREDITD_MODE") {
		t.Fatalf("bad mode: %v", err)
	}
	c.env["CREDITD_MODE"] = "production"
	c.env["CREDITD_KEY_DIR"] = ""
	if _, _, err := c.run("serve"); err == nil || !strings.Contains(err.Error(), "CREDITD_KEY_DIR") {
		t.Fatalf("production without keys: %v", err)
	}
}

func TestServeShutsDown(t *testing.T) {
	c := newCLI(t)
	c.env["CREDITD_ADDR"] = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, func(k string) string { return c.env[k] }, strings.NewReader(""), io.Discard, io.Discard)
	}()
	time.Sleep(300 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func TestReceiptVerifyOffline(t *testing.T) {
	c := newCLI(t)
	c.must("seed", "--demo", "--enterprises", "10")
	me := strings.TrimSpace(c.must("token", "--role", "ENTERPRISE", "--org", seed.FixtureCompany))
	data := c.query(me, `mutation($in: GrantInput!) { grant(input: $in) { id receipt } }`, map[string]any{"in": map[string]any{
		"institution": "DEMO-BANK", "items": []string{"tax.credit_rating"}, "actions": []string{"VIEW"},
		"purposes": []string{"LOAN_APPLICATION"}, "validUntil": time.Now().AddDate(0, 3, 0).Format(time.RFC3339),
		"method": "ONLINE", "evidence": "RNV-1", "riskNoticeVersion": "2026-11",
	}})
	g := data["grant"].(map[string]any)
	receipt := g["receipt"].(string)
	keys, err := auth.LoadKeys(c.env["CREDITD_KEY_DIR"], false)
	if err != nil {
		t.Fatal(err)
	}
	jwks := writeFile(t, "jwks.json", string(keys.JWKS()))
	out := c.must("receipt", "verify", "--jwks", jwks, receipt)
	if !strings.Contains(out, "receipt is valid") || !strings.Contains(out, g["id"].(string)) || !strings.Contains(out, "RNV-1") {
		t.Fatalf("verify output: %s", out)
	}
	// A one-byte change in the payload or the signature fails.
	parts := strings.Split(receipt, ".")
	for _, i := range []int{1, 2} {
		p := []byte(parts[i])
		p[len(p)/2] ^= 0x01
		alt := append([]string(nil), parts...)
		alt[i] = string(p)
		if _, _, err := c.run("receipt", "verify", "--jwks", jwks, strings.Join(alt, ".")); err == nil || !strings.Contains(err.Error(), "NOT valid") {
			t.Fatalf("altered part %d: %v", i, err)
		}
	}
	// Keys the platform never published fail too.
	other, err := auth.LoadKeys(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.run("receipt", "verify", "--jwks", writeFile(t, "other.json", string(other.JWKS())), receipt); err == nil {
		t.Fatal("verified against unrelated keys")
	}
	// An access token is not a receipt.
	if _, _, err := c.run("receipt", "verify", "--jwks", jwks, me); err == nil {
		t.Fatal("an access token passed as a receipt")
	}
}

func TestUsageVerifyFindsTampering(t *testing.T) {
	c := newCLI(t)
	c.must("seed", "--demo", "--enterprises", "10")
	bank := strings.TrimSpace(c.must("token", "--role", "INSTITUTION", "--org", "DEMO-BANK"))
	for _, code := range []string{seed.FixtureCompany, seed.FixtureDishonest} {
		c.query(bank, `query($u: USCC!) { creditReport(uscc: $u, purpose: LOAN_APPLICATION) { id } }`, map[string]any{"u": code})
	}
	ctx := context.Background()
	pool, err := store.Open(ctx, c.env["DATABASE_URL"], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	keys, err := auth.LoadKeys(c.env["CREDITD_KEY_DIR"], false)
	if err != nil {
		t.Fatal(err)
	}
	// Seal everything recorded so far (the margin is for late commits; none are pending here).
	seq := usage.NewSequencer(pool, keys, usage.SequencerOptions{Margin: time.Nanosecond, Now: func() time.Time { return time.Now().Add(time.Second) }})
	if err := seq.SealOnce(ctx); err != nil {
		t.Fatal(err)
	}
	out := c.must("usage", "verify")
	if !strings.Contains(out, "NDRC") {
		t.Fatalf("verify output names no provider chain:\n%s", out)
	}
	// Edit one sealed row by hand, bypassing the append-only triggers.
	var id string
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if err := conn.QueryRow(ctx, `SELECT id::text FROM usage_events WHERE item = 'admin.penalty' LIMIT 1`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `SET session_replication_role = replica`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `UPDATE usage_events SET purpose = 'CREDIT_REVIEW' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `RESET session_replication_role`); err != nil {
		t.Fatal(err)
	}
	out, _, err = c.run("usage", "verify")
	if err == nil {
		t.Fatalf("verify passed after an edit:\n%s", out)
	}
	if !strings.Contains(out, id) || !strings.Contains(out, "ALTERED") {
		t.Fatalf("verify output does not name the altered event %s:\n%s", id, out)
	}
}

func TestProductionRefusesPlainProviders(t *testing.T) {
	c := newCLI(t)
	c.env["CREDITD_MODE"] = "production"
	c.env["CREDITD_ADDR"] = "127.0.0.1:0"
	if _, err := auth.CreateKey(c.env["CREDITD_KEY_DIR"], time.Now()); err != nil {
		t.Fatal(err)
	}
	c.env["CREDITD_PROVIDERS"] = "TAX=http://127.0.0.1:8091/TAX"
	if _, _, err := c.run("serve"); err == nil || !strings.Contains(err.Error(), "https") {
		t.Fatalf("plain http provider in production: %v", err)
	}
	c.env["CREDITD_PROVIDERS"] = "TAX=https://tax.example/api"
	if _, _, err := c.run("serve"); err == nil || !strings.Contains(err.Error(), "CREDITD_PROVIDER_SECRET_TAX") {
		t.Fatalf("provider without a secret in production: %v", err)
	}
}
