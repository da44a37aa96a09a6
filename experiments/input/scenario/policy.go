package scenario

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/sbmpsim/sbmpsim/policies"
)

// Policy names the allocator's swappable policies ([policy]) and holds the
// parameters the scenario gives them. The policies and their parameters
// are the registry's (package policies; `sbmpsim policies` lists them).
type Policy struct {
	// Merge is the Tier-1 merge policy. Default "lazy-threshold".
	Merge string `toml:"merge"`
	// Refill is the Tier-0 refill policy. Default "fixed-batch".
	Refill string `toml:"refill"`
	// Degrade is what happens when Tier-0 and Tier-1 cannot serve.
	// Default "immediate-tier2".
	Degrade string `toml:"degrade"`
	// Given holds the parameters the scenario sets, by their key in
	// [policy]: "refill_batch" for policy.refill_batch (policies.ParamKey
	// names every parameter policy.<kind>_<param>). A parameter not given
	// takes its policy's default; one the chosen policy does not have is
	// an error (Validate). Nil when none is given.
	Given map[string]float64 `toml:"-"`
}

// policyTable is the toml tag of Scenario.Policy: the table the policy
// keys of package policies live in.
const policyTable = "policy"

// policyParam returns the kind and registry name of the parameter that
// key k of [policy] sets, when some policy has one.
func policyParam(k string) (policies.Kind, string, bool) {
	return policies.LookupParamKey(policyTable + "." + k)
}

// policyParamKeys returns the keys of [policy] that set parameters, in
// registry order.
func policyParamKeys() []string {
	keys := policies.ParamKeys()
	for i, k := range keys {
		keys[i] = strings.TrimPrefix(k, policyTable+".")
	}
	return keys
}

// Name returns the name of the policy of kind.
func (p Policy) Name(kind policies.Kind) string {
	switch kind {
	case policies.KindMerge:
		return p.Merge
	case policies.KindRefill:
		return p.Refill
	case policies.KindDegrade:
		return p.Degrade
	}
	panic(fmt.Sprintf("scenario: no policy kind %q", kind))
}

// With returns p with the policy of kind replaced by name, running with
// that policy's defaults: the parameters given for kind are left out. The
// other kinds keep their policies and parameters. p is not changed.
func (p Policy) With(kind policies.Kind, name string) Policy {
	switch kind {
	case policies.KindMerge:
		p.Merge = name
	case policies.KindRefill:
		p.Refill = name
	case policies.KindDegrade:
		p.Degrade = name
	default:
		panic(fmt.Sprintf("scenario: no policy kind %q", kind))
	}
	var given map[string]float64
	for k, x := range p.Given {
		if pk, _, _ := policyParam(k); pk != kind {
			if given == nil {
				given = map[string]float64{}
			}
			given[k] = x
		}
	}
	p.Given = given
	return p
}

// Params returns the parameters given for the policy of kind, by their
// registry names ("batch"): what policies.Merge, Refill and Degrade take,
// filling in the defaults.
func (p Policy) Params(kind policies.Kind) map[string]float64 {
	out := map[string]float64{}
	for k, x := range p.Given {
		if pk, name, ok := policyParam(k); ok && pk == kind {
			out[name] = x
		}
	}
	return out
}

// resolvedParam is one parameter of a chosen policy with its value.
type resolvedParam struct {
	key   string // in [policy]: "refill_batch"
	param policies.Param
	value float64
}

// resolved returns every parameter of the chosen policy of kind, in the
// registry's order, with its given value or its default; nil when the
// policy is not in the registry.
func (p Policy) resolved(kind policies.Kind) []resolvedParam {
	spec, err := policies.Lookup(kind, p.Name(kind))
	if err != nil {
		return nil
	}
	var out []resolvedParam
	for _, par := range spec.Params {
		key := strings.TrimPrefix(policies.ParamKey(kind, par.Name), policyTable+".")
		x, ok := p.Given[key]
		if !ok {
			x = par.Default
		}
		out = append(out, resolvedParam{key: key, param: par, value: x})
	}
	return out
}

