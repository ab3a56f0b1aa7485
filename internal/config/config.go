// Package config loads paknd's configuration from PAKN_* (and VAULT_ADDR)
// environment variables, overridden by command-line flags: one declarative
// table names every setting, its default and its help; Validate checks the
// settings and their combinations and LoadFiles reads the files they name,
// each reporting one line per problem.
package config

import (
	"crypto/tls"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"pakn/internal/deadline"
	"pakn/internal/gc"
	"pakn/internal/tsa"
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
	SignHold          time.Duration // no signature by a signer for this long after someone else reset their credentials
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	ShutdownTimeout   time.Duration
	LogLevel          slog.Level
	TrustedProxies    []netip.Prefix        // peers whose X-Forwarded-For is believed
	TLSCertFile       string                // serve HTTPS with this certificate chain ...
	TLSKeyFile        string                // ... and key; plain HTTP when both are empty
	RateLogin         int                   // sign-in attempts per minute per client address
	RatePublic        int                   // other public requests per minute per client address
	CalendarFile      string                // PAKN_CALENDAR_FILE; the built-in file when empty
	Calendar          deadline.CalendarFile // loaded from CalendarFile
	PublicURL         string                // the public site; replies' QR codes lead to PublicURL/verify/{reply id}
	DocPlace          string                // where replies are issued, printed before the date
	OperatorName      string                // who runs the service and controls its personal data, named on the website
	OperatorContact   string                // how the public reaches the operator about personal data
	TSAURL            string                // an external RFC 3161 authority instead of pakn's own
	TSATimeout        time.Duration         // per time-stamp request to TSAURL
	TSACertFile       string                // pakn's own authority's certificate chain (pakn bootstrap writes it)
	TSAPolicy         asn1.ObjectIdentifier // the policy written in pakn's tokens; tsa.DefaultPolicy when empty
	TSAPublic         bool                  // serve pakn's authority to others at POST /api/v1/tsa
	RateTSA           int                   // time-stamps per minute per client at /api/v1/tsa
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
	GC                gc.Settings           // the garbage collector's percent and memory limit
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

// setting is one configuration value: its flag, its environment variable,
// its default, its help, and how its text becomes part of the Config.
type setting struct {
	flag, env, def, help string
	parse                func(c *Config, v string) error
}

// settings is the one source of paknd's settings: names, defaults and help.
// Parse problems are reported in this order, so related settings sit
// together. (VAULT_TOKEN is read from the environment only, never from a
// flag, so it does not show in process listings.)
var settings = []setting{
	{"addr", "PAKN_ADDR", "127.0.0.1:8080", "listen address", text(func(c *Config) *string { return &c.Addr })},
	{"database-url", "PAKN_DATABASE_URL", "", "PostgreSQL URL of the application role", text(func(c *Config) *string { return &c.DatabaseURL })},
	{"database-owner-url", "PAKN_DATABASE_OWNER_URL", "", "PostgreSQL URL of the owner role, to migrate at start", text(func(c *Config) *string { return &c.DatabaseOwnerURL })},
	{"migrate", "PAKN_MIGRATE", "false", "apply migrations at start", boolean(func(c *Config) *bool { return &c.MigrateOnStart })},
	{"db-app-role", "PAKN_DB_APP_ROLE", "pakn_app", "database application role", text(func(c *Config) *string { return &c.AppRole })},
	{"vault-addr", "VAULT_ADDR", "", "Vault address", text(func(c *Config) *string { return &c.VaultAddr })},
	{"vault-role-id", "PAKN_VAULT_ROLE_ID", "", "AppRole role_id", text(func(c *Config) *string { return &c.VaultRoleID })},
	{"vault-secret-id-file", "PAKN_VAULT_SECRET_ID_FILE", "", "file with the AppRole secret_id", text(func(c *Config) *string { return &c.VaultSecretIDFile })},
	{"dev", "PAKN_DEV", "false", "development mode", boolean(func(c *Config) *bool { return &c.Dev })},
	{"trust-system-roots", "PAKN_TRUST_SYSTEM_ROOTS", "false", "also trust the machine's root certificates when verifying", boolean(func(c *Config) *bool { return &c.TrustSystemRoots })},
	{"vault-timeout", "PAKN_VAULT_TIMEOUT", "10s", "timeout of each Vault request", duration(func(c *Config) *time.Duration { return &c.VaultTimeout })},
	{"read-header-timeout", "PAKN_READ_HEADER_TIMEOUT", "5s", "HTTP read header timeout", duration(func(c *Config) *time.Duration { return &c.ReadHeaderTimeout })},
	{"read-timeout", "PAKN_READ_TIMEOUT", "30s", "HTTP read timeout (whole request)", duration(func(c *Config) *time.Duration { return &c.ReadTimeout })},
	{"sign-hold-after-reset", "PAKN_SIGN_HOLD_AFTER_RESET", "24h", "no signature by a signer for this long after someone else reset their password or MFA", duration(func(c *Config) *time.Duration { return &c.SignHold })},
	{"write-timeout", "PAKN_WRITE_TIMEOUT", "60s", "HTTP write timeout", duration(func(c *Config) *time.Duration { return &c.WriteTimeout })},
	{"idle-timeout", "PAKN_IDLE_TIMEOUT", "120s", "HTTP keep-alive idle timeout", duration(func(c *Config) *time.Duration { return &c.IdleTimeout })},
	{"shutdown-timeout", "PAKN_SHUTDOWN_TIMEOUT", "20s", "graceful shutdown limit", duration(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
	{"tsa-timeout", "PAKN_TSA_TIMEOUT", "10s", "timeout of each time-stamp request", duration(func(c *Config) *time.Duration { return &c.TSATimeout })},
	{"audit-key-file", "PAKN_AUDIT_KEY_FILE", "", "file with the hex HMAC key for client addresses", text(func(c *Config) *string { return &c.AuditKeyFile })},
	{"max-body-bytes", "PAKN_MAX_BODY_BYTES", "1048576", "global request body limit", size(1024, 64<<20, func(c *Config) *int64 { return &c.MaxBodyBytes })},
	{"log-level", "PAKN_LOG_LEVEL", "info", "debug, info, warn or error", func(c *Config, v string) error {
		if c.LogLevel.UnmarshalText([]byte(v)) != nil {
			return fmt.Errorf("%q is not debug, info, warn or error", v)
		}
		return nil
	}},
	{"trusted-proxies", "PAKN_TRUSTED_PROXIES", "", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed", cidrs(func(c *Config) *[]netip.Prefix { return &c.TrustedProxies })},
	{"rate-exempt", "PAKN_RATE_EXEMPT", "", "comma-separated CIDRs of clients free of the per-client limits: your own load generators and monitoring, never the public", cidrs(func(c *Config) *[]netip.Prefix { return &c.RateExempt })},
	{"tls-cert-file", "PAKN_TLS_CERT_FILE", "", "PEM certificate chain to serve HTTPS", text(func(c *Config) *string { return &c.TLSCertFile })},
	{"tls-key-file", "PAKN_TLS_KEY_FILE", "", "PEM private key to serve HTTPS", text(func(c *Config) *string { return &c.TLSKeyFile })},
	{"rate-login", "PAKN_RATE_LOGIN", "20", "sign-in attempts per minute per client address", count(func(c *Config) *int { return &c.RateLogin })},
	{"rate-public", "PAKN_RATE_PUBLIC", "300", "public requests per minute per client address", count(func(c *Config) *int { return &c.RatePublic })},
	{"rate-verify", "PAKN_RATE_VERIFY", "60", "verifications per minute per client address", count(func(c *Config) *int { return &c.RateVerify })},
	{"rate-submit", "PAKN_RATE_SUBMIT", "10", "anonymous submissions per minute per client", count(func(c *Config) *int { return &c.RateSubmit })},
	{"verify-per-client", "PAKN_VERIFY_PER_CLIENT", "2", "verifications one client may have running at once", count(func(c *Config) *int { return &c.VerifyPerClient })},
	{"uploads-per-client", "PAKN_UPLOADS_PER_CLIENT", "2", "anonymous submissions one client may be sending at once", count(func(c *Config) *int { return &c.UploadsPerClient })},
	{"daily-attachment-bytes", "PAKN_DAILY_ATTACHMENT_BYTES", "209715200", "attachment bytes one client may send per day", size(10<<20, 1<<40, func(c *Config) *int64 { return &c.DailyAttachBytes })},
	{"upload-budget-bytes", "PAKN_UPLOAD_BUDGET_BYTES", "1073741824", "bytes of uploads all clients may be sending at once, held on disk", size(64<<20, 1<<40, func(c *Config) *int64 { return &c.UploadBudget })},
	{"verify-memory-bytes", "PAKN_VERIFY_MEMORY_BYTES", "67108864", "bytes of documents verified at once, held in memory", size(21<<20, 16<<30, func(c *Config) *int64 { return &c.VerifyMemory })},
	{"intake-queue-bytes", "PAKN_INTAKE_QUEUE_BYTES", "268435456", "bytes of submissions admitted and not yet written", size(64<<20, 16<<30, func(c *Config) *int64 { return &c.IntakeQueueBytes })},
	{"gc-percent", "PAKN_GC_PERCENT", strconv.Itoa(gc.Default.Percent), "how far the heap grows over live data before Go collects it, in percent (Go's GOGC): more memory for less CPU", func(c *Config, v string) (err error) {
		if c.GC.Percent, err = strconv.Atoi(v); err != nil || c.GC.Percent < gc.MinPercent || c.GC.Percent > gc.MaxPercent {
			return fmt.Errorf("%q must be a whole number from %d to %d", v, gc.MinPercent, gc.MaxPercent)
		}
		return nil
	}},
	{"memory-limit-bytes", "PAKN_MEMORY_LIMIT_BYTES", strconv.FormatInt(gc.Default.Limit, 10), "soft limit on the memory Go holds for paknd (Go's GOMEMLIMIT): nearing it, Go collects more often; keep it below the machine's or container's limit", size(gc.MinLimit, gc.MaxLimit, func(c *Config) *int64 { return &c.GC.Limit })},
	{"spool-dir", "PAKN_SPOOL_DIR", "", "folder where uploads wait on disk; the system's temporary folder when empty", text(func(c *Config) *string { return &c.SpoolDir })},
	{"metrics-addr", "PAKN_METRICS_ADDR", "127.0.0.1:9464", "listen address of /metrics alone, or off", text(func(c *Config) *string { return &c.MetricsAddr })},
	{"metrics-token-file", "PAKN_METRICS_TOKEN_FILE", "", "file with a bearer token that also serves /metrics on the main address", text(func(c *Config) *string { return &c.MetricsTokenFile })},
	{"calendar-file", "PAKN_CALENDAR_FILE", "", "JSON file of each year's announced holiday swaps; the built-in one when empty", text(func(c *Config) *string { return &c.CalendarFile })},
	{"public-url", "PAKN_PUBLIC_URL", "", "the public site's URL, printed in replies' QR codes; http://ADDR when empty", text(func(c *Config) *string { return &c.PublicURL })},
	{"doc-place", "PAKN_DOC_PLACE", "Hà Nội", "place of issue printed on replies", text(func(c *Config) *string { return &c.DocPlace })},
	{"operator-name", "PAKN_OPERATOR_NAME", "", "the agency that runs the service and controls its personal data, named in the website's personal-data notice", text(func(c *Config) *string { return &c.OperatorName })},
	{"operator-contact", "PAKN_OPERATOR_CONTACT", "", "how the public reaches the operator about personal data (an email address, a phone number or a postal address), in the same notice", text(func(c *Config) *string { return &c.OperatorContact })},
	{"trust-anchors-dir", "PAKN_TRUST_ANCHORS_DIR", "certs", "folder of PEM trust anchors for verifying replies", text(func(c *Config) *string { return &c.TrustAnchorsDir })},
	{"tsa-url", "PAKN_TSA_URL", "", "an external RFC 3161 time-stamping authority for signed documents, instead of pakn's own", text(func(c *Config) *string { return &c.TSAURL })},
	{"tsa-cert-file", "PAKN_TSA_CERT_FILE", "", "certificate chain of pakn's own time-stamping authority (pakn bootstrap writes it); tsa/pakn-tsa.pem in the trust anchors folder when empty", text(func(c *Config) *string { return &c.TSACertFile })},
	{"tsa-policy", "PAKN_TSA_POLICY", "", "OID arc of the published policies pakn's time-stamping authority follows (its own documents .1, others' .2); 1.3.6.1.4.1.32473.1, a documentation OID, when empty", func(c *Config, v string) (err error) {
		c.TSAPolicy, err = tsa.ParsePolicy(v)
		return err
	}},
	{"tsa-public", "PAKN_TSA_PUBLIC", "false", "serve pakn's time-stamping authority to other agencies at POST /api/v1/tsa (rate-limited, audited)", boolean(func(c *Config) *bool { return &c.TSAPublic })},
	{"rate-tsa", "PAKN_RATE_TSA", "60", "time-stamps per minute per client address at /api/v1/tsa", count(func(c *Config) *int { return &c.RateTSA })},
}

func text(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *field(c) = v; return nil }
}

func boolean(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) (err error) {
		if *field(c), err = strconv.ParseBool(v); err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		return nil
	}
}

func duration(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) (err error) {
		if *field(c), err = time.ParseDuration(v); err != nil || *field(c) <= 0 {
			return fmt.Errorf("%q is not a positive duration such as 10s", v)
		}
		return nil
	}
}

// count parses a whole number from 1 to 100000 (rates and places).
func count(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) (err error) {
		if *field(c), err = strconv.Atoi(v); err != nil || *field(c) < 1 || *field(c) > 100000 {
			return fmt.Errorf("%q must be a whole number from 1 to 100000", v)
		}
		return nil
	}
}

