package vault

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// Mount paths and names that pakn sets up in Vault.
const (
	TransitMount    = "transit"
	RootPKIMount    = "pki"
	IssuingMount    = "pki_int"
	SignerRole      = "official-signer"
	AppRoleMount    = "approle"
	PakndAppRole    = "paknd"
	DocumentSignEKU = "1.3.6.1.5.5.7.3.36" // RFC 9336 id-kp-documentSigning
)

// Files written by Bootstrap.
const (
	RootCAFile    = "pakn-root-ca.pem"
	IssuingCAFile = "pakn-issuing-ca.pem"
	RoleIDFile    = "paknd-role-id"
	SecretIDFile  = "paknd-secret-id"
)

// BootstrapOptions configures Bootstrap.
type BootstrapOptions struct {
	PolicyName   string // name of paknd's policy
	PolicyHCL    string // its rules (keys/paknd.hcl)
	OrgName      string // organisation in CA subjects
	CertsDir     string // where the public CA chain is exported
	CredsDir     string // where paknd's role_id and secret_id are written (0600)
	AuditLogPath string // Vault's own file audit device; when empty, Vault must already have one
	// SecretIDTTL is how long paknd's AppRole secret id lives (30 days
	// when zero); Bootstrap issues a new one when a third of it is left.
	SecretIDTTL time.Duration
	// SecretIDWrapTTL is how long the response-wrapped secret id in the
	// file can be unwrapped (DefaultSecretIDWrapTTL when zero).
	SecretIDWrapTTL time.Duration
	// BoundCIDRs are the addresses paknd logs in from (and uses its tokens
	// from). When empty, the role keeps the addresses it has (127.0.0.1/32
	// for a new role): a later run without them does not undo them.
	BoundCIDRs []string
	// SignRate is how many requests a second Vault answers on
	// transit/sign/* (a rate-limit quota: DefaultSignRate when zero), so
	// whoever holds paknd's credentials cannot sign in bulk.
	SignRate int
}

// SignQuota is the name of the rate-limit quota on transit/sign/*.
const SignQuota = "pakn-transit-sign"

// DefaultSignRate is the quota's requests a second: far above a desk's
// signing (each reply is two signatures, each receipt one), far below
// what a bulk forger would want.
const DefaultSignRate = 50

// BootstrapResult says what Bootstrap did.
type BootstrapResult struct {
	Steps []string // one line per change made; empty when all was in place
}

// Bootstrap sets up a Vault for pakn, idempotently: the Transit engine; a PKI
// root and an issuing intermediate with a role for official signers (key usage
// digitalSignature + nonRepudiation; EKU emailProtection and documentSigning);
// an AppRole for paknd bound to its least-privilege policy; optionally Vault's
// file audit device; and it exports the public CA chain into CertsDir. admin
// must carry a token allowed to do all of that (root in development).
func Bootstrap(ctx context.Context, admin *vaultapi.Client, o BootstrapOptions) (*BootstrapResult, error) {
	if o.PolicyName == "" || o.PolicyHCL == "" || o.CertsDir == "" || o.CredsDir == "" {
		return nil, errors.New("bootstrap: policy, certs folder and credentials folder are required")
	}
	if o.OrgName == "" {
		o.OrgName = "pakn"
	}
	b := &bootstrapper{api: admin, o: o, res: &BootstrapResult{}}
	for _, step := range []func(context.Context) error{
		b.audit, b.mounts, b.transitKeys, b.signQuota, b.rootCA, b.issuingCA, b.crlConfig, b.signerRole, b.appRole, b.exportCAs, b.tsaKey,
	} {
		if err := step(ctx); err != nil {
			return b.res, redact(err)
		}
	}
	return b.res, nil
}

type bootstrapper struct {
	api *vaultapi.Client
	o   BootstrapOptions
	res *BootstrapResult
}

func (b *bootstrapper) did(format string, args ...any) {
	b.res.Steps = append(b.res.Steps, fmt.Sprintf(format, args...))
}

