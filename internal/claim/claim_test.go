package claim

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"creditd/internal/apperr"
)

const basic = `{"name":"某某科技有限公司","legal_representative":" 张三 ","registered_capital":5000000,` +
	`"established_on":"2015-03-18","insured":true,"headcount":"37","period":"2024-03",` +
	`"amount":4731.5,"note":null,"blank":"  ","tags":["a"],"addr":{"city":"x"},"cert":"0012345"}`

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name  string
		claim Claim
		want  Result
	}{
		{"EQ string match after trimming both sides", Claim{"legal_representative", EQ, "张三  "}, Result{Match, "张三"}},
		{"EQ string no match", Claim{"legal_representative", EQ, "李四"}, Result{NoMatch, "李四"}},
		{"EQ is exact otherwise", Claim{"legal_representative", EQ, "张 三"}, Result{NoMatch, "张 三"}},
		{"EQ date match", Claim{"established_on", EQ, "2015-03-18"}, Result{Match, "2015-03-18"}},
		{"EQ date no match", Claim{"established_on", EQ, "2015-3-18"}, Result{NoMatch, "2015-3-18"}},
		{"EQ period", Claim{"period", EQ, "2024-03"}, Result{Match, "2024-03"}},
		{"EQ boolean", Claim{"insured", EQ, "true"}, Result{Match, "true"}},
		{"EQ boolean no match", Claim{"insured", EQ, "false"}, Result{NoMatch, "false"}},
		{"EQ identifier with leading zeros is text", Claim{"cert", EQ, "0012345"}, Result{Match, "0012345"}},
		{"GE number match", Claim{"registered_capital", GE, "4000000"}, Result{Match, "4700000"}},
		{"GE number snapped up, no match", Claim{"registered_capital", GE, "4800000"}, Result{NoMatch, "5600000"}},
		{"GE at grid point", Claim{"registered_capital", GE, "4.7e6"}, Result{Match, "4700000"}},
		{"LE number", Claim{"registered_capital", LE, "5000000"}, Result{NoMatch, "4700000"}},
		{"LE number match", Claim{"registered_capital", LE, "6000000"}, Result{Match, "5600000"}},
		{"GE numeric string", Claim{"headcount", GE, "30"}, Result{Match, "33"}},
		{"LE numeric string", Claim{"headcount", LE, "38"}, Result{NoMatch, "33"}},
		{"GE fraction", Claim{"amount", GE, "4700"}, Result{Match, "4700"}},
		{"GE zero", Claim{"amount", GE, "0"}, Result{Match, "0"}},
		{"LE negative", Claim{"amount", LE, "-5"}, Result{NoMatch, "-5.6"}},
		{"GE claim value trimmed", Claim{"amount", GE, " 4000 "}, Result{Match, "4700"}},
		{"missing field", Claim{"nosuch", GE, "1"}, Result{Unavailable, "1"}},
		{"missing field EQ", Claim{"nosuch", EQ, "x"}, Result{Unavailable, "x"}},
		{"null field", Claim{"note", EQ, "x"}, Result{Unavailable, "x"}},
		{"null field GE", Claim{"note", GE, "37"}, Result{Unavailable, "39"}},
		{"blank string", Claim{"blank", EQ, "x"}, Result{Unavailable, "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Evaluate(tt.claim, json.RawMessage(basic))
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			if got != tt.want {
				t.Errorf("Evaluate(%+v) = %+v, want %+v", tt.claim, got, tt.want)
			}
		})
	}
}

func TestEvaluateNoRecord(t *testing.T) {
	for _, payload := range []string{"", "  ", "null"} {
		got, err := Evaluate(Claim{"amount", GE, "4731"}, json.RawMessage(payload))
		if err != nil {
			t.Fatalf("payload %q: %v", payload, err)
		}
		if want := (Result{Unavailable, "5600"}); got != want {
			t.Errorf("payload %q: got %+v, want %+v", payload, got, want)
		}
	}
}

