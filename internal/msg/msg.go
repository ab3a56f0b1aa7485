// Package msg is pakn's one catalogue of user-facing messages. Each message
// has a key and a Vietnamese and an English text, kept in a
// golang.org/x/text/message catalogue (chosen over go-i18n because x/text is
// already a dependency, formats arguments per language, and brings the
// Accept-Language matcher the pages need). A message is shown in the
// reader's language (Lang picks it from Accept-Language, Vietnamese by
// default) or in both, "VI / EN", as the API has always answered.
package msg

import (
	"fmt"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// Key names a message of the catalogue. Only the catalogue makes keys, so
// every message a caller can name is defined in both languages; the zero
// Key is no message.
type Key struct{ name string }

// Vietnamese and English are the languages of every message; Vietnamese is
// the default.
var (
	Vietnamese = language.Vietnamese
	English    = language.English
	languages  = []language.Tag{Vietnamese, English}
	matcher    = language.NewMatcher(languages)
	cat        = catalog.NewBuilder(catalog.Fallback(Vietnamese))
	printers   = map[language.Tag]*message.Printer{}
	plain      = map[language.Tag]map[string]string{} // Texts
	defined    = map[string]Key{}
	all        []Key
)

// def adds a message to the catalogue and returns its key.
func def(key, vi, en string) Key {
	if _, ok := defined[key]; ok {
		panic("msg: " + key + " defined twice")
	}
	defined[key] = Key{key}
	if err := cat.SetString(Vietnamese, key, vi); err != nil {
		panic(err)
	}
	if err := cat.SetString(English, key, en); err != nil {
		panic(err)
	}
	all = append(all, Key{key})
	return Key{key}
}

func init() {
	for _, t := range languages {
		printers[t] = message.NewPrinter(t, message.Catalog(cat))
		plain[t] = map[string]string{}
		for _, k := range all {
			if s := printers[t].Sprintf(k.name); !strings.Contains(s, "%!") { // a message taking arguments is formatted per call
				plain[t][k.name] = s
			}
		}
	}
}

// Texts is every message that takes no arguments in language t
// (Vietnamese unless t is English), by its key's name, formatted once: the
// pages read most of their words from it. The map is shared: read it only.
func Texts(t language.Tag) map[string]string {
	if m, ok := plain[t]; ok {
		return m
	}
	return plain[Vietnamese]
}

// maxAcceptLanguage bounds the header Lang parses, in bytes: a browser
// sends a few dozen.
const maxAcceptLanguage = 256

// Lang is the language of the catalogue that best matches an
// Accept-Language header; Vietnamese when none does or the header is empty
// or malformed.
func Lang(acceptLanguage string) language.Tag {
	if len(acceptLanguage) > maxAcceptLanguage {
		return Vietnamese
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return Vietnamese
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return Vietnamese
	}
	return languages[i]
}

// In is the message in language t (Vietnamese unless t is English), with
// args formatted into it.
func (k Key) In(t language.Tag, args ...any) string {
	if len(args) == 0 {
		if s, ok := Texts(t)[k.name]; ok {
			return s
		}
	}
	p, ok := printers[t]
	if !ok {
		p = printers[Vietnamese]
	}
	return p.Sprintf(k.name, args...)
}

// VI is the message in Vietnamese.
func (k Key) VI(args ...any) string { return k.In(Vietnamese, args...) }

// EN is the message in English.
func (k Key) EN(args ...any) string { return k.In(English, args...) }

// Both is the message as "Vietnamese / English", the form of the API's
// problem details.
func (k Key) Both(args ...any) string { return k.VI(args...) + " / " + k.EN(args...) }

// All lists the catalogue's keys in the order they are defined.
func All() []Key { return append([]Key(nil), all...) }

// String is the key's name.
func (k Key) String() string { return k.name }

// Named returns the message called name, or an error: for templates, which
// name messages by their key's name.
func Named(name string) (Key, error) {
	k, ok := defined[name]
	if !ok {
		return Key{}, fmt.Errorf("msg: no message %q", name)
	}
	return k, nil
}

// TemplateFuncs gives html/template pages the catalogue: {{both "Key"}},
// {{vi "Key"}} and {{en "Key"}} (an unknown name fails the page).
var TemplateFuncs = map[string]any{
	"both": func(name string, args ...any) (string, error) {
		k, err := Named(name)
		return k.Both(args...), err
	},
	"vi": func(name string, args ...any) (string, error) {
		k, err := Named(name)
		return k.VI(args...), err
	},
	"en": func(name string, args ...any) (string, error) {
		k, err := Named(name)
		return k.EN(args...), err
	},
}
