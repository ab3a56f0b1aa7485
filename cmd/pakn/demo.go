package main

import (
	"context"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
	"github.com/jackc/pgx/v5/pgxpool"

	"pakn/internal/access"
	"pakn/internal/audit"
	"pakn/internal/guard"
	"pakn/internal/identity"
	"pakn/internal/petition"
	"pakn/internal/petitions"
	"pakn/internal/postgres"
	"pakn/internal/replies"
	"pakn/internal/reply"
	"pakn/internal/sealed"
	"pakn/internal/signing"
	"pakn/internal/store"
	"pakn/internal/tsa"
	"pakn/internal/vault"
)

// demoReply is the demo petition and its signed reply: written once, then
// found again by the reply id kept in the -demo-out file.
type demoReply struct {
	ReplyID, TrackingCode, LookupSecret, Number, SHA256 string
}

// file is the demo reply as the -demo-out file records it.
func (d *demoReply) file() []byte {
	return fmt.Appendf(nil, "reply_id=%s\ntracking_code=%s\nlookup_secret=%s\nnumber=%s\nsha256=%s\n",
		d.ReplyID, d.TrackingCode, d.LookupSecret, d.Number, d.SHA256)
}

// seedDemoReply makes one demo petition answered with a reply signed
// through Vault exactly as paknd signs: the demo signer gets a Transit key
// and certificate (operator token), and the replies service signs with paknd's
// AppRole login.
func seedDemoReply(ctx context.Context, e env, pool *pgxpool.Pool, ids *identity.Service, publicURL, credsDir, certsDir, outFile string) error {
	if id := demoReplyID(outFile); id != "" {
		var n int
		if pool.QueryRow(ctx, "SELECT count(*) FROM signed_replies WHERE reply_id::text = $1", id).Scan(&n) == nil && n == 1 {
			fmt.Fprintf(e.stdout, "seed: demo signed reply already present (%s)\n", id)
			return nil
		}
	}
	addr, err := e.need("VAULT_ADDR", "the address of Vault")
	if err != nil {
		return err
	}
	token, err := e.need("VAULT_TOKEN", "an operator token, to give the demo signer a key")
	if err != nil {
		return err
	}
	byRole := map[access.Role]access.Principal{}
	for _, r := range []access.Role{access.Official, access.Reviewer, access.Signer} {
		a, err := ids.FindAccount(ctx, "demo-"+string(r))
		if err != nil {
			return err
		}
		byRole[r] = access.Principal{Kind: access.Staff, ID: a.ID, Name: a.Username, Agency: a.Agency, Roles: a.Roles, SteppedUp: time.Now()}
	}
	st := postgres.Stores(pool, nil)
	admin, err := vault.NewAPI(addr, token, 30*time.Second)
	if err != nil {
		return err
	}
	if err := provisionDemoSigner(ctx, st, admin, byRole[access.Signer].ID); err != nil {
		return err
	}
	// paknd's own login: the demo reply is signed like any other.
	vc, err := paknVault(ctx, admin, credsDir)
	if err != nil {
		return err
	}
	// The demo petition's words are sealed and indexed as paknd does: the search key comes from the audit key.
	auditKey, err := e.auditKey()
	if err != nil {
		return err
	}
	box := vault.NewEnvelopeBox(vc, vault.PIIKey)
	st = sealed.Stores(st, box, sealed.SearchKey(auditKey))
	pets, err := petitions.New(petitions.Config{Stores: st, Box: box,
		Guard: &guard.Guard{Audit: st.Audit, Now: time.Now}})
	if err != nil {
		return err
	}
	reps, err := demoReplies(e, vc, pets, st, publicURL, certsDir)
	if err != nil {
		return err
	}
	d, err := answerDemoPetition(ctx, pets, reps, pool, byRole)
	if err != nil {
		return err
	}
	if err := os.WriteFile(outFile, d.file(), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "seed: demo petition %s answered by signed reply %s (%s), published\n", d.TrackingCode, d.Number, d.ReplyID)
	return nil
}

// demoReplyID is the reply id an earlier seed wrote to outFile, or "".
func demoReplyID(outFile string) string {
	b, err := os.ReadFile(outFile)
	if err != nil {
		return ""
	}
	id := ""
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "reply_id="); ok {
			id = v
		}
	}
	return id
}

// provisionDemoSigner gives the demo signer a Transit key and certificate
// (with the operator token) unless it has an active one.
func provisionDemoSigner(ctx context.Context, st store.Set, admin *vaultapi.Client, accountID string) error {
	_, err := st.Replies.ActiveSigner(ctx, accountID)
	if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	const name = "Lê Hoàng Cường"
	ps, err := vault.ProvisionSigner(ctx, admin, signerKeyName(accountID, nil), "ecdsa-p256", pkix.Name{CommonName: name})
	if err != nil {
		return err
	}
	g := reply.Signer{AccountID: accountID, FullName: name, Title: "Phó Giám đốc", OnBehalf: "KT. Giám đốc", KeyType: "ecdsa-p256"}
	return storeSigner(ctx, st, &g, ps, &audit.Event{Actor: "system", Role: "seed", Action: "signer.provision"})
}

