package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"pakn/internal/access"
	"pakn/internal/credential"
	"pakn/internal/store"
)

// CreatePowerRequest stores a pending request and returns its id, or
// store.ErrConflict when the same change is pending already.
func (s *IdentityStore) CreatePowerRequest(ctx context.Context, r credential.PowerRequest) (string, error) {
	var id string
	err := s.DB.conn(ctx).QueryRow(ctx, `INSERT INTO power_requests (agency_code, account_id, kind, role, requested_by, requested_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, r.Agency, r.AccountID, r.Kind, string(r.Role), r.RequestedBy,
		r.RequestedAt, r.ExpiresAt).Scan(&id)
	return id, uniqueConflict(err, "create power request")
}

const powerColumns = `q.id, q.agency_code, q.account_id, a.username, q.kind, q.role, q.requested_by, b.username, q.requested_at,
	q.expires_at, q.status, coalesce(q.decided_by::text, ''), coalesce(q.decided_at, 'epoch')
	FROM power_requests q JOIN accounts a ON a.id = q.account_id JOIN accounts b ON b.id = q.requested_by`

func scanPower(row pgx.Row) (*credential.PowerRequest, error) {
	var r credential.PowerRequest
	var role string
	err := row.Scan(&r.ID, &r.Agency, &r.AccountID, &r.Username, &r.Kind, &role, &r.RequestedBy, &r.RequestedByName,
		&r.RequestedAt, &r.ExpiresAt, &r.Status, &r.DecidedBy, &r.DecidedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("power request: %w", err)
	}
	r.Role = access.Role(role)
	if r.DecidedAt.Equal(time.Unix(0, 0)) {
		r.DecidedAt = time.Time{}
	}
	return &r, nil
}

// PowerRequest loads one request, or store.ErrNotFound (also for an id
// that is not a UUID).
func (s *IdentityStore) PowerRequest(ctx context.Context, id string) (*credential.PowerRequest, error) {
	u, ok := uuidOf(id)
	if !ok {
		return nil, store.ErrNotFound
	}
	return scanPower(s.DB.conn(ctx).QueryRow(ctx, `SELECT `+powerColumns+` WHERE q.id = $1`, u))
}

// PowerRequests lists the agency's requests made since since, newest
// first.
func (s *IdentityStore) PowerRequests(ctx context.Context, agency string, since time.Time) ([]credential.PowerRequest, error) {
	rows, err := s.DB.conn(ctx).Query(ctx, `SELECT `+powerColumns+` WHERE q.agency_code = $1 AND q.requested_at >= $2
		ORDER BY q.requested_at DESC LIMIT 200`, agency, since)
	if err != nil {
		return nil, fmt.Errorf("list power requests: %w", err)
	}
	defer rows.Close()
	var out []credential.PowerRequest
	for rows.Next() {
		r, err := scanPower(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// DecidePowerRequest moves a request still pending and open at now to
// status, decided by by; false when it was not pending and open (decided
// already, or expired).
func (s *IdentityStore) DecidePowerRequest(ctx context.Context, id, status, by string, now time.Time) (bool, error) {
	u, ok := uuidOf(id)
	if !ok {
		return false, nil // no such request
	}
	tag, err := s.DB.conn(ctx).Exec(ctx, `UPDATE power_requests SET status = $2, decided_by = $3, decided_at = $4
		WHERE id = $1 AND status = 'pending' AND expires_at > $4`, u, status, by, now)
	if err != nil {
		return false, fmt.Errorf("decide power request: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}
