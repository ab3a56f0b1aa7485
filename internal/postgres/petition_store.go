package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"pakn/internal/audit"
	"pakn/internal/deadline"
	"pakn/internal/petition"
	"pakn/internal/store"
)

// PetitionStore keeps petitions, their timelines, attachments and the
// idempotency keys of submissions.
type PetitionStore struct {
	DB    *DB
	Audit *AuditStore // appends the events of WriteGroup
}

// WriteGroup writes submissions without attachments in one transaction:
// [BEGIN, key claims], a COPY of the petitions, then [keys' answers, chain
// lock, head check, audit events, COMMIT] when this process knows the
// chain's head, else [keys' answers, chain lock, head] and [audit events,
// COMMIT] (AuditStore.appendGroup).
// A key used before gives store.ErrKeyUsed and nothing is written.
func (s *PetitionStore) WriteGroup(ctx context.Context, subs []store.Submission) error {
	var keys, keyIDs, receipts []string
	var hashes [][]byte
	recs := make([]*petition.Stored, len(subs))
	events := make([]*audit.Event, len(subs))
	for i, j := range subs {
		if j.Key != "" {
			keys, hashes = append(keys, j.Key), append(hashes, j.KeyHash)
			keyIDs, receipts = append(keyIDs, j.Petition.ID), append(receipts, j.Receipt)
		}
		recs[i], events[i] = j.Petition, j.Event
	}
	return s.Audit.appendGroup(ctx, events, func(p *txPipe) (*pgx.Batch, error) {
		if len(keys) > 0 {
			b := &pgx.Batch{}
			s.queueClaimKeys(b, keys, hashes, subs[0].Petition.ReceivedAt)
			err := p.send(ctx, b, func(res pgx.BatchResults) error {
				tag, err := res.Exec()
				if err == nil && tag.RowsAffected() != int64(len(keys)) {
					err = store.ErrKeyUsed
				}
				return err
			})
			if err != nil {
				return nil, err
			}
		}
		if _, err := p.copy(ctx, "petitions", petitionCopyColumns, &petitionRows{ps: recs}); err != nil {
			return nil, err
		}
		b := &pgx.Batch{}
		if len(keys) > 0 {
			s.queueSaveKeyResults(b, keys, keyIDs, receipts)
		}
		return b, nil
	})
}

const petitionColumns = `id, tracking_code, state, agency_code, category, petitioner_kind, title, body, procedure_ref,
	legal_ref, channel, coalesce(entered_by::text, ''), received_at, last_public_update, next_update_due,
	coalesce(closed_at, 'epoch'), reopen_count, coalesce(reject_reason, ''), coalesce(duplicate_of, ''), updated_at,
	petitioner_enc, lookup_hash, coalesce(handler_id::text, ''),
	coalesce((SELECT display_name FROM accounts h WHERE h.id = handler_id), ''), words_sealed`

func scanPetition(row pgx.Row) (*petition.Stored, error) {
	var p petition.Stored
	var state, cat, kind, channel, reason string
	var due time.Time
	err := row.Scan(&p.ID, &p.TrackingCode, &state, &p.Agency, &cat, &kind, &p.Title, &p.Body, &p.ProcedureRef,
		&p.LegalRef, &channel, &p.EnteredBy, &p.ReceivedAt, &p.LastPublicUpdate, &due, &p.ClosedAt, &p.ReopenCount,
		&reason, &p.DuplicateOf, &p.UpdatedAt, &p.PetitionerEnc, &p.LookupHash, &p.Handler, &p.HandlerName, &p.WordsSealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load petition: %w", err)
	}
	p.State, p.Category, p.PetitionerKind, p.Channel = petition.State(state), petition.Category(cat), petition.PetitionerKind(kind), petition.Channel(channel)
	p.RejectReason = petition.RejectReason(reason)
	p.NextUpdateDue = deadline.Date{Year: due.Year(), Month: due.Month(), Day: due.Day()}
	if p.ClosedAt.Equal(time.Unix(0, 0)) {
		p.ClosedAt = time.Time{}
	}
	return &p, nil
}

