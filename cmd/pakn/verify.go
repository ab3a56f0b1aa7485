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
	"pakn/internal/verify"
)

const verifyUsage = `usage: pakn verify [-certs DIR] [-crl FILE] [-system-roots] [-json] FILE.pdf
  checks a reply PDF offline against the trust anchors in DIR (default certs/) and the issuing
  CA's revocation list (FILE, or fetched from VAULT_ADDR's pki_int); with PAKN_DATABASE_URL the
  register of issued replies is searched too. Exit 0 only for TOTAL_PASSED.`

// cmdVerify is `pakn verify`: exit 0 for TOTAL_PASSED, 1 for any other
// verdict, 2 for a usage or operational error.
func cmdVerify(ctx context.Context, args []string, e env) int {
	fs := newFlags("verify", e)
	certs := fs.String("certs", "certs", "folder of PEM trust anchors")
	crlFile := fs.String("crl", "", "the issuing CA's CRL (PEM or DER); default: fetched from VAULT_ADDR")
	system := fs.Bool("system-roots", false, "also trust the machine's root certificates")
	asJSON := fs.Bool("json", false, "print the report as JSON")
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
	roots, inter, err := verify.LoadAnchors(*certs, *system)
	if err != nil {
		return fail(err)
	}
	v := &verify.Verifier{Roots: roots, Intermediates: inter}
	switch {
	case *crlFile != "":
		v.CRL = &verify.CachedCRL{Fetch: func(context.Context) ([]byte, error) { return os.ReadFile(*crlFile) }}
	case e.getenv("VAULT_ADDR") != "":
		// The CRL endpoint of Vault's PKI needs no token.
		url := strings.TrimRight(e.getenv("VAULT_ADDR"), "/") + "/v1/pki_int/crl/pem"
		v.CRL = &verify.CachedCRL{Fetch: func(ctx context.Context) ([]byte, error) { return fetchCRL(ctx, url) }}
	}
	if e.getenv("PAKN_DATABASE_URL") != "" {
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
	if rep.Indication != verify.TotalPassed {
		return exitFailed
	}
	return exitOK
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
