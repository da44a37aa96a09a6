package scenario

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenarios"
	"github.com/sbmpsim/sbmpsim/experiments/input/tomlfile"
)

// MaxFileBytes bounds the size of a scenario file; larger input is refused
// before it is parsed.
const MaxFileBytes = tomlfile.MaxBytes

// Load reads and parses the scenario at path. When no file exists at path
// and path names an embedded scenario ("oom-crisis", "oom-crisis.toml" or
// "embedded:oom-crisis"), that one is parsed instead, with Source
// "embedded:NAME". Load does not validate: apply --set overrides, then call
// Validate.
func Load(path string) (*Scenario, error) {
	source, data, err := scenarios.Format().Read(path)
	if err != nil {
		return nil, err
	}
	return Parse(source, data)
}

// Parse decodes the scenario TOML in data on top of Default. source names
// the input in errors and becomes Scenario.Source; its base name without
// ".toml" is the default Run.Name. Parse is strict: syntax errors, unknown
// keys and type mismatches are reported as *Error values naming the file,
// line, column and key (several are joined with errors.Join). Ranges, names
// and cpulists are checked by Validate, not here.
func Parse(source string, data []byte) (*Scenario, error) {
	s := Default()
	s.Source = source
	s.Run.Name = tomlfile.BaseName(source, DefaultName)
	raw, positions, err := scenarios.Format().Decode(source, data)
	if err != nil {
		return nil, err
	}
	d := &decoder{file: source, origins: origins(positions)}
	d.table(nil, raw, reflect.ValueOf(&s).Elem())
	if err := d.errs.err(); err != nil {
		return nil, err
	}
	s.origins = d.origins
	if _, set := s.origins["machine.node_memory_mb"]; !set && s.Machine.Preset == "" {
		// The default scales presets only; an inline machine gives its
		// memory per node.
		s.Machine.NodeMemoryMB = 0
	}
	return &s, nil
}

// origin says where a value came from: a position in the scenario file, or
// a --set override (set). line and col are 1-based (col in bytes); offset is
// the byte offset, used only to order keys as they appear in the file.
type origin struct {
	set               bool
	line, col, offset int
}

// origins returns the positions of the keys of a file. Array elements
// are left out: an error about one is reported at its key, as for values
// from --set.
func origins(positions tomlfile.Positions) map[string]origin {
	out := make(map[string]origin, len(positions))
	for k, p := range positions {
		if !p.Element {
			out[k] = origin{line: p.Line, col: p.Col, offset: p.Offset}
		}
	}
	return out
}

// decoder maps decoded TOML values onto the scenario structs by toml tag,
// collecting errors.
type decoder struct {
	file    string            // Error.File
	origins map[string]origin // key positions; nil for --set
	errs    errorList
}

// origin returns where key came from: its own position or, for an array
// element, which has no key of its own, the nearest enclosing key's. It is
// the zero origin (no position) for --set.
func (d *decoder) origin(key string) origin {
	for k := key; ; {
		if o, ok := d.origins[k]; ok {
			return o
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			return origin{}
		}
		k = k[:i]
	}
}

func (d *decoder) errorf(path []string, format string, args ...any) {
	k := toml.Key(path).String()
	d.errs.add(d.file, d.origin(k), k, format, args...)
}

// table decodes the TOML table m into the struct rv, key by key in
// document order.
func (d *decoder) table(path []string, m map[string]any, rv reflect.Value) {
	for _, k := range d.orderedKeys(path, m) {
		kp := appendPath(path, k)
		f, ok := fieldByTag(rv.Type(), k)
		switch {
		case ok:
			d.value(kp, m[k], rv.Field(f))
		case isPolicyParam(rv.Type(), k):
			d.policyParam(kp, m[k], rv.Addr().Interface().(*Policy), k)
		default:
			d.errorf(kp, "unknown key%s", suggest(rv.Type(), path, k))
		}
	}
}

// orderedKeys returns the keys of m in the order they appear in the file;
// keys without a known position (none, in a document that parsed) follow,
// sorted by name.
func (d *decoder) orderedKeys(path []string, m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		oa, okA := d.origins[toml.Key(appendPath(path, a)).String()]
		ob, okB := d.origins[toml.Key(appendPath(path, b)).String()]
		switch {
		case okA && okB && oa.offset != ob.offset:
			return oa.offset - ob.offset
		case okA != okB:
			if okA {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	return keys
}

// value decodes v into the field fv.
func (d *decoder) value(path []string, v any, fv reflect.Value) {
	switch fv.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			d.errorf(path, "expected a table, found %s", describe(v))
			return
		}
		d.table(path, m, fv)
	case reflect.Slice:
		d.slice(path, v, fv)
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			d.errorf(path, "expected a string, found %s", describe(v))
			return
		}
		fv.SetString(s)
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			d.errorf(path, "expected a boolean, found %s", describe(v))
			return
		}
		fv.SetBool(b)
	case reflect.Float64:
		switch n := v.(type) {
		case float64:
			fv.SetFloat(n)
		case int64:
			fv.SetFloat(float64(n))
		default:
			d.errorf(path, "expected a number, found %s", describe(v))
		}
	case reflect.Int, reflect.Int64:
		n, ok := v.(int64)
		if !ok {
			d.errorf(path, "expected an integer, found %s", describe(v))
			return
		}
		if fv.OverflowInt(n) {
			d.errorf(path, "integer %d is out of range", n)
			return
		}
		fv.SetInt(n)
	case reflect.Uint64:
		n, ok := v.(int64)
		if !ok {
			d.errorf(path, "expected an integer, found %s", describe(v))
			return
		}
		if n < 0 {
			d.errorf(path, "expected a non-negative integer, found %d", n)
			return
		}
		fv.SetUint(uint64(n))
	default:
		// Only reachable if a field of an unsupported type is added.
		d.errorf(path, "cannot decode into a field of type %s", fv.Type())
	}
}

