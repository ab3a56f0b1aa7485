// Command paknd is the pakn petition service: it serves the HTTP API, backed
// by PostgreSQL and HashiCorp Vault. Configuration comes from PAKN_*
// environment variables and flags (see README.md).
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"pakn/internal/audit"
	"pakn/internal/auditlog"
	"pakn/internal/config"
	"pakn/internal/credential"
	"pakn/internal/deadline"
	"pakn/internal/gc"
	"pakn/internal/guard"
	"pakn/internal/httpapi"
	"pakn/internal/identity"
	"pakn/internal/petitions"
	"pakn/internal/postgres"
	"pakn/internal/register"
	"pakn/internal/replies"
	"pakn/internal/sealed"
	"pakn/internal/signing"
	"pakn/internal/store"
	"pakn/internal/tsa"
	"pakn/internal/vault"
	"pakn/internal/verify"
	"pakn/internal/web"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "paknd:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, logOut io.Writer) error {
	m, err := NewMain(args, getenv, logOut)
	if err != nil {
		return err
	}
	defer m.Close()
	if err := m.Open(ctx); err != nil {
		return err
	}
	return m.Run(ctx)
}

// Main is paknd: its configuration, and the connections and listeners
// Open makes, which Close releases.
type Main struct {
	cfg    *config.Config
	log    *slog.Logger
	pool   *pgxpool.Pool
	vc     *vault.Client
	stores store.Set
	api    *httpapi.Server
	ln     net.Listener // the public address
	mln    net.Listener // the metrics address; nil when off
}

// NewMain loads and checks the configuration; nothing is opened yet.
func NewMain(args []string, getenv func(string) string, logOut io.Writer) (*Main, error) {
	cfg, err := config.Load(args, getenv)
	if err != nil {
		var p config.Problems
		if errors.As(err, &p) {
			return nil, fmt.Errorf("invalid configuration:\n  %s", strings.Join(p, "\n  "))
		}
		return nil, err
	}
	log := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: cfg.LogLevel}))
	return &Main{cfg: cfg, log: log}, nil
}

// Open connects to PostgreSQL (migrating first when configured) and Vault,
// checks the schema and every active signer, records service.start, builds
// the services and the HTTP API, and opens the listeners. It fails fast,
// before anything is served.
func (m *Main) Open(ctx context.Context) error {
	cfg := m.cfg
	if cfg.MigrateOnStart {
		from, to, err := postgres.Migrate(ctx, cfg.DatabaseOwnerURL, cfg.AppRole)
		if err != nil {
			return err
		}
		m.log.Info("migrations applied", "from", from, "to", to)
	}
	var err error
	if m.pool, err = postgres.Open(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	m.stores = postgres.Stores(m.pool, nil)
	if err := checkSchema(ctx, m.pool); err != nil {
		return err
	}
	if err := m.openVault(ctx); err != nil {
		return err
	}
	if err := checkSigners(ctx, m.stores.Replies, m.vc, m.log); err != nil {
		return err
	}
	if err := m.record(ctx, "service.start", []byte(fmt.Sprintf(`{"version":%q}`, version))); err != nil {
		return fmt.Errorf("audit service start: %w", err)
	}
	if m.api, err = m.buildAPI(); err != nil {
		return err
	}
	if m.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
		return err
	}
	if cfg.MetricsAddr != "off" {
		if m.mln, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			return fmt.Errorf("metrics listener: %w", err)
		}
	}
	return nil
}

// openVault logs paknd in to Vault (AppRole, or a token in development)
// and checks that Vault can serve.
func (m *Main) openVault(ctx context.Context) error {
	cfg := m.cfg
	vcfg := vault.Config{Addr: cfg.VaultAddr, Token: cfg.VaultToken, RoleID: cfg.VaultRoleID, Timeout: cfg.VaultTimeout}
	if cfg.VaultRoleID != "" {
		var err error
		if vcfg.SecretID, err = config.ReadSecretFile(cfg.VaultSecretIDFile); err != nil { // checked now, read again at each login
			return fmt.Errorf("vault secret id: %w", err)
		}
		vcfg.SecretIDFile = cfg.VaultSecretIDFile
	}
	vc, err := vault.Connect(ctx, vcfg, m.log)
	if err != nil {
		return err
	}
	m.vc = vc
	if err := vc.Ready(ctx); err != nil {
		return fmt.Errorf("vault not ready at start: %w", err)
	}
	return nil
}

