package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"creditd/internal/catalog"
	"creditd/internal/uscc"
)

var asOf = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)

func testCode(t testing.TB, i int) string {
	t.Helper()
	// spread over Liaoning's cities and a Beijing code
	regions := []string{"210102", "210203", "210302", "211402", "110105"}
	c, err := uscc.Complete(fmt.Sprintf("91%s%09d", regions[i%len(regions)], i))
	if err != nil {
		t.Fatal(err)
	}
	return string(c)
}

func records(t testing.TB, item, code string, asOf time.Time) []Record {
	t.Helper()
	recs, ok := Records(item, code, asOf)
	if !ok {
		t.Fatalf("item %s not served", item)
	}
	return recs
}

func TestDeterministic(t *testing.T) {
	for _, it := range Items() {
		t.Run(it.Code, func(t *testing.T) {
			distinct := map[string]bool{}
			for i := range 30 {
				c := testCode(t, i)
				a, b := records(t, it.Code, c, asOf), records(t, it.Code, c, asOf)
				if !reflect.DeepEqual(a, b) {
					t.Fatalf("%s: two calls differ", c)
				}
				j, _ := json.Marshal(a)
				distinct[string(j)] = true
			}
			if len(distinct) < 20 {
				t.Fatalf("30 enterprises share %d distinct data sets: the USCC does not drive the data", len(distinct))
			}
		})
	}
}

// A record dated on or before an as-of date does not change when a later date is asked.
func TestStableAcrossAsOf(t *testing.T) {
	later := time.Date(2026, 6, 20, 0, 0, 0, 0, time.UTC)
	for _, it := range Items() {
		t.Run(it.Code, func(t *testing.T) {
			shared := 0
			for i := range 30 {
				c := testCode(t, i)
				byID := map[string]Record{}
				for _, r := range records(t, it.Code, c, later) {
					byID[r.SourceID] = r
				}
				for _, r := range records(t, it.Code, c, asOf) {
					if l, ok := byID[r.SourceID]; ok {
						shared++
						if !reflect.DeepEqual(l, r) {
							t.Fatalf("%s: record %s differs between as-of dates: %v / %v", c, r.SourceID, r, l)
						}
					}
				}
			}
			if shared == 0 {
				t.Fatal("no record is shared between the two as-of dates")
			}
		})
	}
}