// size parses a whole number of bytes from lo to hi.
func size(lo, hi int64, field func(*Config) *int64) func(*Config, string) error {
	return func(c *Config, v string) (err error) {
		if *field(c), err = strconv.ParseInt(v, 10, 64); err != nil || *field(c) < lo || *field(c) > hi {
			return fmt.Errorf("%q must be a whole number of bytes from %d to %d", v, lo, hi)
		}
		return nil
	}
}

// cidrs parses a comma-separated list of addresses and CIDRs.
func cidrs(field func(*Config) *[]netip.Prefix) func(*Config, string) error {
	return func(c *Config, v string) error {
		out, bad := prefixes(v)
		*field(c) = out
		var errs []error
		for _, b := range bad {
			errs = append(errs, fmt.Errorf("%s is not an address or CIDR", b))
		}
		return errors.Join(errs...) // one problem line each

	}
}

// Load reads the configuration for paknd from getenv and args (flags
// override the environment), checks it (Validate) and loads the files it
// names (LoadFiles). On failure the error is a Problems listing every
// problem found, or a flag parse error.
func Load(args []string, getenv func(string) string) (*Config, error) {
	fs := flag.NewFlagSet("paknd", flag.ContinueOnError)
	values := make([]*string, len(settings))
	for i, s := range settings {
		def := s.def
		if v := getenv(s.env); v != "" {
			def = v
		}
		values[i] = fs.String(s.flag, def, s.help+" ("+s.env+")")
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	c := &Config{VaultToken: getenv("VAULT_TOKEN")}
	var p Problems
	for i, s := range settings {
		err := s.parse(c, *values[i])
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range joined.Unwrap() {
				p = append(p, s.env+": "+e.Error())
			}
		} else if err != nil {
			p = append(p, s.env+": "+err.Error())
		}
	}
	for _, v := range []struct{ goEnv, ours string }{{"GOGC", "PAKN_GC_PERCENT"}, {"GOMEMLIMIT", "PAKN_MEMORY_LIMIT_BYTES"}} {
		if getenv(v.goEnv) != "" { // Go's runtime read it, and paknd would set it again: one setting, not two
			p = append(p, fmt.Sprintf("%s: paknd sets its garbage collector from %s; unset %s", v.goEnv, v.ours, v.goEnv))
		}
	}
	p = append(p, c.Validate()...)
	p = append(p, c.LoadFiles()...)
	if len(p) > 0 {
		return nil, p
	}
	c.complete()
	return c, nil
}

