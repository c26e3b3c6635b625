package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"creditd/auth"
	"creditd/internal/server"
	"creditd/internal/uscc"
)

// Codes of the test enterprises (valid check characters).
func code(t *testing.T, body string) string {
	t.Helper()
	c, err := uscc.Complete(body)
	if err != nil {
		t.Fatal(err)
	}
	return string(c)
}

// badCheck returns code with a wrong check character.
func badCheck(c string) string {
	last := c[17]
	repl := byte('0')
	if last == '0' {
		repl = '1'
	}
	return c[:17] + string(repl)
}

type fixture struct {
	company, shop, coop string
}

// load registers three enterprises and public, authorized, verify-only and model-only records.
func (e *env) load(t *testing.T) fixture {
	f := fixture{
		company: code(t, "91210102MA0XK5U00"),
		shop:    code(t, "92210202MA0YL6W11"),
		coop:    code(t, "93211224MA10AB12C"),
	}
	res := e.submit("SAMR", "registration.basic", []map[string]any{
		rec("reg-1", f.company, "2015-03-02", map[string]any{"name": "沈阳示范精密机械有限公司", "region_code": "210102", "industry_code": "C3411", "size": "small", "subject_type": "enterprise", "registered_capital": 5000000}),
		rec("reg-2", f.shop, "2019-06-18", map[string]any{"name": "大连中山区张记餐馆", "region_code": "210202", "industry_code": "H6210", "size": "micro", "subject_type": "individual_business"}),
		rec("reg-3", f.coop, "2020-04-01", map[string]any{"name": "康平县绿野种植专业合作社", "region_code": "210123", "industry_code": "A0141", "size": "micro", "subject_type": "cooperative"}),
	})
	if res.SubmitRecords.Accepted != 3 || len(res.SubmitRecords.Rejected) != 0 {
		t.Fatalf("registration: %+v", res)
	}
	res = e.submit("NDRC", "admin.penalty", []map[string]any{
		rec("pen-serious", f.company, "2025-06-01", map[string]any{"severity": "serious", "decision_no": "沈市监罚〔2025〕18号", "amount": 200000}),
		rec("pen-ordinary-old", f.company, "2025-09-20", map[string]any{"severity": "ordinary", "decision_no": "沈市监罚〔2025〕7号", "amount": 5000}),
		rec("pen-minor", f.company, "2026-10-01", map[string]any{"severity": "minor", "decision_no": "沈市监罚〔2026〕3号"}),
	})
	if res.SubmitRecords.Accepted != 3 {
		t.Fatalf("penalties: %+v", res)
	}
	e.submit("NDRC", "admin.licence", []map[string]any{rec("lic-1", f.company, "2024-05-10", map[string]any{"licence_no": "辽B-2024-001"})})
	e.submit("HRSS", "social_insurance.headcount", []map[string]any{rec("hc-1", f.company, "2026-10-31", map[string]any{"headcount": 37})})
	e.submit("TAX", "tax.credit_rating", []map[string]any{rec("tcr-1", f.company, "2026-04-01", map[string]any{"level": "A", "year": 2025})})
	e.submit("TAX", "tax.invoice_detail", []map[string]any{rec("inv-1", f.company, "2026-11-01", map[string]any{"invoices": 120})})
	e.submit("COURT", "court.dishonest_debtor", []map[string]any{
		{"sourceId": "dd-1", "uscc": f.shop, "occurredOn": "2023-01-05", "endsOn": "2024-01-05", "data": map[string]any{"case_no": "(2023)辽0202执123号"}},
		{"sourceId": "dd-2", "uscc": f.shop, "occurredOn": "2026-03-05", "data": map[string]any{"case_no": "(2026)辽0202执77号"}},
	})
	return f
}

const sectionsQuery = `query($u: USCC!, $p: Purpose, $items: [String!]) {
  enterprise(uscc: $u, purpose: $p) { uscc name regionCode sections(items: $items) {
    item { code access } decision reason records { id source sourceId occurredOn endsOn data annotations version } } }
}`

