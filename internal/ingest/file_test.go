package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

type loadOutcome struct {
	progress  Progress
	rejected  []Rejection
	reports   []Progress
	loadError error
}

func load(t *testing.T, l *Loader, provider, item string, format Format, content string) loadOutcome {
	t.Helper()
	var o loadOutcome
	o.progress, o.loadError = l.LoadFile(context.Background(), provider, item, format, strings.NewReader(content),
		func(r Rejection) { o.rejected = append(o.rejected, r) },
		func(p Progress) { o.reports = append(o.reports, p) })
	return o
}

func mustLoad(t *testing.T, l *Loader, provider, item string, format Format, content string) loadOutcome {
	t.Helper()
	o := load(t, l, provider, item, format, content)
	if o.loadError != nil {
		t.Fatal(o.loadError)
	}
	p := o.progress
	if p.Rows != p.Accepted+p.Updated+p.Duplicates+p.Rejected || p.Rejected != len(o.rejected) {
		t.Fatalf("totals do not add up: %+v with %d rejections", p, len(o.rejected))
	}
	if len(o.reports) == 0 || o.reports[len(o.reports)-1] != p {
		t.Fatalf("last progress report %+v, want the final totals %+v", o.reports, p)
	}
	return o
}

// wantRejections checks the rejected lines, in order, and a fragment of each reason.
func wantRejections(t *testing.T, got []Rejection, want map[int]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("rejections = %+v, want lines %v", got, want)
	}
	for i, r := range got {
		if i > 0 && got[i-1].Line >= r.Line {
			t.Fatalf("rejections out of line order: %+v", got)
		}
		frag, ok := want[r.Line]
		if !ok || !strings.Contains(r.Reason, frag) {
			t.Fatalf("rejection %+v, want line %d to be rejected for %q (all: %v)", r, r.Line, frag, want)
		}
	}
}

func jsonType(t *testing.T, l *Loader, sourceID, key string) string {
	t.Helper()
	var typ *string
	if err := l.pool.QueryRow(context.Background(), `SELECT jsonb_typeof(data->$2) FROM records WHERE source_id = $1`, sourceID, key).Scan(&typ); err != nil {
		t.Fatal(err)
	}
	if typ == nil {
		return "absent"
	}
	return *typ
}

