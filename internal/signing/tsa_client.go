package signing

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/digitorus/timestamp"

	"pakn/internal/reply"
)

// Time-stamp messages are small; anything larger is refused.
const maxTSAMessage = 64 << 10

// TSAClient is a Stamper that posts each time-stamp request to the
// external RFC 3161 authority at url (http or https), with a time limit
// and size limits on what it reads (pdfsign's own client has neither).
func TSAClient(url string, timeout time.Duration) (reply.Stamper, error) {
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return nil, fmt.Errorf("TSA URL %q is not http(s)", url)
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	client := &http.Client{Timeout: timeout}
	return func(req []byte) ([]byte, error) {
		if len(req) > maxTSAMessage {
			return nil, fmt.Errorf("a request of %d bytes", len(req))
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		out, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(req))
		if err != nil {
			return nil, err
		}
		out.Header.Set("Content-Type", "application/timestamp-query")
		resp, err := client.Do(out)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxTSAMessage+1))
		switch {
		case err != nil:
			return nil, err
		case resp.StatusCode != http.StatusOK:
			return nil, fmt.Errorf("answered %d", resp.StatusCode)
		case len(body) > maxTSAMessage:
			return nil, fmt.Errorf("an answer over %d bytes", maxTSAMessage)
		}
		// pdfsign takes the token as given: an external authority's answer is checked here.
		if _, err := timestamp.ParseResponse(body); err != nil {
			return nil, fmt.Errorf("an answer that is not a valid time-stamp: %w", err)
		}
		return body, nil
	}, nil
}
