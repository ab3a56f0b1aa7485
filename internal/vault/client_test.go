package vault_test

import (
	"context"
	"testing"
	"time"

	"pakn/internal/vault"
	"pakn/internal/vaulttest"
)

// TestRunRenewsAndLogsInAgain gives paknd's AppRole a token that lives 4s at
// most; Run must keep a valid token past that by logging in again.
func TestRunRenewsAndLogsInAgain(t *testing.T) {
	v := vaulttest.Start(t)
	_, creds, _ := bootstrap(t, v)
	ctx := context.Background()
	if _, err := v.Root().Logical().WriteWithContext(ctx, "auth/approle/role/"+vault.PakndAppRole, map[string]any{
		"token_ttl": "2s", "token_max_ttl": "4s",
	}); err != nil {
		t.Fatal(err)
	}
	c := pakndClient(t, v, creds)
	first := c.API().Token()
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { c.Run(rctx); close(done) }()
	defer func() { cancel(); <-done }()

	deadline := time.Now().Add(30 * time.Second)
	for c.API().Token() == first {
		if time.Now().After(deadline) {
			t.Fatal("no new login within 30s although the token's max TTL is 4s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := c.Ready(ctx); err != nil {
		t.Fatalf("not ready after re-login: %v", err)
	}
	// The first token expires at its max TTL (Vault revokes it on its own
	// schedule: wait for it with a deadline, not a fixed sleep).
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if _, err := v.Root().Auth().Token().Lookup(first); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("first token still valid 30 s after login, although its max TTL is 4 s")
		}
	}
	if err := c.Ready(ctx); err != nil {
		t.Fatalf("not ready well past the first token's max TTL: %v", err)
	}
}