// TestEvaluateErrors covers claims that are rejected and checks that no message contains the
// hidden value.
func TestEvaluateErrors(t *testing.T) {
	const secretText = "SECRET-王五"
	const secretNum = "98765.4321"
	payload := fmt.Sprintf(`{"who":%q,"amt":%s,"amt_text":"%s","flag":false,"list":[%q],"obj":{"k":%q},"huge":1e12345678901}`,
		secretText, secretNum, secretNum, secretText, secretText)
	tests := []struct {
		name    string
		claim   Claim
		payload string
		code    apperr.Code
		wantMsg string // a part of the message
	}{
		{"unknown op", Claim{"amt", Op("GT"), "1"}, payload, apperr.BadInput, "must be EQ, GE or LE"},
		{"empty op", Claim{"amt", "", "1"}, payload, apperr.BadInput, "must be EQ, GE or LE"},
		{"empty field", Claim{"", GE, "1"}, payload, apperr.BadInput, "claim.field"},
		{"GE with text value", Claim{"amt", GE, "many"}, payload, apperr.BadInput, "needs a number"},
		{"LE with empty value", Claim{"amt", LE, ""}, payload, apperr.BadInput, "needs a number"},
		{"GE with NaN", Claim{"amt", GE, "NaN"}, payload, apperr.BadInput, "needs a number"},
		{"GE with Inf", Claim{"amt", GE, "Inf"}, payload, apperr.BadInput, "needs a number"},
		{"GE with thousands separator", Claim{"amt", GE, "1,000"}, payload, apperr.BadInput, "needs a number"},
		{"GE out of range", Claim{"amt", GE, "1e1001"}, payload, apperr.BadInput, "between"},
		{"LE out of range small", Claim{"amt", LE, "1e-1001"}, payload, apperr.BadInput, "between"},
		{"EQ with number", Claim{"who", EQ, "37"}, payload, apperr.BadInput, "EQ applies to non-numeric fields"},
		{"EQ with number on missing field", Claim{"nosuch", EQ, "37"}, payload, apperr.BadInput, "EQ applies to non-numeric fields"},
		{"EQ with empty value", Claim{"who", EQ, "  "}, payload, apperr.BadInput, "non-empty"},
		{"EQ on a number", Claim{"amt", EQ, "abc"}, payload, apperr.BadInput, "EQ applies to non-numeric fields"},
		{"EQ on a numeric string", Claim{"amt_text", EQ, "abc"}, payload, apperr.BadInput, "EQ applies to non-numeric fields"},
		{"GE on a string", Claim{"who", GE, "1"}, payload, apperr.BadInput, "GE applies to numeric fields"},
		{"LE on a string", Claim{"who", LE, "1"}, payload, apperr.BadInput, "LE applies to numeric fields"},
		{"GE on a boolean", Claim{"flag", GE, "0"}, payload, apperr.BadInput, "GE applies to numeric fields"},
		{"EQ on a list", Claim{"list", EQ, "x"}, payload, apperr.BadInput, "single values"},
		{"GE on an object", Claim{"obj", GE, "1"}, payload, apperr.BadInput, "single values"},
		{"stored number beyond range", Claim{"huge", GE, "1"}, payload, apperr.Internal, "cannot be compared"},
		{"payload not an object", Claim{"who", EQ, "x"}, `["` + secretText + `"]`, apperr.Internal, "not a JSON object"},
		{"payload not JSON", Claim{"who", EQ, "x"}, `{"who":"` + secretText, apperr.Internal, "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Evaluate(tt.claim, json.RawMessage(tt.payload))
			if err == nil {
				t.Fatalf("Evaluate(%+v) = %+v, want an error", tt.claim, got)
			}
			var ae *apperr.Error
			if !errors.As(err, &ae) {
				t.Fatalf("error %v is not an *apperr.Error", err)
			}
			if ae.Code != tt.code {
				t.Errorf("code = %s, want %s", ae.Code, tt.code)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("message %q does not contain %q", msg, tt.wantMsg)
			}
			if tt.claim.Field != "" && ae.Code == apperr.BadInput && !strings.Contains(msg, tt.claim.Field) && !strings.Contains(msg, string(tt.claim.Op)) {
				t.Errorf("message %q names neither the field nor the op", msg)
			}
			for _, secret := range []string{secretText, secretNum, "98765", "王五", "false", "12345678901"} {
				if strings.Contains(msg, secret) {
					t.Errorf("message %q contains the hidden value %q", msg, secret)
				}
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		in   Claim
		want Claim
	}{
		{Claim{"area_m2", GE, "117.3"}, Claim{"area_m2", GE, "120"}},
		{Claim{"area_m2", LE, "117.3"}, Claim{"area_m2", LE, "100"}},
		{Claim{"amount", GE, "1.2E6"}, Claim{"amount", GE, "1200000"}},
		{Claim{"certificate_no", EQ, "  京(2020)不动产权第0001234号 "}, Claim{"certificate_no", EQ, "京(2020)不动产权第0001234号"}},
	}
	for _, tt := range tests {
		got, err := Normalize(tt.in)
		if err != nil {
			t.Errorf("Normalize(%+v): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Normalize(%+v) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
	if _, err := Normalize(Claim{"amount", GE, "lots"}); apperr.CodeOf(err) != apperr.BadInput {
		t.Errorf("Normalize of a non-numeric GE claim: error %v, want BAD_INPUT", err)
	}
}

// randDecimal returns a random decimal literal in JSON syntax: up to maxDigits significant
// digits, a decimal exponent in [minE, maxE], negative with probability pNeg.
func randDecimal(rng *rand.Rand, maxDigits, minE, maxE int, pNeg float64) string {
	n := 1 + rng.IntN(maxDigits)
	var b strings.Builder
	if rng.Float64() < pNeg {
		b.WriteByte('-')
	}
	b.WriteByte(byte('1' + rng.IntN(9)))
	for i := 1; i < n; i++ {
		b.WriteByte(byte('0' + rng.IntN(10)))
	}
	fmt.Fprintf(&b, "e%d", minE+rng.IntN(maxE-minE+1))
	return b.String()
}

func mustRat(t *testing.T, s string) *big.Rat {
	t.Helper()
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		t.Fatalf("not a number: %q", s)
	}
	return r
}

// onGrid reports whether r is 0 or ±m/10 × 10^n for some E12 m and integer n.
func onGrid(r *big.Rat) bool {
	if r.Sign() == 0 {
		return true
	}
	a := new(big.Rat).Abs(r)
	ten := big.NewRat(10, 1)
	one := big.NewRat(1, 1)
	for a.Cmp(ten) >= 0 {
		a.Quo(a, ten)
	}
	for a.Cmp(one) < 0 {
		a.Mul(a, ten)
	}
	a.Mul(a, ten) // now in [10, 100)
	if !a.IsInt() {
		return false
	}
	for _, m := range testE12 {
		if a.Num().Int64() == m {
			return true
		}
	}
	return false
}

// gridNeighbour returns the grid value next to g (g on the grid, non-zero) in direction dir
// (+1: the smallest grid value > g, −1: the largest grid value < g).
func gridNeighbour(g *big.Rat, dir int) *big.Rat {
	if g.Sign() < 0 {
		n := gridNeighbour(new(big.Rat).Neg(g), -dir)
		return n.Neg(n)
	}
	// Positive g: find n and index with g = testE12[i]/10 × 10^n.
	a := new(big.Rat).Set(g)
	n := 0
	ten := big.NewRat(10, 1)
	for a.Cmp(ten) >= 0 {
		a.Quo(a, ten)
		n++
	}
	for a.Cmp(big.NewRat(1, 1)) < 0 {
		a.Mul(a, ten)
		n--
	}
	a.Mul(a, ten)
	i := 0
	for testE12[i] != a.Num().Int64() {
		i++
	}
	i += dir
	switch {
	case i < 0:
		return gridRat(testE12[len(testE12)-1], n-1)
	case i >= len(testE12):
		return gridRat(testE12[0], n+1)
	}
	return gridRat(testE12[i], n)
}

func holds(op Op, h, x *big.Rat) bool {
	if op == GE {
		return h.Cmp(x) >= 0
	}
	return h.Cmp(x) <= 0
}

// TestSafeSideProperty checks, for random hidden values and claims, that a MATCH is always true
// of the claim as asked, that the outcome is exactly "hidden op effectiveValue", and that the
// effective value is the nearest grid value on the safe side of the claim.
func TestSafeSideProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(20240601, 7))
	const cases = 120_000
	var matches, noMatches, coarsened int
	for i := 0; i < cases; i++ {
		var hidden string
		switch k := rng.IntN(20); {
		case k == 0:
			hidden = "0"
		case k <= 3: // exactly on the grid
			hidden = fmt.Sprintf("%de%d", testE12[rng.IntN(len(testE12))], rng.IntN(16)-5)
			if rng.IntN(4) == 0 {
				hidden = "-" + hidden
			}
		case k <= 6: // small integers, like headcounts
			hidden = fmt.Sprint(rng.IntN(300))
		default:
			hidden = randDecimal(rng, 7, -8, 12, 0.1)
		}
		h := mustRat(t, hidden)

		var x string
		switch k := rng.IntN(10); {
		case k <= 1: // the hidden value itself
			x = ratText(h)
		case k <= 5: // close to the hidden value
			f := new(big.Rat).SetFrac64(int64(500+rng.IntN(1001)), 1000)
			x = ratText(new(big.Rat).Mul(h, f))
		case k == 6: // a grid value
			x = fmt.Sprintf("%de%d", testE12[rng.IntN(len(testE12))], rng.IntN(16)-5)
		default:
			x = randDecimal(rng, 9, -8, 12, 0.15)
		}
		xr := mustRat(t, x)
		op := GE
		if rng.IntN(2) == 0 {
			op = LE
		}

		enc, _ := json.Marshal(hidden) // as a JSON string
		if rng.IntN(2) == 0 {
			enc = []byte(hidden) // as a JSON number
		}
		payload := `{"v":` + string(enc) + `}`
		res, err := Evaluate(Claim{Field: "v", Op: op, Value: x}, json.RawMessage(payload))
		if err != nil {
			t.Fatalf("Evaluate(v %s %s) on %s: %v", op, x, payload, err)
		}
		eff := mustRat(t, res.EffectiveValue)
		if !onGrid(eff) {
			t.Fatalf("%s %s: effective value %s is not on the grid", op, x, res.EffectiveValue)
		}
		if !holds(op, eff, xr) {
			t.Fatalf("%s %s: effective value %s is not on the safe side", op, x, res.EffectiveValue)
		}
		if eff.Cmp(xr) != 0 {
			coarsened++
			// Nearest: the next grid value back toward the claim lies beyond it.
			back := gridNeighbour(eff, map[Op]int{GE: -1, LE: +1}[op])
			if op == GE && back.Cmp(xr) >= 0 || op == LE && back.Cmp(xr) <= 0 {
				t.Fatalf("%s %s: effective value %s skips the grid value %s", op, x, res.EffectiveValue, ratText(back))
			}
		}
		want := NoMatch
		if holds(op, h, eff) {
			want = Match
		}
		if res.Outcome != want {
			t.Fatalf("hidden %s, claim %s %s (effective %s): outcome %s, want %s", hidden, op, x, res.EffectiveValue, res.Outcome, want)
		}
		if res.Outcome == Match {
			matches++
			if !holds(op, h, xr) {
				t.Fatalf("hidden %s, claim %s %s: MATCH although the claim is false", hidden, op, x)
			}
		} else {
			noMatches++
		}
	}
	if matches < cases/5 || noMatches < cases/5 || coarsened < cases/2 {
		t.Errorf("poor coverage: %d matches, %d no-matches, %d coarsened of %d", matches, noMatches, coarsened, cases)
	}
}
