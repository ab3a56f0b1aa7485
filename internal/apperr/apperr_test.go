package apperr

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"pakn/internal/msg"
)

func TestCodeAndMessage(t *testing.T) {
	cause := errors.New("connection refused to 10.0.0.5 with password x")
	tests := []struct {
		err      error
		code     Code
		message  string
		contains string
	}{
		{New(Invalid, msg.UnknownRoleOf, "chief"), Invalid, "Vai trò không hợp lệ: chief / Unknown role: chief", "invalid: Vai trò không hợp lệ: chief / Unknown role: chief"},
		{fmt.Errorf("outer: %w", Wrap(cause, Unavailable, "vault sign", msg.SigningKeyUnavailable)), Unavailable, msg.SigningKeyUnavailable.Both(), "vault sign: unavailable"},
		{Wrap(cause, Internal, "op", msg.NoSuchPetition), Internal, msg.InternalError.Both(), "connection refused"},
		{cause, Internal, msg.InternalError.Both(), "connection refused"},
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
	if !errors.Is(Wrap(cause, Internal, "", msg.InternalError), cause) {
		t.Error("Unwrap lost the cause")
	}
}
