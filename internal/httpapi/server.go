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
	"golang.org/x/sync/semaphore"

	"pakn/internal/access"
	"pakn/internal/agency"
	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/auditlog"
	"pakn/internal/guard"
	"pakn/internal/identity"
	"pakn/internal/msg"
	"pakn/internal/petitions"
	"pakn/internal/quota"
	"pakn/internal/register"
	"pakn/internal/replies"
	"pakn/internal/spool"
	"pakn/internal/tsa"
	"pakn/internal/web"
)

// Checker reports whether a dependency can serve; nil means ready.
type Checker func(ctx context.Context) error

// Limits bound what clients may make pakn do. A client is an IPv4 address
// or an IPv6 /64 network (one subscriber's usual share), as resolved by
// clientKey. A zero field takes DefaultLimits' value.
type Limits struct {
	Login  int // sign-in attempts per minute per client
	Public int // other public requests per minute per client
	Verify int // verifications per minute per client, a document counting once per started MiB
	Submit int // anonymous submissions per minute per client
	TSA    int // time-stamps per minute per client at /api/v1/tsa

	VerifyPerClient      int   // verifications one client has running at once
	UploadsPerClient     int   // anonymous submissions one client is sending at once
	DailyAttachmentBytes int64 // attachment bytes one client may send per day (anonymous)
	UploadBytes          int64 // bytes of uploads being received at once, each reserved at its declared length
	VerifyMemory         int64 // memory for verifying documents over 1 MiB at once, each counted at 2 × its size + 2 MiB

	// Exempt lists clients free of every per-client limit above (rates,
	// places, daily volume) but not of the global budgets: for the
	// operators' own load generators and monitoring, never for the public.
	Exempt []netip.Prefix
}

// DefaultLimits are the limits paknd uses unless configured otherwise.
var DefaultLimits = Limits{Login: 20, Public: 300, Verify: 60, Submit: 10, TSA: 60,
	VerifyPerClient: 2, UploadsPerClient: 2, DailyAttachmentBytes: 200 << 20, UploadBytes: 1 << 30, VerifyMemory: 64 << 20}

// withDefaults fills l's zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	for _, f := range []struct{ v, def *int }{{&l.Login, &d.Login}, {&l.Public, &d.Public}, {&l.Verify, &d.Verify},
		{&l.Submit, &d.Submit}, {&l.TSA, &d.TSA}, {&l.VerifyPerClient, &d.VerifyPerClient}, {&l.UploadsPerClient, &d.UploadsPerClient}} {
		if *f.v == 0 {
			*f.v = *f.def
		}
	}
	for _, f := range []struct{ v, def *int64 }{{&l.DailyAttachmentBytes, &d.DailyAttachmentBytes},
		{&l.UploadBytes, &d.UploadBytes}, {&l.VerifyMemory, &d.VerifyMemory}} {
		if *f.v == 0 {
			*f.v = *f.def
		}
	}
	return l
}

// Deps is what the HTTP layer needs from the rest of paknd.
type Deps struct {
	Log          *slog.Logger
	MaxBodyBytes int64
	// Ready lists the dependencies /readyz checks, by name.
	Ready          map[string]Checker
	Identity       *identity.Service
	AuditLog       *auditlog.Service
	Agencies       func(context.Context) ([]agency.Agency, error)
	Guard          *guard.Guard // the access policy, for what the API itself serves (agencies)
	Petitions      *petitions.Service
	Replies        *replies.Service // every transition goes through it (see replies.Service.Transition)
	Register       *register.Service
	Clients        *audit.ClientHasher // keyed hashes of client addresses for the audit log
	TrustedProxies []netip.Prefix      // peers whose X-Forwarded-For is believed
	Limits         Limits
	SpoolDir       string // where uploads wait on disk; the system's temporary folder when empty
	// MetricsToken, when set, serves /metrics on this listener to requests
	// bearing it; otherwise /metrics is only on the separate metrics
	// listener (see MetricsHandler).
	MetricsToken string
	// ReadyCache is how long /readyz reuses its dependency checks
	// (DefaultReadyCache when zero).
	ReadyCache time.Duration
	// Operator is who runs the service, named in the website's personal-data
	// notice.
	Operator web.Operator
	// ReadTimeout is the server's limit on reading a whole request: an
	// upload must keep the pace that fits its declared length in it (no
	// pace is required when zero).
	ReadTimeout time.Duration
}

