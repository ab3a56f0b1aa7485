// Command paknvault is a development Vault server for pakn.
//
// It builds the real Vault core (github.com/hashicorp/vault) with only the
// engines pakn uses — Transit, PKI, AppRole and the file audit device — and
// serves the real Vault HTTP API on a loopback address. The full `vault`
// command does not build from the module proxy (see README.md), so this small
// main creates, initialises, unseals and serves the core itself.
//
// With -storage file the barrier lives in -data and survives restarts; the
// unseal key and root token are written to -init-file (mode 0600). That file
// is development-only material: whoever holds it owns this Vault. With
// -storage inmem everything is lost on exit, which is what tests want.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/audit"
	auditFile "github.com/hashicorp/vault/builtin/audit/file"
	vaulthttp "github.com/hashicorp/vault/http"
	"github.com/hashicorp/vault/internalshared/configutil"
	"github.com/hashicorp/vault/sdk/helper/consts"
	"github.com/hashicorp/vault/sdk/physical"
	physFile "github.com/hashicorp/vault/sdk/physical/file"
	physInmem "github.com/hashicorp/vault/sdk/physical/inmem"
	"github.com/hashicorp/vault/vault"
)

// initMaterial is what initialisation returns and unsealing needs.
type initMaterial struct {
	UnsealKey string `json:"unseal_key_b64"`
	RootToken string `json:"root_token"`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "paknvault:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("paknvault", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8200", "loopback address to listen on (port 0 picks a free port)")
	storage := fs.String("storage", "file", "storage backend: file or inmem")
	dataDir := fs.String("data", "", "data folder for -storage file")
	initFile := fs.String("init-file", "", "where the unseal key and root token are kept (mode 0600)")
	addrFile := fs.String("addr-file", "", "if set, the listening URL is written here once serving")
	logLevel := fs.String("log-level", "warn", "log level: trace, debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *initFile == "" {
		return errors.New("-init-file is required")
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("-addr: %w", err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-addr must be a loopback IP address, got %q", host)
	}

	logger := hclog.New(&hclog.LoggerOptions{Name: "vault", Level: hclog.LevelFromString(*logLevel), Output: os.Stderr})

	var backend physical.Backend
	switch *storage {
	case "file":
		if *dataDir == "" {
			return errors.New("-data is required with -storage file")
		}
		if err := os.MkdirAll(*dataDir, 0o700); err != nil {
			return err
		}
		backend, err = physFile.NewFileBackend(map[string]string{"path": *dataDir}, logger)
	case "inmem":
		backend, err = physInmem.NewInmem(nil, logger)
	default:
		return fmt.Errorf("-storage must be file or inmem, got %q", *storage)
	}
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	url := "http://" + ln.Addr().String()

	core, err := vault.NewCore(&vault.CoreConfig{
		Physical:           backend,
		Logger:             logger,
		DisableMlock:       true,
		RedirectAddr:       url,
		BuiltinRegistry:    registry{},
		LogicalBackends:    backends(consts.PluginTypeSecrets),
		CredentialBackends: backends(consts.PluginTypeCredential),
		AuditBackends: map[string]audit.Factory{
			"file": auditFile.Factory,
		},
	})
	if err != nil {
		return fmt.Errorf("create core: %w", err)
	}
	defer core.Shutdown()

	mat, err := initOrLoad(ctx, core, *initFile)
	if err != nil {
		return err
	}
	key, err := base64.StdEncoding.DecodeString(mat.UnsealKey)
	if err != nil {
		return fmt.Errorf("unseal key in %s: %w", *initFile, err)
	}
	if _, err := core.Unseal(key); err != nil {
		return fmt.Errorf("unseal: %w", err)
	}
	if err := waitActive(ctx, core); err != nil {
		return err
	}

	srv := &http.Server{
		Handler: vaulthttp.Handler.Handler(&vault.HandlerProperties{
			Core:           core,
			ListenerConfig: &configutil.Listener{},
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if *addrFile != "" {
		if err := writeFileAtomic(*addrFile, []byte(url+"\n"), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "paknvault: serving %s (storage %s)\n", url, *storage)

	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutCtx)
}

// initOrLoad initialises a new barrier with one key share and saves the
// material, or loads the material of an earlier initialisation.
func initOrLoad(ctx context.Context, core *vault.Core, initFile string) (*initMaterial, error) {
	inited, err := core.Initialized(ctx)
	if err != nil {
		return nil, fmt.Errorf("check initialised: %w", err)
	}
	if inited {
		b, err := os.ReadFile(initFile)
		if err != nil {
			return nil, fmt.Errorf("vault storage is initialised but its unseal material is missing: %w", err)
		}
		var m initMaterial
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", initFile, err)
		}
		return &m, nil
	}
	res, err := core.Initialize(ctx, &vault.InitParams{
		BarrierConfig:  &vault.SealConfig{Type: "shamir", SecretShares: 1, SecretThreshold: 1},
		RecoveryConfig: nil,
	})
	if err != nil {
		return nil, fmt.Errorf("initialise: %w", err)
	}
	m := &initMaterial{
		UnsealKey: base64.StdEncoding.EncodeToString(res.SecretShares[0]),
		RootToken: res.RootToken,
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := writeFileAtomic(initFile, b, 0o600); err != nil {
		return nil, err
	}
	return m, nil
}

func waitActive(ctx context.Context, core *vault.Core) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if standby, _ := core.Standby(); !standby && !core.Sealed() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return errors.New("vault core did not become active within 30s")
}

func writeFileAtomic(path string, b []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