func TestShapes(t *testing.T) {
	periodRE := regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])$`)
	certRE := regexp.MustCompile(`^\p{Han}\((\d{4})\)(\p{Han}+市)?不动产权第\d{7}号$`)
	var noFund, noEstate, estate int
	const n = 200
	for i := range n {
		c := testCode(t, i)
		all := map[string][]Record{}
		for _, it := range Items() {
			recs := records(t, it.Code, c, asOf)
			all[it.Code] = recs
			ids := map[string]bool{}
			for _, r := range recs {
				if r.OccurredOn > asOf.Format(time.DateOnly) {
					t.Fatalf("%s %s: record dated %s after the as-of date", c, it.Code, r.OccurredOn)
				}
				if _, err := time.Parse(time.DateOnly, r.OccurredOn); err != nil {
					t.Fatalf("%s %s: occurredOn %q", c, it.Code, r.OccurredOn)
				}
				if ids[r.SourceID] {
					t.Fatalf("%s %s: sourceId %s twice", c, it.Code, r.SourceID)
				}
				ids[r.SourceID] = true
				for k := range r.Data {
					if !slices.Contains(it.Fields, k) {
						t.Fatalf("%s %s: field %s not in the item's fields %v", c, it.Code, k, it.Fields)
					}
				}
			}
		}

		// tax: the last 12 monthly periods, VAT and withheld IIT each month, CIT each quarter
		periods := map[string][]string{}
		for _, r := range all["tax.payment"] {
			p := r.Data["period"].(string)
			if !periodRE.MatchString(p) || r.Data["amount"].(float64) <= 0 {
				t.Fatalf("%s tax: %v", c, r)
			}
			if paid := r.OccurredOn[:7]; paid <= p {
				t.Fatalf("%s tax: period %s paid on %s", c, p, r.OccurredOn)
			}
			periods[p] = append(periods[p], r.Data["tax_type"].(string))
		}
		if len(periods) != 12 {
			t.Fatalf("%s tax: %d periods, want 12", c, len(periods))
		}
		for p, kinds := range periods {
			slices.Sort(kinds)
			want := []string{"individual_income_withheld", "vat"}
			if m := p[5:]; m == "03" || m == "06" || m == "09" || m == "12" {
				want = []string{"corporate_income", "individual_income_withheld", "vat"}
			}
			if !slices.Equal(kinds, want) {
				t.Fatalf("%s tax period %s: %v, want %v", c, p, kinds, want)
			}
		}

		// housing fund: none, or up to 12 consecutive months with months_paid counting up
		hf := all["housing_fund.payment"]
		if len(hf) == 0 {
			noFund++
		}
		for j, r := range hf {
			if r.Data["employees"].(int) < 1 || r.Data["amount"].(float64) <= 0 {
				t.Fatalf("%s housing fund: %v", c, r)
			}
			if j > 0 && r.Data["months_paid"].(int) != hf[j-1].Data["months_paid"].(int)+1 {
				t.Fatalf("%s housing fund: months_paid %v after %v", c, r.Data["months_paid"], hf[j-1].Data["months_paid"])
			}
		}
		if len(hf) > 12 {
			t.Fatalf("%s housing fund: %d months", c, len(hf))
		}

		// electricity: 12 monthly bills, amount = kwh × a plausible price
		el := all["utility.electricity"]
		if len(el) != 12 {
			t.Fatalf("%s electricity: %d months, want 12", c, len(el))
		}
		for _, r := range el {
			kwh, amount := float64(r.Data["kwh"].(int)), r.Data["amount"].(float64)
			if kwh <= 0 || amount/kwh < 0.5 || amount/kwh > 1 || !periodRE.MatchString(r.Data["month"].(string)) {
				t.Fatalf("%s electricity: %v", c, r)
			}
		}

		// real estate: certificates in the national format, dated in their year
		re := all["real_estate.ownership"]
		if len(re) == 0 {
			noEstate++
		} else {
			estate++
		}
		for _, r := range re {
			m := certRE.FindStringSubmatch(r.Data["certificate_no"].(string))
			if m == nil || m[1] != r.OccurredOn[:4] || r.Data["area_m2"].(float64) <= 0 {
				t.Fatalf("%s real estate: %v", c, r)
			}
			if strings.HasPrefix(c[2:], "2101") && !strings.Contains(r.Data["certificate_no"].(string), "辽(") {
				t.Fatalf("%s real estate: a Shenyang enterprise's certificate %v", c, r.Data["certificate_no"])
			}
		}
	}
	if noFund < n/20 || noFund > n/3 {
		t.Errorf("%d of %d enterprises have no housing fund account", noFund, n)
	}
	if noEstate < n/10 || estate < n/2 {
		t.Errorf("%d of %d enterprises own nothing, %d own something", noEstate, n, estate)
	}
}

func TestCatalogAgreement(t *testing.T) {
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]Item{}
	for _, it := range Items() {
		served[it.Code] = it
		ci, ok := cat.Item(it.Code)
		if !ok {
			t.Errorf("simulated item %s is not in the catalog", it.Code)
			continue
		}
		if ci.Provider != it.Provider || string(ci.Mode) != string(it.Mode) {
			t.Errorf("item %s: simulated as %s/%s, catalog says %s/%s", it.Code, it.Provider, it.Mode, ci.Provider, ci.Mode)
		}
		for _, f := range ci.Verifiable {
			if !slices.Contains(it.Fields, f) {
				t.Errorf("item %s: verifiable field %s is not simulated", it.Code, f)
			}
		}
	}
	for _, ci := range cat.Items() {
		if ci.Mode == catalog.ProviderAPI || ci.Mode == catalog.ProviderVerify {
			if _, ok := served[ci.Code]; !ok {
				t.Errorf("catalog item %s (%s) is not simulated", ci.Code, ci.Mode)
			}
		}
	}
}

func TestEvaluate(t *testing.T) {
	it, _ := findItem("NRA", "real_estate.ownership")
	recs := []Record{
		{SourceID: "b", OccurredOn: "2020-05-01", Data: map[string]any{"area_m2": 150.5, "certificate_no": "辽(2020)沈阳市不动产权第0000002号", "usage": "办公"}},
		{SourceID: "a", OccurredOn: "2015-05-01", Data: map[string]any{"area_m2": 900.0, "certificate_no": "辽(2015)沈阳市不动产权第0000001号", "usage": "工业"}},
	}
	for _, tc := range []struct {
		field, op, value string
		recs             []Record
		want             string
		wantErr          bool
	}{
		{"area_m2", "GE", "150.5", recs, "MATCH", false},
		{"area_m2", "GE", "150.51", recs, "NO_MATCH", false}, // the older, larger property does not count
		{"area_m2", "LE", "150.5", recs, "MATCH", false},
		{"area_m2", "LE", " 150 ", recs, "NO_MATCH", false},
		{"area_m2", "EQ", "150.50", recs, "MATCH", false},
		{"area_m2", "EQ", "abc", recs, "NO_MATCH", false},
		{"certificate_no", "EQ", "辽(2020)沈阳市不动产权第0000002号", recs, "MATCH", false},
		{"certificate_no", "EQ", "辽(2015)沈阳市不动产权第0000001号", recs, "NO_MATCH", false},
		{"certificate_no", "LE", "5", recs, "UNAVAILABLE", false},
		{"city", "EQ", "沈阳市", recs, "UNAVAILABLE", false}, // field absent from the record
		{"area_m2", "GE", "1", nil, "UNAVAILABLE", false},
		{"area_m2", "GE", "big", recs, "", true},
		{"area_m2", "GE", "NaN", recs, "", true},
		{"area_m2", "GT", "1", recs, "", true},
		{"owner", "EQ", "x", recs, "", true},
	} {
		got, err := Evaluate(it, tc.recs, tc.field, tc.op, tc.value)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("%s %s %q: got %q, %v; want %q (error %v)", tc.field, tc.op, tc.value, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestHandler(t *testing.T) {
	h, err := NewHandler(Options{AsOf: asOf, Secret: "k"})
	if err != nil {
		t.Fatal(err)
	}
	c := testCode(t, 1)
	verifyBody := func(extra string) string {
		return `{"uscc":"` + c + `","field":"area_m2","op":"GE","value":"10"` + extra + `}`
	}
	for _, tc := range []struct {
		name, method, target, auth, body string
		status                           int
		want                             string // substring of the body
	}{
		{"health", "GET", "/healthz", "", "", 200, `"ok"`},
		{"index", "GET", "/", "", "", 200, `"TAX":[{"item":"tax.payment","mode":"provider_api"}]`},
		{"records", "GET", "/TAX/v1/items/tax.payment/records?uscc=" + c, "Bearer k", "", 200, `"records":[{"sourceId":`},
		{"lower-case uscc", "GET", "/GRID/v1/items/utility.electricity/records?uscc=" + strings.ToLower(c), "Bearer k", "", 200, `"kwh"`},
		{"no secret", "GET", "/TAX/v1/items/tax.payment/records?uscc=" + c, "", "", 401, `"unauthorized"`},
		{"wrong secret", "GET", "/TAX/v1/items/tax.payment/records?uscc=" + c, "Bearer x", "", 401, `"unauthorized"`},
		{"no uscc", "GET", "/TAX/v1/items/tax.payment/records", "Bearer k", "", 400, `uscc`},
		{"two uscc", "GET", "/TAX/v1/items/tax.payment/records?uscc=" + c + "&uscc=" + c, "Bearer k", "", 400, `uscc`},
		{"bad uscc", "GET", "/TAX/v1/items/tax.payment/records?uscc=91210102000000001X", "Bearer k", "", 400, `bad uscc`},
		{"unknown provider", "GET", "/ACME/v1/items/tax.payment/records?uscc=" + c, "Bearer k", "", 404, `unknown provider`},
		{"unknown item", "GET", "/TAX/v1/items/tax.nothing/records?uscc=" + c, "Bearer k", "", 404, `unknown item`},
		{"another provider's item", "GET", "/HF/v1/items/tax.payment/records?uscc=" + c, "Bearer k", "", 404, `unknown item`},
		{"records of a verify-only item", "GET", "/NRA/v1/items/real_estate.ownership/records?uscc=" + c, "Bearer k", "", 404, `unknown item`},
		{"POST records", "POST", "/TAX/v1/items/tax.payment/records?uscc=" + c, "Bearer k", "", 405, `method`},
		{"GET verify", "GET", "/NRA/v1/items/real_estate.ownership/verify", "Bearer k", "", 405, `method`},
		{"verify", "POST", "/NRA/v1/items/real_estate.ownership/verify", "Bearer k", verifyBody(""), 200, `"result":"`},
		{"verify extra field", "POST", "/NRA/v1/items/real_estate.ownership/verify", "Bearer k", verifyBody(`,"purpose":"x"`), 400, `body`},
		{"verify not JSON", "POST", "/NRA/v1/items/real_estate.ownership/verify", "Bearer k", `uscc=1`, 400, `body`},
		{"verify too large", "POST", "/NRA/v1/items/real_estate.ownership/verify", "Bearer k", verifyBody(strings.Repeat(" ", 5000)), 400, `body`},
		{"verify bad uscc", "POST", "/NRA/v1/items/real_estate.ownership/verify", "Bearer k", `{"uscc":"x","field":"area_m2","op":"GE","value":"1"}`, 400, `bad uscc`},
		{"verify unknown field", "POST", "/NRA/v1/items/real_estate.ownership/verify", "Bearer k", `{"uscc":"` + c + `","field":"owner","op":"EQ","value":"1"}`, 400, `unknown field`},
		{"elsewhere", "GET", "/TAX/v2/anything", "", "", 404, `not found`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			req.Header.Set("X-Request-Id", "rid-1")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) {
				t.Fatalf("%d %s, want %d with %s", rec.Code, rec.Body, tc.status, tc.want)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("content type %q", ct)
			}
			if !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("body is not JSON: %s", rec.Body)
			}
			if got := rec.Header().Get("X-Request-Id"); got != "rid-1" {
				t.Fatalf("X-Request-Id %q not echoed", got)
			}
		})
	}
}