type section struct {
	Item struct {
		Code   string
		Access string
	}
	Decision string
	Reason   *string
	Records  []struct {
		ID          string
		Source      string
		SourceID    string
		OccurredOn  string
		EndsOn      *string
		Data        map[string]any
		Annotations []string
		Version     int
	}
}

type enterpriseData struct {
	Enterprise *struct {
		Uscc       string
		Name       string
		RegionCode *string
		Sections   []section
	}
}

func bySection(t *testing.T, d enterpriseData) map[string]section {
	t.Helper()
	if d.Enterprise == nil {
		t.Fatal("enterprise is null")
	}
	m := map[string]section{}
	for _, s := range d.Enterprise.Sections {
		m[s.Item.Code] = s
	}
	return m
}

func sourceIDs(s section) []string {
	var out []string
	for _, r := range s.Records {
		out = append(out, r.SourceID)
	}
	return out
}

func TestInstitutionReadsPublicSectionsOnly(t *testing.T) {
	e := newEnv(t, envOptions{})
	f := e.load(t)

	var d enterpriseData
	e.ok(e.do(e.bank(), sectionsQuery, map[string]any{"u": f.company, "p": "LOAN_APPLICATION"}), &d)
	secs := bySection(t, d)
	if d.Enterprise.Name != "沈阳示范精密机械有限公司" || *d.Enterprise.RegionCode != "210102" {
		t.Fatalf("enterprise = %+v", d.Enterprise)
	}
	if len(secs) != 30 {
		t.Fatalf("%d sections, want every catalog item", len(secs))
	}
	tests := []struct {
		item     string
		decision string
		records  []string // nil: records must be null
	}{
		{"registration.basic", "VISIBLE", []string{"reg-1"}},
		// ordinary penalty of 2025-09-20 is past its one-year window; the minor one is never shown.
		{"admin.penalty", "VISIBLE", []string{"pen-serious"}},
		{"admin.licence", "VISIBLE", []string{"lic-1"}},
		{"court.judgment", "VISIBLE", []string{}},
		{"tax.credit_rating", "NEEDS_GRANT", nil},
		{"tax.payment", "NEEDS_GRANT", nil},
		{"social_insurance.headcount", "VERIFY_ONLY", nil},
		{"real_estate.ownership", "VERIFY_ONLY", nil},
		{"tax.invoice_detail", "MODEL_ONLY", nil},
	}
	for _, tt := range tests {
		s := secs[tt.item]
		if s.Decision != tt.decision {
			t.Errorf("%s: decision %s, want %s", tt.item, s.Decision, tt.decision)
		}
		if tt.records == nil {
			if s.Records != nil {
				t.Errorf("%s: records %v, want null", tt.item, s.Records)
			}
			continue
		}
		if got := sourceIDs(s); fmt.Sprint(got) != fmt.Sprint(tt.records) && !(len(got) == 0 && len(tt.records) == 0) {
			t.Errorf("%s: records %v, want %v", tt.item, got, tt.records)
		}
		if s.Records == nil {
			t.Errorf("%s: visible section with null records", tt.item)
		}
	}
	// No hint of the hidden penalties anywhere in the answer.
	raw, _ := json.Marshal(d)
	// (Record ids are hex and may hold "37": look for the payload itself.)
	for _, hidden := range []string{"pen-ordinary-old", "pen-minor", "OUTSIDE_DISCLOSURE", "7号", `"headcount":37`} {
		if bytes.Contains(raw, []byte(hidden)) {
			t.Errorf("institution's answer mentions %q", hidden)
		}
	}
	pen := secs["admin.penalty"].Records[0]
	if pen.Source != "NDRC" || pen.Data["severity"] != "serious" || pen.Data["amount"] != float64(200000) || len(pen.Annotations) != 0 {
		t.Fatalf("penalty record = %+v", pen)
	}
}