func (b *bootstrapper) audit(ctx context.Context) error {
	devs, err := b.api.Sys().ListAuditWithContext(ctx)
	if err != nil {
		return fmt.Errorf("list audit devices: %w", err)
	}
	if b.o.AuditLogPath == "" {
		if len(devs) == 0 {
			// Without one, Vault keeps no trace of who signed with which key.
			return errors.New("no audit device in Vault: give -vault-audit-log (a path on the Vault host) or enable one")
		}
		return nil
	}
	if _, ok := devs["file/"]; ok {
		return nil
	}
	if err := b.api.Sys().EnableAuditWithOptionsWithContext(ctx, "file", &vaultapi.EnableAuditOptions{
		Type: "file", Options: map[string]string{"file_path": b.o.AuditLogPath, "mode": "0600"},
	}); err != nil {
		return fmt.Errorf("enable audit device: %w", err)
	}
	b.did("enabled Vault's file audit device at %s", b.o.AuditLogPath)
	return nil
}

func (b *bootstrapper) mounts(ctx context.Context) error {
	mounts, err := b.api.Sys().ListMountsWithContext(ctx)
	if err != nil {
		return fmt.Errorf("list mounts: %w", err)
	}
	for _, m := range []struct {
		path, typ, maxTTL string
	}{
		{TransitMount, "transit", ""},
		{RootPKIMount, "pki", "87600h"},
		{IssuingMount, "pki", "43800h"},
	} {
		if _, ok := mounts[m.path+"/"]; ok {
			continue
		}
		in := &vaultapi.MountInput{Type: m.typ, Config: vaultapi.MountConfigInput{MaxLeaseTTL: m.maxTTL}}
		if err := b.api.Sys().MountWithContext(ctx, m.path, in); err != nil {
			return fmt.Errorf("mount %s: %w", m.path, err)
		}
		b.did("mounted %s at %s/", m.typ, m.path)
	}
	auths, err := b.api.Sys().ListAuthWithContext(ctx)
	if err != nil {
		return fmt.Errorf("list auth methods: %w", err)
	}
	if _, ok := auths[AppRoleMount+"/"]; !ok {
		if err := b.api.Sys().EnableAuthWithOptionsWithContext(ctx, AppRoleMount, &vaultapi.EnableAuthOptions{Type: "approle"}); err != nil {
			return fmt.Errorf("enable approle: %w", err)
		}
		b.did("enabled AppRole auth at %s/", AppRoleMount)
	}
	return nil
}

// transitKeys creates the Transit keys paknd uses for encryption: not
// exportable, not deletable.
func (b *bootstrapper) transitKeys(ctx context.Context) error {
	for _, key := range []string{MFAKey, PIIKey} {
		s, err := b.api.Logical().ReadWithContext(ctx, TransitMount+"/keys/"+key)
		if err != nil {
			return fmt.Errorf("read key %s: %w", key, err)
		}
		if s != nil {
			continue
		}
		if _, err := b.api.Logical().WriteWithContext(ctx, TransitMount+"/keys/"+key, map[string]any{
			"type": "aes256-gcm96", "exportable": false, "allow_plaintext_backup": false,
		}); err != nil {
			return fmt.Errorf("create key %s: %w", key, err)
		}
		b.did("created Transit encryption key %s", key)
	}
	return nil
}

// caPEM returns the CA certificate of a PKI mount, or "" when it has none.
func (b *bootstrapper) caPEM(ctx context.Context, mount string) (string, error) {
	s, err := b.api.Logical().ReadWithContext(ctx, mount+"/cert/ca")
	if err != nil {
		var re *vaultapi.ResponseError
		if errors.As(err, &re) && re.StatusCode < 500 {
			return "", nil
		}
		return "", err
	}
	if s == nil || s.Data == nil {
		return "", nil
	}
	pem, _ := s.Data["certificate"].(string)
	return strings.TrimSpace(pem), nil
}

func (b *bootstrapper) rootCA(ctx context.Context) error {
	pem, err := b.caPEM(ctx, RootPKIMount)
	if err != nil || pem != "" {
		return err
	}
	_, err = b.api.Logical().WriteWithContext(ctx, RootPKIMount+"/root/generate/internal", map[string]any{
		"common_name":  b.o.OrgName + " Root CA",
		"organization": b.o.OrgName,
		"country":      "VN",
		"key_type":     "ec",
		"key_bits":     256,
		"ttl":          "87600h",
		"issuer_name":  "pakn-root",
	})
	if err != nil {
		return fmt.Errorf("generate root CA: %w", err)
	}
	b.did("generated the root CA in %s/", RootPKIMount)
	return nil
}

