package ingest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// parseJSON parses one JSON value (RFC 8259) in a single pass, for bulk files where
// encoding/json's two passes per value dominate the loader's CPU time. b must be valid UTF-8
// (callers check it first, to reject such lines with a clear reason). It yields what
// encoding/json yields with UseNumber: map[string]any (a repeated key keeps its last value),
// []any, string, json.Number, bool and nil; lone surrogates become U+FFFD. Nesting is
// limited to maxDepth levels.
func parseJSON(b string) (any, error) {
	p := jsonParser{b: b}
	p.space()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.b) {
		return nil, p.errorf("unexpected data after the value")
	}
	return v, nil
}

// jsonParser parses a string: strings and numbers without escapes are substrings of it.
type jsonParser struct {
	b string
	i int
}

type jsonSyntaxError struct {
	msg    string
	offset int
}

func (e *jsonSyntaxError) Error() string { return fmt.Sprintf("%s (at byte %d)", e.msg, e.offset) }

func (p *jsonParser) errorf(format string, args ...any) error {
	return &jsonSyntaxError{msg: fmt.Sprintf(format, args...), offset: p.i + 1}
}

func (p *jsonParser) unexpected(context string) error {
	if p.i >= len(p.b) {
		return &jsonSyntaxError{msg: "unexpected end of input " + context, offset: p.i}
	}
	r, _ := utf8.DecodeRuneInString(p.b[p.i:])
	return p.errorf("invalid character %q %s", r, context)
}

func (p *jsonParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, p.errorf("nested deeper than %d levels", maxDepth)
	}
	if p.i >= len(p.b) {
		return nil, p.unexpected("looking for the beginning of a value")
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		return p.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	}
	return nil, p.unexpected("looking for the beginning of a value")
}

func (p *jsonParser) literal(word string) error {
	if len(p.b)-p.i >= len(word) && p.b[p.i:p.i+len(word)] == word {
		p.i += len(word)
		return nil
	}
	for k := 0; k < len(word); k++ {
		if p.i >= len(p.b) || p.b[p.i] != word[k] {
			return p.unexpected("in literal " + word)
		}
		p.i++
	}
	return nil
}

func (p *jsonParser) object(depth int) (any, error) {
	m := make(map[string]any, 8)
	err := p.members(func(key string) error {
		v, err := p.value(depth + 1)
		if err != nil {
			return err
		}
		m[key] = v
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// members parses an object starting at its '{'. For each member it calls each with the key
// and the parser at the start of the value, which each must consume.
func (p *jsonParser) members(each func(key string) error) error {
	p.i++ // '{'
	p.space()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return nil
	}
	for {
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return p.unexpected("looking for the beginning of an object key")
		}
		k, err := p.str()
		if err != nil {
			return err
		}
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return p.unexpected("after an object key")
		}
		p.i++
		p.space()
		if err := each(k); err != nil {
			return err
		}
		p.space()
		if p.i >= len(p.b) {
			return p.unexpected("after an object value")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
			p.space()
		case '}':
			p.i++
			return nil
		default:
			return p.unexpected("after an object value")
		}
	}
}

func (p *jsonParser) array(depth int) (any, error) {
	p.i++ // '['
	a := []any{}
	p.space()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return a, nil
	}
	for {
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		p.space()
		if p.i >= len(p.b) {
			return nil, p.unexpected("after an array element")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
			p.space()
		case ']':
			p.i++
			return a, nil
		default:
			return nil, p.unexpected("after an array element")
		}
	}
}

func (p *jsonParser) number() (any, error) {
	start := p.i
	if p.b[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(p.b) && p.b[p.i] == '0':
		p.i++
	case p.i < len(p.b) && p.b[p.i] >= '1' && p.b[p.i] <= '9':
		for p.i < len(p.b) && isDigit(p.b[p.i]) {
			p.i++
		}
	default:
		return nil, p.unexpected("in numeric literal")
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if p.i >= len(p.b) || !isDigit(p.b[p.i]) {
			return nil, p.unexpected("after decimal point in numeric literal")
		}
		for p.i < len(p.b) && isDigit(p.b[p.i]) {
			p.i++
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if p.i >= len(p.b) || !isDigit(p.b[p.i]) {
			return nil, p.unexpected("in exponent of numeric literal")
		}
		for p.i < len(p.b) && isDigit(p.b[p.i]) {
			p.i++
		}
	}
	return json.Number(p.b[start:p.i]), nil
}

// str parses a string starting at the opening quote.
func (p *jsonParser) str() (string, error) {
	p.i++ // '"'
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			return s, nil
		case c == '\\':
			return p.escapedStr(start)
		case c < 0x20:
			return "", p.unexpected("in string literal")
		}
		p.i++
	}
	return "", p.unexpected("in string literal")
}

// escapedStr continues a string with escapes or non-ASCII bytes; start is its first byte.
func (p *jsonParser) escapedStr(start int) (string, error) {
	buf := make([]byte, 0, p.i-start+16)
	buf = append(buf, p.b[start:p.i]...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return string(buf), nil
		case c < 0x20:
			return "", p.unexpected("in string literal")
		case c != '\\':
			buf = append(buf, c)
			p.i++
		default:
			p.i++
			if p.i >= len(p.b) {
				return "", p.unexpected("in string escape code")
			}
			e := p.b[p.i]
			p.i++
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return "", p.unexpected("in \\u hexadecimal character escape")
				}
				if utf16.IsSurrogate(r) {
					r2 := utf8.RuneError
					if p.i+1 < len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
						save := p.i
						p.i += 2
						if lo, ok := p.hex4(); ok {
							if d := utf16.DecodeRune(r, lo); d != utf8.RuneError {
								r2 = d
							} else {
								p.i = save // not a pair: the second escape stands alone
							}
						} else {
							return "", p.unexpected("in \\u hexadecimal character escape")
						}
					}
					r = r2
				}
				buf = utf8.AppendRune(buf, r)
			default:
				p.i--
				return "", p.unexpected("in string escape code")
			}
		}
	}
	return "", p.unexpected("in string literal")
}

func (p *jsonParser) hex4() (rune, bool) {
	if len(p.b)-p.i < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(p.b[p.i:p.i+4], 16, 32)
	if err != nil {
		return 0, false
	}
	p.i += 4
	return rune(n), true
}
