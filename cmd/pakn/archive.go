package main

import (
	"context"
	"fmt"
	"time"

	"pakn/internal/audit"
	"pakn/internal/guard"
	"pakn/internal/petitions"
	"pakn/internal/postgres"
	"pakn/internal/replies"
	"pakn/internal/sealed"
	"pakn/internal/signing"
	"pakn/internal/vault"
)

// cmdArchiveTimestamp is pakn archive-timestamp: signed documents whose
// newest time-stamp's certificate ends within -within get a new version
// with a document time-stamp of pakn's authority (audited, every version
// kept). Run it regularly (monthly).
func cmdArchiveTimestamp(ctx context.Context, args []string, e env) error {
	fs := newFlags("archive-timestamp", e)
	within := fs.Duration("within", 180*24*time.Hour, "renew documents whose newest time-stamp's certificate ends within this long")
	limit := fs.Int("limit", 10000, "read at most this many documents in one run")
	certs := fs.String("certs", "certs", "the trust anchors folder, with the time-stamping authority's certificate (tsa/pakn-tsa.pem)")
	credsDir := fs.String("vault-creds-dir", "", "paknd's AppRole credentials, to time-stamp as paknd does (default: VAULT_TOKEN)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	admin, err := e.operatorVault()
	if err != nil {
		return err
	}
	auditKey, err := e.auditKey()
	if err != nil {
		return err
	}
	pool, err := e.openAppDB(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	vc, err := paknVault(ctx, admin, *credsDir)
	if err != nil {
		return err
	}
	auth, err := e.issuanceAuthority(vc, *certs)
	if err != nil {
		return err
	}
	box := vault.NewEnvelopeBox(vc, vault.PIIKey)
	st := sealed.Stores(postgres.Stores(pool, nil), box, sealed.SearchKey(auditKey))
	pets, err := petitions.New(petitions.Config{Stores: st, Box: box, Guard: &guard.Guard{Audit: st.Audit, Now: time.Now}})
	if err != nil {
		return err
	}
	reps, err := replies.New(replies.Config{Petitions: pets, Stores: st, Archive: signing.Archive,
		Docs: replies.Documents{Stamp: auth.Respond, CRLs: vc.ValidationCRLs(0)}})
	if err != nil {
		return err
	}
	rep, err := reps.ArchiveTimestamps(ctx, audit.Meta{RequestID: "cli"}, e.operator(), *within, vault.TSACertTTL/3, *limit)
	fmt.Fprintf(e.stdout, "archive-timestamp: %d documents read, %d renewed with an archive time-stamp, %d renewed meanwhile by another run\n",
		rep.Checked, rep.Renewed, rep.Conflict)
	return err
}
