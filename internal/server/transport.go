package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"

	"creditd/internal/apperr"
)

// writeError answers with a GraphQL-shaped error body. The request body is never echoed.
func writeError(w http.ResponseWriter, status int, code apperr.Code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []any{map[string]any{"message": msg, "extensions": map[string]any{"code": string(code)}}},
	})
}

// graphQLRequest is the only accepted body shape: one operation as a JSON object.
type graphQLRequest struct {
	Query         string          `json:"query"`
	OperationName string          `json:"operationName"`
	Variables     json.RawMessage `json:"variables"`
	Extensions    json.RawMessage `json:"extensions"`
}

// guard refuses, with BAD_REQUEST, everything but a POST of one JSON operation of at most
// maxBody bytes. It runs before gqlgen so that no refusal ever echoes the body.
func guard(maxBody int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, apperr.BadRequest, "only POST with a JSON body is accepted")
			return
		}
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, apperr.BadRequest, "Content-Type must be application/json")
			return
		}
		if r.Header.Get("Upgrade") != "" {
			writeError(w, http.StatusBadRequest, apperr.BadRequest, "protocol upgrades are not supported")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				writeError(w, http.StatusRequestEntityTooLarge, apperr.BadRequest, "request body is too large")
				return
			}
			writeError(w, http.StatusBadRequest, apperr.BadRequest, "could not read the request body")
			return
		}
		trimmed := bytes.TrimLeft(body, " \t\r\n")
		if len(trimmed) == 0 || trimmed[0] != '{' {
			writeError(w, http.StatusBadRequest, apperr.BadRequest, "the body must be one JSON object with a query (batches are not accepted)")
			return
		}
		var req graphQLRequest
		dec := json.NewDecoder(bytes.NewReader(body))
		if err := dec.Decode(&req); err != nil || dec.More() {
			writeError(w, http.StatusBadRequest, apperr.BadRequest, "the body is not a valid GraphQL request object")
			return
		}
		if req.Query == "" {
			writeError(w, http.StatusBadRequest, apperr.BadRequest, "the request has no query")
			return
		}
		if v := bytes.TrimSpace(req.Variables); len(v) > 0 && v[0] != '{' && !bytes.Equal(v, []byte("null")) {
			writeError(w, http.StatusBadRequest, apperr.BadRequest, "variables must be a JSON object")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		next.ServeHTTP(w, r)
	})
}

type requestIDKey struct{}

// RequestID returns the request's id ("" outside a request).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// withRequestID gives every request an id, returned in X-Request-Id and used in logs.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}
