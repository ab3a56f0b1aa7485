package vault

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	vaultapi "github.com/hashicorp/vault/api"

	"pakn/internal/apperr"
	"pakn/internal/msg"
)

// Transit encryption keys of paknd.
const (
	MFAKey = "pakn-mfa" // encrypts staff TOTP secrets
	PIIKey = "pakn-pii" // wraps the data keys of petitioners' personal data (see EnvelopeBox)
)

// TransitBox encrypts small secrets with a Transit key: the key never leaves
// Vault, and a database dump holds only Vault ciphertexts.
type TransitBox struct {
	c   *Client
	key string
}

// NewTransitBox returns a box that encrypts with the named Transit key.
func NewTransitBox(c *Client, key string) *TransitBox { return &TransitBox{c: c, key: key} }

// Seal encrypts plaintext bound to owner: Open with another owner fails, so
// ciphertexts cannot be moved between rows.
func (b *TransitBox) Seal(ctx context.Context, owner string, plaintext []byte) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, b.c.cfg.Timeout)
	defer cancel()
	msg := append([]byte(owner+"\x00"), plaintext...)
	s, err := b.c.api.Logical().WriteWithContext(ctx, TransitMount+"/encrypt/"+b.key, map[string]any{
		"plaintext": base64.StdEncoding.EncodeToString(msg),
	})
	if err != nil {
		return "", transitError("vault encrypt", err)
	}
	ct, _ := s.Data["ciphertext"].(string)
	if !strings.HasPrefix(ct, "vault:v") {
		return "", errors.New("vault encrypt: no ciphertext")
	}
	return ct, nil
}

// Open decrypts a ciphertext made by Seal for the same owner.
func (b *TransitBox) Open(ctx context.Context, owner, ciphertext string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, b.c.cfg.Timeout)
	defer cancel()
	s, err := b.c.api.Logical().WriteWithContext(ctx, TransitMount+"/decrypt/"+b.key, map[string]any{"ciphertext": ciphertext})
	if err != nil {
		return nil, transitError("vault decrypt", err)
	}
	pt, _ := s.Data["plaintext"].(string)
	msg, err := base64.StdEncoding.DecodeString(pt)
	if err != nil {
		return nil, fmt.Errorf("vault decrypt: %w", err)
	}
	prefix := []byte(owner + "\x00")
	if len(msg) < len(prefix) || string(msg[:len(prefix)]) != string(prefix) {
		return nil, errors.New("vault decrypt: ciphertext belongs to another owner")
	}
	return msg[len(prefix):], nil
}

// transitError classifies a Transit failure: Vault refusing the request
// (a 4xx: bad ciphertext, missing key or permission) is an internal error;
// anything else (sealed, unreachable, slow) is unavailability.
func transitError(op string, err error) error {
	var re *vaultapi.ResponseError
	if errors.As(err, &re) && re.StatusCode >= 400 && re.StatusCode < 500 {
		return apperr.Wrap(redact(err), apperr.Internal, op, msg.InternalError)
	}
	return apperr.Wrap(redact(err), apperr.Unavailable, op, msg.KeyServiceUnavailable)
}
