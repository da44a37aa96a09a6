package scenario

import (
	"reflect"
	"strconv"
	"strings"
)

// Keys returns every key that Set accepts on s, dotted as Set takes them,
// in the order the tables and their fields are declared: the keys of each
// table ("kernel.swappiness"), each array of tables as a whole
// ("workload", set with an array of tables) and the keys of each of its
// tables by index ("workload.0.rate_per_s"), and [policy]'s parameters
// ("policy.refill_batch"). Shell completion of --set offers them.
func (s *Scenario) Keys() []string {
	var keys []string
	appendKeys(&keys, nil, reflect.ValueOf(s).Elem())
	return keys
}

// appendKeys appends the keys of the table v (a struct) at path.
func appendKeys(keys *[]string, path []string, v reflect.Value) {
	t := v.Type()
	for i := range t.NumField() {
		name := tagName(t.Field(i))
		if name == "" {
			continue
		}
		at := appendPath(path, name)
		f := v.Field(i)
		switch {
		case f.Kind() == reflect.Struct:
			appendKeys(keys, at, f)
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct:
			*keys = append(*keys, strings.Join(at, "."))
			for j := range f.Len() {
				appendKeys(keys, appendPath(at, strconv.Itoa(j)), f.Index(j))
			}
		default:
			*keys = append(*keys, strings.Join(at, "."))
		}
	}
	if t == reflect.TypeFor[Policy]() {
		for _, k := range policyParamKeys() {
			*keys = append(*keys, strings.Join(appendPath(path, k), "."))
		}
	}
}
