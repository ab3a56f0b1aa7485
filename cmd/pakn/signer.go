package main

import (
	"context"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"pakn/internal/access"
	"pakn/internal/audit"
	"pakn/internal/credential"
	"pakn/internal/postgres"
	"pakn/internal/reply"
	"pakn/internal/store"
	"pakn/internal/vault"
)

const signerUsage = `usage:
  pakn signer provision -username NAME -title "Phó Giám đốc" [-on-behalf "KT. Giám đốc"] [-name "Full Name"] [-type ecdsa-p256|rsa-2048]
  pakn signer rotate    -username NAME [-title ...] [-on-behalf ...] [-name ...]
  pakn signer revoke    -username NAME [-version N]
  pakn signer list      -username NAME
(VAULT_ADDR and an operator's VAULT_TOKEN, PAKN_DATABASE_URL; audited as operator:$USER)`

// signerKeyName is the name suffix of an account's Transit key: the one
// its signer rows name, or, for its first key, the account's id (unique:
// names made from usernames collided, "a.b", "a-b" and "a_b" sharing one key).
func signerKeyName(accountID string, rows []reply.Signer) string {
	if len(rows) > 0 {
		return strings.TrimPrefix(rows[0].KeyName, vault.SignerKeyPrefix)
	}
	return strings.ToLower(accountID)
}

// signerArgs are the flags of pakn signer.
type signerArgs struct {
	username, name, title, onBehalf, keyType string
	version                                  int
}

