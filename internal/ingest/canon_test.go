package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
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

func TestIsNumber(t *testing.T) {
	for s, want := range map[string]bool{
		"0": true, "-1": true, "12.50": true, "1e5": true, "1E-5": true, "-0.5e+3": true,
		"": false, "01": false, "+1": false, ".5": false, "1.": false, "1e": false, "0x10": false,
		"NaN": false, "Infinity": false, " 1": false, "1 ": false, "1,000": false, "330106": true,
	} {
		if got := isNumber(s); got != want {
			t.Errorf("isNumber(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestParseJSONMatchesEncodingJSON checks the bulk parser against encoding/json with UseNumber
// (on valid UTF-8, which callers check first).
func TestParseJSONMatchesEncodingJSON(t *testing.T) {
	inputs := []string{
		`{}`, `[]`, `null`, `true`, `false`, `0`, `-1.5e3`, `"x"`,
		`{"a":1,"b":[1,2,{"c":null}],"d":"e","f":true,"g":false}`,
		` { "a" : [ ] , "b" : { } } `,
		`{"a":1,"a":2}`,
		`"\u00e9\n\t\"\\\/\b\f\r"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ud83dx"`, `"\ud83d\u0041"`, `"\ude00\ud83d"`,
		`"中文 text"`, `"日本\u8a9e"`,
		`{"a":}`, `{"a" 1}`, `{a:1}`, `{"a":1,}`, `[1,]`, `[1 2]`, `{"a":1`, `"abc`, `"a\x"`, `"\u12"`,
		`01`, `-`, `1.`, `1e`, `.5`, `+1`, `tru`, `nul`, `[`, ``, `   `, `{"a":1}x`, `{"a":"b"}{}`,
		"\"a\tb\"", `{"a":-0}`, `[1e400]`, `{"":""}`,
	}
	for _, in := range inputs {
		got, gotErr := parseJSON(in)
		dec := json.NewDecoder(strings.NewReader(in))
		dec.UseNumber()
		var want any
		wantErr := dec.Decode(&want)
		if wantErr == nil {
			if _, err := dec.Token(); !errors.Is(err, io.EOF) {
				wantErr = errors.New("trailing data")
			}
		}
		if (gotErr != nil) != (wantErr != nil) {
			t.Errorf("parseJSON(%q): error %v, encoding/json: %v", in, gotErr, wantErr)
			continue
		}
		if gotErr == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("parseJSON(%q) = %#v, encoding/json gives %#v", in, got, want)
		}
	}
	deep := strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2)
	if _, err := parseJSON(deep); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Errorf("deep nesting: %v", err)
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
