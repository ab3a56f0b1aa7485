package postgres

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"pakn/internal/reply"
	"pakn/internal/store"
)

// ReplyStore keeps replies, their signed documents, the document number
// registers and the signers.
type ReplyStore struct {
	DB *DB
}

const replyColumns = `r.id, r.petition_id, r.agency_code, r.status, r.content, coalesce(r.content_enc, ''), coalesce(r.supersedes::text, ''),
	r.drafted_by, r.drafted_at, coalesce(r.reviewed_by::text, ''), coalesce(r.reviewed_at, 'epoch'), r.review_comment,
	d.number, d.sha256, d.size, s.full_name, s.title, d.key_name, d.key_version, s.serial, d.signed_at, d.timestamped,
	(SELECT n.id::text FROM replies n WHERE n.supersedes = r.id AND n.status = 'signed')`

const replyFrom = ` FROM replies r LEFT JOIN signed_replies d ON d.reply_id = r.id LEFT JOIN signers s ON s.id = d.signer_id`

func scanReply(row pgx.Row) (*reply.Reply, error) {
	var r reply.Reply
	var status string
	var content []byte
	var number, sha, signerName, title, keyName, serial, supersededBy *string
	var size, keyVersion *int
	var signedAt *time.Time
	var stamped *bool
	err := row.Scan(&r.ID, &r.PetitionID, &r.Agency, &status, &content, &r.SealedContent, &r.Supersedes, &r.DraftedBy, &r.DraftedAt,
		&r.ReviewedBy, &r.ReviewedAt, &r.ReviewComment,
		&number, &sha, &size, &signerName, &title, &keyName, &keyVersion, &serial, &signedAt, &stamped, &supersededBy)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load reply: %w", err)
	}
	r.Status = reply.Status(status)
	if r.SealedContent == "" { // in clear (written before sealing, or without it)
		if err := json.Unmarshal(content, &r.Content); err != nil {
			return nil, fmt.Errorf("load reply content: %w", err)
		}
	}
	if r.ReviewedAt.Equal(time.Unix(0, 0)) {
		r.ReviewedAt = time.Time{}
	}
	if number != nil {
		r.Document = &reply.Document{Number: *number, SHA256: *sha, Size: *size, SignerName: *signerName, SignerTitle: *title,
			KeyName: *keyName, KeyVersion: *keyVersion, CertSerial: *serial, SignedAt: *signedAt, Timestamped: *stamped}
		if supersededBy != nil {
			r.Document.SupersededBy = *supersededBy
		}
	}
	return &r, nil
}

