package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"pakn/internal/agency"
	"pakn/internal/audit"
	"pakn/internal/store"
)

// AgencyStore keeps the agency directory.
type AgencyStore struct {
	DB    *DB
	Audit *AuditStore
}

// Ensure creates a unless an agency with its code exists, appending an
// "agency.create" event in the same transaction. It reports whether it
// created the agency.
func (s *AgencyStore) Ensure(ctx context.Context, a agency.Agency, actor audit.Event) (bool, error) {
	if err := a.Validate(); err != nil {
		return false, err
	}
	created := false
	err := s.DB.InTx(ctx, func(ctx context.Context) error {
		tx := s.DB.conn(ctx)
		var parent any
		if a.ParentCode != "" {
			parent = a.ParentCode
		}
		tag, err := tx.Exec(ctx, `INSERT INTO agencies (code, parent_code, kind, name_vi, name_en)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO NOTHING`,
			a.Code, parent, string(a.Kind), a.NameVI, a.NameEN)
		if err != nil {
			return fmt.Errorf("insert agency %s: %w", a.Code, err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		created = true
		details, _ := json.Marshal(map[string]string{"kind": string(a.Kind), "parent": a.ParentCode})
		e := actor
		e.Action, e.ObjectType, e.ObjectID, e.Outcome, e.Details = "agency.create", "agency", a.Code, audit.Success, details
		return s.Audit.Append(ctx, &e)
	})
	return created, err
}

// List returns every agency ordered by code.
func (s *AgencyStore) List(ctx context.Context) ([]agency.Agency, error) {
	db := s.DB.conn(ctx)
	rows, err := db.Query(ctx, `SELECT code, coalesce(parent_code, ''), kind, name_vi, name_en FROM agencies ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("list agencies: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (agency.Agency, error) {
		var a agency.Agency
		var kind string
		err := r.Scan(&a.Code, &a.ParentCode, &kind, &a.NameVI, &a.NameEN)
		a.Kind = agency.Kind(kind)
		return a, err
	})
}

// Subtree returns an agency and every agency below it.
func (s *AgencyStore) Subtree(ctx context.Context, root string) ([]string, error) {
	q := s.DB.conn(ctx)
	rows, err := q.Query(ctx, `WITH RECURSIVE t(code) AS (
		SELECT code FROM agencies WHERE code = $1
		UNION SELECT a.code FROM agencies a JOIN t ON a.parent_code = t.code)
		SELECT code FROM t ORDER BY code`, root)
	if err != nil {
		return nil, fmt.Errorf("agency subtree: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// Exists reports whether an agency code is known.
func (s *AgencyStore) Exists(ctx context.Context, code string) (bool, error) {
	q := s.DB.conn(ctx)
	var ok bool
	err := q.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM agencies WHERE code = $1)", code).Scan(&ok)
	return ok, err
}

// Heading returns an agency's Vietnamese name and its parent's ("" at
// the root), as a document's heading prints them.
func (s *AgencyStore) Heading(ctx context.Context, code string) (name, parent string, err error) {
	q := s.DB.conn(ctx)
	err = q.QueryRow(ctx, `SELECT a.name_vi, coalesce(p.name_vi, '') FROM agencies a LEFT JOIN agencies p ON p.code = a.parent_code
		WHERE a.code = $1`, code).Scan(&name, &parent)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", store.ErrNotFound
	}
	if err != nil {
		return "", "", fmt.Errorf("agency heading: %w", err)
	}
	return name, parent, nil
}