func dueDate(d deadline.Date) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

// petitionCopyColumns are the columns a new petition is copied into, in
// the order of petitionRows' values.
var petitionCopyColumns = []string{"id", "tracking_code", "lookup_hash", "state", "agency_code", "category",
	"petitioner_kind", "petitioner_enc", "title", "body", "procedure_ref", "legal_ref", "channel", "entered_by",
	"received_at", "last_public_update", "next_update_due", "words_sealed", "search_tokens", "updated_at"}

// petitionRows feeds new petitions to COPY (a group commit: one COPY
// instead of a statement per petition; COPY's binary rows cost the server
// and pgx less than arrays of columns unnested).
type petitionRows struct {
	ps   []*petition.Stored
	next int
	row  [20]any
}

// Next moves to the next petition, false after the last.
func (r *petitionRows) Next() bool {
	r.next++
	return r.next <= len(r.ps)
}

// Values gives the current petition's row; pgx encodes it before the next
// Next, so the one row is reused.
func (r *petitionRows) Values() ([]any, error) {
	p := r.ps[r.next-1]
	// The ids go as uuids: COPY's binary rows cannot carry a uuid as
	// text, and pgx's fallback for a string re-parses it through the text
	// codec, an error and a scan per row.
	id, ok := uuidOf(p.ID)
	if !ok {
		return nil, fmt.Errorf("petition id %q is not a uuid", p.ID)
	}
	var entered pgtype.UUID // NULL unless entered by staff
	if p.EnteredBy != "" {
		if entered, ok = uuidOf(p.EnteredBy); !ok {
			return nil, fmt.Errorf("petition entered by %q: not a uuid", p.EnteredBy)
		}
	}
	tokens := p.SearchTokens
	if tokens == nil {
		tokens = []int64{}
	}
	r.row = [20]any{id, p.TrackingCode, p.LookupHash, string(p.State), p.Agency, string(p.Category),
		string(p.PetitionerKind), p.PetitionerEnc, p.Title, p.Body, p.ProcedureRef, p.LegalRef, string(p.Channel), entered,
		p.ReceivedAt, p.ReceivedAt, dueDate(p.NextUpdateDue), p.WordsSealed, tokens, p.ReceivedAt}
	return r.row[:], nil
}

// Err is nil: the rows are in memory.
func (r *petitionRows) Err() error { return nil }

// Prepare returns p: PostgreSQL stores a petition as it is given.
func (s *PetitionStore) Prepare(_ context.Context, p *petition.Stored) (*petition.Stored, error) {
	return p, nil
}

// Insert stores a new petition. A taken tracking code gives store.ErrConflict.
func (s *PetitionStore) Insert(ctx context.Context, p *petition.Stored) error {
	_, err := s.DB.conn(ctx).CopyFrom(ctx, pgx.Identifier{"petitions"}, petitionCopyColumns, &petitionRows{ps: []*petition.Stored{p}})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("insert petition: %w", err)
	}
	return nil
}

// Petition loads a petition by id; store.ErrNotFound when none has it
// (or id is no id as pakn writes it).
func (s *PetitionStore) Petition(ctx context.Context, id string) (*petition.Stored, error) {
	u, ok := uuidOf(id)
	if !ok {
		return nil, store.ErrNotFound
	}
	return scanPetition(s.DB.conn(ctx).QueryRow(ctx, "SELECT "+petitionColumns+" FROM petitions WHERE id = $1", u))
}

// LockPetition loads a petition by id and locks its row until the
// transaction ctx carries ends.
func (s *PetitionStore) LockPetition(ctx context.Context, id string) (*petition.Stored, error) {
	u, ok := uuidOf(id)
	if !ok {
		return nil, store.ErrNotFound
	}
	return scanPetition(s.DB.conn(ctx).QueryRow(ctx, "SELECT "+petitionColumns+" FROM petitions WHERE id = $1 FOR UPDATE", u))
}

