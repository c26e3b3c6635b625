package claim

import (
	"fmt"
	"math/big"
	"strings"
	"testing"
)

func TestParseDecimalString(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"0", "0"},
		{"-0", "0"},
		{"0.000", "0"},
		{"0e5", "0"},
		{"1", "1"},
		{"-1", "-1"},
		{"10", "10"},
		{"100.00", "100"},
		{"0.47", "0.47"},
		{"0.0470", "0.047"},
		{"1.2e6", "1200000"},
		{"1.2E6", "1200000"},
		{"1.2e+6", "1200000"},
		{"12e-1", "1.2"},
		{"4731", "4731"},
		{"4731.125", "4731.125"},
		{"-3.9e-3", "-0.0039"},
		{"120000e-4", "12"},
		{"5e-10", "0.0000000005"},
		{"1e000000000000000003", "1000"},
	}
	for _, tt := range tests {
		d, err := ParseDecimal(tt.in)
		if err != nil {
			t.Errorf("ParseDecimal(%q): %v", tt.in, err)
			continue
		}
		if got := d.String(); got != tt.want {
			t.Errorf("ParseDecimal(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseDecimalRejects(t *testing.T) {
	for _, in := range []string{
		"", " 1", "1 ", "+1", ".5", "5.", "007", "1,000", "1_000", "0x10", "NaN", "Inf", "-Inf",
		"1e", "1e+", "--1", "-", "1.2.3", "１２", "1e1234567890", "1e-1234567890", "12abc",
	} {
		if d, err := ParseDecimal(in); err == nil {
			t.Errorf("ParseDecimal(%q) = %s, want an error", in, d)
		}
	}
}

func TestDecimalCmp(t *testing.T) {
	vals := []string{"-1e9", "-820", "-1.2", "-1", "-0.47", "-0.0001", "0", "1e-300", "0.0012", "0.12", "0.123", "0.13", "1", "1.2", "12", "12.000001", "3900", "4731", "1e9", "1e300"}
	for i, a := range vals {
		for j, b := range vals {
			da, _ := ParseDecimal(a)
			db, _ := ParseDecimal(b)
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := da.Cmp(db); got != want {
				t.Errorf("Cmp(%s, %s) = %d, want %d", a, b, got, want)
			}
		}
	}
}

func TestSnapTable(t *testing.T) {
	tests := []struct {
		op      Op
		in, out string
	}{
		{GE, "1", "1"},
		{GE, "1.01", "1.2"},
		{GE, "0.001", "0.001"},
		{GE, "0.00101", "0.0012"},
		{GE, "0.0082", "0.0082"},
		{GE, "0.00821", "0.01"},
		{GE, "3800", "3900"},
		{GE, "3900", "3900"},
		{GE, "3901", "4700"},
		{GE, "1.2e6", "1200000"},
		{GE, "1150000", "1200000"},
		{GE, "999999999", "1000000000"},
		{GE, "1e9", "1000000000"},
		{GE, "8.3e8", "1000000000"},
		{GE, "0.4", "0.47"},
		{GE, "0.47", "0.47"},
		{GE, "37", "39"},
		{GE, "4731", "5600"},
		{GE, "0.83", "1"},
		{GE, "125000", "150000"},
		{GE, "11.99999999999999999999", "12"},
		{GE, "12.000000000000000000001", "15"},
		{GE, "0", "0"},
		{GE, "-0", "0"},
		{GE, "-37", "-33"},
		{GE, "-0.5", "-0.47"},
		{GE, "-1", "-1"},
		{GE, "-0.99", "-0.82"},
		{LE, "37", "33"},
		{LE, "4731", "4700"},
		{LE, "0.83", "0.82"},
		{LE, "125000", "120000"},
		{LE, "0.00999", "0.0082"},
		{LE, "0.01", "0.01"},
		{LE, "1e9", "1000000000"},
		{LE, "9.99e8", "820000000"},
		{LE, "0.47", "0.47"},
		{LE, "12.000000000000000000001", "12"},
		{LE, "11.99999", "10"},
		{LE, "1.5", "1.5"},
		{LE, "0", "0"},
		{LE, "-37", "-39"},
		{LE, "-0.83", "-1"},
		{LE, "-1.2", "-1.2"},
		{GE, "5.5e-12", "0.0000000000056"},
		{LE, "6.9e15", "6800000000000000"},
		{EQ, "4731", "4731"},
	}
	for _, tt := range tests {
		x, err := ParseDecimal(tt.in)
		if err != nil {
			t.Fatalf("ParseDecimal(%q): %v", tt.in, err)
		}
		d, s := Snap(tt.op, x)
		if s != tt.out {
			t.Errorf("Snap(%s, %s) = %q, want %q", tt.op, tt.in, s, tt.out)
		}
		if d.String() != s {
			t.Errorf("Snap(%s, %s): threshold %s and text %q differ", tt.op, tt.in, d, s)
		}
	}
}

// testE12 is the E12 series as tenths, written out independently of the implementation.
var testE12 = []int64{10, 12, 15, 18, 22, 27, 33, 39, 47, 56, 68, 82}

// ratText formats a decimal-valued rational without exponent and without trailing zeros.
func ratText(r *big.Rat) string {
	s := r.FloatString(60)
	s = strings.TrimRight(s, "0")
	s = strings.TrimSuffix(s, ".")
	if s == "-0" || s == "" {
		return "0"
	}
	return s
}

// gridRat returns m/10 × 10^n.
func gridRat(m int64, n int) *big.Rat {
	r := new(big.Rat).SetFrac64(m, 10)
	p := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(n))), nil))
	if n >= 0 {
		return r.Mul(r, p)
	}
	return r.Quo(r, p)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// TestSnapDecades checks every grid point of the decades 0.001 … 1e9, and values just above and
