// Package apperr is pakn's one error type. Every layer returns *Error (or
// wraps one with %w) to say what kind of failure happened; the HTTP layer maps
// the Code to a status in one place, and shows the message, a key of the
// catalogue in internal/msg (never the wrapped cause), to the client.
package apperr

import (
	"errors"
	"time"

	"golang.org/x/text/language"

	"pakn/internal/msg"
)

// Code classifies an error for callers and for the HTTP mapping.
type Code string

// The error codes. Their HTTP status lives in internal/httpapi.
const (
	Invalid          Code = "invalid"            // the request is malformed or a field is wrong
	NotFound         Code = "not_found"          // the object does not exist, or the caller may not know it does
	Conflict         Code = "conflict"           // the object is not in a state that allows the action
	Unauthenticated  Code = "unauthenticated"    // no valid credentials
	Forbidden        Code = "forbidden"          // credentials valid, action not allowed
	TooLarge         Code = "too_large"          // the body is over its limit
	UnsupportedMedia Code = "unsupported_media"  // the body's type is not accepted
	RateLimited      Code = "rate_limited"       // too many attempts; retry after RetryAfter
	MFARequired      Code = "mfa_required"       // the password was right; a TOTP or recovery code is needed too
	StepUpRequired   Code = "step_up_required"   // the action needs a TOTP code from the last five minutes
	Restricted       Code = "restricted"         // the session must change its password or enrol MFA first
	Unavailable      Code = "unavailable"        // a dependency (PostgreSQL, Vault) cannot serve now; retry later
	CrossOrigin      Code = "cross_origin"       // a state-changing request came from another site (CSRF)
	MethodNotAllowed Code = "method_not_allowed" // the resource exists but not with this method
	Internal         Code = "internal"           // a bug or an unexpected failure
)

// Error is an error with a Code, a message safe to show to clients, and an
// optional cause kept for logs only.
type Error struct {
	Code Code
	Key  msg.Key // the message shown to clients: no secrets, no internals
	Args []any   // the message's arguments
	Op   string  // the operation that failed, for logs
	Err  error   // the cause, for logs; never shown to clients
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

// FieldOf is the Field problem of field with message k of the catalogue.
func FieldOf(field string, k msg.Key, args ...any) Field {
	return Field{Field: field, VI: k.VI(args...), EN: k.EN(args...)}
}

// Error implements error.
func (e *Error) Error() string {
	s := string(e.Code)
	if e.Op != "" {
		s = e.Op + ": " + s
	}
	if e.Key != (msg.Key{}) {
		s += ": " + e.Message()
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Message is the client-safe message in Vietnamese and English.
func (e *Error) Message() string { return e.Key.Both(e.Args...) }

// MessageIn is the client-safe message in language t alone.
func (e *Error) MessageIn(t language.Tag) string { return e.Key.In(t, e.Args...) }

// New returns an *Error with the given code and client-safe message.
func New(code Code, k msg.Key, args ...any) *Error {
	return &Error{Code: code, Key: k, Args: args}
}

// Wrap returns an *Error that keeps err as its cause for logs.
func Wrap(err error, code Code, op string, k msg.Key, args ...any) *Error {
	return &Error{Code: code, Op: op, Key: k, Args: args, Err: err}
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

// KeyOf returns the client-safe message of the first *Error in err's chain
// and its arguments, or msg.InternalError for anything else.
func KeyOf(err error) (msg.Key, []any) {
	var e *Error
	if errors.As(err, &e) && e.Key != (msg.Key{}) && e.Code != Internal {
		return e.Key, e.Args
	}
	return msg.InternalError, nil
}

// MessageOf returns the client-safe message of the first *Error in err's
// chain in Vietnamese and English, or msg.InternalError's for anything else.
func MessageOf(err error) string {
	k, args := KeyOf(err)
	return k.Both(args...)
}