func TestLoadCSV(t *testing.T) {
	l, pool := newTestLoader(t, 0)
	a, b, c := code(t, 301), code(t, 302), code(t, 303)
	register(t, l, a, b, c)
	file := strings.Join([]string{
		"source_id,uscc,occurred_on,ends_on,severity,amount,decision_no,note", // 1
		"C-1," + a + ",2025-01-01,,minor,500,A12,",                            // 2 good
		"C-2," + badCheck(b) + ",2025-01-01,,minor,1,,",                       // 3 bad check character
		"C-3," + a + ",2025-02-30,,minor,1,,",                                 // 4 bad date
		`"C-4",` + b + `,2025-01-01,,,100,,"a note`,                           // 5 no severity (record spans lines 5-6)
		`on two lines"`, // 6
		"C-5," + b + `,2025-01-01,2025-06-01,serious,1.50,0012,"a, b"`, // 7 good
		"C-6," + b + ",2025-01-01,,minor",                              // 8 too few columns
		"",                                                             // 9 blank
		"C-7," + strings.ToLower(c) + ",2025-01-01,,ordinary,-3e2,,", // 10 good
		"C-8," + c + ",2026-06-16,,minor,1,,",                        // 11 in the future
	}, "\n") + "\n"
	before := countRecords(t, pool, "admin.penalty")
	o := mustLoad(t, l, "NDRC", "admin.penalty", CSV, file)
	if o.progress.Rows != 8 || o.progress.Accepted != 3 {
		t.Fatalf("progress = %+v", o.progress)
	}
	wantRejections(t, o.rejected, map[int]string{
		3:  "uscc: invalid unified social credit code: wrong check character",
		4:  `occurredOn: "2025-02-30" is not a real date`,
		5:  "data.severity: required",
		8:  "expected 8 columns as in the header, got 5",
		11: "occurredOn: 2026-06-16 is after today",
	})
	if o.rejected[0].SourceID != "C-2" || o.rejected[2].SourceID != "C-4" {
		t.Fatalf("rejections name the wrong sourceIds: %+v", o.rejected)
	}
	if got := countRecords(t, pool, "admin.penalty"); got != before+3 {
		t.Fatalf("records = %d, want %d", got, before+3)
	}

	// Cells in JSON number syntax are numbers; others are strings; empty cells are absent.
	for _, tc := range []struct{ sourceID, key, want string }{
		{"C-1", "amount", "number"}, {"C-1", "decision_no", "string"}, {"C-1", "note", "absent"},
		{"C-5", "amount", "number"}, {"C-5", "decision_no", "string"}, {"C-5", "note", "string"},
		{"C-7", "amount", "number"}, {"C-7", "severity", "string"},
	} {
		if got := jsonType(t, l, tc.sourceID, tc.key); got != tc.want {
			t.Errorf("%s.%s is %s, want %s", tc.sourceID, tc.key, got, tc.want)
		}
	}
	r := mustRecord(t, pool, "NDRC", "admin.penalty", "C-5")
	if r.data["amount"] != json.Number("1.50") || r.data["decision_no"] != "0012" || r.data["note"] != "a, b" || *r.endsOn != "2025-06-01" {
		t.Fatalf("C-5 = %+v", r)
	}
	if r := mustRecord(t, pool, "NDRC", "admin.penalty", "C-7"); r.uscc != c {
		t.Fatalf("C-7 stored for %s, want the normalized %s", r.uscc, c)
	}

	// Loading the same file again adds nothing.
	o = mustLoad(t, l, "NDRC", "admin.penalty", CSV, file)
	if o.progress.Duplicates != 3 || o.progress.Accepted != 0 || o.progress.Updated != 0 || o.progress.Rejected != 5 {
		t.Fatalf("reload = %+v", o.progress)
	}
	if got := countRecords(t, pool, "admin.penalty"); got != before+3 {
		t.Fatalf("records after reload = %d, want %d", got, before+3)
	}

	// A changed cell is a correction.
	o = mustLoad(t, l, "NDRC", "admin.penalty", CSV,
		"source_id,uscc,occurred_on,ends_on,severity,amount,decision_no,note\nC-1,"+a+",2025-01-01,,minor,600,A12,\n")
	if o.progress.Updated != 1 {
		t.Fatalf("correction = %+v", o.progress)
	}
	if r := mustRecord(t, pool, "NDRC", "admin.penalty", "C-1"); r.version != 2 || r.data["amount"] != json.Number("600") {
		t.Fatalf("C-1 = %+v", r)
	}
}

func TestLoadCSVHeader(t *testing.T) {
	l, pool := newTestLoader(t, 0)
	a := code(t, 401)
	register(t, l, a)
	row := "\nX-1," + a + ",2025-01-01,,minor\n"
	tests := []struct {
		header string
		want   []string
	}{
		{"source_id,uscc,occured_on,ends_on,severity", []string{"column 3 must be occurred_on", `"occured_on"`}},
		{"sourceId,uscc,occurred_on,ends_on,severity", []string{"column 1 must be source_id", `"sourceId"`}},
		{"source_id,uscc,occurred_on", []string{"column 4 must be ends_on"}},
		{"source_id,uscc,occurred_on,ends_on,severity,severity", []string{"column 6", `"severity"`}},
		{"source_id,uscc,occurred_on,ends_on,", []string{"column 5 has no name"}},
		{"source_id,uscc,occurred_on,ends_on,uscc", []string{"column 5", "uscc"}},
	}
	for _, tc := range tests {
		o := load(t, l, "NDRC", "admin.penalty", CSV, tc.header+row)
		wantBadInput(t, o.loadError, tc.want...)
	}
	o := load(t, l, "NDRC", "admin.penalty", CSV, "")
	wantBadInput(t, o.loadError, "empty", "source_id,uscc,occurred_on,ends_on")
	if n := countRecords(t, pool, "admin.penalty"); n != 0 {
		t.Fatalf("%d records stored from refused files", n)
	}
	// A byte-order mark and spaces around names are tolerated.
	mustLoad(t, l, "NDRC", "admin.penalty", CSV, "\uFEFFsource_id, uscc ,occurred_on,ends_on,severity"+row)
	if n := countRecords(t, pool, "admin.penalty"); n != 1 {
		t.Fatalf("records = %d, want 1", n)
	}
}

