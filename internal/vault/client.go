// Package vault is pakn's HashiCorp Vault adapter, and all of pakn's Vault
// code: it logs paknd in (AppRole in production, a plain token only in
// development), keeps the token alive, reports readiness, signs with
// signers' Transit keys (TransitSigner, checked against their
// certificates), seals personal data and MFA secrets (EnvelopeBox,
// TransitBox), reads the issuing CA's CRL, and bootstraps a Vault for pakn
// and provisions signers' keys and certificates (operator token).
package vault

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// Config says how to reach and log in to Vault.
type Config struct {
	Addr   string // e.g. http://127.0.0.1:8200
	Token  string // development only: a plain token
	RoleID string // AppRole role_id
	// SecretID is the AppRole secret_id, or a response-wrapping token
	// holding it (as pakn bootstrap writes it): unwrapped at the first
	// login, the secret id then kept in memory.
	SecretID string
	// SecretIDFile, when set, is read again at every login: pakn bootstrap
	// renews the (wrapped) secret id in it (and destroys the old one) while
	// paknd runs.
	SecretIDFile string
	Mount        string        // AppRole auth mount; "approle" when empty
	Timeout      time.Duration // per request; 10s when zero
}

// Client is a logged-in Vault client whose token is kept alive by Run.
type Client struct {
	api    *vaultapi.Client
	cfg    Config
	log    *slog.Logger
	mu     sync.Mutex
	secret *vaultapi.Secret // the AppRole login answer, for renewal
	// wrapped is the wrapping token last unwrapped, and unwrapped its
	// secret id: a token unwraps once.
	wrapped, unwrapped string
	proven             pairs // signer key versions and certificates proven to match
}

// Connect creates a client for cfg and logs in.
func Connect(ctx context.Context, cfg Config, log *slog.Logger) (*Client, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Mount == "" {
		cfg.Mount = "approle"
	}
	if log == nil {
		log = slog.Default()
	}
	api, err := NewAPI(cfg.Addr, "", cfg.Timeout)
	if err != nil {
		return nil, err
	}
	c := &Client{api: api, cfg: cfg, log: log}
	switch {
	case cfg.RoleID != "":
		if err := c.login(ctx); err != nil {
			return nil, err
		}
	case cfg.Token != "":
		api.SetToken(cfg.Token)
	default:
		return nil, errors.New("vault: neither an AppRole nor a token is configured")
	}
	return c, nil
}

// MaxIdleConns is how many idle connections to Vault a client keeps.
const MaxIdleConns = 64

// NewAPI returns a raw Vault API client for addr with the given token and a
// timeout on every request. Retries are off: callers decide.
func NewAPI(addr, token string, timeout time.Duration) (*vaultapi.Client, error) {
	conf := vaultapi.DefaultConfig()
	if conf.Error != nil {
		return nil, fmt.Errorf("vault config: %w", conf.Error)
	}
	conf.Address = addr
	conf.Timeout = timeout
	conf.MaxRetries = 0
	// The default pool keeps GOMAXPROCS+1 idle connections to Vault; with
	// more concurrent requests (signing, sealing personal data) every extra
	// one would open and close a TCP connection per request.
	if tr, ok := conf.HttpClient.Transport.(*http.Transport); ok {
		tr.MaxIdleConnsPerHost = MaxIdleConns
	}
	api, err := vaultapi.NewClient(conf)
	if err != nil {
		return nil, fmt.Errorf("vault client: %w", err)
	}
	// NewClient reads VAULT_TOKEN from the environment; be explicit instead.
	api.ClearToken()
	if token != "" {
		api.SetToken(token)
	}
	return api, nil
}

// API returns the underlying client, carrying paknd's token.
func (c *Client) API() *vaultapi.Client { return c.api }

func (c *Client) login(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	// Log in with a token-less clone so a stale token is never sent along.
	anon, err := c.api.Clone()
	if err != nil {
		return err
	}
	anon.ClearToken()
	secretID, err := c.secretID(ctx, anon)
	if err != nil {
		return err
	}
	s, err := anon.Logical().WriteWithContext(ctx, "auth/"+c.cfg.Mount+"/login", map[string]any{
		"role_id":   c.cfg.RoleID,
		"secret_id": secretID,
	})
	if err != nil {
		return fmt.Errorf("vault AppRole login: %w", redact(err))
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return errors.New("vault AppRole login returned no token")
	}
	c.mu.Lock()
	c.secret = s
	c.mu.Unlock()
	c.api.SetToken(s.Auth.ClientToken)
	return nil
}

// secretID is the secret id to log in with: the configured one or the
// file's, unwrapped when it is a response-wrapping token (once per token).
func (c *Client) secretID(ctx context.Context, anon *vaultapi.Client) (string, error) {
	id := c.cfg.SecretID
	if c.cfg.SecretIDFile != "" {
		b, err := os.ReadFile(c.cfg.SecretIDFile)
		if err != nil {
			return "", fmt.Errorf("vault secret id: %w", err)
		}
		id = strings.TrimSpace(string(b))
	}
	if !IsWrappingToken(id) {
		return id, nil
	}
	c.mu.Lock()
	if c.wrapped == id {
		id = c.unwrapped
		c.mu.Unlock()
		return id, nil
	}
	c.mu.Unlock()
	s, err := anon.Logical().UnwrapWithContext(ctx, id)
	if err == nil && s == nil {
		err = errors.New("empty answer")
	}
	if err != nil {
		return "", fmt.Errorf("vault: the wrapped secret id does not unwrap (a wrapping token unwraps once and expires: if this paknd "+
			"did not unwrap it, someone else may have; run pakn bootstrap for a new one, and look into it): %w", redact(err))
	}
	secret, _ := s.Data["secret_id"].(string)
	if secret == "" {
		return "", errors.New("vault: the wrapped answer holds no secret id")
	}
	c.mu.Lock()
	c.wrapped, c.unwrapped = id, secret
	c.mu.Unlock()
	return secret, nil
}

