package sealed_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"pakn/internal/access"
	"pakn/internal/pdftest"
	"pakn/internal/petition"
	"pakn/internal/petitions"
	"pakn/internal/pgtest"
	"pakn/internal/postgres"
	"pakn/internal/sealed"
	"pakn/internal/servicetest"
	"pakn/internal/vault"
)

// A petition's words and file reach staff as sent, the words found by a
// search with or without accents, while a dump of the database (pg_dump,
// as a thief with the database's credentials would take it) holds none of
// them: neither its sentences nor any of its words, folded or not, nor
// any line of its file.
func TestDatabaseDumpHoldsNoCitizensWords(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	sub := servicetest.Submission()
	sub.Title = "Cầu thang khu tập thể Giảng Võ xuống cấp"
	sub.Body = "Cầu thang nhà C7 khu tập thể Giảng Võ đã nứt vỡ nhiều chỗ, người cao tuổi đi lại rất nguy hiểm."
	// A file of two chunks and a bit, whose every line can be looked for in a dump.
	line := []byte("ảnh chụp cầu thang C7 Giảng Võ, tầng 3, ngày 12/11 | ")
	file := append([]byte("%PDF-1.7\n"), bytes.Repeat(line, (2*512<<10)/len(line)+100)...)
	rc, err := e.Petitions.Submit(ctx, e.M, servicetest.Anon, "", sub, []petitions.FileIn{{Name: "anh-cau-thang.pdf", Content: bytes.NewReader(file)}})
	if err != nil {
		t.Fatal(err)
	}
	official := servicetest.Staff("STP-HN", access.Official)
	id := e.ID(t, rc.TrackingCode)
	d, err := e.Petitions.Get(ctx, e.M, official, id)
	if err != nil || d.Title != sub.Title || d.Body != sub.Body {
		t.Fatalf("the petition as staff read it: %+v %v", d, err)
	}
	if len(d.Attachments) != 1 {
		t.Fatalf("attachments %+v", d.Attachments)
	}
	info, copyTo, err := e.Petitions.Attachment(ctx, e.M, official, id, d.Attachments[0].ID)
	var got bytes.Buffer
	if err != nil || copyTo(&got) != nil || !bytes.Equal(got.Bytes(), file) || info.Size != int64(len(file)) || info.Name != "anh-cau-thang.pdf" {
		t.Fatalf("the attachment as staff download it: %d bytes of %d (%v)", got.Len(), len(file), err)
	}
	for _, q := range []string{"Giảng Võ", "giang vo", "NỨT VỠ nguy hiểm"} {
		found, n, err := e.Petitions.List(ctx, e.M, official, petitions.ListQuery{Query: q, Limit: 10})
		if err != nil || n != 1 || found[0].ID != id || found[0].Title != sub.Title {
			t.Fatalf("search %q: %d found (%v)", q, n, err)
		}
	}
	if _, n, err := e.Petitions.List(ctx, e.M, official, petitions.ListQuery{Query: "Giảng Võ Hà Đông", Limit: 10}); err != nil || n != 0 {
		t.Fatalf("a search for a word the petition lacks: %d found (%v)", n, err)
	}
	// The petitioner's receipt (which lists the file names) reads as signed.
	if r, err := e.Replies.ReceiptPDF(ctx, e.M, rc.TrackingCode, rc.LookupSecret); err != nil || !bytes.HasPrefix(r.PDF, []byte("%PDF-")) {
		t.Fatalf("the receipt: %v", err)
	}
	dump := pgDump(t, e.DB)
	if !bytes.Contains(dump, []byte(rc.TrackingCode)) {
		t.Fatal("the dump lacks the petition: it dumped something else")
	}
	words := []string{sub.Title, sub.Body, "Cầu thang", "Giảng Võ", "nứt vỡ", "nguy hiểm", string(line), "tầng 3, ngày 12/11", "anh-cau-thang"}
	for _, w := range slices.Clone(words) {
		words = append(words, petition.Fold(w))
	}
	for _, w := range words {
		if bytes.Contains(dump, []byte(w)) {
			t.Errorf("the database dump holds %q", w)
		}
	}
}

// pgDump dumps db whole (schema and data) as its superuser.
func pgDump(t *testing.T, db *pgtest.DB) []byte {
	t.Helper()
	bin, err := exec.LookPath("pg_dump")
	if err != nil {
		found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_dump")
		if len(found) == 0 {
			t.Fatal("pg_dump is required (Debian: postgresql-client; tools/stack.sh installs PostgreSQL)")
		}
		bin = found[len(found)-1]
	}
	out, err := exec.Command(bin, "--dbname="+db.SuperURL).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	return out
}