func TestLoadNDJSON(t *testing.T) {
	l, pool := newTestLoader(t, 0)
	a, b, c := code(t, 501), code(t, 502), code(t, 503)
	register(t, l, a, b, c)
	line := func(sourceID, code, extra string) string {
		return fmt.Sprintf(`{"sourceId":%q,"uscc":%q,"occurredOn":"2025-01-01"%s}`, sourceID, code, extra)
	}
	file := strings.Join([]string{
		line("N-1", a, `,"data":{"severity":"minor","amount":10}`), // 1 good
		"", // 2 blank
		`{"sourceId":"N-2","uscc":"` + a + `","occurredOn":"2025-01-01","data":{`, // 3 malformed
		line("N-3", badCheck(b), `,"data":{"severity":"minor"}`),                  // 4 bad check character
		"   ",                                  // 5 blank
		line("N-4", b, `,"data":{"amount":1}`), // 6 no severity
		line("N-5", c, `,"endsOn":null,"data":{"severity":"serious","amount":1.5}`) + "\r", // 7 good (CRLF)
		line("N-6", c, `,"data":[1]`),                                            // 8 data not an object
		line("N-7", c, `,"data":{"severity":"minor"},"occured_on":"2025-01-01"`), // 9 unknown field
		`[1,2]`, // 10 not an object
		line("N-8", c, `,"endsOn":"2025-12-31","data":{"severity":"minor","n":{"x":[1,2]}}`), // 11 good
		`{"sourceId":7,"uscc":"` + c + `","occurredOn":"2025-01-01","data":{}}`,              // 12 sourceId not a string
		line("N-9", c, ``), // 13 no data
		"{\"sourceId\":\"N-10\",\"uscc\":\"" + c + "\",\"occurredOn\":\"2025-01-01\",\"data\":{\"severity\":\"minor\",\"x\":\"\xff\"}}", // 14 not UTF-8
	}, "\n")
	o := mustLoad(t, l, "NDRC", "admin.penalty", NDJSON, file)
	if o.progress.Rows != 12 || o.progress.Accepted != 3 {
		t.Fatalf("progress = %+v", o.progress)
	}
	wantRejections(t, o.rejected, map[int]string{
		3:  "line is not valid JSON: unexpected end of input",
		4:  "uscc: invalid unified social credit code: wrong check character",
		6:  "data.severity: required",
		8:  "data: must be a JSON object, got an array",
		9:  `unknown field "occured_on"`,
		10: "line must be a JSON object, got an array",
		12: "sourceId: must be a string, got a number",
		13: "data: required",
		14: "not valid UTF-8",
	})
	if o.rejected[1].SourceID != "N-3" || o.rejected[0].SourceID != "" {
		t.Fatalf("rejections name the wrong sourceIds: %+v", o.rejected)
	}
	if got := jsonType(t, l, "N-5", "amount"); got != "number" {
		t.Fatalf("N-5 amount is %s", got)
	}
	r := mustRecord(t, pool, "NDRC", "admin.penalty", "N-8")
	if *r.endsOn != "2025-12-31" || fmt.Sprint(r.data["n"]) != "map[x:[1 2]]" {
		t.Fatalf("N-8 = %+v", r)
	}

	// Loading the same file again adds nothing.
	before := countRecords(t, pool, "admin.penalty")
	o = mustLoad(t, l, "NDRC", "admin.penalty", NDJSON, file)
	if o.progress.Duplicates != 3 || o.progress.Accepted != 0 || o.progress.Updated != 0 {
		t.Fatalf("reload = %+v", o.progress)
	}
	if got := countRecords(t, pool, "admin.penalty"); got != before {
		t.Fatalf("records after reload = %d, want %d", got, before)
	}
}

