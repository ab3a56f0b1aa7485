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
