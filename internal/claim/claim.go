// Package claim answers a claim about a hidden value without revealing it (数据核验, "usable but
// not visible"): an institution asks whether a field of an enterprise's latest eligible record
// is equal to, at least or at most a value, and learns only MATCH, NO_MATCH or UNAVAILABLE.
//
// Numeric thresholds are coarsened to the E12 grid (see Snap) toward the safe side, so a MATCH
// is always true of the claim as asked, and the answer is exact for the threshold actually
// tested, which is returned as the effective value. Repeated, adaptive GE/LE questions can
// therefore narrow a hidden number down to one grid step (about 18–25%) but no further; a
// hidden number that lies exactly on the grid is pinned by GE g together with LE g.
//
// # Which values are numeric
//
// A text is numeric when, after trimming surrounding white space, it is a number in JSON syntax
// ("4731", "-0.5", "1.2e6"; not "+5", ".5", "007" or "1,000"), the same rule the CSV loader
// uses to store a cell as a number. A hidden value is numeric when it is a JSON number or a JSON
// string whose text is numeric, so how a provider happened to encode a number does not change
// what may be asked about it. Then:
//
//   - GE and LE need a numeric claim value (checked on the claim alone, before the record is
//     looked at) and a numeric hidden value.
//   - EQ needs a non-empty, non-numeric claim value (checked on the claim alone) and a hidden
//     value that is a non-numeric string or a boolean (compared as "true"/"false"). Strings
//     are compared exactly after trimming surrounding white space; dates (YYYY-MM-DD) compare
//     as strings. Because both sides follow the same rule, EQ can never confirm a number.
//
// The only errors that depend on the hidden record are the type mismatches (GE/LE on a
// non-numeric value, EQ on a numeric one, any claim on an object or list); they reveal the kind
// of value a field holds, which is a property of the field, and never the value itself. A
// missing field, a JSON null or a blank string is UNAVAILABLE.
//
// The package is pure: no I/O, no database.
package claim

import (
	"creditd/internal/jsonnum"

	"bytes"
	"encoding/json"
	"strings"

	"creditd/internal/apperr"
)

// Op is a claim operator, as in the API's ClaimOp enum.
type Op string

const (
	EQ Op = "EQ" // equal to (non-numeric fields)
	GE Op = "GE" // at least (numeric fields)
	LE Op = "LE" // at most (numeric fields)
)

// Outcome is the answer to a claim, as in the API's VerifyOutcome enum.
type Outcome string

const (
	Match       Outcome = "MATCH"
	NoMatch     Outcome = "NO_MATCH"
	Unavailable Outcome = "UNAVAILABLE"
)

// Claim is a claim about one field of a record's payload: "Field Op Value".
type Claim struct {
	Field string
	Op    Op
	Value string
}

// Result is the answer to a claim and the value actually tested (the API's VerifyResult).
type Result struct {
	Outcome Outcome
	// EffectiveValue is the tested threshold in plain decimal notation for GE/LE, or the claim
	// value after trimming for EQ.
	EffectiveValue string
}

// Bounds of a numeric claim value: 10^(minExp-1) ≤ |x| < 10^maxExp, or x = 0.
const (
	maxExp = 1000
	minExp = -999
)

// prepared is a validated claim with its tested value.
type prepared struct {
	claim     Claim   // Value is the effective value
	threshold Decimal // GE/LE only
}

// Normalize checks a claim on its own, without any record, and returns the claim as it will be
// tested: Value is the effective value (the snapped threshold for GE/LE, the trimmed text for
// EQ). Callers that forward a claim elsewhere (e.g. to a provider that verifies it) forward the
// normalized claim. Errors are *apperr.Error with code BAD_INPUT.
func Normalize(c Claim) (Claim, error) {
	p, err := prepare(c)
	if err != nil {
		return Claim{}, err
	}
	return p.claim, nil
}