// TestNDJSONLines checks how NDJSON lines are read, without a database: line numbers, the
// reasons of rejected lines and the limits on payloads.
func TestNDJSONLines(t *testing.T) {
	c := code(t, 1)
	rec := func(fields string) string {
		return `{"sourceId":"S","uscc":"` + c + `","occurredOn":"2025-01-01",` + fields + `}`
	}
	nested := func(depth int) string { // a number nested depth levels deep in the payload
		return `"data":` + strings.Repeat(`{"a":`, depth) + `1` + strings.Repeat(`}`, depth)
	}
	syntaxErr := rec(`"data":{"a":}`)
	tests := []struct {
		line string
		want string // a fragment of the reason; "" means accepted
	}{
		{"\uFEFF" + rec(`"data":{"a":1}`), ""}, // line 1: a byte-order mark is ignored
		{"", "-"},                              // blank lines are skipped, but counted
		{rec(`"endsOn":null,"data":{"a":[1.50,"x",true,null]}`), ""},
		{syntaxErr, fmt.Sprintf("line is not valid JSON: invalid character '}' looking for beginning of value (at byte %d)", strings.Index(syntaxErr, ":}")+2)},
		{rec(`"data":{}`) + ` {}`, "line is not valid JSON: unexpected data after the value"},
		{rec(`"data":{"a":1`), "line is not valid JSON: unexpected end of input"},
		{`"a string"`, "line must be a JSON object, got a string"},
		{rec(`"data":{},"SourceId":"S"`), `unknown field "SourceId" (expected sourceId, uscc, occurredOn, endsOn, data)`},
		{rec(`"data":{},"z":1,"y":2`), `unknown field "y"`},
		{`{"sourceId":"S","uscc":91330100,"occurredOn":"2025-01-01","data":{}}`, "uscc: must be a string, got a number"},
		{rec(`"endsOn":true,"data":{}`), "endsOn: must be a string, got a boolean"},
		{`{"sourceId":["S"],"data":{}}`, "sourceId: must be a string, got an array"},
		{rec(`"data":null`), "data: required"},
		{rec(`"data":"x"`), "data: must be a JSON object, got a string"},
		{rec(nested(64)), ""},
		{rec(nested(65)), "nested deeper than 64 levels"},
		{rec(`"data":{"a":{"b":"x\u0000y"}}`), `data.a.b: strings must not contain the NUL character`},
		{rec(`"data":{"a\u0000":1}`), "keys must not contain the NUL character"},
		{rec(`"data":{"n":1e999999}`), "data.n: number 1e999999 is out of range"},
		{rec(`"data":{"a":"` + strings.Repeat("x", MaxDataBytes) + `"}`), "data: larger than 1048576 bytes"},
		{rec(`"data":{"a":"` + "\xff" + `"}`), "line is not valid UTF-8"},
		{`{"occurredOn":"2025-01-01","data":{}}`, "sourceId: required"},
	}
	lines := make([]string, len(tests))
	for i, tc := range tests {
		lines[i] = tc.line
	}
	src := newNDJSONSource(strings.NewReader(strings.Join(lines, "\r\n")), newValidator("honour", time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)))
	var got []string
	for {
		p, rej, err := src.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case rej != nil:
			for len(got) < rej.Line-1 {
				got = append(got, "-")
			}
			got = append(got, rej.Reason)
		default:
			for len(got) < p.line-1 {
				got = append(got, "-")
			}
			got = append(got, "")
		}
	}
	if len(got) != len(tests) {
		t.Fatalf("read %d lines, want %d: %q", len(got), len(tests), got)
	}
	for i, tc := range tests {
		if (tc.want == "") != (got[i] == "") || !strings.Contains(got[i], tc.want) {
			t.Errorf("line %d: reason %q, want %q", i+1, clip(got[i], 120), tc.want)
		}
	}
}

