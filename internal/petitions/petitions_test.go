package petitions_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"pakn/internal/access"
	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/deadline"
	"pakn/internal/petition"
	"pakn/internal/petitions"
	"pakn/internal/postgres"
	"pakn/internal/servicetest"
)

func TestSubmitAndLookupKeepPersonalDataSealed(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	r := e.Submit(t, servicetest.Submission())
	if !strings.HasPrefix(r.TrackingCode, "PAKN-2026-") || len(r.LookupSecret) != 26 || r.Agency != "STP-HN" {
		t.Fatalf("receipt %+v (a regulation goes to the Department of Justice)", r)
	}
	if r.NextUpdateDue.String() != "2026-06-29" {
		t.Fatalf("due %s, want 20 working days later: 2026-06-29", r.NextUpdateDue)
	}
	v, err := e.Petitions.Lookup(ctx, e.M, strings.ToLower(r.TrackingCode), strings.ToLower(r.LookupSecret))
	if err != nil {
		t.Fatal(err)
	}
	if v.State != petition.Received || len(v.Timeline) != 1 || v.DeadlineStatus != deadline.OnTime {
		t.Fatalf("view %+v", v)
	}
	_, err = e.Petitions.Lookup(ctx, e.M, r.TrackingCode, "WRONGSECRETWRONGSECRETWRON")
	servicetest.WantCode(t, err, apperr.NotFound)
	_, err2 := e.Petitions.Lookup(ctx, e.M, "PAKN-2026-0000-0000", r.LookupSecret)
	if apperr.MessageOf(err) != apperr.MessageOf(err2) {
		t.Fatal("a wrong secret and an unknown code answer differently")
	}

	// Personal data is nowhere in clear: not in the row, the timeline, the audit log.
	var dump string
	if err := e.DB.Pool.QueryRow(ctx, `SELECT concat_ws('|', (SELECT string_agg(p::text, '|') FROM petitions p),
		(SELECT string_agg(e::text, '|') FROM petition_events e), (SELECT string_agg(a::text, '|') FROM audit_events a),
		(SELECT string_agg(k::text, '|') FROM idempotency_keys k))`).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	for _, pii := range []string{"Nhung", "nhung@example.vn", "0912345678", "Điện Biên", "001203004567", r.LookupSecret} {
		if strings.Contains(dump, pii) {
			t.Fatalf("%q is stored in clear", pii)
		}
	}
	// Staff of the agency see it, decrypted, and the reading is audited.
	d, err := e.Petitions.Get(ctx, e.M, servicetest.Staff("STP-HN", access.Official), e.ID(t, r.TrackingCode))
	if err != nil {
		t.Fatal(err)
	}
	if d.Petitioner.Name != "Nguyễn Thị Hồng Nhung" || d.Petitioner.Email != "nhung@example.vn" {
		t.Fatalf("petitioner %+v", d.Petitioner)
	}
	var views, denied int
	_ = e.DB.Pool.QueryRow(ctx, "SELECT count(*) FILTER (WHERE action = 'petition.view'), count(*) FILTER (WHERE action = 'petition.lookup' AND outcome = 'denied') FROM audit_events").Scan(&views, &denied)
	if views != 1 || denied != 2 {
		t.Fatalf("%d view events, %d denied lookups; want 1 and 2", views, denied)
	}
}

func TestStaffOfAnotherAgencyCannotSeeOrAct(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	id := e.ID(t, e.Submit(t, servicetest.Submission()).TrackingCode)
	other := servicetest.Staff("SKHDT-HN", access.Official)
	_, err := e.Petitions.Get(ctx, e.M, other, id)
	servicetest.WantCode(t, err, apperr.NotFound)
	servicetest.WantCode(t, e.Replies.Transition(ctx, e.M, other, id, petition.Accept, petitions.TransitionInput{}), apperr.NotFound)
	list, _, err := e.Petitions.List(ctx, e.M, other, petitions.ListQuery{})
	if err != nil || len(list) != 0 {
		t.Fatalf("another agency lists %d petitions (%v)", len(list), err)
	}
	var n int
	_ = e.DB.Pool.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE action = 'access.denied' AND object_id = $1", id).Scan(&n)
	if n != 2 {
		t.Fatalf("%d denied events, want 2", n)
	}
}