func prepare(c Claim) (prepared, error) {
	if c.Field == "" {
		return prepared{}, apperr.New(apperr.BadInput, "claim.field: must name a verifiable field of the item")
	}
	v := strings.TrimSpace(c.Value)
	switch c.Op {
	case GE, LE:
		x, err := ParseDecimal(v)
		if err != nil {
			return prepared{}, apperr.New(apperr.BadInput, "claim.value: %s on field %q needs a number in JSON syntax (e.g. 120000, 0.47 or 1.2e6)", c.Op, c.Field)
		}
		if x.Sign() != 0 && (x.exp > maxExp || x.exp < minExp) {
			return prepared{}, apperr.New(apperr.BadInput, "claim.value: %s on field %q: the number must be 0 or between 1e%d and 1e%d in magnitude", c.Op, c.Field, minExp-1, maxExp)
		}
		t, s := Snap(c.Op, x)
		return prepared{claim: Claim{Field: c.Field, Op: c.Op, Value: s}, threshold: t}, nil
	case EQ:
		if v == "" {
			return prepared{}, apperr.New(apperr.BadInput, "claim.value: EQ on field %q needs a non-empty value", c.Field)
		}
		if jsonnum.Valid(v) {
			return prepared{}, apperr.New(apperr.BadInput, "claim.value: EQ applies to non-numeric fields only; compare numbers on field %q with GE or LE", c.Field)
		}
		return prepared{claim: Claim{Field: c.Field, Op: EQ, Value: v}}, nil
	default:
		return prepared{}, apperr.New(apperr.BadInput, "claim.op %q: must be EQ, GE or LE", string(c.Op))
	}
}

// Evaluate answers claim c against payload, the JSON object of the latest record that the
// institution's rules allow. An empty payload or JSON null (no such record), a missing field, a
// JSON null and a blank string are UNAVAILABLE. See the package documentation for which values
// are numeric. Errors are *apperr.Error (BAD_INPUT for the claim, INTERNAL for a payload that
// is not a JSON object); their messages never contain the hidden value.
func Evaluate(c Claim, payload json.RawMessage) (Result, error) {
	p, err := prepare(c)
	if err != nil {
		return Result{}, err
	}
	unavailable := Result{Outcome: Unavailable, EffectiveValue: p.claim.Value}
	payload = bytes.TrimSpace(payload)
	if len(payload) == 0 || string(payload) == "null" {
		return unavailable, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(payload, &obj); err != nil {
		// The decoder's message may quote the payload: it is not wrapped.
		return Result{}, apperr.New(apperr.Internal, "verification of field %q: the stored record is not a JSON object", c.Field)
	}
	raw, ok := obj[c.Field]
	if !ok {
		return unavailable, nil
	}
	h, err := classify(c.Field, raw)
	if err != nil {
		return Result{}, err
	}
	var match bool
	switch {
	case h.kind == missing:
		return unavailable, nil
	case h.kind == composite:
		return Result{}, apperr.New(apperr.BadInput, "field %q: claims apply to single values, not to objects or lists", c.Field)
	case p.claim.Op == EQ:
		if h.kind == number {
			return Result{}, apperr.New(apperr.BadInput, "field %q: EQ applies to non-numeric fields only; use GE or LE", c.Field)
		}
		match = h.text == p.claim.Value
	default: // GE, LE
		if h.kind != number {
			return Result{}, apperr.New(apperr.BadInput, "field %q: %s applies to numeric fields only; use EQ", c.Field, p.claim.Op)
		}
		cmp := h.num.Cmp(p.threshold)
		match = p.claim.Op == GE && cmp >= 0 || p.claim.Op == LE && cmp <= 0
	}
	r := Result{Outcome: NoMatch, EffectiveValue: p.claim.Value}
	if match {
		r.Outcome = Match
	}
	return r, nil
}

type kind int

const (
	missing   kind = iota // JSON null or a blank string
	number                // JSON number or numeric string
	text                  // non-numeric string or boolean
	composite             // object or array
)

// hidden is a classified payload value.
type hidden struct {
	kind kind
	num  Decimal // number
	text string  // text: trimmed string, or "true"/"false"
}

// classify decodes one payload value. raw is valid JSON (it came out of a decoded object).
func classify(field string, raw json.RawMessage) (hidden, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return hidden{kind: missing}, nil
	}
	switch raw[0] {
	case 'n':
		return hidden{kind: missing}, nil
	case 't', 'f':
		return hidden{kind: text, text: string(raw)}, nil
	case '{', '[':
		return hidden{kind: composite}, nil
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return hidden{}, apperr.New(apperr.Internal, "verification: the stored value of field %q is not valid JSON", field)
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return hidden{kind: missing}, nil
		}
		if !jsonnum.Valid(s) {
			return hidden{kind: text, text: s}, nil
		}
		raw = json.RawMessage(s)
	}
	d, err := ParseDecimal(string(raw))
	if err != nil {
		return hidden{}, apperr.New(apperr.Internal, "verification: the stored number of field %q cannot be compared", field)
	}
	return hidden{kind: number, num: d}, nil
}
