package httpapi

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientKey returns the client resolved by withClientAddr: its IPv4
// address, or its IPv6 /64 network. Rate limits, per-client quotas and
// sign-in throttles are kept per key, and the audit log records the key's
// keyed hash: a client rotating addresses inside one /64 (which one
// subscriber usually holds whole) is one client.
func clientKey(ctx context.Context) string {
	c, _ := ctx.Value(clientAddrKey).(client)
	return c.key
}

// keyOf is the key of a client address: the address itself for IPv4 (and
// IPv4-mapped IPv6), its /64 network for IPv6; anything unparsable as is.
func keyOf(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a.WithZone(""), 64).Masked().String()
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

// client is the real client of a request, as withClientAddr resolved it.
type client struct {
	key    string // see clientKey
	exempt bool   // within Limits.Exempt: no per-client limits
}

// clientExempt reports whether the request's client is exempt from the
// per-client limits (Limits.Exempt).
func clientExempt(ctx context.Context) bool {
	c, _ := ctx.Value(clientAddrKey).(client)
	return c.exempt
}

// withClientAddr stores the real client (see clientKey) in the request
// context.
func (s *Server) withClientAddr(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := realClient(r, s.trusted)
		c := client{key: keyOf(addr)}
		// A trusted proxy's own address stands for clients whose forwarded address
		// was unreadable: never exempt, whatever the configuration says.
		if a, err := netip.ParseAddr(addr); err == nil && !isTrusted(a.Unmap(), s.trusted) {
			c.exempt = isTrusted(a.Unmap(), s.limits.Exempt)
		}
		ctx := context.WithValue(r.Context(), clientAddrKey, c)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