// answerDemoPetition submits the demo petition and takes it through the
// services to a signed, published reply, as each role would.
func answerDemoPetition(ctx context.Context, pets *petitions.Service, reps *replies.Service, pool *pgxpool.Pool, byRole map[access.Role]access.Principal) (*demoReply, error) {
	m := audit.Meta{RequestID: "seed-demo"}
	rc, err := pets.Submit(ctx, m, access.Principal{Kind: access.Anonymous}, "", petition.Submission{
		Petitioner: petition.Petitioner{Kind: petition.Individual, Name: "Nguyễn Thị Hồng Nhung", Email: "nhung@example.vn",
			Address: "phường Điện Biên, quận Ba Đình, Hà Nội"},
		Title:    "Thời hạn chứng thực bản sao từ bản chính",
		Body:     "Bộ phận một cửa yêu cầu chờ 03 ngày để chứng thực bản sao từ bản chính, trong khi quy định là trong ngày. Đề nghị Sở hướng dẫn thực hiện đúng quy định.",
		Category: petition.CatRegulation,
	}, nil)
	if err != nil {
		return nil, err
	}
	var pid string
	if err := pool.QueryRow(ctx, "SELECT id FROM petitions WHERE tracking_code = $1", rc.TrackingCode).Scan(&pid); err != nil {
		return nil, err
	}
	official := byRole[access.Official]
	for _, t := range []petition.Transition{petition.Accept, petition.Start} {
		if err := reps.Transition(ctx, m, official, pid, t, petitions.TransitionInput{}); err != nil {
			return nil, err
		}
	}
	r, err := reps.DraftReply(ctx, m, official, pid, reply.Content{
		Summary: "Bộ phận một cửa hẹn 03 ngày để chứng thực bản sao từ bản chính",
		Answer: "Theo quy định, yêu cầu chứng thực bản sao từ bản chính được tiếp nhận trước 15 giờ thì phải trả kết quả ngay trong ngày; trường hợp tiếp nhận sau 15 giờ thì trả kết quả trong ngày làm việc tiếp theo.\n" +
			"Sở Tư pháp đã chấn chỉnh bộ phận một cửa và đề nghị bà liên hệ lại để được giải quyết đúng thời hạn.",
		LegalBasis: []reply.LegalRef{{Document: "Nghị định số 23/2015/NĐ-CP ngày 16/02/2015 của Chính phủ", Articles: "Điều 7"}},
		Outcome:    reply.Explained,
	}, "")
	if err != nil {
		return nil, err
	}
	if _, err := reps.ReviewReply(ctx, m, byRole[access.Reviewer], r.ID, true, ""); err != nil {
		return nil, err
	}
	signed, err := reps.SignReply(ctx, m, byRole[access.Signer], r.ID)
	if err != nil {
		return nil, err
	}
	if err := reps.Transition(ctx, m, official, pid, petition.Publish, petitions.TransitionInput{}); err != nil {
		return nil, err
	}
	return &demoReply{ReplyID: signed.ID, TrackingCode: rc.TrackingCode, LookupSecret: rc.LookupSecret,
		Number: signed.Document.Number, SHA256: signed.Document.SHA256}, nil
}

// demoReplies is the replies service signing as paknd does: through vc,
// time-stamped by pakn's authority (its certificate in certsDir), with the
// CAs' lists embedded.
func demoReplies(e env, vc *vault.Client, pets *petitions.Service, st store.Set, publicURL, certsDir string) (*replies.Service, error) {
	auth, err := e.issuanceAuthority(vc, certsDir)
	if err != nil {
		return nil, err
	}
	return replies.New(replies.Config{Petitions: pets, Stores: st, Keys: vc, SignPDF: signing.SignPDF,
		Docs: replies.Documents{PublicURL: publicURL, Place: "Hà Nội", Stamp: auth.Respond, CRLs: vc.ValidationCRLs(0)}})
}

// issuanceAuthority is pakn's time-stamping authority as paknd runs it
// for the documents it issues: through vc, its certificate in certsDir,
// under the issuance policy of PAKN_TSA_POLICY's arc.
func (e env) issuanceAuthority(vc *vault.Client, certsDir string) (*tsa.Authority, error) {
	base, err := tsa.ParsePolicy(e.getenv("PAKN_TSA_POLICY"))
	if err != nil {
		return nil, err
	}
	return vc.TimeStamping(filepath.Join(certsDir, vault.TSACertFile), tsa.Issuance(base), nil)
}

// paknVault connects to Vault as paknd does, with a secret id of paknd's
// role issued for this one login with the operator's token (admin's; the
// wrapped one in credsDir stays paknd's), or with the operator's token
// itself when credsDir is empty.
func paknVault(ctx context.Context, admin *vaultapi.Client, credsDir string) (*vault.Client, error) {
	vcfg := vault.Config{Addr: admin.Address(), Token: admin.Token()}
	if credsDir != "" {
		roleID, err := os.ReadFile(filepath.Join(credsDir, vault.RoleIDFile))
		if err != nil {
			return nil, err
		}
		secretID, err := vault.OneLoginSecretID(ctx, admin)
		if err != nil {
			return nil, err
		}
		vcfg = vault.Config{Addr: admin.Address(), RoleID: strings.TrimSpace(string(roleID)), SecretID: secretID}
	}
	return vault.Connect(ctx, vcfg, nil)
}
