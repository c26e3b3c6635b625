package seed

import (
	"bytes"
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"creditd/internal/catalog"
	"creditd/internal/uscc"
)

var testAsOf = time.Date(2026, 5, 15, 0, 0, 0, 0, time.UTC)

func defaultCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func generate(t *testing.T, cat *catalog.Catalog, p Params) *Dataset {
	t.Helper()
	d, err := Generate(cat, p)
	if err != nil {
		t.Fatalf("Generate(%+v): %v", p, err)
	}
	return d
}

// demoSet is the default data set of the tests, generated once per test that asks for it.
func demoSet(t *testing.T) (*catalog.Catalog, *Dataset) {
	cat := defaultCatalog(t)
	return cat, generate(t, cat, Params{Seed: 1, AsOf: testAsOf})
}

func decode(t *testing.T, r Record) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(r.Data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		t.Fatalf("%s: data is not a JSON object: %v (%s)", r.SourceID, err, r.Data)
	}
	return m
}

func recordsOf(d *Dataset, item string, code string) []Record {
	var out []Record
	for _, r := range d.Records(item) {
		if string(r.USCC) == code {
			out = append(out, r)
		}
	}
	return out
}

// latest is the record with the latest occurredOn (the one verification tests).
func latest(t *testing.T, recs []Record) Record {
	t.Helper()
	if len(recs) == 0 {
		t.Fatal("no records")
	}
	l := recs[0]
	for _, r := range recs[1:] {
		if r.OccurredOn.After(l.OccurredOn) {
			l = r
		}
	}
	return l
}

// inWindow reports whether an institution would see r on asOf by the catalog's rules.
func inWindow(t *testing.T, cat *catalog.Catalog, r Record, asOf time.Time) bool {
	t.Helper()
	it, ok := cat.Item(r.Item)
	if !ok {
		t.Fatalf("item %s not in catalog", r.Item)
	}
	if r.OccurredOn.After(asOf) {
		return false
	}
	switch it.Disclosure.Kind {
	case catalog.DiscloseAlways:
		return true
	case catalog.DiscloseWhileListed:
		return r.EndsOn.IsZero() || r.EndsOn.After(asOf)
	case catalog.DiscloseBySeverity:
		sev, _ := decode(t, r)["severity"].(string)
		return it.Disclosure.BySeverity[sev].AddTo(r.OccurredOn).After(asOf)
	default:
		return it.Disclosure.Period.AddTo(r.OccurredOn).After(asOf)
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	cat := defaultCatalog(t)
	a := generate(t, cat, Params{Seed: 42, Enterprises: 300, AsOf: testAsOf})
	b := generate(t, cat, Params{Seed: 42, Enterprises: 300, AsOf: testAsOf})
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed and as-of date gave different data sets")
	}
	// The as-of date is a calendar day in Asia/Shanghai, whatever the time of day given.
	evening := time.Date(2026, 5, 15, 23, 30, 0, 0, shanghai())
	if c := generate(t, cat, Params{Seed: 42, Enterprises: 300, AsOf: evening}); !reflect.DeepEqual(a, c) {
		t.Fatal("another time on the same day in Asia/Shanghai gave a different data set")
	}

	// Enterprises do not depend on the day: seeding again later corrects records.
	afterwards := generate(t, cat, Params{Seed: 42, Enterprises: 300, AsOf: testAsOf.AddDate(0, 7, 3)})
	if !reflect.DeepEqual(a.Enterprises, afterwards.Enterprises) {
		t.Error("the same seed gave other enterprises on another day")
	}

	other := generate(t, cat, Params{Seed: 43, Enterprises: 300, AsOf: testAsOf})
	nf := len(FixtureUSCCs())
	if reflect.DeepEqual(a.Enterprises[nf:], other.Enterprises[nf:]) {
		t.Fatal("different seeds gave the same random enterprises")
	}
	same := 0
	for i := nf; i < 300; i++ {
		if a.Enterprises[i].USCC == other.Enterprises[i].USCC || a.Enterprises[i].Name == other.Enterprises[i].Name {
			same++
		}
	}
	if same > 3 {
		t.Errorf("seeds 42 and 43 share %d of %d enterprise codes or names", same, 300-nf)
	}
	if !reflect.DeepEqual(a.Enterprises[:nf], other.Enterprises[:nf]) {
		t.Error("the fixtures differ between seeds")
	}
}