// Server is pakn's HTTP API.
type Server struct {
	log       *slog.Logger
	metrics   *metrics
	router    chi.Router
	identity  *identity.Service
	auditlog  *auditlog.Service
	guard     *guard.Guard
	petitions *petitions.Service
	replies   *replies.Service
	register  *register.Service
	site      *web.Site // the public website, when every service it needs is given
	now       func() time.Time
	agencies  func(context.Context) ([]agency.Agency, error)
	clients   *audit.ClientHasher
	trusted   []netip.Prefix
	limits    Limits
	ready     readiness

	spool       *spool.Spool
	uploads     quota.Budget  // bytes of request bodies reserved and not yet freed
	readTimeout time.Duration // see Deps.ReadTimeout
	// Verifications: at most VerifyPerClient per client, their documents
	// received into the spool before any place is taken; then a place in
	// the small documents' lane (MaxConcurrentVerifications), or a large
	// document's weight of VerifyMemory (see verifyUpload).
	verifying   quota.PerClient
	verifySlots *semaphore.Weighted
	verifyBytes *semaphore.Weighted
	// Anonymous submissions: at most UploadsPerClient per client at once,
	// and DailyAttachmentBytes of attachments per client and day.
	submitting  quota.PerClient
	attachments quota.Daily
}

// MaxConcurrentVerifications is how many documents of up to 1 MiB are
// verified at once; further requests wait, their documents in the spool,
// for a place.
const MaxConcurrentVerifications = 16

// New builds the HTTP API.
func New(d Deps) *Server {
	l := d.Limits.withDefaults()
	s := &Server{log: d.Log, metrics: newMetrics(), identity: d.Identity, auditlog: d.AuditLog, guard: d.Guard, petitions: d.Petitions, replies: d.Replies, register: d.Register,
		now: time.Now, agencies: d.Agencies, clients: d.Clients, trusted: d.TrustedProxies, limits: l,
		ready:       readiness{checks: d.Ready, ttl: d.ReadyCache},
		spool:       &spool.Spool{Dir: d.SpoolDir},
		readTimeout: d.ReadTimeout,
		verifying:   quota.PerClient{Max: l.VerifyPerClient},
		uploads:     quota.Budget{Max: l.UploadBytes},
		verifySlots: semaphore.NewWeighted(MaxConcurrentVerifications),
		verifyBytes: semaphore.NewWeighted(l.VerifyMemory),
		submitting:  quota.PerClient{Max: l.UploadsPerClient},
		attachments: quota.Daily{Max: l.DailyAttachmentBytes}}
	if d.Petitions != nil && d.Replies != nil && d.Register != nil && d.Agencies != nil {
		site, err := web.New(web.Deps{Edge: s, Petitions: d.Petitions, Replies: d.Replies, Register: d.Register, Agencies: d.Agencies, Log: d.Log,
			Operator: d.Operator, Identity: d.Identity})
		if err != nil {
			panic(err) // the embedded templates do not parse: a build defect, caught by every test
		}
		s.site = site
	}
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, s.log, apperr.New(apperr.CrossOrigin, msg.CrossOriginRefused))
	}))

	r := chi.NewRouter()
	r.Use(withRequestID, withLanguage, s.withClientAddr, s.observe, s.recoverPanics, securityHeaders, s.withPages, csrf.Handler)
	limit := s.limitBody(d.MaxBodyBytes, msg.BodyTooLarge)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, s.log, errNoSuchResource)
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, s.log, apperr.New(apperr.MethodNotAllowed, msg.MethodNotAllowed))
	})
	r.With(limit).Get("/healthz", s.healthz)
	r.With(limit).Get("/readyz", s.readyz)
	if d.MetricsToken != "" {
		r.With(limit, s.bearerOnly(d.MetricsToken)).Method(http.MethodGet, "/metrics", s.metrics.handler())
	}

	public := s.rateLimit(l.Public)
	secret := s.rateLimit(l.Login)      // endpoints that take a password, a code or a lookup secret
	verifyRate := s.rateLimit(l.Verify) // one count for the API and the page together
	verifyLimit := func(next http.Handler) http.Handler {
		return weighBySize(l.Verify, VerifyUploadLimit)(verifyRate(next))
	}
	submitRate := s.rateLimit(l.Submit) // one count for the API and the page together
	if s.identity != nil && s.site != nil {
		s.sitePages(r, pageLimits{public: public, secret: secret, verify: verifyLimit, submit: submitRate, body: limit}, d.MaxBodyBytes)
	}
	r.Route("/api/v1", func(r chi.Router) {
		r.With(limit).Get("/", s.index)
		if s.identity == nil {
			return
		}
		r.Group(func(r chi.Router) {
			r.Use(s.authenticate)
			// The routes with a larger body: five 10 MB attachments; a 20 MB document to verify.
			if s.petitions != nil {
				r.With(public, s.anonymousOnly(submitRate), s.limitBody(max(UploadLimit, d.MaxBodyBytes), msg.SubmissionTooLarge)).Post("/petitions", s.submitPetition)
			}
			if s.register != nil {
				r.With(verifyLimit, s.limitBody(max(VerifyUploadLimit, d.MaxBodyBytes), msg.PDFTooLarge)).Post("/verifications", s.createVerification)
				r.With(s.rateLimit(l.TSA), s.limitBody(tsa.MaxRequest, msg.TimeStampMediaType)).Post("/tsa", s.timeStamp)
			}
			r.Group(func(r chi.Router) {
				r.Use(limit)
				s.routes(r, public, secret)
			})
		})
	})
	s.router = r
	return s
}

