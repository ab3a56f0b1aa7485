package agency

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Directory is an agency directory as an operator imports it (pakn agency
// import): the agencies, parents before children, and which agency
// receives the petitions of each category.
type Directory struct {
	Agencies []Agency
	// Routing maps a petition category to the agency that receives its
	// petitions; DefaultCategory's agency receives the others.
	Routing map[string]string
}

// DefaultCategory is the routing key of the agency that receives the
// petitions of every category without its own.
const DefaultCategory = "*"

// MaxDirectoryBytes bounds a directory file.
const MaxDirectoryBytes = 1 << 20

// directoryFile is a directory file's JSON form.
type directoryFile struct {
	Agencies []struct {
		Code   string `json:"code"`
		Parent string `json:"parent"`
		Kind   Kind   `json:"kind"`
		NameVI string `json:"name_vi"`
		NameEN string `json:"name_en"`
	} `json:"agencies"`
	Routing struct {
		Default    string            `json:"default"`
		ByCategory map[string]string `json:"by_category"`
	} `json:"routing"`
}

// ParseDirectory reads a directory file (JSON, at most MaxDirectoryBytes):
//
//	{"agencies": [{"code": "STP-HN", "parent": "UBND-HN", "kind": "department",
//	               "name_vi": "Sở Tư pháp thành phố Hà Nội", "name_en": "…"}, …],
//	 "routing": {"default": "UBND-HN", "by_category": {"regulation": "STP-HN"}}}
//
// Every agency is validated, codes are unique, an agency's parent is
// listed before it or is already in the database (known), and the
// routing names a default and agencies of the file or known ones;
// categories reports whether a routing key is a petition category. It
// reports every problem it finds, not only the first.
func ParseDirectory(r io.Reader, known func(code string) bool, categories func(string) bool) (*Directory, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxDirectoryBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxDirectoryBytes {
		return nil, fmt.Errorf("the directory file is larger than %d bytes", MaxDirectoryBytes)
	}
	var f directoryFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("the directory file is not the expected JSON: %w", err)
	}
	var problems []error
	d := &Directory{Routing: map[string]string{}}
	inFile := map[string]bool{}
	for _, fa := range f.Agencies {
		a := Agency{Code: fa.Code, ParentCode: fa.Parent, Kind: fa.Kind, NameVI: fa.NameVI, NameEN: fa.NameEN}
		switch err := a.Validate(); {
		case err != nil:
			problems = append(problems, err)
		case inFile[a.Code]:
			problems = append(problems, fmt.Errorf("agency %s is listed twice", a.Code))
		case a.ParentCode != "" && !inFile[a.ParentCode] && !known(a.ParentCode):
			problems = append(problems, fmt.Errorf("agency %s: its parent %s is neither listed before it nor in the directory", a.Code, a.ParentCode))
		}
		inFile[a.Code] = true
		d.Agencies = append(d.Agencies, a)
	}
	route := func(key, code string) {
		if !inFile[code] && !known(code) {
			problems = append(problems, fmt.Errorf("routing %s: agency %q is neither in the file nor in the directory", key, code))
		}
		d.Routing[key] = code
	}
	if f.Routing.Default == "" {
		problems = append(problems, errors.New("routing: a default agency is required"))
	} else {
		route(DefaultCategory, f.Routing.Default)
	}
	for cat, code := range f.Routing.ByCategory {
		if !categories(cat) {
			problems = append(problems, fmt.Errorf("routing: %q is not a petition category", cat))
			continue
		}
		route(cat, code)
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return d, nil
}

// DemoRouting is the demo city's routing: regulations to the Department of
// Justice (the focal point for administrative regulations), the rest to
// the City People's Committee.
func DemoRouting() map[string]string {
	return map[string]string{DefaultCategory: "UBND-HN", "regulation": "STP-HN"}
}
