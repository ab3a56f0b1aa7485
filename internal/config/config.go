// Package config loads paknd's configuration from PAKN_* (and VAULT_ADDR)
// environment variables, overridden by command-line flags, and validates it
// across fields, reporting one line per problem.
package config

import (
	"crypto/tls"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"pakn/internal/deadline"
)

// Config is paknd's whole configuration.
type Config struct {
	Addr              string        // listen address, host:port
	DatabaseURL       string        // application role
	DatabaseOwnerURL  string        // owner role, needed only to migrate at start
	MigrateOnStart    bool          // apply migrations before serving
	AppRole           string        // database application role that migrations grant to
	VaultAddr         string        // Vault address
	VaultToken        string        // development only
	VaultRoleID       string        // AppRole role_id
	VaultSecretIDFile string        // file holding the AppRole secret_id
	VaultTimeout      time.Duration // per Vault request
	Dev               bool          // development mode: allows a plain Vault token
	AuditKeyFile      string        // file with the hex HMAC key for client addresses
	AuditKey          []byte        // loaded from AuditKeyFile
	MaxBodyBytes      int64         // global request body limit
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	ShutdownTimeout   time.Duration
	LogLevel          slog.Level
	TrustedProxies    []netip.Prefix        // peers whose X-Forwarded-For is believed
	TLSCertFile       string                // serve HTTPS with this certificate chain ...
	TLSKeyFile        string                // ... and key; plain HTTP when both are empty
	RateLogin         int                   // sign-in attempts per minute per client address
	RatePublic        int                   // other public requests per minute per client address
	Calendar          deadline.CalendarFile // working-day calendar decisions (PAKN_CALENDAR_FILE, or the built-in file)
	PublicURL         string                // the public site; replies' QR codes lead to PublicURL/verify/{reply id}
	DocPlace          string                // where replies are issued, printed before the date
	TSAURL            string                // optional RFC 3161 time-stamping authority
	TSATimeout        time.Duration         // per time-stamp request
	TrustAnchorsDir   string                // PEM trust anchors for verification (pakn's certs/)
	TrustSystemRoots  bool                  // also trust the machine's roots (off unless configured)
	RateVerify        int                   // verifications per minute per client address
	RateSubmit        int                   // anonymous submissions per minute per client
	VerifyPerClient   int                   // verifications one client has running at once
	UploadsPerClient  int                   // anonymous submissions one client sends at once
	DailyAttachBytes  int64                 // attachment bytes one client may send per day
	UploadBudget      int64                 // bytes of uploads being received at once, all clients
	VerifyMemory      int64                 // bytes of documents being verified at once
	IntakeQueueBytes  int64                 // bytes of submissions admitted and not yet written
	SpoolDir          string                // where uploads wait on disk; the system's temporary folder when empty
	MetricsAddr       string                // listen address of /metrics alone; "off" for none
	MetricsTokenFile  string                // file with a bearer token that also serves /metrics on Addr
	MetricsToken      string                // loaded from MetricsTokenFile
	RateExempt        []netip.Prefix        // clients free of the per-client limits (own load generators, monitoring)
}

// Problems is the list of everything wrong with a configuration.
type Problems []string

// Error implements error, one problem per line.
func (p Problems) Error() string { return strings.Join(p, "\n") }

