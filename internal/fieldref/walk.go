package fieldref

import (
	"encoding"
	"encoding/json"
	"fmt"
	"go/ast"
	"path"
	"reflect"
	"slices"
	"strings"
)

// Generator renders the reference of JSON files from their Go types.
// A type documented once (in any file) is linked, not repeated, from
// every later file that holds it.
type Generator struct {
	src          *sources
	anchors      map[reflect.Type]string // types whose section is written
	undocumented []string
}

// New returns a generator that reads package sources from the module
// holding dir (the working directory of a test is its package's).
func New(dir string) (*Generator, error) {
	modDir, modPath, err := FindModule(dir)
	if err != nil {
		return nil, err
	}
	return &Generator{
		src:     &sources{modDir: modDir, modPath: modPath, pkgs: map[string]*pkgTypes{}},
		anchors: map[reflect.Type]string{},
	}, nil
}

// Undocumented lists the fields rendered so far that have no doc
// comment, as Package.Type.Field, sorted.
func (g *Generator) Undocumented() []string {
	out := slices.Clone(g.undocumented)
	slices.Sort(out)
	return slices.Compact(out)
}

// node is one struct type met while walking a file: where its
// declaration is, and at which JSON paths it occurs.
type node struct {
	t      reflect.Type
	st     *ast.StructType
	pkg    string // import path whose sources declare it
	doc    string
	anchor string
	title  string
	paths  []string
}

// owner names n's type for Undocumented: pkg.Type (a generic type
// without its type arguments, whose fields are documented once), or
// the JSON path of an anonymous struct.
func (n *node) owner() string {
	if n.t.Name() == "" {
		return path.Base(n.pkg) + "." + strings.Trim(n.title, "`")
	}
	name, _, _ := strings.Cut(n.t.Name(), "[")
	return path.Base(n.pkg) + "." + name
}

// walker collects the struct types of one file in order of first
// appearance.
type walker struct {
	g     *Generator
	nodes []*node
	index map[reflect.Type]*node
	stack []reflect.Type
}

// JSON renders the reference of a JSON file encoded from a value of
// type t (a struct): a section headed by the file's name with t's
// fields, then one section per struct type nested in it.
func (g *Generator) JSON(file string, t reflect.Type) (string, error) {
	w := &walker{g: g, index: map[reflect.Type]*node{}}
	root, err := w.named(t)
	if err != nil {
		return "", err
	}
	if err := w.visit(root, ""); err != nil {
		return "", err
	}
	var b strings.Builder
	for i, n := range w.nodes {
		g.anchors[n.t] = n.anchor
		if i == 0 {
			fmt.Fprintf(&b, "## %s\n\n<a id=\"%s\"></a>\n", "`"+file+"`", n.anchor)
		} else {
			fmt.Fprintf(&b, "### %s\n\n<a id=\"%s\"></a>\n", n.title, n.anchor)
			quoted := make([]string, len(n.paths))
			for j, p := range n.paths {
				quoted[j] = "`" + p + "`"
			}
			fmt.Fprintf(&b, "At %s.\n", strings.Join(quoted, ", "))
		}
		if n.t.Name() != "" {
			fmt.Fprintf(&b, "Go type `%s`.\n", goName(n.t))
		}
		b.WriteString("\n")
		rows, err := w.rows(n)
		if err != nil {
			return "", err
		}
		if n.doc != "" {
			b.WriteString(n.doc + "\n\n")
		}
		b.WriteString(Table([]string{"Key", "Type", "Description"}, rows))
		b.WriteString("\n")
	}
	return b.String(), nil
}

