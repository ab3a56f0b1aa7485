package signing

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
)

// TSARelay stands between pdfsign and a time-stamping authority (RFC 3161).
// pdfsign posts time-stamp requests with an http.Client that has no
// timeout; it is given the relay's loopback URL instead, and the relay
// forwards each request to the configured TSA with a timeout and size
// limits, answering 504 when the TSA is slow or unreachable. The relay
// listens on 127.0.0.1 only.
type TSARelay struct {
	upstream string
	client   *http.Client
	srv      *http.Server
	ln       net.Listener
	log      *slog.Logger
}

// Time-stamp messages are small; anything larger is refused.
const maxTSAMessage = 64 << 10

// NewTSARelay starts a relay to the TSA at upstream (an http or https URL)
// whose every request takes at most timeout.
func NewTSARelay(upstream string, timeout time.Duration, log *slog.Logger) (*TSARelay, error) {
	if !strings.HasPrefix(upstream, "http://") && !strings.HasPrefix(upstream, "https://") {
		return nil, fmt.Errorf("TSA URL %q is not http(s)", upstream)
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &TSARelay{upstream: upstream, client: &http.Client{Timeout: timeout}, ln: ln, log: log}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: timeout, WriteTimeout: 2 * timeout}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// URL is the address to give pdfsign.
func (r *TSARelay) URL() string { return "http://" + r.ln.Addr().String() + "/" }

// Close stops the relay.
func (r *TSARelay) Close() error { return r.srv.Close() }

// ServeHTTP forwards one time-stamp request.
func (r *TSARelay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, maxTSAMessage+1))
	if err != nil || len(body) > maxTSAMessage {
		http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		return
	}
	out, err := http.NewRequestWithContext(req.Context(), http.MethodPost, r.upstream, bytes.NewReader(body))
	if err != nil {
		http.Error(w, "bad TSA URL", http.StatusBadGateway)
		return
	}
	out.Header.Set("Content-Type", "application/timestamp-query")
	resp, err := r.client.Do(out)
	if err != nil {
		status := http.StatusBadGateway
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
			status = http.StatusGatewayTimeout
		}
		r.log.Warn("time-stamping authority unavailable", "status", status, "error", err.Error())
		http.Error(w, "time-stamping authority unavailable", status)
		return
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, maxTSAMessage+1))
	if err != nil || len(reply) > maxTSAMessage || resp.StatusCode != http.StatusOK {
		r.log.Warn("time-stamping authority answered badly", "status", resp.StatusCode)
		http.Error(w, "time-stamping authority answered badly", http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/timestamp-reply")
	_, _ = w.Write(reply)
}
