package main

import (
	"bytes"
	"context"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"pakn/internal/access"
	"pakn/internal/credential"
	"pakn/internal/postgres"
	"pakn/internal/reply"
	"pakn/internal/servicetest"
	"pakn/internal/vault"
)

// website is paknd serving its pages to a real browser (Debian's Chromium,
// driven by chromedp), with staff who answer petitions through the API.
type website struct {
	t     *testing.T
	s     *stack
	base  string
	tab   context.Context // the browser's tab
	axe   string          // axe-core's source, injected into every page checked
	shots string          // where screenshots go (PAKN_SCREENSHOTS_DIR), "" for none
	staff map[access.Role]string
	logs  *syncBuffer // paknd's log
}

// newWebsite starts paknd over a test database and Vault with the demo
// agencies, an official, a reviewer and a signer of the Department of
// Justice (the signer's key provisioned in Vault), and a browser. The
// browser and axe-core come from PAKN_CHROMIUM and PAKN_AXE_JS
// (tools/stack.sh browser installs both): without them the test fails.
func newWebsite(t *testing.T) *website {
	t.Helper()
	chromium, axePath := os.Getenv("PAKN_CHROMIUM"), os.Getenv("PAKN_AXE_JS")
	if chromium == "" || axePath == "" {
		t.Fatal("PAKN_CHROMIUM and PAKN_AXE_JS must name Chromium and axe-core (eval \"$(tools/stack.sh browser)\"; make test sets them)")
	}
	axe, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatal(err)
	}
	s := newStack(t)
	w := &website{t: t, s: s, axe: string(axe), shots: os.Getenv("PAKN_SCREENSHOTS_DIR"), staff: map[access.Role]string{}}
	w.seedStaff()
	s.env["PAKN_OPERATOR_NAME"], s.env["PAKN_OPERATOR_CONTACT"] = "Sở Tư pháp thành phố Hà Nội", "dulieucanhan@example.vn"
	base, logs, stop := s.start(t)
	w.logs = logs
	t.Cleanup(func() { _ = stop() })
	w.base = base

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("lang", "vi"), chromedp.WindowSize(1280, 900))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	if err := chromedp.Do(tab); err != nil { // start the browser now: no timeout on this first call
		t.Fatalf("start Chromium: %v", err)
	}
	w.tab = tab
	return w
}

// seedStaff adds the demo agencies and the staff who answer petitions, each
// with a session stepped up now, and provisions the signer's key.
func (w *website) seedStaff() {
	t, ctx := w.t, context.Background()
	st := postgres.Stores(w.s.db.Pool, nil)
	servicetest.DemoCity(t, st.Agencies)
	servicetest.AgencyKey(t, w.s.v, st, "STP-HN", "Sở Tư pháp thành phố Hà Nội")
	now := time.Now()
	for _, role := range []access.Role{access.Official, access.Reviewer, access.Signer} {
		var id string
		err := w.s.db.Pool.QueryRow(ctx, `INSERT INTO accounts (username, display_name, agency_code, password_hash, must_change_password,
			totp_secret_enc, totp_enabled_at) VALUES ($1, $2, 'STP-HN', 'x', false, 'vault:v1:unused', now()) RETURNING id`,
			"web-"+string(role), "Lê Hoàng Cường").Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		secret, hash, _ := credential.NewSecret()
		err = st.Tx.InTx(ctx, func(ctx context.Context) error {
			if err := st.Accounts.AddRole(ctx, id, role); err != nil {
				return err
			}
			return st.Accounts.CreateSession(ctx, credential.Session{TokenHash: hash, AccountID: id, CreatedAt: now, LastSeenAt: now,
				ExpiresAt: now.Add(credential.AbsoluteTimeout), MFAAt: now})
		})
		if err != nil {
			t.Fatal(err)
		}
		w.staff[role] = secret
		if role != access.Signer {
			continue
		}
		ps, err := vault.ProvisionSigner(ctx, w.s.v.Root(), "web-signer", "ecdsa-p256", pkix.Name{CommonName: "Lê Hoàng Cường"})
		if err != nil {
			t.Fatal(err)
		}
		err = st.Tx.InTx(ctx, func(ctx context.Context) error {
			return st.Replies.AddSigner(ctx, &reply.Signer{AccountID: id, FullName: "Lê Hoàng Cường", Title: "Phó Giám đốc",
				KeyName: ps.Key, KeyVersion: ps.Version, KeyType: "ecdsa-p256", Certificate: ps.Certificate, ChainPEM: ps.ChainPEM}, now)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// do runs browser steps, failing the test on an error.
func (w *website) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.tab, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		// What the browser shows, to tell why the step did not end as expected.
		short, cancelShort := context.WithTimeout(w.tab, 5*time.Second)
		defer cancelShort()
		shown, _ := chromedp.Run(short, chromedp.Evaluate[string](`location.pathname + "\n" + (document.querySelector("main") || document.body).innerText`))
		var requests []string
		if w.logs != nil {
			for _, line := range strings.Split(w.logs.String(), "\n") {
				var l struct {
					Msg, Method, Route string
					Status             int
				}
				if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "request" {
					requests = append(requests, fmt.Sprintf("%s %s %d", l.Method, l.Route, l.Status))
				}
			}
		}
		w.t.Fatalf("%s: %v\nthe browser shows %s\nthe last requests: %s", what, err, shown, strings.Join(requests[max(0, len(requests)-8):], "; "))
	}
}

// text is the text of the element sel.
func (w *website) text(sel string) string {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.tab, time.Minute)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	for try := 0; err != nil && strings.Contains(err.Error(), "No node with given id") && try < 3; try++ {
		// The node was found in a document a navigation just replaced: ask again.
		s, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	}
	if err != nil {
		w.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// eval runs a script in the page and decodes its result.
func eval[T any](w *website, script string) T {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.tab, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](script, chromedp.EvalAwaitPromise))
	if err != nil {
		w.t.Fatalf("script %.80q: %v", script, err)
	}
	return v
}

// violation is one of axe-core's findings.
type violation struct {
	ID, Impact, Help string
	Nodes            []string
}

// accessible runs axe-core on the page (WCAG 2.1 A and AA rules) and fails
// on any serious or critical violation; name says which page it is.
func (w *website) accessible(name string) {
	w.t.Helper()
	for _, v := range w.violations() {
		if v.Impact == "serious" || v.Impact == "critical" {
			w.t.Errorf("%s: axe %s (%s): %s at %v", name, v.ID, v.Impact, v.Help, v.Nodes)
		}
	}
}

// violations runs axe-core's WCAG 2.1 A and AA rules on the page.
func (w *website) violations() []violation {
	w.t.Helper()
	if !eval[bool](w, `typeof axe === "object"`) {
		eval[bool](w, w.axe+";true")
	}
	return eval[[]violation](w, `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
		.then(r => r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help, nodes: v.nodes.map(n => n.target.join(" "))})))`)
}

// shot saves a screenshot of the page at 375 and 1280 px wide, when
// screenshots are asked for.
func (w *website) shot(name string) {
	w.t.Helper()
	if w.shots == "" {
		return
	}
	for _, width := range []int64{375, 1280} {
		ctx, cancel := context.WithTimeout(w.tab, time.Minute)
		err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900))
		var png []byte
		if err == nil {
			png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		}
		cancel()
		if err != nil {
			w.t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(w.shots, fmt.Sprintf("%s-%d.png", name, width)), png, 0o644); err != nil {
			w.t.Fatal(err)
		}
	}
	// And what a phone shows first, without scrolling.
	ctx, cancel := context.WithTimeout(w.tab, time.Minute)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.EmulateViewport(375, 800))
	var top page.CaptureScreenshotResult
	if err == nil {
		top, err = chromedp.Call(ctx, page.CaptureScreenshot, page.CaptureScreenshotParams{Format: page.CaptureScreenshotFormatPng})
	}
	if err != nil {
		w.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(w.shots, name+"-375-top.png"), top.Data, 0o644); err != nil {
		w.t.Fatal(err)
	}
	w.do("restore the viewport", chromedp.EmulateViewport(1280, 900))
}