// Load reads the configuration for paknd from getenv and args. On failure the
// error is a Problems listing every problem found, or a flag parse error.
func Load(args []string, getenv func(string) string) (*Config, error) {
	fs := flag.NewFlagSet("paknd", flag.ContinueOnError)
	env := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	var (
		c    Config
		p    Problems
		dur  = map[string]*string{}
		durs = []struct {
			name, envName, def, usage string
			dst                       *time.Duration
		}{
			{"vault-timeout", "PAKN_VAULT_TIMEOUT", "10s", "timeout of each Vault request", &c.VaultTimeout},
			{"read-header-timeout", "PAKN_READ_HEADER_TIMEOUT", "5s", "HTTP read header timeout", &c.ReadHeaderTimeout},
			{"read-timeout", "PAKN_READ_TIMEOUT", "30s", "HTTP read timeout (whole request)", &c.ReadTimeout},
			{"write-timeout", "PAKN_WRITE_TIMEOUT", "60s", "HTTP write timeout", &c.WriteTimeout},
			{"idle-timeout", "PAKN_IDLE_TIMEOUT", "120s", "HTTP keep-alive idle timeout", &c.IdleTimeout},
			{"shutdown-timeout", "PAKN_SHUTDOWN_TIMEOUT", "20s", "graceful shutdown limit", &c.ShutdownTimeout},
			{"tsa-timeout", "PAKN_TSA_TIMEOUT", "10s", "timeout of each time-stamp request", &c.TSATimeout},
		}
		migrate, dev, maxBody, level, proxies, rateLogin, ratePublic, calendarFile, systemRoots, rateVerify        string
		rateSubmit, verifyPerClient, uploadsPerClient, dailyAttach, uploadBudget, verifyMemory, queueBytes, exempt string
	)
	fs.StringVar(&c.Addr, "addr", env("PAKN_ADDR", "127.0.0.1:8080"), "listen address (PAKN_ADDR)")
	fs.StringVar(&c.DatabaseURL, "database-url", env("PAKN_DATABASE_URL", ""), "PostgreSQL URL of the application role (PAKN_DATABASE_URL)")
	fs.StringVar(&c.DatabaseOwnerURL, "database-owner-url", env("PAKN_DATABASE_OWNER_URL", ""), "PostgreSQL URL of the owner role, to migrate at start (PAKN_DATABASE_OWNER_URL)")
	fs.StringVar(&migrate, "migrate", env("PAKN_MIGRATE", "false"), "apply migrations at start (PAKN_MIGRATE)")
	fs.StringVar(&c.AppRole, "db-app-role", env("PAKN_DB_APP_ROLE", "pakn_app"), "database application role (PAKN_DB_APP_ROLE)")
	fs.StringVar(&c.VaultAddr, "vault-addr", env("VAULT_ADDR", ""), "Vault address (VAULT_ADDR)")
	fs.StringVar(&c.VaultRoleID, "vault-role-id", env("PAKN_VAULT_ROLE_ID", ""), "AppRole role_id (PAKN_VAULT_ROLE_ID)")
	fs.StringVar(&c.VaultSecretIDFile, "vault-secret-id-file", env("PAKN_VAULT_SECRET_ID_FILE", ""), "file with the AppRole secret_id (PAKN_VAULT_SECRET_ID_FILE)")
	fs.StringVar(&dev, "dev", env("PAKN_DEV", "false"), "development mode (PAKN_DEV)")
	fs.StringVar(&c.AuditKeyFile, "audit-key-file", env("PAKN_AUDIT_KEY_FILE", ""), "file with the hex HMAC key for client addresses (PAKN_AUDIT_KEY_FILE)")
	fs.StringVar(&maxBody, "max-body-bytes", env("PAKN_MAX_BODY_BYTES", "1048576"), "global request body limit (PAKN_MAX_BODY_BYTES)")
	fs.StringVar(&level, "log-level", env("PAKN_LOG_LEVEL", "info"), "debug, info, warn or error (PAKN_LOG_LEVEL)")
	fs.StringVar(&proxies, "trusted-proxies", env("PAKN_TRUSTED_PROXIES", ""), "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed (PAKN_TRUSTED_PROXIES)")
	fs.StringVar(&c.TLSCertFile, "tls-cert-file", env("PAKN_TLS_CERT_FILE", ""), "PEM certificate chain to serve HTTPS (PAKN_TLS_CERT_FILE)")
	fs.StringVar(&c.TLSKeyFile, "tls-key-file", env("PAKN_TLS_KEY_FILE", ""), "PEM private key to serve HTTPS (PAKN_TLS_KEY_FILE)")
	fs.StringVar(&rateLogin, "rate-login", env("PAKN_RATE_LOGIN", "20"), "sign-in attempts per minute per client address (PAKN_RATE_LOGIN)")
	fs.StringVar(&ratePublic, "rate-public", env("PAKN_RATE_PUBLIC", "300"), "public requests per minute per client address (PAKN_RATE_PUBLIC)")
	fs.StringVar(&calendarFile, "calendar-file", env("PAKN_CALENDAR_FILE", ""), "JSON file of each year's announced holiday swaps; the built-in one when empty (PAKN_CALENDAR_FILE)")
	fs.StringVar(&c.PublicURL, "public-url", env("PAKN_PUBLIC_URL", ""), "the public site's URL, printed in replies' QR codes; http://ADDR when empty (PAKN_PUBLIC_URL)")
	fs.StringVar(&c.DocPlace, "doc-place", env("PAKN_DOC_PLACE", "Hà Nội"), "place of issue printed on replies (PAKN_DOC_PLACE)")
	fs.StringVar(&c.TrustAnchorsDir, "trust-anchors-dir", env("PAKN_TRUST_ANCHORS_DIR", "certs"), "folder of PEM trust anchors for verifying replies (PAKN_TRUST_ANCHORS_DIR)")
	fs.StringVar(&systemRoots, "trust-system-roots", env("PAKN_TRUST_SYSTEM_ROOTS", "false"), "also trust the machine's root certificates when verifying (PAKN_TRUST_SYSTEM_ROOTS)")
	fs.StringVar(&rateVerify, "rate-verify", env("PAKN_RATE_VERIFY", "60"), "verifications per minute per client address (PAKN_RATE_VERIFY)")
	fs.StringVar(&rateSubmit, "rate-submit", env("PAKN_RATE_SUBMIT", "10"), "anonymous submissions per minute per client (PAKN_RATE_SUBMIT)")
	fs.StringVar(&verifyPerClient, "verify-per-client", env("PAKN_VERIFY_PER_CLIENT", "2"), "verifications one client may have running at once (PAKN_VERIFY_PER_CLIENT)")
	fs.StringVar(&uploadsPerClient, "uploads-per-client", env("PAKN_UPLOADS_PER_CLIENT", "2"), "anonymous submissions one client may be sending at once (PAKN_UPLOADS_PER_CLIENT)")
	fs.StringVar(&dailyAttach, "daily-attachment-bytes", env("PAKN_DAILY_ATTACHMENT_BYTES", "209715200"), "attachment bytes one client may send per day (PAKN_DAILY_ATTACHMENT_BYTES)")
	fs.StringVar(&uploadBudget, "upload-budget-bytes", env("PAKN_UPLOAD_BUDGET_BYTES", "1073741824"), "bytes of uploads all clients may be sending at once, held on disk (PAKN_UPLOAD_BUDGET_BYTES)")
	fs.StringVar(&verifyMemory, "verify-memory-bytes", env("PAKN_VERIFY_MEMORY_BYTES", "67108864"), "bytes of documents verified at once, held in memory (PAKN_VERIFY_MEMORY_BYTES)")
	fs.StringVar(&queueBytes, "intake-queue-bytes", env("PAKN_INTAKE_QUEUE_BYTES", "268435456"), "bytes of submissions admitted and not yet written (PAKN_INTAKE_QUEUE_BYTES)")
	fs.StringVar(&exempt, "rate-exempt", env("PAKN_RATE_EXEMPT", ""), "comma-separated CIDRs of clients free of the per-client limits: your own load generators and monitoring, never the public (PAKN_RATE_EXEMPT)")
	fs.StringVar(&c.SpoolDir, "spool-dir", env("PAKN_SPOOL_DIR", ""), "folder where uploads wait on disk; the system's temporary folder when empty (PAKN_SPOOL_DIR)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", env("PAKN_METRICS_ADDR", "127.0.0.1:9464"), "listen address of /metrics alone, or off (PAKN_METRICS_ADDR)")
	fs.StringVar(&c.MetricsTokenFile, "metrics-token-file", env("PAKN_METRICS_TOKEN_FILE", ""), "file with a bearer token that also serves /metrics on the main address (PAKN_METRICS_TOKEN_FILE)")
	fs.StringVar(&c.TSAURL, "tsa-url", env("PAKN_TSA_URL", ""), "RFC 3161 time-stamping authority for signed replies; none when empty (PAKN_TSA_URL)")
	for _, d := range durs {
		dur[d.name] = fs.String(d.name, env(d.envName, d.def), d.usage+" ("+d.envName+")")
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	// The token is read from the environment only, never from a flag, so it
	// does not show in process listings.
	c.VaultToken = getenv("VAULT_TOKEN")

	boolean := func(name, v string) bool {
		b, err := strconv.ParseBool(v)
		if err != nil {
			p = append(p, fmt.Sprintf("%s: %q is not true or false", name, v))
		}
		return b
	}
	c.MigrateOnStart = boolean("PAKN_MIGRATE", migrate)
	c.Dev = boolean("PAKN_DEV", dev)
	c.TrustSystemRoots = boolean("PAKN_TRUST_SYSTEM_ROOTS", systemRoots)
	for _, d := range durs {
		v, err := time.ParseDuration(*dur[d.name])
		if err != nil || v <= 0 {
			p = append(p, fmt.Sprintf("%s: %q is not a positive duration such as 10s", d.envName, *dur[d.name]))
		}
		*d.dst = v
	}
	n, err := strconv.ParseInt(maxBody, 10, 64)
	if err != nil || n < 1024 || n > 64<<20 {
		p = append(p, fmt.Sprintf("PAKN_MAX_BODY_BYTES: %q must be a whole number from 1024 to %d", maxBody, 64<<20))
	}
	c.MaxBodyBytes = n
	c.TrustedProxies = prefixes(&p, "PAKN_TRUSTED_PROXIES", proxies)
	c.RateExempt = prefixes(&p, "PAKN_RATE_EXEMPT", exempt)
	for _, e := range c.RateExempt {
		for _, t := range c.TrustedProxies {
			if e.Overlaps(t) {
				p = append(p, fmt.Sprintf("PAKN_RATE_EXEMPT: %s overlaps the trusted proxy %s, which speaks for the public", e, t))
			}
		}
	}
	for _, r := range []struct {
		name, v string
		dst     *int
	}{{"PAKN_RATE_LOGIN", rateLogin, &c.RateLogin}, {"PAKN_RATE_PUBLIC", ratePublic, &c.RatePublic}, {"PAKN_RATE_VERIFY", rateVerify, &c.RateVerify},
		{"PAKN_RATE_SUBMIT", rateSubmit, &c.RateSubmit}, {"PAKN_VERIFY_PER_CLIENT", verifyPerClient, &c.VerifyPerClient},
		{"PAKN_UPLOADS_PER_CLIENT", uploadsPerClient, &c.UploadsPerClient}} {
		n, err := strconv.Atoi(r.v)
		if err != nil || n < 1 || n > 100000 {
			p = append(p, fmt.Sprintf("%s: %q must be a whole number from 1 to 100000", r.name, r.v))
		}
		*r.dst = n
	}
	for _, b := range []struct {
		name, v  string
		min, max int64
		dst      *int64
	}{
		{"PAKN_DAILY_ATTACHMENT_BYTES", dailyAttach, 10 << 20, 1 << 40, &c.DailyAttachBytes},
		{"PAKN_UPLOAD_BUDGET_BYTES", uploadBudget, 64 << 20, 1 << 40, &c.UploadBudget},
		{"PAKN_VERIFY_MEMORY_BYTES", verifyMemory, 21 << 20, 16 << 30, &c.VerifyMemory},
		{"PAKN_INTAKE_QUEUE_BYTES", queueBytes, 64 << 20, 16 << 30, &c.IntakeQueueBytes},
	} {
		n, err := strconv.ParseInt(b.v, 10, 64)
		if err != nil || n < b.min || n > b.max {
			p = append(p, fmt.Sprintf("%s: %q must be a whole number of bytes from %d to %d", b.name, b.v, b.min, b.max))
		}
		*b.dst = n
	}
	if c.SpoolDir != "" {
		if st, err := os.Stat(c.SpoolDir); err != nil || !st.IsDir() {
			p = append(p, fmt.Sprintf("PAKN_SPOOL_DIR: %q is not a folder", c.SpoolDir))
		}
	}
	if c.MetricsAddr != "off" {
		if host, port, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			p = append(p, fmt.Sprintf("PAKN_METRICS_ADDR: %q is not host:port (or off)", c.MetricsAddr))
		} else if c.MetricsAddr == c.Addr && port != "0" {
			p = append(p, "PAKN_METRICS_ADDR: must differ from PAKN_ADDR (to serve /metrics on the main address, set PAKN_METRICS_TOKEN_FILE)")
		} else if host == "" {
			// Metrics describe traffic and the process: beyond loopback only on purpose, on a named interface.
			p = append(p, "PAKN_METRICS_ADDR: give a host; an empty host listens on every interface")
		}
	}
	if c.MetricsTokenFile != "" {
		tok, err := ReadSecretFile(c.MetricsTokenFile)
		switch {
		case err != nil:
			p = append(p, "PAKN_METRICS_TOKEN_FILE: "+err.Error())
		case len(tok) < 32:
			p = append(p, "PAKN_METRICS_TOKEN_FILE: the token must be at least 32 characters")
		default:
			c.MetricsToken = tok
		}
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		p = append(p, "PAKN_TLS_CERT_FILE and PAKN_TLS_KEY_FILE go together: set both or neither")
	} else if c.TLSCertFile != "" {
		if _, err := tls.LoadX509KeyPair(c.TLSCertFile, c.TLSKeyFile); err != nil {
			p = append(p, "PAKN_TLS_CERT_FILE/PAKN_TLS_KEY_FILE: cannot load the key pair: "+err.Error())
		}
	}
	c.Calendar = deadline.DefaultCalendarFile()
	if calendarFile != "" {
		f, err := deadline.LoadCalendarFile(calendarFile)
		if err != nil {
			p = append(p, "PAKN_CALENDAR_FILE: "+err.Error())
		}
		c.Calendar = f
	}
	if err := c.LogLevel.UnmarshalText([]byte(level)); err != nil {
		p = append(p, fmt.Sprintf("PAKN_LOG_LEVEL: %q is not debug, info, warn or error", level))
	}

	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		p = append(p, fmt.Sprintf("PAKN_ADDR: %q is not host:port", c.Addr))
	}
	p = append(p, checkDBURL("PAKN_DATABASE_URL", c.DatabaseURL, true)...)
	if c.MigrateOnStart {
		p = append(p, checkDBURL("PAKN_DATABASE_OWNER_URL", c.DatabaseOwnerURL, true)...)
	}
	switch u, err := url.Parse(c.VaultAddr); {
	case c.VaultAddr == "":
		p = append(p, "VAULT_ADDR: required (the address of Vault, e.g. https://vault.example:8200)")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		p = append(p, fmt.Sprintf("VAULT_ADDR: %q is not an http(s) URL", c.VaultAddr))
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		p = append(p, "VAULT_ADDR: plain http is allowed only to a loopback address; use https")
	}
	switch {
	case c.VaultRoleID != "" && c.VaultToken != "":
		p = append(p, "VAULT_TOKEN and PAKN_VAULT_ROLE_ID are both set: choose AppRole or (in development) a token")
	case c.VaultRoleID != "":
		if c.VaultSecretIDFile == "" {
			p = append(p, "PAKN_VAULT_SECRET_ID_FILE: required with PAKN_VAULT_ROLE_ID")
		}
	case c.VaultToken != "":
		if !c.Dev {
			p = append(p, "VAULT_TOKEN: a plain token is accepted only with PAKN_DEV=true; production uses AppRole (PAKN_VAULT_ROLE_ID and PAKN_VAULT_SECRET_ID_FILE)")
		}
	default:
		p = append(p, "Vault login: set PAKN_VAULT_ROLE_ID and PAKN_VAULT_SECRET_ID_FILE (or, with PAKN_DEV=true, VAULT_TOKEN)")
	}
	if c.AuditKeyFile == "" {
		p = append(p, "PAKN_AUDIT_KEY_FILE: required (a file with at least 32 random bytes, hex encoded)")
	} else if key, err := ReadHexKeyFile(c.AuditKeyFile); err != nil {
		p = append(p, "PAKN_AUDIT_KEY_FILE: "+err.Error())
	} else {
		c.AuditKey = key
	}
	if c.PublicURL == "" {
		// Only a development or loopback service may print its own address in replies.
		if host, _, err := net.SplitHostPort(c.Addr); err == nil {
			scheme := "http"
			if c.TLSCertFile != "" {
				scheme = "https"
			}
			c.PublicURL = scheme + "://" + c.Addr
			if !c.Dev && !isLoopback(host) {
				p = append(p, "PAKN_PUBLIC_URL: required when serving beyond loopback (the https address citizens reach; replies' QR codes lead there)")
			}
		}
	} else if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		p = append(p, fmt.Sprintf("PAKN_PUBLIC_URL: %q is not an http(s) URL without query", c.PublicURL))
	} else if u.Scheme == "http" && !c.Dev && !isLoopback(u.Hostname()) {
		p = append(p, "PAKN_PUBLIC_URL: replies printed for the public must point at https (plain http only with PAKN_DEV=true or on loopback)")
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if n := len([]rune(strings.TrimSpace(c.DocPlace))); n < 2 || n > 60 {
		p = append(p, "PAKN_DOC_PLACE: 2 to 60 characters, e.g. Hà Nội")
	}
	if st, err := os.Stat(c.TrustAnchorsDir); err != nil || !st.IsDir() {
		p = append(p, fmt.Sprintf("PAKN_TRUST_ANCHORS_DIR: %q is not a folder (pakn bootstrap exports the CA chain to certs/)", c.TrustAnchorsDir))
	}
	if c.TSAURL != "" {
		if u, err := url.Parse(c.TSAURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p = append(p, fmt.Sprintf("PAKN_TSA_URL: %q is not an http(s) URL", c.TSAURL))
		}
	}
	if c.ReadTimeout > 0 && c.ReadHeaderTimeout > c.ReadTimeout {
		p = append(p, "PAKN_READ_HEADER_TIMEOUT must not exceed PAKN_READ_TIMEOUT")
	}
	if len(p) > 0 {
		return nil, p
	}
	return &c, nil
}

