package vault

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"pakn/internal/store"
)

// EnvelopeBox encrypts with data keys under a Transit key (envelope
// encryption, Vault's pattern for high-volume data): Transit generates an
// AES-256 data key and returns it in clear and wrapped by the Transit key;
// paknd encrypts locally with AES-256-GCM, binding each ciphertext to its
// owner as additional data, and stores only the wrapped data key beside it.
// Reading asks Transit to unwrap the data key (cached in memory). Data keys
// are replaced every KeyLifetime or KeyUses seals; the Transit key never
// leaves Vault. Format: pakn:env1:<wrapped key>:<nonce and ciphertext>,
// both base64url.
type EnvelopeBox struct {
	c   *Client
	key string
	// KeyLifetime and KeyUses bound how long and how often one data key seals.
	KeyLifetime time.Duration
	KeyUses     int

	mu    sync.Mutex
	cur   *dataKey
	cache map[string]cipher.AEAD // wrapped data key -> cipher, for reading
	order []string
}

type dataKey struct {
	wrapped string
	aead    cipher.AEAD
	born    time.Time
	uses    int
}

const envelopePrefix = store.SealedTextPrefix

// maxCachedKeys bounds the unwrapped data keys kept for reading.
const maxCachedKeys = 256

// NewEnvelopeBox returns a box using data keys of the named Transit key.
func NewEnvelopeBox(c *Client, key string) *EnvelopeBox {
	return &EnvelopeBox{c: c, key: key, KeyLifetime: 10 * time.Minute, KeyUses: 100000, cache: map[string]cipher.AEAD{}}
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, errors.New("data key is not 256 bits")
	}
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(blk)
}

// current returns a data key for sealing, asking Transit for a new one when
// there is none or it is used up.
func (b *EnvelopeBox) current(ctx context.Context) (*dataKey, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if k := b.cur; k != nil && time.Since(k.born) < b.KeyLifetime && k.uses < b.KeyUses {
		k.uses++
		return k, nil
	}
	ctx, cancel := context.WithTimeout(ctx, b.c.cfg.Timeout)
	defer cancel()
	s, err := b.c.api.Logical().WriteWithContext(ctx, TransitMount+"/datakey/plaintext/"+b.key, map[string]any{"bits": 256})
	if err != nil {
		return nil, transitError("vault data key", err)
	}
	pt, _ := s.Data["plaintext"].(string)
	wrapped, _ := s.Data["ciphertext"].(string)
	raw, err := base64.StdEncoding.DecodeString(pt)
	if err != nil || !strings.HasPrefix(wrapped, "vault:v") {
		return nil, errors.New("vault data key: malformed answer")
	}
	aead, err := newAEAD(raw)
	clear(raw)
	if err != nil {
		return nil, err
	}
	b.cur = &dataKey{wrapped: wrapped, aead: aead, born: time.Now(), uses: 1}
	b.remember(wrapped, aead)
	return b.cur, nil
}

// remember caches an unwrapped data key; the caller holds b.mu.
func (b *EnvelopeBox) remember(wrapped string, aead cipher.AEAD) {
	if _, ok := b.cache[wrapped]; ok {
		return
	}
	if len(b.order) >= maxCachedKeys {
		delete(b.cache, b.order[0])
		b.order = b.order[1:]
	}
	b.cache[wrapped] = aead
	b.order = append(b.order, wrapped)
}

// Seal encrypts plaintext bound to owner.
func (b *EnvelopeBox) Seal(ctx context.Context, owner string, plaintext []byte) (string, error) {
	k, err := b.current(ctx)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	ct := k.aead.Seal(nonce, nonce, plaintext, []byte(owner))
	return envelopePrefix + base64.RawURLEncoding.EncodeToString([]byte(k.wrapped)) + ":" + base64.RawURLEncoding.EncodeToString(ct), nil
}

// Open decrypts a ciphertext made by Seal for the same owner.
func (b *EnvelopeBox) Open(ctx context.Context, owner, ciphertext string) ([]byte, error) {
	rest, ok := strings.CutPrefix(ciphertext, envelopePrefix)
	wrappedB64, ctB64, ok2 := strings.Cut(rest, ":")
	wrapped, err1 := base64.RawURLEncoding.DecodeString(wrappedB64)
	ct, err2 := base64.RawURLEncoding.DecodeString(ctB64)
	if !ok || !ok2 || err1 != nil || err2 != nil {
		return nil, errors.New("open: not an envelope ciphertext")
	}
	return b.open(ctx, owner, wrapped, ct)
}

// SealBytes encrypts plaintext bound to owner as bytes (for files: no text
// encoding): store.SealedBytesPrefix, the wrapped data key's length (two bytes)
// and the key, then the nonce and ciphertext.
func (b *EnvelopeBox) SealBytes(ctx context.Context, owner string, plaintext []byte) ([]byte, error) {
	k, err := b.current(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(store.SealedBytesPrefix)+2+len(k.wrapped)+k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	out = append(out, store.SealedBytesPrefix...)
	out = binary.BigEndian.AppendUint16(out, uint16(len(k.wrapped)))
	out = append(out, k.wrapped...)
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out = append(out, nonce...)
	return k.aead.Seal(out, nonce, plaintext, []byte(owner)), nil
}

// OpenBytes decrypts what SealBytes made for the same owner.
func (b *EnvelopeBox) OpenBytes(ctx context.Context, owner string, sealed []byte) ([]byte, error) {
	rest, ok := bytes.CutPrefix(sealed, []byte(store.SealedBytesPrefix))
	if !ok || len(rest) < 2 || len(rest) < 2+int(binary.BigEndian.Uint16(rest)) {
		return nil, errors.New("open: not sealed bytes")
	}
	n := int(binary.BigEndian.Uint16(rest))
	return b.open(ctx, owner, rest[2:2+n], rest[2+n:])
}

// open decrypts ct (nonce first) with the data key wrapped as wrapped,
// unwrapping it through Transit unless it is cached.
func (b *EnvelopeBox) open(ctx context.Context, owner string, wrapped, ct []byte) ([]byte, error) {
	b.mu.Lock()
	aead, cached := b.cache[string(wrapped)]
	b.mu.Unlock()
	if !cached {
		ctx, cancel := context.WithTimeout(ctx, b.c.cfg.Timeout)
		defer cancel()
		s, err := b.c.api.Logical().WriteWithContext(ctx, TransitMount+"/decrypt/"+b.key, map[string]any{"ciphertext": string(wrapped)})
		if err != nil {
			return nil, transitError("vault unwrap data key", err)
		}
		pt, _ := s.Data["plaintext"].(string)
		raw, err := base64.StdEncoding.DecodeString(pt)
		if err != nil {
			return nil, fmt.Errorf("vault unwrap data key: %w", err)
		}
		aead, err = newAEAD(raw)
		clear(raw)
		if err != nil {
			return nil, err
		}
		b.mu.Lock()
		b.remember(string(wrapped), aead)
		b.mu.Unlock()
	}
	if len(ct) < aead.NonceSize() {
		return nil, errors.New("open: ciphertext too short")
	}
	pt, err := aead.Open(nil, ct[:aead.NonceSize()], ct[aead.NonceSize():], []byte(owner))
	if err != nil {
		return nil, errors.New("open: ciphertext corrupted or of another owner")
	}
	return pt, nil
}
