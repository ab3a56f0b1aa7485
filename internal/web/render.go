package web

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"

	"pakn/internal/apperr"
	"pakn/internal/deadline"
	"pakn/internal/msg"
	"pakn/internal/reply"
)

//go:embed templates/*.html static/*
var files embed.FS

// assets are the static files, each with the hash its URL carries, so they
// can be cached for good.
var assets = func() map[string]string {
	out := map[string]string{}
	entries, _ := fs.ReadDir(files, "static")
	for _, e := range entries {
		b, _ := files.ReadFile("static/" + e.Name())
		sum := sha256.Sum256(b)
		out[e.Name()] = hex.EncodeToString(sum[:6])
	}
	return out
}()

var funcs = template.FuncMap{
	"asset": func(name string) (string, error) {
		v, ok := assets[name]
		if !ok {
			return "", fmt.Errorf("no asset %q", name)
		}
		return "/static/" + name + "?v=" + v, nil
	},
	"fieldID": fieldID,
	// paragraphs are a text's non-empty lines, as a petition's words are
	// read (and as a reply's answer is printed).
	"paragraphs": func(text string) []string { return (&reply.Content{Answer: text}).AnswerParagraphs() },
	"inc":        func(n int) int { return n + 1 },
	"hasPrefix":  strings.HasPrefix,
	// pageForm is a search's page n of the queue, asked for by POST.
	"pageForm": func(d *queueData, n int, label string) pageForm {
		f := pageForm{Label: label}
		for _, k := range queueFields {
			if v := d.Query.Get(k); v != "" {
				f.Fields = append(f.Fields, [2]string{k, v})
			}
		}
		f.Fields = append(f.Fields, [2]string{"page", strconv.Itoa(n)})
		return f
	},
	"dec": func(n int) int { return n - 1 },
	// anchor is the id of the control a field problem links to: the
	// field's own, or the first control of its group.
	"anchor": func(field string) string {
		switch {
		case strings.HasPrefix(field, "attachments"):
			return fieldID("attachments")
		case field == "petitioner.kind":
			return "kind-individual"
		case field == "category":
			return "category-regulation"
		case field == "petitioner.contact":
			return fieldID("petitioner.email")
		}
		return fieldID(field)
	},
}

// fieldIDs turns a form field's name into the rest of its HTML id.
var fieldIDs = strings.NewReplacer(".", "-", "_", "-", "[", "-", "]", "")

// fieldID is the HTML id of the form field name.
func fieldID(name string) string { return "f-" + fieldIDs.Replace(name) }