// InsertReply stores a new reply; a second open reply of the same petition
// is store.ErrConflict.
func (s *ReplyStore) InsertReply(ctx context.Context, r *reply.Reply) error {
	tx := s.DB.conn(ctx)
	var content, sealed any
	if r.SealedContent != "" {
		sealed = r.SealedContent
	} else {
		b, err := json.Marshal(r.Content)
		if err != nil {
			return err
		}
		content = b
	}
	var supersedes *string
	if r.Supersedes != "" {
		supersedes = &r.Supersedes
	}
	_, err := tx.Exec(ctx, `INSERT INTO replies (id, petition_id, agency_code, status, content, content_enc, outcome, supersedes,
		drafted_by, drafted_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
		r.ID, r.PetitionID, r.Agency, r.Status, content, sealed, string(r.Content.Outcome), supersedes, r.DraftedBy, r.DraftedAt)
	return uniqueConflict(err, "insert reply")
}

func uniqueConflict(err error, what string) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return fmt.Errorf("%s: %w", what, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// Reply loads one reply (lock: FOR UPDATE of its row).
func (s *ReplyStore) Reply(ctx context.Context, id string) (*reply.Reply, error) {
	return scanReply(s.DB.conn(ctx).QueryRow(ctx, `SELECT `+replyColumns+replyFrom+` WHERE r.id = $1`, id))
}

// LockReply loads a reply by id and locks its row until the transaction
// ctx carries ends.
func (s *ReplyStore) LockReply(ctx context.Context, id string) (*reply.Reply, error) {
	return scanReply(s.DB.conn(ctx).QueryRow(ctx, `SELECT `+replyColumns+replyFrom+` WHERE r.id = $1 FOR UPDATE OF r`, id))
}

// OpenReplyOf returns the petition's reply in status st (draft or
// approved: there is at most one), or store.ErrNotFound.
func (s *ReplyStore) OpenReplyOf(ctx context.Context, petitionID string, st reply.Status) (*reply.Reply, error) {
	q := s.DB.conn(ctx)
	return scanReply(q.QueryRow(ctx, `SELECT `+replyColumns+replyFrom+` WHERE r.petition_id = $1 AND r.status = $2`, petitionID, st))
}

// Replies lists a petition's replies, oldest first.
func (s *ReplyStore) Replies(ctx context.Context, petitionID string) ([]reply.Reply, error) {
	q := s.DB.conn(ctx)
	rows, err := q.Query(ctx, `SELECT `+replyColumns+replyFrom+` WHERE r.petition_id = $1 ORDER BY r.drafted_at, r.id`, petitionID)
	if err != nil {
		return nil, fmt.Errorf("list replies: %w", err)
	}
	defer rows.Close()
	out := []reply.Reply{}
	for rows.Next() {
		r, err := scanReply(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// CurrentSigned returns the petition's signed reply that no other signed
// reply supersedes, or store.ErrNotFound.
func (s *ReplyStore) CurrentSigned(ctx context.Context, petitionID string) (*reply.Reply, error) {
	q := s.DB.conn(ctx)
	return scanReply(q.QueryRow(ctx, `SELECT `+replyColumns+replyFrom+` WHERE r.petition_id = $1 AND r.status = 'signed'
		AND NOT EXISTS (SELECT 1 FROM replies n WHERE n.supersedes = r.id AND n.status = 'signed')
		ORDER BY d.signed_at DESC LIMIT 1`, petitionID))
}

// SetReview records a review decision (approved or sent back).
func (s *ReplyStore) SetReview(ctx context.Context, id string, st reply.Status, reviewer, comment string, at time.Time) error {
	tx := s.DB.conn(ctx)
	_, err := tx.Exec(ctx, `UPDATE replies SET status = $2, reviewed_by = $3, reviewed_at = $4, review_comment = $5, updated_at = $4
		WHERE id = $1`, id, st, reviewer, at, comment)
	if err != nil {
		return fmt.Errorf("review reply: %w", err)
	}
	return nil
}

// NextNumber takes the next number of the agency's yearly register.
func (s *ReplyStore) NextNumber(ctx context.Context, agency string, year int) (int, error) {
	tx := s.DB.conn(ctx)
	var n int
	err := tx.QueryRow(ctx, `INSERT INTO reply_numbers (agency_code, year, last) VALUES ($1, $2, 1)
		ON CONFLICT (agency_code, year) DO UPDATE SET last = reply_numbers.last + 1 RETURNING last`, agency, year).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("document number: %w", err)
	}
	return n, nil
}

// InsertSigned stores a signed document and marks its reply signed,
// through the database's sign_reply (migration 019), which checks the
// reply's state and the signer's key before it writes: the application's
// role cannot insert signed replies itself.
func (s *ReplyStore) InsertSigned(ctx context.Context, d *reply.SignedDocument) error {
	tx := s.DB.conn(ctx)
	var pub, pubSHA, pubBinding any
	if d.PublicPDF != nil {
		pub, pubSHA, pubBinding = orBytes(d.SealedPublicPDF, d.PublicPDF), d.PublicSHA256, d.PublicBinding
	}
	stored, size := orBytes(d.SealedPDF, d.PDF), len(d.PDF)
	_, err := tx.Exec(ctx, `SELECT sign_reply($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`,
		d.ReplyID, d.PetitionID, d.Agency, d.Number, d.Year, d.Seq, stored, d.SHA256, d.Binding, d.SignerID, d.SignedBy,
		d.KeyName, d.KeyVersion, d.Certificate, d.SignedAt, d.Timestamped, pub, pubSHA, pubBinding, size, len(d.PublicPDF))
	if err != nil {
		return uniqueConflict(err, "store signed reply")
	}
	tokens := d.SearchTokens
	if tokens == nil {
		tokens = []int64{}
	}
	if _, err = tx.Exec(ctx, `INSERT INTO register_search (reply_id, search_tokens) VALUES ($1, $2)`, d.ReplyID, tokens); err != nil {
		return fmt.Errorf("index signed reply: %w", err)
	}
	return nil
}

// PublicPDF returns a signed reply's public version as stored
// (internal/sealed opens it), or store.ErrNotFound
// (replies signed before public versions existed have none).
func (s *ReplyStore) PublicPDF(ctx context.Context, replyID string) ([]byte, error) {
	var b []byte
	err := s.DB.conn(ctx).QueryRow(ctx, `SELECT COALESCE(`+newest("pdf", "'public_reply'", "$1")+`, pdf) FROM public_replies WHERE reply_id = $1`,
		replyID).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load public reply: %w", err)
	}
	return b, nil
}

// PublicRegister lists the published replies with a public version that q
// selects, newest first, with their total counted up to
// reply.RegisterCountCap+1.
func (s *ReplyStore) PublicRegister(ctx context.Context, q reply.RegisterQuery) ([]reply.Listed, int, error) {
	where := []string{"p.state IN ('published', 'closed')"}
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	hits := ""
	if len(q.QueryTokens) > 0 {
		// The words first, through their index: walking the newest replies
		// and testing each would read the whole register for a rare word.
		hits = "WITH hits AS MATERIALIZED (SELECT reply_id FROM register_search WHERE search_tokens @> " + arg(q.QueryTokens) + "::bigint[]) "
		where = append(where, "d.reply_id IN (SELECT reply_id FROM hits)")
	} else if strings.TrimSpace(q.Query) != "" {
		return nil, 0, errors.New("public register: words to search need their blind index (internal/sealed)")
	}
	if q.Agency != "" {
		where = append(where, "d.agency_code = "+arg(q.Agency))
	}
	if q.Category != "" {
		where = append(where, "p.category = "+arg(string(q.Category)))
	}
	if q.Outcome != "" {
		where = append(where, "coalesce(r.outcome, r.content->>'outcome') = "+arg(string(q.Outcome)))
	}
	if !q.From.IsZero() {
		where = append(where, "d.signed_at >= "+arg(q.From))
	}
	if !q.To.IsZero() {
		where = append(where, "d.signed_at < "+arg(q.To))
	}
	from := ` FROM signed_replies d JOIN public_replies pr ON pr.reply_id = d.reply_id JOIN replies r ON r.id = d.reply_id
		JOIN petitions p ON p.id = d.petition_id JOIN agencies a ON a.code = d.agency_code
		LEFT JOIN LATERAL (SELECT n.id FROM replies n WHERE n.supersedes = d.reply_id AND n.status = 'signed' LIMIT 1) sup ON true
		WHERE ` + strings.Join(where, " AND ")
	var total int
	var out []reply.Listed
	// Small, index-driven queries: a parallel plan only adds its start-up.
	err := s.DB.InTx(ctx, func(ctx context.Context) error {
		db := s.DB.conn(ctx)
		if _, err := db.Exec(ctx, "SET LOCAL max_parallel_workers_per_gather = 0"); err != nil {
			return err
		}
		// Counted up to one more than reply.RegisterCountCap, newest first
		// along the index, so a count costs at most that many rows.
		if err := db.QueryRow(ctx, hits+"SELECT count(*) FROM (SELECT 1"+from+" ORDER BY d.signed_at DESC LIMIT "+
			fmt.Sprint(reply.RegisterCountCap+1)+") c", args...).Scan(&total); err != nil {
			return fmt.Errorf("count the register: %w", err)
		}
		rows, err := db.Query(ctx, hits+`SELECT d.reply_id, d.number, d.agency_code, a.name_vi, d.signed_at, p.category,
			coalesce(r.outcome, r.content->>'outcome'), coalesce(r.content->>'summary', ''), coalesce(r.content_enc, ''), sup.id IS NOT NULL`+from+
			` ORDER BY d.signed_at DESC, d.reply_id DESC LIMIT `+arg(q.Limit)+` OFFSET `+arg(q.Offset), args...)
		if err != nil {
			return fmt.Errorf("list the register: %w", err)
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (reply.Listed, error) {
			var l reply.Listed
			err := row.Scan(&l.ReplyID, &l.Number, &l.Agency, &l.AgencyName, &l.SignedAt, &l.Category, &l.Outcome, &l.Summary, &l.SealedContent, &l.Superseded)
			return l, err
		})
		if err != nil {
			return fmt.Errorf("list the register: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// PDF returns a signed reply's bytes as stored (internal/sealed opens them).
func (s *ReplyStore) PDF(ctx context.Context, replyID string) ([]byte, error) {
	q := s.DB.conn(ctx)
	var b []byte
	err := q.QueryRow(ctx, `SELECT COALESCE(`+newest("pdf", "'reply'", "$1")+`, pdf) FROM signed_replies WHERE reply_id = $1`, replyID).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load signed reply: %w", err)
	}
	return b, nil
}

const signerColumns = `id, account_id, full_name, title, on_behalf, key_name, key_version, key_type, chain_pem, status, created_at`

func scanSigner(row pgx.Row) (*reply.Signer, error) {
	var g reply.Signer
	err := row.Scan(&g.ID, &g.AccountID, &g.FullName, &g.Title, &g.OnBehalf, &g.KeyName, &g.KeyVersion, &g.KeyType, &g.ChainPEM, &g.Status, &g.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load signer: %w", err)
	}
	if g.Chain, err = parseChain(g.ChainPEM); err != nil {
		return nil, err
	}
	g.Certificate = g.Chain[0]
	return &g, nil
}

// ActiveSigner returns the account's active signer, or store.ErrNotFound.
func (s *ReplyStore) ActiveSigner(ctx context.Context, accountID string) (*reply.Signer, error) {
	q := s.DB.conn(ctx)
	return scanSigner(q.QueryRow(ctx, `SELECT `+signerColumns+` FROM signers WHERE account_id = $1 AND status = 'active'`, accountID))
}

// ActiveSigners lists every account's active signer row.
func (s *ReplyStore) ActiveSigners(ctx context.Context) ([]reply.Signer, error) {
	q := s.DB.conn(ctx)
	rows, err := q.Query(ctx, `SELECT `+signerColumns+` FROM signers WHERE status = 'active' ORDER BY key_name`)
	if err != nil {
		return nil, fmt.Errorf("list active signers: %w", err)
	}
	return collectSigners(rows)
}

// Signers lists an account's signer rows, newest first.
func (s *ReplyStore) Signers(ctx context.Context, accountID string) ([]reply.Signer, error) {
	q := s.DB.conn(ctx)
	rows, err := q.Query(ctx, `SELECT `+signerColumns+` FROM signers WHERE account_id = $1 ORDER BY key_version DESC`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list signers: %w", err)
	}
	return collectSigners(rows)
}

// AgencySigners lists the signer rows of an agency's accounts.
func (s *ReplyStore) AgencySigners(ctx context.Context, agency string) ([]reply.Signer, error) {
	q := s.DB.conn(ctx)
	rows, err := q.Query(ctx, `SELECT `+signerColumns+` FROM signers WHERE account_id IN (SELECT id FROM accounts WHERE agency_code = $1)
		ORDER BY full_name, key_version DESC`, agency)
	if err != nil {
		return nil, fmt.Errorf("list agency signers: %w", err)
	}
	return collectSigners(rows)
}

// collectSigners reads signer rows to their end.
func collectSigners(rows pgx.Rows) ([]reply.Signer, error) {
	defer rows.Close()
	var out []reply.Signer
	for rows.Next() {
		g, err := scanSigner(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *g)
	}
	return out, rows.Err()
}

// AddSigner retires the account's active signer, if any, and stores g as
// the active one.
func (s *ReplyStore) AddSigner(ctx context.Context, g *reply.Signer, now time.Time) error {
	tx := s.DB.conn(ctx)
	if _, err := tx.Exec(ctx, `UPDATE signers SET status = 'retired' WHERE account_id = $1 AND status = 'active'`, g.AccountID); err != nil {
		return fmt.Errorf("retire signer: %w", err)
	}
	err := tx.QueryRow(ctx, `INSERT INTO signers (account_id, full_name, title, on_behalf, key_name, key_version, key_type, certificate,
		chain_pem, serial, not_after, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'active', $12) RETURNING id`,
		g.AccountID, g.FullName, g.Title, g.OnBehalf, g.KeyName, g.KeyVersion, g.KeyType, g.Certificate.Raw, g.ChainPEM,
		g.Serial(), g.Certificate.NotAfter, now).Scan(&g.ID)
	if err != nil {
		return uniqueConflict(err, "add signer")
	}
	g.Status, g.CreatedAt = "active", now
	return nil
}

// RevokeSigner marks a signer row revoked.
func (s *ReplyStore) RevokeSigner(ctx context.Context, id string, now time.Time) error {
	tx := s.DB.conn(ctx)
	_, err := tx.Exec(ctx, `UPDATE signers SET status = 'revoked', revoked_at = $2 WHERE id = $1 AND status <> 'revoked'`, id, now)
	if err != nil {
		return fmt.Errorf("revoke signer: %w", err)
	}
	return nil
}

// parseChain reads a PEM certificate chain (at least one certificate).
func parseChain(s string) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := []byte(s)
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("signer chain: %w", err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("signer chain: no certificate")
	}
	return out, nil
}

// issuedQuery reads the register of issued documents: signed replies and
// signed receipts, each with its petition and agency.
const issuedQuery = `SELECT i.kind, i.id, i.petition_id, p.tracking_code, i.number, i.agency_code, a.name_vi, i.sha256, i.size,
	i.signed_at, i.signer_name, i.signer_title, i.signer_status, i.serial, p.state IN ('published', 'closed'), i.superseded_by,
	i.public_sha256
	FROM (SELECT 'reply' AS kind, false AS public, d.reply_id AS id, d.petition_id, d.number, d.agency_code, d.sha256, d.binding, d.size, d.signed_at,
			s.full_name AS signer_name, s.title AS signer_title, s.status AS signer_status, s.serial,
			coalesce((SELECT n.id::text FROM replies n WHERE n.supersedes = d.reply_id AND n.status = 'signed'), '') AS superseded_by,
			coalesce(pr.sha256, '') AS public_sha256
		FROM signed_replies d JOIN signers s ON s.id = d.signer_id LEFT JOIN public_replies pr ON pr.reply_id = d.reply_id
		UNION ALL
		SELECT 'reply', true, d.reply_id, d.petition_id, d.number, d.agency_code, pr.sha256, pr.binding, pr.size, d.signed_at,
			s.full_name, s.title, s.status, s.serial,
			coalesce((SELECT n.id::text FROM replies n WHERE n.supersedes = d.reply_id AND n.status = 'signed'), ''), pr.sha256
		FROM public_replies pr JOIN signed_replies d ON d.reply_id = pr.reply_id JOIN signers s ON s.id = d.signer_id
		UNION ALL
		SELECT 'receipt', false, r.id, r.petition_id, rp.tracking_code || '/BN', r.agency_code, r.sha256, r.binding, r.size, r.signed_at,
			ra.name_vi, '', k.status, '', '', ''
		FROM signed_receipts r JOIN agency_keys k ON k.id = r.agency_key_id JOIN petitions rp ON rp.id = r.petition_id
		JOIN agencies ra ON ra.code = r.agency_code) i
	JOIN petitions p ON p.id = i.petition_id JOIN agencies a ON a.code = i.agency_code `

// IssuedByID finds an issued reply by its id, or store.ErrNotFound.
func (s *ReplyStore) IssuedByID(ctx context.Context, id string) (*reply.Issued, error) {
	return s.issued(ctx, "NOT i.public AND i.id::text", id)
}

// IssuedByShortCode finds an issued reply by its short code, the id's last
// 12 hex digits (see reply.ParseShortCode), or store.ErrNotFound.
func (s *ReplyStore) IssuedByShortCode(ctx context.Context, code string) (*reply.Issued, error) {
	return s.issued(ctx, "NOT i.public AND right(i.id::text, 12)", code)
}

// IssuedByBinding finds an issued document by its binding (see
// verify.Binding), or, among documents issued before bindings were
// recorded, by its file's SHA-256; or store.ErrNotFound.
func (s *ReplyStore) IssuedByBinding(ctx context.Context, binding, sum string) (*reply.Issued, error) {
	e, err := s.issued(ctx, "i.binding", binding)
	if errors.Is(err, store.ErrNotFound) {
		return s.issued(ctx, "i.binding IS NULL AND i.sha256", sum)
	}
	return e, err
}

// issued finds the issued reply whose column col is value.
func (s *ReplyStore) issued(ctx context.Context, col, value string) (*reply.Issued, error) {
	var e reply.Issued
	err := s.DB.conn(ctx).QueryRow(ctx, issuedQuery+`WHERE `+col+` = $1`, value).Scan(&e.Kind, &e.ReplyID, &e.PetitionID, &e.TrackingCode, &e.Number,
		&e.Agency, &e.AgencyName, &e.SHA256, &e.Size, &e.SignedAt, &e.SignerName, &e.SignerTitle, &e.SignerStatus, &e.CertSerial,
		&e.Published, &e.SupersededBy, &e.PublicSHA256)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("register of issued replies: %w", err)
	}
	return &e, nil
}
