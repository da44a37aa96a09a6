package layout

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/sbmpsim/sbmpsim"

// pkg is what go list says of one package of the module.
type pkg struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Imports    []string
	Export     string
	Standard   bool
}

// list runs go list over the module (with export data when export is
// set, for the type checker) and returns the packages by import path.
func list(t *testing.T, export bool) map[string]*pkg {
	t.Helper()
	args := []string{"list", "-json", "-deps"}
	if export {
		args = append(args, "-export")
	}
	cmd := exec.Command("go", append(args, module+"/...")...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	pkgs := map[string]*pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		p := &pkg{}
		if err := dec.Decode(p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs[p.ImportPath] = p
	}
	return pkgs
}

// ours returns the module-relative paths of the module's packages, sorted.
func ours(pkgs map[string]*pkg) []string {
	var out []string
	for path := range pkgs {
		if rel, ok := strings.CutPrefix(path, module+"/"); ok {
			out = append(out, rel)
		}
	}
	slices.Sort(out)
	return out
}

// under reports whether rel is prefix or a package beneath it.
func under(rel, prefix string) bool { return rel == prefix || strings.HasPrefix(rel, prefix+"/") }

// layers orders the module's packages: a package may import ours only
// from a lower layer, or from its own family (the same first two path
// elements, such as experiments/input/...). ARCHITECTURE.md's dependency
// rule, plus the order of the runners above the simulation.
var layers = []struct {
	prefix string
	layer  int
}{
	{"sim", 0}, {"sbmp", 0}, {"experiments/stats", 0},
	{"model", 1}, {"policies", 1}, {"internal", 1},
	{"experiments/input", 2},
	{"experiments/world", 3},
	{"experiments/output", 4},
	{"experiments/ab", 5}, {"experiments/sweep", 5}, {"experiments/vopr", 5}, {"experiments/real", 5},
	{"experiments/canon", 6},
	// The validation writes its page with canon's Out and figure
	// helpers, so it sits above them.
	{"experiments/validate", 7},
	{"cmd", 8},
}

// layerOf returns the layer of rel and its family prefix.
func layerOf(rel string) (int, string, bool) {
	for _, l := range layers {
		if under(rel, l.prefix) {
			return l.layer, l.prefix, true
		}
	}
	return 0, "", false
}

// allowed lists, for the packages at the bottom, every package of ours
// they may import (ARCHITECTURE.md: sim imports nothing of ours; sbmp
// nothing but its own sub-packages; model/* may import sim; policies
// imports sbmp).
var allowed = []struct {
	prefix string
	may    []string
}{
	{"sim", nil},
	{"sbmp", []string{"sbmp"}},
	{"model", []string{"sim"}},
	{"policies", []string{"sbmp"}},
	{"experiments/stats", nil},
}

// dependencyViolations checks every import of ours against the rules.
func dependencyViolations(imports map[string][]string) []string {
	var bad []string
	for _, rel := range slices.Sorted(maps.Keys(imports)) {
		layer, family, ok := layerOf(rel)
		if !ok {
			bad = append(bad, fmt.Sprintf("%s: a package outside the agreed layout (add it to layers)", rel))
			continue
		}
		for _, imp := range imports[rel] {
			dep, isOurs := strings.CutPrefix(imp, module+"/")
			if !isOurs {
				continue
			}
			if msg := checkImport(rel, dep, layer, family); msg != "" {
				bad = append(bad, msg)
			}
		}
	}
	return bad
}

func checkImport(rel, dep string, layer int, family string) string {
	for _, a := range allowed {
		if !under(rel, a.prefix) {
			continue
		}
		if !slices.ContainsFunc(a.may, func(m string) bool { return under(dep, m) }) {
			return fmt.Sprintf("%s imports %s: %s may import only %v of ours", rel, dep, a.prefix, a.may)
		}
		return ""
	}
	depLayer, depFamily, ok := layerOf(dep)
	switch {
	case !ok:
		return fmt.Sprintf("%s imports %s, a package outside the agreed layout", rel, dep)
	case depFamily == family:
		return ""
	case depLayer >= layer:
		return fmt.Sprintf("%s (layer %d) imports %s (layer %d): imports run down only", rel, layer, dep, depLayer)
	}
	return ""
}

// TestDependencyRule: every package of ours imports only what its layer
// may (ARCHITECTURE.md's dependency rule).
func TestDependencyRule(t *testing.T) {
	pkgs := list(t, false)
	imports := map[string][]string{}
	for _, rel := range ours(pkgs) {
		imports[rel] = pkgs[module+"/"+rel].Imports
	}
	for _, msg := range dependencyViolations(imports) {
		t.Error(msg)
	}
}

// TestDependencyRuleCatches: the rule finds the violations it is for.
func TestDependencyRuleCatches(t *testing.T) {
	imp := func(rel string) string { return module + "/" + rel }
	got := dependencyViolations(map[string][]string{
		"sim":                {imp("sbmp")},
		"sbmp":               {imp("sbmp/arena"), imp("policies")},
		"model/kernel":       {imp("sim"), imp("model/numa")},
		"experiments/world":  {imp("experiments/output"), imp("model/kernel")},
		"experiments/input":  {imp("experiments/input/scenarios")},
		"experiments/output": {imp("experiments/world")},
		"tools/x":            nil,
	})
	want := []string{"experiments/world (layer 3) imports experiments/output", "model/kernel imports model/numa", "sbmp imports policies", "sim imports sbmp", "tools/x: a package outside"}
	if len(got) != len(want) {
		t.Fatalf("got %d violations, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("violation %d = %q, want it to start %q", i, got[i], want[i])
		}
	}
}

// forbiddenInModels are the packages that reach the live system: the
// models get their world injected and do no I/O.
var forbiddenInModels = []string{"os", "os/exec", "os/signal", "syscall", "io/fs", "io/ioutil", "net", "net/http", "path/filepath", "time"}

// TestModelsDoNoIO: no package under model/ imports a package that reads
// or writes the live system (reading a host belongs to
// experiments/input/host), or tells the wall-clock time.
func TestModelsDoNoIO(t *testing.T) {
	pkgs := list(t, false)
	for _, rel := range ours(pkgs) {
		if !under(rel, "model") {
			continue
		}
		for _, imp := range pkgs[module+"/"+rel].Imports {
			if slices.Contains(forbiddenInModels, imp) {
				t.Errorf("%s imports %s: the models do no I/O", rel, imp)
			}
		}
	}
}

// TestNoPackageStateWrittenAfterInit: no package of ours writes a
// package-level variable outside its initializer and init functions
// (sentinel errors and lookup tables are fine: they are only read).
func TestNoPackageStateWrittenAfterInit(t *testing.T) {
	pkgs := list(t, true)
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		p, ok := pkgs[path]
		if !ok || p.Export == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(p.Export)
	})
	for _, rel := range ours(pkgs) {
		p := pkgs[module+"/"+rel]
		var files []*ast.File
		for _, name := range p.GoFiles {
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		for _, msg := range packageStateWrites(t, fset, imp, p.ImportPath, files) {
			t.Error(msg)
		}
	}
}

