// Package vaulttest starts a real Vault server for a test: the pakn
// development build of github.com/hashicorp/vault (tools/vault), on a free
// loopback port, with file storage in the test's temporary folder. The binary
// comes from PAKN_VAULT_BIN (`make test` builds it and sets it); without it
// the test fails, it never skips.
package vaulttest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"pakn/internal/vault"
	"pakn/keys"
)

// Server is a running Vault.
type Server struct {
	Addr      string // http://127.0.0.1:PORT
	RootToken string
	dir       string
	bin       string
	cmd       *exec.Cmd
	exited    chan struct{} // closed when cmd has exited
	t         testing.TB
}

// Start starts a Vault for t and stops it when t ends. With PAKN_VAULT_CPUS
// set (a taskset CPU list), Vault runs on those CPUs only, as benchmarks
// that model Vault on its own machine want.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := os.Getenv("PAKN_VAULT_BIN")
	if bin == "" {
		t.Fatal("PAKN_VAULT_BIN is not set: integration tests need the real Vault that `make test` builds (tools/stack.sh vault-bin)")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("PAKN_VAULT_BIN: %v", err)
	}
	s := &Server{dir: t.TempDir(), bin: bin, t: t}
	s.start("127.0.0.1:0")
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start(addr string) {
	t := s.t
	t.Helper()
	addrFile := filepath.Join(s.dir, "addr")
	_ = os.Remove(addrFile)
	args := []string{"-addr", addr, "-storage", "file", "-data", filepath.Join(s.dir, "storage"),
		"-init-file", filepath.Join(s.dir, "init.json"), "-addr-file", addrFile}
	if cpus := os.Getenv("PAKN_VAULT_CPUS"); cpus != "" {
		// Benchmarks pin Vault to its own CPUs, as if it ran on its own machine.
		s.cmd = exec.Command("taskset", append([]string{"-c", cpus, s.bin}, args...)...)
	} else {
		s.cmd = exec.Command(s.bin, args...)
	}
	logf, err := os.Create(filepath.Join(s.dir, "vault.log"))
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start vault: %v", err)
	}
	exited := make(chan struct{})
	s.exited = exited
	go func() { _ = s.cmd.Wait(); logf.Close(); close(exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if b, err := os.ReadFile(addrFile); err == nil && len(b) > 0 {
			s.Addr = strings.TrimSpace(string(b))
			break
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(s.dir, "vault.log"))
			t.Fatalf("vault exited at start:\n%s", log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("vault did not start within 60s")
		}
	}
	var m struct {
		RootToken string `json:"root_token"`
	}
	b, err := os.ReadFile(filepath.Join(s.dir, "init.json"))
	if err != nil || json.Unmarshal(b, &m) != nil || m.RootToken == "" {
		t.Fatalf("vault init material unreadable: %v", err)
	}
	s.RootToken = m.RootToken
}

// Stop stops the server (idempotent).
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

// Restart stops the server and starts it again on the same address with the
// same storage: keys, mounts and the CA survive.
func (s *Server) Restart() {
	s.t.Helper()
	addr := strings.TrimPrefix(s.Addr, "http://")
	s.Stop()
	s.start(addr)
}

// Client returns an API client with the given token.
func (s *Server) Client(token string) *vaultapi.Client {
	s.t.Helper()
	c, err := vault.NewAPI(s.Addr, token, 30*time.Second)
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// Root returns an API client with the root token.
func (s *Server) Root() *vaultapi.Client { return s.Client(s.RootToken) }

// Bootstrapped starts a Vault for t, runs pakn's bootstrap on it (CA chain
// and paknd's AppRole credentials in dir/certs and dir/creds), and returns
// it with a client holding the root token.
func Bootstrapped(t testing.TB) (s *Server, root *vault.Client, dir string) {
	t.Helper()
	s = Start(t)
	dir = t.TempDir()
	Bootstrap(t, s, dir)
	root, err := vault.Connect(context.Background(), vault.Config{Addr: s.Addr, Token: s.RootToken}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, root, dir
}

// Bootstrap runs pakn's bootstrap on s into dir (dir/certs, dir/creds), as
// make run does before each start of paknd: run again, it hands over a new
// wrapped secret id when the one in dir/creds was unwrapped.
func Bootstrap(t testing.TB, s *Server, dir string) {
	t.Helper()
	if _, err := vault.Bootstrap(context.Background(), s.Root(), vault.BootstrapOptions{
		PolicyName: keys.PakndPolicyName, PolicyHCL: keys.PakndPolicy,
		CertsDir: filepath.Join(dir, "certs"), CredsDir: filepath.Join(dir, "creds"), AuditLogPath: filepath.Join(dir, "vault-audit.log"),
	}); err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
}
