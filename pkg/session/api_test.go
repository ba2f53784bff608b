package session

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var updateAPI = flag.Bool("update-api", false, "rewrite api/session.txt and api/sessiontest.txt from the packages' exported declarations")

// apiFiles are the checked-in records of the exported API of pkg/session
// and of its sessiontest package, by package directory.
var apiFiles = map[string]string{".": "../../api/session.txt", "sessiontest": "../../api/sessiontest.txt"}

// TestAPISurface: the exported API of pkg/session is the one recorded in
// api/session.txt, so that every change to it shows as a reviewed diff of
// that file. After a deliberate change:
//
//	go test ./pkg/session -run TestAPISurface -update-api
func TestAPISurface(t *testing.T) {
	for dir, apiFile := range apiFiles {
		t.Run(dir, func(t *testing.T) { checkAPISurface(t, dir, apiFile) })
	}
}

// checkAPISurface compares the exported API of the package in dir with
// apiFile (or rewrites apiFile with -update-api).
func checkAPISurface(t *testing.T, dir, apiFile string) {
	got := apiSurface(t, dir)
	if *updateAPI {
		if err := os.WriteFile(apiFile, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(apiFile)
	if err != nil {
		t.Fatalf("%v: record the API with: go test ./pkg/session -run TestAPISurface -update-api", err)
	}
	if got == string(want) {
		return
	}
	g, w := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	var diff []string
	for _, l := range w {
		if l != "" && !slices.Contains(g, l) {
			diff = append(diff, "- "+l)
		}
	}
	for _, l := range g {
		if l != "" && !slices.Contains(w, l) {
			diff = append(diff, "+ "+l)
		}
	}
	t.Fatalf("the exported API differs from %s:\n%s\nIf the change is meant, record it (go test ./pkg/session -run TestAPISurface -update-api), say it in CHANGELOG.md, and commit both.", apiFile, strings.Join(diff, "\n"))
}

// TestAPISurfaceSeesChanges: the surface changes when an exported name,
// a signature or a field does, and not for unexported code or parameter
// names, so the check above can fail for exactly what it promises.
func TestAPISurfaceSeesChanges(t *testing.T) {
	base := `package p
type T struct { A int; b int }
func (t *T) M(x int) error { return nil }
func F(a string) {}
func g() {}
const C = "c"
`
	const enum = "type Kind int\nconst (\n\tX Kind = iota\n\tY\n)\n"
	for _, tt := range []struct {
		name, src string
		same      bool
	}{
		{"added enumeration", base + enum, false},
		{"renamed parameter", strings.Replace(base, "M(x int)", "M(y int)", 1), true},
		{"unexported change", strings.Replace(base, "func g() {}", "func g(int) {}", 1), true},
		{"new method", base + "func (t T) N() {}\n", false},
		{"changed signature", strings.Replace(base, "F(a string)", "F(a string, b int)", 1), false},
		{"new field", strings.Replace(base, "b int", "b int; Z bool", 1), false},
		{"changed constant", strings.Replace(base, `C = "c"`, `C = "d"`, 1), false},
		{"removed function", strings.Replace(base, "func F(a string) {}", "", 1), false},
		{"reordered enumeration", strings.Replace(base+enum, "X Kind = iota\n\tY", "Y Kind = iota\n\tX", 1), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, b := t.TempDir(), t.TempDir()
			os.WriteFile(filepath.Join(a, "p.go"), []byte(base), 0o644)
			os.WriteFile(filepath.Join(b, "p.go"), []byte(tt.src), 0o644)
			if same := apiSurface(t, a) == apiSurface(t, b); same != tt.same {
				t.Fatalf("same surface: %v, want %v", same, tt.same)
			}
		})
	}
}

// apiSurface lists the exported declarations of the package in dir (its
// non-test files), one per line, sorted: functions and methods with their
// parameter and result types, types with their exported fields and
// methods, constants with their values, variables with their types.
func apiSurface(t *testing.T, dir string) string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	str := func(n ast.Node) string {
		var b bytes.Buffer
		printer.Fprint(&b, fset, n)
		return strings.Join(strings.Fields(b.String()), " ")
	}
	fields := func(fl *ast.FieldList) string {
		if fl == nil {
			return ""
		}
		var parts []string
		for _, f := range fl.List {
			n := max(len(f.Names), 1)
			for range n {
				parts = append(parts, str(f.Type))
			}
		}
		return strings.Join(parts, ", ")
	}
	sig := func(ft *ast.FuncType) string {
		s := "(" + fields(ft.Params) + ")"
		if r := fields(ft.Results); r != "" {
			if ft.Results.NumFields() > 1 {
				r = "(" + r + ")"
			}
			s += " " + r
		}
		return s
	}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() {
					continue
				}
				if d.Recv == nil {
					lines = append(lines, "func "+d.Name.Name+sig(d.Type))
					continue
				}
				recv := str(d.Recv.List[0].Type)
				if !ast.IsExported(strings.TrimLeft(recv, "*")) {
					continue
				}
				lines = append(lines, fmt.Sprintf("method (%s) %s%s", recv, d.Name.Name, sig(d.Type)))
			case *ast.GenDecl:
				// Constants without values repeat the group's last
				// expression at their own iota: record both, so that
				// reordering an enumeration shows.
				var lastValues []ast.Expr
				var lastTypeExpr ast.Expr
				for iota, sp := range d.Specs {
					switch sp := sp.(type) {
					case *ast.TypeSpec:
						if !sp.Name.IsExported() {
							continue
						}
						switch ty := sp.Type.(type) {
						case *ast.StructType:
							lines = append(lines, "type "+sp.Name.Name+" struct")
							for _, fd := range ty.Fields.List {
								if len(fd.Names) == 0 && ast.IsExported(strings.TrimLeft(str(fd.Type), "*")) {
									lines = append(lines, "type "+sp.Name.Name+" struct, embedded "+str(fd.Type))
								}
								for _, n := range fd.Names {
									if n.IsExported() {
										lines = append(lines, "type "+sp.Name.Name+" struct, "+n.Name+" "+str(fd.Type))
									}
								}
							}
						case *ast.InterfaceType:
							lines = append(lines, "type "+sp.Name.Name+" interface")
							for _, m := range ty.Methods.List {
								for _, n := range m.Names {
									lines = append(lines, "type "+sp.Name.Name+" interface, "+n.Name+sig(m.Type.(*ast.FuncType)))
								}
							}
						default:
							eq := " "
							if sp.Assign.IsValid() {
								eq = " = "
							}
							lines = append(lines, "type "+sp.Name.Name+eq+str(sp.Type))
						}
					case *ast.ValueSpec:
						kind := "var"
						if d.Tok == token.CONST {
							kind = "const"
						}
						typ, values, implicit := sp.Type, sp.Values, false
						if kind == "const" && len(values) == 0 {
							typ, values, implicit = lastTypeExpr, lastValues, true
						}
						lastTypeExpr, lastValues = typ, values
						for i, n := range sp.Names {
							if !n.IsExported() {
								continue
							}
							l := kind + " " + n.Name
							if typ != nil {
								l += " " + str(typ)
							}
							if kind == "const" && i < len(values) {
								l += " = " + str(values[i])
								if implicit || strings.Contains(l, "iota") {
									l += fmt.Sprintf(" (iota %d)", iota)
								}
							}
							lines = append(lines, l)
						}
					}
				}
			}
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n"
}