func TestEnterpriseCodesAreValidAndDistinct(t *testing.T) {
	_, d := demoSet(t)
	if len(d.Enterprises) != DefaultEnterprises {
		t.Fatalf("got %d enterprises, want %d", len(d.Enterprises), DefaultEnterprises)
	}
	regions := newRegionTable()
	category := map[string]byte{SubjectEnterprise: '1', SubjectIndividual: '2', SubjectCooperative: '3'}
	reform := time.Date(2015, 10, 1, 0, 0, 0, 0, time.UTC)
	seen := map[uscc.Code]bool{}
	for _, e := range d.Enterprises {
		code, err := uscc.Parse(string(e.USCC))
		if err != nil || code != e.USCC {
			t.Fatalf("%s (%s): not a valid, normalized USCC: %v", e.USCC, e.Name, err)
		}
		if seen[code] {
			t.Fatalf("%s used twice", code)
		}
		seen[code] = true
		s := string(code)
		if s[0] != '9' || s[1] != category[e.SubjectType] {
			t.Errorf("%s: registration authority and category %q do not fit subject type %s", s, s[:2], e.SubjectType)
		}
		if s[2:8] != e.RegionCode {
			t.Errorf("%s: region part %s, registered region %s", s, s[2:8], e.RegionCode)
		}
		if _, ok := regions.byCode[e.RegionCode]; !ok || !strings.HasPrefix(e.RegionCode, "21") {
			t.Errorf("%s: region %s is not a Liaoning district or county of the table", s, e.RegionCode)
		}
		if got, want := s[16], OrgCodeCheck(s[8:16]); got != want {
			t.Errorf("%s: organization code %s has check character %c, want %c", s, s[8:17], got, want)
		}
		if ma := strings.HasPrefix(s[8:], "MA"); ma != e.EstablishedOn.After(reform) {
			t.Errorf("%s: MA series %v for an entity established %s", s, ma, date(e.EstablishedOn))
		}
	}
}

func TestOrgCodeCheck(t *testing.T) {
	// Worked examples of GB 11714 (weights 3 7 9 10 5 8 4 2, modulus 11).
	tests := []struct {
		body string
		want byte
	}{
		{"00000000", '0'}, // 11 - 0 = 11 → 0
		{"10000000", '8'}, // 11 - 3
		{"D2143569", 'X'}, // (13·3 + 2·7 + 1·9 + 4·10 + 3·5 + 5·8 + 6·4 + 9·2) = 199, 199 mod 11 = 1 → 10 → X
		{"MA0U7RK9", '7'},
	}
	for _, tt := range tests {
		if got := OrgCodeCheck(tt.body); got != tt.want {
			t.Errorf("OrgCodeCheck(%s) = %c, want %c", tt.body, got, tt.want)
		}
	}
}

