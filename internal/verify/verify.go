// Package verify checks that a reply PDF is genuine and unaltered, strictly
// and on its own terms: it finds every signature by scanning the file (no
// cross-reference walking, no stream inflation), requires the last
// signature's /ByteRange to cover the whole file except its /Contents,
// parses the CMS itself, checks the message digest and the signature,
// chains the signer's own certificate to the configured trust anchors only
// (certificates in the document are at most intermediates), checks key
// usage, validity at signing time (a trusted time-stamp's time, else now)
// and revocation from the issuing CA's CRL, and reports an indication and
// sub-indication in the terms of ETSI EN 319 102-1. It never lets a
// parser's panic escape, and each verification has a time limit and reads
// at most MaxSize bytes. It imports no HTTP, SQL or Vault: the register and
// the CRL are given to it.
package verify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strconv"
	"sync"
	"time"

	"pakn/internal/reply"

	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"
)

// MaxSize is the largest document accepted (20 MB).
const MaxSize = 20 << 20

// The indications (ETSI EN 319 102-1, clause 5.1.3).
const (
	TotalPassed   = "TOTAL_PASSED"
	TotalFailed   = "TOTAL_FAILED"
	Indeterminate = "INDETERMINATE"
)

// The sub-indications used.
const (
	FormatFailure           = "FORMAT_FAILURE"
	HashFailure             = "HASH_FAILURE"
	SigCryptoFailure        = "SIG_CRYPTO_FAILURE"
	SigConstraintsFailure   = "SIG_CONSTRAINTS_FAILURE"
	ChainConstraintsFailure = "CHAIN_CONSTRAINTS_FAILURE"
	NoSigningCertificate    = "NO_SIGNING_CERTIFICATE_FOUND"
	NoCertificateChain      = "NO_CERTIFICATE_CHAIN_FOUND"
	Revoked                 = "REVOKED"
	OutOfBoundsNoPOE        = "OUT_OF_BOUNDS_NO_POE"
	NotYetValid             = "NOT_YET_VALID"
	TryLater                = "TRY_LATER"
	// TimeLimitExceeded is pakn's own sub-indication (ETSI has none for it):
	// the verification was stopped at its time limit, so the document was
	// not judged either way.
	TimeLimitExceeded  = "TIME_LIMIT_EXCEEDED"
	SignedDataNotFound = "SIGNED_DATA_NOT_FOUND"
	// NotInRegister is pakn's own sub-indication, with TOTAL_FAILED: the
	// signature is valid, but the register holds no document the system
	// issued with this signature. Whoever made it held a signing key
	// outside the system, or the register lost a row: either way the
	// document is not one to rely on.
	NotInRegister = "NOT_IN_REGISTER"
	// RegisterNotConsulted is pakn's own sub-indication, with
	// INDETERMINATE: the signature is valid, but no register was given to
	// the verification (pakn verify without a database), so whether the
	// system issued the document is not known.
	RegisterNotConsulted = "REGISTER_NOT_CONSULTED"
)

// Check results.
const (
	Passed  = "passed"
	Failed  = "failed"
	Warning = "warning"
	Skipped = "skipped"
)

// Check is one check and its result.
type Check struct {
	Name   string `json:"name"`
	Result string `json:"result"`
	Detail string `json:"detail,omitempty"`
}

// Certificate describes a certificate in a report.
type Certificate struct {
	Subject      string    `json:"subject"`
	CommonName   string    `json:"common_name"`
	Organization string    `json:"organization,omitempty"`
	Issuer       string    `json:"issuer"`
	Serial       string    `json:"serial"`
	NotBefore    time.Time `json:"not_before"`
	NotAfter     time.Time `json:"not_after"`
	KeyAlgorithm string    `json:"key_algorithm"`
	SHA256       string    `json:"sha256"`
}

// Signature is the report on one signature.
type Signature struct {
	Index           int          `json:"index"`
	Indication      string       `json:"indication"`
	SubIndication   string       `json:"sub_indication,omitempty"`
	ByteRange       []int64      `json:"byte_range,omitempty"`
	CoversWholeFile bool         `json:"covers_whole_file"`
	SubFilter       string       `json:"sub_filter,omitempty"`
	ClaimedTime     *time.Time   `json:"claimed_signing_time,omitempty"` // the signer's own (unproven) signingTime
	ValidationTime  time.Time    `json:"validation_time"`                // the time certificates were checked at
	TimestampTime   *time.Time   `json:"timestamp_time,omitempty"`       // a trusted time-stamp's time
	Signer          *Certificate `json:"signer,omitempty"`
	Checks          []Check      `json:"checks"`

	binding string // of a signature whose digest and value verified (see Binding)
}

// Match is what the register of issued replies says of the document.
type Match struct {
	Found        bool      `json:"found"`
	Kind         string    `json:"kind,omitempty"` // "reply", or "receipt" (a petition's signed receipt)
	ReplyID      string    `json:"reply_id,omitempty"`
	TrackingCode string    `json:"tracking_code,omitempty"`
	Number       string    `json:"number,omitempty"`
	Agency       string    `json:"agency,omitempty"`
	AgencyName   string    `json:"agency_name,omitempty"`
	SignedAt     time.Time `json:"signed_at,omitzero"`
	SignerName   string    `json:"signer_name,omitempty"`
	Status       string    `json:"status,omitempty"` // current or superseded
	SupersededBy string    `json:"superseded_by,omitempty"`
}

