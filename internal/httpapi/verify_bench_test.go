package httpapi

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pakn/internal/gc"
	"pakn/internal/pdftest"
	"pakn/internal/register"
	"pakn/internal/verify"
	"pakn/internal/verifytest"
)

// BenchmarkVerification measures, on one genuine reply signed through
// Vault as pakn issues it (PAdES B-LTA), in the same run: the raw floor of
// a verification (SHA-256 over the reply's bytes and one ECDSA
// verification with the signer's public key, on every core); the verifier
// in-process, register included, on every core; the HTTP endpoint at 64
// concurrent clients (each verification audited, register and CRL
// included) with its p50 and p99 latency, on the reply and on its
// signature's revision alone (the signature with its time-stamp, without
// the validation data and the document time-stamp: "plain"); and
// poppler's pdfsig run once per file, as a citizen's tool would. `make
// bench` prints them side by side with their ratios to the floor.
func BenchmarkVerification(b *testing.B) {
	defer gc.Tune(gc.Default)() // as paknd serves
	// The benchmark's clients (loopback) are exempt from the per-client limits by configuration.
	s := newStack(b, Limits{Login: 1000, Public: 1000, Exempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	// The CAs' lists and the register's answers cached as paknd caches them (the tests' stack
	// reads them at every verification, to see a revocation or a correction at once).
	s.verifier.CRL = &verify.CachedCRL{Fetch: s.vaultCRL}
	s.verifier.FindIssued = register.CachedFinder(register.Finder(s.stores.Replies), register.MatchCacheTTL, nil)
	_, signedID, _ := s.seedReplies()
	doc := s.signedPDF(signedID)
	roots, inter, err := verify.LoadAnchors(s.certs, false)
	if err != nil {
		b.Fatal(err)
	}
	// In-process as over HTTP (and as paknd): the register included, its answers cached.
	v := &verify.Verifier{Roots: roots, Intermediates: inter, CRL: &verify.CachedCRL{Fetch: s.vaultCRL},
		FindIssued: register.CachedFinder(register.Finder(s.stores.Replies), register.MatchCacheTTL, nil)}
	if r := v.Verify(context.Background(), doc); r.Indication != verify.TotalPassed {
		b.Fatalf("the reply does not pass: %s", r.Text())
	}

	b.Run("floor", func(b *testing.B) {
		pub, digest, sig := verifytest.SignerSignature(b, doc)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				sum := sha256.Sum256(doc)
				if !ecdsa.VerifyASN1(pub, digest, sig) || sum[0] == 0 && sum[1] == 0 && sum[2] == 0 && sum[3] == 0 {
					b.Error("the floor's signature does not verify")
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
	})
	b.Run("in-process", func(b *testing.B) {
		b.SetParallelism(4) // the register's look-up waits on PostgreSQL: more verifications than cores keep the cores busy
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if r := v.Verify(context.Background(), doc); r.Indication != verify.TotalPassed {
					b.Error(r.Indication)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
	})

	br := verifytest.ByteRange(b, doc)
	plain := doc[:br[2]+br[3]]
	b.Run("http-64", func(b *testing.B) { genuineLoad(b, s.srv.URL, doc, 64) })
	b.Run("http-64-plain", func(b *testing.B) { genuineLoad(b, s.srv.URL, plain, 64) })

	b.Run("pdfsig", func(b *testing.B) {
		dir := b.TempDir()
		nss := filepath.Join(dir, "nss")
		_ = os.Mkdir(nss, 0o700)
		certutil := pdftest.Tool(b, "certutil")
		if out, err := exec.Command(certutil, "-N", "-d", "sql:"+nss, "--empty-password").CombinedOutput(); err != nil {
			b.Fatalf("%v %s", err, out)
		}
		if out, err := exec.Command(certutil, "-A", "-d", "sql:"+nss, "-n", "root", "-t", "C,C,C", "-i", filepath.Join(s.certs, "pakn-root-ca.pem")).CombinedOutput(); err != nil {
			b.Fatalf("%v %s", err, out)
		}
		file := filepath.Join(dir, "reply.pdf")
		if err := os.WriteFile(file, doc, 0o600); err != nil {
			b.Fatal(err)
		}
		pdfsig := pdftest.Tool(b, "pdfsig")
		b.ResetTimer()
		for b.Loop() {
			out, _ := exec.Command(pdfsig, "-nssdir", "sql:"+nss, file).CombinedOutput()
			if !strings.Contains(string(out), "Signature is Valid.") {
				b.Fatalf("pdfsig: %s", out)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
	})
}

// genuineLoad verifies doc b.N times over HTTP from clients concurrent
// clients at 127.0.0.1 and reports the rate with its p50 and p99 latency.
func genuineLoad(b *testing.B, url string, doc []byte, clients int) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				start := time.Now()
				resp, err := client.Post(url+"/api/v1/verifications", "application/pdf", bytes.NewReader(doc))
				if err != nil {
					b.Error(err)
					return
				}
				var body bytes.Buffer
				_, _ = body.ReadFrom(resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(start)
				if resp.StatusCode != 200 || !bytes.Contains(body.Bytes(), []byte(`"indication":"TOTAL_PASSED"`)) {
					b.Errorf("%d %s", resp.StatusCode, body.String()[:min(body.Len(), 200)])
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds())/1000, "p99-ms")
}

// BenchmarkVerificationUnderAttack measures genuine verifications over
// HTTP (8 concurrent, from 127.0.0.1, exempt from per-client limits by
// configuration) undisturbed, and while four attackers at addresses of
// their own (127.0.0.66-69), held to the production limits, feed the
// crafted 20 MB inputs of verifytest.Crafted, two at a time each, as fast
// as they are allowed: an attacker told 429 waits out its Retry-After (one
// that ignores it is answered by the limiter before any byte of its body is
// read; on this machine its own sending would take the cores the server
// measures with). Each run gets a fresh server, so the attackers' first
// minute of allowance is spent within it. `make bench` prints the attacked
// rate as a share of the undisturbed one (target: at least 80 %).
func BenchmarkVerificationUnderAttack(b *testing.B) {
	defer gc.Tune(gc.Default)() // as paknd serves
	s := newStack(b, Limits{})
	_, signedID, _ := s.seedReplies()
	doc := s.signedPDF(signedID)
	makers := verifytest.Crafted(verify.MaxSize - 1024)
	var hostile [][]byte
	for _, name := range []string{"obj words before each /ByteRange", "huge /Contents hex string", "one object repeating /ByteRange", "deep dictionary nesting"} {
		hostile = append(hostile, makers[name]())
	}
	fresh := func(b *testing.B) string {
		d := s.deps
		d.Limits = DefaultLimits
		d.Limits.Exempt = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		srv := httptest.NewServer(New(d))
		b.Cleanup(srv.Close)
		return srv.URL
	}
	b.Run("undisturbed", func(b *testing.B) { genuineLoad(b, fresh(b), doc, 8) })
	b.Run("attacked", func(b *testing.B) {
		url := fresh(b)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var verdicts, refused atomic.Int64
		for a := range 4 {
			attacker := clientFrom(fmt.Sprintf("127.0.0.%d", 66+a))
			for w := range 2 {
				wg.Go(func() {
					for i := a + w; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						// A comment after the input makes each one a new document, as a real attacker's
						// would be: nothing the verifier remembers of an earlier one serves it.
						h, suffix := hostile[i%len(hostile)], fmt.Sprintf("%%%d\n", i)
						req, _ := http.NewRequest("POST", url+"/api/v1/verifications", io.MultiReader(bytes.NewReader(h), strings.NewReader(suffix)))
						req.ContentLength = int64(len(h) + len(suffix))
						req.Header.Set("Content-Type", "application/pdf")
						resp, err := attacker.Do(req)
						if err != nil {
							continue
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						switch resp.StatusCode {
						case 422:
							verdicts.Add(1)
							continue
						case 429:
							refused.Add(1)
						default:
							b.Errorf("hostile input: %d", resp.StatusCode)
						}
						wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
						select {
						case <-stop:
							return
						case <-time.After(time.Duration(max(wait, 1)) * time.Second):
						}
					}
				})
			}
		}
		time.Sleep(100 * time.Millisecond) // the attack is under way
		genuineLoad(b, url, doc, 8)
		close(stop)
		wg.Wait()
		b.ReportMetric(float64(verdicts.Load()), "hostile-verdicts")
		b.ReportMetric(float64(refused.Load()), "hostile-refused")
	})
}

// vaultCRL reads the issuing CA's CRL with the root token.
func (s *stack) vaultCRL(ctx context.Context) ([]byte, error) {
	sec, err := s.vault.Root().Logical().ReadWithContext(ctx, "pki_int/cert/crl")
	if err != nil {
		return nil, err
	}
	return []byte(sec.Data["certificate"].(string)), nil
}
