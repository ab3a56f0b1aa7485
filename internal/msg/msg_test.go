package msg

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func TestLang(t *testing.T) {
	tests := []struct {
		header string
		want   string
	}{
		{"", "vi"},
		{"vi", "vi"},
		{"vi-VN,vi;q=0.9,en;q=0.8", "vi"},
		{"en", "en"},
		{"en-US,en;q=0.9", "en"},
		{"en-GB;q=0.5, vi;q=0.9", "vi"},
		{"fr-FR,fr;q=0.9", "vi"},           // neither: the default
		{"fr, en;q=0.5", "en"},             // the best the catalogue has
		{"*", "vi"},                        // anything: the default
		{"en;q=0", "vi"},                   // English refused
		{"%%%;;;q=abc", "vi"},              // malformed
		{strings.Repeat("en,", 200), "vi"}, // oversized: not parsed
	}
	for _, tt := range tests {
		if got := Lang(tt.header).String(); got != tt.want {
			t.Errorf("Lang(%q) = %s, want %s", tt.header, got, tt.want)
		}
	}
}

func TestFormatting(t *testing.T) {
	tests := []struct {
		k      Key
		args   []any
		vi, en string
	}{
		{NotFound, nil, "Không tìm thấy.", "Not found."},
		{UnknownRoleOf, []any{"chief"}, "Vai trò không hợp lệ: chief", "Unknown role: chief"},
		{PasswordTooShort, []any{12}, "Mật khẩu phải có ít nhất 12 ký tự.", "The password must have at least 12 characters."},
		{NoAccountNamed, []any{"an"}, `Không có tài khoản "an".`, `No account "an".`},
	}
	for _, tt := range tests {
		if got := tt.k.VI(tt.args...); got != tt.vi {
			t.Errorf("%s.VI = %q, want %q", tt.k, got, tt.vi)
		}
		if got := tt.k.EN(tt.args...); got != tt.en {
			t.Errorf("%s.EN = %q, want %q", tt.k, got, tt.en)
		}
		if got, want := tt.k.Both(tt.args...), tt.vi+" / "+tt.en; got != want {
			t.Errorf("%s.Both = %q, want %q", tt.k, got, want)
		}
		if got := tt.k.In(English, tt.args...); got != tt.en {
			t.Errorf("%s.In(en) = %q", tt.k, got)
		}
	}
}

var verbs = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)

// Every message has both texts, in NFC, with the same formatting verbs in
// the same order, so a caller's arguments fit both languages.
func TestCatalogue(t *testing.T) {
	if len(All()) < 100 {
		t.Fatalf("only %d messages", len(All()))
	}
	for _, k := range All() {
		vi, en := k.VI(), k.EN()
		raw := func(tag string) string { return texts(t, k)[tag] }
		if raw("vi") == "" || raw("en") == "" {
			t.Errorf("%s: a text is missing", k)
			continue
		}
		if !norm.NFC.IsNormalString(raw("vi")) {
			t.Errorf("%s: the Vietnamese is not NFC", k)
		}
		if !slices.Equal(verbs.FindAllString(raw("vi"), -1), verbs.FindAllString(raw("en"), -1)) {
			t.Errorf("%s: the verbs differ: %q / %q", k, raw("vi"), raw("en"))
		}
		if strings.Contains(vi+en, " / ") {
			t.Errorf("%s: a text holds \" / \", which separates the two in Both", k)
		}
	}
}

// texts reads k's two texts as written in the catalogue files.
func texts(t *testing.T, k Key) map[string]string {
	t.Helper()
	src := catalogueSource(t)
	return src[k.String()]
}

var parsed map[string]map[string]string

func catalogueSource(t *testing.T) map[string]map[string]string {
	if parsed != nil {
		return parsed
	}
	parsed = map[string]map[string]string{}
	files, err := filepath.Glob("catalogue*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no catalogue files: %v", err)
	}
	for _, name := range files {
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		inspectCatalogue(f)
	}
	return parsed
}

// inspectCatalogue adds the def calls of f to parsed.
func inspectCatalogue(f *ast.File) {
	ast.Inspect(f, func(n ast.Node) bool {
		c, ok := n.(*ast.CallExpr)
		if !ok || len(c.Args) != 3 {
			return true
		}
		var s [3]string
		for i, a := range c.Args {
			lit, ok := a.(*ast.BasicLit)
			if !ok {
				return true
			}
			s[i], _ = strconv.Unquote(lit.Value)
		}
		parsed[s[0]] = map[string]string{"vi": s[1], "en": s[2]}
		return true
	})
}

var vietnamese = regexp.MustCompile(`[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]`)

// checkArgs checks a call giving a message and its arguments (apperr.New,
// apperr.Wrap, apperr.FieldOf, petition.Problem, passwordProblem) gives as
// many arguments as the message has verbs.
func checkArgs(t *testing.T, path string, call *ast.CallExpr) {
	var name string
	switch fn := call.Fun.(type) {
	case *ast.SelectorExpr:
		name = fn.Sel.Name
	case *ast.Ident:
		name = fn.Name
	}
	if !slices.Contains([]string{"New", "Wrap", "FieldOf", "Problem", "passwordProblem"}, name) || call.Ellipsis.IsValid() {
		return
	}
	for i, a := range call.Args {
		sel, ok := a.(*ast.SelectorExpr)
		if !ok {
			continue
		}
		if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "msg" {
			continue
		}
		src, ok := catalogueSource(t)[sel.Sel.Name]
		if !ok {
			continue
		}
		if want, got := len(verbs.FindAllString(src["en"], -1)), len(call.Args)-i-1; got != want {
			t.Errorf("%s: msg.%s takes %d arguments, given %d", path, sel.Sel.Name, want, got)
		}
	}
}

// No user-facing message is written inline any more: a string literal of
// the old "Vietnamese / English" form outside the catalogue fails.
func TestNoInlineMessages(t *testing.T) {
	for _, root := range []string{"../../internal", "../../cmd"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") ||
				strings.Contains(path, "/msg/") || strings.Contains(path, "verifytest") {
				return err
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if call, ok := n.(*ast.CallExpr); ok {
					checkArgs(t, path, call)
				}
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, _ := strconv.Unquote(lit.Value)
				if vi, _, ok := strings.Cut(s, " / "); ok && vietnamese.MatchString(strings.ToLower(vi)) {
					t.Errorf("%s: inline message %q: add it to internal/msg's catalogue", path, s)
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
