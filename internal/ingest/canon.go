package ingest

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Payloads are stored as compact JSON with object keys sorted and numbers written as sent.
// Their content hash is computed over a canonical form in which numbers are also normalized
// (1, 1.0 and 1e0 are the same number), so two payloads hash alike exactly when they are
// semantically equal JSON: same keys and values, whatever the key order, spacing or number
// spelling.

// maxNumberDigits and maxNumberExponent bound numbers to what PostgreSQL's numeric (and so
// jsonb) stores.
const (
	maxNumberDigits   = 1000
	maxNumberExponent = 1000
)

// fieldError is a payload problem at a path such as ".amount" or ".items[2].name".
type fieldError struct {
	path string
	msg  string
}

func (e *fieldError) Error() string { return "data" + e.path + ": " + e.msg }

func (e *fieldError) under(prefix string) *fieldError {
	e.path = prefix + e.path
	return e
}

// object is a record payload: a JSON object.
type object interface {
	// field returns the value of key: string, json.Number, bool, nil, []any or map[string]any.
	field(key string) (any, bool)
	// appendJSON appends the object as compact JSON with sorted keys; with canonical set,
	// numbers are normalized. differs reports whether a number's canonical spelling differs
	// from the one written.
	appendJSON(dst []byte, canonical bool) (out []byte, differs bool, err *fieldError)
}

// mapObject is a decoded JSON object (numbers as json.Number).
type mapObject map[string]any

func (m mapObject) field(key string) (any, bool) {
	v, ok := m[key]
	return v, ok
}

func (m mapObject) appendJSON(dst []byte, canonical bool) ([]byte, bool, *fieldError) {
	return appendValue(dst, map[string]any(m), canonical, 0)
}

// encode returns the stored form of obj and its canonical form (which may share memory with
// the stored form when both are equal).
func encode(obj object) (stored, canon []byte, err error) {
	stored, differs, ferr := obj.appendJSON(make([]byte, 0, 256), false)
	if ferr != nil {
		return nil, nil, ferr
	}
	if !differs {
		return stored, stored, nil
	}
	canon, _, ferr = obj.appendJSON(make([]byte, 0, len(stored)), true)
	if ferr != nil {
		return nil, nil, ferr
	}
	return stored, canon, nil
}

// appendValue appends v as JSON. With canonical set, numbers are normalized. differs reports
// whether a number's canonical spelling differs from the one written.
func appendValue(dst []byte, v any, canonical bool, depth int) (out []byte, differs bool, err *fieldError) {
	if depth > maxDepth {
		return dst, false, &fieldError{msg: fmt.Sprintf("nested deeper than %d levels", maxDepth)}
	}
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), false, nil
	case bool:
		return strconv.AppendBool(dst, x), false, nil
	case string:
		return appendText(dst, x)
	case json.Number:
		return appendNumber(dst, string(x), canonical)
	case []any:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var d bool
			var ferr *fieldError
			dst, d, ferr = appendValue(dst, e, canonical, depth+1)
			if ferr != nil {
				return dst, false, ferr.under("[" + strconv.Itoa(i) + "]")
			}
			differs = differs || d
		}
		return append(dst, ']'), differs, nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if strings.IndexByte(k, 0) >= 0 {
				return dst, false, &fieldError{msg: `keys must not contain the NUL character (\u0000)`}
			}
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, k)
			dst = append(dst, ':')
			var d bool
			var ferr *fieldError
			dst, d, ferr = appendValue(dst, x[k], canonical, depth+1)
			if ferr != nil {
				return dst, false, ferr.under("." + k)
			}
			differs = differs || d
		}
		return append(dst, '}'), differs, nil
	}
	return dst, false, &fieldError{msg: fmt.Sprintf("unsupported value %T", v)}
}

// appendNumber appends a number literal as sent, or canonical.
func appendNumber(dst []byte, lit string, canonical bool) ([]byte, bool, *fieldError) {
	c, err := canonNumber(lit)
	if err != nil {
		return dst, false, &fieldError{msg: err.Error()}
	}
	if canonical {
		return append(dst, c...), false, nil
	}
	return append(dst, lit...), c != lit, nil
}

// appendText appends a string value, refusing NUL, which PostgreSQL cannot store.
func appendText(dst []byte, s string) ([]byte, bool, *fieldError) {
	if strings.IndexByte(s, 0) >= 0 {
		return dst, false, &fieldError{msg: `strings must not contain the NUL character (\u0000)`}
	}
	return appendString(dst, s), false, nil
}

