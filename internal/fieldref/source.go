// Package fieldref writes the field reference of sbmpsim's output files
// (docs/reference.md) from the Go types that encode them, so that the
// reference cannot drift from the code: reflection gives each field's
// JSON key, Go type and nesting, and the package sources, parsed with
// go/parser when the reference is generated, give each field's doc
// comment. A field without a doc comment is reported (Undocumented), so
// a test that regenerates the reference also keeps every field
// documented.
//
// The package only renders; which files are documented, and the columns
// and metric families read from real runs, are the caller's (the test
// that keeps docs/reference.md current lives beside the CLI).
package fieldref

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// sources finds and parses the packages whose types are documented.
type sources struct {
	modDir, modPath string
	pkgs            map[string]*pkgTypes // import path -> its parsed types
}

// pkgTypes are one package's type declarations, by name.
type pkgTypes struct {
	types map[string]*ast.TypeSpec
	docs  map[string]string // a type's doc comment (the GenDecl's when the spec has none)
}

// FindModule walks up from dir to the directory holding go.mod and
// returns that directory and the module path go.mod declares.
func FindModule(dir string) (modDir, modPath string, err error) {
	dir, err = filepath.Abs(dir)
	if err != nil {
		return "", "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil {
			path := modulePath(b)
			if path == "" {
				return "", "", fmt.Errorf("%s: no module line", filepath.Join(dir, "go.mod"))
			}
			return dir, path, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", "", err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// modulePath returns the path on go.mod's module line, "" if it has none.
func modulePath(gomod []byte) string {
	for line := range strings.Lines(string(gomod)) {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module")
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
			continue
		}
		rest, _, _ = strings.Cut(rest, "//")
		rest = strings.TrimSpace(rest)
		if p, err := strconv.Unquote(rest); err == nil {
			return p
		}
		return rest
	}
	return ""
}

// dir returns the source directory of the package at import path.
func (s *sources) dir(path string) (string, error) {
	if path == s.modPath {
		return s.modDir, nil
	}
	rel, ok := strings.CutPrefix(path, s.modPath+"/")
	if !ok {
		return "", fmt.Errorf("package %q is outside module %s, whose sources are read", path, s.modPath)
	}
	return filepath.Join(s.modDir, filepath.FromSlash(rel)), nil
}

// pkg parses (once) the package at import path: every .go file of its
// directory whose package clause is the package's own (test files of
// the package itself included, so that tests can document types of
// their own; external _test packages left out).
func (s *sources) pkg(path string) (*pkgTypes, error) {
	if p, ok := s.pkgs[path]; ok {
		return p, nil
	}
	dir, err := s.dir(path)
	if err != nil {
		return nil, err
	}
	files, err := parseDir(dir)
	if err != nil {
		return nil, fmt.Errorf("sources of %s: %w", path, err)
	}
	p := &pkgTypes{types: map[string]*ast.TypeSpec{}, docs: map[string]string{}}
	for _, f := range files {
		collectTypes(f, p)
	}
	s.pkgs[path] = p
	return p, nil
}

// parseDir parses, with comments, the .go files in dir whose package
// clause is the package's own (external _test packages left out), in
// file name order.
func parseDir(dir string) ([]*ast.File, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []*ast.File
	fset := token.NewFileSet()
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		if !strings.HasSuffix(f.Name.Name, "_test") {
			out = append(out, f)
		}
	}
	return out, nil
}

// collectTypes adds f's type declarations to p.
func collectTypes(f *ast.File, p *pkgTypes) {
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, spec := range gd.Specs {
			ts := spec.(*ast.TypeSpec)
			p.types[ts.Name.Name] = ts
			doc := ts.Doc
			if doc == nil && len(gd.Specs) == 1 {
				doc = gd.Doc
			}
			p.docs[ts.Name.Name] = doc.Text()
		}
	}
}

// fieldDoc is a struct field's documentation: its doc comment and its
// line comment, as one paragraph.
func fieldDoc(f *ast.Field) string {
	var b bytes.Buffer
	b.WriteString(f.Doc.Text())
	b.WriteString(" ")
	b.WriteString(f.Comment.Text())
	return oneLine(b.String())
}

// oneLine joins text's lines and runs of spaces into single spaces.
func oneLine(text string) string { return strings.Join(strings.Fields(text), " ") }

// astFields maps the Go names of st's fields (an embedded field by its
// type's name) to their declarations.
func astFields(st *ast.StructType) map[string]*ast.Field {
	out := map[string]*ast.Field{}
	for _, f := range st.Fields.List {
		if len(f.Names) == 0 {
			out[embeddedName(f.Type)] = f
		}
		for _, n := range f.Names {
			out[n.Name] = f
		}
	}
	return out
}

// embeddedName is the field name Go gives an embedded field of type e.
func embeddedName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return embeddedName(t.X)
	case *ast.SelectorExpr:
		return t.Sel.Name
	case *ast.IndexExpr:
		return embeddedName(t.X)
	case *ast.IndexListExpr:
		return embeddedName(t.X)
	case *ast.Ident:
		return t.Name
	}
	return ""
}

// elemExpr strips pointers, slices, arrays and maps off a field's type
// expression, as elem strips them off its reflect.Type, so that an
// anonymous struct type nested in them is found.
func elemExpr(e ast.Expr) ast.Expr {
	for {
		switch t := e.(type) {
		case *ast.StarExpr:
			e = t.X
		case *ast.ArrayType:
			e = t.Elt
		case *ast.MapType:
			e = t.Value
		case *ast.ParenExpr:
			e = t.X
		default:
			return e
		}
	}
}

// ConstDoc is one constant of a typed constant block, with its doc.
type ConstDoc struct {
	Name string
	Doc  string
}

// Consts lists the constants of type typeName that package importPath
// declares (its test files included, as for types), in declaration
// order (for an iota block, value order; file names order the files), each
// with its doc: its own doc or line comment, or else the doc comment
// of the nearest constant above it in its block (a comment before a run
// of constants, "A and B count ...", documents each of them).
func (g *Generator) Consts(importPath, typeName string) ([]ConstDoc, error) {
	dir, err := g.src.dir(importPath)
	if err != nil {
		return nil, err
	}
	files, err := parseDir(dir)
	if err != nil {
		return nil, err
	}
	var out []ConstDoc
	for _, f := range files {
		for _, d := range f.Decls {
			if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.CONST {
				out = append(out, constsOf(gd, typeName)...)
			}
		}
	}
	return out, nil
}

// constsOf lists the constants of type typeName in one const block. A
// spec with neither type nor values repeats the one above it (iota).
func constsOf(gd *ast.GenDecl, typeName string) []ConstDoc {
	var out []ConstDoc
	cur, doc := "", ""
	for _, spec := range gd.Specs {
		vs := spec.(*ast.ValueSpec)
		switch {
		case vs.Type != nil:
			cur = ""
			if id, ok := vs.Type.(*ast.Ident); ok {
				cur = id.Name
			}
		case len(vs.Values) > 0:
			cur = "" // an untyped constant
		}
		if own := oneLine(vs.Doc.Text() + " " + vs.Comment.Text()); own != "" {
			doc = own
		}
		if cur != typeName {
			continue
		}
		for _, n := range vs.Names {
			out = append(out, ConstDoc{Name: n.Name, Doc: doc})
		}
	}
	return out
}
