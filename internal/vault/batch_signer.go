package vault

import (
	"crypto"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// BatchSigner is a crypto.Signer for one version of an ECDSA Transit key
// that signs the digests of concurrent calls together, in one Vault
// request (Transit's batch_input), like a group commit: a call made while
// a request is in flight waits for it to end and goes in the next one,
// with every call that came meanwhile (at most maxBatch). Alone, a call is
// one request, as with TransitSigner; under load, pakn's time-stamping
// authority makes one Vault request for many tokens. Each signature is
// checked with the certificate until the pair is proven, as TransitSigner
// does.
type BatchSigner struct {
	*TransitSigner
	mu      sync.Mutex
	pending []*batchCall
	busy    bool
	batches int64 // requests sent, for tests and benchmarks
}

// maxBatch bounds the digests of one request.
const maxBatch = 64

type batchCall struct {
	digest []byte
	sig    []byte
	err    error
	done   chan struct{}
}

// NewBatchSigner wraps s, whose key must be ECDSA.
func NewBatchSigner(s *TransitSigner) (*BatchSigner, error) {
	if _, ok := s.cert.PublicKey.(*ecdsa.PublicKey); !ok {
		return nil, errors.New("batch signer: ECDSA keys only")
	}
	return &BatchSigner{TransitSigner: s}, nil
}

// Sign signs a SHA-256 digest, with the digests of the calls made
// meanwhile, in one Vault request.
func (b *BatchSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts.HashFunc() != crypto.SHA256 || len(digest) != crypto.SHA256.Size() {
		return nil, fmt.Errorf("batch signer: SHA-256 digests only, not %v", opts.HashFunc())
	}
	c := &batchCall{digest: digest, done: make(chan struct{})}
	b.mu.Lock()
	b.pending = append(b.pending, c)
	if b.busy {
		b.mu.Unlock()
		<-c.done
		return c.sig, c.err
	}
	b.busy = true
	for {
		n := min(len(b.pending), maxBatch)
		batch := b.pending[:n:n]
		b.pending = b.pending[n:]
		b.mu.Unlock()
		b.signBatch(batch)
		b.mu.Lock()
		if len(b.pending) == 0 {
			b.busy = false
			b.mu.Unlock()
			break
		}
	}
	<-c.done
	return c.sig, c.err
}

// Batches returns how many Vault requests the signer sent.
func (b *BatchSigner) Batches() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.batches
}

// signBatch signs the calls' digests in one request and ends the calls.
func (b *BatchSigner) signBatch(batch []*batchCall) {
	fail := func(err error) {
		for _, c := range batch {
			c.err = err
			close(c.done)
		}
	}
	req := batchRequest{Prehashed: true, HashAlgorithm: "sha2-256", KeyVersion: b.version, MarshalingAlgorithm: "asn1"}
	for _, c := range batch {
		req.BatchInput = append(req.BatchInput, batchItem{base64.StdEncoding.EncodeToString(c.digest)})
	}
	b.mu.Lock()
	b.batches++
	b.mu.Unlock()
	b.calls.Add(1)
	body, err := json.Marshal(req)
	if err != nil {
		fail(err)
		return
	}
	raw, err := b.postJSON(body, 64<<10+len(batch)*256)
	if err != nil {
		fail(err)
		return
	}
	var out struct {
		Data struct {
			BatchResults []struct {
				Signature string `json:"signature"`
				Error     string `json:"error"`
			} `json:"batch_results"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Data.BatchResults) != len(batch) {
		fail(fmt.Errorf("batch signer: %d results for %d digests (%v)", len(out.Data.BatchResults), len(batch), err))
		return
	}
	for i, c := range batch {
		r := out.Data.BatchResults[i]
		switch {
		case r.Error != "":
			c.err = fmt.Errorf("batch signer: %s", r.Error)
		default:
			c.sig, c.err = parseSignature(r.Signature, b.version)
			if c.err == nil {
				if c.err = b.prove(crypto.SHA256, c.digest, c.sig); c.err != nil {
					c.sig = nil
				}
			}
		}
		close(c.done)
	}
}

// batchRequest is the body of transit/sign/:name with batch_input.
type batchRequest struct {
	BatchInput          []batchItem `json:"batch_input"`
	Prehashed           bool        `json:"prehashed"`
	HashAlgorithm       string      `json:"hash_algorithm"`
	KeyVersion          int         `json:"key_version"`
	MarshalingAlgorithm string      `json:"marshaling_algorithm"`
}

type batchItem struct {
	Input string `json:"input"`
}
