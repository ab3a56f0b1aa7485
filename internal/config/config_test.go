package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pakn/internal/gc"
)

func keyFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// loadCase is one configuration given to Load and what must come of it:
// the problems (substrings, one per line, in order), or checks of the
// Config.
type loadCase struct {
	name  string
	env   map[string]string
	args  []string
	want  []string
	check func(*testing.T, *Config)
}

// loadEnv is a valid environment and a function giving it with some
// variables changed.
func loadEnv(t *testing.T) (base map[string]string, with func(kv ...string) map[string]string) {
	t.Helper()
	goodKey := keyFile(t, strings.Repeat("ab", 32)+"\n")
	base = map[string]string{
		"PAKN_DATABASE_URL":         "postgres://pakn_app:pw@127.0.0.1:5432/pakn",
		"VAULT_ADDR":                "http://127.0.0.1:8200",
		"PAKN_VAULT_ROLE_ID":        "role",
		"PAKN_VAULT_SECRET_ID_FILE": "/run/secrets/secret-id",
		"PAKN_AUDIT_KEY_FILE":       goodKey,
		"PAKN_TRUST_ANCHORS_DIR":    t.TempDir(),
	}
	with = func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	return base, with
}

// runLoad runs Load on each case.
func runLoad(t *testing.T, tests []loadCase) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.args, func(k string) string { return tt.env[k] })
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				tt.check(t, c)
				return
			}
			p, ok := err.(Problems)
			if !ok {
				t.Fatalf("Load error = %v (%T), want Problems", err, err)
			}
			if len(p) != len(tt.want) {
				t.Fatalf("%d problems, want %d:\n%s", len(p), len(tt.want), p)
			}
			for i, w := range tt.want {
				if !strings.Contains(p[i], w) {
					t.Errorf("problem %d = %q, want it to mention %q", i, p[i], w)
				}
			}
			if strings.Contains(p.Error(), "hunter2") {
				t.Error("a password was echoed")
			}
		})
	}
}

// TestLoad checks defaults, flags over the environment, the database, formats and timeouts.
func TestLoad(t *testing.T) {
	base, with := loadEnv(t)
	runLoad(t, []loadCase{
		{name: "valid AppRole", env: base, check: func(t *testing.T, c *Config) {
			if c.Addr != "127.0.0.1:8080" || c.ReadHeaderTimeout != 5*time.Second || c.MaxBodyBytes != 1<<20 || len(c.AuditKey) != 32 {
				t.Errorf("defaults not applied: %+v", c)
			}
		}},
		{name: "flags override env", env: base, args: []string{"-addr", "127.0.0.1:9999", "-write-timeout", "5s"}, check: func(t *testing.T, c *Config) {
			if c.Addr != "127.0.0.1:9999" || c.WriteTimeout != 5*time.Second {
				t.Errorf("flags ignored: %s %s", c.Addr, c.WriteTimeout)
			}
		}},
		{name: "bad db url hides password", env: with("PAKN_DATABASE_URL", "mysql://u:hunter2@h/db"), want: []string{"PAKN_DATABASE_URL: not a postgres:// URL"}},
		{name: "migrate needs owner", env: with("PAKN_MIGRATE", "true", "PAKN_DEV", "true"), want: []string{"PAKN_DATABASE_OWNER_URL: required"}},
		{name: "the owner's URL only in development", env: with("PAKN_MIGRATE", "true", "PAKN_DATABASE_OWNER_URL", "postgres://o:p@127.0.0.1/pakn"),
			want: []string{"paknd holds the owner's URL only in development"}},
		{name: "bad bool, duration, size, level, addr", env: with("PAKN_DEV", "maybe", "PAKN_READ_TIMEOUT", "soon",
			"PAKN_MAX_BODY_BYTES", "10", "PAKN_LOG_LEVEL", "loud", "PAKN_ADDR", "8080"), want: []string{
			"PAKN_DEV", "PAKN_READ_TIMEOUT", "PAKN_MAX_BODY_BYTES", "PAKN_LOG_LEVEL", "PAKN_ADDR"}},
		{name: "header timeout above read timeout", env: with("PAKN_READ_HEADER_TIMEOUT", "1m"), want: []string{"must not exceed"}},
	})
}