// pageLimits are the rate and body limits the pages share with the API.
type pageLimits struct {
	public, secret, verify, submit, body func(http.Handler) http.Handler
}

// sitePages registers the public website's pages, each behind the same
// bounds as the API route it stands beside: public pages at the public
// rate, the petition form as a submission (the same rate count as the API,
// per-client places, daily volume and upload budget, through ReadForm),
// tracking as a lookup with a secret, verification as the API's. The pages
// are the public's: no session is looked up for them.
func (s *Server) sitePages(r chi.Router, l pageLimits, maxBody int64) {
	site := s.site
	r.Group(func(r chi.Router) {
		r.With(l.public, l.body).Get("/", site.Home)
		r.With(l.public, l.body).Get("/static/*", site.Static)
		r.With(l.public, l.body).Get("/submit", site.SubmitForm)
		r.With(l.public, l.submit, s.limitBody(max(UploadLimit, maxBody), msg.SubmissionTooLarge)).Post("/submit", site.Submit)
		r.With(l.secret, l.body).Post("/submit/receipt", site.ReceiptAgain)
		r.With(l.public, l.body).Get("/track", site.TrackForm)
		r.With(l.secret, l.body).Post("/track", site.Track)
		r.With(l.secret, l.body).Post("/track/reply", site.TrackReply)
		r.With(l.secret, l.body).Post("/track/receipt", site.TrackReceipt)
		r.With(l.secret, l.body).Post("/track/reopen", site.Reopen)
		verifyBody := s.limitBody(max(VerifyUploadLimit, maxBody), msg.PDFTooLarge)
		r.With(l.public, l.body).Get("/verify", site.VerifyForm)
		r.With(l.verify, verifyBody).Post("/verify", site.Verify)
		r.With(l.public, l.body).Get("/register", site.Register)
		r.With(l.public, l.body).Get("/register/{id}", site.RegisterEntry)
		r.With(l.public, l.body).Get("/register.csv", site.RegisterFeed)
		r.With(l.public, l.body).Get("/register.json", site.RegisterFeed)
		// Where a reply's QR code leads, and its upload form.
		r.With(l.public, l.body).Get("/verify/{id}", site.ReplyPage)
		r.With(l.verify, verifyBody).Post("/verify/{id}", site.ReplyVerify)
	})
	// The staff desk: the API's session cookie, and the same bounds as the
	// API's routes beside them (a password or a code at the login rate).
	r.Group(func(r chi.Router) {
		r.Use(s.authenticate, l.body)
		r.With(l.public).Get("/desk", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/desk/", http.StatusMovedPermanently)
		})
		r.With(l.public).Get("/desk/signin", site.SignInForm)
		r.With(l.secret).Post("/desk/signin", site.SignIn)
		r.With(l.secret).Post("/desk/signin/code", site.SignInCode)
		r.With(l.public).Post("/desk/signout", site.SignOut)
		r.With(l.public).Get("/desk/password", site.PasswordForm)
		r.With(l.secret).Post("/desk/password", site.ChangePassword)
		r.With(l.public).Get("/desk/mfa", site.MFAForm)
		r.With(l.secret).Post("/desk/mfa", site.ConfirmMFA)
		r.With(l.secret).Post("/desk/mfa/start", site.StartMFA) // takes the current password
		r.With(l.public).Get("/desk/", site.Queue)
		r.With(l.public).Post("/desk/", site.Queue) // a search: the words in the body
		r.With(l.public).Get("/desk/petitions/{id}", site.Petition)
		r.With(l.public).Post("/desk/petitions/{id}/petitioner", site.PetitionPersonal)
		r.With(l.public).Post("/desk/petitions/{id}/transitions", site.Transition)
		r.With(l.public).Post("/desk/petitions/{id}/updates", site.PostUpdate)
		r.With(l.public).Get("/desk/petitions/{id}/reply", site.DraftForm)
		r.With(l.public).Post("/desk/petitions/{id}/replies", site.Draft)
		r.With(l.public).Get("/desk/replies/{id}", site.Reply)
		r.With(l.public).Get("/desk/replies/{id}/preview", site.ReplyPreview)
		r.With(l.public).Get("/desk/replies/{id}/pdf", site.ReplyPDF)
		r.With(l.public).Post("/desk/replies/{id}/review", site.Review)
		r.With(l.secret).Post("/desk/replies/{id}/sign", site.Sign)
		r.With(l.public).Get("/desk/step-up", site.StepUpForm)
		r.With(l.secret).Post("/desk/step-up", site.StepUp)
		r.With(l.public).Get("/desk/admin", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/desk/admin/", http.StatusMovedPermanently)
		})
		r.With(l.public).Get("/desk/admin/", site.AdminAccounts)
		r.With(l.public).Post("/desk/admin/accounts", site.CreateAccount)
		r.With(l.public).Get("/desk/admin/accounts/{id}", site.AdminAccount)
		r.With(l.public).Post("/desk/admin/accounts/{id}/roles", site.AccountRoles)
		r.With(l.public).Post("/desk/admin/accounts/{id}/disable", site.AccountDisable)
		r.With(l.public).Post("/desk/admin/accounts/{id}/password-reset", site.AccountPasswordReset)
		r.With(l.public).Post("/desk/admin/accounts/{id}/mfa-reset", site.AccountMFAReset)
		r.With(l.public).Post("/desk/admin/requests/{id}/approve", site.ApproveRequest)
		r.With(l.public).Post("/desk/admin/requests/{id}/refuse", site.RefuseRequest)
		r.With(l.public).Get("/desk/admin/tokens", site.AdminTokens)
		r.With(l.public).Post("/desk/admin/tokens", site.IssueToken)
		r.With(l.public).Post("/desk/admin/tokens/{id}/revoke", site.RevokeToken)
		r.With(l.public).Get("/desk/admin/signers", site.AdminSigners)
		r.With(l.public).Get("/desk/admin/report", site.AdminReport)
	})
}