func TestLifecycleEveryTransition(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	id := e.ID(t, e.Submit(t, servicetest.Submission()).TrackingCode)
	official := servicetest.Staff("STP-HN", access.Official)
	reviewer := servicetest.Staff("STP-HN", access.Reviewer)
	signer := servicetest.Staff("STP-HN", access.Signer)
	signerUp := signer
	signerUp.SteppedUp = e.Clock.Now()
	steps := []struct {
		who  access.Principal
		t    petition.Transition
		in   petitions.TransitionInput
		want apperr.Code // "" for success
		then petition.State
	}{
		{official, petition.Start, petitions.TransitionInput{}, apperr.Conflict, petition.Received},
		{reviewer, petition.Accept, petitions.TransitionInput{}, apperr.Forbidden, petition.Received},
		{official, petition.Accept, petitions.TransitionInput{Category: "bogus"}, apperr.Invalid, petition.Received},
		{official, petition.Accept, petitions.TransitionInput{Category: petition.CatConduct}, "", petition.Accepted},
		{official, petition.Start, petitions.TransitionInput{}, "", petition.InProgress},
		{official, petition.ApproveReply, petitions.TransitionInput{}, apperr.Forbidden, petition.InProgress},
		{official, petition.DraftReply, petitions.TransitionInput{}, apperr.Invalid, petition.InProgress},
		{official, petition.DraftReply, servicetest.Draft(), "", petition.ReplyDrafted},
		{reviewer, petition.SendBack, petitions.TransitionInput{}, apperr.Invalid, petition.ReplyDrafted},
		{reviewer, petition.SendBack, petitions.TransitionInput{Note: "Bổ sung căn cứ pháp lý"}, "", petition.InProgress},
		{official, petition.DraftReply, servicetest.Draft(), "", petition.ReplyDrafted},
		{reviewer, petition.ApproveReply, petitions.TransitionInput{}, "", petition.ReplyApproved},
		{signer, petition.SignReply, petitions.TransitionInput{}, apperr.StepUpRequired, petition.ReplyApproved},
		{signerUp, petition.SignReply, petitions.TransitionInput{}, "", petition.ReplySigned},
		{official, petition.Close, petitions.TransitionInput{}, apperr.Conflict, petition.ReplySigned},
		{official, petition.Publish, petitions.TransitionInput{}, "", petition.Published},
		{official, petition.Close, petitions.TransitionInput{}, "", petition.Closed},
		{official, petition.Reopen, petitions.TransitionInput{}, apperr.Invalid, petition.Closed},
	}
	for i, st := range steps {
		err := e.Replies.Transition(ctx, e.M, st.who, id, st.t, st.in)
		if st.want == "" && err != nil {
			t.Fatalf("step %d %s: %v", i, st.t, err)
		}
		if st.want != "" {
			ae := servicetest.WantCode(t, err, st.want)
			if st.want == apperr.Conflict && (ae.Extra["state"] == nil || ae.Extra["allowed_transitions"] == nil) {
				t.Fatalf("step %d: a 409 must carry the state and allowed transitions: %+v", i, ae.Extra)
			}
		}
		d, err := e.Petitions.Get(ctx, e.M, official, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.State != st.then {
			t.Fatalf("step %d %s: state %s, want %s", i, st.t, d.State, st.then)
		}
	}
	d, _ := e.Petitions.Get(ctx, e.M, official, id)
	if len(d.Timeline) != 10 || d.Category != petition.CatConduct { // received + 9 transitions
		t.Fatalf("timeline of %d entries, category %s", len(d.Timeline), d.Category)
	}
	var events int
	_ = e.DB.Pool.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE action LIKE 'petition.%' AND action NOT IN ('petition.view', 'petition.submit')").Scan(&events)
	if events != 9 {
		t.Fatalf("%d transition events in the audit log, want one per transition (9)", events)
	}
}

func TestRejectWithPublishedReasons(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	first := e.Submit(t, servicetest.Submission())
	second := e.Submit(t, servicetest.Submission())
	id := e.ID(t, second.TrackingCode)
	official := servicetest.Staff("STP-HN", access.Official)
	servicetest.WantCode(t, e.Replies.Transition(ctx, e.M, official, id, petition.Reject, petitions.TransitionInput{Reason: "boring"}), apperr.Invalid)
	servicetest.WantCode(t, e.Replies.Transition(ctx, e.M, official, id, petition.Reject, petitions.TransitionInput{Reason: petition.Duplicate, DuplicateOf: second.TrackingCode}), apperr.Invalid)
	servicetest.WantCode(t, e.Replies.Transition(ctx, e.M, official, id, petition.Reject, petitions.TransitionInput{Reason: petition.Duplicate, DuplicateOf: "PAKN-2026-0000-0000"}), apperr.Invalid)
	if err := e.Replies.Transition(ctx, e.M, official, id, petition.Reject, petitions.TransitionInput{Reason: petition.Duplicate, DuplicateOf: strings.ToLower(first.TrackingCode)}); err != nil {
		t.Fatal(err)
	}
	v, err := e.Petitions.Lookup(ctx, e.M, second.TrackingCode, second.LookupSecret)
	if err != nil || v.State != petition.Rejected || !strings.Contains(v.Timeline[len(v.Timeline)-1].Message, "Trùng") {
		t.Fatalf("petitioner sees %+v %v", v, err)
	}
	for _, tr := range petition.AllTransitions {
		if tr == petition.Reopen {
			continue
		}
		if err := e.Replies.Transition(ctx, e.M, official, id, tr, petitions.TransitionInput{}); apperr.CodeOf(err) != apperr.Conflict && apperr.CodeOf(err) != apperr.Forbidden {
			t.Fatalf("%s on a rejected petition: %v", tr, err)
		}
	}
}

func TestTransferChainKeepsDeadlineAndHistory(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	r := e.Submit(t, servicetest.Submission())
	id := e.ID(t, r.TrackingCode)
	stp := servicetest.Staff("STP-HN", access.Official)
	if err := e.Replies.Transition(ctx, e.M, stp, id, petition.Accept, petitions.TransitionInput{}); err != nil {
		t.Fatal(err)
	}
	d0, _ := e.Petitions.Get(ctx, e.M, stp, id)
	e.Clock.Add(48 * time.Hour)
	servicetest.WantCode(t, e.Replies.Transition(ctx, e.M, stp, id, petition.Transfer, petitions.TransitionInput{Agency: "SKHDT-HN"}), apperr.Invalid) // no reason
	servicetest.WantCode(t, e.Replies.Transition(ctx, e.M, stp, id, petition.Transfer, petitions.TransitionInput{Agency: "NOPE", Note: "x"}), apperr.Invalid)
	if err := e.Replies.Transition(ctx, e.M, stp, id, petition.Transfer, petitions.TransitionInput{Agency: "SKHDT-HN", Note: "Thuộc thẩm quyền Sở KH&ĐT"}); err != nil {
		t.Fatal(err)
	}
	_, err := e.Petitions.Get(ctx, e.M, stp, id)
	servicetest.WantCode(t, err, apperr.NotFound) // the old agency no longer sees it
	kh := servicetest.Staff("SKHDT-HN", access.Official)
	if err := e.Replies.Transition(ctx, e.M, kh, id, petition.Start, petitions.TransitionInput{}); err != nil {
		t.Fatal(err)
	}
	d1, _ := e.Petitions.Get(ctx, e.M, kh, id)
	e.Clock.Add(24 * time.Hour)
	if err := e.Replies.Transition(ctx, e.M, kh, id, petition.Transfer, petitions.TransitionInput{Agency: "UBND-BD", Note: "Giao UBND quận Ba Đình xử lý"}); err != nil {
		t.Fatal(err)
	}
	bd := servicetest.Staff("UBND-BD", access.Official)
	d2, err := e.Petitions.Get(ctx, e.M, bd, id)
	if err != nil {
		t.Fatal(err)
	}
	if d2.Agency != "UBND-BD" || d2.State != petition.Accepted {
		t.Fatalf("after transfers: %s %s", d2.Agency, d2.State)
	}
	// Accept at receipt restarted the clock; the start (a public update) did too; transfers did not.
	if d2.NextUpdateDue != d1.NextUpdateDue || d0.NextUpdateDue.After(d1.NextUpdateDue) {
		t.Fatalf("due %s -> %s -> %s: a transfer must not reset it", d0.NextUpdateDue, d1.NextUpdateDue, d2.NextUpdateDue)
	}
	var chain []string
	for _, ev := range d2.Timeline {
		if ev.Kind == "transfer" {
			chain = append(chain, ev.FromAgency+">"+ev.ToAgency+": "+ev.Note)
		}
	}
	if len(chain) != 2 || !strings.HasPrefix(chain[0], "STP-HN>SKHDT-HN") || !strings.HasPrefix(chain[1], "SKHDT-HN>UBND-BD") {
		t.Fatalf("transfer history %v", chain)
	}
	v, _ := e.Petitions.Lookup(ctx, e.M, r.TrackingCode, r.LookupSecret)
	if v.Agency != "UBND-BD" {
		t.Fatalf("petitioner sees agency %s", v.Agency)
	}
}

func TestDeadlinesAcrossTetAndPublicUpdates(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	e.Clock.Set(time.Date(2026, 2, 10, 2, 0, 0, 0, time.UTC)) // Tuesday before Tết Bính Ngọ
	r := e.Submit(t, servicetest.Submission())
	if r.NextUpdateDue.String() != "2026-03-17" {
		t.Fatalf("due %s, want 2026-03-17 (20 working days, Tết and weekends excluded)", r.NextUpdateDue)
	}
	id := e.ID(t, r.TrackingCode)
	official := servicetest.Staff("STP-HN", access.Official)
	e.Clock.Set(time.Date(2026, 3, 12, 2, 0, 0, 0, time.UTC))
	s, _, _ := e.Petitions.List(ctx, e.M, official, petitions.ListQuery{DueSoon: true})
	if len(s) != 1 || s[0].DeadlineStatus != deadline.DueSoon || s[0].WorkingDaysLeft != 3 {
		t.Fatalf("due soon list %+v", s)
	}
	e.Clock.Set(time.Date(2026, 3, 18, 2, 0, 0, 0, time.UTC))
	s, total, _ := e.Petitions.List(ctx, e.M, official, petitions.ListQuery{Overdue: true})
	if total != 1 || s[0].DeadlineStatus != deadline.Overdue {
		t.Fatalf("overdue list %+v", s)
	}
	rep, err := e.Petitions.DueReport(ctx, e.M, servicetest.Staff("UBND-HN", access.Official))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range rep {
		if c.Agency == "STP-HN" {
			found = c.Overdue == 1
		}
	}
	if !found || len(rep) != 6 {
		t.Fatalf("report of the city and its agencies: %+v", rep)
	}
	// A public update restarts the 20 working days.
	if err := e.Petitions.PostUpdate(ctx, e.M, official, id, "Đang xác minh với Chi cục Thuế"); err != nil {
		t.Fatal(err)
	}
	d, _ := e.Petitions.Get(ctx, e.M, official, id)
	if d.NextUpdateDue.String() != "2026-04-15" || d.DeadlineStatus != deadline.OnTime {
		t.Fatalf("after the update: due %s %s, want 2026-04-15", d.NextUpdateDue, d.DeadlineStatus)
	}
	v, _ := e.Petitions.Lookup(ctx, e.M, r.TrackingCode, r.LookupSecret)
	if last := v.Timeline[len(v.Timeline)-1]; last.Kind != "public_update" || last.Message != "Đang xác minh với Chi cục Thuế" {
		t.Fatalf("petitioner's timeline ends with %+v", last)
	}
}

func TestSearchWithAndWithoutDiacritics(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	a := servicetest.Submission()
	e.Submit(t, a)
	b := servicetest.Submission()
	b.Title, b.Body = "Phi cap giay phep xay dung", "Bai viet khong dau: phi cap giay phep xay dung qua cao so voi quy dinh."
	e.Submit(t, b)
	c := servicetest.Submission()
	c.Title, c.Body = "Đề xuất số hoá hồ sơ", "Đề nghị số hóa toàn bộ hồ sơ đất đai để người dân tra cứu trực tuyến."
	e.Submit(t, c)
	official := servicetest.Staff("STP-HN", access.Official)
	for q, want := range map[string]int{
		"thu tuc": 1, "thủ tục": 1, "THỦ TỤC ĐĂNG KÝ": 1,
		"giấy phép xây dựng": 1, "giay phep": 1,
		"so hoa": 1, "số hoá": 1,
		"không có chữ này": 0,
	} {
		list, total, err := e.Petitions.List(ctx, e.M, official, petitions.ListQuery{Query: q})
		if err != nil || total != want || len(list) != want {
			t.Errorf("search %q: %d results (%v), want %d", q, total, err, want)
		}
	}
}

func TestIdempotentSubmission(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	sub := servicetest.Submission()
	first, err := e.Petitions.Submit(ctx, e.M, servicetest.Anon, "retry-key-1", sub, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.Petitions.Submit(ctx, e.M, servicetest.Anon, "retry-key-1", servicetest.Submission(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Replayed || again.TrackingCode != first.TrackingCode || again.LookupSecret != first.LookupSecret {
		t.Fatalf("retry gave %+v, first %+v", again, first)
	}
	other := servicetest.Submission()
	other.Title = "Một phản ánh khác hẳn"
	_, err = e.Petitions.Submit(ctx, e.M, servicetest.Anon, "retry-key-1", other, nil)
	servicetest.WantCode(t, err, apperr.Conflict)

	// Concurrent retries of one request make one petition.
	var wg sync.WaitGroup
	codes := make(chan string, 8)
	for i := 0; i < 8; i++ {
		wg.Go(func() {
			r, err := e.Petitions.Submit(ctx, e.M, servicetest.Anon, "retry-key-2", servicetest.Submission(), nil)
			if err != nil {
				t.Error(err)
				return
			}
			codes <- r.TrackingCode
		})
	}
	wg.Wait()
	close(codes)
	seen := map[string]bool{}
	for c := range codes {
		seen[c] = true
	}
	var n int
	_ = e.DB.Pool.QueryRow(ctx, "SELECT count(*) FROM petitions").Scan(&n)
	if len(seen) != 1 || n != 2 {
		t.Fatalf("%d distinct answers, %d petitions; want 1 and 2", len(seen), n)
	}

	// Another caller reusing the key (another address, or a member of staff)
	// gets a petition of their own, never the first receipt and its secret.
	elsewhere := audit.Meta{RequestID: "r2", ClientHash: "another-client"}
	theirs, err := e.Petitions.Submit(ctx, elsewhere, servicetest.Anon, "retry-key-1", servicetest.Submission(), nil)
	if err != nil || theirs.Replayed || theirs.TrackingCode == first.TrackingCode || theirs.LookupSecret == first.LookupSecret {
		t.Fatalf("another caller's submission with the key: %+v %v", theirs, err)
	}
}

func TestAttachments(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	exe := append([]byte("MZ\x90\x00\x03"), make([]byte, 512)...)
	_, err := e.Petitions.Submit(ctx, e.M, servicetest.Anon, "", servicetest.Submission(), []petitions.FileIn{{Name: "hoa-don.pdf", Content: bytes.NewReader(exe)}})
	ae := servicetest.WantCode(t, err, apperr.UnsupportedMedia)
	if len(ae.Fields) != 1 || ae.Fields[0].Field != "attachments[0]" {
		t.Fatalf("fields %+v", ae.Fields)
	}
	big := append([]byte("%PDF-1.4\n"), make([]byte, petition.MaxAttachmentSize)...)
	_, err = e.Petitions.Submit(ctx, e.M, servicetest.Anon, "", servicetest.Submission(), []petitions.FileIn{{Name: "scan.pdf", Content: bytes.NewReader(big)}})
	servicetest.WantCode(t, err, apperr.TooLarge)
	six := make([]petitions.FileIn, 6)
	for i := range six {
		six[i] = petitions.FileIn{Name: "a.pdf", Content: bytes.NewReader([]byte("%PDF-1.4 x"))}
	}
	_, err = e.Petitions.Submit(ctx, e.M, servicetest.Anon, "", servicetest.Submission(), six)
	servicetest.WantCode(t, err, apperr.Invalid)
	var n int
	_ = e.DB.Pool.QueryRow(ctx, "SELECT count(*) FROM petitions").Scan(&n)
	if n != 0 {
		t.Fatalf("%d petitions stored from refused submissions", n)
	}
	png := []byte("\x89PNG\r\n\x1a\n rest of image")
	// A scan of several storage chunks, one byte past a chunk's end: stored and read back chunk by chunk, whole.
	scan := make([]byte, 2*postgres.AttachmentChunk+1)
	copy(scan, "%PDF-1.7 scan ")
	for i := 16; i < len(scan); i++ {
		scan[i] = byte(i * 7)
	}
	r, err := e.Petitions.Submit(ctx, e.M, servicetest.Anon, "", servicetest.Submission(), []petitions.FileIn{{Name: "ảnh chụp.png", Content: bytes.NewReader(png)},
		{Name: "đơn.pdf", Content: bytes.NewReader([]byte("%PDF-1.7 đơn"))}, {Name: "scan.pdf", Content: bytes.NewReader(scan)}})
	if err != nil {
		t.Fatal(err)
	}
	official := servicetest.Staff("STP-HN", access.Official)
	d, err := e.Petitions.Get(ctx, e.M, official, e.ID(t, r.TrackingCode))
	if err != nil || len(d.Attachments) != 3 || d.Attachments[0].MediaType != petition.TypePNG || d.Attachments[0].Name != "ảnh chụp.png" {
		t.Fatalf("attachments %+v %v", d.Attachments, err)
	}
	for i, want := range [][]byte{png, []byte("%PDF-1.7 đơn"), scan} {
		info, content, err := e.Petitions.Attachment(ctx, e.M, official, d.ID, d.Attachments[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := content(&got); err != nil || !bytes.Equal(got.Bytes(), want) || info.Size != int64(len(want)) {
			t.Fatalf("download %d: %+v, %d bytes, %v", i, info, got.Len(), err)
		}
		if sum := sha256.Sum256(want); info.SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("download %d: sha256 %s", i, info.SHA256)
		}
	}
	var chunks int
	if err := e.DB.Pool.QueryRow(ctx, "SELECT count(*) FROM petition_attachment_chunks c JOIN petition_attachments a ON a.id = c.attachment_id WHERE a.petition_id = $1", d.ID).Scan(&chunks); err != nil || chunks != 5 {
		t.Fatalf("%d chunks stored (want 1 + 1 + 3), %v", chunks, err)
	}
}

// Staff enter petitions received by phone, in person or by post, naming
// the channel; petitioners submit online.
func TestStaffEnteredPetition(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	sub := servicetest.Submission()
	_, err := e.Petitions.Submit(ctx, e.M, servicetest.Staff("STP-HN", access.Reviewer), "", sub, nil)
	servicetest.WantCode(t, err, apperr.Forbidden)
	// Online submissions are the petitioner's; staff entries must name the channel.
	sub.Channel = petition.Phone
	_, err = e.Petitions.Submit(ctx, e.M, servicetest.Anon, "", sub, nil)
	servicetest.WantCode(t, err, apperr.Invalid)
	var clerkID string
	if err := e.DB.Pool.QueryRow(ctx, `INSERT INTO accounts (username, display_name, agency_code, password_hash)
		VALUES ('clerk', 'Cán bộ tiếp dân', 'STP-HN', 'x') RETURNING id`).Scan(&clerkID); err != nil {
		t.Fatal(err)
	}
	clerk := access.Principal{Kind: access.Staff, ID: clerkID, Name: "clerk", Agency: "STP-HN", Roles: []access.Role{access.Official}}
	_, err = e.Petitions.Submit(ctx, e.M, clerk, "", servicetest.Submission(), nil)
	servicetest.WantCode(t, err, apperr.Invalid) // channel missing
	entered, err := e.Petitions.Submit(ctx, e.M, clerk, "", sub, nil)
	if err != nil {
		t.Fatal(err)
	}
	de, err := e.Petitions.Get(ctx, e.M, clerk, e.ID(t, entered.TrackingCode))
	if err != nil || de.Channel != petition.Phone || de.EnteredBy != clerkID || de.Timeline[0].Actor != "account:"+clerkID {
		t.Fatalf("staff-entered petition %+v %v", de, err)
	}
}

// A petitioner may reopen a closed petition once, within 30 days, with the
// lookup secret and a reason.
func TestReopen(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	r := e.Submit(t, servicetest.Submission())
	id := e.ID(t, r.TrackingCode)
	e.AnswerAndClose(t, id, petition.Accept)
	servicetest.WantCode(t, e.Petitions.Reopen(ctx, e.M, r.TrackingCode, "WRONG", "Chưa thỏa đáng vì chưa trả lời hết"), apperr.NotFound)
	servicetest.WantCode(t, e.Petitions.Reopen(ctx, e.M, r.TrackingCode, r.LookupSecret, "ngắn"), apperr.Invalid)
	e.Clock.Add(10 * 24 * time.Hour)
	if err := e.Petitions.Reopen(ctx, e.M, r.TrackingCode, r.LookupSecret, "Chưa thỏa đáng vì chưa trả lời hết các ý"); err != nil {
		t.Fatal(err)
	}
	v, _ := e.Petitions.Lookup(ctx, e.M, r.TrackingCode, r.LookupSecret)
	if v.State != petition.InProgress || v.CanReopen {
		t.Fatalf("after reopening: %+v", v)
	}
	e.AnswerAndClose(t, id, petition.DraftReply)
	servicetest.WantCode(t, e.Petitions.Reopen(ctx, e.M, r.TrackingCode, r.LookupSecret, "Lần thứ hai vẫn chưa đồng ý"), apperr.Conflict)

	// Closed 31 days ago: too late.
	r2 := e.Submit(t, servicetest.Submission())
	e.AnswerAndClose(t, e.ID(t, r2.TrackingCode), petition.Accept)
	e.Clock.Add(31 * 24 * time.Hour)
	servicetest.WantCode(t, e.Petitions.Reopen(ctx, e.M, r2.TrackingCode, r2.LookupSecret, "Quá hạn nhưng vẫn muốn mở lại"), apperr.Conflict)
}

// The petitions service builds none of its collaborators: missing ones
// are named.
func TestNewNeedsItsCollaborators(t *testing.T) {
	_, err := petitions.New(petitions.Config{})
	if err == nil || err.Error() != "petitions: Box, Guard, Stores.Agencies, Stores.Audit, Stores.Petitions, Stores.Tx required" {
		t.Fatalf("New without collaborators: %v", err)
	}
}

// The receipt shown again (what its page's language switch asks for) is
// the receipt first given, whatever happened since: the receiving agency
// after a transfer, the first due date after a public update moved the
// next. It is a lookup: audited, and a wrong secret is refused as any.
func TestReceiptAgainIsTheFirstReceipt(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	r := e.Submit(t, servicetest.Submission())
	id := e.ID(t, r.TrackingCode)
	stp := servicetest.Staff("STP-HN", access.Official)
	if err := e.Replies.Transition(ctx, e.M, stp, id, petition.Accept, petitions.TransitionInput{}); err != nil {
		t.Fatal(err)
	}
	if err := e.Replies.Transition(ctx, e.M, stp, id, petition.Transfer, petitions.TransitionInput{Agency: "SKHDT-HN", Note: "Thuộc thẩm quyền Sở KH&ĐT"}); err != nil {
		t.Fatal(err)
	}
	e.Clock.Add(10 * 24 * time.Hour)
	if err := e.Petitions.PostUpdate(ctx, e.M, servicetest.Staff("SKHDT-HN", access.Official), id, "Đang xác minh"); err != nil {
		t.Fatal(err)
	}
	if d, err := e.Petitions.Get(ctx, e.M, servicetest.Staff("SKHDT-HN", access.Official), id); err != nil || d.NextUpdateDue == r.NextUpdateDue {
		t.Fatalf("the update left the next due date at %v (%v): this test would prove nothing", r.NextUpdateDue, err)
	}
	again, err := e.Petitions.ReceiptAgain(ctx, e.M, strings.ToLower(r.TrackingCode), r.LookupSecret)
	if err != nil {
		t.Fatal(err)
	}
	if again.TrackingCode != r.TrackingCode || again.LookupSecret != r.LookupSecret || !again.ReceivedAt.Equal(r.ReceivedAt) ||
		again.Agency != "STP-HN" || again.NextUpdateDue != r.NextUpdateDue {
		t.Fatalf("receipt again %+v, want the first %+v", again, r)
	}
	_, err = e.Petitions.ReceiptAgain(ctx, e.M, r.TrackingCode, "WRONGSECRETWRONGSECRETWRON")
	servicetest.WantCode(t, err, apperr.NotFound)
	shown := e.Count(t, "SELECT count(*) FROM audit_events WHERE action = 'petition.receipt' AND outcome = 'success' AND object_id = $1", id)
	denied := e.Count(t, "SELECT count(*) FROM audit_events WHERE action = 'petition.receipt' AND outcome = 'denied'")
	if shown != 1 || denied != 1 {
		t.Fatalf("%d receipts shown and %d refused in the audit log, want 1 and 1", shown, denied)
	}
}

// A staff list counts at most CountCap+1 matches when asked to ("more than
// CountCap"), and all of them otherwise; Open selects those whose deadline
// runs.
func TestListCountCapAndOpen(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	for range 5 {
		e.Submit(t, servicetest.Submission())
	}
	official := servicetest.Staff("STP-HN", access.Official)
	for _, tt := range []struct {
		q    petitions.ListQuery
		want int
	}{
		{petitions.ListQuery{}, 5},
		{petitions.ListQuery{CountCap: 2}, 3},
		{petitions.ListQuery{CountCap: 5}, 5},
		{petitions.ListQuery{Open: true}, 5},
		{petitions.ListQuery{Open: true, CountCap: 3}, 4},
	} {
		list, total, err := e.Petitions.List(ctx, e.M, official, tt.q)
		if err != nil || total != tt.want || len(list) != 5 {
			t.Fatalf("%+v: %d listed, total %d (%v); want 5 listed, total %d", tt.q, len(list), total, err, tt.want)
		}
	}
}

// The official who accepts or starts a petition handles it ("assigned to
// me" at the desk), until it moves to another agency; the queue filters by
// handler and by the day of receipt (Vietnam's days, both ends included).
func TestHandlerAndReceivedPeriod(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	official := servicetest.Staff("STP-HN", access.Official)
	mine := e.ID(t, e.Submit(t, servicetest.Submission()).TrackingCode)
	moved := e.ID(t, e.Submit(t, servicetest.Submission()).TrackingCode)
	e.ID(t, e.Submit(t, servicetest.Submission()).TrackingCode) // nobody's yet
	for _, id := range []string{mine, moved} {
		if err := e.Petitions.Transition(ctx, e.M, official, id, petition.Accept, petitions.TransitionInput{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Petitions.Transition(ctx, e.M, official, moved, petition.Transfer,
		petitions.TransitionInput{Agency: "SKHDT-HN", Note: "Thuộc thẩm quyền của Sở Kế hoạch và Đầu tư"}); err != nil {
		t.Fatal(err)
	}
	d, err := e.Petitions.Get(ctx, e.M, official, mine)
	if err != nil || d.Handler != official.ID || d.HandlerName != "Lê Hoàng Cường" {
		t.Fatalf("the handler of an accepted petition: %q %q %v", d.Handler, d.HandlerName, err)
	}
	theirs, err := e.Petitions.Get(ctx, e.M, servicetest.Staff("SKHDT-HN", access.Official), moved)
	if err != nil || theirs.Handler != "" {
		t.Fatalf("a transferred petition keeps its handler: %q %v", theirs.Handler, err)
	}
	// Accepted for another agency: that agency's, handled by none of its officials yet.
	elsewhere := e.ID(t, e.Submit(t, servicetest.Submission()).TrackingCode)
	if err := e.Petitions.Transition(ctx, e.M, official, elsewhere, petition.Accept, petitions.TransitionInput{Agency: "SKHDT-HN"}); err != nil {
		t.Fatal(err)
	}
	if d, err := e.Petitions.Get(ctx, e.M, servicetest.Staff("SKHDT-HN", access.Official), elsewhere); err != nil || d.Handler != "" {
		t.Fatalf("accepted for another agency, handled by %q (%v)", d.Handler, err)
	}
	today := deadline.DateOf(e.Clock.Now())
	yesterday, tomorrow := today.AddDays(-1), today.AddDays(1)
	for _, tt := range []struct {
		name string
		q    petitions.ListQuery
		want int
	}{
		{"all", petitions.ListQuery{}, 2},
		{"mine", petitions.ListQuery{Mine: true}, 1},
		{"received today", petitions.ListQuery{ReceivedFrom: &today, ReceivedTo: &today}, 2},
		{"received from tomorrow", petitions.ListQuery{ReceivedFrom: &tomorrow}, 0},
		{"received until yesterday", petitions.ListQuery{ReceivedTo: &yesterday}, 0},
		{"mine, received since yesterday", petitions.ListQuery{Mine: true, ReceivedFrom: &yesterday}, 1},
	} {
		list, total, err := e.Petitions.List(ctx, e.M, official, tt.q)
		if err != nil || total != tt.want || len(list) != tt.want {
			t.Errorf("%s: %d listed, total %d (%v); want %d", tt.name, len(list), total, err, tt.want)
		}
		if tt.q.Mine && len(list) == 1 && list[0].ID != mine {
			t.Errorf("%s: lists %s, not the petition the official accepted", tt.name, list[0].ID)
		}
	}
	_, _, err = e.Petitions.List(ctx, e.M, official, petitions.ListQuery{ReceivedFrom: &today, ReceivedTo: &yesterday})
	servicetest.WantCode(t, err, apperr.Invalid)
}

// The queue's counts: open petitions overdue, due soon and in all, each
// counted up to a cap (beyond it, cap+1: "more than cap").
func TestQueueCounts(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	var ids []string
	for range 5 {
		ids = append(ids, e.ID(t, e.Submit(t, servicetest.Submission()).TrackingCode))
	}
	today := deadline.DateOf(e.Clock.Now())
	for i, due := range []deadline.Date{today.AddDays(-3), today.AddDays(-1), today} {
		if _, err := e.DB.Pool.Exec(ctx, `UPDATE petitions SET next_update_due = $2 WHERE id = $1`, ids[i], due.Start()); err != nil {
			t.Fatal(err)
		}
	}
	official := servicetest.Staff("STP-HN", access.Official)
	if err := e.Petitions.Transition(ctx, e.M, official, ids[4], petition.Reject, petitions.TransitionInput{Reason: "out_of_scope"}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		upTo int
		want petition.QueueCounts
	}{
		{100, petition.QueueCounts{Overdue: 2, DueSoon: 1, Open: 4}},
		{1, petition.QueueCounts{Overdue: 2, DueSoon: 1, Open: 2}},
	} {
		got, err := e.Petitions.QueueCounts(ctx, e.M, official, tt.upTo)
		if err != nil || got != tt.want {
			t.Errorf("up to %d: %+v %v, want %+v", tt.upTo, got, err, tt.want)
		}
	}
	_, err := e.Petitions.QueueCounts(ctx, e.M, servicetest.Staff("STP-HN", access.Admin), 100)
	servicetest.WantCode(t, err, apperr.Forbidden)
}
