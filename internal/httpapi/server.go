// Package httpapi is pakn's HTTP layer: the chi router, middleware, and the
// handlers that translate between HTTP and the services. Errors become
// application/problem+json in one place (errors.go); authorization is
// decided by internal/access through the services, never by a handler.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/httprate"

	"pakn/internal/agency"
	"pakn/internal/audit"
	"pakn/internal/auditlog"
	"pakn/internal/desk"
	"pakn/internal/identity"
)

// Checker reports whether a dependency can serve; nil means ready.
type Checker func(ctx context.Context) error

// RateLimits are per-client-address request limits of the public endpoints.
type RateLimits struct {
	Login  int // sign-in attempts per minute
	Public int // other public requests per minute
	Verify int // verifications per minute
}

// DefaultRateLimits are the limits paknd uses unless configured otherwise.
var DefaultRateLimits = RateLimits{Login: 20, Public: 300, Verify: 60}

// Deps is what the HTTP layer needs from the rest of paknd.
type Deps struct {
	Log          *slog.Logger
	MaxBodyBytes int64
	// Ready lists the dependencies /readyz checks, by name.
	Ready          map[string]Checker
	Identity       *identity.Service
	AuditLog       *auditlog.Service
	Agencies       func(context.Context) ([]agency.Agency, error)
	Desk           *desk.Service
	Clients        *audit.ClientHasher // keyed hashes of client addresses for the audit log
	TrustedProxies []netip.Prefix      // peers whose X-Forwarded-For is believed
	RateLimits     RateLimits
}

// Server is pakn's HTTP API.
type Server struct {
	log      *slog.Logger
	ready    map[string]Checker
	metrics  *metrics
	router   chi.Router
	identity *identity.Service
	auditlog *auditlog.Service
	desk     *desk.Service
	now      func() time.Time
	agencies func(context.Context) ([]agency.Agency, error)
	clients  *audit.ClientHasher
	trusted  []netip.Prefix
	// verifySlots bounds the verifications in progress, each holding up to
	// 20 MB: memory stays bounded whatever the number of clients.
	verifySlots chan struct{}
}

// MaxConcurrentVerifications is how many documents are read and verified
// at once; further requests wait for a slot.
const MaxConcurrentVerifications = 16

// New builds the HTTP API.
func New(d Deps) *Server {
	if d.RateLimits == (RateLimits{}) {
		d.RateLimits = DefaultRateLimits
	}
	if d.RateLimits.Verify == 0 {
		d.RateLimits.Verify = DefaultRateLimits.Verify
	}
	s := &Server{log: d.Log, ready: d.Ready, metrics: newMetrics(), identity: d.Identity, auditlog: d.AuditLog, desk: d.Desk,
		now: time.Now, agencies: d.Agencies, clients: d.Clients, trusted: d.TrustedProxies,
		verifySlots: make(chan struct{}, MaxConcurrentVerifications)}
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, http.StatusForbidden, "cross_origin", "Yêu cầu từ trang khác bị từ chối. / Cross-origin request refused.")
	}))

	r := chi.NewRouter()
	r.Use(withRequestID, s.withClientAddr, s.observe, s.recoverPanics, securityHeaders, csrf.Handler)
	limit := limitBody(d.MaxBodyBytes)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, http.StatusNotFound, "not_found", "no such resource")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed on this resource")
	})
	r.With(limit).Get("/", s.index)
	r.With(limit).Get("/healthz", s.healthz)
	r.With(limit).Get("/readyz", s.readyz)
	r.With(limit).Method(http.MethodGet, "/metrics", s.metrics.handler())

	if s.identity != nil {
		public := s.rateLimit(d.RateLimits.Public)
		secret := s.rateLimit(d.RateLimits.Login) // endpoints that take a password or lookup secret
		verifyLimit := s.rateLimit(d.RateLimits.Verify)
		if s.desk != nil {
			// Where a reply's QR code leads, and its upload form.
			r.With(s.authenticate, public, limit).Get("/verify/{id}", s.verifyReplyPage)
			r.With(s.authenticate, verifyLimit, limitBody(max(VerifyUploadLimit, d.MaxBodyBytes))).Post("/verify/{id}", s.verifyReplyUpload)
		}
		r.Route("/api/v1", func(r chi.Router) {
			r.Use(s.authenticate)
			if s.desk != nil {
				// The routes with a larger body: five 10 MB attachments; a 20 MB document to verify.
				r.With(public, limitBody(max(UploadLimit, d.MaxBodyBytes))).Post("/petitions", s.submitPetition)
				r.With(verifyLimit, limitBody(max(VerifyUploadLimit, d.MaxBodyBytes))).Post("/verifications", s.createVerification)
			}
			r.Group(func(r chi.Router) {
				r.Use(limit)
				s.routes(r, public, secret)
			})
		})
	}
	s.router = r
	return s
}