func TestSubjectSeesEverythingAnnotated(t *testing.T) {
	e := newEnv(t, envOptions{})
	f := e.load(t)
	var d enterpriseData
	e.ok(e.do(e.enterprise(f.company), sectionsQuery, map[string]any{"u": f.company}), &d)
	secs := bySection(t, d)
	pen := secs["admin.penalty"]
	if len(pen.Records) != 3 {
		t.Fatalf("subject sees %d penalties, want 3", len(pen.Records))
	}
	anns := map[string][]string{}
	for _, r := range pen.Records {
		anns[r.SourceID] = r.Annotations
	}
	if fmt.Sprint(anns["pen-ordinary-old"]) != "[OUTSIDE_DISCLOSURE]" || fmt.Sprint(anns["pen-minor"]) != "[OUTSIDE_DISCLOSURE]" || len(anns["pen-serious"]) != 0 {
		t.Fatalf("annotations = %v", anns)
	}
	for item, want := range map[string]string{"tax.credit_rating": "VISIBLE", "social_insurance.headcount": "VISIBLE", "tax.invoice_detail": "VISIBLE", "real_estate.ownership": "UNAVAILABLE"} {
		if secs[item].Decision != want {
			t.Errorf("%s: subject decision %s, want %s", item, secs[item].Decision, want)
		}
	}
	if hc := secs["social_insurance.headcount"].Records; len(hc) != 1 || hc[0].Data["headcount"] != float64(37) {
		t.Fatalf("subject's headcount = %+v", hc)
	}
	if r := secs["real_estate.ownership"].Reason; r == nil || !contains(*r, "provider") {
		t.Fatalf("provider_verify reason = %v", r)
	}

	// Another enterprise may not read it, and learns nothing from the refusal.
	other := e.do(e.enterprise(f.shop), sectionsQuery, map[string]any{"u": f.company})
	e.wantCode(other, "FORBIDDEN")
	missing := e.do(e.enterprise(f.shop), sectionsQuery, map[string]any{"u": code(t, "91210102MA0YYYYY0")})
	e.wantCode(missing, "FORBIDDEN")
	if other.Errors[0].Message != missing.Errors[0].Message {
		t.Fatalf("refusals differ between an existing and a missing enterprise: %q vs %q", other.Errors[0].Message, missing.Errors[0].Message)
	}
}

func TestListingsEnd(t *testing.T) {
	e := newEnv(t, envOptions{})
	f := e.load(t)
	var d enterpriseData
	e.ok(e.do(e.token(auth.RoleInstitution, "DEMO-GUARANTOR"), sectionsQuery, map[string]any{"u": f.shop, "p": "GUARANTEE_SCREENING", "items": []string{"court.dishonest_debtor"}}), &d)
	if got := sourceIDs(bySection(t, d)["court.dishonest_debtor"]); fmt.Sprint(got) != "[dd-2]" {
		t.Fatalf("institution sees listings %v, want only the active one", got)
	}
}

func TestProviderAndOperatorViews(t *testing.T) {
	e := newEnv(t, envOptions{})
	f := e.load(t)
	var d enterpriseData
	e.ok(e.do(e.provider("TAX"), sectionsQuery, map[string]any{"u": f.company}), &d)
	secs := bySection(t, d)
	if secs["tax.credit_rating"].Decision != "VISIBLE" || len(secs["tax.credit_rating"].Records) != 1 {
		t.Fatalf("TAX on its own item: %+v", secs["tax.credit_rating"])
	}
	if secs["admin.penalty"].Decision != "DENIED" || secs["admin.penalty"].Records != nil {
		t.Fatalf("TAX on another's item: %+v", secs["admin.penalty"])
	}
	d = enterpriseData{}
	e.ok(e.do(e.operator(), sectionsQuery, map[string]any{"u": f.company}), &d)
	if got := len(bySection(t, d)["admin.penalty"].Records); got != 3 {
		t.Fatalf("operator sees %d penalties", got)
	}
}

