package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"pakn/internal/vault"
	"pakn/keys"
)

func cmdBootstrap(ctx context.Context, args []string, e env) error {
	fs := newFlags("bootstrap", e)
	certs := fs.String("certs-dir", "certs", "folder the public CA chain is exported to")
	creds := fs.String("creds-dir", "", "folder for paknd's AppRole role_id and secret_id (required; kept 0600)")
	org := fs.String("org", "pakn", "organisation name in the CA certificates")
	auditLog := fs.String("vault-audit-log", "", "enable Vault's file audit device writing to this path (on the Vault host); required unless Vault has an audit device")
	secretTTL := fs.Duration("secret-id-ttl", vault.DefaultSecretIDTTL, "lifetime of paknd's AppRole secret id (a new one is issued when a third is left: run bootstrap regularly)")
	cidrs := fs.String("paknd-cidrs", "", "comma-separated addresses paknd logs in to Vault from (default: those the role has, 127.0.0.1/32 for a new one)")
	wrapTTL := fs.Duration("secret-id-wrap-ttl", vault.DefaultSecretIDWrapTTL, "how long the response-wrapped secret id in the creds folder can be unwrapped (once)")
	signRate := fs.Int("sign-rate", vault.DefaultSignRate, "requests a second Vault answers on transit/sign/* (a rate-limit quota)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *creds == "" {
		return fmt.Errorf("-creds-dir is required")
	}
	addr, err := e.need("VAULT_ADDR", "the address of Vault")
	if err != nil {
		return err
	}
	token, err := e.need("VAULT_TOKEN", "an operator token allowed to configure Vault")
	if err != nil {
		return err
	}
	api, err := vault.NewAPI(addr, token, 30*time.Second)
	if err != nil {
		return err
	}
	res, err := vault.Bootstrap(ctx, api, vault.BootstrapOptions{
		PolicyName:      keys.PakndPolicyName,
		PolicyHCL:       keys.PakndPolicy,
		OrgName:         *org,
		CertsDir:        *certs,
		CredsDir:        *creds,
		AuditLogPath:    *auditLog,
		SecretIDTTL:     *secretTTL,
		BoundCIDRs:      splitList(*cidrs),
		SignRate:        *signRate,
		SecretIDWrapTTL: *wrapTTL,
	})
	if res != nil {
		for _, s := range res.Steps {
			fmt.Fprintln(e.stdout, "bootstrap:", s)
		}
	}
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if len(res.Steps) == 0 {
		fmt.Fprintln(e.stdout, "bootstrap: Vault already set up; nothing changed")
	}
	return nil
}

// splitList reads a comma-separated flag, spaces around items ignored.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
