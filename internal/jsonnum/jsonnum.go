// Package jsonnum tells whether text is a number in JSON syntax (RFC 8259 §6). The loader uses
// it to store a CSV cell as a number, and verification to tell numeric claims and values from
// the others, so both agree on what a number is.
package jsonnum

// Valid reports whether s is exactly one number in JSON syntax: an optional minus, an integer
// part without leading zeros, an optional fraction and an optional exponent.
func Valid(s string) bool {
	i, n := 0, len(s)
	if i < n && s[i] == '-' {
		i++
	}
	switch {
	case i < n && s[i] == '0':
		i++
	case i < n && s[i] >= '1' && s[i] <= '9':
		i = digits(s, i)
	default:
		return false
	}
	if i < n && s[i] == '.' {
		if i+1 == n || !isDigit(s[i+1]) {
			return false
		}
		i = digits(s, i+1)
	}
	if i < n && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < n && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i == n || !isDigit(s[i]) {
			return false
		}
		i = digits(s, i)
	}
	return i == n
}

func digits(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