func TestEnterprisesLookReal(t *testing.T) {
	_, d := demoSet(t)
	industryRE := regexp.MustCompile(`^[A-T]\d{4}$`)
	names := map[string]bool{}
	subjects, sizes := map[string]int{}, map[string]int{}
	for _, e := range d.Enterprises {
		if e.Name == "" || !allHan(e.Name) {
			t.Errorf("%s: name %q is not a Chinese name", e.USCC, e.Name)
		}
		if names[e.Name] {
			t.Errorf("name %s used twice", e.Name)
		}
		names[e.Name] = true
		switch e.SubjectType {
		case SubjectEnterprise:
			if !strings.HasSuffix(e.Name, "公司") {
				t.Errorf("enterprise %s does not end in 公司", e.Name)
			}
		case SubjectCooperative:
			if !strings.HasSuffix(e.Name, "专业合作社") || e.IndustryCode[0] != 'A' {
				t.Errorf("cooperative %s (%s) is not a farmers' cooperative", e.Name, e.IndustryCode)
			}
		case SubjectIndividual:
			r := newRegionTable().byCode[e.RegionCode]
			if !strings.HasPrefix(e.Name, r.Name) || e.Size != "micro" {
				t.Errorf("individual business %s (%s) should start with its district %s and be micro", e.Name, e.Size, r.Name)
			}
		default:
			t.Errorf("%s: subject type %q", e.Name, e.SubjectType)
		}
		subjects[e.SubjectType]++
		sizes[e.Size]++
		if !industryRE.MatchString(e.IndustryCode) {
			t.Errorf("%s: industry code %q is not GB/T 4754 (letter + 4 digits)", e.Name, e.IndustryCode)
		}
		if n := len([]rune(e.LegalRepresentative)); n < 2 || n > 3 || !allHan(e.LegalRepresentative) {
			t.Errorf("%s: legal representative %q", e.Name, e.LegalRepresentative)
		}
		if e.RegisteredCapital <= 0 || e.EstablishedOn.After(testAsOf) || e.Address == "" {
			t.Errorf("%s: capital %d, established %s, address %q", e.Name, e.RegisteredCapital, date(e.EstablishedOn), e.Address)
		}
	}
	for _, s := range []string{SubjectEnterprise, SubjectIndividual, SubjectCooperative} {
		if subjects[s] < 20 {
			t.Errorf("only %d of subject type %s", subjects[s], s)
		}
	}
	for _, s := range []string{"micro", "small", "medium", "large"} {
		if sizes[s] == 0 {
			t.Errorf("no %s enterprise", s)
		}
	}
}

func allHan(s string) bool {
	for _, r := range s {
		if !unicode.Is(unicode.Han, r) {
			return false
		}
	}
	return s != ""
}

func TestEveryCollectedItemHasRecords(t *testing.T) {
	cat, d := demoSet(t)
	if d.Items[0].Item != RegistrationItem {
		t.Fatalf("first item is %s, want %s (records need a registration first)", d.Items[0].Item, RegistrationItem)
	}
	for _, it := range cat.Items() {
		n := len(d.Records(it.Code))
		wanted := it.Mode == catalog.Collected && it.Provider != catalog.SelfProvider
		switch {
		case wanted && n == 0:
			t.Errorf("collected item %s has no records", it.Code)
		case !wanted && n > 0:
			t.Errorf("item %s (mode %s, provider %s) has %d records; only collected provider items are loaded", it.Code, it.Mode, it.Provider, n)
		}
		for _, r := range d.Records(it.Code) {
			if r.Provider != it.Provider || r.Item != it.Code {
				t.Fatalf("%s: provider %s item %s, catalog says %s %s", r.SourceID, r.Provider, r.Item, it.Provider, it.Code)
			}
		}
	}
	registered := map[uscc.Code]int{}
	for _, r := range d.Records(RegistrationItem) {
		registered[r.USCC]++
	}
	for _, e := range d.Enterprises {
		if registered[e.USCC] != 1 {
			t.Errorf("%s has %d registration records, want 1", e.USCC, registered[e.USCC])
		}
	}
	for _, items := range d.Items {
		for _, r := range items.Records {
			if registered[r.USCC] == 0 {
				t.Fatalf("%s: record for an unregistered enterprise", r.SourceID)
			}
		}
	}
}

func TestRecordsAreLoadable(t *testing.T) {
	cat, d := demoSet(t)
	checkLoadable(t, cat, d)
	for _, asOf := range asOfDates[1:] {
		t.Run(date(asOf), func(t *testing.T) {
			checkLoadable(t, cat, generate(t, cat, Params{Seed: 2, Enterprises: 300, AsOf: asOf}))
		})
	}
}