// Report is the answer of a verification.
type Report struct {
	Indication    string      `json:"indication"`
	SubIndication string      `json:"sub_indication,omitempty"`
	SummaryVI     string      `json:"summary_vi"`
	SummaryEN     string      `json:"summary_en"`
	SHA256        string      `json:"sha256"`
	Size          int         `json:"size"`
	Signatures    []Signature `json:"signatures"`
	Binding       string      `json:"binding,omitempty"` // what the last signature binds (see Binding), when it verified
	Register      *Match      `json:"register,omitempty"`
	Checks        []Check     `json:"checks"`
	VerifiedAt    time.Time   `json:"verified_at"`
}

// CRLSource gives the current certificate revocation lists of the CAs
// that issue signers' certificates: the issuing CA's, and after a rotation
// those of the CAs before it.
type CRLSource interface {
	CRLs(ctx context.Context) ([]*x509.RevocationList, error)
}

// FindIssued finds an issued document by its binding (see Binding), or,
// for documents issued before bindings were recorded, by the whole file's
// SHA-256; nil, nil when none.
type FindIssued func(ctx context.Context, binding, sha256Hex string) (*Match, error)

// Verifier checks documents against configured trust anchors.
type Verifier struct {
	Roots         *x509.CertPool // trust anchors: from configuration only
	Intermediates []*x509.Certificate
	CRL           CRLSource  // nil: revocation cannot be checked (INDETERMINATE)
	FindIssued    FindIssued // the register of issued replies; nil: a valid signature is INDETERMINATE / REGISTER_NOT_CONSULTED, unless IssuancePolicy says otherwise
	// IssuancePolicy is the policy of the time-stamps the system's own
	// authority puts on what it issues (internal/tsa.Issuance): without a
	// register, a document time-stamp under it attests issuance.
	IssuancePolicy asn1.ObjectIdentifier
	Now            func() time.Time
	Timeout        time.Duration // per verification; 10 s when zero

	cache proofs // signatures already checked between certificates and on CRLs
}

// proofs remembers checks that do not depend on time: that a certificate
// chains by valid signatures to an anchor, for signing documents or for
// time-stamping (the validity periods are checked again at every
// verification), that a CRL is signed by its issuer, and, by the SHA-256
// of their DER, the signatures' CMS whose signer's signature verified
// (with what was read from them), the time-stamp tokens whose signature
// verified and the certificates and CRLs of security stores, and by a
// whole file's SHA-256 what was read of its bytes (the same bytes verify
// and read the same way: when thousands check the same reply, its
// signatures are verified and its file parsed once). Every verification
// still checks for itself the message digest over the signed ranges, each
// token's imprint, the validity periods, revocation and the register.
type proofs struct {
	mu     sync.Mutex
	chains map[chainKey][]*x509.Certificate // leaf..anchor
	crls   map[[64]byte]bool                // CRL and issuer DER hashes
	cms    map[[32]byte]provenCMS           // by the SHA-256 of a signature's /Contents
	tokens map[[32]byte]provenToken         // by the SHA-256 of a token
	read   map[[32]byte]any                 // certificates and CRLs of document security stores, by their DER's SHA-256
	docs   map[[32]byte]*readDocument       // by the SHA-256 of a whole document
}

// readDocument is what was read from a document's bytes alone: its
// signature dictionaries, and the validation data of the updates after
// its last approval signature (nil until they were read without fault).
// Neither is changed once remembered.
type readDocument struct {
	sigs    []sigDict
	updates *validationData
}

// maxReadContents bounds the signature values, and the validation data, a
// remembered document holds.
const maxReadContents = 64 << 10

