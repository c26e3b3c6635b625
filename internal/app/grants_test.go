package app_test

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"creditd/auth"
	"creditd/internal/connector/sim"
	"creditd/internal/grants"
	"creditd/internal/notice"
)

const grantMutation = `mutation($in: GrantInput!) { grant(input: $in) {
  id institution enterprise items actions purposes validFrom validUntil method status receipt } }`

type grantData struct {
	ID, Institution, Enterprise, Method, Status, Receipt string
	Items, Actions, Purposes                             []string
	ValidFrom, ValidUntil                                time.Time
}

func grantInput(institution string, items, actions, purposes []string) map[string]any {
	return map[string]any{
		"institution": institution, "items": items, "actions": actions, "purposes": purposes,
		"validUntil": now.AddDate(0, 6, 0).Format(time.RFC3339), "method": "ONLINE",
		"evidence": "RNV-2026-11-27-000123", "riskNoticeVersion": notice.Current().Version,
	}
}

func (e *env) grant(enterprise string, in map[string]any) grantData {
	e.t.Helper()
	var d struct{ Grant grantData }
	e.ok(e.do(e.enterprise(enterprise), grantMutation, map[string]any{"in": in}), &d)
	return d.Grant
}

func (e *env) decision(token, code, purpose, item string) section {
	e.t.Helper()
	var d enterpriseData
	vars := map[string]any{"u": code, "items": []string{item}}
	if purpose != "" {
		vars["p"] = purpose
	}
	e.ok(e.do(token, sectionsQuery, vars), &d)
	return bySection(e.t, d)[item]
}