// routes registers the API routes that take the global body limit.
func (s *Server) routes(r chi.Router, public, secret func(http.Handler) http.Handler) {
	r.Get("/openapi.json", s.openAPI)
	r.With(secret).Post("/auth/login", s.login)
	r.Post("/auth/logout", s.logout)
	r.Get("/auth/session", s.currentSession)
	r.Post("/auth/password", s.changePassword)
	r.Post("/auth/mfa/enrol", s.startMFA)
	r.Post("/auth/mfa/confirm", s.confirmMFA)
	r.Post("/auth/step-up", s.stepUp)

	r.With(public).Get("/agencies", s.listAgencies)

	r.Get("/accounts", s.listAccounts)
	r.Post("/accounts", s.createAccount)
	r.Get("/accounts/{id}", s.getAccount)
	r.Post("/accounts/{id}/roles", s.addRole)
	r.Delete("/accounts/{id}/roles/{role}", s.removeRole)
	r.Post("/accounts/{id}/disable", s.disableAccount)
	r.Post("/accounts/{id}/mfa-reset", s.resetMFA)
	r.Post("/accounts/{id}/password-reset", s.resetPassword)

	r.Get("/tokens", s.listTokens)
	r.Post("/tokens", s.issueToken)
	r.Delete("/tokens/{id}", s.revokeToken)

	r.Get("/audit/events", s.auditEvents)
	r.Get("/audit/verify", s.auditVerify)
	r.Get("/audit/export", s.auditExport)

	if s.desk == nil {
		return
	}
	r.With(secret).Post("/petitions/lookup", s.lookupPetition)
	r.With(secret).Post("/petitions/reopen", s.reopenPetition)
	r.With(public).Get("/petitions/reject-reasons", s.rejectReasons)
	r.With(public).Get("/calendar/holidays", s.holidays)
	r.Get("/petitions", s.listPetitions)
	r.Get("/petitions/{id}", s.getPetition)
	r.Get("/petitions/{id}/attachments/{attachment}", s.getAttachment)
	r.Post("/petitions/{id}/transitions", s.transitionPetition)
	r.Post("/petitions/{id}/updates", s.postUpdate)
	r.Get("/petitions/{id}/replies", s.listReplies)
	r.Post("/petitions/{id}/replies", s.draftReply)
	r.Get("/replies/{id}", s.getReply)
	r.Post("/replies/{id}/approve", s.reviewReply(true))
	r.Post("/replies/{id}/send-back", s.reviewReply(false))
	r.Post("/replies/{id}/sign", s.signReply)
	r.Get("/replies/{id}/pdf", s.replyPDF)
	r.With(secret).Post("/petitions/reply", s.petitionerReplyPDF)
	r.With(public).Get("/register/replies/{id}/pdf", s.publishedReplyPDF)
	r.With(public).Get("/register/replies/{id}", s.registerEntry)
	r.Get("/reports/deadlines", s.deadlineReport)
}

// rateLimit limits requests per minute per real client address.
func (s *Server) rateLimit(perMinute int) func(http.Handler) http.Handler {
	return httprate.Limit(perMinute, time.Minute,
		httprate.WithKeyFuncs(func(r *http.Request) (string, error) { return clientAddr(r.Context()), nil }),
		httprate.WithLimitHandler(func(w http.ResponseWriter, r *http.Request) {
			writeProblem(w, r, http.StatusTooManyRequests, "rate_limited", "Quá nhiều yêu cầu; hãy thử lại sau. / Too many requests; try again later.")
		}))
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// Routes returns every method and route pattern the router serves.
func (s *Server) Routes() [][2]string {
	var out [][2]string
	_ = chi.Walk(s.router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		out = append(out, [2]string{method, route})
		return nil
	})
	return out
}

// readyTimeout bounds each dependency check of /readyz.
const readyTimeout = 3 * time.Second
