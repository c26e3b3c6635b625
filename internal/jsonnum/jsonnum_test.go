package jsonnum

import (
	"encoding/json"
	"testing"
)

func TestValid(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"0", true}, {"-0", true}, {"4731", true}, {"-12.5", true}, {"0.47", true}, {"1e6", true},
		{"1.2E+6", true}, {"3.9e-2", true}, {"", false}, {"-", false}, {"+5", false}, {".5", false},
		{"5.", false}, {"007", false}, {"1,000", false}, {"1e", false}, {"1e+", false}, {" 1", false},
		{"1 ", false}, {"0x10", false}, {"NaN", false}, {"Infinity", false}, {"１２", false}, {"12a", false},
	}
	for _, tt := range tests {
		if got := Valid(tt.in); got != tt.want {
			t.Errorf("Valid(%q) = %v, want %v", tt.in, got, tt.want)
		}
		// The same rule as encoding/json's (which also allows surrounding white space).
		var n json.Number
		std := json.Unmarshal([]byte(tt.in), &n) == nil && tt.in != "" && tt.in[0] != '"' && tt.in[0] != ' ' && tt.in[len(tt.in)-1] != ' '
		if std != tt.want {
			t.Errorf("%q: encoding/json says %v", tt.in, std)
		}
	}
}