// PetitionByCode loads a petition by its tracking code.
func (s *PetitionStore) PetitionByCode(ctx context.Context, code string) (*petition.Stored, error) {
	return scanPetition(s.DB.conn(ctx).QueryRow(ctx, "SELECT "+petitionColumns+" FROM petitions WHERE tracking_code = $1", code))
}

// Tracked reads the petition with a tracking code, its public events and
// its current signed reply (one not superseded by another signed one) in
// one batch: one connection, one round trip.
func (s *PetitionStore) Tracked(ctx context.Context, code string) (*store.Tracked, error) {
	const byCode = `(SELECT id FROM petitions WHERE tracking_code = $1)`
	var b pgx.Batch
	t := &store.Tracked{}
	var perr error // ErrNotFound when no petition has the code
	b.Queue("SELECT "+petitionColumns+" FROM petitions WHERE tracking_code = $1", code).QueryRow(func(row pgx.Row) error {
		t.Petition, perr = scanPetition(row)
		return nil
	})
	b.Queue(`SELECT `+eventColumns+` FROM petition_events WHERE petition_id = `+byCode+` AND public ORDER BY id`, code).
		Query(func(rows pgx.Rows) (err error) {
			t.Events, err = pgx.CollectRows(rows, scanEvent)
			return err
		})
	b.Queue(`SELECT r.id::text, d.number, d.signed_at FROM replies r JOIN signed_replies d ON d.reply_id = r.id
		WHERE r.petition_id = `+byCode+` AND r.status = 'signed'
		AND NOT EXISTS (SELECT 1 FROM replies n WHERE n.supersedes = r.id AND n.status = 'signed')
		ORDER BY d.signed_at DESC LIMIT 1`, code).QueryRow(func(row pgx.Row) error {
		var rep store.TrackedReply
		switch e := row.Scan(&rep.ID, &rep.Number, &rep.SignedAt); {
		case errors.Is(e, pgx.ErrNoRows):
		case e != nil:
			return e
		default:
			t.Reply = &rep
		}
		return nil
	})
	if berr := s.DB.conn(ctx).SendBatch(ctx, &b).Close(); berr != nil {
		return nil, fmt.Errorf("tracked petition: %w", berr)
	}
	if perr != nil {
		return nil, perr
	}
	return t, nil
}

// Exists reports whether a tracking code is taken.
func (s *PetitionStore) Exists(ctx context.Context, code string) (bool, error) {
	q := s.DB.conn(ctx)
	var ok bool
	err := q.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM petitions WHERE tracking_code = $1)", code).Scan(&ok)
	return ok, err
}

// Update stores a petition's lifecycle fields.
func (s *PetitionStore) Update(ctx context.Context, p *petition.Petition) error {
	tx := s.DB.conn(ctx)
	_, err := tx.Exec(ctx, `UPDATE petitions SET state = $2, agency_code = $3, category = $4, last_public_update = $5,
		next_update_due = $6, closed_at = $7, reopen_count = $8, reject_reason = $9, duplicate_of = $10, updated_at = $11,
		handler_id = $12::uuid
		WHERE id = $1`, p.ID, string(p.State), p.Agency, string(p.Category), p.LastPublicUpdate, dueDate(p.NextUpdateDue),
		nullTime(p.ClosedAt), p.ReopenCount, nullString(string(p.RejectReason)), nullString(p.DuplicateOf), p.UpdatedAt, nullString(p.Handler))
	if err != nil {
		return fmt.Errorf("update petition: %w", err)
	}
	return nil
}

