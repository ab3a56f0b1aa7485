package apperr

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestCodeAndMessage(t *testing.T) {
	cause := errors.New("connection refused to 10.0.0.5 with password x")
	tests := []struct {
		err      error
		code     Code
		message  string
		contains string
	}{
		{New(Invalid, "field %s is required", "title"), Invalid, "field title is required", "invalid: field title is required"},
		{fmt.Errorf("outer: %w", Wrap(cause, Unavailable, "vault sign", "try later")), Unavailable, "try later", "vault sign: unavailable"},
		{Wrap(cause, Internal, "op", "hidden"), Internal, "internal error", "connection refused"},
		{cause, Internal, "internal error", "connection refused"},
	}
	for _, tt := range tests {
		if got := CodeOf(tt.err); got != tt.code {
			t.Errorf("CodeOf(%v) = %s, want %s", tt.err, got, tt.code)
		}
		if got := MessageOf(tt.err); got != tt.message {
			t.Errorf("MessageOf(%v) = %q, want %q", tt.err, got, tt.message)
		}
		if s := tt.err.Error(); !strings.Contains(s, tt.contains) {
			t.Errorf("Error() = %q, want it to contain %q", s, tt.contains)
		}
	}
	if CodeOf(nil) != "" {
		t.Error("CodeOf(nil) must be empty")
	}
	if !errors.Is(Wrap(cause, Internal, "", ""), cause) {
		t.Error("Unwrap lost the cause")
	}
}