// routes registers the API routes that take the global body limit.
func (s *Server) routes(r chi.Router, public, secret func(http.Handler) http.Handler) {
	r.Get("/openapi.json", s.openAPI)
	r.With(secret).Post("/auth/login", s.login)
	r.Post("/auth/logout", s.logout)
	r.Get("/auth/session", s.currentSession)
	r.Post("/auth/password", s.changePassword)
	r.With(secret).Post("/auth/mfa/enrol", s.startMFA) // takes the current password
	r.With(secret).Post("/auth/mfa/confirm", s.confirmMFA)
	r.With(secret).Post("/auth/step-up", s.stepUp)

	if s.guard != nil && s.agencies != nil {
		r.With(public).Get("/agencies", s.listAgencies)
	}

	r.Get("/accounts", s.listAccounts)
	r.Post("/accounts", s.createAccount)
	r.Get("/accounts/{id}", s.getAccount)
	r.Post("/accounts/{id}/roles", s.addRole)
	r.Delete("/accounts/{id}/roles/{role}", s.removeRole)
	r.Post("/accounts/{id}/disable", s.disableAccount)
	r.Post("/accounts/{id}/mfa-reset", s.resetMFA)
	r.Post("/accounts/{id}/password-reset", s.resetPassword)
	r.Get("/power-requests", s.listPowerRequests)
	r.Post("/power-requests/{id}/approve", s.approvePowerRequest)
	r.Post("/power-requests/{id}/refuse", s.refusePowerRequest)

	r.Get("/tokens", s.listTokens)
	r.Post("/tokens", s.issueToken)
	r.Delete("/tokens/{id}", s.revokeToken)

	r.Get("/audit/events", s.auditEvents)
	r.Get("/audit/verify", s.auditVerify)
	r.Get("/audit/export", s.auditExport)

	if s.petitions == nil || s.replies == nil {
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
	r.With(secret).Post("/petitions/receipt", s.petitionerReceiptPDF)
	r.With(public).Get("/register/replies/{id}/pdf", s.publishedReplyPDF)
	r.Get("/reports/deadlines", s.deadlineReport)
	if s.register != nil {
		r.With(public).Get("/register/replies/{id}", s.registerEntry)
	}
}

// rateLimit limits requests per minute per client (clientKey). The answer
// beyond it is 429 with Retry-After.
func (s *Server) rateLimit(perMinute int) func(http.Handler) http.Handler {
	limit := httprate.LimitBy(perMinute, time.Minute,
		func(r *http.Request) (string, error) { return clientKey(r.Context()), nil },
		httprate.WithLimitHandler(func(w http.ResponseWriter, r *http.Request) {
			if w.Header().Get("Retry-After") == "" {
				w.Header().Set("Retry-After", "60")
			}
			writeError(w, r, s.log, apperr.New(apperr.RateLimited, msg.TooManyRequests))
		}))
	return func(next http.Handler) http.Handler {
		limited := limit(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if clientExempt(r.Context()) {
				next.ServeHTTP(w, r)
				return
			}
			limited.ServeHTTP(w, r)
		})
	}
}

// weighBySize charges a request to the rate limit that follows it by its
// size: one unit per started MiB of its declared length (of the route's
// limit when it declares none; Go's server reads no more than a declared
// length), at most the minute's whole allowance. A citizen checking
// replies of a few hundred kilobytes has perMinute checks a minute; a
// client sending 20 MB documents has three.
func weighBySize(perMinute int, routeLimit int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := r.ContentLength
			if n < 0 || n > routeLimit {
				n = routeLimit
			}
			units := min(max(1, int((n+1<<20-1)>>20)), perMinute)
			next.ServeHTTP(w, r.WithContext(httprate.WithIncrement(r.Context(), units)))
		})
	}
}

// anonymousOnly applies limit to anonymous requests only: staff and
// integrations are identified and accountable.
func (s *Server) anonymousOnly(limit func(http.Handler) http.Handler) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		limited := limit(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if authnOf(r.Context()).Principal.Kind == access.Anonymous {
				limited.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
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