// just below each, against expected strings built with big.Rat.
func TestSnapDecades(t *testing.T) {
	up := big.NewRat(1001, 1000)
	down := big.NewRat(999, 1000)
	for n := -3; n <= 9; n++ {
		for i, m := range testE12 {
			g := gridRat(m, n)
			var next, prev *big.Rat
			if i+1 < len(testE12) {
				next = gridRat(testE12[i+1], n)
			} else {
				next = gridRat(testE12[0], n+1)
			}
			if i > 0 {
				prev = gridRat(testE12[i-1], n)
			} else {
				prev = gridRat(testE12[len(testE12)-1], n-1)
			}
			above := new(big.Rat).Mul(g, up)
			below := new(big.Rat).Mul(g, down)
			cases := []struct {
				op   Op
				x    *big.Rat
				want *big.Rat
			}{
				{GE, g, g}, {LE, g, g},
				{GE, above, next}, {LE, above, g},
				{GE, below, g}, {LE, below, prev},
			}
			for _, c := range cases {
				for _, neg := range []bool{false, true} {
					x, want, op := c.x, c.want, c.op
					if neg {
						// Mirrored: GE −x is −(LE x), LE −x is −(GE x).
						x = new(big.Rat).Neg(x)
						want = new(big.Rat).Neg(want)
						if op == GE {
							op = LE
						} else {
							op = GE
						}
					}
					in := ratText(x)
					d, err := ParseDecimal(in)
					if err != nil {
						t.Fatalf("ParseDecimal(%q): %v", in, err)
					}
					_, got := Snap(op, d)
					if got != ratText(want) {
						t.Errorf("Snap(%s, %s) = %q, want %q", op, in, got, ratText(want))
					}
				}
			}
		}
	}
}

func TestSnapTextHasNoExponentOrNoise(t *testing.T) {
	for n := -12; n <= 15; n++ {
		for _, m := range testE12 {
			x, err := ParseDecimal(fmt.Sprintf("%de%d", m, n))
			if err != nil {
				t.Fatal(err)
			}
			for _, op := range []Op{GE, LE} {
				_, s := Snap(op, x)
				if strings.ContainsAny(s, "eE+") || strings.HasSuffix(s, ".") ||
					strings.Contains(s, ".") && strings.HasSuffix(s, "0") || strings.HasPrefix(s, "00") {
					t.Errorf("Snap(%s, %de%d) = %q: not plain decimal", op, m, n, s)
				}
				if strings.Trim(strings.ReplaceAll(s, ".", ""), "0") != strings.TrimRight(fmt.Sprint(m), "0") {
					t.Errorf("Snap(%s, %de%d) = %q: digits differ from %d", op, m, n, s, m)
				}
			}
		}
	}
}