// Validate reports every problem of the settings themselves and across
// them (files are read by LoadFiles), one line each.
func (c *Config) Validate() Problems {
	var p Problems
	for _, e := range c.RateExempt {
		for _, t := range c.TrustedProxies {
			if e.Overlaps(t) {
				p = append(p, fmt.Sprintf("PAKN_RATE_EXEMPT: %s overlaps the trusted proxy %s, which speaks for the public", e, t))
			}
		}
	}
	if c.SpoolDir != "" && !isDir(c.SpoolDir) {
		p = append(p, fmt.Sprintf("PAKN_SPOOL_DIR: %q is not a folder", c.SpoolDir))
	}
	p = append(p, c.checkMetricsAddr()...)
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		p = append(p, "PAKN_TLS_CERT_FILE and PAKN_TLS_KEY_FILE go together: set both or neither")
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		p = append(p, fmt.Sprintf("PAKN_ADDR: %q is not host:port", c.Addr))
	}
	p = append(p, checkDBURL("PAKN_DATABASE_URL", c.DatabaseURL)...)
	switch {
	case (c.MigrateOnStart || c.DatabaseOwnerURL != "") && !c.Dev:
		// The owner may alter every table and trigger: a serving process must
		// not hold it. Production migrates with pakn migrate, then starts paknd.
		p = append(p, "PAKN_MIGRATE / PAKN_DATABASE_OWNER_URL: paknd holds the owner's URL only in development (PAKN_DEV=true); run pakn migrate before starting it")
	case c.MigrateOnStart:
		p = append(p, checkDBURL("PAKN_DATABASE_OWNER_URL", c.DatabaseOwnerURL)...)
	}
	p = append(p, c.checkVault()...)
	if c.AuditKeyFile == "" {
		p = append(p, "PAKN_AUDIT_KEY_FILE: required (a file with at least 32 random bytes, hex encoded)")
	}
	p = append(p, c.checkPublicURL()...)
	if host, _, err := net.SplitHostPort(c.Addr); c.Dev && (err != nil || !isLoopback(host)) {
		// Development mode relaxes what production needs (a plain Vault token, http): never where others reach it.
		p = append(p, "PAKN_DEV: development mode serves only a loopback address (PAKN_ADDR such as 127.0.0.1:8080)")
	}
	if len([]rune(c.OperatorName)) > 200 || len([]rune(c.OperatorContact)) > 200 {
		p = append(p, "PAKN_OPERATOR_NAME and PAKN_OPERATOR_CONTACT: at most 200 characters each")
	}
	if n := len([]rune(strings.TrimSpace(c.DocPlace))); n < 2 || n > 60 {
		p = append(p, "PAKN_DOC_PLACE: 2 to 60 characters, e.g. Hà Nội")
	}
	if !isDir(c.TrustAnchorsDir) {
		p = append(p, fmt.Sprintf("PAKN_TRUST_ANCHORS_DIR: %q is not a folder (pakn bootstrap exports the CA chain to certs/)", c.TrustAnchorsDir))
	}
	if c.TSAURL != "" {
		if u, err := url.Parse(c.TSAURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p = append(p, fmt.Sprintf("PAKN_TSA_URL: %q is not an http(s) URL", c.TSAURL))
		}
	}
	if c.GC.Limit >= gc.MinLimit && c.GC.Limit < c.VerifyMemory+c.IntakeQueueBytes+gc.MinLimit {
		// What the bounds let paknd hold at once, and the rest of the service beside it.
		p = append(p, fmt.Sprintf("PAKN_MEMORY_LIMIT_BYTES must be at least PAKN_VERIFY_MEMORY_BYTES + PAKN_INTAKE_QUEUE_BYTES + %d (64 MiB) for the rest of the service", gc.MinLimit))
	}
	if c.ReadTimeout > 0 && c.ReadHeaderTimeout > c.ReadTimeout {
		p = append(p, "PAKN_READ_HEADER_TIMEOUT must not exceed PAKN_READ_TIMEOUT")
	}
	return p
}