// checkLoadable checks what the loader and the platform rely on: unique source ids, dates in
// order and not after the as-of date, records still retained, payload fields.
func checkLoadable(t *testing.T, cat *catalog.Catalog, d *Dataset) {
	t.Helper()
	established := map[uscc.Code]time.Time{}
	for _, e := range d.Enterprises {
		established[e.USCC] = e.EstablishedOn
	}
	levels := "ABMCD"
	for _, items := range d.Items {
		it, _ := cat.Item(items.Item)
		ids := map[string]bool{}
		for _, r := range items.Records {
			if r.SourceID == "" || len(r.SourceID) > 200 || ids[r.SourceID] {
				t.Fatalf("%s: source id %q empty, too long or repeated", r.Item, r.SourceID)
			}
			ids[r.SourceID] = true
			if r.OccurredOn.After(d.AsOf) {
				t.Errorf("%s: occurredOn %s after the as-of date %s", r.SourceID, date(r.OccurredOn), date(d.AsOf))
			}
			if r.OccurredOn.Before(established[r.USCC]) {
				t.Errorf("%s: occurredOn %s before establishment %s", r.SourceID, date(r.OccurredOn), date(established[r.USCC]))
			}
			if !r.EndsOn.IsZero() && !r.EndsOn.After(r.OccurredOn) {
				t.Errorf("%s: endsOn %s not after occurredOn %s", r.SourceID, date(r.EndsOn), date(r.OccurredOn))
			}
			if !r.EndsOn.IsZero() && it.Disclosure.Kind != catalog.DiscloseWhileListed {
				t.Errorf("%s: endsOn on an item that is not while_listed", r.SourceID)
			}
			// Still retained: retention counts from endsOn for while_listed items (and does
			// not start while a listing has no end).
			listed := it.Disclosure.Kind == catalog.DiscloseWhileListed
			if !it.Retention.Always && !(listed && r.EndsOn.IsZero()) {
				from := r.OccurredOn
				if listed {
					from = r.EndsOn
				}
				if !it.Retention.Period.AddTo(from).After(d.AsOf) {
					t.Errorf("%s: already past its retention %s", r.SourceID, it.Retention)
				}
			}
			data := decode(t, r)
			switch r.Item {
			case RegistrationItem:
				for _, f := range []string{"name", "legal_representative", "registered_capital", "established_on", "region_code", "industry_code", "size", "subject_type"} {
					if data[f] == nil || data[f] == "" {
						t.Fatalf("%s: registration without %s", r.SourceID, f)
					}
				}
			case "admin.penalty":
				if s, _ := data["severity"].(string); s != "minor" && s != "ordinary" && s != "serious" {
					t.Errorf("%s: severity %q", r.SourceID, s)
				}
			case "tax.credit_rating":
				if l, _ := data["level"].(string); len(l) != 1 || !strings.Contains(levels, l) {
					t.Errorf("%s: level %q", r.SourceID, l)
				}
			}
			for _, f := range it.Verifiable {
				if v, ok := data[f]; ok && r.Item != RegistrationItem {
					if _, isNum := v.(json.Number); !isNum {
						t.Errorf("%s: verifiable field %s is %T, want a number", r.SourceID, f, v)
					}
				} else if !ok && r.Item != RegistrationItem {
					t.Errorf("%s: verifiable field %s missing", r.SourceID, f)
				}
			}
		}
	}
}

