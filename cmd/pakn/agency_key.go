package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"pakn/internal/agency"
	"pakn/internal/audit"
	"pakn/internal/postgres"
	"pakn/internal/reply"
	"pakn/internal/store"
	"pakn/internal/vault"
)

const agencyKeyUsage = `usage:
  pakn agency-key provision -agency CODE [-type ecdsa-p256|rsa-2048]
(VAULT_ADDR and an operator's VAULT_TOKEN, PAKN_DATABASE_URL; audited as operator:$USER)
An agency's service key (Transit key pakn-agency-<code>, with a certificate whose common name
is the agency's name) signs the receipts of the petitions the agency receives`

func cmdAgencyKey(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || args[0] != "provision" {
		return errors.New(agencyKeyUsage)
	}
	fs := newFlags("agency-key provision", e)
	code := fs.String("agency", "", "the agency's code, e.g. STP-HN")
	keyType := fs.String("type", "ecdsa-p256", "key type: ecdsa-p256 or rsa-2048")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *code == "" {
		return fmt.Errorf("-agency is required\n%s", agencyKeyUsage)
	}
	pool, err := e.openAppDB(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	api, err := e.operatorVault()
	if err != nil {
		return err
	}
	return provisionAgencyKey(ctx, e, postgres.Stores(pool, nil), api, *code, *keyType)
}

// operatorVault is a Vault client with the operator's token.
func (e env) operatorVault() (*vaultapi.Client, error) {
	addr, err := e.need("VAULT_ADDR", "the address of Vault")
	if err != nil {
		return nil, err
	}
	token, err := e.need("VAULT_TOKEN", "an operator token allowed to manage keys")
	if err != nil {
		return nil, err
	}
	return vault.NewAPI(addr, token, 30*time.Second)
}

// provisionAgencyKey gives the agency code its service key and certificate,
// and records it as the agency's active key with its audit event, unless
// that key version is already the active one.
func provisionAgencyKey(ctx context.Context, e env, st store.Set, api *vaultapi.Client, code, keyType string) error {
	var name string
	ags, err := st.Agencies.List(ctx)
	if err != nil {
		return err
	}
	for _, a := range ags {
		if a.Code == code {
			name = a.NameVI
		}
	}
	if name == "" {
		return fmt.Errorf("no agency %q in the directory", code)
	}
	ps, err := vault.ProvisionAgencyKey(ctx, api, code, keyType, name)
	if err != nil {
		return err
	}
	if cur, err := st.Receipts.ActiveAgencyKey(ctx, code); err == nil && cur.KeyName == ps.Key && cur.KeyVersion == ps.Version {
		fmt.Fprintf(e.stdout, "agency-key: %s already signs with %s v%d\n", code, ps.Key, ps.Version)
		return nil
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	k := &agency.Key{Agency: code, KeyName: ps.Key, KeyVersion: ps.Version, KeyType: keyType, Certificate: ps.Certificate, ChainPEM: ps.ChainPEM}
	err = st.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := st.Receipts.AddAgencyKey(ctx, k, time.Now()); err != nil {
			return err
		}
		return st.Audit.Append(ctx, audit.EventOf(audit.Meta{}, e.operator(), "agency_key.provision", "agency", code, audit.Success,
			audit.Details(map[string]any{"key": ps.Key, "key_version": ps.Version, "key_type": keyType, "serial": serialOf(ps)})))
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "agency-key: %s signs its receipts with %s v%d (certificate %s, valid until %s)\n", code, ps.Key, ps.Version,
		serialOf(ps), ps.Certificate.NotAfter.Format(time.DateOnly))
	return nil
}

func serialOf(ps *vault.ProvisionedSigner) string { return reply.SerialHex(ps.Certificate) }
