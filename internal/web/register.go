package web

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"pakn/internal/agency"
	"pakn/internal/apperr"
	"pakn/internal/deadline"
	"pakn/internal/msg"
	"pakn/internal/petition"
	"pakn/internal/register"
	"pakn/internal/reply"
)

// registerPageSize is how many replies a page of the register lists.
const registerPageSize = 20

// registerData is what the register's list shows, ready to print: the
// page's rows and the filters' choices are made in Go, so the template
// only writes fields (each method a template calls costs a reflective
// look-up, and this page is the busiest).
type registerData struct {
	Query      url.Values // the filters, shown again and kept in the links
	Rows       []registerRow
	Total      int
	More       bool // more than reply.RegisterCountCap entries: Total is a lower bound
	Page, Last int
	Agencies   []option
	Categories []option
	Outcomes   []option
}

// registerRow is one published reply in the register's list.
type registerRow struct {
	ID, Number, Date, AgencyName, Summary, Category, Outcome string
	Superseded                                               bool
}

// option is one choice of a filter's list.
type option struct {
	Value, Label string
	Selected     bool
}

// rows prints entries for the list in v's language.
func (v *view) rows(entries []reply.Listed) []registerRow {
	rows := make([]registerRow, len(entries))
	for i, e := range entries {
		rows[i] = registerRow{ID: e.ReplyID, Number: e.Number, Date: v.Date(e.SignedAt), AgencyName: e.AgencyName, Summary: e.Summary,
			Category: v.CategoryLabel(e.Category), Outcome: v.OutcomeLabel(e.Outcome), Superseded: e.Superseded}
	}
	return rows
}

// filterChoices fills the filters' choices, the chosen ones selected.
func (d *registerData) filterChoices(v *view, agencies []agency.Agency) {
	d.Agencies = make([]option, len(agencies))
	for i, a := range agencies {
		d.Agencies[i] = option{Value: a.Code, Label: v.AgencyLabel(a), Selected: d.Query.Get("agency") == a.Code}
	}
	d.Categories = categoryOptions(v, petition.Category(d.Query.Get("category")))
	d.Outcomes = outcomeOptions(v, reply.Outcome(d.Query.Get("outcome")))
}

// registerQuery reads the register's filters from the URL: q (words), agency,
// category, outcome, from and to (YYYY-MM-DD, inclusive, Vietnam's days).
// They are public, so they may travel in the URL.
func registerQuery(u url.Values) (reply.RegisterQuery, error) {
	q := reply.RegisterQuery{Query: strings.TrimSpace(u.Get("q")), Agency: u.Get("agency"),
		Category: petition.Category(u.Get("category")), Outcome: reply.Outcome(u.Get("outcome"))}
	var bad []petition.FieldError
	if q.Category != "" && !slices.Contains(petition.Categories, q.Category) {
		bad = append(bad, petition.Problem("category", msg.ChooseCategory))
	}
	if _, ok := reply.Outcomes[q.Outcome]; q.Outcome != "" && !ok {
		bad = append(bad, petition.Problem("outcome", msg.ChooseOutcome))
	}
	for _, f := range []struct {
		name string
		t    *time.Time
		next bool
	}{{"from", &q.From, false}, {"to", &q.To, true}} {
		v := u.Get(f.name)
		if v == "" {
			continue
		}
		d, err := time.ParseInLocation(time.DateOnly, v, deadline.ICT)
		if err != nil {
			bad = append(bad, petition.Problem(f.name, msg.DateFormat))
			continue
		}
		if f.next {
			d = d.AddDate(0, 0, 1) // to the end of that day
		}
		*f.t = d
	}
	if len(bad) > 0 {
		return q, petition.Invalid(bad...)
	}
	return q, nil
}