func TestDisclosureWindowsAreExercised(t *testing.T) {
	cat, d := demoSet(t)
	type count struct{ in, out int }
	bySeverity := map[string]*count{"minor": {}, "ordinary": {}, "serious": {}}
	for _, r := range d.Records("admin.penalty") {
		c := bySeverity[decode(t, r)["severity"].(string)]
		if inWindow(t, cat, r, d.AsOf) {
			c.in++
		} else {
			c.out++
		}
	}
	for _, sev := range []string{"ordinary", "serious"} {
		if c := bySeverity[sev]; c.in == 0 || c.out == 0 {
			t.Errorf("%s penalties: %d inside and %d outside their window, want some of each", sev, c.in, c.out)
		}
	}
	if c := bySeverity["minor"]; c.out == 0 || c.in != 0 {
		t.Errorf("minor penalties (P0D, never shown): %d inside, %d outside", c.in, c.out)
	}

	futureEnd := 0
	for _, it := range cat.Items() {
		recs := d.Records(it.Code)
		switch {
		case it.Disclosure.Kind == catalog.DiscloseWhileListed:
			var active, ended int
			for _, r := range recs {
				if inWindow(t, cat, r, d.AsOf) {
					active++
					if !r.EndsOn.IsZero() {
						futureEnd++
					}
				} else {
					ended++
				}
			}
			if active == 0 || ended == 0 {
				t.Errorf("%s: %d active and %d ended listings, want some of each", it.Code, active, ended)
			}
		case it.Disclosure.Kind == catalog.DisclosePeriod && len(recs) > 0:
			// Records outside the window exist wherever retention outlasts disclosure.
			if !it.Retention.Always && !it.Retention.Period.AddTo(testAsOf).After(it.Disclosure.Period.AddTo(testAsOf)) {
				continue
			}
			var in, out int
			for _, r := range recs {
				if inWindow(t, cat, r, d.AsOf) {
					in++
				} else {
					out++
				}
			}
			if in == 0 || out == 0 {
				t.Errorf("%s (%s): %d records inside and %d outside the window, want some of each", it.Code, it.Disclosure, in, out)
			}
		}
	}
	if futureEnd == 0 {
		t.Error("no active listing with an endsOn in the future")
	}
}

// asOfDates are as-of dates with edges: month ends, a leap day, New Year's Day, the day
// before tax ratings are published.
var asOfDates = []time.Time{
	testAsOf,
	time.Date(2026, 8, 31, 0, 0, 0, 0, time.UTC),
	time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC),
	time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
	time.Date(2026, 4, 19, 0, 0, 0, 0, time.UTC),
	time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC),
}

func TestFixtures(t *testing.T) {
	cat := defaultCatalog(t)
	for _, asOf := range asOfDates {
		t.Run(date(asOf), func(t *testing.T) { testFixtures(t, cat, asOf) })
	}
}

