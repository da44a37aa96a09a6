package scenario

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Set applies one override "KEY=VALUE", as given to `sbmpsim run --set`.
// KEY is a dotted key as in the file, with a 0-based index after
// "workload" ("kernel.swappiness", "workload.1.rate_per_s"). VALUE is read
// as a TOML value (60, 5e4, true, [64,128], "x", {rate_per_s=1}); if it is
// not one, or the key holds a string, it is taken as a bare string, so
// "policy.refill=adaptive-batch" and "workload.0.cpus=0-7" need no quotes.
// A table value sets the keys it names and keeps the others. An array of
// tables for "workload" replaces all workloads, each starting from
// DefaultWorkload.
//
// Unknown keys, type mismatches and out-of-range workload indices are
// *Error values with File SetSource. Set changes nothing when it fails.
// Ranges are left to Validate, which reports the value as coming from
// --set.
func (s *Scenario) Set(assignment string) error {
	rawKey, text, ok := strings.Cut(assignment, "=")
	if !ok {
		return &Error{File: SetSource, Msg: fmt.Sprintf("%q is not KEY=VALUE (for example kernel.swappiness=60)", assignment)}
	}
	c := s.Clone() // work on a copy so that a failure changes nothing
	path, target, err := c.resolve(strings.TrimSpace(rawKey))
	if err != nil {
		return err
	}
	v := setValue(strings.TrimSpace(text), target.Kind() == reflect.String)
	d := &decoder{file: SetSource}
	if param, ok := c.policyParamPath(path); ok {
		d.policyParam(path, v, &c.Policy, param)
	} else {
		d.value(path, v, target)
	}
	if err := d.errs.err(); err != nil {
		return err
	}
	c.markSet(path, v, target.Type())
	*s = *c
	return nil
}

// resolve walks the dotted key through the struct by toml tags and returns
// the canonical key path and the field it names.
func (s *Scenario) resolve(key string) ([]string, reflect.Value, error) {
	fail := func(k, format string, args ...any) ([]string, reflect.Value, error) {
		return nil, reflect.Value{}, &Error{File: SetSource, Key: k, Msg: fmt.Sprintf(format, args...)}
	}
	if key == "" {
		return fail("", "empty key (write KEY=VALUE, for example kernel.swappiness=60)")
	}
	rv := reflect.ValueOf(s).Elem()
	var path []string
	for _, seg := range strings.Split(key, ".") {
		seg = strings.TrimSpace(seg)
		at := strings.Join(append(path, seg), ".")
		switch {
		case seg == "":
			return fail(key, "empty key segment")
		case rv.Kind() == reflect.Struct && isPolicyParam(rv.Type(), seg):
			// A policy parameter has no field: Set stores it in
			// Policy.Given. The target only gives its type.
			rv = reflect.New(reflect.TypeFor[float64]()).Elem()
		case rv.Kind() == reflect.Struct:
			f, ok := fieldByTag(rv.Type(), seg)
			if !ok {
				return fail(at, "unknown key%s", suggest(rv.Type(), path, seg))
			}
			rv = rv.Field(f)
		case rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Struct:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 {
				return fail(at, "expected an index after %s, such as %s.0", strings.Join(path, "."), strings.Join(path, "."))
			}
			if i >= rv.Len() {
				return fail(at, "index %d is out of range: the scenario has %d %s tables", i, rv.Len(), strings.Join(path, "."))
			}
			seg = strconv.Itoa(i)
			rv = rv.Index(i)
		case rv.Kind() == reflect.Slice:
			return fail(at, "%s is an array; set it whole, for example %s=[64,256]", strings.Join(path, "."), strings.Join(path, "."))
		default:
			return fail(at, "%s is not a table", strings.Join(path, "."))
		}
		path = append(path, seg)
	}
	return path, rv, nil
}

// policyParamPath returns the key in [policy] of the policy parameter
// that path names, if it names one.
func (s *Scenario) policyParamPath(path []string) (string, bool) {
	if len(path) != 2 || path[0] != policyTable || !isPolicyParam(reflect.TypeFor[Policy](), path[1]) {
		return "", false
	}
	return path[1], true
}

// setValue reads the text of an override as a TOML value, falling back to
// the text itself. For a string key every value is its text: "--set
// run.name=2024" names the run "2024".
func setValue(text string, wantString bool) any {
	var m map[string]any
	if _, err := toml.Decode("v = "+text, &m); err == nil && len(m) == 1 {
		if v, ok := m["v"]; ok {
			if _, isString := v.(string); isString || !wantString {
				return v
			}
		}
	}
	return text
}

// markSet records that the keys an override assigned now come from --set.
// A table value assigns only the keys it names, so their origins are
// updated one by one and the table's other keys keep theirs; any other
// value (an array of workloads included) replaces everything beneath its
// key. markSet writes into s.origins, which must not be shared: Set calls
// it on a Clone.
func (s *Scenario) markSet(path []string, v any, t reflect.Type) {
	if m, ok := v.(map[string]any); ok && t.Kind() == reflect.Struct {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if f, ok := fieldByTag(t, k); ok {
				s.markSet(appendPath(path, k), m[k], t.Field(f).Type)
			} else if isPolicyParam(t, k) {
				s.markSet(appendPath(path, k), m[k], reflect.TypeFor[float64]())
			}
		}
		return
	}
	key := toml.Key(path).String()
	if s.origins == nil {
		s.origins = make(map[string]origin)
	}
	for k := range s.origins {
		if k == key || strings.HasPrefix(k, key+".") {
			delete(s.origins, k)
		}
	}
	s.origins[key] = origin{set: true}
}
