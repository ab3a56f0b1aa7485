// Package apperr is pakn's one error type. Every layer returns *Error (or
// wraps one with %w) to say what kind of failure happened; the HTTP layer maps
// the Code to a status in one place, and shows Message (never the wrapped
// cause) to the client.
package apperr

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an error for callers and for the HTTP mapping.
type Code string

// The error codes. Their HTTP status lives in internal/httpapi.
const (
	Invalid          Code = "invalid"           // the request is malformed or a field is wrong
	NotFound         Code = "not_found"         // the object does not exist, or the caller may not know it does
	Conflict         Code = "conflict"          // the object is not in a state that allows the action
	Unauthenticated  Code = "unauthenticated"   // no valid credentials
	Forbidden        Code = "forbidden"         // credentials valid, action not allowed
	TooLarge         Code = "too_large"         // the body is over its limit
	UnsupportedMedia Code = "unsupported_media" // the body's type is not accepted
	RateLimited      Code = "rate_limited"      // too many attempts; retry after RetryAfter
	MFARequired      Code = "mfa_required"      // the password was right; a TOTP or recovery code is needed too
	StepUpRequired   Code = "step_up_required"  // the action needs a TOTP code from the last five minutes
	Restricted       Code = "restricted"        // the session must change its password or enrol MFA first
	Unavailable      Code = "unavailable"       // a dependency (PostgreSQL, Vault) cannot serve now; retry later
	Internal         Code = "internal"          // a bug or an unexpected failure
)

// Error is an error with a Code, a message safe to show to clients, and an
// optional cause kept for logs only.
type Error struct {
	Code    Code
	Message string // safe for clients: no secrets, no internals
	Op      string // the operation that failed, for logs
	Err     error  // the cause, for logs; never shown to clients
	// RetryAfter tells the client when to try again (RateLimited).
	RetryAfter time.Duration
	// Fields lists problems with individual fields (Invalid, UnsupportedMedia, TooLarge).
	Fields []Field
	// Extra holds further client-safe members of the answer, such as the
	// current state and allowed transitions of a Conflict.
	Extra map[string]any
}

// Field is a problem with one input field, in Vietnamese and English.
type Field struct {
	Field string `json:"field"`
	VI    string `json:"vi"`
	EN    string `json:"en"`
}

// Error implements error.
func (e *Error) Error() string {
	s := string(e.Code)
	if e.Op != "" {
		s = e.Op + ": " + s
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns an *Error with the given code and client-safe message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error that keeps err as its cause for logs.
func Wrap(err error, code Code, op, message string) *Error {
	return &Error{Code: code, Op: op, Message: message, Err: err}
}

// As returns the first *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// RetryAfterOf returns the RetryAfter of the first *Error in err's chain.
func RetryAfterOf(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// CodeOf returns the Code of the first *Error in err's chain, or Internal.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// MessageOf returns the client-safe message of the first *Error in err's
// chain, or a fixed message for anything else.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Message != "" && e.Code != Internal {
		return e.Message
	}
	return "internal error"
}