// Register lists the published replies: search, filters, paging.
func (s *Site) Register(w http.ResponseWriter, r *http.Request) {
	u := r.URL.Query()
	d := &registerData{Query: u, Page: 1}
	v := s.view(w, r, msg.RegisterTitle, d)
	if p, err := strconv.Atoi(u.Get("page")); err == nil && p > 1 && p <= 10000 {
		d.Page = p
	}
	ags, err := s.directory(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	d.filterChoices(v, ags)
	q, err := registerQuery(u)
	var entries []reply.Listed
	if err == nil {
		q.Limit, q.Offset = registerPageSize, (d.Page-1)*registerPageSize
		entries, d.Total, err = s.register.List(r.Context(), q)
	}
	if err != nil {
		v.Errors = problems(err, v.Lang)
		s.render(w, r, s.fault(r, err), "register", v)
		return
	}
	d.Rows = v.rows(entries)
	d.Total, d.More = counted(d.Total)
	d.Last = max(1, (d.Total+registerPageSize-1)/registerPageSize)
	if d.More {
		d.Last = max(d.Page+1, d.Last) // the next page exists at least; beyond the count, pages go on one at a time
		if len(entries) < registerPageSize {
			d.Last = d.Page
		}
	}
	s.render(w, r, http.StatusOK, "register", v)
}

// outcomeOrder lists the outcomes in the order the filter offers them.
var outcomeOrder = []reply.Outcome{reply.Explained, reply.WillAmend, reply.WillAbolish, reply.Accepted, reply.NotAccepted, reply.Transferred}

// outcomeOptions are the outcome filter's (or field's) choices.
func outcomeOptions(v *view, chosen reply.Outcome) []option {
	out := make([]option, len(outcomeOrder))
	for i, o := range outcomeOrder {
		out[i] = option{Value: string(o), Label: v.OutcomeLabel(o), Selected: o == chosen}
	}
	return out
}

// OutcomeLabel names an outcome in the page's language.
func (v *view) OutcomeLabel(o reply.Outcome) string {
	t, ok := reply.Outcomes[o]
	if !ok {
		return string(o)
	}
	return v.inLanguage(t)
}

// inLanguage picks the page's language of a Vietnamese and English pair,
// as the domain's lists of labels give them.
func (v *view) inLanguage(t [2]string) string {
	if v.Lang == msg.English {
		return t[1]
	}
	return t[0]
}

// CategoryLabel names a category in the page's language.
func (v *view) CategoryLabel(c petition.Category) string {
	for _, ch := range categoryChoices {
		if ch.Value == c {
			return v.L(ch.Label)
		}
	}
	return string(c)
}

// filters are the list's query without its page and language.
func (d *registerData) filters() url.Values {
	u := url.Values{}
	for k, vs := range d.Query {
		if k != "page" && k != "lang" {
			u[k] = vs
		}
	}
	return u
}

// PageURL is the register's list at page n with the same filters.
func (d *registerData) PageURL(n int) string {
	u := d.filters()
	u.Set("page", strconv.Itoa(n))
	return "/register?" + u.Encode()
}

// FeedURL is a feed (csv or json) of the list's filters.
func (d *registerData) FeedURL(format string) string {
	u := d.filters()
	if len(u) == 0 {
		return "/register." + format
	}
	return "/register." + format + "?" + u.Encode()
}

// RegisterEntry is one published reply's page in the register.
func (s *Site) RegisterEntry(w http.ResponseWriter, r *http.Request) {
	p, err := s.register.PublishedReply(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "register_entry", s.view(w, r, msg.RegisterTitle, p))
}

// feedEntry is one entry of the register's open data feeds.
type feedEntry struct {
	ID         string `json:"id"`
	Number     string `json:"number"`
	Agency     string `json:"agency"`
	AgencyName string `json:"agency_name"`
	SignedAt   string `json:"signed_at"`
	Category   string `json:"category"`
	Outcome    string `json:"outcome"`
	Summary    string `json:"summary"`
	Superseded bool   `json:"superseded"`
	PDF        string `json:"pdf"`
	Page       string `json:"page"`
}

// RegisterFeed serves the register's entries as open data, CSV or JSON by
// the path's extension, with the list's filters and limit (at most
// register.MaxListed; 100 when absent) and offset: stable URLs for the
// same entries as the pages.
func (s *Site) RegisterFeed(w http.ResponseWriter, r *http.Request) {
	u := r.URL.Query()
	q, err := registerQuery(u)
	if err == nil {
		q.Limit, q.Offset = 100, 0
		if v := u.Get("limit"); v != "" {
			q.Limit, err = strconv.Atoi(v)
		}
		if v := u.Get("offset"); v != "" && err == nil {
			q.Offset, err = strconv.Atoi(v)
		}
		if err != nil {
			err = apperr.New(apperr.Invalid, msg.RegisterPageBounds, register.MaxListed)
		}
	}
	var list []reply.Listed
	var total int
	if err == nil {
		list, total, err = s.register.List(r.Context(), q)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	out := make([]feedEntry, len(list))
	for i, l := range list {
		out[i] = feedEntry{ID: l.ReplyID, Number: l.Number, Agency: l.Agency, AgencyName: l.AgencyName,
			SignedAt: l.SignedAt.UTC().Format(time.RFC3339), Category: string(l.Category), Outcome: string(l.Outcome), Summary: l.Summary,
			Superseded: l.Superseded, PDF: "/api/v1/register/replies/" + l.ReplyID + "/pdf", Page: "/register/" + l.ReplyID}
	}
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=300")
	total, more := counted(total)
	h.Set("X-Total-Count", strconv.Itoa(total))
	if more {
		h.Set("X-Total-Count-Is-Lower-Bound", "true") // more entries than the register counts
	}
	if strings.HasSuffix(r.URL.Path, ".csv") {
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="so-dang-ky.csv"`)
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"id", "number", "agency", "agency_name", "signed_at", "category", "outcome", "summary", "superseded", "pdf", "page"})
		for _, e := range out {
			_ = cw.Write([]string{e.ID, e.Number, e.Agency, e.AgencyName, e.SignedAt, e.Category, e.Outcome, csvSafe(e.Summary),
				strconv.FormatBool(e.Superseded), e.PDF, e.Page})
		}
		cw.Flush()
		return
	}
	h.Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"total": total, "total_is_lower_bound": more, "limit": q.Limit, "offset": q.Offset, "replies": out})
}

// counted is a total as the register says it: at most
// reply.RegisterCountCap, and whether there are more.
func counted(total int) (int, bool) {
	if total > reply.RegisterCountCap {
		return reply.RegisterCountCap, true
	}
	return total, false
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