// checkMetricsAddr checks where /metrics is served on its own.
func (c *Config) checkMetricsAddr() Problems {
	if c.MetricsAddr == "off" {
		return nil
	}
	host, port, err := net.SplitHostPort(c.MetricsAddr)
	switch {
	case err != nil:
		return Problems{fmt.Sprintf("PAKN_METRICS_ADDR: %q is not host:port (or off)", c.MetricsAddr)}
	case c.MetricsAddr == c.Addr && port != "0":
		return Problems{"PAKN_METRICS_ADDR: must differ from PAKN_ADDR (to serve /metrics on the main address, set PAKN_METRICS_TOKEN_FILE)"}
	case host == "":
		// Metrics describe traffic and the process: beyond loopback only on purpose, on a named interface.
		return Problems{"PAKN_METRICS_ADDR: give a host; an empty host listens on every interface"}
	}
	return nil
}

// checkVault checks Vault's address and how paknd logs in.
func (c *Config) checkVault() Problems {
	var p Problems
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
	return p
}

// checkPublicURL checks the address printed in replies' QR codes: only a
// development or loopback service may leave it to default to its own.
func (c *Config) checkPublicURL() Problems {
	if c.PublicURL == "" {
		if host, _, err := net.SplitHostPort(c.Addr); err == nil && !c.Dev && !isLoopback(host) {
			return Problems{"PAKN_PUBLIC_URL: required when serving beyond loopback (the https address citizens reach; replies' QR codes lead there)"}
		}
		return nil
	}
	u, err := url.Parse(c.PublicURL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "":
		return Problems{fmt.Sprintf("PAKN_PUBLIC_URL: %q is not an http(s) URL without query", c.PublicURL)}
	case u.Scheme == "http" && !c.Dev && !isLoopback(u.Hostname()):
		return Problems{"PAKN_PUBLIC_URL: replies printed for the public must point at https (plain http only with PAKN_DEV=true or on loopback)"}
	}
	return nil
}

