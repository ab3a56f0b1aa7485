package web

import (
	"strings"

	"pakn/internal/msg"
)

// input is one text field of a form, as the "input" template shows it: its
// label, hint and problem tied to it for screen readers.
type input struct {
	ID, Name, Label, Hint, Error, Value string
	Type, Autocomplete, OptionalText    string
	Optional                            bool
	Rows, Max                           int // Rows > 0: a text area
}

// DescribedBy lists the ids of the field's hint and problem.
func (i input) DescribedBy() string {
	var ids []string
	if i.Hint != "" {
		ids = append(ids, i.ID+"-hint")
	}
	if i.Error != "" {
		ids = append(ids, i.ID+"-error")
	}
	return strings.Join(ids, " ")
}

// Input describes the form field name for the "input" template: label and
// hint are catalogue names (hint may be ""), kind is an input type or
// "textarea", auto its autocomplete token, and optional says whether it
// may be left empty.
func (v *view) Input(name, label, hint, kind, auto string, optional bool, max int) (input, error) {
	in := input{ID: fieldID(name), Name: name, Type: kind, Autocomplete: auto, Optional: optional, Max: max,
		Error: v.ErrorOf(name), Value: v.Values.Get(name)}
	if optional {
		in.OptionalText = v.L(msg.Optional)
	}
	var err error
	if in.Label, err = v.T(label); err != nil {
		return in, err
	}
	if hint != "" {
		if in.Hint, err = v.T(hint); err != nil {
			return in, err
		}
	}
	if kind == "textarea" {
		in.Type, in.Rows = "", 8
	}
	return in, nil
}

// Required shows the field without the "optional" mark, though the browser
// does not insist on it: for fields that are needed only in some cases
// (email or phone; a tax code for organisations), which a hint explains.
func (i input) Required() input {
	i.OptionalText = ""
	return i
}

// AttachmentErrors are the problems of the attachments, in the page's
// language.
func (v *view) AttachmentErrors() []string {
	var out []string
	for _, e := range v.Errors {
		if strings.HasPrefix(e.Field, "attachments") {
			out = append(out, e.Message)
		}
	}
	return out
}

// Value is the form's value of name (after an error).
func (v *view) Value(name string) string { return v.Values.Get(name) }
