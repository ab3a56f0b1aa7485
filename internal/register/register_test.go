package register_test

import (
	"testing"

	"pakn/internal/register"
)

// The register builds none of its collaborators: missing ones are named.
func TestNewNeedsItsStores(t *testing.T) {
	_, err := register.New(register.Config{})
	if err == nil || err.Error() != "register: Stores.Audit, Stores.Replies required" {
		t.Fatalf("New without stores: %v", err)
	}
}
