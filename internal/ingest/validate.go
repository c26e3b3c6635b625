package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	gojson "github.com/goccy/go-json"

	"creditd/internal/uscc"
)

const (
	// MaxSourceIDLength is the longest sourceId accepted, in characters.
	MaxSourceIDLength = 200
	// MaxDataBytes is the largest payload accepted for one record, in bytes of JSON.
	MaxDataBytes = 1 << 20
	// maxDepth bounds the nesting of payloads.
	maxDepth = 64
)

// prepared is a validated row, ready to be merged.
type prepared struct {
	line     int
	id       [16]byte // set when the row turns out to be a new record
	sourceID string
	uscc     string
	occurred time.Time
	ends     time.Time
	hasEnds  bool
	data     []byte // compact JSON, keys sorted
	hash     []byte // ContentHash
}

// validator checks rows of one item against the rules of that item and the date "today".
type validator struct {
	today   time.Time
	payload func(object) string // nil when the item has no payload rules
}

func newValidator(item string, today time.Time) *validator {
	return &validator{today: today, payload: payloadRule(item)}
}

// row validates a row whose payload is raw JSON (Submit). It returns the prepared row, or a
// non-empty reason naming the field and the rule; the first problem in field order is named.
func (v *validator) row(line int, sourceID, rawUSCC, occurredOn, endsOn string, data json.RawMessage) (prepared, string) {
	p, reason := v.scalars(line, sourceID, rawUSCC, occurredOn, endsOn)
	if reason != "" {
		return prepared{}, reason
	}
	obj, reason := decodeObject(data)
	if reason != "" {
		return prepared{}, reason
	}
	return v.finish(p, mapObject(obj))
}

// fields validates a row whose payload is already decoded (numbers as json.Number); a nil
// payload is missing.
func (v *validator) fields(line int, sourceID, rawUSCC, occurredOn, endsOn string, data object) (prepared, string) {
	p, reason := v.scalars(line, sourceID, rawUSCC, occurredOn, endsOn)
	if reason != "" {
		return prepared{}, reason
	}
	if data == nil {
		return prepared{}, "data: required, a JSON object"
	}
	return v.finish(p, data)
}

// scalars checks the fields other than the payload.
func (v *validator) scalars(line int, sourceID, rawUSCC, occurredOn, endsOn string) (prepared, string) {
	if r := checkSourceID(sourceID); r != "" {
		return prepared{}, r
	}
	code, err := uscc.Parse(rawUSCC)
	if err != nil {
		if strings.TrimSpace(rawUSCC) == "" {
			return prepared{}, "uscc: required"
		}
		return prepared{}, "uscc: " + err.Error()
	}
	occurred, r := parseDate("occurredOn", occurredOn, true)
	if r != "" {
		return prepared{}, r
	}
	if occurred.After(v.today) {
		return prepared{}, fmt.Sprintf("occurredOn: %s is after today (%s, Asia/Shanghai)", occurred.Format(time.DateOnly), v.today.Format(time.DateOnly))
	}
	ends, r := parseDate("endsOn", endsOn, false)
	if r != "" {
		return prepared{}, r
	}
	hasEnds := !ends.IsZero()
	if hasEnds && ends.Before(occurred) {
		return prepared{}, fmt.Sprintf("endsOn: %s is before occurredOn %s", ends.Format(time.DateOnly), occurred.Format(time.DateOnly))
	}
	// Cloned: the inputs may be substrings of a whole line, which the row should not keep alive.
	return prepared{line: line, sourceID: strings.Clone(sourceID), uscc: strings.Clone(string(code)),
		occurred: occurred, ends: ends, hasEnds: hasEnds}, ""
}

// finish checks the payload against the item's rules, encodes it and identifies the row.
func (v *validator) finish(p prepared, data object) (prepared, string) {
	if v.payload != nil {
		if r := v.payload(data); r != "" {
			return prepared{}, r
		}
	}
	stored, canon, err := encode(data)
	if err != nil {
		return prepared{}, err.Error()
	}
	if len(stored) > MaxDataBytes {
		return prepared{}, fmt.Sprintf("data: larger than %d bytes", MaxDataBytes)
	}
	endsText := ""
	if p.hasEnds {
		endsText = p.ends.Format(time.DateOnly)
	}
	p.data = stored
	p.hash = hashContent(p.occurred.Format(time.DateOnly), endsText, canon)
	return p, ""
}