// documentRead returns what was read from the document whose SHA-256
// (withDocHash) ctx carries, if it was.
func (c *proofs) documentRead(ctx context.Context) (readDocument, bool) {
	d, _ := ctx.Value(docHashKey{}).(*docHash)
	if d == nil {
		return readDocument{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.docs[[32]byte(d.sum)]
	if !ok {
		return readDocument{}, false
	}
	return *r, true
}

// addDocumentRead remembers what was read from the document ctx carries
// the hash of (all of it read from copies: nothing holds the document's
// memory), unless its signature values, or its validation data, are more
// than maxReadContents.
func (c *proofs) addDocumentRead(ctx context.Context, r readDocument) {
	d, _ := ctx.Value(docHashKey{}).(*docHash)
	if d == nil {
		return
	}
	size := 0
	for _, sd := range r.sigs {
		size += len(sd.Contents)
	}
	if size > maxReadContents {
		return
	}
	if r.updates != nil {
		size = 0
		for _, cert := range r.updates.certs {
			size += len(cert.Raw)
		}
		for _, crl := range r.updates.crls {
			size += len(crl.Raw)
		}
		if size > maxReadContents {
			r.updates = nil
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.docs == nil || len(c.docs) >= maxProvenSignatures {
		c.docs = map[[32]byte]*readDocument{}
	}
	c.docs[[32]byte(d.sum)] = &r
}

// provenCMS is a CMS read from a signature's /Contents whose signer's
// signature over its signed attributes verified with cert. Neither is
// changed once remembered.
type provenCMS struct {
	c    *cms
	cert *x509.Certificate
}

// provenToken is a time-stamp token read and whose signature verified
// with its signer's certificate, tsa. Neither is changed once remembered.
type provenToken struct {
	ts  *timestamp.Timestamp
	tsa *x509.Certificate
}

// Bounds of the remembered signatures: how many, and the largest DER
// remembered (a reply's CMS is some 8 KB, with its CRLs; a token 3 KB), so
// they hold at most a few MB however many documents are checked.
const (
	maxProvenSignatures = 256
	maxProvenDER        = 32 << 10
)

// readAs reads der with parse through c.readDER: a certificate or a CRL
// of a document security store, or the one read before from the same DER.
func readAs[T any](c *proofs, der []byte, parse func([]byte) (T, error)) (T, error) {
	var zero T
	v, err := c.readDER(der, func(b []byte) (any, error) { return parse(b) })
	if err != nil {
		return zero, err
	}
	t, ok := v.(T)
	if !ok {
		return zero, errors.New("the same DER was read as something else")
	}
	return t, nil
}

// readDER reads der with read, from a copy (nothing the verifier keeps
// may hold the document's memory, which the caller reuses or unmaps once
// the verification ends), remembering what it read by der's SHA-256. What
// was read is never changed: the verifier only reads it.
func (c *proofs) readDER(der []byte, read func([]byte) (any, error)) (any, error) {
	if c == nil || len(der) > maxProvenDER {
		// From a copy too: a certificate read here may end up in a remembered chain,
		// and the document's memory is reused or unmapped once it is verified.
		return read(bytes.Clone(der))
	}
	k := sha256.Sum256(der)
	c.mu.Lock()
	v, ok := c.read[k]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := read(bytes.Clone(der))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.read == nil || len(c.read) >= maxProvenSignatures {
		c.read = map[[32]byte]any{}
	}
	c.read[k] = v
	return v, nil
}

// provenCMS returns the CMS of der if its signature was proven.
func (c *proofs) provenCMS(der []byte) (provenCMS, bool) {
	if c == nil || len(der) > maxProvenDER {
		return provenCMS{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.cms[sha256.Sum256(der)]
	return p, ok
}

// addCMS remembers that the signature of the CMS read from der verified.
func (c *proofs) addCMS(der []byte, p provenCMS) {
	if c == nil || len(der) > maxProvenDER {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cms == nil || len(c.cms) >= maxProvenSignatures {
		c.cms = map[[32]byte]provenCMS{}
	}
	c.cms[sha256.Sum256(der)] = p
}

// provenToken returns the token der if its signature was proven.
func (c *proofs) provenToken(der []byte) (provenToken, bool) {
	if len(der) > maxProvenDER {
		return provenToken{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.tokens[sha256.Sum256(der)]
	return p, ok
}

// addToken remembers that the token der was read and its signature verified.
func (c *proofs) addToken(der []byte, p provenToken) {
	if len(der) > maxProvenDER {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tokens == nil || len(c.tokens) >= maxProvenSignatures {
		c.tokens = map[[32]byte]provenToken{}
	}
	c.tokens[sha256.Sum256(der)] = p
}

// chainKey names a proven chain: its leaf and what the leaf was proven for.
type chainKey struct {
	leaf [32]byte
	tsa  bool // chained for time-stamping (else for signing documents)
}

const maxProofs = 4096

func (c *proofs) chain(leaf *x509.Certificate, tsa bool) []*x509.Certificate {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.chains[chainKey{sha256.Sum256(leaf.Raw), tsa}]
}

func (c *proofs) addChain(chain []*x509.Certificate, tsa bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.chains == nil || len(c.chains) >= maxProofs {
		c.chains = map[chainKey][]*x509.Certificate{}
	}
	c.chains[chainKey{sha256.Sum256(chain[0].Raw), tsa}] = chain
}

func (c *proofs) crlSigned(crl *x509.RevocationList, issuer *x509.Certificate) bool {
	k := crlKey(crl, issuer)
	c.mu.Lock()
	ok := c.crls[k]
	c.mu.Unlock()
	if ok {
		return true
	}
	if crl.CheckSignatureFrom(issuer) != nil {
		return false
	}
	c.mu.Lock()
	if c.crls == nil || len(c.crls) >= maxProofs {
		c.crls = map[[64]byte]bool{}
	}
	c.crls[k] = true
	c.mu.Unlock()
	return true
}

func crlKey(crl *x509.RevocationList, issuer *x509.Certificate) (k [64]byte) {
	a, b := sha256.Sum256(crl.Raw), sha256.Sum256(issuer.Raw)
	copy(k[:32], a[:])
	copy(k[32:], b[:])
	return k
}

// validAt reports whether every certificate of chain is within its validity
// period at t, and if not, the first one that is not.
func validAt(chain []*x509.Certificate, t time.Time) *x509.Certificate {
	for _, c := range chain {
		if t.Before(c.NotBefore) || t.After(c.NotAfter) {
			return c
		}
	}
	return nil
}

// splitAnchors reads PEM certificates: self-signed CA certificates are
// roots, other CA certificates configured intermediates; anything else is
// refused.
func splitAnchors(pemData ...[]byte) (roots, inter []*x509.Certificate, err error) {
	for _, data := range pemData {
		for len(data) > 0 {
			var blk *pem.Block
			blk, data = pem.Decode(data)
			if blk == nil {
				break
			}
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("trust anchor: %w", err)
			}
			if !c.IsCA {
				return nil, nil, fmt.Errorf("trust anchor %q is not a CA certificate", c.Subject.CommonName)
			}
			if bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil {
				roots = append(roots, c)
			} else {
				inter = append(inter, c)
			}
		}
	}
	if len(roots) == 0 {
		return nil, nil, errors.New("no root certificate among the trust anchors")
	}
	return roots, inter, nil
}

// Verify checks doc and returns the report. It never panics, and it does
// all its work in the calling goroutine, checking ctx and the Verifier's
// time limit as it goes: when it returns, the work for doc has stopped. A
// verification cut short by the limit (or by ctx) answers INDETERMINATE /
// TIME_LIMIT_EXCEEDED, whatever it had found until then.
func (v *Verifier) Verify(ctx context.Context, doc []byte) (rep *Report) {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	timeout := v.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	base := Report{Size: len(doc), VerifiedAt: now().UTC(), Signatures: []Signature{}, Checks: []Check{}}
	defer func() {
		if p := recover(); p != nil {
			r := base
			r.Checks = append(r.Checks, Check{"parse", Failed, "the document could not be parsed"})
			r.Indication, r.SubIndication = TotalFailed, FormatFailure
			// The panic's value may echo attacker bytes: it is not reported.
			rep = &r
		}
		if ctx.Err() != nil {
			r := base
			r.Checks = append(r.Checks, Check{"time_limit", Failed,
				fmt.Sprintf("the verification was stopped after %s, before it could reach a conclusion", timeout)})
			r.Indication, r.SubIndication = Indeterminate, TimeLimitExceeded
			rep = &r
		}
		rep.bound()
		rep.summarize()
	}()
	dh, err := hashDocument(ctx, doc)
	if err != nil {
		return &base
	}
	base.SHA256 = hex.EncodeToString(dh.sum)
	r := base
	v.verify(withDocHash(ctx, dh), doc, &r, now())
	return &r
}

// DefaultTimeout is a verification's time limit when the Verifier sets none.
const DefaultTimeout = 10 * time.Second

// hashChunk is how many bytes are hashed between two checks of the context.
const hashChunk = 1 << 20

// hashInto writes data into h chunk by chunk, checking ctx between chunks.
func hashInto(ctx context.Context, h hash.Hash, data []byte) error {
	for len(data) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(len(data), hashChunk)
		h.Write(data[:n])
		data = data[n:]
	}
	return nil
}

// signatures finds doc's signature dictionaries, or returns those found
// before in the same bytes.
func (v *Verifier) signatures(ctx context.Context, doc []byte) ([]sigDict, error) {
	if known, ok := v.cache.documentRead(ctx); ok {
		return known.sigs, nil
	}
	sigs, err := findSignatures(ctx, doc)
	if err == nil && ctx.Err() == nil { // a dictionary cut short by the time limit is not what the bytes say
		v.cache.addDocumentRead(ctx, readDocument{sigs: sigs})
	}
	return sigs, err
}

func (v *Verifier) verify(ctx context.Context, doc []byte, r *Report, now time.Time) {
	fail := func(name, detail string) {
		r.Checks = append(r.Checks, Check{name, Failed, detail})
		r.Indication, r.SubIndication = TotalFailed, FormatFailure
	}
	if len(doc) == 0 {
		fail("format", "the file is empty")
		return
	}
	if len(doc) > MaxSize {
		fail("format", fmt.Sprintf("the file is larger than %d bytes", MaxSize))
		return
	}
	head := doc[:min(len(doc), 1024)]
	if !bytes.Contains(head, []byte("%PDF-")) {
		fail("format", "not a PDF file (no %PDF- header)")
		return
	}
	tail := doc[max(0, len(doc)-1024):]
	if !bytes.Contains(tail, []byte("%%EOF")) {
		fail("format", "the file is truncated (no %%EOF at its end)")
		return
	}
	r.Checks = append(r.Checks, Check{"format", Passed, "PDF header and end-of-file marker present"})

	sigs, err := v.signatures(ctx, doc)
	if errors.Is(err, errTooManySignatures) {
		fail("signatures", "too many signatures: a reply has one, and at most "+strconv.Itoa(MaxSignatures)+" are examined")
		return
	}
	if errors.Is(err, errOverlap) {
		fail("signatures", "one signature dictionary starts inside another")
		return
	}
	if err != nil {
		return // the time limit: Verify says so
	}
	if len(sigs) == 0 {
		r.Checks = append(r.Checks, Check{"signatures", Failed, "the document has no signature"})
		r.Indication, r.SubIndication = TotalFailed, SignedDataNotFound
		return
	}
	r.Checks = append(r.Checks, Check{"signatures", Passed, fmt.Sprintf("%d signature(s) found", len(sigs))})
	n, ev, f := v.evidence(ctx, doc, sigs, now)
	if f != nil {
		fail(f.name, f.detail)
		return
	}
	for i, sd := range sigs[:n] {
		if ctx.Err() != nil {
			return
		}
		r.Signatures = append(r.Signatures, v.signature(ctx, doc, i+1, sd, now, ev))
	}
	r.Signatures = append(r.Signatures, ev.stamps...)
	// The last signature (in file order) must cover everything: bytes after it are an unsigned change.
	// After the last approval signature, only validation data under document time-stamps may follow.
	last, signed := &r.Signatures[len(r.Signatures)-1], &r.Signatures[n-1]
	switch {
	case ev.updatesErr != nil && signed.Indication != TotalFailed: // a signature that failed on its own keeps its reason
		signed.Checks = append(signed.Checks, Check{"modification_after_signing", Failed,
			"bytes were added after the signed revision that are not validation data under a document time-stamp (" + ev.updatesErr.Error() + "): the document was changed after signing"})
		signed.Indication, signed.SubIndication = TotalFailed, SigConstraintsFailure
	case !last.CoversWholeFile && last.SubIndication != FormatFailure:
		last.Checks = append(last.Checks, Check{"modification_after_signing", Failed,
			"bytes were added after the signed revision (an incremental update): the document was changed after signing"})
		last.Indication, last.SubIndication = TotalFailed, SigConstraintsFailure
	}
	r.Indication, r.SubIndication = TotalPassed, ""
	for _, s := range r.Signatures {
		if rank(s.Indication) > rank(r.Indication) {
			r.Indication, r.SubIndication = s.Indication, s.SubIndication
		}
	}
	if signed.binding != "" {
		r.Binding = signed.binding
		v.matchRegister(ctx, r, ev)
	}
}

// matchRegister looks the document up in the register of issued replies
// by its binding, and makes the register part of the verdict: only a
// document the system issued passes. Without a register (pakn verify
// offline), a document time-stamp of a trusted authority under the
// issuance policy attests that the system issued the document.
func (v *Verifier) matchRegister(ctx context.Context, r *Report, ev *evidence) {
	if v.FindIssued == nil {
		if len(v.IssuancePolicy) > 0 && ev.poe != nil && ev.policy.Equal(v.IssuancePolicy) {
			r.Checks = append(r.Checks, Check{"register", Passed, "not consulted (offline); the system's time-stamping authority stamped the document at its issuance, " +
				ev.poe.Format(time.RFC3339)})
			return
		}
		r.Checks = append(r.Checks, Check{"register", Skipped, "the register of issued replies was not consulted: whether the system issued this document is not known"})
		r.lower(Indeterminate, RegisterNotConsulted)
		return
	}
	reg, err := v.FindIssued(ctx, r.Binding, r.SHA256)
	switch {
	case err != nil:
		r.Checks = append(r.Checks, Check{"register", Failed, registerDown})
		r.lower(Indeterminate, TryLater)
	case reg == nil:
		r.Register = &Match{Found: false}
		r.Checks = append(r.Checks, Check{"register", Failed, "no document the system issued bears this signature: the system did not issue this file"})
		r.lower(TotalFailed, NotInRegister)
	default:
		reg.Found = true
		r.Register = reg
		res, detail := Passed, "issued reply "+reg.Number+" ("+reg.Status+")"
		if reg.Status == "superseded" {
			res, detail = Warning, "issued reply "+reg.Number+", superseded by a correction"
		}
		r.Checks = append(r.Checks, Check{"register", res, detail})
	}
}

// RegisterUnavailable says that the document's signature is valid and the
// verdict is INDETERMINATE / TRY_LATER because the register of issued
// replies could not be searched.
func (r *Report) RegisterUnavailable() bool {
	return r.SubIndication == TryLater && slices.Contains(r.Checks, Check{"register", Failed, registerDown})
}

const registerDown = "the register of issued replies could not be searched"

// lower gives a report that passed so far the indication ind and
// sub-indication sub: a document that failed on its own keeps its own
// reason, whatever the register says.
func (r *Report) lower(ind, sub string) {
	if r.Indication == TotalPassed {
		r.Indication, r.SubIndication = ind, sub
	}
}

func rank(ind string) int {
	switch ind {
	case TotalFailed:
		return 2
	case Indeterminate:
		return 1
	}
	return 0
}

// failure is the check a signature failed and the indication it gives.
type failure struct{ ind, sub, name, detail string }

// pass records a passed check.
func (s *Signature) pass(name, detail string) {
	s.Checks = append(s.Checks, Check{name, Passed, detail})
}

// fail records the failed check f and its indication, and returns the
// signature's result.
func (s *Signature) fail(f *failure) Signature {
	s.Checks = append(s.Checks, Check{f.name, Failed, f.detail})
	s.Indication, s.SubIndication = f.ind, f.sub
	return *s
}

// signature checks one approval signature, with the evidence the
// document holds beyond it (document time-stamps, validation data).
func (v *Verifier) signature(ctx context.Context, doc []byte, idx int, sd sigDict, now time.Time, ev *evidence) Signature {
	s := Signature{Index: idx, ByteRange: sd.ByteRange, SubFilter: sd.SubFilter, ValidationTime: now.UTC(), Checks: []Check{}}
	if sd.Err != nil {
		return s.fail(&failure{TotalFailed, FormatFailure, "signature_dictionary", sd.Err.Error()})
	}
	s.pass("signature_dictionary", "readable")
	if f := checkByteRange(&s, sd, int64(len(doc))); f != nil {
		return s.fail(f)
	}
	if sd.SubFilter != "adbe.pkcs7.detached" && sd.SubFilter != "ETSI.CAdES.detached" {
		return s.fail(&failure{TotalFailed, FormatFailure, "sub_filter", fmt.Sprintf("/SubFilter %q is not a detached CMS signature", sd.SubFilter)})
	}
	c, cert, f := checkSignedData(ctx, &s, doc, sd, &v.cache)
	if f != nil {
		return s.fail(f)
	}
	if cert == nil {
		return s // the time limit: Verify says so
	}
	var err error
	if s.binding, err = bindingOf(c, cert); err != nil {
		return s.fail(&failure{TotalFailed, FormatFailure, "binding", err.Error()})
	}
	vt, proven := v.validationTime(ctx, &s, c, now, ev)
	chain, f := v.checkChain(&s, cert, c, vt, ev.data.certs)
	if f != nil {
		return s.fail(f)
	}
	if f := v.checkRevocation(ctx, &s, cert, chain, vt, proven, append(slices.Clip(c.crls), ev.data.crls...)); f != nil {
		return s.fail(f)
	}
	s.Indication = TotalPassed
	return s
}

// checkByteRange checks /ByteRange: [0 a b c], a gap exactly over
// /Contents, within the file.
func checkByteRange(s *Signature, sd sigDict, size int64) *failure {
	br := sd.ByteRange
	bad := func(detail string) *failure { return &failure{TotalFailed, FormatFailure, "byte_range", detail} }
	switch {
	case len(br) != 4:
		return bad(fmt.Sprintf("%d values; four are required", len(br)))
	case slices.ContainsFunc(br, func(x int64) bool { return x < 0 }):
		return bad("negative values")
	case br[0] != 0:
		return bad("does not start at the beginning of the file")
	case br[1] > size || br[2] > size || br[3] > size-br[2]:
		return bad("reaches past the end of the file")
	case br[1] >= br[2]:
		return bad("the two ranges overlap or touch")
	case br[1] != sd.ContentsStart || br[2] != sd.ContentsEnd:
		return bad("the gap between the ranges is not exactly the signature's /Contents")
	}
	s.CoversWholeFile = br[2]+br[3] == size
	detail := "covers the whole file except the signature value"
	if !s.CoversWholeFile {
		detail = fmt.Sprintf("covers bytes up to %d of %d", br[2]+br[3], size)
	}
	s.pass("byte_range", detail)
	return nil
}

// checkSignedData reads the CMS, checks its message digest over the signed
// ranges and its signature value, and returns it with the signer's
// certificate (nil, and no failure, when the time limit cut the hashing).
func checkSignedData(ctx context.Context, s *Signature, doc []byte, sd sigDict, known *proofs) (*cms, *x509.Certificate, *failure) {
	proven, ok := known.provenCMS(sd.Contents)
	c := proven.c
	if !ok {
		var err error
		if c, err = parseCMS(sd.Contents); err != nil {
			return nil, nil, &failure{TotalFailed, FormatFailure, "cms", err.Error()}
		}
	}
	s.pass("cms", "SignedData with one signer, detached")
	if !c.signingTime.IsZero() {
		t := c.signingTime.UTC()
		s.ClaimedTime = &t
	}
	br := sd.ByteRange
	sum, err := hashRanges(ctx, c.digest, doc[br[0]:br[0]+br[1]], doc[br[2]:br[2]+br[3]])
	if err != nil {
		return c, nil, nil
	}
	if !bytes.Equal(sum, c.messageDigest) {
		return nil, nil, &failure{TotalFailed, HashFailure, "message_digest", "the signed bytes do not match the signature's message digest: the document was altered"}
	}
	s.pass("message_digest", c.digest.String()+" of the signed ranges matches")
	if ok {
		s.Signer = describe(proven.cert)
		s.pass("signature_value", "verifies with the signer's certificate")
		return c, proven.cert, nil
	}
	cert, err := c.signerCert()
	if err != nil {
		return nil, nil, &failure{Indeterminate, NoSigningCertificate, "signer_certificate", err.Error()}
	}
	s.Signer = describe(cert)
	if err := c.checkSignature(cert); err != nil {
		return nil, nil, &failure{TotalFailed, SigCryptoFailure, "signature_value", err.Error()}
	}
	s.pass("signature_value", "verifies with the signer's certificate")
	known.addCMS(sd.Contents, provenCMS{c, cert})
	return c, cert, nil
}

// validationTime is the time the certificate is checked at, and whether
// a trusted time proves it: the signature time-stamp's; else the earliest
// document time-stamp's (it proves the signature existed then too); else
// now.
func (v *Verifier) validationTime(ctx context.Context, s *Signature, c *cms, now time.Time, ev *evidence) (time.Time, bool) {
	vt, proven := now, false
	switch {
	case c.timestamp != nil:
		ts, tsa, f := v.checkToken(ctx, c.timestamp, c.certs, c.signer.Signature)
		if f != nil || ts == nil {
			detail := "time-stamp token unreadable"
			if f != nil {
				detail = f.detail
			}
			if ev.poe != nil {
				s.Checks = append(s.Checks, Check{"timestamp", Warning, detail + "; a document time-stamp proves the signature existed at " + ev.poe.Format(time.RFC3339)})
				vt, proven = *ev.poe, true
				break
			}
			s.Checks = append(s.Checks, Check{"timestamp", Warning, detail + "; the certificate is checked at the current time"})
			break
		}
		tu := ts.Time.UTC()
		s.TimestampTime, vt, proven = &tu, tu, true
		s.pass("timestamp", "time-stamped at "+tu.Format(time.RFC3339)+" by "+tsa.Subject.CommonName)
	case ev.poe != nil:
		s.pass("timestamp", "no signature time-stamp; a document time-stamp proves the signature existed at "+ev.poe.Format(time.RFC3339))
		vt, proven = *ev.poe, true
	default:
		s.Checks = append(s.Checks, Check{"timestamp", Skipped, "no time-stamp; the certificate is checked at the current time"})
	}
	s.ValidationTime = vt.UTC()
	return vt, proven
}

// checkChain checks that the signer's own certificate chains to a
// configured anchor at vt and fits document signing, and returns the chain.
func (v *Verifier) checkChain(s *Signature, cert *x509.Certificate, c *cms, vt time.Time, stored []*x509.Certificate) ([]*x509.Certificate, *failure) {
	var chains [][]*x509.Certificate
	var err error
	if known := v.cache.chain(cert, false); known != nil && validAt(known, vt) == nil {
		chains = [][]*x509.Certificate{known}
	} else {
		chains, err = cert.Verify(x509.VerifyOptions{Roots: v.Roots, Intermediates: v.intermediates(cert, c.certs, stored), CurrentTime: vt,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		if err == nil {
			v.cache.addChain(chains[0], false)
		}
	}
	if err != nil {
		var inv x509.CertificateInvalidError
		if errors.As(err, &inv) && inv.Reason == x509.Expired {
			if vt.Before(cert.NotBefore) {
				return nil, &failure{Indeterminate, NotYetValid, "certificate_validity", "the signer's certificate was not yet valid at " + vt.UTC().Format(time.RFC3339)}
			}
			return nil, &failure{Indeterminate, OutOfBoundsNoPOE, "certificate_validity",
				"the signer's certificate was not valid at " + vt.UTC().Format(time.RFC3339) + " and no trusted time-stamp proves an earlier signing time"}
		}
		return nil, &failure{Indeterminate, NoCertificateChain, "certificate_chain", "the signer's certificate does not chain to a configured trust anchor"}
	}
	s.pass("certificate_chain", "chains to "+chains[0][len(chains[0])-1].Subject.CommonName)
	s.pass("certificate_validity", "valid at "+vt.UTC().Format(time.RFC3339))
	if err := usageFits(cert); err != nil {
		return nil, &failure{TotalFailed, ChainConstraintsFailure, "key_usage", err.Error()}
	}
	s.pass("key_usage", "fits document signing")
	return chains[0], nil
}

// checkRevocation checks the signer's certificate at vt against its
// issuing CA's CRLs: the one the CA publishes now (when a source is
// configured and answers) and those the document embeds (signed by the CA:
// checked like any other). Revoked at or before vt fails; revoked after a
// proven vt passes with a warning; not revoked passes when a list covers
// vt (issued at or after it, or current at it); else the answer waits.
func (v *Verifier) checkRevocation(ctx context.Context, s *Signature, cert *x509.Certificate, chain []*x509.Certificate, vt time.Time,
	proven bool, embedded []*x509.RevocationList) *failure {
	later := func(detail string) *failure { return &failure{Indeterminate, TryLater, "revocation", detail} }
	if len(chain) < 2 {
		return &failure{Indeterminate, NoCertificateChain, "certificate_chain", "the signer's certificate is itself a trust anchor, not a signer's certificate"}
	}
	issuer := chain[1]
	type list struct {
		crl    *x509.RevocationList
		source string
	}
	var lists []list
	// Only the signer's own issuing CA's lists count, wherever they come from.
	add := func(crls []*x509.RevocationList, source string) {
		for _, crl := range crls {
			if bytes.Equal(crl.RawIssuer, issuer.RawSubject) && v.cache.crlSigned(crl, issuer) {
				lists = append(lists, list{crl, source})
			}
		}
	}
	if v.CRL != nil {
		if crls, err := v.CRL.CRLs(ctx); err == nil {
			add(crls, "published by the CA")
		}
	}
	add(embedded, "embedded in the document")
	if len(lists) == 0 {
		if v.CRL == nil {
			return later("no revocation list of the signer's issuing CA: none is configured and the document embeds none")
		}
		return later("the issuing CA's revocation list is unavailable and the document embeds none; try again later")
	}
	var covering *list
	for i, l := range lists {
		for _, e := range l.crl.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(cert.SerialNumber) != 0 {
				continue
			}
			if !e.RevocationTime.After(vt) || !proven {
				return &failure{TotalFailed, Revoked, "revocation", "the signer's certificate was revoked on " + e.RevocationTime.UTC().Format(time.RFC3339) + ", before the signing time"}
			}
			s.Checks = append(s.Checks, Check{"revocation", Warning, "revoked on " + e.RevocationTime.UTC().Format(time.RFC3339) +
				", after the time-stamped signing time " + vt.UTC().Format(time.RFC3339) + " (revocation list " + l.source + ")"})
			return nil
		}
		if !l.crl.ThisUpdate.Before(vt) || l.crl.NextUpdate.IsZero() || !vt.After(l.crl.NextUpdate) {
			if covering == nil || l.crl.ThisUpdate.After(covering.crl.ThisUpdate) {
				covering = &lists[i]
			}
		}
	}
	if covering == nil {
		return later("no revocation list of the issuing CA covers " + vt.UTC().Format(time.RFC3339) + "; try again later")
	}
	s.pass("revocation", "not revoked at "+vt.UTC().Format(time.RFC3339)+" (revocation list of "+covering.crl.ThisUpdate.UTC().Format(time.RFC3339)+", "+covering.source+")")
	return nil
}

// intermediates is the pool to build leaf's path with: the configured
// intermediates and the CA certificates the document carries, which may
// help build a path but are never anchors.
func (v *Verifier) intermediates(leaf *x509.Certificate, carried ...[]*x509.Certificate) *x509.CertPool {
	pool := x509.NewCertPool()
	for _, c := range v.Intermediates {
		pool.AddCert(c)
	}
	for _, certs := range carried {
		for _, c := range certs {
			if c != leaf && c.IsCA {
				pool.AddCert(c)
			}
		}
	}
	return pool
}

// usageFits checks key usage and extended key usage for document signing:
// digitalSignature or nonRepudiation; no EKU, emailProtection, or
// documentSigning (1.3.6.1.5.5.7.3.36), or anyExtendedKeyUsage.
func usageFits(c *x509.Certificate) error {
	if c.KeyUsage != 0 && c.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return errors.New("the key usage allows neither digitalSignature nor nonRepudiation")
	}
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return nil
	}
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageEmailProtection || u == x509.ExtKeyUsageAny {
			return nil
		}
	}
	for _, u := range c.UnknownExtKeyUsage {
		if u.Equal(oidDocumentSigning) {
			return nil
		}
	}
	return errors.New("the extended key usage is not for document signing")
}

// checkToken checks an RFC 3161 time-stamp token: its signature, that its
// imprint is the hash of data's parts, and that its authority's
// certificate chains to the anchors for time-stamping at the token's time
// (carried certificates may help build the path). It returns the token and
// the authority's certificate, or the failure; nil and no failure when the
// time limit cut the hashing.
func (v *Verifier) checkToken(ctx context.Context, token []byte, carried []*x509.Certificate, data ...[]byte) (*timestamp.Timestamp, *x509.Certificate, *failure) {
	bad := func(sub, detail string) *failure {
		ind := TotalFailed
		if sub == NoCertificateChain {
			ind = Indeterminate
		}
		return &failure{ind, sub, "timestamp", detail}
	}
	proven, ok := v.cache.provenToken(token)
	if !ok {
		var f *failure
		if proven, f = readToken(token); f != nil {
			return nil, nil, bad(f.sub, f.detail)
		}
		v.cache.addToken(token, proven)
	}
	ts, tsa := proven.ts, proven.tsa
	sum, err := hashRanges(ctx, ts.HashAlgorithm, data...)
	if err != nil {
		return nil, nil, nil
	}
	if !bytes.Equal(sum, ts.HashedMessage) {
		return nil, nil, bad(HashFailure, "time-stamp token is for other data")
	}
	if known := v.cache.chain(tsa, true); known == nil || validAt(known, ts.Time) != nil {
		chains, err := tsa.Verify(x509.VerifyOptions{Roots: v.Roots, Intermediates: v.intermediates(tsa, ts.Certificates, carried), CurrentTime: ts.Time,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}})
		if err != nil {
			return nil, nil, bad(NoCertificateChain, "time-stamping authority not trusted")
		}
		v.cache.addChain(chains[0], true)
	}
	return ts, tsa, nil
}

// readToken reads a time-stamp token and verifies its signature with the
// certificate of its single signer, which it must carry (the failure's
// indication is the caller's to give). timestamp.Parse verifies the
// signature itself when the token carries certificates, so a token that
// does is verified once; only a token it refuses is verified again, to
// tell a bad signature from an unreadable token.
func readToken(token []byte) (provenToken, *failure) {
	bad := func(sub, detail string) (provenToken, *failure) {
		return provenToken{}, &failure{sub: sub, detail: detail}
	}
	p7, err := pkcs7.Parse(token)
	if err != nil || len(p7.Certificates) == 0 || len(p7.Certificates) > maxCertificates {
		return bad(FormatFailure, "time-stamp token unreadable or without its certificate")
	}
	for _, cert := range p7.Certificates {
		if err := certAcceptable(cert); err != nil {
			return bad(FormatFailure, "time-stamp token: "+err.Error())
		}
	}
	ts, err := timestamp.Parse(token)
	if err != nil {
		if p7.Verify() != nil {
			return bad(SigCryptoFailure, "time-stamp token signature does not verify")
		}
		return bad(FormatFailure, "time-stamp token unreadable")
	}
	if !ts.HashAlgorithm.Available() {
		return bad(FormatFailure, "time-stamp token unreadable")
	}
	tsa := p7.GetOnlySigner()
	if tsa == nil {
		return bad(FormatFailure, "time-stamp token has no single signer")
	}
	return provenToken{ts, tsa}, nil
}

func describe(c *x509.Certificate) *Certificate {
	sum := sha256.Sum256(c.Raw)
	d := &Certificate{Subject: c.Subject.String(), CommonName: c.Subject.CommonName, Issuer: c.Issuer.String(),
		Serial: reply.SerialHex(c), NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(), KeyAlgorithm: keyAlgorithm(c),
		SHA256: hex.EncodeToString(sum[:])}
	if len(c.Subject.Organization) > 0 {
		d.Organization = c.Subject.Organization[0]
	}
	return d
}

func keyAlgorithm(c *x509.Certificate) string {
	switch c.PublicKeyAlgorithm {
	case x509.ECDSA:
		return "ECDSA"
	case x509.RSA:
		return "RSA"
	}
	return c.PublicKeyAlgorithm.String()
}