// TestPackageStateCheckCatches: the check finds writes of every shape.
func TestPackageStateCheckCatches(t *testing.T) {
	src := `package p

import "sync"

var (
	ErrX  = errString("x")
	table = map[string]int{"a": 1}
	count int
	cache = map[string]int{}
	mu    sync.Mutex
	cfg   struct{ n int }
	list  []int
)

type errString string

func (e errString) Error() string { return string(e) }

func init() { count = 1 }

func reads() int { return table["a"] + len(ErrX.Error()) }

func writes() {
	count++
	cache["k"] = 2
	mu.Lock()
	cfg.n = 3
	list = append(list, 4)
	p := &count
	_ = p
	go func() { count = 5 }()
}

func shadow() {
	count := 6
	count++
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := packageStateWrites(t, fset, importer.Default(), "p", []*ast.File{f})
	want := []string{"count", "cache", "mu", "cfg", "list", "count", "count"}
	if len(got) != len(want) {
		t.Fatalf("got %d writes, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i, name := range want {
		if !strings.Contains(got[i], " "+name+" ") {
			t.Errorf("write %d = %q, want one of %s", i, got[i], name)
		}
	}
}

// packageStateWrites type-checks one package and reports every place
// outside init that writes a package-level variable: an assignment or
// increment whose target is rooted at one (through fields, indexing and
// dereferences), taking its address, or calling a pointer-receiver
// method on a variable that is not itself a pointer (sync.Mutex.Lock).
func packageStateWrites(t *testing.T, fset *token.FileSet, imp types.Importer, path string, files []*ast.File) []string {
	t.Helper()
	info := &types.Info{Uses: map[*ast.Ident]types.Object{}, Selections: map[*ast.SelectorExpr]*types.Selection{}}
	conf := types.Config{Importer: imp}
	tp, err := conf.Check(path, fset, files, info)
	if err != nil {
		t.Fatalf("type-check %s: %v", path, err)
	}
	isPkgVar := func(e ast.Expr) (string, bool) {
		id := rootIdent(e)
		if id == nil {
			return "", false
		}
		v, ok := info.Uses[id].(*types.Var)
		if !ok || v.Parent() != tp.Scope() {
			return "", false
		}
		return id.Name, true
	}
	var out []string
	report := func(n ast.Node, name, how string) {
		out = append(out, fmt.Sprintf("%s: writes %s %s", fset.Position(n.Pos()), name, how))
	}
	for _, f := range files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil || (fd.Recv == nil && fd.Name.Name == "init") {
				continue
			}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.AssignStmt:
					if n.Tok == token.DEFINE {
						return true
					}
					for _, l := range n.Lhs {
						if name, ok := isPkgVar(l); ok {
							report(n, name, "(assignment)")
						}
					}
				case *ast.IncDecStmt:
					if name, ok := isPkgVar(n.X); ok {
						report(n, name, "(increment)")
					}
				case *ast.UnaryExpr:
					if name, ok := isPkgVar(n.X); ok && n.Op == token.AND {
						report(n, name, "(address taken)")
					}
				case *ast.SelectorExpr:
					sel := info.Selections[n]
					if sel == nil || sel.Kind() != types.MethodVal {
						return true
					}
					if _, ptrRecv := sel.Obj().Type().(*types.Signature).Recv().Type().(*types.Pointer); !ptrRecv {
						return true
					}
					if _, isPtr := sel.Recv().(*types.Pointer); isPtr {
						return true
					}
					if name, ok := isPkgVar(n.X); ok {
						report(n, name, "(pointer method "+n.Sel.Name+")")
					}
				}
				return true
			})
		}
	}
	return out
}

// rootIdent is the variable an lvalue is rooted at, through fields,
// indexing, slicing, dereferences and parentheses; nil when it has none.
func rootIdent(e ast.Expr) *ast.Ident {
	for {
		switch x := e.(type) {
		case *ast.Ident:
			return x
		case *ast.SelectorExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.SliceExpr:
			e = x.X
		case *ast.StarExpr:
			e = x.X
		case *ast.ParenExpr:
			e = x.X
		default:
			return nil
		}
	}
}
