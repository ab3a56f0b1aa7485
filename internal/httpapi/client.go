package httpapi

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientAddr returns the client address resolved by withClientAddr.
func clientAddr(ctx context.Context) string {
	a, _ := ctx.Value(clientAddrKey).(string)
	return a
}

// realClient returns the address of the client that sent r: the peer's
// address, unless the peer is a configured trusted proxy, in which case the
// nearest address in X-Forwarded-For that is not a trusted proxy. A forged
// X-Forwarded-For from an untrusted peer is ignored.
func realClient(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !isTrusted(peer, trusted) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return peer.String() // a malformed chain is not trusted beyond the proxy
		}
		a = a.Unmap()
		if !isTrusted(a, trusted) {
			return a.String()
		}
		peer = a
	}
	return peer.String()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// withClientAddr stores the real client address in the request context.
func (s *Server) withClientAddr(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), clientAddrKey, realClient(r, s.trusted))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