func TestLoadRegistrationCSV(t *testing.T) {
	l, pool := newTestLoader(t, 0)
	a, b := code(t, 601), code(t, 602)
	file := "source_id,uscc,occurred_on,ends_on,name,region_code,industry_code,size,subject_type,registered_capital\n" +
		"R-A," + a + ",2016-05-01,,杭州甲科技有限公司,330106,I6510,small,enterprise,1000000\n" +
		"R-B," + b + ",2017-05-01,,杭州乙贸易有限公司,330108,,micro,,\n" +
		"R-C," + code(t, 603) + ",2017-05-01,,,330108,,micro,,\n"
	o := mustLoad(t, l, "SAMR", Registration, CSV, file)
	if o.progress.Accepted != 2 || o.progress.Rejected != 1 || o.rejected[0].Line != 4 || !strings.Contains(o.rejected[0].Reason, "data.name") {
		t.Fatalf("registration load = %+v %+v", o.progress, o.rejected)
	}
	var name, region, size string
	var industry, subject *string
	if err := pool.QueryRow(context.Background(), `SELECT name, region_code, industry_code, size, subject_type FROM enterprises WHERE uscc = $1`, b).
		Scan(&name, &region, &industry, &size, &subject); err != nil {
		t.Fatal(err)
	}
	if name != "杭州乙贸易有限公司" || region != "330108" || industry != nil || size != "micro" || subject != nil {
		t.Fatalf("enterprise = %s %s %v %s %v", name, region, industry, size, subject)
	}
	if got := jsonType(t, l, "R-A", "registered_capital"); got != "number" {
		t.Fatalf("registered_capital is %s", got)
	}
	// Records of the registered enterprises now load; others are unknown.
	o = mustLoad(t, l, "NDRC", "admin.penalty", CSV,
		"source_id,uscc,occurred_on,ends_on,severity\nP-A,"+a+",2025-01-01,,minor\nP-X,"+code(t, 699)+",2025-01-01,,minor\n")
	if o.progress.Accepted != 1 || len(o.rejected) != 1 || o.rejected[0].Line != 3 || !strings.Contains(o.rejected[0].Reason, "unknown enterprise") {
		t.Fatalf("penalties = %+v %+v", o.progress, o.rejected)
	}
}

// TestLoadChunks loads a file over many small chunks and lanes, with repeated sourceIds both
// within a chunk and across chunks.
func TestLoadChunks(t *testing.T) {
	l, pool := newTestLoader(t, 4)
	codes := []string{code(t, 701), code(t, 702), code(t, 703)}
	register(t, l, codes...)
	var sb strings.Builder
	sb.WriteString("source_id,uscc,occurred_on,ends_on,severity,amount\n")
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&sb, "K-%d,%s,2025-01-01,,minor,%d\n", i, codes[i%3], i)
	}
	// Line 32: K-1 again, changed; line 33: K-1 again, identical; line 34: K-2 moved.
	fmt.Fprintf(&sb, "K-1,%s,2025-01-01,,serious,1\n", codes[1])
	fmt.Fprintf(&sb, "K-1,%s,2025-01-01,,serious,1\n", codes[1])
	fmt.Fprintf(&sb, "K-2,%s,2025-01-01,,minor,2\n", codes[0])
	// Lines 35-36: a new sourceId twice in a row, the second time changed.
	fmt.Fprintf(&sb, "K-99,%s,2025-01-01,,minor,1\n", codes[0])
	fmt.Fprintf(&sb, "K-99,%s,2025-01-01,,ordinary,1\n", codes[0])
	o := mustLoad(t, l, "NDRC", "admin.penalty", CSV, sb.String())
	p := o.progress
	if p.Rows != 35 || p.Accepted != 31 || p.Updated != 2 || p.Duplicates != 1 || p.Rejected != 1 {
		t.Fatalf("progress = %+v", p)
	}
	wantRejections(t, o.rejected, map[int]string{34: "already used for another enterprise"})
	if r := mustRecord(t, pool, "NDRC", "admin.penalty", "K-1"); r.version != 2 || r.data["severity"] != "serious" {
		t.Fatalf("K-1 = %+v", r)
	}
	if r := mustRecord(t, pool, "NDRC", "admin.penalty", "K-99"); r.version != 2 || r.data["severity"] != "ordinary" {
		t.Fatalf("K-99 = %+v", r)
	}
	if n := countRecords(t, pool, "admin.penalty"); n != 31 {
		t.Fatalf("records = %d, want 31", n)
	}
}