func (b *bootstrapper) issuingCA(ctx context.Context) error {
	pem, err := b.caPEM(ctx, IssuingMount)
	if err != nil || pem != "" {
		return err
	}
	s, err := b.api.Logical().WriteWithContext(ctx, IssuingMount+"/intermediate/generate/internal", map[string]any{
		"common_name":  b.o.OrgName + " Issuing CA for Official Signers",
		"organization": b.o.OrgName,
		"country":      "VN",
		"key_type":     "ec",
		"key_bits":     256,
	})
	if err != nil {
		return fmt.Errorf("generate issuing CA key: %w", err)
	}
	csr, _ := s.Data["csr"].(string)
	s, err = b.api.Logical().WriteWithContext(ctx, RootPKIMount+"/root/sign-intermediate", map[string]any{
		"csr":             csr,
		"ttl":             "43800h",
		"max_path_length": 0,
		"use_csr_values":  true,
		"format":          "pem",
	})
	if err != nil {
		return fmt.Errorf("sign issuing CA: %w", err)
	}
	cert, _ := s.Data["certificate"].(string)
	root, _ := s.Data["issuing_ca"].(string)
	if _, err := b.api.Logical().WriteWithContext(ctx, IssuingMount+"/intermediate/set-signed", map[string]any{
		"certificate": cert + "\n" + root,
	}); err != nil {
		return fmt.Errorf("install issuing CA: %w", err)
	}
	b.did("created the issuing CA in %s/, signed by the root", IssuingMount)
	return nil
}

// crlConfig keeps the CRLs of the root and the issuing CA current:
// verifiers refuse a list past its NextUpdate, replies embed both (PAdES
// B-LT), and Vault rebuilds a list only at a revocation (its automatic
// rebuilding would delay revocations). A list lives CRLExpiry, and every
// bootstrap run rebuilds it when less than a third is left: run pakn
// bootstrap regularly (it renews paknd's secret id too).
func (b *bootstrapper) crlConfig(ctx context.Context) error {
	for _, mount := range []string{RootPKIMount, IssuingMount} {
		if err := b.mountCRL(ctx, mount); err != nil {
			return err
		}
	}
	return nil
}

func (b *bootstrapper) mountCRL(ctx context.Context, mount string) error {
	s, err := b.api.Logical().ReadWithContext(ctx, mount+"/config/crl")
	if err != nil {
		return fmt.Errorf("read CRL configuration of %s: %w", mount, err)
	}
	if s == nil || s.Data["expiry"] != CRLExpiry {
		if _, err := b.api.Logical().WriteWithContext(ctx, mount+"/config/crl", map[string]any{"expiry": CRLExpiry}); err != nil {
			return fmt.Errorf("configure the CRL of %s: %w", mount, err)
		}
		b.did("the CRL of %s lives %s", mount, CRLExpiry)
	}
	cur, err := b.api.Logical().ReadWithContext(ctx, mount+"/cert/crl")
	if err != nil || cur == nil {
		return fmt.Errorf("read the CRL of %s: %w", mount, redact(err))
	}
	pemCRL, _ := cur.Data["certificate"].(string)
	blk, _ := pem.Decode([]byte(pemCRL))
	if blk != nil {
		if crl, err := x509.ParseRevocationList(blk.Bytes); err == nil && time.Until(crl.NextUpdate) > crlLife/3 {
			return nil
		}
	}
	if _, err := b.api.Logical().ReadWithContext(ctx, mount+"/crl/rotate"); err != nil {
		return fmt.Errorf("rebuild the CRL of %s: %w", mount, redact(err))
	}
	b.did("rebuilt the CRL of %s", mount)
	return nil
}

// CRLExpiry is how long a CRL of the issuing CA lives.
const CRLExpiry = "720h"

const crlLife = 720 * time.Hour

