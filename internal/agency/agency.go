// Package agency describes the agencies that receive and answer petitions:
// a hierarchy from the Government Office through a city's People's Committee
// to its departments and districts.
package agency

import (
	"fmt"
	"regexp"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Kind is an agency's place in the hierarchy.
type Kind string

// The kinds of agency.
const (
	GovernmentOffice  Kind = "government_office"
	CityCommittee     Kind = "city_committee"
	Department        Kind = "department"
	DistrictCommittee Kind = "district_committee"
)

// Agency is one agency of the directory.
type Agency struct {
	Code       string // stable identifier, e.g. "STP-HN"
	ParentCode string // "" for the root
	Kind       Kind
	NameVI     string // official Vietnamese name (NFC)
	NameEN     string // English name
}

var codePattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{1,31}$`)

// Validate checks the agency's fields and normalises its names to NFC.
func (a *Agency) Validate() error {
	if !codePattern.MatchString(a.Code) {
		return fmt.Errorf("agency code %q must be 2 to 32 capital letters, digits or dashes", a.Code)
	}
	switch a.Kind {
	case GovernmentOffice, CityCommittee, Department, DistrictCommittee:
	default:
		return fmt.Errorf("agency %s: unknown kind %q", a.Code, a.Kind)
	}
	if (a.ParentCode == "") != (a.Kind == GovernmentOffice) {
		return fmt.Errorf("agency %s: only the government office has no parent", a.Code)
	}
	a.NameVI = norm.NFC.String(a.NameVI)
	for _, n := range []string{a.NameVI, a.NameEN} {
		if l := utf8.RuneCountInString(n); l < 1 || l > 300 {
			return fmt.Errorf("agency %s: names must be 1 to 300 characters", a.Code)
		}
	}
	return nil
}

// DemoDirectory is the agency directory of a demonstration city, parents
// before children.
func DemoDirectory() []Agency {
	return []Agency{
		{Code: "VPCP", Kind: GovernmentOffice, NameVI: "Văn phòng Chính phủ", NameEN: "Government Office"},
		{Code: "UBND-HN", ParentCode: "VPCP", Kind: CityCommittee, NameVI: "Ủy ban nhân dân thành phố Hà Nội", NameEN: "Hanoi People's Committee"},
		{Code: "STP-HN", ParentCode: "UBND-HN", Kind: Department, NameVI: "Sở Tư pháp thành phố Hà Nội", NameEN: "Hanoi Department of Justice (focal point for administrative regulations)"},
		{Code: "STTTT-HN", ParentCode: "UBND-HN", Kind: Department, NameVI: "Sở Thông tin và Truyền thông thành phố Hà Nội", NameEN: "Hanoi Department of Information and Communications"},
		{Code: "SKHDT-HN", ParentCode: "UBND-HN", Kind: Department, NameVI: "Sở Kế hoạch và Đầu tư thành phố Hà Nội", NameEN: "Hanoi Department of Planning and Investment"},
		{Code: "UBND-BD", ParentCode: "UBND-HN", Kind: DistrictCommittee, NameVI: "Ủy ban nhân dân quận Ba Đình", NameEN: "Ba Dinh District People's Committee"},
		{Code: "UBND-HK", ParentCode: "UBND-HN", Kind: DistrictCommittee, NameVI: "Ủy ban nhân dân quận Hoàn Kiếm", NameEN: "Hoan Kiem District People's Committee"},
	}
}