// named finds the declaration of the named struct type t.
func (w *walker) named(t reflect.Type) (*node, error) {
	name, _, _ := strings.Cut(t.Name(), "[")
	p, err := w.g.src.pkg(t.PkgPath())
	if err != nil {
		return nil, err
	}
	ts, ok := p.types[name]
	if !ok {
		return nil, fmt.Errorf("type %s: no declaration in the sources of %s", t, t.PkgPath())
	}
	st, ok := ts.Type.(*ast.StructType)
	if !ok {
		return nil, fmt.Errorf("type %s is declared as %T, not as a struct", t, ts.Type)
	}
	n := &node{t: t, st: st, pkg: t.PkgPath(), title: shortName(t), anchor: Anchor(t)}
	n.doc = p.docs[name]
	return n, nil
}

// visit records that n's type occurs at path and walks its fields.
func (w *walker) visit(n *node, at string) error {
	if old, ok := w.index[n.t]; ok {
		n = old
	} else {
		w.index[n.t] = n
		w.nodes = append(w.nodes, n)
	}
	if at != "" {
		n.paths = append(n.paths, at)
	}
	if slices.Contains(w.stack, n.t) {
		return nil // a recursive type: its fields are walked already
	}
	w.stack = append(w.stack, n.t)
	defer func() { w.stack = w.stack[:len(w.stack)-1] }()
	fields, err := w.fields(n.t, n.st, n.pkg, n.owner())
	if err != nil {
		return err
	}
	for _, f := range fields {
		inner, suffix := elem(f.t)
		if inner.Kind() != reflect.Struct || opaque(inner) {
			continue
		}
		if _, done := w.g.anchors[inner]; done {
			continue
		}
		var child *node
		if inner.Name() == "" {
			st, ok := elemExpr(f.decl.Type).(*ast.StructType)
			if !ok {
				return fmt.Errorf("%s.%s: an anonymous struct whose declaration is not found", n.title, f.goName)
			}
			child = &node{t: inner, st: st, pkg: f.pkg, title: "`" + join(at, f.key) + "`", anchor: n.anchor + "-" + strings.ReplaceAll(f.key, "_", "-")}
		} else if child, err = w.named(inner); err != nil {
			return err
		}
		if err := w.visit(child, join(at, f.key)+suffix); err != nil {
			return err
		}
	}
	return nil
}

// join appends key to the JSON path at.
func join(at, key string) string {
	if at == "" {
		return key
	}
	return at + "." + key
}

// field is one JSON key of a struct: its reflect field, declaration
// and the import path of the package that declares it.
type field struct {
	key, goName string
	t           reflect.Type
	decl        *ast.Field
	pkg         string
	owner       string // Type.Field, for Undocumented
	optional    bool
}

// fields lists the JSON keys of struct t (declared by st in package
// pkg) in encoding order, embedded structs without a key flattened as
// encoding/json flattens them.
func (w *walker) fields(t reflect.Type, st *ast.StructType, pkg, owner string) ([]field, error) {
	decls := astFields(st)
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		key, opts, _ := strings.Cut(tag, ",")
		ft := sf.Type
		if sf.Anonymous && key == "" {
			et := ft
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				n, err := w.named(et)
				if err != nil {
					return nil, err
				}
				inner, err := w.fields(et, n.st, n.pkg, n.owner())
				if err != nil {
					return nil, err
				}
				out = append(out, inner...)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if key == "" {
			key = sf.Name
		}
		d, ok := decls[sf.Name]
		if !ok {
			return nil, fmt.Errorf("%s.%s: no declaration in the sources", t, sf.Name)
		}
		optional := strings.Contains(","+opts+",", ",omitempty,") || strings.Contains(","+opts+",", ",omitzero,")
		out = append(out, field{key: key, goName: sf.Name, t: ft, decl: d, pkg: pkg,
			owner: owner + "." + sf.Name, optional: optional})
	}
	return out, nil
}