func TestHandlerRecordsMatchData(t *testing.T) {
	h, err := NewHandler(Options{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	c := testCode(t, 3)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/HF/v1/items/housing_fund.payment/records?uscc="+c, nil))
	var got struct {
		Records []Record `json:"records"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := records(t, "housing_fund.payment", c, asOf)
	if len(got.Records) != len(want) || got.Records == nil {
		t.Fatalf("got %d records (%s), want %d", len(got.Records), rec.Body, len(want))
	}
	wj, _ := json.Marshal(want)
	gj, _ := json.Marshal(got.Records)
	var wv, gv any
	_ = json.Unmarshal(wj, &wv)
	_ = json.Unmarshal(gj, &gv)
	if !reflect.DeepEqual(wv, gv) {
		t.Fatalf("served %s, want %s", gj, wj)
	}
}

func TestFailRateAndLatency(t *testing.T) {
	c := testCode(t, 1)
	h, err := NewHandler(Options{AsOf: asOf, FailRate: 1})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/TAX/v1/items/tax.payment/records?uscc="+c, nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("fail rate 1: %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("health under fail rate 1: %d", rec.Code)
	}

	// A slow answer is abandoned when the client goes away.
	slow, err := NewHandler(Options{AsOf: asOf, Latency: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	rec = httptest.NewRecorder()
	slow.ServeHTTP(rec, httptest.NewRequest("GET", "/TAX/v1/items/tax.payment/records?uscc="+c, nil).WithContext(ctx))
	if rec.Body.Len() != 0 {
		t.Fatalf("answered a client that is gone: %s", rec.Body)
	}
}

func TestNewHandlerRefuses(t *testing.T) {
	for _, o := range []Options{{FailRate: 1.5}, {FailRate: -0.1}, {FailRate: math.NaN()}, {Latency: -time.Second}} {
		if _, err := NewHandler(o); err == nil {
			t.Errorf("accepted %+v", o)
		}
	}
}

func TestTodayInShanghai(t *testing.T) {
	// 2026-03-09 17:00 UTC is already 2026-03-10 in Shanghai.
	if got := Today(time.Date(2026, 3, 9, 17, 0, 0, 0, time.UTC)); !got.Equal(asOf) {
		t.Fatalf("got %v", got)
	}
}