// buildAPI wires the services and the HTTP API over the open connections.
func (m *Main) buildAPI() (*httpapi.Server, error) {
	cfg, pool, vc := m.cfg, m.pool, m.vc
	clients, err := audit.NewClientHasher(cfg.AuditKey)
	if err != nil {
		return nil, err
	}
	// Citizens' words and personal data share the envelope box (data keys under pakn-pii).
	box := vault.NewEnvelopeBox(vc, vault.PIIKey)
	st := sealed.Stores(m.stores, box, sealed.SearchKey(cfg.AuditKey))
	g := &guard.Guard{Audit: st.Audit, Now: time.Now}
	ids, err := identity.New(identity.Config{Stores: st, Guard: g, Hasher: credential.NewPasswordHasher(credential.DefaultArgon2, credential.ConcurrentHashes),
		Box: vault.NewTransitBox(vc, vault.MFAKey), Issuer: "pakn", KeyHash: clients.Hash})
	if err != nil {
		return nil, err
	}
	roots, inter, err := verify.LoadAnchors(cfg.TrustAnchorsDir, cfg.TrustSystemRoots)
	if err != nil {
		return nil, fmt.Errorf("trust anchors: %w", err)
	}
	verifier := &verify.Verifier{Roots: roots, Intermediates: inter, CRL: vc.IssuerCRLs(0),
		FindIssued: register.CachedFinder(register.Finder(st.Replies), register.MatchCacheTTL, nil), IssuancePolicy: tsa.Issuance(cfg.TSAPolicy)}
	docs, service, err := m.timeStamping(verifier)
	if err != nil {
		return nil, err
	}
	reg, err := register.New(register.Config{Stores: st, Verifier: verifier, TSA: service})
	if err != nil {
		return nil, err
	}
	pets, err := petitions.New(petitions.Config{Stores: st, Box: box, Calendar: deadline.NewCalendar(cfg.Calendar),
		Guard: g, QueueBytes: cfg.IntakeQueueBytes})
	if err != nil {
		return nil, err
	}
	reps, err := replies.New(replies.Config{Petitions: pets, Stores: st, Keys: vc, SignPDF: signing.SignPDF, Docs: docs, HoldAfterReset: cfg.SignHold})
	if err != nil {
		return nil, err
	}
	return httpapi.New(httpapi.Deps{
		Log:          m.log,
		MaxBodyBytes: cfg.MaxBodyBytes,
		Operator:     web.Operator{Name: cfg.OperatorName, Contact: cfg.OperatorContact},
		Ready: map[string]httpapi.Checker{
			"database": func(ctx context.Context) error { return pool.Ping(ctx) },
			"vault":    vc.Ready,
		},
		Identity:       ids,
		Petitions:      pets,
		Replies:        reps,
		Register:       reg,
		AuditLog:       &auditlog.Service{Audit: st.Audit, Guard: g},
		Guard:          g,
		Agencies:       st.Agencies.List,
		Clients:        clients,
		TrustedProxies: cfg.TrustedProxies,
		Limits: httpapi.Limits{Login: cfg.RateLogin, Public: cfg.RatePublic, Verify: cfg.RateVerify, Submit: cfg.RateSubmit, TSA: cfg.RateTSA,
			VerifyPerClient: cfg.VerifyPerClient, UploadsPerClient: cfg.UploadsPerClient, DailyAttachmentBytes: cfg.DailyAttachBytes,
			UploadBytes: cfg.UploadBudget, VerifyMemory: cfg.VerifyMemory, Exempt: cfg.RateExempt},
		SpoolDir:     cfg.SpoolDir,
		ReadTimeout:  cfg.ReadTimeout,
		MetricsToken: cfg.MetricsToken,
	}), nil
}

// timeStamping configures how documents are time-stamped and what
// validation data they embed: pakn's own authority (its issuance policy)
// unless an external one is configured, and the CAs' lists from Vault. With
// PAKN_TSA_PUBLIC, it also returns the authority under the policy it serves
// others.
func (m *Main) timeStamping(v *verify.Verifier) (replies.Documents, *tsa.Authority, error) {
	cfg, vc := m.cfg, m.vc
	docs := replies.Documents{PublicURL: cfg.PublicURL, Place: cfg.DocPlace, CRLs: vc.ValidationCRLs(time.Minute)}
	var service *tsa.Authority
	if cfg.TSAURL == "" || cfg.TSAPublic {
		own, err := vc.TimeStamping(cfg.TSACertFile, v.IssuancePolicy, time.Now)
		if err != nil {
			return docs, nil, err
		}
		docs.Stamp = own.Respond
		if cfg.TSAPublic {
			service = own.Under(tsa.Service(cfg.TSAPolicy))
		}
	}
	if cfg.TSAURL != "" {
		stamp, err := signing.TSAClient(cfg.TSAURL, cfg.TSATimeout)
		if err != nil {
			return docs, nil, err
		}
		docs.Stamp = stamp
	}
	return docs, service, nil
}