// AddEvent appends to a petition's timeline.
func (s *PetitionStore) AddEvent(ctx context.Context, petitionID string, e petition.Event) error {
	tx := s.DB.conn(ctx)
	_, err := tx.Exec(ctx, `INSERT INTO petition_events (petition_id, at, kind, from_state, to_state, from_agency, to_agency, actor, public, note)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, petitionID, e.At, e.Kind, string(e.FromState), string(e.ToState),
		e.FromAgency, e.ToAgency, e.Actor, e.Public, e.Note)
	if err != nil {
		return fmt.Errorf("add petition event: %w", err)
	}
	return nil
}

// Events returns a petition's timeline, oldest first; publicOnly keeps the
// entries the petitioner may see.
func (s *PetitionStore) Events(ctx context.Context, petitionID string, publicOnly bool) ([]petition.Event, error) {
	q := s.DB.conn(ctx)
	rows, err := q.Query(ctx, `SELECT `+eventColumns+`
		FROM petition_events WHERE petition_id = $1 AND (public OR NOT $2) ORDER BY id`, petitionID, publicOnly)
	if err != nil {
		return nil, fmt.Errorf("petition events: %w", err)
	}
	return pgx.CollectRows(rows, scanEvent)
}

const eventColumns = `at, kind, from_state, to_state, from_agency, to_agency, actor, public, note`

func scanEvent(r pgx.CollectableRow) (petition.Event, error) {
	var e petition.Event
	var from, to string
	err := r.Scan(&e.At, &e.Kind, &from, &to, &e.FromAgency, &e.ToAgency, &e.Actor, &e.Public, &e.Note)
	e.FromState, e.ToState = petition.State(from), petition.State(to)
	return e, err
}

// AttachmentChunk is the size of the chunks attachments are stored in.
const AttachmentChunk = 512 << 10

// AddAttachment stores an attachment at a position: its row, then its
// content in chunks copied from a.Content as it is read, so no more than a
// chunk of it is in memory at once.
func (s *PetitionStore) AddAttachment(ctx context.Context, petitionID string, pos int, a *petition.Attachment) error {
	tx := s.DB.conn(ctx)
	var id string
	err := tx.QueryRow(ctx, `INSERT INTO petition_attachments (id, petition_id, position, name, media_type, size, sha256)
		VALUES (coalesce($1::uuid, gen_random_uuid()), $2, $3, $4, $5, $6, $7) RETURNING id`,
		nullString(a.ID), petitionID, pos, a.Name, a.MediaType, a.Size, a.SHA256).Scan(&id)
	if err != nil {
		return fmt.Errorf("add attachment: %w", err)
	}
	src := &chunkSource{id: id, r: io.NewSectionReader(a.Content, 0, a.Size), buf: make([]byte, AttachmentChunk), seq: -1, seal: a.SealChunk}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"petition_attachment_chunks"}, []string{"attachment_id", "seq", "data"}, src)
	if err != nil {
		return fmt.Errorf("add attachment content: %w", err)
	}
	if want := (a.Size + AttachmentChunk - 1) / AttachmentChunk; n != want {
		return fmt.Errorf("add attachment content: %d chunks written, %d expected", n, want)
	}
	return nil
}

// chunkSource feeds an attachment's content to COPY one chunk at a time.
type chunkSource struct {
	id   string
	r    io.Reader
	buf  []byte
	n    int
	seq  int
	err  error
	seal func(seq int, chunk []byte) ([]byte, error) // nil: stored as read
}

func (c *chunkSource) Next() bool {
	c.n, c.err = io.ReadFull(c.r, c.buf)
	if errors.Is(c.err, io.ErrUnexpectedEOF) {
		c.err = nil
	}
	if c.n == 0 {
		if errors.Is(c.err, io.EOF) {
			c.err = nil
		}
		return false
	}
	c.seq++
	return c.err == nil
}

// Values gives the current chunk; pgx encodes it before the next Next, so
// the one buffer is reused.
func (c *chunkSource) Values() ([]any, error) {
	if c.seal == nil {
		return []any{c.id, c.seq, c.buf[:c.n]}, nil
	}
	sealed, err := c.seal(c.seq, c.buf[:c.n])
	if err != nil {
		return nil, err
	}
	return []any{c.id, c.seq, sealed}, nil
}

func (c *chunkSource) Err() error { return c.err }

// Attachments lists a petition's attachments (without their content).
func (s *PetitionStore) Attachments(ctx context.Context, petitionID string) ([]petition.AttachmentInfo, error) {
	q := s.DB.conn(ctx)
	rows, err := q.Query(ctx, `SELECT id, name, media_type, sha256, size FROM petition_attachments WHERE petition_id = $1 ORDER BY position`, petitionID)
	if err != nil {
		return nil, fmt.Errorf("list attachments: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (petition.AttachmentInfo, error) {
		var a petition.AttachmentInfo
		err := r.Scan(&a.ID, &a.Name, &a.MediaType, &a.SHA256, &a.Size)
		return a, err
	})
}

// Attachment describes one attachment of a petition.
func (s *PetitionStore) Attachment(ctx context.Context, petitionID, id string) (*petition.AttachmentInfo, error) {
	pid, ok := uuidOf(petitionID)
	aid, ok2 := uuidOf(id)
	if !ok || !ok2 {
		return nil, store.ErrNotFound
	}
	var a petition.AttachmentInfo
	err := s.DB.conn(ctx).QueryRow(ctx, `SELECT id, name, media_type, sha256, size FROM petition_attachments
		WHERE petition_id = $1 AND id = $2`, pid, aid).Scan(&a.ID, &a.Name, &a.MediaType, &a.SHA256, &a.Size)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load attachment: %w", err)
	}
	return &a, nil
}

// CopyAttachment writes an attachment's content to w chunk by chunk, as
// the rows arrive: at most a chunk of it is in memory at once.
func (s *PetitionStore) CopyAttachment(ctx context.Context, id string, w io.Writer) error {
	q := s.DB.conn(ctx)
	rows, err := q.Query(ctx, `SELECT data FROM petition_attachment_chunks WHERE attachment_id = $1 ORDER BY seq`, id)
	if err != nil {
		return fmt.Errorf("read attachment: %w", err)
	}
	defer rows.Close()
	var chunk []byte
	for rows.Next() {
		if err := rows.Scan(&chunk); err != nil {
			return fmt.Errorf("read attachment: %w", err)
		}
		if _, err := w.Write(chunk); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read attachment: %w", err)
	}
	return nil
}

// List returns the petitions matching f, most recent first, and how many
// match in all.
func (s *PetitionStore) List(ctx context.Context, f petition.Filter) ([]petition.Petition, int, error) {
	q := s.DB.conn(ctx)
	where := []string{"agency_code = $1"}
	args := []any{f.Agency}
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if len(f.States) > 0 {
		st := make([]string, len(f.States))
		for i, x := range f.States {
			st[i] = string(x)
		}
		where = append(where, "state = ANY("+arg(st)+")")
	}
	if f.Category != "" {
		where = append(where, "category = "+arg(string(f.Category)))
	}
	if f.DueBefore != nil {
		where = append(where, "next_update_due <= "+arg(dueDate(*f.DueBefore)))
	}
	if f.DueFrom != nil {
		where = append(where, "next_update_due >= "+arg(dueDate(*f.DueFrom)))
	}
	if f.Overdue != nil {
		where = append(where, "next_update_due < "+arg(dueDate(*f.Overdue))+" AND state NOT IN ('rejected', 'closed')")
	}
	if f.Open {
		where = append(where, "state NOT IN ('rejected', 'closed')") // as petitions_agency_due's predicate, so that index serves
	}
	if f.Handler != "" {
		where = append(where, "handler_id = "+arg(f.Handler)+"::uuid")
	}
	if f.ReceivedFrom != nil {
		where = append(where, "received_at >= "+arg(f.ReceivedFrom.Start()))
	}
	if f.ReceivedTo != nil {
		where = append(where, "received_at < "+arg(f.ReceivedTo.AddDays(1).Start()))
	}
	if len(f.QueryTokens) > 0 {
		where = append(where, "search_tokens @> "+arg(f.QueryTokens)+"::bigint[]")
	} else if strings.TrimSpace(f.Query) != "" {
		return nil, 0, errors.New("list petitions: words to search need their blind index (internal/sealed)")
	}
	cond := strings.Join(where, " AND ")
	count := "SELECT count(*) FROM petitions WHERE " + cond
	if f.CountCap > 0 {
		count = "SELECT count(*) FROM (SELECT 1 FROM petitions WHERE " + cond + " LIMIT " + strconv.Itoa(f.CountCap+1) + ") matches"
	}
	// The count and the page in one round trip.
	var b pgx.Batch
	var total int
	var out []petition.Petition
	b.Queue(count, args...).QueryRow(func(row pgx.Row) error { return row.Scan(&total) })
	page := "SELECT " + petitionColumns + " FROM petitions WHERE " + cond + " ORDER BY received_at DESC, id LIMIT " + arg(f.Limit) + " OFFSET " + arg(f.Offset)
	b.Queue(page, args...).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			p, err := scanPetition(rows)
			if err != nil {
				return err
			}
			out = append(out, p.Petition)
		}
		return rows.Err()
	})
	if err := q.SendBatch(ctx, &b).Close(); err != nil {
		return nil, 0, fmt.Errorf("list petitions: %w", err)
	}
	return out, total, nil
}

// QueueCounts counts an agency's open petitions: overdue (due before
// today), due soon (from today to soonUntil) and all, each up to upTo+1
// (beyond upTo, "more than upTo"), in one round trip.
func (s *PetitionStore) QueueCounts(ctx context.Context, agency string, today, soonUntil deadline.Date, upTo int) (petition.QueueCounts, error) {
	const open = `FROM petitions WHERE agency_code = $1 AND state NOT IN ('rejected', 'closed')` // petitions_agency_due's predicate
	var c petition.QueueCounts
	err := s.DB.conn(ctx).QueryRow(ctx, `SELECT
		(SELECT count(*) FROM (SELECT 1 `+open+` AND next_update_due < $2 LIMIT $4) o),
		(SELECT count(*) FROM (SELECT 1 `+open+` AND next_update_due >= $2 AND next_update_due <= $3 LIMIT $4) s),
		(SELECT count(*) FROM (SELECT 1 `+open+` LIMIT $4) a)`, agency, dueDate(today), dueDate(soonUntil), upTo+1).
		Scan(&c.Overdue, &c.DueSoon, &c.Open)
	if err != nil {
		return c, fmt.Errorf("queue counts: %w", err)
	}
	return c, nil
}

// DueCounts counts, for each agency in agencies, open petitions due before
// today (overdue) and due from today to soonUntil (due soon).
func (s *PetitionStore) DueCounts(ctx context.Context, agencies []string, today, soonUntil deadline.Date) ([]petition.DueCount, error) {
	q := s.DB.conn(ctx)
	rows, err := q.Query(ctx, `SELECT a.code,
		count(p.id) FILTER (WHERE p.next_update_due < $2),
		count(p.id) FILTER (WHERE p.next_update_due >= $2 AND p.next_update_due <= $3)
		FROM unnest($1::text[]) AS a(code)
		LEFT JOIN petitions p ON p.agency_code = a.code AND p.state NOT IN ('rejected', 'closed')
		GROUP BY a.code ORDER BY a.code`, agencies, dueDate(today), dueDate(soonUntil))
	if err != nil {
		return nil, fmt.Errorf("due counts: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (petition.DueCount, error) {
		var c petition.DueCount
		err := r.Scan(&c.Agency, &c.Overdue, &c.DueSoon)
		return c, err
	})
}

// ClaimKey claims an idempotency key for a request, inside tx. When the key
// is new it returns nil (the caller then stores its answer with
// SaveKeyResult before committing); when it was used before it returns what
// that first request left. Concurrent requests with one key wait for the
// first to commit.
func (s *PetitionStore) ClaimKey(ctx context.Context, key string, hash []byte, now time.Time) (*petition.IdempotencyRecord, error) {
	tx := s.DB.conn(ctx)
	b := &pgx.Batch{}
	s.queueClaimKeys(b, []string{key}, [][]byte{hash}, now)
	res := tx.SendBatch(ctx, b)
	tag, err := res.Exec()
	if cerr := res.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("claim idempotency key: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return nil, nil
	}
	return s.ReadKey(ctx, key)
}

// queueClaimKeys queues one statement claiming idempotency keys on b; its
// RowsAffected is the number of keys that were new: fewer than len(keys)
// means a request used one before (ReadKey then tells what it left, once
// this transaction ends).
func (s *PetitionStore) queueClaimKeys(b *pgx.Batch, keys []string, hashes [][]byte, now time.Time) {
	b.Queue(`INSERT INTO idempotency_keys (key, request_hash, created_at)
		SELECT k, h, $3 FROM unnest($1::text[], $2::bytea[]) AS v(k, h)
		ON CONFLICT (key) DO NOTHING`, keys, hashes, now)
}

// ReadKey returns what an idempotency key remembers.
func (s *PetitionStore) ReadKey(ctx context.Context, key string) (*petition.IdempotencyRecord, error) {
	q := s.DB.conn(ctx)
	var r petition.IdempotencyRecord
	err := q.QueryRow(ctx, `SELECT request_hash, coalesce(petition_id::text, ''), coalesce(response_enc, '')
		FROM idempotency_keys WHERE key = $1`, key).Scan(&r.RequestHash, &r.PetitionID, &r.ResponseEnc)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read idempotency key: %w", err)
	}
	return &r, nil
}

// queueSaveKeyResults queues one statement recording the answers to the
// requests that claimed keys.
func (s *PetitionStore) queueSaveKeyResults(b *pgx.Batch, keys, petitionIDs, responsesEnc []string) {
	b.Queue(`UPDATE idempotency_keys k SET petition_id = v.pid, response_enc = v.enc
		FROM unnest($1::text[], $2::uuid[], $3::text[]) AS v(key, pid, enc) WHERE k.key = v.key`, keys, petitionIDs, responsesEnc)
}

// SaveKeyResult records the answer to the request that claimed key.
func (s *PetitionStore) SaveKeyResult(ctx context.Context, key, petitionID, responseEnc string) error {
	tx := s.DB.conn(ctx)
	b := &pgx.Batch{}
	s.queueSaveKeyResults(b, []string{key}, []string{petitionID}, []string{responseEnc})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("save idempotency result: %w", err)
	}
	return nil
}

// UnsealedPetitions returns up to n petitions whose words are still in
// clear (written before sealing existed), oldest first.
func (s *PetitionStore) UnsealedPetitions(ctx context.Context, n int) ([]*petition.Stored, error) {
	rows, err := s.DB.conn(ctx).Query(ctx, "SELECT "+petitionColumns+" FROM petitions WHERE NOT words_sealed ORDER BY received_at, id LIMIT $1", n)
	if err != nil {
		return nil, fmt.Errorf("unsealed petitions: %w", err)
	}
	defer rows.Close()
	var out []*petition.Stored
	for rows.Next() {
		p, err := scanPetition(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// SealWords replaces a petition's words in clear by p's sealed words and
// blind index; false when they were sealed meanwhile.
func (s *PetitionStore) SealWords(ctx context.Context, p *petition.Stored) (bool, error) {
	tag, err := s.DB.conn(ctx).Exec(ctx, `UPDATE petitions SET title = $2, body = $3, search_tokens = $4, words_sealed = true
		WHERE id = $1 AND NOT words_sealed`, p.ID, p.Title, p.Body, p.SearchTokens)
	if err != nil {
		return false, fmt.Errorf("seal words: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}
