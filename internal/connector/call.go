package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/cenkalti/backoff/v5"
	"github.com/google/uuid"
)

type requestIDKey struct{}

// WithRequestID returns a context whose calls send id as X-Request-Id (for example the id of the
// platform request being served), so that both sides' logs can be matched. Without it each call
// gets a fresh UUIDv7. The same id is sent on every retry of a call.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

func requestID(ctx context.Context) string {
	if id, ok := ctx.Value(requestIDKey{}).(string); ok && id != "" {
		return id
	}
	if id, err := uuid.NewV7(); err == nil {
		return id.String()
	}
	return uuid.NewString()
}

// call is one logical request to a provider, possibly sent several times.
type call struct {
	p         *provider
	item      string
	op        string // "records" or "verify"
	method    string
	url       string
	body      []byte // nil for GET
	requestID string
	decode    func([]byte) error // strict decoding of a 200 answer's body
}

// attemptError is the failure of one HTTP attempt.
type attemptError struct {
	reason Reason
	status int
	detail string
	err    error
}

func (e *attemptError) Error() string {
	msg := string(e.reason)
	if e.status != 0 {
		msg += fmt.Sprintf(" (HTTP %d)", e.status)
	}
	if e.err != nil {
		msg += ": " + e.err.Error()
	}
	return msg
}

func (e *attemptError) Unwrap() error { return e.err }

// do sends the call through the provider's breaker, retrying what may succeed on a new attempt.
func (c *Client) do(ctx context.Context, cl *call) error {
	start := time.Now()
	attempts := 0
	var last *attemptError
	bo := &backoff.ExponentialBackOff{
		InitialInterval:     c.backoff,
		RandomizationFactor: 0.5,
		Multiplier:          2,
		MaxInterval:         c.maxBackoff,
	}
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		_, err := cl.p.breaker.Execute(func() (struct{}, error) {
			attempts++
			return struct{}{}, c.attempt(ctx, cl)
		})
		if err == nil {
			return struct{}{}, nil
		}
		var ae *attemptError
		if !errors.As(err, &ae) {
			// The breaker refused (open, or half-open with its trial requests taken).
			ae = &attemptError{reason: ReasonBreakerOpen, err: err}
		}
		last = ae
		if ae.reason.retryable() && ctx.Err() == nil {
			c.log.Debug("provider attempt failed", "provider", cl.p.code, "item", cl.item, "op", cl.op,
				"request_id", cl.requestID, "attempt", attempts, "reason", string(ae.reason), "status", ae.status)
			return struct{}{}, ae
		}
		return struct{}{}, backoff.Permanent(ae)
	},
		backoff.WithBackOff(bo),
		backoff.WithMaxTries(uint(c.retries+1)),
		backoff.WithMaxElapsedTime(0), // the attempts' timeouts and the caller's context bound it
	)
	elapsed := time.Since(start)
	if err == nil {
		c.log.Debug("provider call", "provider", cl.p.code, "item", cl.item, "op", cl.op,
			"request_id", cl.requestID, "attempts", attempts, "elapsed_ms", elapsed.Milliseconds())
		return nil
	}
	e := &Error{Provider: cl.p.code, Item: cl.item, Op: cl.op, Attempts: attempts, Reason: ReasonCanceled, Err: err}
	if last != nil {
		e.Reason, e.Status, e.Detail, e.Err = last.reason, last.status, last.detail, last.err
	}
	if ctx.Err() != nil {
		// The caller's context ended, during an attempt or while waiting for the next one.
		e.Reason, e.Err = ReasonCanceled, context.Cause(ctx)
	}
	level := slog.LevelWarn
	if e.Reason == ReasonCanceled || e.Reason == ReasonBreakerOpen {
		level = slog.LevelDebug // the caller's choice; breaker changes are logged when they happen
	}
	c.log.Log(ctx, level, "provider call failed", "provider", cl.p.code, "item", cl.item, "op", cl.op,
		"request_id", cl.requestID, "reason", string(e.Reason), "status", e.Status, "attempts", attempts,
		"elapsed_ms", elapsed.Milliseconds())
	return e
}

// attempt sends one HTTP request and decodes its answer.
func (c *Client) attempt(ctx context.Context, cl *call) error {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var body io.Reader
	if cl.body != nil {
		body = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(actx, cl.method, cl.url, body)
	if err != nil {
		return &attemptError{reason: ReasonInvalid, err: errors.New("cannot build the request")}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "creditd-connector/1")
	req.Header.Set("X-Request-Id", cl.requestID)
	if cl.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cl.p.secret != "" {
		req.Header.Set("Authorization", "Bearer "+cl.p.secret)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return transportError(ctx, actx, err)
	}
	defer func() {
		// Drain a little so the connection can be reused; never a whole oversize answer.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
	}()

	switch s := resp.StatusCode; {
	case s == http.StatusOK:
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return &attemptError{reason: ReasonUnauthorized, status: s, detail: readDetail(resp.Body)}
	case s == http.StatusTooManyRequests || s >= 500:
		return &attemptError{reason: ReasonServerError, status: s, detail: readDetail(resp.Body)}
	case s >= 400:
		return &attemptError{reason: ReasonRejected, status: s, detail: readDetail(resp.Body)}
	default:
		return &attemptError{reason: ReasonBadResponse, status: s, err: errors.New("unexpected status")}
	}

	bad := func(err error) error {
		return &attemptError{reason: ReasonBadResponse, status: http.StatusOK, err: err}
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return bad(errors.New("answer is not application/json"))
	}
	if resp.ContentLength > c.maxBody {
		return bad(fmt.Errorf("answer of %d bytes exceeds the limit of %d", resp.ContentLength, c.maxBody))
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return transportError(ctx, actx, err)
	}
	if int64(len(data)) > c.maxBody {
		return bad(fmt.Errorf("answer exceeds the limit of %d bytes", c.maxBody))
	}
	if err := cl.decode(data); err != nil {
		return bad(err)
	}
	return nil
}

// transportError classifies a failure to send a request or read its answer. The URL (which
// holds the enterprise's code) is dropped from the message.
func transportError(ctx, actx context.Context, err error) *attemptError {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case ctx.Err() != nil:
		return &attemptError{reason: ReasonCanceled, err: err}
	case actx.Err() != nil:
		return &attemptError{reason: ReasonTimeout, err: err}
	}
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		return &attemptError{reason: ReasonTimeout, err: err}
	}
	return &attemptError{reason: ReasonUnreachable, err: err}
}

// readDetail returns the short reason of an error answer {"error":"…"}, cleaned and truncated;
// anything else gives "" (an arbitrary body is never echoed).
func readDetail(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, 1024))
	var v struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &v) != nil {
		return ""
	}
	s := strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, v.Error)
	if r := []rune(s); len(r) > 120 {
		s = string(r[:120]) + "…"
	}
	return s
}

// decodeStrict decodes exactly one JSON value into v, refusing unknown fields and trailing data.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("decode answer: data after the JSON value")
	}
	return nil
}