func TestRequestErrors(t *testing.T) {
	e := newEnv(t, envOptions{})
	f := e.load(t)
	tests := []struct {
		name  string
		token string
		query string
		vars  map[string]any
		code  string
	}{
		{"wrong check character", e.bank(), sectionsQuery, map[string]any{"u": badCheck(f.company), "p": "CREDIT_REVIEW"}, "BAD_USCC"},
		{"wrong check character inline", e.bank(), `{ enterprise(uscc: "` + badCheck(f.company) + `", purpose: CREDIT_REVIEW) { name } }`, nil, "BAD_USCC"},
		{"too short", e.bank(), sectionsQuery, map[string]any{"u": "9121", "p": "CREDIT_REVIEW"}, "BAD_USCC"},
		{"no purpose", e.bank(), sectionsQuery, map[string]any{"u": f.company}, "PURPOSE_REQUIRED"},
		{"no purpose for a search", e.bank(), `{ enterprises(name: "沈阳") { edges { node { name } } } }`, nil, "PURPOSE_REQUIRED"},
		{"no purpose for a report", e.bank(), `query($u: USCC!) { creditReport(uscc: $u) { id } }`, map[string]any{"u": f.company}, "PURPOSE_REQUIRED"},
		{"unknown item", e.bank(), `query($u: USCC!) { enterprise(uscc: $u, purpose: LOAN_APPLICATION) { section(item: "tax.secret") { decision } } }`, map[string]any{"u": f.company}, "BAD_INPUT"},
		{"report on a missing enterprise", e.bank(), `query($u: USCC!) { creditReport(uscc: $u, purpose: LOAN_APPLICATION) { id } }`, map[string]any{"u": code(t, "91210102MA0YYYYY0")}, "NOT_FOUND"},
		{"suspended institution", e.token(auth.RoleInstitution, "DEMO-SUSPENDED"), sectionsQuery, map[string]any{"u": f.company, "p": "CREDIT_REVIEW"}, "INSTITUTION_SUSPENDED"},
		{"unknown institution", e.token(auth.RoleInstitution, "NOBODY-BANK"), sectionsQuery, map[string]any{"u": f.company, "p": "CREDIT_REVIEW"}, "FORBIDDEN"},
		{"unknown provider", e.token(auth.RoleProvider, "NOBODY"), `{ catalog { code } }`, nil, "FORBIDDEN"},
		{"no token", "", `{ catalog { code } }`, nil, "UNAUTHENTICATED"},
		{"garbage token", "not-a-jwt", `{ catalog { code } }`, nil, "UNAUTHENTICATED"},
		{"syntax error", e.bank(), `{ catalog { code }`, nil, "GRAPHQL_PARSE_FAILED"},
		{"unknown field", e.bank(), `{ catalog { colour } }`, nil, "GRAPHQL_VALIDATION_FAILED"},
		{"enterprise submits", e.enterprise(f.company), submitMutation, map[string]any{"item": "self.reported", "records": []any{}}, "FORBIDDEN"},
		{"provider submits another's item", e.provider("TAX"), submitMutation, map[string]any{"item": "admin.penalty", "records": []any{}}, "FORBIDDEN"},
		{"provider submits a live item", e.provider("TAX"), submitMutation, map[string]any{"item": "tax.payment", "records": []any{}}, "BAD_INPUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.token, tt.query, tt.vars)
			e.wantCode(r, tt.code)
			if contains(string(r.Data), "沈阳示范") {
				t.Fatalf("refused request disclosed data: %s", r.Data)
			}
		})
	}
	// An enterprise that does not exist is null for an institution, not an error.
	var d enterpriseData
	e.ok(e.do(e.bank(), sectionsQuery, map[string]any{"u": code(t, "91210102MA0YYYYY0"), "p": "CREDIT_REVIEW"}), &d)
	if d.Enterprise != nil {
		t.Fatal("missing enterprise is not null")
	}
}

