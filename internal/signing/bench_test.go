package signing_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pakn/internal/gc"
	"pakn/internal/pdfrender"
	"pakn/internal/reply"
	"pakn/internal/signing"
	"pakn/internal/vault"
	"pakn/internal/vaulttest"
)

// BenchmarkSignReply signs the same rendered reply with a Vault Transit key
// (through paknd's AppRole login, as in production) and with an in-process
// key of the same type (ECDSA P-256) whose certificate comes from the same
// issuing CA, in one run, from 64 concurrent signers (as many clients as the
// submission benchmark); and with the Vault key as pakn issues replies
// (PAdES B-LTA: a signature time-stamp and a document time-stamp from
// pakn's authority, whose key is in Vault too, and the CAs' lists from
// Vault embedded). `make bench` prints the rates and the Vault calls per
// signature.
func BenchmarkSignReply(b *testing.B) {
	defer gc.Tune(gc.Default)() // as paknd serves
	subject := pkix.Name{CommonName: "Lê Hoàng Cường"}
	v, root, dir := vaulttest.Bootstrapped(b)
	ctx := context.Background()
	// The benchmark measures signing, not Vault's quota on it (pakn bootstrap -sign-rate).
	// (A quota raised in place keeps its old rate for the buckets it has: it is removed.)
	if _, err := root.API().Logical().Delete("sys/quotas/rate-limit/" + vault.SignQuota); err != nil {
		b.Fatal(err)
	}
	p, err := vault.ProvisionSigner(ctx, root.API(), "bench", "ecdsa-p256", subject)
	if err != nil {
		b.Fatal(err)
	}
	roleID, _ := os.ReadFile(filepath.Join(dir, "creds", vault.RoleIDFile))
	secretID, _ := os.ReadFile(filepath.Join(dir, "creds", vault.SecretIDFile))
	vc, err := vault.Connect(ctx, vault.Config{Addr: v.Addr, RoleID: strings.TrimSpace(string(roleID)), SecretID: strings.TrimSpace(string(secretID))}, nil)
	if err != nil {
		b.Fatal(err)
	}
	issuing := chainTail(b, p.ChainPEM)
	transit, err := vault.NewTransitSigner(vc.API(), vault.TransitMount, p.Key, p.Version, p.Certificate, 0)
	if err != nil {
		b.Fatal(err)
	}
	// The in-process key gets its certificate from the same issuing CA (a CSR signed by the official-signer role).
	local, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject}, local)
	s, err := root.API().Logical().Write(vault.IssuingMount+"/sign/"+vault.SignerRole, map[string]any{
		"csr": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}))})
	if err != nil {
		b.Fatal(err)
	}
	blk, _ := pem.Decode([]byte(s.Data["certificate"].(string)))
	localCert, _ := x509.ParseCertificate(blk.Bytes)

	doc := benchReply(b)
	auth, err := vc.TimeStamping(filepath.Join(dir, "certs", vault.TSACertFile), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	lists := vc.ValidationCRLs(0)
	for _, k := range []struct {
		name   string
		signer crypto.Signer
		cert   *x509.Certificate
		lta    bool
	}{{"vault", transit, p.Certificate, false}, {"in-process", local, localCert, false}, {"vault-lta", transit, p.Certificate, true}} {
		b.Run(k.name, func(b *testing.B) {
			before := transit.Calls()
			b.SetParallelism(32) // 64 signers on this 2-core machine
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := reply.SignRequest{Signer: k.signer, Chain: []*x509.Certificate{k.cert, issuing}, Name: "Le Hoang Cuong", Reason: "bench", Location: "Ha Noi"}
					if k.lta {
						crls, err := lists(ctx)
						if err != nil {
							b.Error(err)
							return
						}
						r.Stamp, r.CRLs = auth.Respond, crls
					}
					if _, err := signing.SignPDF(doc, r); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "replies/s")
			b.ReportMetric(float64(transit.Calls()-before)/float64(b.N), "vault-calls/op")
		})
	}
}

// benchReply is the rendered reply the benchmark signs.
func benchReply(b *testing.B) []byte {
	doc, err := pdfrender.Render(pdfrender.Document{ParentAgency: "Ủy ban nhân dân thành phố Hà Nội", Agency: "Sở Tư pháp", Number: "1/STP-HN-PAKN",
		Place: "Hà Nội", Date: time.Now(), Subject: "V/v trả lời phản ánh, kiến nghị", Recipient: "Bà Nguyễn Thị Hồng Nhung",
		RecipientAddr: "phường Điện Biên, quận Ba Đình", Paragraphs: []string{strings.Repeat("Nội dung trả lời phản ánh, kiến nghị. ", 40)},
		SignerTitle: "Phó Giám đốc", SignerName: "Lê Hoàng Cường", VerifyURL: "https://pakn.example.vn/verify/x", ShortCode: "x",
		TrackingCode: "PAKN-2026-0000-0000", ReplyID: "x"})
	if err != nil {
		b.Fatal(err)
	}
	return doc
}

// chainTail returns the issuing CA from a PEM chain (leaf first).
func chainTail(b *testing.B, chain string) *x509.Certificate {
	rest := []byte(chain)
	var last *x509.Certificate
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			b.Fatal(err)
		}
		last = c
	}
	return last
}
