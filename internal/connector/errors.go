package connector

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnavailable is matched (errors.Is) by every error the client returns: the provider's data
// could not be obtained, whatever the reason.
var ErrUnavailable = errors.New("provider unavailable")

// Reason classifies a failure, for logs and operators.
type Reason string

const (
	// ReasonNotConfigured: no endpoint is configured for the provider.
	ReasonNotConfigured Reason = "not_configured"
	// ReasonInvalid: the call's arguments were unusable (empty item or USCC, unknown operator).
	ReasonInvalid Reason = "invalid_argument"
	// ReasonUnreachable: a network error (refused, reset, DNS) on the last attempt.
	ReasonUnreachable Reason = "unreachable"
	// ReasonTimeout: the last attempt timed out.
	ReasonTimeout Reason = "timeout"
	// ReasonCanceled: the caller's context ended (canceled or past its deadline).
	ReasonCanceled Reason = "canceled"
	// ReasonBreakerOpen: the provider's circuit breaker refused the call; nothing was sent.
	ReasonBreakerOpen Reason = "breaker_open"
	// ReasonServerError: the provider answered 429 or 5xx on the last attempt.
	ReasonServerError Reason = "server_error"
	// ReasonUnauthorized: the provider answered 401 or 403 (wrong or missing secret).
	ReasonUnauthorized Reason = "unauthorized"
	// ReasonRejected: the provider answered another 4xx (unknown item, malformed claim).
	ReasonRejected Reason = "rejected"
	// ReasonBadResponse: the answer was malformed, too large or of an unexpected status.
	ReasonBadResponse Reason = "bad_response"
)

// retryable reports whether another attempt may succeed.
func (r Reason) retryable() bool {
	switch r {
	case ReasonUnreachable, ReasonTimeout, ReasonServerError:
		return true
	}
	return false
}

// Error is the error returned by every method of Client. It matches ErrUnavailable and unwraps
// to its cause (a network error, context.Canceled, gobreaker.ErrOpenState, …). Its text names
// the provider, item and operation, never the enterprise or the claim.
type Error struct {
	Provider string
	Item     string
	Op       string // "records" or "verify"
	Reason   Reason
	Status   int    // HTTP status of the last answer; 0 when none was received
	Detail   string // the provider's short error text, when it gave one
	Attempts int    // HTTP requests sent for this call
	Err      error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "connector: %s %s %s: %s", e.Provider, e.Item, e.Op, e.Reason)
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d", e.Status)
		if e.Detail != "" {
			fmt.Fprintf(&b, ": %s", e.Detail)
		}
		b.WriteString(")")
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is makes every *Error match ErrUnavailable.
func (e *Error) Is(target error) bool { return target == ErrUnavailable }