const hexDigits = "0123456789abcdef"

// appendString appends s (valid UTF-8) as a JSON string.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// canonNumber returns the canonical spelling of a JSON number literal: no exponent, no
// leading or trailing zeros ("1e2", "100.0" → "100"; "-0" → "0"), and scientific notation
// only for very large or very small magnitudes. It refuses numbers PostgreSQL cannot store.
func canonNumber(lit string) (string, error) {
	if isPlainInt(lit) {
		return lit, nil
	}
	s := lit
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	intPart, frac, exp := s, "", 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e := s[i+1:]
		intPart = s[:i]
		e = strings.TrimPrefix(e, "+")
		n, err := strconv.Atoi(e)
		if err != nil || n > 1_000_000 || n < -1_000_000 {
			return "", fmt.Errorf("number %s is out of range", clip(lit, 40))
		}
		exp = n
	}
	if i := strings.IndexByte(intPart, '.'); i >= 0 {
		intPart, frac = intPart[:i], intPart[i+1:]
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		return "0", nil
	}
	exp -= len(frac)
	trimmed := strings.TrimRight(digits, "0")
	exp += len(digits) - len(trimmed)
	digits = trimmed
	adj := len(digits) + exp // digits before the decimal point
	if len(digits) > maxNumberDigits || adj > maxNumberExponent || adj < -maxNumberExponent {
		return "", fmt.Errorf("number %s is out of range", clip(lit, 40))
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	switch {
	case exp >= 0 && adj <= 40:
		b.WriteString(digits)
		b.WriteString(strings.Repeat("0", exp))
	case exp < 0 && adj > 0:
		b.WriteString(digits[:adj])
		b.WriteByte('.')
		b.WriteString(digits[adj:])
	case exp < 0 && adj > -20:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -adj))
		b.WriteString(digits)
	default:
		b.WriteString(digits[:1])
		if len(digits) > 1 {
			b.WriteByte('.')
			b.WriteString(digits[1:])
		}
		b.WriteByte('e')
		b.WriteString(strconv.Itoa(adj - 1))
	}
	return b.String(), nil
}

// isPlainInt reports whether lit is an integer literal already in canonical form.
func isPlainInt(lit string) bool {
	s := strings.TrimPrefix(lit, "-")
	if s == "" || len(s) > 40 || (s[0] == '0' && (len(s) > 1 || len(lit) > 1)) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// hashContent is the content hash of a record: its dates and canonical payload.
func hashContent(occurredOn, endsOn string, canon []byte) []byte {
	buf := make([]byte, 0, len(hashPrefix)+len(occurredOn)+len(endsOn)+2+len(canon))
	buf = append(buf, hashPrefix...)
	buf = append(buf, occurredOn...)
	buf = append(buf, 0)
	buf = append(buf, endsOn...)
	buf = append(buf, 0)
	buf = append(buf, canon...)
	sum := sha256.Sum256(buf)
	return sum[:]
}

const hashPrefix = "creditd.record.v1\x00"

// ContentHash returns the value stored in records.content_hash for a record with these dates
// (YYYY-MM-DD; endsOn may be empty) and payload (a JSON object). Code that changes a record's
// content outside the loader (e.g. a correction after an objection) stores this hash so that
// a later identical load counts as a duplicate.
func ContentHash(occurredOn, endsOn string, data json.RawMessage) ([]byte, error) {
	occurred, reason := parseDate("occurredOn", occurredOn, true)
	if reason != "" {
		return nil, fmt.Errorf("content hash: %s", reason)
	}
	ends, reason := parseDate("endsOn", endsOn, false)
	if reason != "" {
		return nil, fmt.Errorf("content hash: %s", reason)
	}
	obj, reason := decodeObject(data)
	if reason != "" {
		return nil, fmt.Errorf("content hash: %s", reason)
	}
	_, canon, err := encode(mapObject(obj))
	if err != nil {
		return nil, fmt.Errorf("content hash: %w", err)
	}
	endsText := ""
	if !ends.IsZero() {
		endsText = ends.Format(time.DateOnly)
	}
	return hashContent(occurred.Format(time.DateOnly), endsText, canon), nil
}

// validUTF8 reports whether every cell is valid UTF-8.
func validUTF8(cells []string) bool {
	for _, c := range cells {
		if !utf8.ValidString(c) {
			return false
		}
	}
	return true
}