func testFixtures(t *testing.T, cat *catalog.Catalog, asOf time.Time) {
	d := generate(t, cat, Params{Seed: 1, Enterprises: 100, AsOf: asOf})
	other := generate(t, cat, Params{Seed: 99, Enterprises: 50, AsOf: asOf})
	checkLoadable(t, cat, d)
	for i, code := range FixtureUSCCs() {
		if c, err := uscc.Parse(code); err != nil || string(c) != code {
			t.Fatalf("fixture %s is not a valid USCC: %v", code, err)
		}
		if string(d.Enterprises[i].USCC) != code || string(other.Enterprises[i].USCC) != code {
			t.Fatalf("fixture %s is not enterprise #%d", code, i)
		}
		for _, items := range d.Items {
			if a, b := recordsOf(d, items.Item, code), recordsOf(other, items.Item, code); !reflect.DeepEqual(a, b) {
				t.Errorf("fixture %s: %s records depend on the seed", code, items.Item)
			}
		}
	}

	ago := func(r Record) int { // whole months between occurredOn and the as-of date
		return (d.AsOf.Year()-r.OccurredOn.Year())*12 + int(d.AsOf.Month()-r.OccurredOn.Month())
	}
	penalties := func(code, severity string) (in, out []Record) {
		for _, r := range recordsOf(d, "admin.penalty", code) {
			if decode(t, r)["severity"] != severity {
				continue
			}
			if inWindow(t, cat, r, d.AsOf) {
				in = append(in, r)
			} else {
				out = append(out, r)
			}
		}
		return in, out
	}
	number := func(r Record, field string) string {
		n, _ := decode(t, r)[field].(json.Number)
		return n.String()
	}
	listings := func(code, item string) (active, ended int, future bool) {
		for _, r := range recordsOf(d, item, code) {
			if inWindow(t, cat, r, d.AsOf) {
				active++
				future = future || !r.EndsOn.IsZero()
			} else {
				ended++
			}
		}
		return active, ended, future
	}

	tests := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"company serious penalty inside its window, repairable", func(t *testing.T) {
			in, _ := penalties(FixtureCompany, "serious")
			if len(in) != 1 || ago(in[0]) != 18 {
				t.Errorf("serious penalties inside the window: %v", in)
			}
		}},
		{"company ordinary penalty 14 months ago, outside its window", func(t *testing.T) {
			in, out := penalties(FixtureCompany, "ordinary")
			if len(in) != 0 || len(out) != 1 || ago(out[0]) != 14 {
				t.Errorf("ordinary penalties: %d inside, outside %v", len(in), out)
			}
		}},
		{"company minor penalty", func(t *testing.T) {
			if _, out := penalties(FixtureCompany, "minor"); len(out) != 1 {
				t.Errorf("minor penalties: %v", out)
			}
		}},
		{"company verifiable figures", func(t *testing.T) {
			if got := number(latest(t, recordsOf(d, "social_insurance.headcount", FixtureCompany)), "headcount"); got != "37" {
				t.Errorf("latest headcount %s, want 37", got)
			}
			if got := number(latest(t, recordsOf(d, "tax.revenue", FixtureCompany)), "amount"); got != "28600000" {
				t.Errorf("latest revenue %s, want 28600000", got)
			}
			if got := decode(t, latest(t, recordsOf(d, "tax.credit_rating", FixtureCompany)))["level"]; got != "A" {
				t.Errorf("latest tax credit rating %v, want A", got)
			}
			if got := number(latest(t, recordsOf(d, "social_insurance.payment", FixtureCompany)), "months_paid"); got != "12" {
				t.Errorf("months paid %s, want 12", got)
			}
		}},
		{"company licence and patent", func(t *testing.T) {
			if len(recordsOf(d, "admin.licence", FixtureCompany)) == 0 || len(recordsOf(d, "ip.patent", FixtureCompany)) == 0 {
				t.Error("no licence or no patent")
			}
		}},
		{"dishonest: dishonest-debtor listing ended, abnormal operation active", func(t *testing.T) {
			if a, e, _ := listings(FixtureDishonest, "court.dishonest_debtor"); a != 0 || e != 1 {
				t.Errorf("dishonest debtor: %d active, %d ended", a, e)
			}
			if a, e, _ := listings(FixtureDishonest, "list.abnormal_operation"); a != 1 || e != 0 {
				t.Errorf("abnormal operation: %d active, %d ended", a, e)
			}
			if a, e, _ := listings(FixtureDishonest, "list.serious_dishonesty"); a != 0 || e != 1 {
				t.Errorf("serious dishonesty: %d active, %d ended", a, e)
			}
		}},
		{"blacklisted: active listing with a future end, old serious penalty outside", func(t *testing.T) {
			if a, _, future := listings(FixtureBlacklisted, "list.serious_dishonesty"); a != 1 || !future {
				t.Errorf("serious dishonesty: %d active, future end %v", a, future)
			}
			for _, item := range []string{"court.enforcement", "court.dishonest_debtor"} {
				if a, _, _ := listings(FixtureBlacklisted, item); a != 1 {
					t.Errorf("%s: %d active", item, a)
				}
			}
			if in, out := penalties(FixtureBlacklisted, "serious"); len(in) != 1 || len(out) != 1 {
				t.Errorf("serious penalties: %d inside, %d outside", len(in), len(out))
			}
		}},
		{"exporter: customs rating and certification, active and ended", func(t *testing.T) {
			for _, item := range []string{"customs.credit_rating", "rnd.certification"} {
				if a, e, _ := listings(FixtureExporter, item); a != 1 || e != 1 {
					t.Errorf("%s: %d active, %d ended", item, a, e)
				}
			}
		}},
		{"individual: ordinary penalty inside its window", func(t *testing.T) {
			if in, _ := penalties(FixtureIndividual, "ordinary"); len(in) != 1 {
				t.Errorf("ordinary penalties inside the window: %d", len(in))
			}
			if d.Enterprises[3].SubjectType != SubjectIndividual || FixtureIndividual[:2] != "92" {
				t.Error("not an individual business")
			}
		}},
		{"cooperative", func(t *testing.T) {
			if d.Enterprises[2].SubjectType != SubjectCooperative || FixtureCooperative[:2] != "93" {
				t.Error("not a farmers' cooperative")
			}
			if len(recordsOf(d, "admin.penalty", FixtureCooperative)) != 0 {
				t.Error("the cooperative should have a clean record")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.check)
	}
}

