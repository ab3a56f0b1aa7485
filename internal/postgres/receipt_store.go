package postgres

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"pakn/internal/agency"
	"pakn/internal/petition"
	"pakn/internal/store"
)

// ReceiptStore keeps agencies' service keys and the petitions' signed
// receipts.
type ReceiptStore struct {
	DB *DB
}

// ActiveAgencyKey returns the agency's active service key, or
// store.ErrNotFound.
func (s *ReceiptStore) ActiveAgencyKey(ctx context.Context, code string) (*agency.Key, error) {
	var k agency.Key
	var der []byte
	err := s.DB.conn(ctx).QueryRow(ctx, `SELECT id, agency_code, key_name, key_version, key_type, certificate, chain_pem
		FROM agency_keys WHERE agency_code = $1 AND status = 'active'`, code).Scan(&k.ID, &k.Agency, &k.KeyName, &k.KeyVersion, &k.KeyType, &der, &k.ChainPEM)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("agency key: %w", err)
	}
	if k.Certificate, err = x509.ParseCertificate(der); err != nil {
		return nil, fmt.Errorf("agency key certificate: %w", err)
	}
	if k.Chain, err = parseChain(k.ChainPEM); err != nil {
		return nil, fmt.Errorf("agency key chain: %w", err)
	}
	return &k, nil
}

// AddAgencyKey retires the agency's active key, if any, and stores k as
// the active one.
func (s *ReceiptStore) AddAgencyKey(ctx context.Context, k *agency.Key, now time.Time) error {
	tx := s.DB.conn(ctx)
	if _, err := tx.Exec(ctx, `UPDATE agency_keys SET status = 'retired' WHERE agency_code = $1 AND status = 'active'`, k.Agency); err != nil {
		return fmt.Errorf("retire agency key: %w", err)
	}
	err := tx.QueryRow(ctx, `INSERT INTO agency_keys (agency_code, key_name, key_version, key_type, certificate, chain_pem, status, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, 'active', $7) RETURNING id`,
		k.Agency, k.KeyName, k.KeyVersion, k.KeyType, k.Certificate.Raw, k.ChainPEM, now).Scan(&k.ID)
	if err != nil {
		return uniqueConflict(err, "add agency key")
	}
	return nil
}

// Receipt returns the petition's signed receipt, or store.ErrNotFound.
func (s *ReceiptStore) Receipt(ctx context.Context, petitionID string) (*petition.SignedReceipt, error) {
	var r petition.SignedReceipt
	err := s.DB.conn(ctx).QueryRow(ctx, `SELECT id, petition_id, agency_code, COALESCE(`+newest("pdf", "'receipt'", "petition_id")+`, pdf),
		COALESCE(`+newest("sha256", "'receipt'", "petition_id")+`, sha256), agency_key_id, certificate, signed_at
		FROM signed_receipts WHERE petition_id = $1`, petitionID).Scan(&r.ID, &r.PetitionID, &r.Agency, &r.PDF, &r.SHA256,
		&r.AgencyKeyID, &r.Certificate, &r.SignedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("receipt: %w", err)
	}
	return &r, nil
}

// InsertReceipt stores a petition's signed receipt, unless it has one
// already (then it reports false and stores nothing).
func (s *ReceiptStore) InsertReceipt(ctx context.Context, r *petition.SignedReceipt) (bool, error) {
	tag, err := s.DB.conn(ctx).Exec(ctx, `INSERT INTO signed_receipts (id, petition_id, agency_code, pdf, sha256, binding, size, agency_key_id,
		certificate, signed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (petition_id) DO NOTHING`,
		r.ID, r.PetitionID, r.Agency, orBytes(r.SealedPDF, r.PDF), r.SHA256, r.Binding, len(r.PDF), r.AgencyKeyID, r.Certificate, r.SignedAt)
	if err != nil {
		return false, fmt.Errorf("store receipt: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// orBytes is a unless it is nil, else b.
func orBytes(a, b []byte) []byte {
	if a != nil {
		return a
	}
	return b
}
