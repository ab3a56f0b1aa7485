package httpapi

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pakn/internal/pdftest"
	"pakn/internal/verify"
)

// BenchmarkVerification measures, on one genuine reply signed through
// Vault, in the same run: the verifier in-process; the HTTP endpoint at 8
// concurrent requests (each audited, register and CRL included) with its
// p50 and p99 latency; and poppler's pdfsig run once per file, as a
// citizen's tool would. `make bench` prints the three side by side.
func BenchmarkVerification(b *testing.B) {
	s := newStack(b, Limits{Login: 1000, Public: 1000, Verify: 1 << 30})
	_, signedID, _ := s.replies()
	doc := s.signedPDF(signedID)
	roots, inter, err := verify.LoadAnchors(s.certs, false)
	if err != nil {
		b.Fatal(err)
	}
	v := &verify.Verifier{Roots: roots, Intermediates: inter, CRL: &verify.CachedCRL{Fetch: s.vaultCRL}}
	if r := v.Verify(context.Background(), doc); r.Indication != verify.TotalPassed {
		b.Fatalf("the reply does not pass: %s", r.Text())
	}

	b.Run("in-process", func(b *testing.B) {
		for b.Loop() {
			if r := v.Verify(context.Background(), doc); r.Indication != verify.TotalPassed {
				b.Fatal(r.Indication)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
	})

	b.Run("http-8", func(b *testing.B) {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
		lat := make([]time.Duration, b.N)
		var next atomic.Int64
		var wg sync.WaitGroup
		b.ResetTimer()
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1) - 1
					if i >= int64(b.N) {
						return
					}
					start := time.Now()
					resp, err := client.Post(s.srv.URL+"/api/v1/verifications", "application/pdf", bytes.NewReader(doc))
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
	})

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

// vaultCRL reads the issuing CA's CRL with the root token.
func (s *stack) vaultCRL(ctx context.Context) ([]byte, error) {
	sec, err := s.vault.Root().Logical().ReadWithContext(ctx, "pki_int/cert/crl")
	if err != nil {
		return nil, err
	}
	return []byte(sec.Data["certificate"].(string)), nil
}
