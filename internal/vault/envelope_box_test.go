package vault_test

import (
	"context"
	"strings"
	"testing"

	"pakn/internal/vault"
	"pakn/internal/vaulttest"
)

func TestEnvelopeBox(t *testing.T) {
	v := vaulttest.Start(t)
	bootstrap(t, v)
	ctx := context.Background()
	c, err := vault.Connect(ctx, vault.Config{Addr: v.Addr, Token: v.RootToken}, nil)
	if err != nil {
		t.Fatal(err)
	}
	box := vault.NewEnvelopeBox(c, vault.PIIKey)
	box.KeyUses = 2 // a new data key every second seal
	var sealed []string
	for i := 0; i < 4; i++ {
		ct, err := box.Seal(ctx, "petition-a", []byte("số điện thoại 0912345678"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(ct, "0912345678") || !strings.HasPrefix(ct, "pakn:env1:") {
			t.Fatalf("ciphertext %q", ct)
		}
		sealed = append(sealed, ct)
	}
	keyOf := func(ct string) string { return strings.SplitN(strings.TrimPrefix(ct, "pakn:env1:"), ":", 2)[0] }
	if keyOf(sealed[0]) != keyOf(sealed[1]) || keyOf(sealed[1]) == keyOf(sealed[2]) {
		t.Fatal("data keys not rotated after KeyUses seals")
	}
	reader := vault.NewEnvelopeBox(c, vault.PIIKey)
	for _, ct := range sealed {
		pt, err := reader.Open(ctx, "petition-a", ct)
		if err != nil || string(pt) != "số điện thoại 0912345678" {
			t.Fatalf("open: %q %v", pt, err)
		}
	}
	if _, err := reader.Open(ctx, "petition-b", sealed[0]); err == nil {
		t.Fatal("opened for another owner")
	}
	tampered := []byte(sealed[0])
	tampered[len(tampered)-3] ^= 1
	for _, bad := range []string{string(tampered), "vault:v1:abc", "pakn:env1:!!:??", "pakn:env1:" + keyOf(sealed[0]) + ":AAAA"} {
		if _, err := reader.Open(ctx, "petition-a", bad); err == nil {
			t.Errorf("opened %q", bad)
		}
	}
	// A sealed Vault stops new data keys (and unwrapping), with a clear error.
	if err := v.Root().Sys().SealWithContext(ctx); err != nil {
		t.Fatal(err)
	}
	cold := vault.NewEnvelopeBox(c, vault.PIIKey)
	if _, err := cold.Seal(ctx, "x", []byte("y")); err == nil {
		t.Fatal("sealed with a sealed Vault")
	}
}
