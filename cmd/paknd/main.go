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

	"pakn/internal/agency"
	"pakn/internal/audit"
	"pakn/internal/auditlog"
	"pakn/internal/auth"
	"pakn/internal/config"
	"pakn/internal/deadline"
	"pakn/internal/desk"
	"pakn/internal/httpapi"
	"pakn/internal/identity"
	"pakn/internal/postgres"
	"pakn/internal/signing"
	"pakn/internal/vault"
	"pakn/internal/verify"

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
	cfg, err := config.Load(args, getenv)
	if err != nil {
		var p config.Problems
		if errors.As(err, &p) {
			return fmt.Errorf("invalid configuration:\n  %s", strings.Join(p, "\n  "))
		}
		return err
	}
	log := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: cfg.LogLevel}))

	if cfg.MigrateOnStart {
		from, to, err := postgres.Migrate(ctx, cfg.DatabaseOwnerURL, cfg.AppRole)
		if err != nil {
			return err
		}
		log.Info("migrations applied", "from", from, "to", to)
	}
	pool, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := checkSchema(ctx, pool); err != nil {
		return err
	}

	vcfg := vault.Config{Addr: cfg.VaultAddr, Token: cfg.VaultToken, RoleID: cfg.VaultRoleID, Timeout: cfg.VaultTimeout}
	if cfg.VaultRoleID != "" {
		if vcfg.SecretID, err = config.ReadSecretFile(cfg.VaultSecretIDFile); err != nil {
			return fmt.Errorf("vault secret id: %w", err)
		}
	}
	vc, err := vault.Connect(ctx, vcfg, log)
	if err != nil {
		return err
	}
	if err := vc.Ready(ctx); err != nil {
		return fmt.Errorf("vault not ready at start: %w", err)
	}
	if err := checkSigners(ctx, pool, vc, log); err != nil {
		return err
	}

	store := &postgres.AuditStore{}
	if err := postgres.InTx(ctx, pool, func(tx pgx.Tx) error {
		return store.Append(ctx, tx, &audit.Event{
			Actor: "system", Role: "paknd", Action: "service.start", ObjectType: "service", ObjectID: "paknd",
			Outcome: audit.Success, Details: []byte(fmt.Sprintf(`{"version":%q}`, version)),
		})
	}); err != nil {
		return fmt.Errorf("audit service start: %w", err)
	}

	clients, err := audit.NewClientHasher(cfg.AuditKey)
	if err != nil {
		return err
	}
	ids := identity.New(identity.Config{
		DB:      pool,
		Hasher:  auth.NewPasswordHasher(auth.DefaultArgon2, 4),
		Box:     vault.NewTransitBox(vc, vault.MFAKey),
		Audit:   store,
		Issuer:  "pakn",
		KeyHash: clients.Hash,
	})
	agencies := &postgres.AgencyStore{Audit: store}
	roots, inter, err := verify.LoadAnchors(cfg.TrustAnchorsDir, cfg.TrustSystemRoots)
	if err != nil {
		return fmt.Errorf("trust anchors: %w", err)
	}
	verifier := &verify.Verifier{Roots: roots, Intermediates: inter, CRL: &verify.CachedCRL{Fetch: vc.IssuingCRL}}
	docs := desk.Documents{PublicURL: cfg.PublicURL, Place: cfg.DocPlace}
	if cfg.TSAURL != "" {
		relay, err := signing.NewTSARelay(cfg.TSAURL, cfg.TSATimeout, log)
		if err != nil {
			return err
		}
		defer relay.Close()
		docs.TSAURL = relay.URL()
	}
	verifier.Register = desk.RegisterLookup(pool)
	dk, err := desk.New(desk.Config{DB: pool, Box: vault.NewEnvelopeBox(vc, vault.PIIKey), Calendar: deadline.NewCalendar(cfg.Calendar),
		Audit: store, Guard: ids.Guard(), Keys: vc, Docs: docs, Verifier: verifier, QueueBytes: cfg.IntakeQueueBytes})
	if err != nil {
		return err
	}
	api := httpapi.New(httpapi.Deps{
		Log:          log,
		MaxBodyBytes: cfg.MaxBodyBytes,
		Ready: map[string]httpapi.Checker{
			"database": func(ctx context.Context) error { return pool.Ping(ctx) },
			"vault":    vc.Ready,
		},
		Identity:       ids,
		Desk:           dk,
		AuditLog:       &auditlog.Service{DB: pool, Audit: store, Guard: ids.Guard()},
		Agencies:       func(ctx context.Context) ([]agency.Agency, error) { return agencies.List(ctx, pool) },
		Clients:        clients,
		TrustedProxies: cfg.TrustedProxies,
		Limits: httpapi.Limits{Login: cfg.RateLogin, Public: cfg.RatePublic, Verify: cfg.RateVerify, Submit: cfg.RateSubmit,
			VerifyPerClient: cfg.VerifyPerClient, UploadsPerClient: cfg.UploadsPerClient, DailyAttachmentBytes: cfg.DailyAttachBytes,
			UploadBytes: cfg.UploadBudget, VerifyMemory: cfg.VerifyMemory, Exempt: cfg.RateExempt},
		SpoolDir:     cfg.SpoolDir,
		ReadTimeout:  cfg.ReadTimeout,
		MetricsToken: cfg.MetricsToken,
	})
	srv := &http.Server{
		Addr:              cfg.Addr,
		Handler:           api,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	// /metrics on a listener of its own (loopback by default), for the monitoring system only.
	var metricsSrv *http.Server
	if cfg.MetricsAddr != "off" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("metrics listener: %w", err)
		}
		metricsSrv = &http.Server{Handler: api.MetricsHandler(), ReadHeaderTimeout: cfg.ReadHeaderTimeout, ReadTimeout: cfg.ReadTimeout,
			WriteTimeout: cfg.WriteTimeout, IdleTimeout: cfg.IdleTimeout, MaxHeaderBytes: 8 << 10,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		go func() {
			if err := metricsSrv.Serve(mln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics listener", "err", err)
			}
		}()
		log.Info("metrics serving", "addr", mln.Addr().String())
	}

	vctx, vcancel := context.WithCancel(ctx)
	defer vcancel()
	go vc.Run(vctx)

	errc := make(chan error, 1)
	scheme := "http"
	if cfg.TLSCertFile != "" {
		scheme = "https"
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		go func() { errc <- srv.ServeTLS(ln, cfg.TLSCertFile, cfg.TLSKeyFile) }()
	} else {
		go func() { errc <- srv.Serve(ln) }()
	}
	log.Info("paknd serving", "addr", ln.Addr().String(), "scheme", scheme, "version", version)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if metricsSrv != nil {
		_ = metricsSrv.Shutdown(sctx)
	}
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := postgres.InTx(sctx, pool, func(tx pgx.Tx) error {
		return store.Append(sctx, tx, &audit.Event{
			Actor: "system", Role: "paknd", Action: "service.stop", ObjectType: "service", ObjectID: "paknd",
			Outcome: audit.Success,
		})
	}); err != nil {
		log.Error("audit service stop", "err", err)
	}
	log.Info("stopped")
	return nil
}

// checkSigners proves, with one signature through Vault each, that every
// active signer's certificate carries its Transit key's public key, and
// refuses to serve when one does not: a certificate swapped in the
// database or a key changed behind pakn's back must not reach a citizen.
func checkSigners(ctx context.Context, pool *pgxpool.Pool, vc *vault.Client, log *slog.Logger) error {
	signers, err := (&postgres.ReplyStore{}).ActiveSigners(ctx, pool)
	if err != nil {
		return err
	}
	for _, g := range signers {
		if err := vc.CheckSigner(ctx, g.KeyName, g.KeyVersion, g.Certificate); err != nil {
			return fmt.Errorf("signer %s (key %s v%d, certificate %s) cannot be used: %w; revoke it and provision it again with pakn signer",
				g.FullName, g.KeyName, g.KeyVersion, verify.SerialHex(g.Certificate), err)
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
		return fmt.Errorf("database schema is at version %d, this paknd needs %d: run `pakn migrate` (or set PAKN_MIGRATE=true)", have, want)
	}
	return nil
}