// filled returns p with every parameter of the chosen policies given, at
// its default when p does not give it: the Policy that Parse(Encode(s))
// returns. It runs exactly as p does.
func (p Policy) filled() Policy {
	given := maps.Clone(p.Given)
	for _, kind := range policies.Kinds() {
		for _, r := range p.resolved(kind) {
			if given == nil {
				given = map[string]float64{}
			}
			given[r.key] = r.value
		}
	}
	p.Given = given
	return p
}

// table returns [policy] as the encoder writes it: the three names, then
// the value of every parameter of the chosen policies (integers as
// integers), given or default, in registry order. A given parameter that
// no chosen policy has (an invalid scenario) follows, so that nothing
// given is lost. The value is a struct built for p, whose field order is
// the key order.
func (p Policy) table() reflect.Value {
	fields := []reflect.StructField{
		{Name: "Merge", Type: reflect.TypeFor[string](), Tag: `toml:"merge"`},
		{Name: "Refill", Type: reflect.TypeFor[string](), Tag: `toml:"refill"`},
		{Name: "Degrade", Type: reflect.TypeFor[string](), Tag: `toml:"degrade"`},
	}
	values := []any{p.Merge, p.Refill, p.Degrade}
	add := func(key string, v any) {
		fields = append(fields, reflect.StructField{
			Name: fmt.Sprintf("P%d", len(fields)), Type: reflect.TypeOf(v), Tag: reflect.StructTag(fmt.Sprintf("toml:%q", key)),
		})
		values = append(values, v)
	}
	written := map[string]bool{}
	for _, kind := range policies.Kinds() {
		for _, r := range p.resolved(kind) {
			written[r.key] = true
			if r.param.Integer && r.value == float64(int64(r.value)) {
				add(r.key, int64(r.value))
			} else {
				add(r.key, r.value)
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(p.Given)) {
		if !written[k] {
			add(k, p.Given[k])
		}
	}
	v := reflect.New(reflect.StructOf(fields)).Elem()
	for i, x := range values {
		v.Field(i).Set(reflect.ValueOf(x))
	}
	return v
}

// policyParam decodes the value of the parameter key k of [policy] into
// p.Given. p.Given must not be shared: Parse starts from Default, which
// shares nothing, and Set works on a Clone.
func (d *decoder) policyParam(path []string, v any, p *Policy, k string) {
	var x float64
	switch n := v.(type) {
	case float64:
		x = n
	case int64:
		x = float64(n)
	default:
		d.errorf(path, "expected a number, found %s", describe(v))
		return
	}
	if p.Given == nil {
		p.Given = map[string]float64{}
	}
	p.Given[k] = x
}

// policy checks [policy]: each name is a policy of the registry, and each
// parameter given is one the chosen policy has, in its range.
func (v *validator) policy() {
	p := v.s.Policy
	for _, kind := range policies.Kinds() {
		if _, err := policies.Lookup(kind, p.Name(kind)); err != nil {
			v.failf(policyTable+"."+string(kind), "must be one of %s; got %q", strings.Join(policies.Names(kind), ", "), p.Name(kind))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(p.Given)) {
		key := policyTable + "." + k
		kind, name, ok := policyParam(k)
		if !ok {
			v.failf(key, "unknown key (%s)", strings.Join(policies.ParamKeys(), ", "))
			continue
		}
		spec, err := policies.Lookup(kind, p.Name(kind))
		if err != nil {
			continue // reported with the name
		}
		par, ok := spec.Param(name)
		if !ok {
			v.failf(key, "%s policy %q has no parameter %q (%s)", kind, spec.Name, name, paramList(kind, spec))
			continue
		}
		if err := par.Check(p.Given[k]); err != nil {
			v.failf(key, "%v", err)
		}
	}
}

// paramList says which parameters spec has, by key.
func paramList(kind policies.Kind, spec policies.Spec) string {
	if len(spec.Params) == 0 {
		return "it has none"
	}
	keys := make([]string, len(spec.Params))
	for i, par := range spec.Params {
		keys[i] = policies.ParamKey(kind, par.Name)
	}
	return "it has " + strings.Join(keys, ", ")
}
