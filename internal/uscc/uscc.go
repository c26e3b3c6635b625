// Package uscc validates unified social credit codes (统一社会信用代码, GB 32100-2015).
package uscc

import (
	"fmt"
	"strings"
)

// Code is a valid, normalized 18-character unified social credit code.
type Code string

func (c Code) String() string { return string(c) }

// alphabet is the 31-character code alphabet of GB 32100-2015 (no I, O, Z, S, V).
const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var weights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// Error says why a string is not a unified social credit code.
type Error struct {
	Input  string
	Reason string
}

func (e *Error) Error() string { return "invalid unified social credit code: " + e.Reason }

// Parse trims surrounding spaces, upper-cases and validates s.
func Parse(s string) (Code, error) {
	n := strings.ToUpper(strings.TrimSpace(s))
	if len(n) != 18 {
		return "", &Error{Input: s, Reason: fmt.Sprintf("must be 18 characters, got %d", len([]rune(n)))}
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(alphabet, n[i])
		if v < 0 {
			return "", &Error{Input: s, Reason: fmt.Sprintf("character %d (%q) is not in the code alphabet", i+1, rune(n[i]))}
		}
		sum += v * weights[i]
	}
	want := alphabet[(31-sum%31)%31]
	if n[17] != want {
		if strings.IndexByte(alphabet, n[17]) < 0 {
			return "", &Error{Input: s, Reason: fmt.Sprintf("character 18 (%q) is not in the code alphabet", rune(n[17]))}
		}
		return "", &Error{Input: s, Reason: "wrong check character"}
	}
	return Code(n), nil
}

// CheckChar returns the check character for the first 17 characters of a code.
// It is used to build valid codes (demo data, tests); body must use the code alphabet.
func CheckChar(body string) (byte, error) {
	if len(body) != 17 {
		return 0, fmt.Errorf("uscc body must be 17 characters, got %d", len(body))
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(alphabet, body[i])
		if v < 0 {
			return 0, fmt.Errorf("uscc body character %d (%q) is not in the code alphabet", i+1, rune(body[i]))
		}
		sum += v * weights[i]
	}
	return alphabet[(31-sum%31)%31], nil
}

// Complete appends the check character to a 17-character body.
func Complete(body string) (Code, error) {
	c, err := CheckChar(body)
	if err != nil {
		return "", err
	}
	return Code(body + string(c)), nil
}
