// Package policyspace is the policy-space canonical experiment: does each
// policy change anything? Every merge, refill and degrade policy runs
// against its family's default on the same seeds of a fixed set of
// testbeds, and every outcome (OOM, failed allocations, stalls, latency,
// footprint, merges, blocks returned) is compared with the A/B runner's
// paired analysis.
package policyspace

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/ab"
	"github.com/sbmpsim/sbmpsim/experiments/canon"
	"github.com/sbmpsim/sbmpsim/policies"
)

// Experiment returns the policy-space experiment, for the catalog.
func Experiment() canon.Experiment {
	return canon.Experiment{
		Name:  "policy-space",
		Title: "10. Does each policy matter? Every policy against its family's default",
		Spec:  "SPEC 1.1, 1.2, 2.6",
		Run:   run,
		Plan:  plan,
	}
}

// testbed is an embedded scenario the policies are compared on, and why
// it is in the set. The set is fixed before any result is seen: each
// stresses a different part of the allocator.
type testbed struct {
	Name, Why string
}

var testbeds = []testbed{
	{"oom-crisis", "the default: NUMA-imbalanced Tier-1 growth until Tier-1 fails and Tier-2 serves (degrade policies act)"},
	{"kernel-bypass", "mlock and a GFP_ATOMIC leak starve Tier-1 growth (refill and degrade policies act under exhaustion)"},
	{"numa-faults", "a cross-node latency spike and a node offline under 32 CPUs on both sockets (refill placement acts)"},
	{"merge-churn", "medium requests of mixed orders in bursts (merge policies act)"},
	{"trace-replay", "a heaptrack trace with migrating threads and a Go size mix (remote frees and refills act)"},
}

// defaults pins every family to its registry default, so that arm A is
// the same on every testbed whatever the scenario file chose.
var defaults = []string{"policy.merge=lazy-threshold", "policy.refill=fixed-batch", "policy.degrade=immediate-tier2"}

// defaultOf is the registry default of each family.
var defaultOf = map[policies.Kind]string{policies.KindMerge: "lazy-threshold", policies.KindRefill: "fixed-batch", policies.KindDegrade: "immediate-tier2"}

// settings are the arms beyond the policies: parameters whose value is a
// design choice the issue asks to see both ways. A degraded small request
// takes a slot carved from a shared 8 KiB fallback block instead of a
// block of its own (degrade.go); and the idle trim, on by default, off.
var settings = []canon.Variant{
	{Name: "degrade_carve_small=1", Sets: []string{"policy.degrade_carve_small=1"}},
	{Name: "merge_trim_interval_ms=0", Sets: []string{"policy.merge_trim_interval_ms=0"}},
}

// variants are the arms: the defaults, every other policy of every
// family, one change each, then the settings.
func variants() []canon.Variant {
	vs := []canon.Variant{{Name: "defaults"}}
	for _, k := range policies.Kinds() {
		for _, name := range policies.Names(k) {
			if name != defaultOf[k] {
				vs = append(vs, canon.Variant{Name: string(k) + "=" + name, Sets: []string{"policy." + string(k) + "=" + name}})
			}
		}
	}
	return append(vs, settings...)
}

func seedsOf(env *canon.Env) []uint64 { return env.Seeds(3, 100) }

func plan(env *canon.Env) ([]canon.Input, error) {
	var ins []canon.Input
	for _, tb := range testbeds {
		in, err := canon.VariantInputs(tb.Name, defaults, variants(), seedsOf(env))
		if err != nil {
			return nil, err
		}
		ins = append(ins, in...)
	}
	return ins, nil
}

// finding is one policy on one testbed: the outcomes whose 95 %
// interval of the paired difference excludes zero.
type finding struct {
	policy, testbed string
	moved           []string // "metric +d [lo, hi]"
}

