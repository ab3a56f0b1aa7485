package vault

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"pakn/internal/verify"
)

// RotateIssuingCA gives the issuing mount a new CA under the root (a new
// key, generated in Vault) and makes it the default issuer: from then on
// signers' certificates, agencies' and the time-stamping authority's come
// from it. The CAs before it stay in the mount as issuers: their
// certificates keep verifying (as intermediates under the same root) and
// their CRLs keep being published, so a certificate they issued can still
// be revoked. It returns the new CA's certificate. It runs with an
// operator's token; pakn bootstrap then exports every issuer to certs/
// and certifies the time-stamping authority again.
func RotateIssuingCA(ctx context.Context, admin *vaultapi.Client, orgName string) (*x509.Certificate, error) {
	if orgName == "" {
		orgName = "pakn"
	}
	s, err := admin.Logical().WriteWithContext(ctx, IssuingMount+"/intermediate/generate/internal", map[string]any{
		"common_name":  orgName + " Issuing CA for Official Signers " + time.Now().UTC().Format("2006-01-02"),
		"organization": orgName, "country": "VN", "key_type": "ec", "key_bits": 256,
	})
	if err != nil {
		return nil, fmt.Errorf("generate the new issuing CA's key: %w", redact(err))
	}
	csr, _ := s.Data["csr"].(string)
	s, err = admin.Logical().WriteWithContext(ctx, RootPKIMount+"/root/sign-intermediate", map[string]any{
		"csr": csr, "ttl": "43800h", "max_path_length": 0, "use_csr_values": true, "format": "pem",
	})
	if err != nil {
		return nil, fmt.Errorf("sign the new issuing CA: %w", redact(err))
	}
	certPEM, _ := s.Data["certificate"].(string)
	s, err = admin.Logical().WriteWithContext(ctx, IssuingMount+"/intermediate/set-signed", map[string]any{"certificate": certPEM})
	if err != nil {
		return nil, fmt.Errorf("install the new issuing CA: %w", redact(err))
	}
	imported, _ := s.Data["imported_issuers"].([]any)
	if len(imported) != 1 {
		return nil, fmt.Errorf("installing the new issuing CA imported %d issuers, not 1", len(imported))
	}
	id, _ := imported[0].(string)
	if _, err := admin.Logical().WriteWithContext(ctx, IssuingMount+"/config/issuers", map[string]any{"default": id}); err != nil {
		return nil, fmt.Errorf("make the new issuing CA the default: %w", redact(err))
	}
	if _, err := admin.Logical().WriteWithContext(ctx, IssuingMount+"/issuer/"+id, map[string]any{"issuer_name": "issuing-" + time.Now().UTC().Format("20060102150405")}); err != nil {
		return nil, fmt.Errorf("name the new issuing CA: %w", redact(err))
	}
	blk, _ := pem.Decode([]byte(certPEM))
	if blk == nil {
		return nil, errors.New("the new issuing CA's certificate is not PEM")
	}
	return x509.ParseCertificate(blk.Bytes)
}

// issuerIDs lists the ids of the issuing mount's CAs, sorted: the
// issuers with a key (not the root, imported with the first CA's chain,
// which issues nothing here and has no CRL of the mount).
func issuerIDs(ctx context.Context, api *vaultapi.Client) ([]string, error) {
	s, err := api.Logical().ListWithContext(ctx, IssuingMount+"/issuers")
	if err != nil {
		return nil, fmt.Errorf("list the issuing CAs: %w", redact(err))
	}
	var ids []string
	if s != nil {
		info, _ := s.Data["key_info"].(map[string]any)
		for id, v := range info {
			if m, _ := v.(map[string]any); m != nil && m["key_id"] != nil && m["key_id"] != "" {
				ids = append(ids, id)
			}
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// issuers lists the issuing mount's CA certificates (PEM), the default
// first, then the others oldest first.
func issuers(ctx context.Context, api *vaultapi.Client) ([]string, error) {
	ids, err := issuerIDs(ctx, api)
	if err != nil {
		return nil, err
	}
	def := ""
	if cfg, err := api.Logical().ReadWithContext(ctx, IssuingMount+"/config/issuers"); err == nil && cfg != nil {
		def, _ = cfg.Data["default"].(string)
	}
	type issuer struct {
		pem       string
		notBefore time.Time
		isDefault bool
	}
	var all []issuer
	for _, id := range ids {
		r, err := api.Logical().ReadWithContext(ctx, IssuingMount+"/issuer/"+id)
		if err != nil || r == nil {
			return nil, fmt.Errorf("read issuer %s: %w", id, redact(err))
		}
		c, _ := r.Data["certificate"].(string)
		blk, _ := pem.Decode([]byte(c))
		if blk == nil {
			return nil, fmt.Errorf("issuer %s has no certificate", id)
		}
		cert, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, err
		}
		all = append(all, issuer{strings.TrimSpace(c), cert.NotBefore, id == def})
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].isDefault != all[j].isDefault {
			return all[i].isDefault
		}
		return all[i].notBefore.Before(all[j].notBefore)
	})
	out := make([]string, len(all))
	for i, is := range all {
		out[i] = is.pem
	}
	return out, nil
}

// IssuerCRLs is a verify.CRLSource of the CRLs of every CA of the issuing
// mount (the current one and those it replaced), each fetched at most
// every ttl (five minutes when zero); the list of issuers is read again
// as often.
func (c *Client) IssuerCRLs(ttl time.Duration) verify.CRLSource {
	return &issuerCRLs{c: c, ttl: ttl, lists: map[string]*verify.CachedCRL{}}
}

type issuerCRLs struct {
	c     *Client
	ttl   time.Duration
	mu    sync.Mutex
	ids   []string
	read  time.Time
	lists map[string]*verify.CachedCRL
}

// CRLs implements verify.CRLSource.
func (l *issuerCRLs) CRLs(ctx context.Context) ([]*x509.RevocationList, error) {
	ttl := l.ttl
	if ttl <= 0 {
		ttl = 5 * time.Minute
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ids == nil || time.Since(l.read) >= ttl {
		ctx, cancel := context.WithTimeout(ctx, l.c.cfg.Timeout)
		ids, err := issuerIDs(ctx, l.c.api)
		cancel()
		switch {
		case err == nil:
			l.ids, l.read = ids, time.Now()
		case l.ids == nil:
			return nil, err
		}
	}
	var out []*x509.RevocationList
	for _, id := range l.ids {
		cached := l.lists[id]
		if cached == nil {
			cached = &verify.CachedCRL{Fetch: func(ctx context.Context) ([]byte, error) {
				return l.c.crl(ctx, IssuingMount+"/issuer/"+id+"/crl", "crl")
			}, TTL: ttl}
			l.lists[id] = cached
		}
		crl, err := cached.CRL(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, crl)
	}
	return out, nil
}
