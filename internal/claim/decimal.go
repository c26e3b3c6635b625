package claim

import (
	"creditd/internal/jsonnum"

	"errors"
	"strings"
)

// Decimal is an exact, finite decimal number. The zero value is 0.
//
// It is kept as a sign, a string of significant digits without leading or trailing zeros and a
// decimal exponent: the value is ±0.digits × 10^exp. Comparison and formatting work on the
// digits directly, so no arithmetic on huge powers of ten is ever done and nothing is rounded.
type Decimal struct {
	neg    bool
	digits string // "" for zero; otherwise starts and ends with a non-zero digit
	exp    int    // value = 0.digits × 10^exp
}

// maxExponentDigits bounds the exponent part of a literal so that it fits an int with room.
const maxExponentDigits = 9

var errNotNumber = errors.New("not a decimal number")

// ParseDecimal parses s, which must be a number in JSON syntax ("-12", "0.47", "1.2e6"; no
// leading "+", no leading zeros, no surrounding spaces). The exponent part may have at most
// nine digits.
func ParseDecimal(s string) (Decimal, error) {
	if !jsonnum.Valid(s) {
		return Decimal{}, errNotNumber
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		e := s[i+1:]
		eneg := false
		switch e[0] {
		case '-':
			eneg = true
			e = e[1:]
		case '+':
			e = e[1:]
		}
		e = strings.TrimLeft(e, "0")
		if len(e) > maxExponentDigits {
			return Decimal{}, errNotNumber
		}
		for i := 0; i < len(e); i++ {
			exp = exp*10 + int(e[i]-'0')
		}
		if eneg {
			exp = -exp
		}
	}
	intPart, frac := mant, ""
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		intPart, frac = mant[:i], mant[i+1:]
	}
	// value = 0.(intPart frac) × 10^(len(intPart)+exp)
	all := intPart + frac
	exp += len(intPart)
	trimmed := strings.TrimLeft(all, "0")
	exp -= len(all) - len(trimmed)
	trimmed = strings.TrimRight(trimmed, "0")
	if trimmed == "" {
		return Decimal{}, nil
	}
	return Decimal{neg: neg, digits: trimmed, exp: exp}, nil
}

// Sign returns -1, 0 or +1.
func (d Decimal) Sign() int {
	switch {
	case d.digits == "":
		return 0
	case d.neg:
		return -1
	default:
		return 1
	}
}

// Neg returns -d.
func (d Decimal) Neg() Decimal {
	if d.digits == "" {
		return d
	}
	d.neg = !d.neg
	return d
}

// Cmp returns -1, 0 or +1 as d is less than, equal to or greater than e.
func (d Decimal) Cmp(e Decimal) int {
	ds, es := d.Sign(), e.Sign()
	if ds != es {
		if ds < es {
			return -1
		}
		return 1
	}
	if ds == 0 {
		return 0
	}
	c := cmpMagnitude(d, e)
	if ds < 0 {
		return -c
	}
	return c
}

// cmpMagnitude compares |d| and |e|, both non-zero.
func cmpMagnitude(d, e Decimal) int {
	switch {
	case d.exp < e.exp:
		return -1
	case d.exp > e.exp:
		return 1
	}
	// Same magnitude: digits carry no trailing zeros, so a proper prefix is the smaller one,
	// which is exactly byte-wise string order.
	return strings.Compare(d.digits, e.digits)
}

// String formats d in plain decimal notation without an exponent: "3900", "0.47", "-1.2", "0".
func (d Decimal) String() string {
	if d.digits == "" {
		return "0"
	}
	var b strings.Builder
	if d.neg {
		b.WriteByte('-')
	}
	n := len(d.digits)
	switch {
	case d.exp <= 0:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -d.exp))
		b.WriteString(d.digits)
	case d.exp < n:
		b.WriteString(d.digits[:d.exp])
		b.WriteByte('.')
		b.WriteString(d.digits[d.exp:])
	default:
		b.WriteString(d.digits)
		b.WriteString(strings.Repeat("0", d.exp-n))
	}
	return b.String()
}

// e12 is the E12 series as two-digit mantissas: 1.0 1.2 … 8.2 times a power of ten.
var e12 = [...]int{10, 12, 15, 18, 22, 27, 33, 39, 47, 56, 68, 82}

// Snap returns the threshold actually tested for a claim "op x", and its plain decimal text
// (the API's effectiveValue).
//
// The grid is 0 and ±m × 10^n for every m of the E12 series and every integer n. Thresholds
// move toward the safe side, so that a match on the snapped threshold implies the claim as asked:
// GE x tests the smallest grid value ≥ x, LE x the largest grid value ≤ x. Zero stays zero and
// negative values are mirrored (GE −x tests −(LE x), LE −x tests −(GE x)). A value already on
// the grid is tested as is. For any other op, x is returned unchanged.
func Snap(op Op, x Decimal) (Decimal, string) {
	var t Decimal
	switch {
	case op != GE && op != LE || x.Sign() == 0:
		t = x
	case x.neg:
		t = snapPositive(op == LE, x.Neg()).Neg()
	default:
		t = snapPositive(op == GE, x)
	}
	return t, t.String()
}

// snapPositive returns the smallest grid value ≥ x when up is set, else the largest grid value
// ≤ x; x > 0.
func snapPositive(up bool, x Decimal) Decimal {
	// x = 0.d1 d2 rest × 10^exp; lead = d1d2 ∈ [10, 99] is x / 10^(exp-2) truncated, and
	// more reports a non-zero remainder.
	lead := int(x.digits[0]-'0') * 10
	if len(x.digits) > 1 {
		lead += int(x.digits[1] - '0')
	}
	more := len(x.digits) > 2
	exp := x.exp
	m := 0
	if up {
		// Smallest E12 mantissa ≥ lead (> lead if there is a remainder); 100 if none.
		m = 100
		for _, v := range e12 {
			if v > lead || v == lead && !more {
				m = v
				break
			}
		}
		if m == 100 {
			m, exp = 10, exp+1
		}
	} else {
		// Largest E12 mantissa ≤ lead; lead ≥ 10, so one exists.
		for _, v := range e12 {
			if v <= lead {
				m = v
			}
		}
	}
	// m × 10^(exp-2) = 0.m × 10^exp.
	digits := strings.TrimRight(string([]byte{byte('0' + m/10), byte('0' + m%10)}), "0")
	return Decimal{digits: digits, exp: exp}
}
