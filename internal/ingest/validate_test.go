package ingest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"creditd/internal/uscc"
)

// code returns the n-th valid test USCC.
func code(tb testing.TB, n int) string {
	c, err := uscc.Complete(fmt.Sprintf("91330100%09d", n))
	if err != nil {
		tb.Fatal(err)
	}
	return string(c)
}

// badCheck returns code with a wrong (but in-alphabet) check character.
func badCheck(c string) string {
	last := c[17]
	repl := byte('0')
	if last == '0' {
		repl = '1'
	}
	return c[:17] + string(repl)
}

func TestRowValidation(t *testing.T) {
	today := time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)
	good := code(t, 1)
	type row struct {
		item, sourceID, uscc, occurred, ends, data string
	}
	base := func(mod func(*row)) row {
		r := row{item: "honour", sourceID: "S-1", uscc: good, occurred: "2026-06-01", data: `{"title":"A"}`}
		if mod != nil {
			mod(&r)
		}
		return r
	}
	tests := []struct {
		name string
		row  row
		want string // substring of the reason; "" means valid
	}{
		{"valid", base(nil), ""},
		{"valid with endsOn", base(func(r *row) { r.ends = "2026-12-31" }), ""},
		{"endsOn equal to occurredOn", base(func(r *row) { r.ends = "2026-06-01" }), ""},
		{"occurredOn today", base(func(r *row) { r.occurred = "2026-06-15" }), ""},
		{"lower-case USCC with spaces", base(func(r *row) { r.uscc = "  " + strings.ToLower(good) + " " }), ""},
		{"empty object", base(func(r *row) { r.data = `{}` }), ""},
		{"missing sourceId", base(func(r *row) { r.sourceID = "" }), "sourceId: required"},
		{"blank sourceId", base(func(r *row) { r.sourceID = "   " }), "sourceId: required"},
		{"long sourceId", base(func(r *row) { r.sourceID = strings.Repeat("x", MaxSourceIDLength+1) }), "sourceId: longer than 200"},
		{"sourceId with a control character", base(func(r *row) { r.sourceID = "a\tb" }), "sourceId: must not contain control"},
		{"missing USCC", base(func(r *row) { r.uscc = "" }), "uscc: required"},
		{"USCC with a wrong check character", base(func(r *row) { r.uscc = badCheck(good) }), "uscc: invalid unified social credit code: wrong check character"},
		{"short USCC", base(func(r *row) { r.uscc = good[:17] }), "uscc: invalid unified social credit code: must be 18 characters"},
		{"USCC outside the alphabet", base(func(r *row) { r.uscc = "I" + good[1:] }), "uscc: invalid unified social credit code: character 1"},
		{"missing occurredOn", base(func(r *row) { r.occurred = "" }), "occurredOn: required"},
		{"impossible date", base(func(r *row) { r.occurred = "2026-02-30" }), `occurredOn: "2026-02-30" is not a real date`},
		{"unpadded date", base(func(r *row) { r.occurred = "2026-6-1" }), "occurredOn: \"2026-6-1\" is not a real date"},
		{"date with time", base(func(r *row) { r.occurred = "2026-06-01T00:00:00Z" }), "occurredOn:"},
		{"year zero", base(func(r *row) { r.occurred = "0000-01-01" }), "occurredOn:"},
		{"future occurredOn", base(func(r *row) { r.occurred = "2026-06-16" }), "occurredOn: 2026-06-16 is after today (2026-06-15"},
		{"bad endsOn", base(func(r *row) { r.ends = "2026-13-01" }), "endsOn: \"2026-13-01\" is not a real date"},
		{"endsOn before occurredOn", base(func(r *row) { r.ends = "2026-05-31" }), "endsOn: 2026-05-31 is before occurredOn 2026-06-01"},
		{"missing data", base(func(r *row) { r.data = `` }), "data: required"},
		{"data null", base(func(r *row) { r.data = `null` }), "data: must be a JSON object, got null"},
		{"data array", base(func(r *row) { r.data = `[1]` }), "data: must be a JSON object, got an array"},
		{"data string", base(func(r *row) { r.data = `"x"` }), "data: must be a JSON object, got a string"},
		{"malformed data", base(func(r *row) { r.data = `{"a":}` }), "data: not valid JSON"},
		{"trailing data", base(func(r *row) { r.data = `{"a":1} {}` }), "data: not valid JSON: unexpected data"},
		{"NUL in a string", base(func(r *row) { r.data = `{"a":{"b":"x\u0000y"}}` }), "data.a.b: strings must not contain the NUL"},
		{"number out of range", base(func(r *row) { r.data = `{"n":1e999999}` }), "data.n: number 1e999999 is out of range"},
		{"too deep", base(func(r *row) { r.data = strings.Repeat(`{"a":`, 70) + "1" + strings.Repeat("}", 70) }), "nested deeper than 64"},
		{"registration valid", row{item: Registration, sourceID: "R", uscc: good, occurred: "2020-01-01",
			data: `{"name":"杭州某某科技有限公司","region_code":"330106","size":"small","subject_type":"enterprise","registered_capital":1000000}`}, ""},
		{"registration numeric region code", row{item: Registration, sourceID: "R", uscc: good, occurred: "2020-01-01",
			data: `{"name":"N","region_code":330106}`}, ""},
		{"registration without name", row{item: Registration, sourceID: "R", uscc: good, occurred: "2020-01-01",
			data: `{"region_code":"330106"}`}, "data.name: required, a non-empty string"},
		{"registration blank name", row{item: Registration, sourceID: "R", uscc: good, occurred: "2020-01-01",
			data: `{"name":"  "}`}, "data.name: required"},
		{"registration numeric name", row{item: Registration, sourceID: "R", uscc: good, occurred: "2020-01-01",
			data: `{"name":12}`}, "data.name: required"},
		{"registration bad region code", row{item: Registration, sourceID: "R", uscc: good, occurred: "2020-01-01",
			data: `{"name":"N","region_code":"33010"}`}, "data.region_code: must be 6 digits"},
		{"registration bad size", row{item: Registration, sourceID: "R", uscc: good, occurred: "2020-01-01",
			data: `{"name":"N","size":"huge"}`}, "data.size: must be one of micro, small, medium, large"},
		{"registration bad subject type", row{item: Registration, sourceID: "R", uscc: good, occurred: "2020-01-01",
			data: `{"name":"N","subject_type":"person"}`}, "data.subject_type: must be one of enterprise, individual_business, cooperative"},
		{"penalty valid", row{item: "admin.penalty", sourceID: "P", uscc: good, occurred: "2025-01-01",
			data: `{"severity":"serious","amount":5000}`}, ""},
		{"penalty without severity", row{item: "admin.penalty", sourceID: "P", uscc: good, occurred: "2025-01-01",
			data: `{"amount":5000}`}, "data.severity: required, one of minor, ordinary, serious"},
		{"penalty bad severity", row{item: "admin.penalty", sourceID: "P", uscc: good, occurred: "2025-01-01",
			data: `{"severity":"grave"}`}, "data.severity: required"},
		{"first problem in field order", base(func(r *row) { r.uscc = "x"; r.data = "[]" }), "uscc:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newValidator(tc.row.item, today)
			p, reason := v.row(7, tc.row.sourceID, tc.row.uscc, tc.row.occurred, tc.row.ends, json.RawMessage(tc.row.data))
			if tc.want == "" {
				if reason != "" {
					t.Fatalf("rejected: %s", reason)
				}
				if p.uscc != good || p.line != 7 || len(p.hash) != 32 {
					t.Fatalf("prepared row = %+v", p)
				}
				if !json.Valid(p.data) {
					t.Fatalf("stored data is not JSON: %s", p.data)
				}
				return
			}
			if !strings.Contains(reason, tc.want) {
				t.Fatalf("reason = %q, want it to contain %q", reason, tc.want)
			}
		})
	}
}

func TestTodayIsShanghaiDate(t *testing.T) {
	// 20:00 UTC on 15 June is already 16 June in Asia/Shanghai.
	l := NewLoader(nil, nil, Options{Now: func() time.Time { return time.Date(2026, 6, 15, 20, 0, 0, 0, time.UTC) }})
	v := newValidator("honour", l.today())
	if _, reason := v.row(1, "S", code(t, 1), "2026-06-16", "", json.RawMessage(`{}`)); reason != "" {
		t.Fatalf("16 June rejected at 04:00 Shanghai time: %s", reason)
	}
	if _, reason := v.row(1, "S", code(t, 1), "2026-06-17", "", json.RawMessage(`{}`)); !strings.Contains(reason, "after today (2026-06-16") {
		t.Fatalf("17 June: reason = %q", reason)
	}
}