// LoadFiles reads the files the configuration names: the TLS key pair
// (checked, loaded again by the server), the metrics token, the audit key
// and the calendar. It reports one line per problem.
func (c *Config) LoadFiles() Problems {
	var p Problems
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
	if c.TLSCertFile != "" && c.TLSKeyFile != "" {
		if _, err := tls.LoadX509KeyPair(c.TLSCertFile, c.TLSKeyFile); err != nil {
			p = append(p, "PAKN_TLS_CERT_FILE/PAKN_TLS_KEY_FILE: cannot load the key pair: "+err.Error())
		}
	}
	c.Calendar = deadline.DefaultCalendarFile()
	if c.CalendarFile != "" {
		f, err := deadline.LoadCalendarFile(c.CalendarFile)
		if err != nil {
			p = append(p, "PAKN_CALENDAR_FILE: "+err.Error())
		}
		c.Calendar = f
	}
	if c.AuditKeyFile != "" {
		key, err := ReadHexKeyFile(c.AuditKeyFile)
		if err != nil {
			p = append(p, "PAKN_AUDIT_KEY_FILE: "+err.Error())
		}
		c.AuditKey = key
	}
	return p
}

// complete fills what a valid configuration derives: the public URL of a
// development or loopback service defaults to its own address.
func (c *Config) complete() {
	if c.PublicURL == "" {
		scheme := "http"
		if c.TLSCertFile != "" {
			scheme = "https"
		}
		c.PublicURL = scheme + "://" + c.Addr
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.TSACertFile == "" {
		c.TSACertFile = filepath.Join(c.TrustAnchorsDir, "tsa", "pakn-tsa.pem") // where pakn bootstrap writes it
	}
}

// prefixes parses a comma-separated list of addresses and CIDRs; bad lists
// the parts that are neither.
func prefixes(list string) (out []netip.Prefix, bad []string) {
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
			bad = append(bad, strconv.Quote(part))
			continue
		}
		out = append(out, pfx.Masked())
	}
	return out, bad
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

// checkDBURL checks a required PostgreSQL URL without ever echoing it.
func checkDBURL(name, v string) Problems {
	if v == "" {
		return Problems{name + ": required (postgres://user:password@host:port/db)"}
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		// Never echo the value: it may hold a password.
		return Problems{name + ": not a postgres:// URL"}
	}
	return nil
}

// isDir reports whether path is a folder.
func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