func TestGenerateFollowsTheCatalog(t *testing.T) {
	// A province's catalog: water is fetched live instead of collected, and two local items
	// (a period item and a list) were added.
	cat, err := catalog.Parse([]byte(`
version: 1
providers:
  - {code: SAMR, name: 市场监督管理局}
  - {code: WATER, name: 水务集团}
  - {code: LOCAL, name: 地方信用办}
  - {code: SELF, name: 自报}
items:
  - {code: registration.basic, name: 登记, provider: SAMR, access: public, mode: collected, disclosure: always, retention: always}
  - {code: utility.water, name: 用水, provider: WATER, access: authorized, mode: provider_api, disclosure: P2Y, retention: P5Y}
  - {code: local.green_credit, name: 绿色信用评价, provider: LOCAL, access: public, mode: collected, disclosure: P2Y, retention: P5Y}
  - {code: local.watch_list, name: 重点关注名单, provider: LOCAL, access: public, mode: collected, disclosure: while_listed, retention: P5Y}
  - {code: self.reported, name: 自报, provider: SELF, access: public, mode: collected, disclosure: P1Y, retention: P5Y}
`))
	if err != nil {
		t.Fatal(err)
	}
	d := generate(t, cat, Params{Seed: 5, Enterprises: 200, AsOf: testAsOf})
	var items []string
	for _, it := range d.Items {
		items = append(items, it.Item)
	}
	if want := []string{"registration.basic", "local.green_credit", "local.watch_list"}; !reflect.DeepEqual(items, want) {
		t.Fatalf("items %v, want %v", items, want)
	}
	for _, r := range d.Records("local.green_credit") {
		if r.Provider != "LOCAL" || r.OccurredOn.After(testAsOf) {
			t.Fatalf("%s: provider %s, occurred %s", r.SourceID, r.Provider, date(r.OccurredOn))
		}
	}
}

func TestGenerateRejectsBadParams(t *testing.T) {
	cat := defaultCatalog(t)
	tests := []struct {
		name string
		cat  *catalog.Catalog
		p    Params
	}{
		{"no catalog", nil, Params{AsOf: testAsOf}},
		{"fewer enterprises than fixtures", cat, Params{Enterprises: 3, AsOf: testAsOf}},
		{"as-of date before the fixtures' histories", cat, Params{AsOf: time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Generate(tt.cat, tt.p); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestPatentNumberCheckDigit(t *testing.T) {
	// The textbook example: 200310102344 weighted 2..9, 2..5 sums to 82, 82 mod 11 = 5.
	if got := patentNo(2003, "invention", 102344); got != "ZL200310102344.5" {
		t.Errorf("patentNo = %s", got)
	}
}
