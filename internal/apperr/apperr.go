// Package apperr defines the domain error kinds that the API reports as extensions.code.
// Packages return *Error (or wrap one with %w); the GraphQL error presenter translates it.
package apperr

import (
	"errors"
	"fmt"
)

// Code is a machine-readable error code of the public API.
type Code string

const (
	Unauthenticated      Code = "UNAUTHENTICATED"
	Forbidden            Code = "FORBIDDEN"
	InstitutionSuspended Code = "INSTITUTION_SUSPENDED"
	BadRequest           Code = "BAD_REQUEST"
	BadUSCC              Code = "BAD_USCC"
	BadInput             Code = "BAD_INPUT"
	PurposeRequired      Code = "PURPOSE_REQUIRED"
	NotFound             Code = "NOT_FOUND"
	RateLimited          Code = "RATE_LIMITED"
	BudgetExhausted      Code = "BUDGET_EXHAUSTED"
	UsageNotRecorded     Code = "USAGE_NOT_RECORDED"
	Internal             Code = "INTERNAL"
	NotImplemented       Code = "NOT_IMPLEMENTED"
)

// Error is an error meant for the API caller: its message is safe to show.
type Error struct {
	Code    Code
	Message string
	// Extensions are extra, caller-safe fields (e.g. decision, item).
	Extensions map[string]any
	// Err is an underlying cause; it is logged, never shown.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with a code and a caller-safe message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// With adds an extension field and returns e.
func (e *Error) With(key string, value any) *Error {
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions[key] = value
	return e
}

// CodeOf returns the code of the first *Error in err's chain, or Internal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}