// TestLoadVaultAndAuditKey checks how paknd reaches Vault, and the audit key.
func TestLoadVaultAndAuditKey(t *testing.T) {
	_, with := loadEnv(t)
	runLoad(t, []loadCase{
		{name: "dev token", env: with("PAKN_VAULT_ROLE_ID", "", "VAULT_TOKEN", "root", "PAKN_DEV", "true"), check: func(t *testing.T, c *Config) {
			if c.VaultToken != "root" || !c.Dev {
				t.Error("dev token not taken")
			}
		}},
		{name: "everything missing", env: map[string]string{}, want: []string{
			"PAKN_DATABASE_URL: required", "VAULT_ADDR: required", "Vault login", "PAKN_AUDIT_KEY_FILE: required", "PAKN_TRUST_ANCHORS_DIR"}},
		{name: "token without dev", env: with("PAKN_VAULT_ROLE_ID", "", "VAULT_TOKEN", "root"), want: []string{"only with PAKN_DEV=true"}},
		{name: "token and approle", env: with("VAULT_TOKEN", "root"), want: []string{"both set"}},
		{name: "approle without secret", env: with("PAKN_VAULT_SECRET_ID_FILE", ""), want: []string{"PAKN_VAULT_SECRET_ID_FILE: required"}},
		{name: "plain http off loopback", env: with("VAULT_ADDR", "http://vault.example:8200"), want: []string{"use https"}},
		{name: "not a vault url", env: with("VAULT_ADDR", "vault:8200"), want: []string{"not an http(s) URL"}},
		{name: "short audit key", env: with("PAKN_AUDIT_KEY_FILE", keyFile(t, "abcd")), want: []string{"at least 32 are needed"}},
		{name: "audit key not hex", env: with("PAKN_AUDIT_KEY_FILE", keyFile(t, strings.Repeat("zz", 32))), want: []string{"not hex"}},
		{name: "audit key missing file", env: with("PAKN_AUDIT_KEY_FILE", "/nonexistent/key"), want: []string{"cannot read"}},
	})
}

// TestLoadPublicSiteAndVerification checks the public URL, the place of issue, the TSA, the calendar and the trust anchors.
func TestLoadPublicSiteAndVerification(t *testing.T) {
	base, with := loadEnv(t)
	runLoad(t, []loadCase{
		{name: "bad calendar file", env: with("PAKN_CALENDAR_FILE", keyFile(t, `{"years":{}}`)), want: []string{"PAKN_CALENDAR_FILE"}},
		{name: "calendar file", env: with("PAKN_CALENDAR_FILE", keyFile(t, `{"version":"2027.1","years":{}}`)), check: func(t *testing.T, c *Config) {
			if c.Calendar.Version != "2027.1" {
				t.Errorf("calendar %q not loaded", c.Calendar.Version)
			}
		}},
		{name: "public URL and TSA", env: with("PAKN_PUBLIC_URL", "https://pakn.hanoi.gov.vn/", "PAKN_TSA_URL", "http://tsa.example/tsr",
			"PAKN_DOC_PLACE", "Đà Nẵng"), check: func(t *testing.T, c *Config) {
			if c.PublicURL != "https://pakn.hanoi.gov.vn" || c.TSAURL != "http://tsa.example/tsr" || c.DocPlace != "Đà Nẵng" || c.TSATimeout != 10*time.Second {
				t.Errorf("public URL %q, TSA %q, place %q", c.PublicURL, c.TSAURL, c.DocPlace)
			}
		}},
		{name: "loopback default public URL", env: base, check: func(t *testing.T, c *Config) {
			if c.PublicURL != "http://127.0.0.1:8080" || c.DocPlace != "Hà Nội" {
				t.Errorf("public URL %q, place %q", c.PublicURL, c.DocPlace)
			}
		}},
		{name: "public URL needed off loopback", env: with("PAKN_ADDR", "0.0.0.0:8080"), want: []string{"PAKN_PUBLIC_URL: required"}},
		{name: "development mode off loopback", env: with("PAKN_ADDR", "0.0.0.0:8080", "PAKN_DEV", "true", "PAKN_PUBLIC_URL", "https://pakn.example/"),
			want: []string{"PAKN_DEV: development mode serves only a loopback address"}},
		{name: "verification settings", env: with("PAKN_TRUST_SYSTEM_ROOTS", "true", "PAKN_RATE_VERIFY", "30"), check: func(t *testing.T, c *Config) {
			if !c.TrustSystemRoots || c.RateVerify != 30 || c.TrustAnchorsDir == "" {
				t.Errorf("system roots %v, rate %d, anchors %q", c.TrustSystemRoots, c.RateVerify, c.TrustAnchorsDir)
			}
		}},
		{name: "bad verification settings", env: with("PAKN_TRUST_ANCHORS_DIR", "/nonexistent", "PAKN_TRUST_SYSTEM_ROOTS", "maybe", "PAKN_RATE_VERIFY", "0"),
			want: []string{"PAKN_TRUST_SYSTEM_ROOTS", "PAKN_RATE_VERIFY", "PAKN_TRUST_ANCHORS_DIR"}},
		{name: "bad public URL, place, TSA", env: with("PAKN_PUBLIC_URL", "http://pakn.example", "PAKN_DOC_PLACE", "X", "PAKN_TSA_URL", "tsa"),
			want: []string{"must point at https", "PAKN_DOC_PLACE", "PAKN_TSA_URL"}},
	})
}