func run(env *canon.Env, out *canon.Out) error {
	seeds := seedsOf(env)
	vs := variants()
	var found []finding
	var rows [][]string
	for _, tb := range testbeds {
		arms, err := env.RunVariants(tb.Name, defaults, vs, seeds)
		if err != nil {
			return err
		}
		for _, a := range arms[1:] {
			rep, err := canon.Paired(tb.Name, arms[0], a, seeds)
			if err != nil {
				return err
			}
			f := finding{policy: a.Name, testbed: tb.Name}
			o := rep.Paired.OOM
			if o.CI95Newcombe[0] > 0 || o.CI95Newcombe[1] < 0 {
				f.moved = append(f.moved, fmt.Sprintf("P(OOM) %+.0f points [%+.0f, %+.0f]", 100*o.Difference, 100*o.CI95Newcombe[0], 100*o.CI95Newcombe[1]))
			}
			rows = append(rows, []string{a.Name, tb.Name, "oom_probability", canon.Fixed(o.Difference, 4), canon.Fixed(o.CI95Newcombe[0], 4), canon.Fixed(o.CI95Newcombe[1], 4)})
			rep.Paired.Metrics.Each(func(name string, m *ab.PairedMetric) {
				lo, hi := m.CI95Bootstrap[0], m.CI95Bootstrap[1]
				rows = append(rows, []string{a.Name, tb.Name, name, canon.Fixed(m.MeanDifference, 4), canon.Fixed(lo, 4), canon.Fixed(hi, 4)})
				if lo > 0 || hi < 0 {
					label, scale := unitOf(name)
					f.moved = append(f.moved, fmt.Sprintf("%s %s [%s, %s]", label, signed(m.MeanDifference/scale), signed(lo/scale), signed(hi/scale)))
				}
			})
			found = append(found, f)
		}
	}
	out.P("Every policy against its family's default (`lazy-threshold` merging, `fixed-batch` refills, `immediate-tier2` degrade), one change per arm, on the same seeds 1-%d of each testbed, every arm with the other two families at their defaults. Two more arms change a setting instead of a policy: `degrade_carve_small=1` (a degraded small request takes a slot of an 8 KiB fallback block carved for its class, instead of a fallback block of its own) and `merge_trim_interval_ms=0` (no idle trim of the per-CPU caches, and so no decay of Tier-1's merge queue). The testbeds, fixed before any result was seen, each stress a different part of the allocator: %s.",
		len(seeds), testbedList())
	out.P("An outcome *moves* when the 95 %% interval of its paired difference (arm minus defaults, seed by seed) excludes zero: Newcombe's interval for the OOM probability, a BCa bootstrap interval of the mean difference for the others (failed allocations, fallback rate, allocation stall, latency p50/p99/p99.9, peak footprint, memory stall, allocations harmed by degrade, Tier-1 merges, blocks returned to Tier-2). Each interval is at 95 %% on its own: over %d outcomes on %d testbeds, about one in twenty intervals that exclude zero by chance is to be expected where a policy changes nothing, so a single moved outcome with an interval close to zero is weak evidence. With few seeds (the quick run's) a bootstrap interval is too narrow to trust; the full run has 100. The numbers of every comparison, in base units, are in `policy-space.csv`.",
		outcomes(), len(testbeds))
	var table [][]string
	var inert []string
	for _, v := range vs[1:] {
		var where []string
		for _, f := range found {
			if f.policy == v.Name && len(f.moved) > 0 {
				where = append(where, fmt.Sprintf("`%s`: %s", f.testbed, strings.Join(f.moved, "; ")))
			}
		}
		if len(where) == 0 {
			inert = append(inert, "`"+v.Name+"`")
			table = append(table, []string{v.Name, "none at " + fmt.Sprint(len(seeds)) + " seeds"})
			continue
		}
		table = append(table, []string{v.Name, strings.Join(where, " · ")})
	}
	out.Table("policy-space", "What each policy moves against its family's default: every outcome whose paired 95 % interval excludes zero, per testbed (mean difference, arm minus defaults, with the interval)",
		[]string{"policy", "outcomes that move, by testbed"}, table)
	out.CSV("policy-space", []string{"policy", "testbed", "outcome", "mean_difference", "ci95_lo", "ci95_hi"}, rows)
	if len(inert) == 0 {
		out.P("Every policy moves at least one outcome on at least one testbed.")
	} else {
		out.P("No outcome moved on any testbed for %s at %d seeds: on these workloads the policy either never comes into play or changes nothing measurable. That is a finding about the shipped workloads, not a proof that the policy is inert everywhere.", strings.Join(inert, ", "), len(seeds))
	}
	out.Cmd(fmt.Sprintf("sbmpsim experiment run policy-space%s   # one comparison: sbmpsim ab merge-churn --a policy.merge=lazy-threshold --b policy.merge=eager --seeds 30", env.QuickFlag()))
	return nil
}

// unitOf is how a metric reads in the text: allocation latencies in ns,
// other times in ms, bytes as MiB, the rest as they are.
func unitOf(name string) (label string, scale float64) {
	switch {
	case strings.HasPrefix(name, "alloc_latency"):
		return strings.TrimSuffix(name, "_ns") + " (ns)", 1
	case strings.HasSuffix(name, "_ns"):
		return strings.TrimSuffix(name, "_ns") + " (ms)", 1e6
	case strings.HasSuffix(name, "_bytes"):
		return strings.TrimSuffix(name, "_bytes") + " (MiB)", 1 << 20
	}
	return name, 1
}

// signed prints x with its sign and three significant digits.
func signed(x float64) string {
	if x == 0 || math.IsNaN(x) {
		return canon.Fixed(x, 0)
	}
	prec := max(0, 2-int(math.Floor(math.Log10(math.Abs(x)))))
	s := canon.Fixed(x, prec)
	if x > 0 {
		s = "+" + s
	}
	return s
}

// outcomes counts the outcomes compared: the OOM probability and ab's
// continuous metrics.
func outcomes() int {
	n := 1
	var m ab.Metrics[ab.PairedMetric]
	m.Each(func(string, *ab.PairedMetric) { n++ })
	return n
}

func testbedList() string {
	parts := make([]string, len(testbeds))
	for i, tb := range testbeds {
		parts[i] = fmt.Sprintf("`%s` (%s)", tb.Name, tb.Why)
	}
	return strings.Join(slices.Clip(parts), "; ")
}