// rows renders n's fields as table rows, noting the undocumented ones.
func (w *walker) rows(n *node) ([][]string, error) {
	fields, err := w.fields(n.t, n.st, n.pkg, n.owner())
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, f := range fields {
		names[f.goName] = f.key
	}
	n.doc = renameFields(oneLine(n.doc), "", names)
	var rows [][]string
	for _, f := range fields {
		doc := fieldDoc(f.decl)
		if doc == "" {
			w.g.undocumented = append(w.g.undocumented, f.owner)
			doc = "(undocumented)"
		}
		typ := w.g.typeText(f.t, w.index)
		if f.optional {
			typ += ", optional"
		}
		rows = append(rows, []string{"`" + f.key + "`", typ, renameFields(doc, f.goName, names)})
	}
	return rows, nil
}

// elem strips pointers, slices, arrays and maps off t, and returns the
// element with the JSON path suffix that reaches it ("[]" per array,
// ".*" per map level).
func elem(t reflect.Type) (reflect.Type, string) {
	suffix := ""
	for {
		switch t.Kind() {
		case reflect.Pointer:
			t = t.Elem()
		case reflect.Slice, reflect.Array:
			t, suffix = t.Elem(), suffix+"[]"
		case reflect.Map:
			t, suffix = t.Elem(), suffix+".*"
		default:
			return t, suffix
		}
	}
}

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

// opaque reports whether t encodes itself, so its fields say nothing of
// its JSON.
func opaque(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return t.Implements(jsonMarshaler) || pt.Implements(jsonMarshaler) || t.Implements(textMarshaler) || pt.Implements(textMarshaler)
}

// typeText is the JSON type of t, with its Go type for scalars and a
// link to the section of a struct type.
func (g *Generator) typeText(t reflect.Type, here map[reflect.Type]*node) string {
	if opaque(t) {
		return "custom (`" + goName(t) + "`)"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.typeText(t.Elem(), here) + " or null"
	case reflect.Slice:
		return "array of " + g.typeText(t.Elem(), here)
	case reflect.Array:
		return fmt.Sprintf("array[%d] of %s", t.Len(), g.typeText(t.Elem(), here))
	case reflect.Map:
		// encoding/json writes any map as an object: its keys are strings.
		return "object of " + g.typeText(t.Elem(), here)
	case reflect.Struct:
		anchor := g.anchors[t]
		title := shortName(t)
		if n, ok := here[t]; ok {
			anchor, title = n.anchor, n.title
		}
		if t.Name() == "" {
			return "[object](#" + anchor + ")"
		}
		return "object [" + title + "](#" + anchor + ")"
	case reflect.String:
		return scalar("string", t)
	case reflect.Bool:
		return scalar("boolean", t)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return scalar("integer", t)
	case reflect.Float32, reflect.Float64:
		return scalar("number", t)
	case reflect.Interface:
		return "any"
	}
	return goName(t)
}

// scalar is a JSON scalar type with its Go type, when that says more:
// a number's range, a named type.
func scalar(jsonType string, t reflect.Type) string {
	if t.Name() == "string" || t.Name() == "bool" {
		return jsonType
	}
	return jsonType + " (`" + goName(t) + "`)"
}

// shortName is t's name with the type arguments of a generic type
// shortened to their own names: Metrics[Dist].
func shortName(t reflect.Type) string {
	name := t.Name()
	base, args, ok := strings.Cut(name, "[")
	if !ok {
		return name
	}
	parts := strings.Split(strings.TrimSuffix(args, "]"), ",")
	for i, a := range parts {
		parts[i] = a[strings.LastIndexByte(a, '.')+1:]
	}
	return base + "[" + strings.Join(parts, ",") + "]"
}

// goName is t as Go code outside its package writes it (pkg.Name).
func goName(t reflect.Type) string {
	if t.Name() == "" || t.PkgPath() == "" {
		return t.String()
	}
	return path.Base(t.PkgPath()) + "." + shortName(t)
}

// Anchor is the id of the section of named struct type t; the section
// of a file is its type's.
func Anchor(t reflect.Type) string {
	s := strings.ToLower(path.Base(t.PkgPath()) + "-" + shortName(t))
	return strings.NewReplacer("[", "-", "]", "", ",", "-", ".", "-").Replace(s)
}
