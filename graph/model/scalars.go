// Package model holds the GraphQL models: generated ones and the hand-written bound types.
package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/99designs/gqlgen/graphql"

	"creditd/internal/uscc"
)

// MarshalUSCC writes a unified social credit code.
func MarshalUSCC(c uscc.Code) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(string(c)))
	})
}

// UnmarshalUSCC normalizes and validates a unified social credit code; a bad one is BAD_USCC.
func UnmarshalUSCC(v any) (uscc.Code, error) {
	s, ok := v.(string)
	if !ok {
		return "", &uscc.Error{Reason: fmt.Sprintf("must be a string, got %T", v)}
	}
	return uscc.Parse(s)
}

// JSON is a raw JSON value (record payloads).
type JSON = json.RawMessage

// MarshalJSON writes a raw JSON value as it is.
func MarshalJSON(v json.RawMessage) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		if len(v) == 0 {
			_, _ = io.WriteString(w, "null")
			return
		}
		_, _ = w.Write(v)
	})
}

// UnmarshalJSON accepts any JSON value, as decoded from variables or an inline literal.
func UnmarshalJSON(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("not a JSON value: %w", err)
	}
	return json.RawMessage(bytes.TrimRight(buf.Bytes(), "\n")), nil
}