// Petitions stored before sealing existed keep their words in clear until
// Reseal seals and indexes them: then they read the same, are found by
// word again, and the dump no longer holds their words.
func TestResealSealsTheWordsOfOlderPetitions(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	sub := servicetest.Submission()
	sub.Title, sub.Body = "Đèn đường phố Kim Mã không sáng", "Đèn đường đoạn phố Kim Mã gần ngã tư Liễu Giai tắt đã hai tuần."
	rc := e.Submit(t, sub)
	id := e.ID(t, rc.TrackingCode)
	// As an earlier version stored it.
	e.DB.Superuser(t, `UPDATE petitions SET title = 'Đèn đường phố Kim Mã không sáng',
		body = 'Đèn đường đoạn phố Kim Mã gần ngã tư Liễu Giai tắt đã hai tuần.', words_sealed = false, search_tokens = '{}' WHERE id = '`+id+`'`)
	official := servicetest.Staff("STP-HN", access.Official)
	if d, err := e.Petitions.Get(ctx, e.M, official, id); err != nil || d.Title != sub.Title {
		t.Fatalf("an older petition reads: %+v %v", d, err)
	}
	if _, n, _ := e.Petitions.List(ctx, e.M, official, petitions.ListQuery{Query: "Kim Mã", Limit: 10}); n != 0 {
		t.Fatal("an older petition's words are indexed before resealing")
	}
	ps := &postgres.PetitionStore{DB: &postgres.DB{Pool: e.DB.Pool}}
	n, err := sealed.Reseal(ctx, ps, vault.NewEnvelopeBox(e.VC, vault.PIIKey), servicetest.SearchKey)
	if err != nil || n != 1 {
		t.Fatalf("reseal: %d (%v)", n, err)
	}
	if n, err := sealed.Reseal(ctx, ps, vault.NewEnvelopeBox(e.VC, vault.PIIKey), servicetest.SearchKey); err != nil || n != 0 {
		t.Fatalf("a second reseal: %d (%v)", n, err)
	}
	d, err := e.Petitions.Get(ctx, e.M, official, id)
	if err != nil || d.Title != sub.Title || d.Body != sub.Body {
		t.Fatalf("after resealing: %+v %v", d, err)
	}
	if found, n, err := e.Petitions.List(ctx, e.M, official, petitions.ListQuery{Query: "kim ma lieu giai", Limit: 10}); err != nil || n != 1 || found[0].ID != id {
		t.Fatalf("after resealing, a search: %d (%v)", n, err)
	}
	if dump := pgDump(t, e.DB); bytes.Contains(dump, []byte("Kim Mã")) || bytes.Contains(dump, []byte("Liễu Giai")) {
		t.Fatal("the dump holds the resealed petition's words")
	}
}

// The personal version of a signed reply (addressed to the petitioner by
// name and address) is stored sealed, bound to its reply, and so is the
// reply's content: the petitioner and staff get the document as signed,
// with the SHA-256 the register knows; the public version stays as it is;
// a dump holds none of the reply's words.
func TestPersonalReplyIsSealed(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	_, r, _ := e.Approved(t)
	signed, err := e.Replies.SignReply(ctx, e.M, e.Signer(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	var stored, public []byte
	if err := e.DB.Pool.QueryRow(ctx, `SELECT d.pdf, p.pdf FROM signed_replies d JOIN public_replies p USING (reply_id) WHERE reply_id = $1`,
		r.ID).Scan(&stored, &public); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(stored, []byte("PKE1")) || !bytes.HasPrefix(public, []byte("PKE1")) {
		t.Fatalf("stored: the personal version starts %q, the public one %q", stored[:8], public[:8])
	}
	var publicSum string
	if err := e.DB.Pool.QueryRow(ctx, `SELECT sha256 FROM public_replies WHERE reply_id = $1`, r.ID).Scan(&publicSum); err != nil {
		t.Fatal(err)
	}
	if pub, err := e.Stores.Replies.PublicPDF(ctx, r.ID); err != nil || sha256Hex(pub) != publicSum {
		t.Fatalf("the public version as read: %v", err)
	}
	_, pdf, err := e.Replies.ReplyPDF(ctx, e.M, servicetest.Staff("STP-HN", access.Official), r.ID)
	if err != nil || sha256Hex(pdf) != signed.Document.SHA256 {
		t.Fatalf("the personal version as read: %v", err)
	}
	pdftest.RequireValid(t, pdf, e.Root)
	// Neither the reply's words (drafted, signed) nor its search words are in a dump.
	c := servicetest.ReplyContent()
	dump := pgDump(t, e.DB)
	for _, w := range []string{c.Summary, c.Answer, petition.Fold(c.Summary), petition.Fold(c.Answer)} {
		if bytes.Contains(dump, []byte(w)) {
			t.Errorf("the database dump holds the reply's %q", w)
		}
	}
	// Bound to its reply: the sealed bytes moved to another owner do not open.
	if _, err := vault.NewEnvelopeBox(e.VC, vault.PIIKey).OpenBytes(ctx, "reply:"+r.ID+"#other", stored); err == nil {
		t.Fatal("the sealed personal version opened for another owner")
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// A petitioner's reason to reopen is sealed in the timeline: staff and the
// petitioner read it as written, a dump does not hold it.
func TestReopeningReasonIsSealed(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	rc := e.Submit(t, servicetest.Submission())
	id := e.ID(t, rc.TrackingCode)
	e.AnswerAndClose(t, id, petition.Accept)
	const reason = "Tôi chưa nhận được bản sao kết quả giải quyết tại phường Thành Công"
	if err := e.Petitions.Reopen(ctx, e.M, rc.TrackingCode, rc.LookupSecret, reason); err != nil {
		t.Fatal(err)
	}
	d, err := e.Petitions.Get(ctx, e.M, servicetest.Staff("STP-HN", access.Official), id)
	if err != nil || !slices.ContainsFunc(d.Timeline, func(ev petition.Event) bool { return ev.Note == reason }) {
		t.Fatalf("the timeline as staff read it: %+v %v", d.Timeline, err)
	}
	dump := pgDump(t, e.DB)
	for _, w := range []string{reason, "Thành Công", petition.Fold(reason)} {
		if bytes.Contains(dump, []byte(w)) {
			t.Errorf("the database dump holds %q", w)
		}
	}
}