// api calls paknd's API as a member of staff.
func (w *website) api(role access.Role, method, path string, body any) []byte {
	w.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, w.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(&http.Cookie{Name: "__Host-pakn_session", Value: w.staff[role]})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		w.t.Fatalf("%s %s as %s: %d %s", method, path, role, resp.StatusCode, out)
	}
	return out
}

// answer has the staff accept, answer, sign and publish the petition with
// tracking code code, through the API; it returns the reply's id.
func (w *website) answer(code string) string {
	w.t.Helper()
	var pid string
	if err := w.s.db.Pool.QueryRow(context.Background(), `SELECT id FROM petitions WHERE tracking_code = $1`, code).Scan(&pid); err != nil {
		w.t.Fatal(err)
	}
	for _, tr := range []string{"accept", "start"} {
		w.api(access.Official, "POST", "/api/v1/petitions/"+pid+"/transitions", map[string]string{"transition": tr})
	}
	var draft struct{ ID string }
	_ = json.Unmarshal(w.api(access.Official, "POST", "/api/v1/petitions/"+pid+"/replies", reply.Content{
		Summary:    "Đề nghị mở cửa bộ phận một cửa vào sáng thứ Bảy",
		Answer:     "Từ ngày 01/01/2027, bộ phận một cửa của Sở làm việc cả sáng thứ Bảy.",
		LegalBasis: []reply.LegalRef{{Document: "Nghị định số 61/2018/NĐ-CP", Articles: "Điều 14"}},
		Outcome:    reply.Accepted,
	}), &draft)
	w.api(access.Reviewer, "POST", "/api/v1/replies/"+draft.ID+"/approve", map[string]string{})
	w.api(access.Signer, "POST", "/api/v1/replies/"+draft.ID+"/sign", map[string]string{})
	w.api(access.Official, "POST", "/api/v1/petitions/"+pid+"/transitions", map[string]string{"transition": "publish"})
	return draft.ID
}

// download clicks the button sel, which downloads a file, and returns the
// file's bytes (Chromium saves it under dir, named by its download id).
func (w *website) download(sel, dir string) []byte {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.tab, time.Minute)
	defer cancel()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: new(true)}); err != nil {
		w.t.Fatalf("allow downloads: %v", err)
	}
	events := chromedp.BrowserEvents(ctx, browser.DownloadProgress)
	w.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
	for ev, err := range events {
		if err != nil {
			w.t.Fatalf("download by %s: %v", sel, err)
		}
		switch ev.State {
		case browser.DownloadProgressStateCompleted:
			b, err := os.ReadFile(filepath.Join(dir, ev.GUID))
			if err != nil {
				w.t.Fatal(err)
			}
			return b
		case browser.DownloadProgressStateCanceled:
			w.t.Fatalf("the download by %s was canceled", sel)
		}
	}
	w.t.Fatalf("no download by %s", sel)
	return nil
}