// parsePages parses every page of templates/ (but the layout) with the
// layout: each page is the layout with the page's "main".
func parsePages() (map[string]*template.Template, error) {
	entries, err := fs.ReadDir(files, "templates")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".html")
		if name == "layout" {
			continue
		}
		// A message name the catalogue lacks fails the page, as T does.
		t, err := template.New(name).Option("missingkey=error").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("web: page %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// view is what every page's template gets: the language, the request's
// nonce, the page's title and its own data.
type view struct {
	Lang language.Tag
	// M is the catalogue's messages without arguments in the page's
	// language, by name ({{.M.HomeTitle}}); T formats the others.
	M      map[string]string
	Nonce  string
	Title  msg.Key
	Path   string // the page's path: the menu's current item, the retry link
	Errors []fieldProblem
	Values url.Values // a form's values, shown again after an error
	Data   any
	// RequestID names the request on error pages, for reporting a problem.
	RequestID string
	// Operator is who runs the service, for the personal-data notice.
	Operator Operator
	// Desk marks a page of the staff desk: its own header and menu.
	Desk bool
	// Staff is who is signed in, on desk pages.
	Staff *staffBar
	// SessionEnds is when the desk's session ends unless used (Unix
	// milliseconds, 0 when none): the page warns before it does.
	SessionEnds int64
	// DataImages lets the page show data: images (the QR code of an MFA
	// enrolment, made on the server).
	DataImages bool
	// Repost, on a page that answers a form, switches the language by
	// sending the form again (its fields hidden) instead of a link that
	// would lose what the page shows.
	Repost *repost
}

// pageForm is a button asking for a page of a search by POST.
type pageForm struct {
	Label  string
	Fields [][2]string // name, value
}

// repost is a form the language switch sends again.
type repost struct {
	Action string
	Fields [][2]string // name, value
}

// fieldProblem is a form field's problem, in the page's language.
type fieldProblem struct {
	Field, Message string
}

// T is the catalogue's message name in the page's language.
func (v *view) T(name string, args ...any) (string, error) {
	k, err := msg.Named(name)
	if err != nil {
		return "", err
	}
	return k.In(v.Lang, args...), nil
}

// L is the message k in the page's language.
func (v *view) L(k msg.Key, args ...any) string { return k.In(v.Lang, args...) }

// LangCode is the page's language as an HTML lang attribute.
func (v *view) LangCode() string { return v.Lang.String() }

// OtherLangCode is the other language's code.
func (v *view) OtherLangCode() string { return msg.OtherLanguageCode.In(v.Lang) }

// OtherLangURL is the page in the other language: a query-only link, so it
// stays on this page of this site whatever path the request had.
func (v *view) OtherLangURL() string { return "?lang=" + v.OtherLangCode() }

// RetryURL is the page to try again from after an error: the page's own
// path when it is one of the site's forms, else "" (a path from the
// request is never echoed as a link, which could lead to another site).
func (v *view) RetryURL() string {
	for _, p := range []string{"/submit", "/track", "/verify", "/register"} {
		if v.Path == p || strings.HasPrefix(v.Path, p+"/") {
			if strings.Contains(v.Path, "//") || strings.Contains(v.Path, "\\") {
				return ""
			}
			return v.Path
		}
	}
	return ""
}

// ErrorOf is the problem of field name, or "".
func (v *view) ErrorOf(name string) string {
	for _, e := range v.Errors {
		if e.Field == name {
			return e.Message
		}
	}
	return ""
}

// Date formats t's day as the pages do (02/12/2026), in Vietnam's time.
func (v *view) Date(t time.Time) string { return t.In(deadline.ICT).Format("02/01/2006") }

// Time formats t as the pages do (02/12/2026 14:05, UTC+7).
func (v *view) Time(t time.Time) string {
	return t.In(deadline.ICT).Format("02/01/2006 15:04") + " (UTC+7)"
}

// Day formats a calendar day as the pages do.
func (v *view) Day(d deadline.Date) string { return v.Date(d.Start()) }

// view starts the view of a page titled title, in the request's language.
func (s *Site) view(w http.ResponseWriter, r *http.Request, title msg.Key, data any) *view {
	lang := langOf(w, r)
	return &view{Lang: lang, M: msg.Texts(lang), Path: r.URL.Path, Title: title, Data: data, Operator: s.operator}
}

// render writes page name with status. The page's policy allows its own
// stylesheet, its own script by nonce, and forms posting to this site only;
// nothing is cached (pages may show a secret or a verdict).
func (s *Site) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	p, ok := s.pages[name]
	if !ok {
		panic("web: no page " + name)
	}
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	v.Nonce = base64.RawStdEncoding.EncodeToString(nonce)
	var buf bytes.Buffer
	if err := p.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.log.ErrorContext(r.Context(), "render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	img := "'self'"
	if v.DataImages {
		img += " data:"
	}
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src "+img+"; script-src 'nonce-"+v.Nonce+
		"'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", v.Lang.String())
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "Cookie")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// problems lists err's field problems in the page's language; an error
// without fields is the form's (field "").
func problems(err error, t language.Tag) []fieldProblem {
	e := apperr.As(err)
	if e == nil || len(e.Fields) == 0 {
		k, args := apperr.KeyOf(err)
		return []fieldProblem{{Message: k.In(t, args...)}}
	}
	var out []fieldProblem
	for _, f := range e.Fields {
		m := f.VI
		if t == msg.English {
			m = f.EN
		}
		out = append(out, fieldProblem{Field: f.Field, Message: m})
	}
	return out
}

// Static serves the embedded stylesheet and script, cached for a year (their
// URLs carry their hash).
func (s *Site) Static(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	if _, ok := assets[name]; !ok {
		s.NotFound(w, r)
		return
	}
	b, _ := files.ReadFile("static/" + name)
	ct := "text/css; charset=utf-8"
	if strings.HasSuffix(name, ".js") {
		ct = "text/javascript; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	_, _ = w.Write(b)
}
