package verify

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// CachedCRL fetches the issuing CA's CRL (PEM or DER) and keeps it for TTL,
// or until its NextUpdate if sooner; when a refresh fails, the previous list
// is used while it is still current (before its NextUpdate). A list fetched
// past its own NextUpdate, or older than one seen before (a replay of an
// old list, over plain HTTP say), counts as a failed refresh.
type CachedCRL struct {
	Fetch func(ctx context.Context) ([]byte, error)
	TTL   time.Duration // 5 minutes when zero
	Now   func() time.Time

	mu      sync.Mutex
	crl     *x509.RevocationList
	fetched time.Time
}

// MaxCRLSize bounds a fetched CRL.
const MaxCRLSize = 8 << 20

// CRLs implements CRLSource: the one list.
func (c *CachedCRL) CRLs(ctx context.Context) ([]*x509.RevocationList, error) {
	crl, err := c.CRL(ctx)
	if err != nil {
		return nil, err
	}
	return []*x509.RevocationList{crl}, nil
}

// CRL returns the list, fetched again when the cached one is older than
// TTL or past its NextUpdate.
func (c *CachedCRL) CRL(ctx context.Context) (*x509.RevocationList, error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	ttl := c.TTL
	if ttl <= 0 {
		ttl = 5 * time.Minute
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := now()
	if c.crl != nil && t.Sub(c.fetched) < ttl && (c.crl.NextUpdate.IsZero() || t.Before(c.crl.NextUpdate)) {
		return c.crl, nil
	}
	b, err := c.Fetch(ctx)
	if err == nil {
		var crl *x509.RevocationList
		crl, err = ParseCRL(b)
		switch {
		case err != nil:
		case !crl.NextUpdate.IsZero() && !t.Before(crl.NextUpdate):
			err = errors.New("the list fetched is past its NextUpdate")
		case c.crl != nil && olderCRL(crl, c.crl):
			err = errors.New("the list fetched is older than one seen before")
		default:
			c.crl, c.fetched = crl, t
			return crl, nil
		}
	}
	if c.crl != nil && (c.crl.NextUpdate.IsZero() || t.Before(c.crl.NextUpdate)) {
		return c.crl, nil // stale but still current
	}
	return nil, fmt.Errorf("revocation list: %w", err)
}

// olderCRL reports whether a was issued before b: by their CRL numbers
// when both have one, else by their ThisUpdate.
func olderCRL(a, b *x509.RevocationList) bool {
	if a.Number != nil && b.Number != nil {
		return a.Number.Cmp(b.Number) < 0
	}
	return a.ThisUpdate.Before(b.ThisUpdate)
}

// ParseCRL reads a CRL in PEM or DER form.
func ParseCRL(b []byte) (*x509.RevocationList, error) {
	if len(b) == 0 || len(b) > MaxCRLSize {
		return nil, errors.New("empty or oversized CRL")
	}
	if blk, _ := pem.Decode(b); blk != nil {
		b = blk.Bytes
	}
	return x509.ParseRevocationList(b)
}

// LoadAnchors reads every *.pem file of dir (pakn's certs/) as trust
// anchors: self-signed CA certificates are roots, other CA certificates
// configured intermediates, anything else is refused; with system, the
// machine's roots are trusted too.
func LoadAnchors(dir string, system bool) (*x509.CertPool, []*x509.Certificate, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.pem"))
	if err != nil {
		return nil, nil, err
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("no *.pem trust anchors in %s", dir)
	}
	var all [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, err
		}
		all = append(all, b)
	}
	rootCerts, inter, err := splitAnchors(all...)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", dir, err)
	}
	roots := x509.NewCertPool()
	if system {
		if roots, err = x509.SystemCertPool(); err != nil {
			return nil, nil, fmt.Errorf("system roots: %w", err)
		}
	}
	for _, c := range rootCerts {
		roots.AddCert(c)
	}
	return roots, inter, nil
}
