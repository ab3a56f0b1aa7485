package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

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

// Import writes a directory in one transaction, each change with its
// audit event (actor's): agencies not yet in the directory are created
// (agency.create), those whose names changed are renamed (agency.update),
// and the routing is replaced when it differs (agency.routing). An agency
// cannot move: one that exists with another parent or kind is refused,
// and nothing is written.
func (s *AgencyStore) Import(ctx context.Context, d *agency.Directory, actor audit.Event) (created, renamed int, rerouted bool, err error) {
	err = s.DB.InTx(ctx, func(ctx context.Context) error {
		tx := s.DB.conn(ctx)
		event := func(action, id string, det map[string]string) error {
			e := actor
			details, _ := json.Marshal(det)
			e.Action, e.ObjectType, e.ObjectID, e.Outcome, e.Details = action, "agency", id, audit.Success, details
			return s.Audit.Append(ctx, &e)
		}
		for _, a := range d.Agencies {
			c, r, err := s.importAgency(ctx, tx, a, event)
			if err != nil {
				return err
			}
			created, renamed = created+c, renamed+r
		}
		cur, err := s.Routing(ctx)
		if err != nil || maps.Equal(cur, d.Routing) {
			return err
		}
		rerouted = true
		if _, err := tx.Exec(ctx, `DELETE FROM agency_routing`); err != nil {
			return fmt.Errorf("routing: %w", err)
		}
		for cat, code := range d.Routing {
			if _, err := tx.Exec(ctx, `INSERT INTO agency_routing (category, agency_code) VALUES ($1, $2)`, cat, code); err != nil {
				return fmt.Errorf("routing %s to %s: %w", cat, code, err)
			}
		}
		return event("agency.routing", agency.DefaultCategory, d.Routing)
	})
	return created, renamed, rerouted, err
}

// importAgency creates a or renames it (reporting which, as counts).
func (s *AgencyStore) importAgency(ctx context.Context, tx Querier, a agency.Agency, event func(string, string, map[string]string) error) (int, int, error) {
	var parent, kind, vi, en string
	err := tx.QueryRow(ctx, `SELECT coalesce(parent_code, ''), kind, name_vi, name_en FROM agencies WHERE code = $1 FOR UPDATE`, a.Code).
		Scan(&parent, &kind, &vi, &en)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		var p any
		if a.ParentCode != "" {
			p = a.ParentCode
		}
		if _, err := tx.Exec(ctx, `INSERT INTO agencies (code, parent_code, kind, name_vi, name_en) VALUES ($1, $2, $3, $4, $5)`,
			a.Code, p, string(a.Kind), a.NameVI, a.NameEN); err != nil {
			return 0, 0, fmt.Errorf("agency %s: %w", a.Code, err)
		}
		return 1, 0, event("agency.create", a.Code, map[string]string{"kind": string(a.Kind), "parent": a.ParentCode})
	case err != nil:
		return 0, 0, fmt.Errorf("agency %s: %w", a.Code, err)
	case parent != a.ParentCode || kind != string(a.Kind):
		return 0, 0, fmt.Errorf("agency %s exists under %q as a %s: an import does not move agencies or change their kind", a.Code, parent, kind)
	case vi == a.NameVI && en == a.NameEN:
		return 0, 0, nil
	}
	if _, err := tx.Exec(ctx, `UPDATE agencies SET name_vi = $2, name_en = $3 WHERE code = $1`, a.Code, a.NameVI, a.NameEN); err != nil {
		return 0, 0, fmt.Errorf("agency %s: %w", a.Code, err)
	}
	return 0, 1, event("agency.update", a.Code, map[string]string{"name_vi": a.NameVI, "name_en": a.NameEN})
}

// Routing returns which agency receives each category's petitions
// (agency.DefaultCategory: the others); empty when none is set.
func (s *AgencyStore) Routing(ctx context.Context) (map[string]string, error) {
	rows, err := s.DB.conn(ctx).Query(ctx, `SELECT category, agency_code FROM agency_routing`)
	if err != nil {
		return nil, fmt.Errorf("routing: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var cat, code string
		if err := rows.Scan(&cat, &code); err != nil {
			return nil, err
		}
		out[cat] = code
	}
	return out, rows.Err()
}