func cmdSigner(ctx context.Context, args []string, e env) error {
	if len(args) == 0 {
		return errors.New(signerUsage)
	}
	sub := args[0]
	var a signerArgs
	fs := newFlags("signer "+sub, e)
	fs.StringVar(&a.username, "username", "", "the signer's account")
	fs.StringVar(&a.name, "name", "", "full name in the certificate and on documents (default: the account's display name)")
	fs.StringVar(&a.title, "title", "", "position printed above the signature, e.g. \"Phó Giám đốc\"")
	fs.StringVar(&a.onBehalf, "on-behalf", "", "authority line when signing for the head, e.g. \"KT. Giám đốc\"")
	fs.StringVar(&a.keyType, "type", "ecdsa-p256", "key type: ecdsa-p256 or rsa-2048")
	fs.IntVar(&a.version, "version", 0, "key version to revoke (default: the active one)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if a.username == "" {
		return fmt.Errorf("-username is required\n%s", signerUsage)
	}
	pool, err := e.openAppDB(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	ids, done, err := e.identity(ctx)
	if err != nil {
		return err
	}
	defer done()
	acct, err := ids.FindAccount(ctx, a.username)
	if err != nil {
		return err
	}
	c := &signerCmd{e: e, st: postgres.Stores(pool, nil), acct: acct}
	if c.rows, err = c.st.Replies.Signers(ctx, acct.ID); err != nil {
		return err
	}
	if sub == "list" {
		for _, g := range c.rows {
			fmt.Fprintf(e.stdout, "%s v%d %s %-8s %s, %s; certificate %s valid until %s\n", g.KeyName, g.KeyVersion, g.KeyType, g.Status,
				g.FullName, g.Title, g.Serial(), g.Certificate.NotAfter.Format(time.DateOnly))
		}
		return nil
	}
	if sub != "provision" && sub != "rotate" && sub != "revoke" {
		return fmt.Errorf("unknown signer subcommand %q\n%s", sub, signerUsage)
	}
	addr, err := e.need("VAULT_ADDR", "the address of Vault")
	if err != nil {
		return err
	}
	token, err := e.need("VAULT_TOKEN", "an operator token allowed to manage signer keys")
	if err != nil {
		return err
	}
	if c.api, err = vault.NewAPI(addr, token, 30*time.Second); err != nil {
		return err
	}
	if sub == "revoke" {
		return c.revoke(ctx, a.version)
	}
	return c.provision(ctx, sub, a)
}

// signerCmd is one pakn signer command on an account and its signer rows
// (newest first).
type signerCmd struct {
	e    env
	st   store.Set
	api  *vaultapi.Client
	acct *credential.Account
	rows []reply.Signer
}

// provision gives the account a key (provision) or a new version of its key
// (rotate), with a certificate, and makes it the active signer.
func (c *signerCmd) provision(ctx context.Context, sub string, a signerArgs) error {
	acct, rows := c.acct, c.rows
	if !slices.Contains(acct.Roles, access.Signer) {
		return fmt.Errorf("%s does not have the signer role (pakn user add-role -username %s -role signer)", acct.Username, acct.Username)
	}
	if len(rows) > 0 && sub == "provision" && rows[0].Status == "active" {
		return fmt.Errorf("%s already has an active key (%s v%d); use pakn signer rotate", acct.Username, rows[0].KeyName, rows[0].KeyVersion)
	}
	if sub == "rotate" && len(rows) == 0 {
		return fmt.Errorf("%s has no key yet; use pakn signer provision", acct.Username)
	}
	g := reply.Signer{AccountID: acct.ID, FullName: a.name, Title: a.title, OnBehalf: a.onBehalf, KeyType: a.keyType}
	if len(rows) > 0 { // keep what is not given
		prev := rows[0]
		g.KeyType = prev.KeyType
		g.FullName = orElse(g.FullName, prev.FullName)
		g.Title = orElse(g.Title, prev.Title)
		if a.onBehalf == "" {
			g.OnBehalf = prev.OnBehalf
		}
	}
	if g.FullName == "" {
		g.FullName = acct.DisplayName
	}
	if g.Title == "" {
		return fmt.Errorf("-title is required (the position printed above the signature)\n%s", signerUsage)
	}
	var ps *vault.ProvisionedSigner
	var err error
	subject := pkix.Name{CommonName: g.FullName}
	if len(rows) == 0 { // a new key (or, after a database restore, the key's latest version)
		ps, err = vault.ProvisionSigner(ctx, c.api, signerKeyName(acct.ID, rows), g.KeyType, subject)
	} else {
		ps, err = vault.RotateSigner(ctx, c.api, signerKeyName(acct.ID, rows), g.KeyType, subject) // each version has its own certificate
	}
	if err != nil {
		return err
	}
	if err := storeSigner(ctx, c.st, &g, ps, audit.EventOf(audit.Meta{}, c.e.operator(), "signer."+sub, "signer", "", audit.Success, nil)); err != nil {
		return err
	}
	fmt.Fprintf(c.e.stdout, "%s: %s v%d for %s (%s), certificate %s valid until %s\n", sub, g.KeyName, g.KeyVersion, g.FullName, g.Title,
		g.Serial(), g.Certificate.NotAfter.Format(time.DateOnly))
	return nil
}

// revoke revokes a key version (the active one when version is 0): first
// its row, with its event (paknd stops signing with it), then its
// certificate at the CA.
func (c *signerCmd) revoke(ctx context.Context, version int) error {
	var target *reply.Signer
	for i := range c.rows {
		if (version == 0 && c.rows[i].Status == "active") || (version != 0 && c.rows[i].KeyVersion == version) {
			target = &c.rows[i]
			break
		}
	}
	if target == nil {
		return fmt.Errorf("%s has no such key version (pakn signer list -username %s)", c.acct.Username, c.acct.Username)
	}
	serial := target.Serial()
	// Audit before act: the row is revoked (paknd stops signing with it) with its event, then the CA revokes the certificate.
	err := c.st.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := c.st.Replies.RevokeSigner(ctx, target.ID, time.Now()); err != nil {
			return err
		}
		d, _ := json.Marshal(map[string]any{"account": c.acct.ID, "key": target.KeyName, "key_version": target.KeyVersion, "serial": serial})
		return c.st.Audit.Append(ctx, audit.EventOf(audit.Meta{}, c.e.operator(), "signer.revoke", "signer", target.ID, audit.Success, d))
	})
	if err != nil {
		return err
	}
	if err := vault.RetireSignerVersion(ctx, c.api, strings.TrimPrefix(target.KeyName, vault.SignerKeyPrefix), target.KeyVersion); err != nil {
		return fmt.Errorf("%w (the key is no longer used; to retry in Vault: pakn signer revoke -username %s -version %d)", err, c.acct.Username, target.KeyVersion)
	}
	if err := vault.RevokeCertificate(ctx, c.api, serial); err != nil {
		return fmt.Errorf("%w (the key is no longer used; to retry in Vault: pakn signer revoke -username %s -version %d)", err, c.acct.Username, target.KeyVersion)
	}
	fmt.Fprintf(c.e.stdout, "revoked %s v%d; certificate %s is on the issuing CA's CRL\n", target.KeyName, target.KeyVersion, serial)
	return nil
}

// storeSigner records the key version ps as g's account's active signer
// (retiring the previous one) with the audit event ev, in one transaction.
func storeSigner(ctx context.Context, st store.Set, g *reply.Signer, ps *vault.ProvisionedSigner, ev *audit.Event) error {
	g.KeyName, g.KeyVersion, g.Certificate, g.ChainPEM = ps.Key, ps.Version, ps.Certificate, ps.ChainPEM
	return st.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := st.Replies.AddSigner(ctx, g, time.Now()); err != nil {
			return err
		}
		ev.ObjectType, ev.ObjectID, ev.Outcome = "signer", g.ID, audit.Success
		ev.Details, _ = json.Marshal(map[string]any{"account": g.AccountID, "key": g.KeyName, "key_version": g.KeyVersion,
			"serial": g.Serial(), "not_after": g.Certificate.NotAfter})
		return st.Audit.Append(ctx, ev)
	})
}

func orElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
