package scenario

import (
	"fmt"
	"maps"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/policies"
)

// TestPolicyParamErrors pins the errors about policy parameters, from
// the file and from --set.
func TestPolicyParamErrors(t *testing.T) {
	const w = "[[workload]]\n"
	tests := []struct {
		name, in string
		sets     []string
		want     string
	}{
		{"not a parameter of the policy", "[policy]\nmerge = \"eager\"\nmerge_threshold = 5\n" + w, nil,
			`x.toml:3:1: policy.merge_threshold: merge policy "eager" has no parameter "threshold" (it has policy.merge_trim_interval_ms, policy.merge_trim_fraction, policy.merge_trim_low_water)`},
		{"parameter of the other policies", "[policy]\nrefill = \"adaptive-batch\"\n  refill_batch = 32\n" + w, nil,
			`x.toml:3:3: policy.refill_batch: refill policy "adaptive-batch" has no parameter "batch" (it has policy.refill_min_batch, policy.refill_max_batch, policy.refill_window_ms)`},
		{"range", "[policy]\nrefill_batch = 0\n" + w, nil, "x.toml:2:1: policy.refill_batch: must be an integer in 1..65536, got 0"},
		{"integer", "policy = {refill_batch = 1.5}\n" + w, nil, "x.toml:1:11: policy.refill_batch: must be an integer in 1..65536, got 1.5"},
		{"fraction", "[policy]\nmerge = \"watermark\"\nmerge_free_fraction = 2\n" + w, nil,
			"x.toml:3:1: policy.merge_free_fraction: must be a number in 0..1, got 2"},
		{"from --set", w, []string{"policy.refill_batch=0"}, "--set: policy.refill_batch: must be an integer in 1..65536, got 0"},
		{"policy from --set, parameter from the file", "[policy]\nrefill_batch = 32\n" + w, []string{"policy.refill=adaptive-batch"},
			`x.toml:2:1: policy.refill_batch: refill policy "adaptive-batch" has no parameter "batch"`},
		{"table from --set", w, []string{`policy={degrade="fail-fast", degrade_wait_ms=2}`},
			`--set: policy.degrade_wait_ms: degrade policy "fail-fast" has no parameter "wait_ms" (it has policy.degrade_min_dwell_ms, policy.degrade_exit_refills, policy.degrade_carve_small)`},
		{"unknown policy: its parameters are not checked", "[policy]\nmerge = \"lazy\"\nmerge_threshold = 0\n" + w, nil,
			`x.toml:2:1: policy.merge: must be one of delayed, eager, lazy-threshold, watermark; got "lazy"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("x.toml", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range tt.sets {
				if err := s.Set(a); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Validate(); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("Validate = %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestPolicyParamDecodeErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"[policy]\nrefill_bach = 1\n", "x.toml:2:1: policy.refill_bach: unknown key (did you mean policy.refill_batch?)"},
		{"[policy]\nbatch = 1\n", "x.toml:2:1: policy.batch: unknown key"},
		{"refill_batch = 1\n", "x.toml:1:1: refill_batch: unknown key (did you mean policy.refill_batch?)"},
		{"[policy]\nrefill_batch = \"x\"\n", `x.toml:2:1: policy.refill_batch: expected a number, found string "x"`},
		{"[policy]\nrefill_batch = [1]\n", "x.toml:2:1: policy.refill_batch: expected a number, found an array"},
	} {
		if _, err := Parse("x.toml", []byte(tt.in)); err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%q) = %v\nwant %s", tt.in, err, tt.want)
		}
	}
	for _, tt := range []struct{ set, want string }{
		{"policy.refil_batch=1", "--set: policy.refil_batch: unknown key (did you mean policy.refill_batch?)"},
		{"policy.refill_batch=x", `--set: policy.refill_batch: expected a number, found string "x"`},
		{"policy.refill_batch.x=1", "--set: policy.refill_batch.x: policy.refill_batch is not a table"},
		{"policy={refill_batch=\"x\"}", `--set: policy.refill_batch: expected a number, found string "x"`},
	} {
		s := loadCrisis(t)
		before := exported(s)
		if err := s.Set(tt.set); err == nil || err.Error() != tt.want {
			t.Errorf("Set(%q) = %v\nwant %s", tt.set, err, tt.want)
		}
		if !reflect.DeepEqual(exported(s), before) {
			t.Errorf("failed Set(%q) changed the scenario", tt.set)
		}
	}
}

func TestPolicyParamsDecoded(t *testing.T) {
	s, err := Parse("x.toml", []byte("[policy]\nrefill = \"adaptive-batch\"\nrefill_min_batch = 8\nrefill_window_ms = 2.5\n[[workload]]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]float64{"refill_min_batch": 8, "refill_window_ms": 2.5}; !maps.Equal(s.Policy.Given, want) {
		t.Fatalf("Given = %v, want %v", s.Policy.Given, want)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, set := range []string{"policy.refill_max_batch=64", `policy={merge="delayed", merge_delay_ms=0}`} {
		if err := s.Set(set); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	want := map[policies.Kind]map[string]float64{
		policies.KindMerge:   {"delay_ms": 0},
		policies.KindRefill:  {"min_batch": 8, "window_ms": 2.5, "max_batch": 64},
		policies.KindDegrade: {},
	}
	for kind, params := range want {
		if got := s.Policy.Params(kind); !maps.Equal(got, params) {
			t.Errorf("Params(%s) = %v, want %v", kind, got, params)
		}
	}
	roundTrip(t, s)
}

func TestPolicyWith(t *testing.T) {
	p := Policy{Merge: "delayed", Refill: "adaptive-batch", Degrade: "wait-refill",
		Given: map[string]float64{"merge_delay_ms": 5, "refill_min_batch": 8, "degrade_wait_ms": 2}}
	q := p.With(policies.KindRefill, "fixed-batch")
	if q.Refill != "fixed-batch" || q.Merge != "delayed" || q.Degrade != "wait-refill" ||
		!maps.Equal(q.Given, map[string]float64{"merge_delay_ms": 5, "degrade_wait_ms": 2}) {
		t.Fatalf("With(refill, fixed-batch) = %+v", q)
	}
	if len(p.Given) != 3 || p.Refill != "adaptive-batch" {
		t.Fatalf("With changed its receiver: %+v", p)
	}
	q.Given["merge_delay_ms"] = 7
	if p.Given["merge_delay_ms"] != 5 {
		t.Fatal("With shares Given with its receiver")
	}
	// The same name resets the parameters too; nothing left is nil.
	if r := p.With(policies.KindMerge, "delayed").With(policies.KindRefill, "adaptive-batch").With(policies.KindDegrade, "wait-refill"); r.Given != nil {
		t.Fatalf("With every kind reset: Given = %v, want nil", r.Given)
	}
	for _, kind := range policies.Kinds() {
		if got := q.Name(kind); got != map[policies.Kind]string{"merge": "delayed", "refill": "fixed-batch", "degrade": "wait-refill"}[kind] {
			t.Errorf("Name(%s) = %q", kind, got)
		}
	}
}

func TestPolicyClone(t *testing.T) {
	s := loadCrisis(t)
	if err := s.Set("policy.refill_batch=32"); err != nil {
		t.Fatal(err)
	}
	c := s.Clone()
	c.Policy.Given["refill_batch"] = 8
	if err := c.Set("policy.merge_threshold=4"); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(s.Policy.Given, map[string]float64{"refill_batch": 32}) {
		t.Fatalf("the original's parameters changed with its clone's: %v", s.Policy.Given)
	}
}

// TestEncodePolicy pins [policy] as Encode writes it: every parameter of
// the chosen policies, defaults resolved, integers as integers.
func TestEncodePolicy(t *testing.T) {
	tests := []struct {
		sets []string
		want string
	}{
		{nil, "[policy]\nmerge = \"lazy-threshold\"\nrefill = \"fixed-batch\"\ndegrade = \"immediate-tier2\"\nmerge_threshold = 32\nmerge_trim_interval_ms = 2000.0\nmerge_trim_fraction = 0.75\nmerge_trim_low_water = 1\nrefill_batch = 64\ndegrade_min_dwell_ms = 1000.0\ndegrade_exit_refills = 1\ndegrade_carve_small = 0\n"},
		{[]string{"policy.merge=eager", "policy.refill=adaptive-batch", "policy.refill_max_batch=128", "policy.degrade=wait-refill", "policy.degrade_wait_ms=2"},
			"[policy]\nmerge = \"eager\"\nrefill = \"adaptive-batch\"\ndegrade = \"wait-refill\"\nmerge_trim_interval_ms = 2000.0\nmerge_trim_fraction = 0.75\nmerge_trim_low_water = 1\nrefill_min_batch = 16\nrefill_max_batch = 128\nrefill_window_ms = 1.0\ndegrade_wait_ms = 2.0\ndegrade_max_wait_ms = 10.0\ndegrade_min_dwell_ms = 1000.0\ndegrade_exit_refills = 1\ndegrade_carve_small = 0\n"},
		// Not valid, but nothing given is lost.
		{[]string{"policy.merge=eager", "policy.merge_threshold=5"},
			"[policy]\nmerge = \"eager\"\nrefill = \"fixed-batch\"\ndegrade = \"immediate-tier2\"\nmerge_trim_interval_ms = 2000.0\nmerge_trim_fraction = 0.75\nmerge_trim_low_water = 1\nrefill_batch = 64\ndegrade_min_dwell_ms = 1000.0\ndegrade_exit_refills = 1\ndegrade_carve_small = 0\nmerge_threshold = 5.0\n"},
	}
	for _, tt := range tests {
		s := loadCrisis(t)
		for _, set := range tt.sets {
			if err := s.Set(set); err != nil {
				t.Fatal(err)
			}
		}
		enc, err := s.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(enc), "\n\n"+tt.want+"\n[[workload]]") {
			t.Errorf("Encode with %v:\n%s\nwant the section\n%s", tt.sets, enc, tt.want)
		}
	}
}

func TestPolicySwapFault(t *testing.T) {
	const in = "[[workload]]\n[[fault]]\nkind = \"policy-swap\"\nmerge = \"eager\"\nrefill = \"nope\"\ndegrade = \"wait-refill\"\n"
	s, err := Parse("x.toml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := `x.toml:5:1: fault.0.refill: must be one of adaptive-batch, fixed-batch, interleave, local-first, nearest-node, steal-peer; got "nope"`
	if err := s.Validate(); err == nil || err.Error() != want {
		t.Fatalf("Validate = %v\nwant %s", err, want)
	}
	f := s.Faults[0]
	if f.Policy(policies.KindMerge) != "eager" || f.Policy(policies.KindRefill) != "nope" || f.Policy(policies.KindDegrade) != "wait-refill" {
		t.Fatalf("Fault.Policy: %+v", f)
	}
}

// TestReadmePolicyParams checks that the [policy] section of the
// scenario README has one row per parameter key, as the registry
// describes it.
func TestReadmePolicyParams(t *testing.T) {
	readme, err := os.ReadFile("../scenarios/README.md")
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, key := range policyParamKeys() {
		kind, name, _ := policyParam(key)
		var users []string
		var par policies.Param
		for _, s := range policies.List() {
			if p, ok := s.Param(name); ok && s.Kind == kind {
				users, par = append(users, s.Name), p
			}
		}
		typ := "number"
		if par.Integer {
			typ = "integer"
		}
		num := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
		rows = append(rows, fmt.Sprintf("| `%s` | %s | `%s` | %s: %s (%s, %s..%s). |",
			key, typ, num(par.Default), strings.Join(users, ", "), par.Doc, par.Unit, num(par.Min), num(par.Max)))
	}
	if want := strings.Join(rows, "\n"); !strings.Contains(string(readme), "\n"+want+"\n") {
		t.Errorf("experiments/input/scenarios/README.md lacks the policy parameter rows:\n%s", want)
	}
}