func TestGrantLifecycle(t *testing.T) {
	e := newEnv(t, envOptions{})
	f := e.load(t)
	bank := e.bank()
	if s := e.decision(bank, f.company, "LOAN_APPLICATION", "tax.credit_rating"); s.Decision != "NEEDS_GRANT" || s.Records != nil {
		t.Fatalf("before the grant: %+v", s)
	}
	g := e.grant(f.company, grantInput("DEMO-BANK", []string{"tax.credit_rating"}, []string{"VIEW"}, []string{"LOAN_APPLICATION"}))
	if g.Status != "ACTIVE" || g.Enterprise != f.company || g.Institution != "DEMO-BANK" || g.Method != "ONLINE" || !g.ValidFrom.Equal(now) {
		t.Fatalf("grant = %+v", g)
	}
	s := e.decision(bank, f.company, "LOAN_APPLICATION", "tax.credit_rating")
	if s.Decision != "VISIBLE" || fmt.Sprint(sourceIDs(s)) != "[tcr-1]" {
		t.Fatalf("with the grant: %+v", s)
	}
	// Another purpose, another institution, another item: still not visible.
	if s := e.decision(bank, f.company, "CREDIT_REVIEW", "tax.credit_rating"); s.Decision != "NEEDS_GRANT" || s.Records != nil {
		t.Fatalf("other purpose: %+v", s)
	}
	if s := e.decision(e.token(auth.RoleInstitution, "DEMO-GUARANTOR"), f.company, "LOAN_APPLICATION", "tax.credit_rating"); s.Decision != "NEEDS_GRANT" {
		t.Fatalf("other institution: %+v", s)
	}
	if s := e.decision(bank, f.company, "LOAN_APPLICATION", "utility.water"); s.Decision != "NEEDS_GRANT" {
		t.Fatalf("other item: %+v", s)
	}
	// The report includes the granted section.
	var rep struct{ CreditReport struct{ Sections []section } }
	e.ok(e.do(bank, reportQuery, map[string]any{"u": f.company, "p": "LOAN_APPLICATION"}), &rep)
	for _, s := range rep.CreditReport.Sections {
		if s.Item.Code == "tax.credit_rating" && (s.Decision != "VISIBLE" || len(s.Records) != 1) {
			t.Fatalf("report section: %+v", s)
		}
	}
	// Revocation takes effect on the very next request.
	var rv struct{ RevokeGrant grantData }
	e.ok(e.do(e.enterprise(f.company), `mutation($id: ID!) { revokeGrant(id: $id) { id status } }`, map[string]any{"id": g.ID}), &rv)
	if rv.RevokeGrant.Status != "REVOKED" {
		t.Fatalf("revoked grant status %q", rv.RevokeGrant.Status)
	}
	if s := e.decision(bank, f.company, "LOAN_APPLICATION", "tax.credit_rating"); s.Decision != "NEEDS_GRANT" || s.Records != nil {
		t.Fatalf("after revocation: %+v", s)
	}
	// Only the enterprise that gave it may revoke it.
	e.wantCode(e.do(e.enterprise(f.shop), `mutation($id: ID!) { revokeGrant(id: $id) { id } }`, map[string]any{"id": g.ID}), "NOT_FOUND")
	e.wantCode(e.do(bank, `mutation($id: ID!) { revokeGrant(id: $id) { id } }`, map[string]any{"id": g.ID}), "FORBIDDEN")

	// A grant that starts tomorrow is PENDING and gives nothing yet.
	in := grantInput("DEMO-BANK", []string{"tax.credit_rating"}, []string{"VIEW"}, []string{"LOAN_APPLICATION"})
	in["validFrom"] = now.Add(24 * time.Hour).Format(time.RFC3339)
	pending := e.grant(f.company, in)
	if pending.Status != "PENDING" {
		t.Fatalf("future grant status %q", pending.Status)
	}
	if s := e.decision(bank, f.company, "LOAN_APPLICATION", "tax.credit_rating"); s.Decision != "NEEDS_GRANT" {
		t.Fatalf("pending grant opened the section: %+v", s)
	}

	// Listings: the enterprise sees what it gave, the bank what it holds, the guarantor nothing.
	list := func(tok string) []string {
		var d struct {
			Grants struct {
				Edges []struct{ Node grantData }
			}
		}
		e.ok(e.do(tok, `{ grants(first: 10) { edges { node { id status } } pageInfo { hasNextPage } } }`, nil), &d)
		var out []string
		for _, ed := range d.Grants.Edges {
			out = append(out, ed.Node.Status)
		}
		return out
	}
	if got := list(e.enterprise(f.company)); fmt.Sprint(got) != "[PENDING REVOKED]" {
		t.Fatalf("enterprise's grants %v", got)
	}
	if got := list(bank); fmt.Sprint(got) != "[PENDING REVOKED]" {
		t.Fatalf("bank's grants %v", got)
	}
	if got := list(e.token(auth.RoleInstitution, "DEMO-GUARANTOR")); len(got) != 0 {
		t.Fatalf("guarantor's grants %v", got)
	}
	e.wantCode(e.do(e.provider("TAX"), `{ grants { edges { cursor } } }`, nil), "FORBIDDEN")
}