// Run keeps the AppRole token alive until ctx ends: it renews the token while
// it can and logs in again when it can no longer be renewed, backing off on
// errors. With a plain token it only waits for ctx.
func (c *Client) Run(ctx context.Context) {
	if c.cfg.RoleID == "" {
		<-ctx.Done()
		return
	}
	backoff := time.Second
	for ctx.Err() == nil {
		c.mu.Lock()
		s := c.secret
		c.mu.Unlock()
		w, err := c.api.NewLifetimeWatcher(&vaultapi.LifetimeWatcherInput{Secret: s})
		if err != nil {
			c.log.Error("vault token watcher", "err", err)
			return
		}
		go w.Start()
	watch:
		for {
			select {
			case <-ctx.Done():
				w.Stop()
				return
			case <-w.RenewCh():
				c.log.Debug("vault token renewed")
			case err := <-w.DoneCh():
				if err != nil {
					c.log.Warn("vault token renewal stopped; logging in again", "err", redact(err))
				}
				break watch
			}
		}
		w.Stop()
		for ctx.Err() == nil {
			if err := c.login(ctx); err != nil {
				c.log.Error("vault login failed", "err", err, "retry_in", backoff.String())
				select {
				case <-ctx.Done():
					return
				case <-time.After(backoff):
				}
				backoff = min(2*backoff, time.Minute)
				continue
			}
			backoff = time.Second
			c.log.Info("vault login renewed")
			break
		}
	}
}

// Ready reports whether Vault is reachable and unsealed and the token is valid.
func (c *Client) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	h, err := c.api.Sys().HealthWithContext(ctx)
	if err != nil {
		return fmt.Errorf("vault unreachable: %w", redact(err))
	}
	if !h.Initialized {
		return errors.New("vault is not initialised")
	}
	if h.Sealed {
		return errors.New("vault is sealed")
	}
	if _, err := c.api.Auth().Token().LookupSelfWithContext(ctx); err != nil {
		return fmt.Errorf("vault token invalid: %w", redact(err))
	}
	return nil
}

// redact keeps Vault's error text but removes anything that looks like a
// token or secret id should Vault ever echo one.
func redact(err error) error {
	if err == nil {
		return nil
	}
	var re *vaultapi.ResponseError
	if errors.As(err, &re) {
		return fmt.Errorf("vault answered %d on %s %s: %s", re.StatusCode, re.HTTPMethod, re.URL, strings.Join(re.Errors, "; "))
	}
	return err
}

// SignerKey returns a crypto.Signer for version of a signer's Transit key
// (a TransitSigner), with the client's request timeout; the key versions
// and certificates found to match are remembered by the client.
func (c *Client) SignerKey(key string, version int, cert *x509.Certificate) (crypto.Signer, error) {
	return newTransitSigner(c.api, TransitMount, key, version, cert, c.cfg.Timeout, &c.proven)
}

// CheckSigner proves, with one signature through Vault, that cert carries
// the public key of version of the Transit key: paknd checks every active
// signer this way at start-up and refuses to serve when one does not match
// (a certificate swapped in the database, a key rotated behind its back).
// The proof is remembered, so the signer's first reply costs no extra check.
func (c *Client) CheckSigner(ctx context.Context, key string, version int, cert *x509.Certificate) error {
	s, err := c.SignerKey(key, version, cert)
	if err != nil {
		return err
	}
	digest := sha256.Sum256([]byte("pakn start-up check of " + key + " v" + strconv.Itoa(version)))
	if _, err := s.Sign(nil, digest[:], crypto.SHA256); err != nil {
		return fmt.Errorf("signer key %s v%d: %w", key, version, err)
	}
	return nil
}

// IssuingCRL returns the issuing CA's current certificate revocation list
// (PEM), which Vault rebuilds on every revocation.
func (c *Client) IssuingCRL(ctx context.Context) ([]byte, error) {
	return c.crl(ctx, IssuingMount+"/cert/crl", "certificate")
}

// RootCRL returns the root CA's current certificate revocation list (PEM),
// which says whether the issuing CA is revoked.
func (c *Client) RootCRL(ctx context.Context) ([]byte, error) {
	return c.crl(ctx, RootPKIMount+"/cert/crl", "certificate")
}

// crl reads the PEM CRL that Vault answers at path in field
// ("certificate" at a mount's cert/crl, "crl" at an issuer's crl).
func (c *Client) crl(ctx context.Context, path, field string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	s, err := c.api.Logical().ReadWithContext(ctx, path)
	if err != nil {
		return nil, redact(err)
	}
	if s == nil {
		return nil, errors.New("vault returned no CRL")
	}
	crl, _ := s.Data[field].(string)
	if crl == "" {
		return nil, errors.New("vault returned an empty CRL")
	}
	return []byte(crl), nil
}