func (b *bootstrapper) signerRole(ctx context.Context) error {
	want := map[string]any{
		"allow_any_name":                     true,
		"enforce_hostnames":                  false,
		"allow_ip_sans":                      false,
		"allow_localhost":                    false,
		"allow_wildcard_certificates":        false,
		"server_flag":                        false,
		"client_flag":                        false,
		"code_signing_flag":                  false,
		"email_protection_flag":              true,
		"key_usage":                          []string{"DigitalSignature", "ContentCommitment"},
		"ext_key_usage":                      []string{},
		"ext_key_usage_oids":                 []string{DocumentSignEKU},
		"key_type":                           "any",
		"organization":                       []string{b.o.OrgName},
		"country":                            []string{"VN"},
		"use_csr_common_name":                true,
		"use_csr_sans":                       false,
		"require_cn":                         true,
		"basic_constraints_valid_for_non_ca": true,
		"max_ttl":                            "8760h",
		"ttl":                                "8760h",
		"no_store":                           false,
	}
	if _, err := b.api.Logical().WriteWithContext(ctx, IssuingMount+"/roles/"+SignerRole, want); err != nil {
		return fmt.Errorf("write signer role: %w", err)
	}
	return nil
}

func (b *bootstrapper) appRole(ctx context.Context) error {
	cur, err := b.api.Sys().GetPolicyWithContext(ctx, b.o.PolicyName)
	if err != nil {
		return fmt.Errorf("read policy: %w", err)
	}
	if strings.TrimSpace(cur) != strings.TrimSpace(b.o.PolicyHCL) {
		if err := b.api.Sys().PutPolicyWithContext(ctx, b.o.PolicyName, b.o.PolicyHCL); err != nil {
			return fmt.Errorf("write policy: %w", err)
		}
		b.did("wrote policy %q", b.o.PolicyName)
	}
	role := "auth/" + AppRoleMount + "/role/" + PakndAppRole
	ttl, cidrs := b.o.SecretIDTTL, b.o.BoundCIDRs
	if ttl <= 0 {
		ttl = DefaultSecretIDTTL
	}
	if len(cidrs) == 0 {
		if cidrs, err = b.roleCIDRs(ctx, role); err != nil {
			return err
		}
	}
	if _, err := b.api.Logical().WriteWithContext(ctx, role, map[string]any{
		"token_policies":          []string{b.o.PolicyName},
		"token_no_default_policy": true,
		"token_type":              "service",
		"token_ttl":               "1h",
		"token_max_ttl":           "24h",
		"bind_secret_id":          true,
		"secret_id_ttl":           fmt.Sprintf("%ds", int(ttl.Seconds())),
		"secret_id_bound_cidrs":   cidrs,
		"token_bound_cidrs":       cidrs,
	}); err != nil {
		return fmt.Errorf("write approle: %w", err)
	}
	if err := os.MkdirAll(b.o.CredsDir, 0o700); err != nil {
		return err
	}
	s, err := b.api.Logical().ReadWithContext(ctx, role+"/role-id")
	if err != nil || s == nil {
		return fmt.Errorf("read role id: %w", err)
	}
	roleID, _ := s.Data["role_id"].(string)
	if err := writeSecretFile(filepath.Join(b.o.CredsDir, RoleIDFile), roleID); err != nil {
		return err
	}
	return b.secretID(ctx, role, ttl)
}

// secretID hands paknd a secret id, response-wrapped: the file holds a
// wrapping token that unwraps once, within SecretIDWrapTTL, into the
// secret id (paknd unwraps it at login; someone who unwrapped it first
// leaves paknd unable to, which paknd reports). The one in the file is
// kept while it has not been unwrapped and its secret id has more than a
// third of its life left; otherwise a new one is issued and every other
// secret id of the role destroyed, so paknd always holds exactly one.
func (b *bootstrapper) secretID(ctx context.Context, role string, ttl time.Duration) error {
	secretPath := filepath.Join(b.o.CredsDir, SecretIDFile)
	old, _ := os.ReadFile(secretPath)
	if keep, err := b.keepSecretID(ctx, role, strings.TrimSpace(string(old)), ttl); err != nil || keep {
		return err
	}
	wrapTTL := b.o.SecretIDWrapTTL
	if wrapTTL <= 0 {
		wrapTTL = DefaultSecretIDWrapTTL
	}
	wc, err := b.api.Clone()
	if err != nil {
		return err
	}
	wc.SetToken(b.api.Token())
	wc.SetWrappingLookupFunc(func(string, string) string { return fmt.Sprintf("%ds", int(wrapTTL.Seconds())) })
	s, err := wc.Logical().WriteWithContext(ctx, role+"/secret-id", nil)
	if err != nil || s == nil || s.WrapInfo == nil || s.WrapInfo.Token == "" {
		return fmt.Errorf("issue a wrapped secret id: %w", err)
	}
	if err := writeSecretFile(secretPath, s.WrapInfo.Token); err != nil {
		return err
	}
	b.did("issued a new AppRole secret id for paknd, response-wrapped, into %s", secretPath)
	return b.destroySecretIDsBut(ctx, role, s.WrapInfo.WrappedAccessor)
}

