package main

import (
	"context"
	"fmt"
	"time"

	"pakn/internal/vault"
)

// cmdCA is pakn ca rotate: a new issuing CA under the root becomes the
// one that issues certificates; the certificates folder is refreshed and
// the time-stamping authority certified again by it. Signers and agency
// keys get certificates from it at their next rotation; until then their
// current certificates (from the CA before) keep signing and verifying.
func cmdCA(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || args[0] != "rotate" {
		return fmt.Errorf("ca needs a subcommand: rotate")
	}
	fs := newFlags("ca rotate", e)
	certs := fs.String("certs-dir", "certs", "folder the public CA chain is exported to (give it to every paknd and verifier)")
	org := fs.String("org", "pakn", "organisation name in the new CA's certificate")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	api, err := e.operatorVault()
	if err != nil {
		return err
	}
	ca, err := vault.RotateIssuingCA(ctx, api, *org)
	if err != nil {
		return fmt.Errorf("ca rotate: %w", err)
	}
	fmt.Fprintf(e.stdout, "ca rotate: new issuing CA %q (serial %x, valid until %s) issues certificates from now on\n",
		ca.Subject.CommonName, ca.SerialNumber, ca.NotAfter.UTC().Format(time.DateOnly))
	res, err := vault.RefreshTrust(ctx, api, *certs, *org)
	if res != nil {
		for _, s := range res.Steps {
			fmt.Fprintln(e.stdout, "ca rotate:", s)
		}
	}
	if err != nil {
		return fmt.Errorf("ca rotate: %w", err)
	}
	fmt.Fprintln(e.stdout, "ca rotate: next: give the certificates folder to every paknd and restart it; rotate each signer "+
		"(pakn signer rotate) and agency key (pakn agency-key provision) to certificates of the new CA")
	return nil
}