func TestGrantValidation(t *testing.T) {
	e := newEnv(t, envOptions{})
	f := e.load(t)
	base := func(mod func(map[string]any)) map[string]any {
		in := grantInput("DEMO-BANK", []string{"tax.credit_rating"}, []string{"VIEW"}, []string{"LOAN_APPLICATION"})
		mod(in)
		return in
	}
	tests := []struct {
		name string
		in   map[string]any
		want string
	}{
		{"VIEW on a verify-only item", base(func(m map[string]any) { m["items"] = []string{"tax.credit_rating", "social_insurance.headcount"} }), "social_insurance.headcount"},
		{"a model-only item", base(func(m map[string]any) { m["items"] = []string{"tax.invoice_detail"}; m["actions"] = []string{"VERIFY"} }), "tax.invoice_detail"},
		{"a public item", base(func(m map[string]any) { m["items"] = []string{"admin.penalty"} }), "admin.penalty"},
		{"an unknown item", base(func(m map[string]any) { m["items"] = []string{"tax.secrets"} }), "tax.secrets"},
		{"VERIFY on an item without verifiable fields", base(func(m map[string]any) { m["actions"] = []string{"VERIFY"} }), "no verifiable fields"},
		{"an unknown institution", base(func(m map[string]any) { m["institution"] = "SHADOW-BANK" }), "SHADOW-BANK"},
		{"an old risk notice", base(func(m map[string]any) { m["riskNoticeVersion"] = "2025-01" }), "riskNoticeVersion"},
		{"more than 12 months", base(func(m map[string]any) { m["validUntil"] = now.AddDate(1, 0, 1).Format(time.RFC3339) }), "12 months"},
		{"until before from", base(func(m map[string]any) { m["validUntil"] = now.Add(-time.Hour).Format(time.RFC3339) }), "validUntil"},
		{"backdated", base(func(m map[string]any) { m["validFrom"] = now.AddDate(0, -1, 0).Format(time.RFC3339) }), "validFrom"},
		{"written without a hash", base(func(m map[string]any) { m["method"] = "WRITTEN"; m["evidence"] = "scan.pdf" }), "SHA-256"},
		{"online without a reference", base(func(m map[string]any) { m["evidence"] = "  " }), "real-name"},
		{"no purposes", base(func(m map[string]any) { m["purposes"] = []string{} }), "purposes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(e.enterprise(f.company), grantMutation, map[string]any{"in": tt.in})
			e.wantCode(r, "BAD_INPUT")
			if !strings.Contains(r.Errors[0].Message, tt.want) {
				t.Fatalf("message %q does not name %q", r.Errors[0].Message, tt.want)
			}
		})
	}
	written := base(func(m map[string]any) {
		m["method"] = "WRITTEN"
		m["evidence"] = strings.Repeat("AB", 32)
	})
	if g := e.grant(f.company, written); g.Method != "WRITTEN" {
		t.Fatalf("written grant %+v", g)
	}
	e.wantCode(e.do(e.bank(), grantMutation, map[string]any{"in": written}), "FORBIDDEN")
	e.wantCode(e.do(e.operator(), grantMutation, map[string]any{"in": written}), "FORBIDDEN")
	var rn struct {
		RiskNotice struct{ Version, Text string }
	}
	e.ok(e.do(e.enterprise(f.company), `{ riskNotice { version text } }`, nil), &rn)
	if rn.RiskNotice.Version != notice.Current().Version || !strings.Contains(rn.RiskNotice.Text, "风险告知书") || !strings.Contains(rn.RiskNotice.Text, "revoke") {
		t.Fatalf("risk notice %+v", rn)
	}
}