func checkSourceID(s string) string {
	switch {
	case strings.TrimSpace(s) == "":
		return "sourceId: required, a non-empty string"
	case !utf8.ValidString(s):
		return "sourceId: not valid UTF-8"
	case utf8.RuneCountInString(s) > MaxSourceIDLength:
		return fmt.Sprintf("sourceId: longer than %d characters", MaxSourceIDLength)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "sourceId: must not contain control characters"
	}
	return ""
}

// parseDate parses a calendar date YYYY-MM-DD. An absent optional date is the zero time.
func parseDate(field, s string, required bool) (time.Time, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			return time.Time{}, field + ": required, a date YYYY-MM-DD"
		}
		return time.Time{}, ""
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || len(s) != len(time.DateOnly) || t.Year() < 1 {
		return time.Time{}, fmt.Sprintf("%s: %q is not a real date YYYY-MM-DD", field, clip(s, 40))
	}
	return t, ""
}

// decodeObject decodes a payload that must be one JSON object, keeping numbers exact.
func decodeObject(raw json.RawMessage) (map[string]any, string) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, "data: required, a JSON object"
	}
	if len(raw) > MaxDataBytes {
		return nil, fmt.Sprintf("data: larger than %d bytes", MaxDataBytes)
	}
	if !utf8.Valid(raw) {
		return nil, "data: not valid UTF-8"
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, "data: not valid JSON: " + jsonErrText(err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, "data: must be a JSON object, got " + kindOf(v)
	}
	return obj, ""
}

// errTrailingData reports input left after a JSON value.
var errTrailingData = errors.New("unexpected data after the value")

// decodeJSON decodes one JSON value (RFC 8259) as encoding/json decodes it into an any, with
// numbers as json.Number so that they stay exactly as sent: map[string]any (a repeated key
// keeps its last value), []any, string, json.Number, bool or nil. Anything but white space
// after the value is an error. Decoded strings share memory with a private copy of raw, so
// callers copy the ones they keep beyond the row at hand.
func decodeJSON(raw []byte) (any, error) {
	dec := gojson.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.DecodeWithOption(&v, gojson.DecodeNoCopyString()); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errTrailingData
	}
	return v, nil
}

// jsonErrText describes an error of decodeJSON.
func jsonErrText(err error) string {
	var se *gojson.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "unexpected end of input"
	}
	return err.Error()
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// payloadRule returns the check of the payload fields the platform relies on for item.
func payloadRule(item string) func(object) string {
	switch item {
	case Registration:
		return registrationRule
	case "admin.penalty":
		return penaltyRule
	}
	return nil
}

var (
	sizes        = []string{"micro", "small", "medium", "large"}
	subjectTypes = []string{"enterprise", "individual_business", "cooperative"}
	severities   = []string{"minor", "ordinary", "serious"}
)

func registrationRule(d object) string {
	n, _ := d.field("name")
	name, ok := n.(string)
	if !ok || strings.TrimSpace(name) == "" {
		return "data.name: required, a non-empty string"
	}
	if rc, present := d.field("region_code"); present && rc != nil && !isRegionCode(rc) {
		return "data.region_code: must be 6 digits (GB/T 2260)"
	}
	if r := optionalEnum(d, "size", sizes); r != "" {
		return r
	}
	return optionalEnum(d, "subject_type", subjectTypes)
}

func penaltyRule(d object) string {
	v, _ := d.field("severity")
	s, ok := v.(string)
	if !ok || !oneOf(s, severities) {
		return "data.severity: required, one of " + strings.Join(severities, ", ")
	}
	return ""
}

func isRegionCode(v any) bool {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case json.Number:
		s = x.String()
	default:
		return false
	}
	if len(s) != 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func optionalEnum(d object, key string, allowed []string) string {
	v, present := d.field(key)
	if !present || v == nil {
		return ""
	}
	if s, ok := v.(string); ok && oneOf(s, allowed) {
		return ""
	}
	return fmt.Sprintf("data.%s: must be one of %s", key, strings.Join(allowed, ", "))
}

func oneOf(s string, set []string) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}
