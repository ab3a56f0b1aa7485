package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"pakn/internal/reply"
	"pakn/internal/store"
)

// newest is the SQL of a document's newest archived version's column col,
// NULL when it has none (kind and id are the query's parameters $k, $i).
func newest(col, k, i string) string {
	return `(SELECT ` + col + ` FROM document_versions dv WHERE dv.kind = ` + k + ` AND dv.document_id = ` + i +
		` ORDER BY dv.version DESC LIMIT 1)`
}

// ArchiveDue implements store.Replies.
func (s *ReplyStore) ArchiveDue(ctx context.Context, before time.Time, limit int) ([]reply.Archived, error) {
	rows, err := s.DB.conn(ctx).Query(ctx, `
		WITH docs AS (
			SELECT 'reply' AS kind, reply_id AS id, signed_at FROM signed_replies
			UNION ALL
			SELECT 'public_reply', p.reply_id, s.signed_at FROM public_replies p JOIN signed_replies s USING (reply_id)
			UNION ALL
			SELECT 'receipt', petition_id, signed_at FROM signed_receipts)
		SELECT d.kind, d.id::text, COALESCE(v.version, 1), COALESCE(v.stamped_at, d.signed_at)
		FROM docs d LEFT JOIN LATERAL (
			SELECT version, stamped_at FROM document_versions dv WHERE dv.kind = d.kind AND dv.document_id = d.id
			ORDER BY version DESC LIMIT 1) v ON true
		WHERE COALESCE(v.stamped_at, d.signed_at) < $1
		ORDER BY 4, 1, 2 LIMIT $2`, before, limit)
	if err != nil {
		return nil, fmt.Errorf("archive due: %w", err)
	}
	defer rows.Close()
	var out []reply.Archived
	for rows.Next() {
		var a reply.Archived
		if err := rows.Scan(&a.Kind, &a.ID, &a.Version, &a.StampedAt); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AddVersion implements store.Replies.
func (s *ReplyStore) AddVersion(ctx context.Context, v *reply.DocumentVersion) error {
	_, err := s.DB.conn(ctx).Exec(ctx, `INSERT INTO document_versions (kind, document_id, version, pdf, sha256, size, stamped_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, v.Of.Kind, v.Of.ID, v.Of.Version+1, v.PDF, v.SHA256, v.Size, v.StampedAt)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("add document version: %w", err)
	}
	return nil
}
