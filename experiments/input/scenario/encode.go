package scenario

import (
	"bytes"
	"fmt"
	"math"
	"reflect"

	"github.com/BurntSushi/toml"
)

// encodeHeader opens every encoded scenario.
const encodeHeader = "# sbmpsim scenario, resolved: every key with its value.\n\n"

// Encode returns the canonical TOML of the resolved scenario: every key of
// every section with its value, sections and keys in a fixed order, one
// [[workload]] table per workload. The bytes depend only on the values, so
// equal scenarios encode identically, and Parse(Encode(s)) equals s for a
// scenario that passes Validate. Source is not encoded.
func (s *Scenario) Encode() ([]byte, error) {
	if s.Run.Seed > math.MaxInt64 {
		return nil, &Error{File: s.Source, Key: "run.seed", Msg: fmt.Sprintf("%d does not fit a TOML integer (at most %d)", s.Run.Seed, int64(math.MaxInt64))}
	}
	var buf bytes.Buffer
	buf.WriteString(encodeHeader)
	enc := toml.NewEncoder(&buf)
	enc.Indent = ""
	if err := enc.Encode(s.encodable()); err != nil {
		return nil, fmt.Errorf("encode scenario %s: %w", s.Source, err)
	}
	return buf.Bytes(), nil
}

// encodable returns s as the value the encoder writes: a struct with the
// exported fields of Scenario in order, but with [policy] as Policy.table
// writes it (the names, then every parameter of the chosen policies).
func (s *Scenario) encodable() any {
	sv := reflect.ValueOf(s).Elem()
	var fields []reflect.StructField
	var values []reflect.Value
	for i := range sv.NumField() {
		f := sv.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		v := sv.Field(i)
		if f.Type == reflect.TypeFor[Policy]() {
			v = s.Policy.table()
		}
		fields = append(fields, reflect.StructField{Name: f.Name, Type: v.Type(), Tag: f.Tag})
		values = append(values, v)
	}
	out := reflect.New(reflect.StructOf(fields)).Elem()
	for i, v := range values {
		out.Field(i).Set(v)
	}
	return out.Interface()
}
