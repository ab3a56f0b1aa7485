package replies

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"pakn/internal/access"
	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/deadline"
	"pakn/internal/msg"
	"pakn/internal/pdfrender"
	"pakn/internal/petition"
	"pakn/internal/reply"
	"pakn/internal/store"
	"pakn/internal/verify"
)

// petitioner is the principal of whoever holds a petition's code and secret.
var petitioner = access.Principal{Kind: access.Anonymous, Name: "petitioner"}

// ReceiptPDF gives the petitioner, with code and secret, the petition's
// signed receipt: one A4 page in the reply's layout stating the tracking
// code, the SHA-256 of the petition's words and of each attachment, the
// time of receipt and the first due date, signed with the receiving
// agency's own key. It is signed the first time it is asked for (one
// Transit call, audited with the signature) and the same bytes are given
// every time after. No personal data is printed on it, so it can be shown
// to anyone.
func (s *Service) ReceiptPDF(ctx context.Context, m audit.Meta, code, secret string) (*petition.SignedReceipt, error) {
	rec, err := s.petitions.ByPetitioner(ctx, m, code, secret, "receipt.download")
	if err != nil {
		return nil, err
	}
	r, err := s.receipts.Receipt(ctx, rec.ID)
	if errors.Is(err, store.ErrNotFound) {
		r, err = s.signReceipt(ctx, m, rec)
	}
	if err != nil {
		return nil, err
	}
	err = s.audit.Record(ctx, audit.EventOf(m, petitioner, "receipt.download", "receipt", r.ID, audit.Success,
		audit.Details(map[string]any{"petition": rec.ID, "sha256": r.SHA256})))
	return r, err
}

// signReceipt renders and signs rec's receipt with the receiving agency's
// active key and stores it with its audit event; a receipt stored meanwhile
// by a concurrent request wins, and is returned.
func (s *Service) signReceipt(ctx context.Context, m audit.Meta, rec *petition.Stored) (*petition.SignedReceipt, error) {
	if s.keys == nil {
		return nil, apperr.New(apperr.Unavailable, msg.SigningNotConfigured)
	}
	receiving, err := s.petitions.ReceivingAgency(ctx, rec)
	if err != nil {
		return nil, err
	}
	k, err := s.receipts.ActiveAgencyKey(ctx, receiving)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apperr.New(apperr.Unavailable, msg.NoAgencyKey)
	}
	if err != nil {
		return nil, err
	}
	id, err := petition.NewID(s.now())
	if err != nil {
		return nil, err
	}
	doc, err := s.receiptDocument(ctx, rec, receiving, id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	signed, err := s.sign(ctx, doc, k.KeyName, k.KeyVersion, k.Certificate, k.Chain, k.Certificate.Subject.CommonName,
		"Bien nhan phan anh, kien nghi "+rec.TrackingCode, now)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(signed)
	binding, err := verify.Binding(signed)
	if err != nil {
		return nil, fmt.Errorf("sign receipt: %w", err)
	}
	r := &petition.SignedReceipt{ID: id, PetitionID: rec.ID, Agency: receiving, PDF: signed, SHA256: hex.EncodeToString(sum[:]), Binding: binding,
		AgencyKeyID: k.ID, Certificate: k.Certificate.Raw, SignedAt: now}
	var stored bool
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		if stored, err = s.receipts.InsertReceipt(ctx, r); err != nil || !stored {
			return err
		}
		return s.audit.Append(ctx, audit.EventOf(m, petitioner, "receipt.sign", "receipt", r.ID, audit.Success, audit.Details(map[string]any{
			"petition": rec.ID, "agency": receiving, "sha256": r.SHA256, "size": len(signed), "key": k.KeyName, "key_version": k.KeyVersion})))
	})
	if err != nil {
		return nil, err
	}
	if !stored {
		return s.receipts.Receipt(ctx, rec.ID)
	}
	return r, nil
}

// receiptDocument renders rec's receipt, unsigned, as issued by the agency
// receiving under the id id.
func (s *Service) receiptDocument(ctx context.Context, rec *petition.Stored, receiving, id string) ([]byte, error) {
	name, parent, err := s.agency.Heading(ctx, receiving)
	if err != nil {
		return nil, err
	}
	atts, err := s.petitionStore.Attachments(ctx, rec.ID)
	if err != nil {
		return nil, err
	}
	base := strings.TrimRight(s.docs.PublicURL, "/")
	received := rec.ReceivedAt.In(deadline.ICT)
	paras := []string{
		fmt.Sprintf("%s xác nhận đã tiếp nhận phản ánh, kiến nghị có mã tra cứu %s lúc %s ngày %s (giờ Việt Nam).",
			name, rec.TrackingCode, received.Format("15:04:05"), received.Format("02/01/2006")),
		"Mã băm SHA-256 của nội dung phản ánh (tiêu đề, một dòng trống, rồi nội dung; mã hóa UTF-8): " +
			groupHex(petition.ContentSHA256(rec.Title, rec.Body)) + ".",
	}
	if len(atts) == 0 {
		paras = append(paras, "Phản ánh không kèm tệp đính kèm.")
	} else {
		paras = append(paras, fmt.Sprintf("Tệp đính kèm: %d tệp; tên, dung lượng và mã băm SHA-256 của từng tệp:", len(atts)))
		for i, a := range atts {
			paras = append(paras, fmt.Sprintf("%d. %s, %d byte: %s.", i+1, a.Name, a.Size, groupHex(a.SHA256)))
		}
	}
	paras = append(paras,
		fmt.Sprintf("Chậm nhất ngày %s (20 ngày làm việc kể từ ngày tiếp nhận), cơ quan có thẩm quyền công bố tình trạng xử lý hoặc kết quả giải quyết.",
			s.petitions.FirstUpdateDue(rec).Start().Format("02/01/2006")),
		"Người gửi theo dõi phản ánh và nhận văn bản trả lời tại "+base+"/track bằng mã tra cứu và mã bí mật đã được cấp. "+
			"Giấy biên nhận này được ký số bằng khóa của cơ quan tiếp nhận; kiểm tra tại "+base+"/verify.")
	return pdfrender.Render(pdfrender.Document{
		ParentAgency: parent, Agency: name, Number: rec.TrackingCode + "/BN", Place: s.docs.Place, Date: rec.ReceivedAt,
		Subject: "V/v tiếp nhận phản ánh, kiến nghị mã " + rec.TrackingCode, Recipient: "Người gửi phản ánh, kiến nghị mã " + rec.TrackingCode,
		Paragraphs: paras, CC: []string{"Người gửi phản ánh, kiến nghị;", "Lưu: " + receiving + "."},
		SignerTitle: "CƠ QUAN TIẾP NHẬN", SignerName: name, Kind: "Giấy biên nhận phản ánh, kiến nghị",
		VerifyURL: base + "/verify/" + id, ShortCode: reply.ShortCode(id), TrackingCode: rec.TrackingCode, ReplyID: id,
	})
}

// groupHex writes a hash in groups of eight digits, as fingerprints are
// printed, so it wraps between groups and is read group by group.
func groupHex(h string) string {
	var b strings.Builder
	for i := 0; i < len(h); i += 8 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(h[i:min(i+8, len(h))])
	}
	return b.String()
}
