package uscc

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, in, want, reason string
	}{
		{"enterprise", "91110000600037341L", "91110000600037341L", ""},
		{"enterprise with letters in the organization code", "91350100M000100Y43", "91350100M000100Y43", ""},
		{"check character zero", "91110108551385082Q", "91110108551385082Q", ""},
		{"lower case is upper-cased", "91350100m000100y43", "91350100M000100Y43", ""},
		{"surrounding spaces are trimmed", "  91110000600037341L\t\n", "91110000600037341L", ""},
		{"empty", "", "", "must be 18 characters, got 0"},
		{"too short", "9111000060003734", "", "must be 18 characters"},
		{"too long", "91110000600037341LL", "", "must be 18 characters"},
		{"letter I is not in the alphabet", "9111000060003734IL", "", "character 17 ('I')"},
		{"letter O is not in the alphabet", "911100006O0037341L", "", "character 10 ('O')"},
		{"letters S V Z are not in the alphabet", "S1110000600037341L", "", "character 1 ('S')"},
		{"wrong check character", "91110000600037341M", "", "wrong check character"},
		{"check character outside the alphabet", "91110000600037341Z", "", "character 18 ('Z')"},
		{"inner space", "911100006000 7341L", "", "character 13 (' ')"},
		{"full-width digits", "９1110000600037341L", "", "must be 18 characters"},
		{"two digits swapped", "91110000600037314L", "", "wrong check character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Parse(%q): %v", tt.in, err)
				}
				if string(got) != tt.want {
					t.Fatalf("Parse(%q) = %q, want %q", tt.in, got, tt.want)
				}
				return
			}
			var ue *Error
			if !errors.As(err, &ue) {
				t.Fatalf("Parse(%q) = %q, %v; want *Error", tt.in, got, err)
			}
			if !strings.Contains(ue.Reason, tt.reason) {
				t.Fatalf("reason %q does not contain %q", ue.Reason, tt.reason)
			}
		})
	}
}

func TestComplete(t *testing.T) {
	for _, body := range []string{"91110000600037341", "92210102MA0XK5U00", "93211224MA10AB12C", "00000000000000000"} {
		c, err := Complete(body)
		if err != nil {
			t.Fatalf("Complete(%q): %v", body, err)
		}
		if _, err := Parse(string(c)); err != nil {
			t.Fatalf("Complete(%q) = %q does not parse: %v", body, c, err)
		}
	}
	if _, err := Complete("9111000060003734I"); err == nil {
		t.Fatal("a body outside the alphabet must be refused")
	}
	if _, err := Complete("911"); err == nil {
		t.Fatal("a short body must be refused")
	}
}

// Every single-character substitution of a valid code is caught by the check character.
func TestSingleErrorsDetected(t *testing.T) {
	valid := "91110000600037341L"
	for i := 0; i < 17; i++ {
		for _, r := range alphabet {
			if byte(r) == valid[i] {
				continue
			}
			bad := valid[:i] + string(r) + valid[i+1:]
			if _, err := Parse(bad); err == nil {
				t.Fatalf("%s (position %d changed) was accepted", bad, i+1)
			}
		}
	}
}
