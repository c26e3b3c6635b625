package ingest

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestContentHashIsSemantic(t *testing.T) {
	same := [][3]string{
		{"2025-01-02", "", `{"a":1,"b":"x"}`},
		{"2025-01-02", "", `{ "b" : "x", "a" : 1 }`},
		{"2025-01-02", "", `{"b":"x","a":1.0}`},
		{"2025-01-02", "", `{"b":"x","a":1e0}`},
		{"2025-01-02", "", `{"b":"\u0078","a":0.1E1}`},
		{"2025-01-02", "", `{"a":5,"a":1,"b":"x"}`}, // a repeated key keeps its last value
	}
	want, err := ContentHash(same[0][0], same[0][1], json.RawMessage(same[0][2]))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range same[1:] {
		got, err := ContentHash(s[0], s[1], json.RawMessage(s[2]))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s hashes differently from %s", s[2], same[0][2])
		}
	}
	different := [][3]string{
		{"2025-01-03", "", `{"a":1,"b":"x"}`},
		{"2025-01-02", "2025-01-02", `{"a":1,"b":"x"}`},
		{"2025-01-02", "", `{"a":"1","b":"x"}`},
		{"2025-01-02", "", `{"a":1.5,"b":"x"}`},
		{"2025-01-02", "", `{"a":1,"b":"x","c":null}`},
		{"2025-01-02", "", `{"a":[1],"b":"x"}`},
		{"2025-01-02", "", `{"a":1,"b":"X"}`},
	}
	for _, d := range different {
		got, err := ContentHash(d[0], d[1], json.RawMessage(d[2]))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(got, want) {
			t.Errorf("%v hashes like %v", d, same[0])
		}
	}
	if _, err := ContentHash("2025-02-30", "", json.RawMessage(`{}`)); err == nil {
		t.Error("ContentHash accepted an impossible date")
	}
}

func TestCanonNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0", "0"}, {"-0", "0"}, {"0.000", "0"}, {"0e10", "0"},
		{"1", "1"}, {"-17", "-17"}, {"100", "100"}, {"1e2", "100"}, {"1E+2", "100"}, {"100.00", "100"},
		{"1.5", "1.5"}, {"15e-1", "1.5"}, {"0.15e1", "1.5"}, {"-0.0025", "-0.0025"}, {"2.50", "2.5"},
		{"1e39", "1000000000000000000000000000000000000000"}, {"1e40", "1e40"},
		{"1e41", "1e41"}, {"12.5e50", "1.25e51"}, {"1e-25", "1e-25"}, {"123e-30", "1.23e-28"},
		{"110101199003077777", "110101199003077777"},
	}
	for _, tc := range tests {
		got, err := canonNumber(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("canonNumber(%s) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"1e1001", "1e-1002", "1e99999999999", "1" + strings.Repeat("0", 1001)} {
		if _, err := canonNumber(bad); err == nil {
			t.Errorf("canonNumber(%.20s…) accepted a number PostgreSQL cannot store", bad)
		}
	}
}

// TestDecodeJSON checks the decoding shared by Submit and the NDJSON loader: numbers stay as
// sent, a repeated key keeps its last value, and errors name the problem and its position.
func TestDecodeJSON(t *testing.T) {
	valid := []struct {
		in   string
		want any
	}{
		{`{"a":1.50,"b":-0,"c":1e2,"d":123456789012345678901234567890}`,
			map[string]any{"a": json.Number("1.50"), "b": json.Number("-0"), "c": json.Number("1e2"), "d": json.Number("123456789012345678901234567890")}},
		{`{"a":1,"a":{"x":true},"b":[null,false,"s"]}`, map[string]any{"a": map[string]any{"x": true}, "b": []any{nil, false, "s"}}},
		{` { "a" : [ ] , "b" : { } } ` + "\r", map[string]any{"a": []any{}, "b": map[string]any{}}},
		{`"\u00e9\n\"\\\/\ud83d\ude00\ud83d"`, "é\n\"\\/😀\uFFFD"},
		{`[1e400]`, []any{json.Number("1e400")}},
		{`null`, nil},
	}
	for _, tc := range valid {
		got, err := decodeJSON([]byte(tc.in))
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("decodeJSON(%s) = %#v, %v; want %#v", tc.in, got, err, tc.want)
		}
	}
	invalid := []struct{ in, want string }{
		{`{"a":}`, "invalid character '}' looking for beginning of value (at byte 6)"},
		{`{"a" 1}`, "invalid character '1' after object key (at byte 6)"},
		{`{a:1}`, "invalid character 'a' looking for beginning of object key string (at byte 2)"},
		{`{"a":1,}`, "invalid character '}' looking for beginning of object key string (at byte 8)"},
		{`[1 2]`, "invalid character '2' after array element (at byte 4)"},
		{`{"a":01}`, "invalid character '1' after object key:value pair (at byte 7)"},
		{`{"a":0x10}`, "invalid character 'x' after object key:value pair (at byte 7)"},
		{`{"a":+1}`, "invalid character '+' looking for beginning of value (at byte 6)"},
		{`{"a":nan}`, "invalid character 'a' in literal null (expecting 'u') (at byte 7)"},
		{`"a\x"`, "invalid character 'x' in string escape code (at byte 4)"},
		{`"\u12"`, `invalid character '"' in \u hexadecimal character escape (at byte 6)`},
		{"\"a\tb\"", `invalid character '\t' in string literal (at byte 3)`},
		{`{"a":1`, "unexpected end of input"},
		{`"abc`, "unexpected end of input"},
		{`1.`, "unexpected end of input"},
		{``, "unexpected end of input"},
		{`{"a":1}x`, "unexpected data after the value"},
		{`{"a":"b"}{}`, "unexpected data after the value"},
		{strings.Repeat("[", 20000) + strings.Repeat("]", 20000), "exceeded max depth"},
	}
	for _, tc := range invalid {
		v, err := decodeJSON([]byte(tc.in))
		if err == nil {
			t.Errorf("decodeJSON(%.30s) = %#v, want an error", tc.in, v)
			continue
		}
		if got := jsonErrText(err); !strings.Contains(got, tc.want) {
			t.Errorf("decodeJSON(%.30s): error %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestStoredPayloadKeepsNumbersAsSent(t *testing.T) {
	obj, reason := decodeObject(json.RawMessage(`{"b":1.50,"a":"x\"y","c":[1e2,{"z":1,"y":2}]}`))
	if reason != "" {
		t.Fatal(reason)
	}
	stored, canon, err := encode(mapObject(obj))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a":"x\"y","b":1.50,"c":[1e2,{"y":2,"z":1}]}`; string(stored) != want {
		t.Errorf("stored = %s, want %s", stored, want)
	}
	if want := `{"a":"x\"y","b":1.5,"c":[100,{"y":2,"z":1}]}`; string(canon) != want {
		t.Errorf("canonical = %s, want %s", canon, want)
	}
}

// TestFormatsAgree checks that a record sent through Submit, NDJSON or CSV is stored and
// hashed alike, so that loading it again in another way is a duplicate.
func TestFormatsAgree(t *testing.T) {
	today := time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)
	c := code(t, 1)
	v := newValidator("admin.penalty", today)
	want, reason := v.row(1, "S-1", c, "2025-01-02", "2025-03-04",
		json.RawMessage(`{"severity":"minor","amount":1.50,"note":"a, \"b\"","count":3}`))
	if reason != "" {
		t.Fatal(reason)
	}

	line := `{"data":{"count":3,"amount":1.5,"severity":"ordinary","note":"a, \"b\"","severity":"minor"},` +
		`"endsOn":"2025-03-04","occurredOn":"2025-01-02","uscc":"` + strings.ToLower(c) + `","sourceId":"S-1"}`
	nd, rej, err := newNDJSONSource(strings.NewReader(line), v).next()
	if err != nil || rej != nil {
		t.Fatalf("ndjson: %v %v", rej, err)
	}

	file := "source_id,uscc,occurred_on,ends_on,note,severity,amount,count,empty\n" +
		"S-1," + c + `,2025-01-02,2025-03-04,"a, ""b""",minor,1.50,3,` + "\n"
	src, err := newCSVSource(strings.NewReader(file), v)
	if err != nil {
		t.Fatal(err)
	}
	cs, rej, err := src.next()
	if err != nil || rej != nil {
		t.Fatalf("csv: %v %v", rej, err)
	}

	for name, got := range map[string]prepared{"ndjson": nd, "csv": cs} {
		if !bytes.Equal(got.hash, want.hash) {
			t.Errorf("%s hash differs from Submit's: %s vs %s", name, got.data, want.data)
		}
		if got.uscc != want.uscc || got.sourceID != want.sourceID || !got.occurred.Equal(want.occurred) || !got.ends.Equal(want.ends) {
			t.Errorf("%s row %+v, Submit row %+v", name, got, want)
		}
	}
	if string(cs.data) != string(want.data) {
		t.Errorf("csv stored %s, Submit stored %s", cs.data, want.data)
	}
	if want := `{"amount":1.5,"count":3,"note":"a, \"b\"","severity":"minor"}`; string(nd.data) != want {
		t.Errorf("ndjson stored %s, want %s", nd.data, want)
	}
}
