package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"pakn/internal/postgres"
	"pakn/internal/register"
	"pakn/internal/tsa"
	"pakn/internal/verify"
)

const verifyUsage = `usage: pakn verify [-certs DIR] [-crl FILE] [-system-roots] [-tsa-policy OID] [-at TIME] [-json] FILE.pdf
  checks a reply PDF offline against the trust anchors in DIR (default certs/), the issuing
  CA's revocation lists (FILE, fetched from VAULT_ADDR's pki_int, and those the reply embeds)
  and, with PAKN_DATABASE_URL, the register of issued replies: only a document the system
  issued passes. Without a database, a reply time-stamped at its issuance by the system's
  authority (policy OID.1, default 1.3.6.1.4.1.32473.1) passes on its own. -at checks as of
  TIME (RFC 3339) instead of now.
  Exit 0: TOTAL_PASSED; 1: failed or indeterminate; 2: usage or operational error;
  3: valid signature but not issued by the system (NOT_IN_REGISTER);
  4: valid signature, register not consulted and no issuance time-stamp.`

// cmdVerify is `pakn verify`: exit 0 for TOTAL_PASSED (a document the
// system issued), 3 for a valid signature on a document it did not issue,
// 4 for a valid signature when no register was consulted, 1 for any other
// verdict, 2 for a usage or operational error.
func cmdVerify(ctx context.Context, args []string, e env) int {
	fs := newFlags("verify", e)
	certs := fs.String("certs", "certs", "folder of PEM trust anchors")
	crlFile := fs.String("crl", "", "the issuing CA's CRL (PEM or DER); default: fetched from VAULT_ADDR")
	system := fs.Bool("system-roots", false, "also trust the machine's root certificates")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	policy := fs.String("tsa-policy", "", "OID arc of the system's time-stamping policies (its issuance stamps are .1)")
	at := fs.String("at", "", "check as of this time (RFC 3339) instead of now")
	if err := fs.Parse(args); err != nil {
		return exitError
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(e.stderr, verifyUsage)
		return exitError
	}
	fail := func(err error) int {
		fmt.Fprintln(e.stderr, "pakn verify:", err)
		return exitError
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return fail(err)
	}
	doc, err := io.ReadAll(io.LimitReader(f, verify.MaxSize+1))
	f.Close()
	if err != nil {
		return fail(err)
	}
	v, err := offlineVerifier(e, *certs, *crlFile, *policy, *at, *system)
	if err != nil {
		return fail(err)
	}
	if e.getenv("PAKN_DATABASE_URL") == "" {
		fmt.Fprintln(e.stderr, "pakn verify: no PAKN_DATABASE_URL: the register of issued replies is not consulted; only a reply time-stamped at its issuance by the system's authority can pass")
	} else {
		pool, err := e.openAppDB(ctx)
		if err != nil {
			return fail(err)
		}
		defer pool.Close()
		v.FindIssued = register.Finder(postgres.Stores(pool, nil).Replies)
	}
	rep := v.Verify(ctx, doc)
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fail(err)
		}
	} else {
		fmt.Fprint(e.stdout, rep.Text())
	}
	switch {
	case rep.Indication == verify.TotalPassed:
		return exitOK
	case rep.SubIndication == verify.NotInRegister:
		return exitNotIssued
	case rep.SubIndication == verify.RegisterNotConsulted:
		return exitNoRegister
	}
	return exitFailed
}

// offlineVerifier checks against the anchors in certs, the CRL in crlFile
// or fetched from VAULT_ADDR (and those documents embed), with the
// issuance time-stamps of the policy arc policy, as of at (RFC 3339) or
// now.
func offlineVerifier(e env, certs, crlFile, policy, at string, system bool) (*verify.Verifier, error) {
	roots, inter, err := verify.LoadAnchors(certs, system)
	if err != nil {
		return nil, err
	}
	base, err := tsa.ParsePolicy(policy)
	if err != nil {
		return nil, err
	}
	v := &verify.Verifier{Roots: roots, Intermediates: inter, IssuancePolicy: tsa.Issuance(base)}
	if at != "" {
		when, err := time.Parse(time.RFC3339, at)
		if err != nil {
			return nil, fmt.Errorf("-at: %w", err)
		}
		v.Now = func() time.Time { return when }
	}
	switch {
	case crlFile != "":
		v.CRL = &verify.CachedCRL{Fetch: func(context.Context) ([]byte, error) { return os.ReadFile(crlFile) }}
	case e.getenv("VAULT_ADDR") != "":
		// The CRL endpoint of Vault's PKI needs no token.
		url := strings.TrimRight(e.getenv("VAULT_ADDR"), "/") + "/v1/pki_int/crl/pem"
		v.CRL = &verify.CachedCRL{Fetch: func(ctx context.Context) ([]byte, error) { return fetchCRL(ctx, url) }}
	}
	return v, nil
}

func fetchCRL(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("CRL: %s answered %d", url, resp.StatusCode)
	}
	return io.ReadAll(io.LimitReader(resp.Body, verify.MaxCRLSize+1))
}
