// Package policies holds SBMP's swappable merge, refill and degrade
// policies and a registry that builds them by name with typed parameters,
// for scenarios (policy.merge = "delayed", policy.merge_delay_ms = 20) and
// the CLI (sbmpsim policies). The interfaces are sbmp's.
package policies

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/sbmpsim/sbmpsim/sbmp"
)

// Kind is the kind of policy.
type Kind string

// The policy kinds.
const (
	KindMerge   Kind = "merge"
	KindRefill  Kind = "refill"
	KindDegrade Kind = "degrade"
)

// Kinds returns the policy kinds, in the order scenarios list them.
func Kinds() []Kind { return []Kind{KindMerge, KindRefill, KindDegrade} }

// Param is one typed parameter of a policy.
type Param struct {
	Name    string
	Unit    string // "slots", "ms", "fraction", "count"
	Default float64
	Min     float64
	Max     float64
	Integer bool
	Doc     string
}

// Spec describes a policy: its name, what it does, its parameters, and
// how to build an instance (each allocator gets its own: policies may
// keep state).
type Spec struct {
	Kind   Kind
	Name   string
	Doc    string
	Params []Param
	build  func(p Values) any
}

// Values are a policy's parameters by name, defaults filled in.
type Values map[string]float64

// specs returns every policy. A function, not a package variable, so there
// is no package-level mutable state.
func specs() []Spec {
	return slices.Concat(mergeSpecs(), refillSpecs(), degradeSpecs())
}

// List returns every policy, by kind and then name.
func List() []Spec {
	out := specs()
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return kindOrder(out[i].Kind) < kindOrder(out[j].Kind)
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func kindOrder(k Kind) int {
	return slices.Index(Kinds(), k)
}

// Names returns the names of one kind's policies, sorted.
func Names(k Kind) []string {
	var out []string
	for _, s := range specs() {
		if s.Kind == k {
			out = append(out, s.Name)
		}
	}
	slices.Sort(out)
	return out
}

// Lookup finds a policy by kind and name.
func Lookup(k Kind, name string) (Spec, error) {
	for _, s := range specs() {
		if s.Kind == k && s.Name == name {
			return s, nil
		}
	}
	return Spec{}, fmt.Errorf("no %s policy %q; known: %s", k, name, strings.Join(Names(k), ", "))
}

// ParamKey returns the scenario key that sets parameter param of kind k's
// policies: policy.<kind>_<param> ("policy.refill_batch"). Policies of one
// kind that share a parameter name share its key; which of them runs is
// the scenario's policy.<kind>.
func ParamKey(k Kind, param string) string { return "policy." + string(k) + "_" + param }

// ParamKeys returns the key of every parameter of every policy, each
// once, by kind and then in the order the registry declares them.
func ParamKeys() []string {
	var keys []string
	all := specs()
	for _, k := range Kinds() {
		for _, s := range all {
			for _, p := range s.Params {
				if key := ParamKey(k, p.Name); s.Kind == k && !slices.Contains(keys, key) {
					keys = append(keys, key)
				}
			}
		}
	}
	return keys
}

// LookupParamKey returns the kind and parameter name that a scenario key
// sets, when some policy has that parameter.
func LookupParamKey(key string) (Kind, string, bool) {
	for _, s := range specs() {
		for _, p := range s.Params {
			if ParamKey(s.Kind, p.Name) == key {
				return s.Kind, p.Name, true
			}
		}
	}
	return "", "", false
}

// Param returns the parameter of s called name.
func (s Spec) Param(name string) (Param, bool) {
	i := slices.IndexFunc(s.Params, func(p Param) bool { return p.Name == name })
	if i < 0 {
		return Param{}, false
	}
	return s.Params[i], true
}

// Check returns an error saying what p takes when x is not a value of it:
// outside its range, not a number, or not an integer for an integer
// parameter.
func (p Param) Check(x float64) error {
	if x >= p.Min && x <= p.Max && (!p.Integer || x == math.Trunc(x)) {
		return nil
	}
	kind := "a number"
	if p.Integer {
		kind = "an integer"
	}
	return fmt.Errorf("must be %s in %g..%g, got %g", kind, p.Min, p.Max, x)
}

// Resolve fills defaults into given and checks every value against its
// parameter's type and range. Unknown parameters are errors.
func (s Spec) Resolve(given map[string]float64) (Values, error) {
	v := Values{}
	for _, p := range s.Params {
		v[p.Name] = p.Default
	}
	keys := make([]string, 0, len(given))
	for k := range given {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		x := given[k]
		p, ok := s.Param(k)
		if !ok {
			return nil, fmt.Errorf("%s policy %q has no parameter %q (it has: %s)", s.Kind, s.Name, k, s.paramNames())
		}
		if err := p.Check(x); err != nil {
			return nil, fmt.Errorf("%s policy %q: %s %w", s.Kind, s.Name, k, err)
		}
		v[k] = x
	}
	return v, nil
}

func (s Spec) paramNames() string {
	if len(s.Params) == 0 {
		return "none"
	}
	names := make([]string, len(s.Params))
	for i, p := range s.Params {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// build resolves the parameters and builds an instance.
func build(k Kind, name string, params map[string]float64) (any, error) {
	s, err := Lookup(k, name)
	if err != nil {
		return nil, err
	}
	v, err := s.Resolve(params)
	if err != nil {
		return nil, err
	}
	return s.build(v), nil
}

// Merge builds the merge policy name with params (nil for defaults).
func Merge(name string, params map[string]float64) (sbmp.MergePolicy, error) {
	p, err := build(KindMerge, name, params)
	if err != nil {
		return nil, err
	}
	return p.(sbmp.MergePolicy), nil
}

// Refill builds the refill policy name with params.
func Refill(name string, params map[string]float64) (sbmp.RefillPolicy, error) {
	p, err := build(KindRefill, name, params)
	if err != nil {
		return nil, err
	}
	return p.(sbmp.RefillPolicy), nil
}

// Degrade builds the degrade policy name with params.
func Degrade(name string, params map[string]float64) (sbmp.DegradePolicy, error) {
	p, err := build(KindDegrade, name, params)
	if err != nil {
		return nil, err
	}
	return p.(sbmp.DegradePolicy), nil
}