// TestLoadResourceBoundsAndMetrics checks proxies, rates, resource bounds and metrics.
func TestLoadResourceBoundsAndMetrics(t *testing.T) {
	base, with := loadEnv(t)
	runLoad(t, []loadCase{
		{name: "trusted proxies and rates", env: with("PAKN_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.5", "PAKN_RATE_LOGIN", "5"), check: func(t *testing.T, c *Config) {
			if len(c.TrustedProxies) != 2 || c.TrustedProxies[1].String() != "192.168.1.5/32" || c.RateLogin != 5 {
				t.Errorf("proxies %v, rate %d", c.TrustedProxies, c.RateLogin)
			}
		}},
		{name: "resource bounds by default", env: base, check: func(t *testing.T, c *Config) {
			// SECURITY.md's rate limits: 20 sign-ins, 300 public requests, 60 verifications, 10 submissions a minute.
			if c.RateLogin != 20 || c.RatePublic != 300 || c.RateVerify != 60 || c.RateSubmit != 10 || c.VerifyPerClient != 2 || c.UploadsPerClient != 2 || c.DailyAttachBytes != 200<<20 ||
				c.UploadBudget != 1<<30 || c.VerifyMemory != 64<<20 || c.IntakeQueueBytes != 256<<20 || c.SpoolDir != "" || c.GC != gc.Default ||
				c.MetricsAddr != "127.0.0.1:9464" || c.MetricsToken != "" {
				t.Errorf("defaults %+v", c)
			}
		}},
		{name: "resource bounds and metrics", env: with("PAKN_RATE_SUBMIT", "5", "PAKN_VERIFY_PER_CLIENT", "3", "PAKN_UPLOADS_PER_CLIENT", "1",
			"PAKN_DAILY_ATTACHMENT_BYTES", "104857600", "PAKN_UPLOAD_BUDGET_BYTES", "536870912", "PAKN_VERIFY_MEMORY_BYTES", "33554432",
			"PAKN_INTAKE_QUEUE_BYTES", "134217728", "PAKN_SPOOL_DIR", t.TempDir(), "PAKN_METRICS_ADDR", "off",
			"PAKN_METRICS_TOKEN_FILE", keyFile(t, strings.Repeat("m", 40)), "PAKN_RATE_EXEMPT", "127.0.0.1, 10.1.0.0/16"), check: func(t *testing.T, c *Config) {
			if len(c.RateExempt) != 2 || c.RateExempt[0].String() != "127.0.0.1/32" || c.RateExempt[1].String() != "10.1.0.0/16" {
				t.Errorf("exempt %v", c.RateExempt)
			}
			if c.RateSubmit != 5 || c.VerifyPerClient != 3 || c.UploadsPerClient != 1 || c.DailyAttachBytes != 100<<20 ||
				c.UploadBudget != 512<<20 || c.VerifyMemory != 32<<20 || c.IntakeQueueBytes != 128<<20 || c.SpoolDir == "" ||
				c.MetricsAddr != "off" || c.MetricsToken != strings.Repeat("m", 40) {
				t.Errorf("settings %+v", c)
			}
		}},
		{name: "bad resource bounds and metrics", env: with("PAKN_RATE_SUBMIT", "0", "PAKN_VERIFY_PER_CLIENT", "x", "PAKN_DAILY_ATTACHMENT_BYTES", "10",
			"PAKN_VERIFY_MEMORY_BYTES", "1048576", "PAKN_SPOOL_DIR", "/nonexistent", "PAKN_METRICS_ADDR", ":9464",
			"PAKN_METRICS_TOKEN_FILE", keyFile(t, "short"), "PAKN_RATE_EXEMPT", "everyone"),
			want: []string{"PAKN_RATE_EXEMPT", "PAKN_RATE_SUBMIT", "PAKN_VERIFY_PER_CLIENT", "PAKN_DAILY_ATTACHMENT_BYTES", "PAKN_VERIFY_MEMORY_BYTES",
				"PAKN_SPOOL_DIR", "PAKN_METRICS_ADDR: give a host", "PAKN_METRICS_TOKEN_FILE"}},
		{name: "garbage collector", env: with("PAKN_GC_PERCENT", "200", "PAKN_MEMORY_LIMIT_BYTES", "1073741824"), check: func(t *testing.T, c *Config) {
			if c.GC != (gc.Settings{Percent: 200, Limit: 1 << 30}) {
				t.Errorf("collector %+v", c.GC)
			}
		}},
		{name: "bad garbage collector", env: with("PAKN_GC_PERCENT", "off", "PAKN_MEMORY_LIMIT_BYTES", "1048576"),
			want: []string{"PAKN_GC_PERCENT", "PAKN_MEMORY_LIMIT_BYTES"}},
		{name: "garbage collector out of range", env: with("PAKN_GC_PERCENT", "10", "PAKN_MEMORY_LIMIT_BYTES", "2199023255552"),
			want: []string{"PAKN_GC_PERCENT: \"10\" must be a whole number from 50 to 1000", "PAKN_MEMORY_LIMIT_BYTES"}},
		{name: "memory limit below the bounds", env: with("PAKN_VERIFY_MEMORY_BYTES", "201326593"),
			want: []string{"PAKN_MEMORY_LIMIT_BYTES must be at least PAKN_VERIFY_MEMORY_BYTES + PAKN_INTAKE_QUEUE_BYTES + 67108864"}},
		{name: "memory limit below the bounds, the queue's", env: with("PAKN_INTAKE_QUEUE_BYTES", "402653185"),
			want: []string{"PAKN_MEMORY_LIMIT_BYTES must be at least"}},
		{name: "memory limit just above the bounds", env: with("PAKN_VERIFY_MEMORY_BYTES", "201326592"), check: func(t *testing.T, c *Config) {
			if c.GC.Limit != 512<<20 || c.VerifyMemory != 192<<20 || c.IntakeQueueBytes != 256<<20 {
				t.Errorf("limit %d, verify memory %d, queue %d", c.GC.Limit, c.VerifyMemory, c.IntakeQueueBytes)
			}
		}},
		{name: "Go's own variables", env: with("GOGC", "50", "GOMEMLIMIT", "1GiB"),
			want: []string{"GOGC: paknd sets its garbage collector from PAKN_GC_PERCENT; unset GOGC", "GOMEMLIMIT: paknd sets its garbage collector from PAKN_MEMORY_LIMIT_BYTES"}},
		{name: "two bad proxies, two lines", env: with("PAKN_TRUSTED_PROXIES", "proxy.example, 10.0.0.0/8, 300.1.1.1"),
			want: []string{`PAKN_TRUSTED_PROXIES: "proxy.example" is not`, `PAKN_TRUSTED_PROXIES: "300.1.1.1" is not`}},
		{name: "exempt proxy", env: with("PAKN_TRUSTED_PROXIES", "10.0.0.0/8", "PAKN_RATE_EXEMPT", "10.1.2.3"), want: []string{"overlaps the trusted proxy"}},
		{name: "metrics on the main address", env: with("PAKN_METRICS_ADDR", "127.0.0.1:8080"), want: []string{"must differ from PAKN_ADDR"}},
		{name: "bad proxy, rate, tls", env: with("PAKN_TRUSTED_PROXIES", "proxy.example", "PAKN_RATE_PUBLIC", "0", "PAKN_TLS_CERT_FILE", "/x"),
			want: []string{"PAKN_TRUSTED_PROXIES", "PAKN_RATE_PUBLIC", "go together"}},
	})
}

// The README's configuration table and the settings table say the same:
// every setting has a row naming its variable, its flag and its default,
// and every row's variable is a setting.
func TestREADMEListsEverySetting(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "## Configuration (paknd)")
	end := strings.Index(readme[start+1:], "\n## ")
	if start < 0 || end < 0 {
		t.Fatal("README has no configuration section")
	}
	section := readme[start : start+1+end]
	rows := map[string]string{}
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(line, "|")
		for _, v := range strings.Split(cells[1], ",") {
			rows[strings.Trim(strings.TrimSpace(v), "`")] = line
		}
	}
	known := map[string]bool{"VAULT_TOKEN": true}
	for _, s := range settings {
		known[s.env] = true
		row, ok := rows[s.env]
		if !ok {
			t.Errorf("README has no row for %s", s.env)
			continue
		}
		if !strings.Contains(row, "`-"+s.flag+"`") {
			t.Errorf("README's row of %s does not name -%s", s.env, s.flag)
		}
		if s.def != "" && !strings.Contains(row, "`"+s.def+"`") {
			t.Errorf("README's row of %s does not give the default %s", s.env, s.def)
		}
	}
	for v := range rows {
		if !known[v] {
			t.Errorf("README lists %s, which is not a setting", v)
		}
	}
}