// server is an HTTP server for handler with the configured timeouts.
func (m *Main) server(ctx context.Context, handler http.Handler, maxHeader int) *http.Server {
	cfg := m.cfg
	return &http.Server{Handler: handler, ReadHeaderTimeout: cfg.ReadHeaderTimeout, ReadTimeout: cfg.ReadTimeout,
		WriteTimeout: cfg.WriteTimeout, IdleTimeout: cfg.IdleTimeout, MaxHeaderBytes: maxHeader,
		ErrorLog:    slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
		BaseContext: func(net.Listener) context.Context { return ctx }}
}

// Run serves until ctx ends (or a listener fails), then shuts down
// gracefully within the configured time and records service.stop. While it
// serves, the garbage collector runs as configured (PAKN_GC_PERCENT,
// PAKN_MEMORY_LIMIT_BYTES).
func (m *Main) Run(ctx context.Context) error {
	cfg := m.cfg
	defer gc.Tune(cfg.GC)()
	srv := m.server(ctx, m.api, 32<<10)
	var metricsSrv *http.Server
	if m.mln != nil {
		// /metrics on a listener of its own (loopback by default), for the monitoring system only.
		metricsSrv = m.server(ctx, m.api.MetricsHandler(), 8<<10)
		go func() {
			if err := metricsSrv.Serve(m.mln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				m.log.Error("metrics listener", "err", err)
			}
		}()
		m.log.Info("metrics serving", "addr", m.mln.Addr().String())
	}
	vctx, vcancel := context.WithCancel(ctx)
	defer vcancel()
	go m.vc.Run(vctx)

	errc := make(chan error, 1)
	scheme := "http"
	if cfg.TLSCertFile != "" {
		scheme = "https"
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		go func() { errc <- srv.ServeTLS(m.ln, cfg.TLSCertFile, cfg.TLSKeyFile) }()
	} else {
		go func() { errc <- srv.Serve(m.ln) }()
	}
	now := gc.Current()
	m.log.Info("paknd serving", "addr", m.ln.Addr().String(), "scheme", scheme, "version", version,
		"gc_percent", now.Percent, "memory_limit_bytes", now.Limit)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	m.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if metricsSrv != nil {
		_ = metricsSrv.Shutdown(sctx)
	}
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := m.record(sctx, "service.stop", nil); err != nil {
		m.log.Error("audit service stop", "err", err)
	}
	m.log.Info("stopped")
	return nil
}

// Close releases what Open made, in reverse order; the listeners a Run
// shut down are closed already.
func (m *Main) Close() error {
	if m.mln != nil {
		m.mln.Close()
	}
	if m.ln != nil {
		m.ln.Close()
	}
	if m.pool != nil {
		m.pool.Close()
	}
	return nil
}

// record appends one of paknd's own events (service.start, service.stop).
func (m *Main) record(ctx context.Context, action string, details []byte) error {
	return m.stores.Audit.Record(ctx, &audit.Event{Actor: "system", Role: "paknd", Action: action, ObjectType: "service",
		ObjectID: "paknd", Outcome: audit.Success, Details: details})
}

// checkSigners proves, with one signature through Vault each, that every
// active signer's certificate carries its Transit key's public key, and
// refuses to serve when one does not: a certificate swapped in the
// database or a key changed behind pakn's back must not reach a citizen.
func checkSigners(ctx context.Context, replies store.Replies, vc *vault.Client, log *slog.Logger) error {
	signers, err := replies.ActiveSigners(ctx)
	if err != nil {
		return err
	}
	for _, g := range signers {
		if err := vc.CheckSigner(ctx, g.KeyName, g.KeyVersion, g.Certificate); err != nil {
			return fmt.Errorf("signer %s (key %s v%d, certificate %s) cannot be used: %w; revoke it and provision it again with pakn signer",
				g.FullName, g.KeyName, g.KeyVersion, g.Serial(), err)
		}
	}
	log.Info("signers checked against their Transit keys", "active", len(signers))
	return nil
}

// checkSchema refuses to serve an outdated or newer schema.
func checkSchema(ctx context.Context, pool interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) error {
	have, err := postgres.SchemaVersion(ctx, pool)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	want, err := postgres.LatestVersion()
	if err != nil {
		return err
	}
	if have != want {
		return fmt.Errorf("database schema is at version %d, this paknd needs %d: run `pakn migrate` (in development, PAKN_MIGRATE=true with PAKN_DEV=true)", have, want)
	}
	return nil
}