func TestLoadFileRefusals(t *testing.T) {
	l, _ := newTestLoader(t, 0)
	ctx := context.Background()
	noop := func(Rejection) {}
	_, err := l.LoadFile(ctx, "NDRC", "admin.penalty", Format("xml"), strings.NewReader(""), noop, nil)
	wantBadInput(t, err, `"xml"`, "ndjson or csv")
	_, err = l.LoadFile(ctx, "TAX", "admin.penalty", NDJSON, strings.NewReader(""), noop, nil)
	wantBadInput(t, err, "admin.penalty", "supplied by provider NDRC")
	_, err = l.LoadFile(ctx, "SELF", "self.reported", CSV, strings.NewReader(""), noop, nil)
	wantBadInput(t, err, "self-reported")
	if f, err := ParseFormat(" CSV "); err != nil || f != CSV {
		t.Fatalf("ParseFormat = %q, %v", f, err)
	}
	if _, err := ParseFormat("json"); err == nil {
		t.Fatal("ParseFormat accepted json")
	}
}

// failingReader yields content, then an error.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if errors.Is(err, io.EOF) {
		return n, f.err
	}
	return n, err
}

func TestLoadFileStops(t *testing.T) {
	l, pool := newTestLoader(t, 2)
	a := code(t, 801)
	register(t, l, a)
	var sb strings.Builder
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&sb, `{"sourceId":"F-%d","uscc":%q,"occurredOn":"2025-01-01","data":{"severity":"minor"}}`+"\n", i, a)
	}

	broken := errors.New("disk unplugged")
	p, err := l.LoadFile(context.Background(), "NDRC", "admin.penalty", NDJSON,
		&failingReader{r: strings.NewReader(sb.String()), err: broken}, nil, nil)
	if !errors.Is(err, broken) {
		t.Fatalf("error = %v, want the read error", err)
	}
	if p.Rows != 10 {
		t.Fatalf("progress = %+v", p)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = l.LoadFile(ctx, "NDRC", "admin.penalty", NDJSON, strings.NewReader(sb.String()), nil, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}

	// The same file loads completely afterwards; rows committed before the failure are duplicates.
	p, err = l.LoadFile(context.Background(), "NDRC", "admin.penalty", NDJSON, strings.NewReader(sb.String()), nil, nil)
	if err != nil || p.Accepted+p.Duplicates != 10 {
		t.Fatalf("reload = %+v, %v", p, err)
	}
	if n := countRecords(t, pool, "admin.penalty"); n != 10 {
		t.Fatalf("records = %d, want 10", n)
	}
}

func TestLoadNDJSONLongLines(t *testing.T) {
	l, pool := newTestLoader(t, 0)
	a := code(t, 901)
	register(t, l, a)
	big := strings.Repeat("长", 100_000) // 300 KB: longer than the read buffer
	huge := strings.Repeat("x", maxLineBytes)
	file := strings.Join([]string{
		fmt.Sprintf(`{"sourceId":"L-1","uscc":%q,"occurredOn":"2025-01-01","data":{"severity":"minor","text":%q}}`, a, big),
		fmt.Sprintf(`{"sourceId":"L-2","uscc":%q,"occurredOn":"2025-01-01","data":{"severity":"minor","text":%q}}`, a, huge),
		fmt.Sprintf(`{"sourceId":"L-3","uscc":%q,"occurredOn":"2025-01-01","data":{"severity":"minor"}}`, a),
	}, "\n")
	o := mustLoad(t, l, "NDRC", "admin.penalty", NDJSON, file)
	if o.progress.Accepted != 2 {
		t.Fatalf("progress = %+v", o.progress)
	}
	wantRejections(t, o.rejected, map[int]string{2: "line longer than"})
	if r := mustRecord(t, pool, "NDRC", "admin.penalty", "L-1"); r.data["text"] != big {
		t.Fatal("the long line was not stored intact")
	}
	mustRecord(t, pool, "NDRC", "admin.penalty", "L-3")
}
