package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"pakn/internal/gc"
	"pakn/internal/pgtest"
	"pakn/internal/vault"
	"pakn/internal/vaulttest"

	"github.com/jackc/pgx/v5"
)

// syncBuffer is a bytes.Buffer safe for the server's concurrent log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type stack struct {
	db      *pgtest.DB
	v       *vaulttest.Server
	dir     string // Vault's bootstrap output: certs/, creds/
	env     map[string]string
	secrets []string
}

func newStack(t *testing.T) *stack {
	t.Helper()
	db := pgtest.New(t)
	v, _, dir := vaulttest.Bootstrapped(t)
	roleID, _ := os.ReadFile(filepath.Join(dir, "creds", vault.RoleIDFile))
	secretID, _ := os.ReadFile(filepath.Join(dir, "creds", vault.SecretIDFile))
	key := filepath.Join(dir, "audit.key")
	keyHex := strings.Repeat("5a", 32)
	if err := os.WriteFile(key, []byte(keyHex), 0o600); err != nil {
		t.Fatal(err)
	}
	return &stack{db: db, v: v, dir: dir, env: map[string]string{
		"PAKN_ADDR":                 "127.0.0.1:0",
		"PAKN_METRICS_ADDR":         "127.0.0.1:0",
		"PAKN_DATABASE_URL":         db.AppURL,
		"VAULT_ADDR":                v.Addr,
		"PAKN_VAULT_ROLE_ID":        strings.TrimSpace(string(roleID)),
		"PAKN_VAULT_SECRET_ID_FILE": filepath.Join(dir, "creds", vault.SecretIDFile),
		"PAKN_AUDIT_KEY_FILE":       key,
		"PAKN_TRUST_ANCHORS_DIR":    filepath.Join(dir, "certs"),
		"PAKN_LOG_LEVEL":            "debug",
	}, secrets: []string{strings.TrimSpace(string(secretID)), v.RootToken, keyHex, passwordOf(db.AppURL)}}
}

func passwordOf(u string) string {
	at := strings.Index(u, "@")
	colon := strings.LastIndex(u[:at], ":")
	return u[colon+1 : at]
}

// handOver runs bootstrap again before paknd starts, as make run does: the
// wrapped secret id in creds/ unwraps once, so each start gets a new one
// when the last was unwrapped.
func (s *stack) handOver(t *testing.T) {
	t.Helper()
	vaulttest.Bootstrap(t, s.v, s.dir)
	b, _ := os.ReadFile(filepath.Join(s.dir, "creds", vault.SecretIDFile))
	s.secrets = append(s.secrets, strings.TrimSpace(string(b)))
}

// start runs paknd until the returned stop is called, and returns its URL.
func (s *stack) start(t *testing.T) (base string, logs *syncBuffer, stop func() error) {
	t.Helper()
	s.handOver(t)
	logs = &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, nil, func(k string) string { return s.env[k] }, logs) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(logs.String(), "\n") {
			var l struct{ Msg, Addr, Scheme string }
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "paknd serving" {
				return l.Scheme + "://" + l.Addr, logs, func() error { cancel(); return <-errc }
			}
		}
		select {
		case err := <-errc:
			cancel()
			t.Fatalf("paknd exited at start: %v\n%s", err, logs)
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("paknd did not start:\n%s", logs)
	return "", nil, nil
}

