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
	if _, err := v.Root().Auth().Token().Lookup(first); err == nil {
		// The first token may still be looked up only until its max TTL.
		time.Sleep(5 * time.Second)
		if _, err := v.Root().Auth().Token().Lookup(first); err == nil {
			t.Fatal("first token still valid past its max TTL")
		}
	}
	if err := c.Ready(ctx); err != nil {
		t.Fatalf("not ready well past the first token's max TTL: %v", err)
	}
}