// prefixes parses a comma-separated list of addresses and CIDRs, adding a
// problem for each one that is neither.
func prefixes(p *Problems, name, list string) []netip.Prefix {
	var out []netip.Prefix
	for _, part := range strings.Split(list, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		pfx, err := netip.ParsePrefix(part)
		if err != nil {
			if a, aerr := netip.ParseAddr(part); aerr == nil {
				pfx, err = a.Prefix(a.BitLen())
			}
		}
		if err != nil {
			*p = append(*p, fmt.Sprintf("%s: %q is not an address or CIDR", name, part))
			continue
		}
		out = append(out, pfx.Masked())
	}
	return out
}

// ReadSecretFile returns the trimmed contents of a file holding one secret.
func ReadSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", path, errors.Unwrap(err))
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return s, nil
}

// ReadHexKeyFile reads a hex-encoded key of at least 32 bytes.
func ReadHexKeyFile(path string) ([]byte, error) {
	s, err := ReadSecretFile(path)
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s is not hex", path)
	}
	if len(key) < 32 {
		return nil, fmt.Errorf("%s holds %d bytes; at least 32 are needed", path, len(key))
	}
	return key, nil
}

func checkDBURL(name, v string, required bool) Problems {
	if v == "" {
		if required {
			return Problems{name + ": required (postgres://user:password@host:port/db)"}
		}
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		// Never echo the value: it may hold a password.
		return Problems{name + ": not a postgres:// URL"}
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