// logAddr returns the addr of the first log line with message msg.
func logAddr(t *testing.T, logs *syncBuffer, msg string) string {
	t.Helper()
	for _, line := range strings.Split(logs.String(), "\n") {
		var l struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == msg {
			return l.Addr
		}
	}
	t.Fatalf("no %q in the logs:\n%s", msg, logs)
	return ""
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestPakndServesReadinessAndShutsDownCleanly(t *testing.T) {
	s := newStack(t)
	before := gc.Current()
	base, logs, stop := s.start(t)

	// Serving, the garbage collector runs as configured (the defaults here), and the log says so.
	if now := gc.Current(); now != gc.Default {
		t.Errorf("serving with the collector at %+v, want paknd's default %+v", now, gc.Default)
	}
	if want := fmt.Sprintf(`"gc_percent":%d,"memory_limit_bytes":%d`, gc.Default.Percent, gc.Default.Limit); !strings.Contains(logs.String(), want) {
		t.Errorf("the serving log line lacks %s", want)
	}

	if code, body := get(t, base+"/readyz"); code != 200 || !strings.Contains(body, `"vault":"ok"`) || !strings.Contains(body, `"database":"ok"`) {
		t.Fatalf("readyz: %d %s", code, body)
	}
	if code, _ := get(t, base+"/healthz"); code != 200 {
		t.Fatalf("healthz: %d", code)
	}
	// Metrics: only on their own (loopback) listener; the public address does not serve them.
	if code, _ := get(t, base+"/metrics"); code != 404 {
		t.Fatalf("metrics on the public address: %d", code)
	}
	metrics := "http://" + logAddr(t, logs, "metrics serving")
	if code, body := get(t, metrics+"/metrics"); code != 200 || !strings.Contains(body, `pakn_http_requests_total{code="200",method="GET",route="/readyz"} 1`) {
		t.Fatalf("metrics: %d", code)
	}

	// Vault sealed: not ready (once the one-second cache of the checks has passed), and says which dependency.
	if err := s.v.Root().Sys().Seal(); err != nil {
		t.Fatal(err)
	}
	var code int
	var body string
	for range 50 {
		if code, body = get(t, base+"/readyz"); code == 503 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code != 503 || !strings.Contains(body, `"vault":"unavailable"`) || !strings.Contains(body, `"database":"ok"`) {
		t.Fatalf("readyz with Vault sealed: %d %s", code, body)
	}

	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if now := gc.Current(); now != before {
		t.Errorf("stopped, the collector is left at %+v, want %+v as before", now, before)
	}
	for _, want := range []string{`"msg":"shutting down"`, `"msg":"stopped"`, `"route":"/readyz"`, `"request_id":"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %s", want)
		}
	}
	for _, secret := range s.secrets {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("a secret reached the logs")
		}
	}
	rows, err := s.db.Pool.Query(context.Background(), "SELECT action FROM audit_events ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	actions, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(actions, ",") != "service.start,service.stop" {
		t.Fatalf("audit events %v, want service.start,service.stop", actions)
	}
}

func TestPakndRefusesToStartMisconfigured(t *testing.T) {
	s := newStack(t)
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"no config", map[string]string{}, []string{"invalid configuration", "PAKN_DATABASE_URL: required", "VAULT_ADDR: required", "PAKN_AUDIT_KEY_FILE: required"}},
		{"wrong secret id", map[string]string{"PAKN_VAULT_SECRET_ID_FILE": s.env["PAKN_AUDIT_KEY_FILE"]}, []string{"AppRole login"}},
		{"database down", map[string]string{"PAKN_DATABASE_URL": "postgres://pakn_app:x@127.0.0.1:1/pakn", "PAKN_MIGRATE": "false"}, []string{"database unreachable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			if len(tt.env) > 0 {
				for k, v := range s.env {
					env[k] = v
				}
			}
			for k, v := range tt.env {
				env[k] = v
			}
			s.handOver(t)
			var logs syncBuffer
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := run(ctx, nil, func(k string) string { return env[k] }, &logs)
			if err == nil {
				t.Fatal("paknd started")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			for _, secret := range s.secrets {
				if strings.Contains(err.Error()+logs.String(), secret) {
					t.Fatal("a secret appears in the start-up error or logs")
				}
			}
		})
	}
}

func TestPakndServesTLS(t *testing.T) {
	s := newStack(t)
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	s.env["PAKN_TLS_CERT_FILE"], s.env["PAKN_TLS_KEY_FILE"] = certFile, keyFile

	base, _, stop := s.start(t)
	defer func() { _ = stop() }()
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("served at %s, want https", base)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	resp, err := client.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Fatalf("TLS readyz: %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
}
