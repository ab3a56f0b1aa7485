package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"pakn/internal/postgres"
	"pakn/internal/servicetest"
	"pakn/internal/verify"
	"pakn/internal/verifytest"
)

// maxRSS is the bound on paknd's resident memory under the floods below.
const maxRSS = 300 << 20

// process is paknd built without the race detector (whose shadow memory
// would swamp the measure) and run as a process of its own.
type process struct {
	cmd  *exec.Cmd
	base string
	logs *syncBuffer
}

func (s *stack) startProcess(t *testing.T) *process {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "paknd")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build paknd: %v\n%s", err, out)
	}
	s.handOver(t)
	p := &process{cmd: exec.Command(bin), logs: &syncBuffer{}}
	for k, v := range s.env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stderr = p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.cmd.Process.Kill(); _ = p.cmd.Wait() })
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(p.logs.String(), "\n") {
			var l struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "paknd serving" {
				p.base = "http://" + l.Addr
				return p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("paknd did not start:\n%s", p.logs)
	return nil
}

// peakRSS is the process's peak resident memory since the last resetPeak.
func (p *process) peakRSS(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// resetPeak starts the peak over from the current resident memory.
func (p *process) resetPeak(t *testing.T) {
	t.Helper()
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p.cmd.Process.Pid), []byte("5"), 0); err != nil {
		t.Fatal(err)
	}
}

// from is an HTTP client whose connections come from the loopback address ip.
func from(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}, Timeout: 5 * time.Minute}
}

// bigSubmission streams a petition with five attachments of nearly 10 MB
// each (about 50 MB) without holding it in memory.
func bigSubmission() (io.Reader, string) {
	pr, pw := io.Pipe()
	w := multipart.NewWriter(pw)
	go func() {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="petition"`)
		h.Set("Content-Type", "application/json")
		part, _ := w.CreatePart(h)
		_, _ = part.Write([]byte(`{"petitioner":{"kind":"individual","name":"Nguyễn Thị Hồng Nhung","email":"nhung@example.vn"},
"title":"Hồ sơ kèm bản chụp","body":"Đề nghị xem xét hồ sơ kèm theo các bản chụp.","category":"official_conduct"}`))
		chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
		for i := range 5 {
			f, err := w.CreateFormFile("attachments", fmt.Sprintf("ban-chup-%d.pdf", i))
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			_, _ = f.Write([]byte("%PDF-1.7\n"))
			for range 159 { // 159 × 64 KiB: just under 10 MB with the header
				if _, err := f.Write(chunk); err != nil {
					pw.CloseWithError(err)
					return
				}
			}
		}
		pw.CloseWithError(w.Close())
	}()
	return pr, w.FormDataContentType()
}

// Under floods of the largest uploads from many addresses, paknd's memory
// stays bounded, and every request is answered: stored, or refused by a
// bound with 429/503 and Retry-After, never left to time out.
// submissionFlood has 32 clients, each at an address of its own, send a
// petition with 5 × 10 MB at once, and checks each is stored whole or
// refused by a bound with Retry-After; it returns how many were stored.
func submissionFlood(t *testing.T, s *stack, p *process) int {
	t.Helper()
	type answer struct {
		code  int
		retry string
		body  string
		err   error
	}
	answers := make([]answer, 32)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Go(func() {
			body, ct := bigSubmission()
			resp, err := from(fmt.Sprintf("127.0.1.%d", 10+i)).Post(p.base+"/api/v1/petitions", ct, body)
			if err != nil {
				answers[i] = answer{err: err}
				return
			}
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			answers[i] = answer{code: resp.StatusCode, retry: resp.Header.Get("Retry-After"), body: string(b)}
		})
	}
	wg.Wait()
	stored := 0
	for i, a := range answers {
		switch {
		case a.err != nil:
			t.Errorf("client %d: %v", i, a.err)
		case a.code == 201:
			stored++
		case (a.code == 429 || a.code == 503) && a.retry != "":
		default:
			t.Errorf("client %d: %d (Retry-After %q) %s", i, a.code, a.retry, a.body)
		}
	}
	var rows, chunks int
	_ = s.db.Pool.QueryRow(t.Context(), "SELECT count(*) FROM petitions").Scan(&rows)
	_ = s.db.Pool.QueryRow(t.Context(), "SELECT count(*) FROM petition_attachment_chunks").Scan(&chunks)
	if stored == 0 || rows != stored || chunks != stored*5*20 {
		t.Errorf("%d answered stored, %d petitions and %d chunks in the database (want %d per petition)", stored, rows, chunks, 5*20)
	}
	if t.Failed() {
		for _, line := range strings.Split(p.logs.String(), "\n") {
			if strings.Contains(line, `"code":"internal"`) {
				t.Log(line)
				break
			}
		}
	}
	return stored
}

func TestPakndMemoryStaysBoundedUnderUploadFloods(t *testing.T) {
	s := newStack(t)
	ags := postgres.Stores(s.db.Pool, nil).Agencies
	servicetest.DemoCity(t, ags)
	s.env["PAKN_SPOOL_DIR"] = t.TempDir()
	s.env["PAKN_LOG_LEVEL"] = "info"
	s.env["PAKN_READ_TIMEOUT"] = "120s"
	s.env["PAKN_WRITE_TIMEOUT"] = "120s"
	p := s.startProcess(t)

	stored := submissionFlood(t, s, p)
	rss := p.peakRSS(t)
	t.Logf("32 × 50 MB submissions: %d stored, the rest refused by a bound; peak RSS %d MB", stored, rss>>20)
	if rss > maxRSS {
		t.Errorf("peak RSS %d MB under the submission flood, bound %d MB", rss>>20, maxRSS>>20)
	}
	if left, _ := os.ReadDir(s.env["PAKN_SPOOL_DIR"]); len(left) != 0 {
		t.Errorf("%d files left in the spool", len(left))
	}

	// 16 clients at once, each verifying a 20 MB document.
	p.resetPeak(t)
	var wg sync.WaitGroup
	doc := verifytest.Crafted(verify.MaxSize - 1024)["huge comment"]()
	codes := make([]int, 16)
	for i := range codes {
		wg.Go(func() {
			resp, err := from(fmt.Sprintf("127.0.2.%d", 10+i)).Post(p.base+"/api/v1/verifications", "application/pdf", bytes.NewReader(doc))
			if err != nil {
				t.Errorf("verification %d: %v", i, err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes[i] = resp.StatusCode
		})
	}
	wg.Wait()
	for i, c := range codes {
		if c != 422 {
			t.Errorf("verification %d: %d, want 422 (a verdict: the document is not a signed PDF)", i, c)
		}
	}
	rss = p.peakRSS(t)
	t.Logf("16 × 20 MB verifications at once: peak RSS %d MB", rss>>20)
	if rss > maxRSS {
		t.Errorf("peak RSS %d MB under 16 concurrent 20 MB verifications, bound %d MB", rss>>20, maxRSS>>20)
	}
}