// slice decodes a TOML array (or array of tables) into the slice fv,
// replacing its contents. Struct elements start from their defaults.
func (d *decoder) slice(path []string, v any, fv reflect.Value) {
	var elems []any
	switch a := v.(type) {
	case []any:
		elems = a
	case []map[string]any:
		for _, m := range a {
			elems = append(elems, m)
		}
	default:
		d.errorf(path, "expected an array, found %s", describe(v))
		return
	}
	out := reflect.MakeSlice(fv.Type(), len(elems), len(elems))
	for i, e := range elems {
		ev := out.Index(i)
		if def, ok := elementDefault(fv.Type().Elem(), i); ok {
			ev.Set(def)
		}
		d.value(appendPath(path, strconv.Itoa(i)), e, ev)
	}
	if len(elems) == 0 && fv.Type().Elem().Kind() == reflect.Struct {
		out = reflect.Zero(fv.Type()) // no tables: nil, as when the key is absent
	}
	fv.Set(out)
}

// elementDefault returns the default of the element at index i of a slice
// of element type t, when t has defaults.
func elementDefault(t reflect.Type, i int) (reflect.Value, bool) {
	switch t {
	case reflect.TypeFor[Workload]():
		return reflect.ValueOf(DefaultWorkload(i)), true
	case reflect.TypeFor[Process]():
		return reflect.ValueOf(DefaultProcessEntry(i)), true
	case reflect.TypeFor[Fault]():
		return reflect.ValueOf(DefaultFault(i)), true
	case reflect.TypeFor[Probe]():
		return reflect.ValueOf(DefaultProbe(i)), true
	}
	return reflect.Value{}, false
}

// fieldByTag finds the field of struct type t whose toml tag name is
// exactly key. Matching is case-sensitive, unlike toml.Decode's.
func fieldByTag(t reflect.Type, key string) (int, bool) {
	if key == "" {
		return 0, false
	}
	for i := range t.NumField() {
		if tagName(t.Field(i)) == key {
			return i, true
		}
	}
	return 0, false
}

// tagName returns the toml key of a struct field, or "" for fields that are
// not part of the file (unexported, or tagged "-").
func tagName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// suggest returns " (did you mean X?)" for an unknown key k of the table
// at path, whose struct type is t: a key of the same table within two
// edits, or a top-level section holding a key of that name. It returns ""
// when nothing is close.
func suggest(t reflect.Type, path []string, k string) string {
	best := ""
	if name := tomlfile.Closest(k, keysOf(t)); name != "" {
		best = toml.Key(appendPath(path, name)).String()
	}
	if best == "" && len(path) == 0 {
		// A section key written at the top level ("seed = 1" before [run]).
		for i := range t.NumField() {
			f := t.Field(i)
			if tagName(f) == "" || f.Type.Kind() != reflect.Struct {
				continue
			}
			if slices.Contains(keysOf(f.Type), k) {
				best = tagName(f) + "." + k
				break
			}
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// keysOf returns the keys of a table of struct type t, in field order;
// for [policy], the parameter keys of the registry follow.
func keysOf(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		if name := tagName(t.Field(i)); name != "" {
			keys = append(keys, name)
		}
	}
	if t == reflect.TypeFor[Policy]() {
		keys = append(keys, policyParamKeys()...)
	}
	return keys
}

// isPolicyParam reports whether k, a key of a table of struct type t
// that names no field, is a policy parameter of [policy].
func isPolicyParam(t reflect.Type, k string) bool {
	if t != reflect.TypeFor[Policy]() {
		return false
	}
	_, _, ok := policyParam(k)
	return ok
}

// describe names the TOML type of v, with the value when it is short, for
// type-mismatch messages: `string "zero"`, `float 1.5`, `table`.
func describe(v any) string {
	switch x := v.(type) {
	case string:
		if len(x) > 40 {
			return "a string"
		}
		return "string " + strconv.Quote(x)
	case int64:
		return "integer " + strconv.FormatInt(x, 10)
	case float64:
		return "float " + strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return "boolean " + strconv.FormatBool(x)
	case map[string]any:
		return "a table"
	case []any, []map[string]any:
		return "an array"
	case time.Time:
		return "a datetime"
	case nil:
		return "nothing"
	}
	return fmt.Sprintf("a value of type %T", v)
}

// appendPath returns path+k in a new slice, so that callers' paths are
// never aliased.
func appendPath(path []string, k string) []string {
	out := make([]string, len(path), len(path)+1)
	copy(out, path)
	return append(out, k)
}