func TestGrantReceipt(t *testing.T) {
	e := newEnv(t, envOptions{})
	f := e.load(t)
	g := e.grant(f.company, grantInput("DEMO-BANK", []string{"tax.credit_rating", "utility.water"}, []string{"VIEW"}, []string{"LOAN_APPLICATION", "CREDIT_REVIEW"}))
	pub, err := auth.ParseJWKS(e.keys.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	var c grants.ReceiptClaims
	if err := pub.Verify(auth.TypeGrantReceipt, g.Receipt, &c); err != nil {
		t.Fatalf("receipt does not verify: %v", err)
	}
	if c.GrantID != g.ID || c.Enterprise != f.company || c.Institution != "DEMO-BANK" || fmt.Sprint(c.Items) != "[tax.credit_rating utility.water]" ||
		fmt.Sprint(c.Purposes) != "[LOAN_APPLICATION CREDIT_REVIEW]" || c.Method != "ONLINE" || c.Evidence != "RNV-2026-11-27-000123" ||
		c.RiskNoticeVersion != notice.Current().Version || !c.ValidUntil.Equal(g.ValidUntil) {
		t.Fatalf("receipt claims %+v", c)
	}
	// One changed byte anywhere breaks it.
	for i := 0; i < len(g.Receipt); i += 7 {
		if g.Receipt[i] == '.' {
			continue
		}
		b := []byte(g.Receipt)
		b[i] ^= 0x01
		if err := pub.Verify(auth.TypeGrantReceipt, string(b), &grants.ReceiptClaims{}); err == nil {
			t.Fatalf("receipt with byte %d changed still verifies", i)
		}
	}
	// A receipt is not an access token, and an access token is not a receipt.
	r := e.do(g.Receipt, `{ catalog { code } }`, nil)
	e.wantCode(r, "UNAUTHENTICATED")
	if err := pub.Verify(auth.TypeGrantReceipt, e.bank(), &grants.ReceiptClaims{}); err == nil {
		t.Fatal("an access token verified as a receipt")
	}
}

const verifyMutation = `mutation($u: USCC!, $item: String!, $c: ClaimInput!, $p: Purpose!) {
  verify(uscc: $u, item: $item, claim: $c, purpose: $p) { result effectiveValue } }`

type verifyData struct {
	Verify struct{ Result, EffectiveValue string }
}

func (e *env) verify(tok, code, item, field, op, value, purpose string) gqlResponse {
	return e.do(tok, verifyMutation, map[string]any{"u": code, "item": item, "c": map[string]any{"field": field, "op": op, "value": value}, "p": purpose})
}

func TestVerification(t *testing.T) {
	e := newEnv(t, envOptions{verifyBudget: 8})
	f := e.load(t)
	bank := e.bank()
	// No grant: refused, with the decision and the item, and nothing about the value.
	r := e.verify(bank, f.company, "social_insurance.headcount", "headcount", "GE", "30", "LOAN_APPLICATION")
	e.wantCode(r, "FORBIDDEN")
	if r.Errors[0].Extensions["decision"] != "NEEDS_GRANT" || r.Errors[0].Extensions["item"] != "social_insurance.headcount" {
		t.Fatalf("refusal extensions %v", r.Errors[0].Extensions)
	}
	// Model-only items are never verifiable.
	r = e.verify(bank, f.company, "tax.invoice_detail", "invoices", "GE", "1", "LOAN_APPLICATION")
	e.wantCode(r, "BAD_INPUT")
	// A VIEW grant is not a VERIFY grant.
	e.grant(f.company, grantInput("DEMO-BANK", []string{"social_insurance.payment"}, []string{"VIEW"}, []string{"LOAN_APPLICATION"}))
	e.wantCode(e.verify(bank, f.company, "social_insurance.payment", "months_paid", "GE", "6", "LOAN_APPLICATION"), "FORBIDDEN")

	e.grant(f.company, grantInput("DEMO-BANK", []string{"social_insurance.headcount"}, []string{"VERIFY"}, []string{"LOAN_APPLICATION"}))
	// The hidden headcount is 37.
	tests := []struct {
		op, value, result, effective string
	}{
		{"GE", "30", "MATCH", "33"},
		{"GE", "37", "NO_MATCH", "39"},
		{"GE", "40", "NO_MATCH", "47"},
		{"LE", "40", "MATCH", "39"},
		{"LE", "36", "NO_MATCH", "33"},
		{"GE", "3.5", "MATCH", "3.9"},
	}
	for _, tt := range tests {
		var d verifyData
		e.ok(e.verify(bank, f.company, "social_insurance.headcount", "headcount", tt.op, tt.value, "LOAN_APPLICATION"), &d)
		if d.Verify.Result != tt.result || d.Verify.EffectiveValue != tt.effective {
			t.Errorf("%s %s = %+v, want %s at %s", tt.op, tt.value, d.Verify, tt.result, tt.effective)
		}
	}
	// Wrong purpose, wrong field, wrong op.
	e.wantCode(e.verify(bank, f.company, "social_insurance.headcount", "headcount", "GE", "30", "CREDIT_REVIEW"), "FORBIDDEN")
	e.wantCode(e.verify(bank, f.company, "social_insurance.headcount", "salary", "GE", "30", "LOAN_APPLICATION"), "BAD_INPUT")
	r = e.verify(bank, f.company, "social_insurance.headcount", "headcount", "EQ", "37", "LOAN_APPLICATION")
	e.wantCode(r, "BAD_INPUT")
	if strings.Contains(r.Errors[0].Message, "37") && !strings.Contains(r.Errors[0].Message, "\"37\"") {
		t.Fatalf("error mentions the value: %q", r.Errors[0].Message)
	}
	// Public items need no grant.
	var d verifyData
	e.ok(e.verify(e.token(auth.RoleInstitution, "DEMO-GUARANTOR"), f.company, "registration.basic", "registered_capital", "GE", "1000000", "GUARANTEE_SCREENING"), &d)
	if d.Verify.Result != "MATCH" || d.Verify.EffectiveValue != "1000000" {
		t.Fatalf("public verify %+v", d.Verify)
	}
	// The budget: 8 per item; the six answered claims above used six (refusals and bad claims use none).
	codes := []string{}
	for i := 0; i < 4; i++ {
		codes = append(codes, e.verify(bank, f.company, "social_insurance.headcount", "headcount", "GE", "10", "LOAN_APPLICATION").code())
	}
	if codes[len(codes)-1] != "BUDGET_EXHAUSTED" || codes[0] != "" {
		t.Fatalf("budget codes %v", codes)
	}
	// Enterprises and providers do not verify.
	e.wantCode(e.verify(e.enterprise(f.company), f.company, "social_insurance.headcount", "headcount", "GE", "10", "LOAN_APPLICATION"), "FORBIDDEN")
}

// An institution bisecting a hidden headcount through the API cannot pin it down.
func TestVerificationBisection(t *testing.T) {
	e := newEnv(t, envOptions{verifyBudget: 1000})
	f := e.load(t)
	res := e.submit("HRSS", "social_insurance.headcount", []map[string]any{rec("hc-big", f.shop, "2026-11-01", map[string]any{"headcount": 4731})})
	if res.SubmitRecords.Accepted != 1 {
		t.Fatalf("submit %+v", res)
	}
	for _, code := range []string{f.company, f.shop} {
		e.grant(code, grantInput("DEMO-BANK", []string{"social_insurance.headcount"}, []string{"VERIFY"}, []string{"CREDIT_REVIEW"}))
	}
	bank := e.bank()
	for code, hidden := range map[string]float64{f.company: 37, f.shop: 4731} {
		lo, hi := big.NewRat(1, 1), big.NewRat(1000000, 1) // the attacker's prior
		for step := 0; step < 60; step++ {
			mid := new(big.Rat).Add(lo, hi)
			mid.Quo(mid, big.NewRat(2, 1))
			op := "GE"
			if step%2 == 1 {
				op = "LE"
			}
			var d verifyData
			e.ok(e.verify(bank, code, "social_insurance.headcount", "headcount", op, mid.FloatString(6), "CREDIT_REVIEW"), &d)
			eff, ok := new(big.Rat).SetString(d.Verify.EffectiveValue)
			if !ok {
				t.Fatalf("effectiveValue %q", d.Verify.EffectiveValue)
			}
			match := d.Verify.Result == "MATCH"
			switch {
			case op == "GE" && match, op == "LE" && !match: // hidden ≥ eff, or hidden > eff
				if eff.Cmp(lo) > 0 {
					lo = eff
				}
			default: // hidden < eff, or hidden ≤ eff
				if eff.Cmp(hi) < 0 {
					hi = eff
				}
			}
		}
		width := new(big.Rat).Sub(hi, lo)
		limit := new(big.Rat).Mul(lo, big.NewRat(15, 100))
		lf, _ := lo.Float64()
		hf, _ := hi.Float64()
		if width.Cmp(limit) < 0 {
			t.Fatalf("hidden %v narrowed to [%v, %v], narrower than 15%% of its lower end", hidden, lf, hf)
		}
		if lf > hidden || hf < hidden {
			t.Fatalf("interval [%v, %v] excludes %v: answers were wrong", lf, hf, hidden)
		}
		t.Logf("hidden %v: best interval [%v, %v] after 60 steps", hidden, lf, hf)
	}
}

func TestLiveProviders(t *testing.T) {
	e := newEnv(t, envOptions{sim: true})
	f := e.load(t)
	bank := e.bank()
	if s := e.decision(bank, f.company, "LOAN_APPLICATION", "tax.payment"); s.Decision != "NEEDS_GRANT" || s.Records != nil {
		t.Fatalf("without a grant: %+v", s)
	}
	e.grant(f.company, grantInput("DEMO-BANK", []string{"tax.payment", "housing_fund.payment"}, []string{"VIEW", "VERIFY"}[:1], []string{"LOAN_APPLICATION"}))
	want, _ := sim.Records("tax.payment", f.company, now)
	s := e.decision(bank, f.company, "LOAN_APPLICATION", "tax.payment")
	if s.Decision != "VISIBLE" || len(s.Records) == 0 || len(s.Records) > len(want) {
		t.Fatalf("granted live section: %d records (simulator has %d): %+v", len(s.Records), len(want), s.Decision)
	}
	wantIDs := map[string]bool{}
	for _, r := range want {
		wantIDs[r.SourceID] = true
	}
	for _, r := range s.Records {
		if !wantIDs[r.SourceID] || r.Source != "TAX" {
			t.Fatalf("record %+v is not the simulator's", r)
		}
	}
	// Nothing live is stored.
	var n int
	if err := e.pool.QueryRow(t.Context(), `SELECT count(*) FROM records WHERE item = 'tax.payment'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("stored live records: %d %v", n, err)
	}
	// The subject sees its live data without any grant; a provider_verify item is UNAVAILABLE.
	me := e.enterprise(f.company)
	if s := e.decision(me, f.company, "", "utility.electricity"); s.Decision != "VISIBLE" || len(s.Records) == 0 {
		t.Fatalf("subject's electricity: %+v", s)
	}
	// Verification forwarded to the provider (real estate) under a VERIFY grant.
	e.grant(f.company, grantInput("DEMO-BANK", []string{"real_estate.ownership"}, []string{"VERIFY"}, []string{"LOAN_APPLICATION"}))
	var d verifyData
	e.ok(e.verify(bank, f.company, "real_estate.ownership", "area_m2", "GE", "0.011", "LOAN_APPLICATION"), &d)
	if d.Verify.Result == "" || d.Verify.EffectiveValue != "0.012" {
		t.Fatalf("forwarded verification %+v", d.Verify)
	}
	raw, _ := json.Marshal(d)
	if strings.Contains(string(raw), "不动产") {
		t.Fatal("raw provider data leaked")
	}
	// The provider goes down: its sections are UNAVAILABLE, the rest of the report is served.
	e.sim.Close()
	var rep struct{ CreditReport struct{ Sections []section } }
	e.ok(e.do(bank, reportQuery, map[string]any{"u": f.company, "p": "LOAN_APPLICATION"}), &rep)
	got := map[string]section{}
	for _, s := range rep.CreditReport.Sections {
		got[s.Item.Code] = s
	}
	if len(got) != 30 || got["tax.payment"].Decision != "UNAVAILABLE" || got["tax.payment"].Records != nil {
		t.Fatalf("report with the provider down: tax.payment %+v (%d sections)", got["tax.payment"], len(got))
	}
	if got["admin.penalty"].Decision != "VISIBLE" || len(got["admin.penalty"].Records) != 1 {
		t.Fatalf("rest of the report: %+v", got["admin.penalty"])
	}
	e.ok(e.verify(bank, f.company, "real_estate.ownership", "area_m2", "GE", "100", "LOAN_APPLICATION"), &d)
	if d.Verify.Result != "UNAVAILABLE" {
		t.Fatalf("verification with the provider down: %+v", d.Verify)
	}
}
