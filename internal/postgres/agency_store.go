package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"pakn/internal/agency"
	"pakn/internal/audit"
)

// AgencyStore keeps the agency directory.
type AgencyStore struct {
	Audit *AuditStore
}

// Ensure creates a unless an agency with its code exists, appending an
// "agency.create" event in the same transaction. It reports whether it
// created the agency.
func (s *AgencyStore) Ensure(ctx context.Context, db Beginner, a agency.Agency, actor audit.Event) (bool, error) {
	if err := a.Validate(); err != nil {
		return false, err
	}
	created := false
	err := InTx(ctx, db, func(tx pgx.Tx) error {
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
		return s.Audit.Append(ctx, tx, &e)
	})
	return created, err
}

// List returns every agency ordered by code.
func (s *AgencyStore) List(ctx context.Context, db Querier) ([]agency.Agency, error) {
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
