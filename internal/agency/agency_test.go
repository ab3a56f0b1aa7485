package agency

import (
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		a       Agency
		wantErr string
	}{
		{"ok", Agency{Code: "STP-HN", ParentCode: "UBND-HN", Kind: Department, NameVI: "Sở Tư pháp", NameEN: "DoJ"}, ""},
		{"root", Agency{Code: "VPCP", Kind: GovernmentOffice, NameVI: "Văn phòng Chính phủ", NameEN: "GO"}, ""},
		{"lower-case code", Agency{Code: "stp", ParentCode: "X1", Kind: Department, NameVI: "a", NameEN: "b"}, "code"},
		{"code too long", Agency{Code: strings.Repeat("A", 33), ParentCode: "X1", Kind: Department, NameVI: "a", NameEN: "b"}, "code"},
		{"unknown kind", Agency{Code: "AB", ParentCode: "X1", Kind: "ministry", NameVI: "a", NameEN: "b"}, "kind"},
		{"department without parent", Agency{Code: "AB", Kind: Department, NameVI: "a", NameEN: "b"}, "parent"},
		{"root with parent", Agency{Code: "AB", ParentCode: "X1", Kind: GovernmentOffice, NameVI: "a", NameEN: "b"}, "parent"},
		{"empty name", Agency{Code: "AB", ParentCode: "X1", Kind: Department, NameVI: "", NameEN: "b"}, "names"},
		{"long name", Agency{Code: "AB", ParentCode: "X1", Kind: Department, NameVI: strings.Repeat("ữ", 301), NameEN: "b"}, "names"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.a.Validate()
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestValidateNormalisesToNFC(t *testing.T) {
	decomposed := norm.NFD.String("Ủy ban nhân dân quận Ba Đình")
	a := Agency{Code: "UBND-BD", ParentCode: "UBND-HN", Kind: DistrictCommittee, NameVI: decomposed, NameEN: "x"}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if a.NameVI != "Ủy ban nhân dân quận Ba Đình" {
		t.Fatalf("name not NFC: %q", a.NameVI)
	}
}

func TestDemoDirectoryIsValidAndOrdered(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range DemoDirectory() {
		if err := a.Validate(); err != nil {
			t.Fatal(err)
		}
		if a.ParentCode != "" && !seen[a.ParentCode] {
			t.Fatalf("%s comes before its parent %s", a.Code, a.ParentCode)
		}
		seen[a.Code] = true
	}
	for _, code := range []string{"UBND-HN", "STP-HN", "STTTT-HN", "SKHDT-HN", "UBND-BD", "UBND-HK"} {
		if !seen[code] {
			t.Errorf("demo directory lacks %s", code)
		}
	}
}

func TestParseDirectory(t *testing.T) {
	known := func(code string) bool { return code == "VPCP" }
	category := func(c string) bool { return c == "regulation" || c == "proposal" }
	ok := `{"agencies": [{"code": "UBND-HN", "parent": "VPCP", "kind": "city_committee", "name_vi": "Ủy ban nhân dân thành phố Hà Nội", "name_en": "Hanoi"},
		{"code": "STP-HN", "parent": "UBND-HN", "kind": "department", "name_vi": "Sở Tư pháp", "name_en": "Justice"}],
		"routing": {"default": "UBND-HN", "by_category": {"regulation": "STP-HN"}}}`
	tests := []struct {
		name, file string
		want       []string // problems said; none for a good file
	}{
		{"good", ok, nil},
		{"not JSON", `agencies: []`, []string{"not the expected JSON"}},
		{"unknown field", `{"agencies": [], "routes": {}}`, []string{"not the expected JSON"}},
		{"no default", `{"agencies": [], "routing": {}}`, []string{"a default agency is required"}},
		{"child before parent", `{"agencies": [{"code": "STP-HN", "parent": "UBND-HN", "kind": "department", "name_vi": "a", "name_en": "a"},
			{"code": "UBND-HN", "parent": "VPCP", "kind": "city_committee", "name_vi": "b", "name_en": "b"}], "routing": {"default": "VPCP"}}`,
			[]string{"its parent UBND-HN is neither listed before it"}},
		{"twice", `{"agencies": [{"code": "UBND-HN", "parent": "VPCP", "kind": "city_committee", "name_vi": "b", "name_en": "b"},
			{"code": "UBND-HN", "parent": "VPCP", "kind": "city_committee", "name_vi": "b", "name_en": "b"}], "routing": {"default": "VPCP"}}`,
			[]string{"listed twice"}},
		{"every mistake said", `{"agencies": [{"code": "x", "kind": "department", "name_vi": "a", "name_en": "a"}],
			"routing": {"default": "NOWHERE", "by_category": {"complaint": "VPCP"}}}`,
			[]string{`agency code "x"`, `agency "NOWHERE"`, `"complaint" is not a petition category`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ParseDirectory(strings.NewReader(tt.file), known, category)
			if tt.want == nil {
				if err != nil || len(d.Agencies) != 2 || d.Routing[DefaultCategory] != "UBND-HN" || d.Routing["regulation"] != "STP-HN" {
					t.Fatalf("%+v %v", d, err)
				}
				return
			}
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v lacks %q", err, w)
				}
			}
		})
	}
	big := strings.NewReader(`{"agencies": [` + strings.Repeat(" ", MaxDirectoryBytes) + `]}`)
	if _, err := ParseDirectory(big, known, category); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("a file over the bound: %v", err)
	}
}