func TestSubmitSemantics(t *testing.T) {
	e := newEnv(t, envOptions{})
	f := e.load(t)
	count := func() int {
		var n int
		if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM records`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	batch := []map[string]any{
		rec("lic-a", f.company, "2025-01-01", map[string]any{"licence_no": "A"}),
		rec("lic-b", badCheck(f.company), "2025-01-01", map[string]any{"licence_no": "B"}),
		rec("lic-c", f.shop, "2025-02-30", map[string]any{"licence_no": "C"}),
		rec("lic-d", code(t, "91210102MA0YYYYY0"), "2025-01-01", map[string]any{"licence_no": "D"}),
		rec("lic-e", f.coop, "2025-03-01", map[string]any{"licence_no": "E"}),
	}
	res := e.submit("NDRC", "admin.licence", batch).SubmitRecords
	if res.Accepted != 2 || len(res.Rejected) != 3 {
		t.Fatalf("first submit: %+v", res)
	}
	reasons := map[string]string{}
	for _, r := range res.Rejected {
		reasons[r.SourceID] = fmt.Sprintf("row %d: %s", r.Row, r.Reason)
	}
	for id, want := range map[string]string{"lic-b": "row 2", "lic-c": "row 3", "lic-d": "unknown enterprise"} {
		if !contains(reasons[id], want) {
			t.Errorf("%s rejected as %q, want it to mention %q", id, reasons[id], want)
		}
	}
	if !contains(reasons["lic-b"], "check character") || !contains(reasons["lic-c"], "occurredOn") {
		t.Errorf("reasons do not name the problem: %v", reasons)
	}
	if count() != before+2 {
		t.Fatalf("records %d, want %d", count(), before+2)
	}
	// The same rows again: nothing new.
	res = e.submit("NDRC", "admin.licence", batch).SubmitRecords
	if res.Accepted != 0 || res.Duplicates != 2 || len(res.Rejected) != 3 || count() != before+2 {
		t.Fatalf("resubmit: %+v, records %d", res, count())
	}
	// A changed row is a correction; the subject sees version 2.
	res = e.submit("NDRC", "admin.licence", []map[string]any{rec("lic-a", f.company, "2025-01-01", map[string]any{"licence_no": "A-2"})}).SubmitRecords
	if res.Updated != 1 || res.Accepted != 0 {
		t.Fatalf("correction: %+v", res)
	}
	var d enterpriseData
	e.ok(e.do(e.enterprise(f.company), sectionsQuery, map[string]any{"u": f.company, "items": []string{"admin.licence"}}), &d)
	for _, r := range bySection(t, d)["admin.licence"].Records {
		if r.SourceID == "lic-a" && (r.Version != 2 || r.Data["licence_no"] != "A-2") {
			t.Fatalf("corrected record = %+v", r)
		}
	}
	// The same source id for another enterprise is refused.
	res = e.submit("NDRC", "admin.licence", []map[string]any{rec("lic-a", f.shop, "2025-01-01", map[string]any{"licence_no": "A"})}).SubmitRecords
	if len(res.Rejected) != 1 {
		t.Fatalf("moved source id: %+v", res)
	}
	// More than 1,000 rows are refused as a whole.
	big := make([]map[string]any, 1001)
	for i := range big {
		big[i] = rec(fmt.Sprintf("x-%d", i), f.company, "2025-01-01", map[string]any{"n": i})
	}
	e.wantCode(e.do(e.provider("NDRC"), submitMutation, map[string]any{"item": "admin.licence", "records": big}), "BAD_INPUT")
}

const reportQuery = `query($u: USCC!, $p: Purpose) {
  creditReport(uscc: $u, purpose: $p) { id generatedAt purpose enterprise { uscc name }
    sections { item { code } decision records { sourceId annotations } } }
}`

func TestCreditReport(t *testing.T) {
	e := newEnv(t, envOptions{})
	f := e.load(t)
	tok := e.bank()
	// The first write of the month also makes sure its usage partition exists; count a
	// steady-state report: the institution check, the reads, the usage log's commit.
	e.ok(e.do(tok, reportQuery, map[string]any{"u": f.shop, "p": "CREDIT_REVIEW"}), nil)
	e.trips.n.Store(0)
	r := e.do(tok, reportQuery, map[string]any{"u": f.company, "p": "CREDIT_REVIEW"})
	trips := e.trips.n.Load()
	var d struct {
		CreditReport struct {
			ID          string
			GeneratedAt time.Time
			Purpose     string
			Enterprise  struct{ Uscc, Name string }
			Sections    []section
		}
	}
	e.ok(r, &d)
	rep := d.CreditReport
	if rep.ID == "" || !rep.GeneratedAt.Equal(now) || rep.Purpose != "CREDIT_REVIEW" || rep.Enterprise.Uscc != f.company {
		t.Fatalf("report header = %+v", rep)
	}
	if len(rep.Sections) != 30 {
		t.Fatalf("report has %d sections, want every catalog item", len(rep.Sections))
	}
	secs := map[string]section{}
	for _, s := range rep.Sections {
		secs[s.Item.Code] = s
	}
	if got := sourceIDs(secs["admin.penalty"]); fmt.Sprint(got) != "[pen-serious]" {
		t.Fatalf("report penalties %v", got)
	}
	if secs["tax.credit_rating"].Decision != "NEEDS_GRANT" || secs["tax.credit_rating"].Records != nil {
		t.Fatalf("report tax.credit_rating = %+v", secs["tax.credit_rating"])
	}
	if trips > 3 {
		t.Fatalf("report took %d database round trips, want at most 3", trips)
	}
	if trips < 1 {
		t.Fatal("round-trip counter saw nothing; is the tracer wired?")
	}
	// A second report has its own id.
	var d2 struct{ CreditReport struct{ ID string } }
	e.ok(e.do(tok, reportQuery, map[string]any{"u": f.company, "p": "CREDIT_REVIEW"}), &d2)
	if d2.CreditReport.ID == rep.ID {
		t.Fatal("two reports share an id")
	}
}

func TestSearch(t *testing.T) {
	e := newEnv(t, envOptions{})
	f := e.load(t)
	q := `query($n: String, $r: String, $i: String, $first: Int, $after: String) {
	  enterprises(name: $n, region: $r, industry: $i, purpose: CREDIT_REVIEW, first: $first, after: $after) {
	    edges { cursor node { uscc name sections(items: ["registration.basic"]) { records { sourceId } } } } pageInfo { hasNextPage endCursor } } }`
	type page struct {
		Enterprises struct {
			Edges []struct {
				Cursor string
				Node   struct {
					Uscc, Name string
					Sections   []section
				}
			}
			PageInfo struct {
				HasNextPage bool
				EndCursor   *string
			}
		}
	}
	names := func(p page) []string {
		var out []string
		for _, e := range p.Enterprises.Edges {
			out = append(out, e.Node.Name)
		}
		return out
	}
	tests := []struct {
		name string
		vars map[string]any
		want []string
	}{
		{"chinese substring", map[string]any{"n": "精密机械"}, []string{"沈阳示范精密机械有限公司"}},
		{"two characters", map[string]any{"n": "餐馆"}, []string{"大连中山区张记餐馆"}},
		{"one character", map[string]any{"n": "社"}, []string{"康平县绿野种植专业合作社"}},
		{"region prefix", map[string]any{"r": "2101"}, []string{"沈阳示范精密机械有限公司", "康平县绿野种植专业合作社"}},
		{"industry", map[string]any{"i": "C34"}, []string{"沈阳示范精密机械有限公司"}},
		{"name and region", map[string]any{"n": "有限", "r": "2102"}, nil},
		{"like wildcards are literal", map[string]any{"n": "%"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p page
			e.ok(e.do(e.bank(), q, tt.vars), &p)
			if fmt.Sprint(names(p)) != fmt.Sprint(tt.want) && !(len(tt.want) == 0 && len(names(p)) == 0) {
				t.Fatalf("got %v, want %v", names(p), tt.want)
			}
		})
	}
	// Pagination walks every enterprise once, in code order, and sections load per node.
	var seen []string
	var after any
	for i := 0; i < 5; i++ {
		var p page
		e.ok(e.do(e.bank(), q, map[string]any{"first": 2, "after": after}), &p)
		for _, ed := range p.Enterprises.Edges {
			seen = append(seen, ed.Node.Uscc)
			if len(ed.Node.Sections) != 1 || len(ed.Node.Sections[0].Records) != 1 {
				t.Fatalf("sections of %s = %+v", ed.Node.Uscc, ed.Node.Sections)
			}
		}
		if !p.Enterprises.PageInfo.HasNextPage {
			break
		}
		after = *p.Enterprises.PageInfo.EndCursor
	}
	want := []string{f.company, f.shop, f.coop}
	if fmt.Sprint(seen) != fmt.Sprint(sortedCopy(want)) {
		t.Fatalf("pages gave %v, want %v", seen, sortedCopy(want))
	}
	e.wantCode(e.do(e.bank(), q, map[string]any{"after": "!!not-a-cursor"}), "BAD_INPUT")
	e.wantCode(e.do(e.bank(), q, map[string]any{"first": 1000}), "BAD_INPUT")
	e.wantCode(e.do(e.enterprise(f.company), `{ enterprises(name: "沈阳") { edges { cursor } } }`, nil), "FORBIDDEN")
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestTransportRefusals(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.bank()
	secret := `{"query":"{ catalog { code } }","secret":"s3cr3t-in-body"}`
	tests := []struct {
		name, method, ctype string
		body                string
	}{
		{"GET", http.MethodGet, "", ""},
		{"form", http.MethodPost, "application/x-www-form-urlencoded", "query=%7Bcatalog%7Bcode%7D%7D&s3cr3t-in-body"},
		{"multipart", http.MethodPost, "multipart/form-data; boundary=x", "--x\r\n\r\ns3cr3t-in-body\r\n--x--"},
		{"batch", http.MethodPost, "application/json", `[` + secret + `,` + secret + `]`},
		{"not json", http.MethodPost, "application/json", `{"query": s3cr3t-in-body`},
		{"no query", http.MethodPost, "application/json", `{"variables":{"s3cr3t-in-body":1}}`},
		{"graphql body", http.MethodPost, "application/graphql", `{ catalog { code } } # s3cr3t-in-body`},
		{"too large", http.MethodPost, "application/json", `{"query":"{ catalog { code } }","variables":{"pad":"` + strings.Repeat("x", 2<<20) + `s3cr3t-in-body"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.raw(tt.method, tt.ctype, tok, []byte(tt.body))
			if r.Status < 400 || r.Status > 499 {
				t.Fatalf("status %d, want 4xx", r.Status)
			}
			e.wantCode(r, "BAD_REQUEST")
			if contains(r.Errors[0].Message, "s3cr3t") {
				t.Fatalf("refusal echoes the body: %q", r.Errors[0].Message)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	lim := server.DefaultLimits()
	lim.MaxDepth = 4
	lim.MaxComplexity = 50
	lim.MaxTokens = 200
	e := newEnv(t, envOptions{limits: &lim})
	tok := e.operator()
	f := e.load(t)
	deep := `query($u: USCC!) { enterprise(uscc: $u) { sections { item { code } records { id } } } }`
	e.ok(e.do(tok, deep, map[string]any{"u": f.company}), nil)
	deeper := `query($u: USCC!) { enterprise(uscc: $u) { sections { ...S } } } fragment S on Section { records { id } item { code } decision }`
	e.ok(e.do(tok, deeper, map[string]any{"u": f.company}), nil)
	tooDeep := `query($u: USCC!) { creditReport(uscc: $u) { enterprise { sections { item { code } } } } }`
	e.wantCode(e.do(tok, tooDeep, map[string]any{"u": f.company}), "GRAPHQL_VALIDATION_FAILED")
	many := `{ a: catalog { code } b: catalog { code } c: catalog { code } d: catalog { code } e: catalog { code } f: catalog { code } g: catalog { code } h: catalog { code } i: catalog { code } j: catalog { code } k: catalog { code } l: catalog { code } m: catalog { code } n: catalog { code } o: catalog { code } p: catalog { code } q: catalog { code } r: catalog { code } s: catalog { code } t: catalog { code } u: catalog { code } v: catalog { code } w: catalog { code } x: catalog { code } y: catalog { code } z: catalog { code } }`
	e.wantCode(e.do(tok, many, nil), "COMPLEXITY_LIMIT_EXCEEDED")
	e.wantCode(e.do(tok, "{ catalog { "+strings.Repeat("code ", 250)+"} }", nil), "GRAPHQL_PARSE_FAILED")
}

func TestIntrospectionAndSuggestions(t *testing.T) {
	prod := newEnv(t, envOptions{})
	r := prod.do(prod.bank(), `{ __schema { types { name } } }`, nil)
	prod.wantCode(r, "GRAPHQL_VALIDATION_FAILED")
	r = prod.do(prod.bank(), `{ catalo { code } }`, nil)
	prod.wantCode(r, "GRAPHQL_VALIDATION_FAILED")
	if contains(r.Errors[0].Message, "Did you mean") {
		t.Fatalf("production suggests fields: %q", r.Errors[0].Message)
	}
	dev := newEnv(t, envOptions{development: true})
	dev.ok(dev.do(dev.bank(), `{ __schema { types { name } } }`, nil), nil)
}

func TestForeignTokens(t *testing.T) {
	e := newEnv(t, envOptions{})
	other, err := auth.LoadKeys(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := auth.Mint(other, auth.MintParams{Role: auth.RoleOperator, Org: "PLATFORM", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{"iss": "creditd", "aud": "creditd-api", "sub": "x", "role": "OPERATOR", "org": "PLATFORM", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	hs.Header["typ"] = "at+jwt"
	hs.Header["kid"] = e.keys.SigningKID()
	hsTok, err := hs.SignedString(e.keys.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	none := jwt.NewWithClaims(jwt.SigningMethodNone, claims)
	none.Header["typ"] = "at+jwt"
	noneTok, err := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	receipt, err := e.keys.Sign(auth.TypeGrantReceipt, claims)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := auth.Mint(e.keys, auth.MintParams{Role: auth.RoleOperator, Org: "PLATFORM", Now: now.Add(-2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"other key": foreign, "HS256 with the public key": hsTok, "alg none": noneTok, "grant receipt": receipt, "expired": expired} {
		t.Run(name, func(t *testing.T) {
			r := e.do(tok, `{ catalog { code } }`, nil)
			if r.Status != http.StatusUnauthorized {
				t.Fatalf("status %d", r.Status)
			}
			e.wantCode(r, "UNAUTHENTICATED")
		})
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, envOptions{ratePerMin: 3})
	// A per-test organization keeps other runs' counters apart.
	org := fmt.Sprintf("RL-%d", time.Now().UnixNano())
	tok := e.token(auth.RoleOperator, org)
	codes := []string{}
	for i := 0; i < 5; i++ {
		codes = append(codes, e.do(tok, `{ catalog { code } }`, nil).code())
	}
	if fmt.Sprint(codes) != "[   RATE_LIMITED RATE_LIMITED]" {
		t.Fatalf("codes %q", codes)
	}
}

func TestProbesAndKeys(t *testing.T) {
	e := newEnv(t, envOptions{})
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/.well-known/jwks.json": 200, "/": 404} {
		resp, err := e.client.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, want)
		}
	}
	resp, err := e.client.Get(e.srv.URL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	pub, err := auth.ParseJWKS(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := auth.NewVerifier(pub, auth.VerifierOptions{Now: func() time.Time { return now }}).Verify(e.bank()); err != nil {
		t.Fatalf("a token does not verify against the published keys: %v", err)
	}
	// Readiness fails once the schema is behind the binary.
	if _, err := e.pool.Exec(context.Background(), `DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)`); err != nil {
		t.Fatal(err)
	}
	resp2, err := e.client.Get(e.srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz with a missing migration = %d", resp2.StatusCode)
	}
}

func TestCatalogQuery(t *testing.T) {
	e := newEnv(t, envOptions{})
	var d struct {
		Catalog []struct {
			Code, Provider, Access, Mode, Disclosure string
			Verifiable                               []string
		}
	}
	e.ok(e.do(e.bank(), `{ catalog { code provider access mode disclosure verifiable } }`, nil), &d)
	got := map[string]string{}
	for _, c := range d.Catalog {
		got[c.Code] = c.Access + "/" + c.Mode + "/" + c.Disclosure
	}
	for code, want := range map[string]string{
		"admin.penalty":         "PUBLIC/COLLECTED/minor:P0D ordinary:P1Y serious:P3Y",
		"tax.payment":           "AUTHORIZED/PROVIDER_API/P3Y",
		"real_estate.ownership": "VERIFY_ONLY/PROVIDER_VERIFY/always",
		"tax.invoice_detail":    "MODEL_ONLY/COLLECTED/P3Y",
	} {
		if got[code] != want {
			t.Errorf("%s = %q, want %q", code, got[code], want)
		}
	}
}
