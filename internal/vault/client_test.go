package vault_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
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

// A running paknd logs in again with the secret id in its file: pakn
// bootstrap renews it there and destroys the old one, so the one read at
// start would no longer log in.
func TestLoginRereadsTheSecretIDFile(t *testing.T) {
	v := vaulttest.Start(t)
	dir := t.TempDir()
	vaulttest.Bootstrap(t, v, dir)
	creds := filepath.Join(dir, "creds")
	ctx := context.Background()
	role := "auth/approle/role/" + vault.PakndAppRole
	if _, err := v.Root().Logical().WriteWithContext(ctx, role, map[string]any{"token_ttl": "2s", "token_max_ttl": "4s"}); err != nil {
		t.Fatal(err)
	}
	roleID, _ := os.ReadFile(filepath.Join(creds, vault.RoleIDFile))
	file := filepath.Join(creds, vault.SecretIDFile)
	c, err := vault.Connect(ctx, vault.Config{Addr: v.Addr, RoleID: strings.TrimSpace(string(roleID)), SecretIDFile: file}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// paknd unwrapped the secret id: bootstrap, run again, hands over a
	// new one (wrapped) and destroys the one paknd holds.
	wrapped, _ := os.ReadFile(file)
	vaulttest.Bootstrap(t, v, dir)
	if renewed, _ := os.ReadFile(file); string(renewed) == string(wrapped) {
		t.Fatal("bootstrap kept a secret id that was unwrapped")
	}
	// Short tokens again (bootstrap set the role's usual lifetimes): paknd must log in again soon.
	if _, err := v.Root().Logical().WriteWithContext(ctx, role, map[string]any{"token_ttl": "2s", "token_max_ttl": "4s"}); err != nil {
		t.Fatal(err)
	}
	first := c.API().Token()
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { c.Run(rctx); close(done) }()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(30 * time.Second); c.API().Token() == first; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no new login within 30 s with the renewed secret id")
		}
	}
	if err := c.Ready(ctx); err != nil {
		t.Fatalf("not ready after logging in with the renewed secret id: %v", err)
	}
}