// keepSecretID reports whether the wrapping token in the file (content)
// may stay: not yet unwrapped, and the role's one secret id far from its
// end.
func (b *bootstrapper) keepSecretID(ctx context.Context, role, content string, ttl time.Duration) (bool, error) {
	if !IsWrappingToken(content) {
		return false, nil // none yet, or an unwrapped secret id of an earlier version: replaced
	}
	if _, err := b.api.Logical().WriteWithContext(ctx, "sys/wrapping/lookup", map[string]any{"token": content}); err != nil {
		return false, nil // unwrapped (by paknd, or by someone else) or expired
	}
	accessors, err := b.secretIDAccessors(ctx, role)
	if err != nil || len(accessors) != 1 {
		return false, err
	}
	s, err := b.api.Logical().WriteWithContext(ctx, role+"/secret-id-accessor/lookup", map[string]any{"secret_id_accessor": accessors[0]})
	return err == nil && s != nil && !expiresWithin(s, ttl/3), nil
}

// secretIDAccessors lists the accessors of the role's secret ids.
func (b *bootstrapper) secretIDAccessors(ctx context.Context, role string) ([]string, error) {
	s, err := b.api.Logical().ListWithContext(ctx, role+"/secret-id")
	if err != nil {
		return nil, fmt.Errorf("list secret ids: %w", err)
	}
	var out []string
	if s != nil {
		keys, _ := s.Data["keys"].([]any)
		for _, k := range keys {
			if k, ok := k.(string); ok {
				out = append(out, k)
			}
		}
	}
	return out, nil
}

// destroySecretIDsBut destroys every secret id of the role except the one
// with accessor keep: those replaced log in no more (a running paknd's
// token lives on until it ends, and paknd unwraps the new one at its next
// login).
func (b *bootstrapper) destroySecretIDsBut(ctx context.Context, role, keep string) error {
	accessors, err := b.secretIDAccessors(ctx, role)
	if err != nil {
		return err
	}
	for _, a := range accessors {
		if a == keep {
			continue
		}
		if _, err := b.api.Logical().WriteWithContext(ctx, role+"/secret-id-accessor/destroy", map[string]any{"secret_id_accessor": a}); err != nil {
			return fmt.Errorf("destroy a replaced secret id: %w", err)
		}
	}
	return nil
}

// OneLoginSecretID issues, with admin's token, a secret id of paknd's role
// that logs in once within five minutes: for an operator's command that
// acts as paknd (pakn seed's demo reply) without touching paknd's own.
func OneLoginSecretID(ctx context.Context, admin *vaultapi.Client) (string, error) {
	s, err := admin.Logical().WriteWithContext(ctx, "auth/"+AppRoleMount+"/role/"+PakndAppRole+"/secret-id",
		map[string]any{"num_uses": 1, "ttl": "5m"})
	if err != nil || s == nil {
		return "", fmt.Errorf("issue a one-login secret id: %w", redact(err))
	}
	id, _ := s.Data["secret_id"].(string)
	return id, nil
}

// IsWrappingToken reports whether s is a Vault token (a response-wrapping
// token, as pakn bootstrap writes paknd's secret id) rather than an
// AppRole secret id, which is a UUID.
func IsWrappingToken(s string) bool {
	return strings.HasPrefix(s, "hvs.") || strings.HasPrefix(s, "s.")
}

// DefaultSecretIDWrapTTL is how long the wrapping token in paknd's secret
// id file unwraps: longer than a paknd token's maximum life (24 h), so a
// running paknd that logs in again after a renewal still finds it.
const DefaultSecretIDWrapTTL = 48 * time.Hour

