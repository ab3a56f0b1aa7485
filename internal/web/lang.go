package web

import (
	"net/http"

	"golang.org/x/text/language"

	"pakn/internal/msg"
)

// langCookie remembers the language a visitor chose.
const langCookie = "pakn_lang"

// langOf is the page's language: the one asked for by ?lang= (then
// remembered in a cookie for a year), else the remembered one, else
// Vietnamese.
func langOf(w http.ResponseWriter, r *http.Request) language.Tag {
	if q := r.URL.Query().Get("lang"); q == "vi" || q == "en" {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: q, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode}) // browsers keep Secure cookies of http://localhost too
		return tagOf(q)
	}
	if c, err := r.Cookie(langCookie); err == nil {
		return tagOf(c.Value)
	}
	return msg.Vietnamese
}

func tagOf(code string) language.Tag {
	if code == "en" {
		return msg.English
	}
	return msg.Vietnamese
}