// roleCIDRs are the addresses the AppRole at path is bound to now
// (127.0.0.1/32 when it is new or bound to none).
func (b *bootstrapper) roleCIDRs(ctx context.Context, path string) ([]string, error) {
	s, err := b.api.Logical().ReadWithContext(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("read approle: %w", err)
	}
	var out []string
	if s != nil {
		list, _ := s.Data["secret_id_bound_cidrs"].([]any)
		for _, c := range list {
			if c, ok := c.(string); ok && c != "" {
				out = append(out, c)
			}
		}
	}
	if len(out) == 0 {
		out = []string{"127.0.0.1/32"}
	}
	return out, nil
}

// signQuota sets the rate-limit quota on transit/sign/*.
func (b *bootstrapper) signQuota(ctx context.Context) error {
	rate := b.o.SignRate
	if rate <= 0 {
		rate = DefaultSignRate
	}
	path := "sys/quotas/rate-limit/" + SignQuota
	cur, err := b.api.Logical().ReadWithContext(ctx, path)
	if err != nil {
		return fmt.Errorf("read quota: %w", err)
	}
	if cur != nil && fmt.Sprint(cur.Data["path"]) == TransitMount+"/sign/*" && fmt.Sprint(cur.Data["rate"]) == strconv.Itoa(rate) &&
		fmt.Sprint(cur.Data["interval"]) == "1" {
		return nil
	}
	if _, err := b.api.Logical().WriteWithContext(ctx, path, map[string]any{"path": TransitMount + "/sign/*", "rate": rate, "interval": "1s"}); err != nil {
		return fmt.Errorf("write quota: %w", err)
	}
	b.did("set a rate limit of %d requests a second on %s/sign/*", rate, TransitMount)
	return nil
}

// DefaultSecretIDTTL is how long paknd's AppRole secret id lives unless
// configured: run pakn bootstrap at least every 20 days to renew it.
const DefaultSecretIDTTL = 30 * 24 * time.Hour

// expiresWithin reports whether a secret id (its lookup s) ends within d.
func expiresWithin(s *vaultapi.Secret, d time.Duration) bool {
	exp, _ := s.Data["expiration_time"].(string)
	t, err := time.Parse(time.RFC3339Nano, exp)
	return err != nil || time.Until(t) < d
}

// exportCAs writes the root to RootCAFile and every CA of the issuing
// mount (the current one first, then those it replaced, whose
// certificates still verify) to IssuingCAFile.
func (b *bootstrapper) exportCAs(ctx context.Context) error {
	if err := os.MkdirAll(b.o.CertsDir, 0o755); err != nil {
		return err
	}
	root, err := b.caPEM(ctx, RootPKIMount)
	if err != nil {
		return fmt.Errorf("read CA of %s: %w", RootPKIMount, err)
	}
	all, err := issuers(ctx, b.api)
	if err != nil {
		return fmt.Errorf("read the CAs of %s: %w", IssuingMount, err)
	}
	for _, f := range []struct{ pem, file string }{{root, RootCAFile}, {strings.Join(all, "\n"), IssuingCAFile}} {
		if f.pem == "" {
			return fmt.Errorf("no CA certificate for %s", f.file)
		}
		path := filepath.Join(b.o.CertsDir, f.file)
		if old, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(old)) == f.pem {
			continue
		}
		if err := os.WriteFile(path, []byte(f.pem+"\n"), 0o644); err != nil {
			return err
		}
		b.did("exported %s", path)
	}
	return nil
}

// RefreshTrust exports the CA chain to certsDir and certifies the
// time-stamping authority again when its certificate is missing, expiring
// or from a CA that is no longer the current one: what pakn ca rotate runs
// after a new issuing CA. admin carries an operator's token.
func RefreshTrust(ctx context.Context, admin *vaultapi.Client, certsDir, orgName string) (*BootstrapResult, error) {
	if orgName == "" {
		orgName = "pakn"
	}
	b := &bootstrapper{api: admin, o: BootstrapOptions{CertsDir: certsDir, OrgName: orgName}, res: &BootstrapResult{}}
	for _, step := range []func(context.Context) error{b.exportCAs, b.tsaKey} {
		if err := step(ctx); err != nil {
			return b.res, redact(err)
		}
	}
	return b.res, nil
}

func writeSecretFile(path, value string) error {
	if value == "" {
		return fmt.Errorf("empty value for %s", filepath.Base(path))
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(value+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
