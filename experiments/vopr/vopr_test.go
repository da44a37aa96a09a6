package vopr

import (
	"bytes"
	"errors"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/model/numa"
	"github.com/sbmpsim/sbmpsim/policies"
)

// TestGenerateIsDeterministicAndCovers: a seed always gives the same
// valid scenario, and a few hundred seeds cover every machine preset,
// workload kind, fault kind and policy.
func TestGenerateIsDeterministicAndCovers(t *testing.T) {
	seen := map[string]bool{}
	for seed := uint64(0); seed < 300; seed++ {
		a, err := Generate(seed)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Generate(seed)
		ea, _ := a.Encode()
		eb, _ := b.Encode()
		if !bytes.Equal(ea, eb) {
			t.Fatalf("seed %d generated two different scenarios", seed)
		}
		seen["preset "+a.Machine.Preset] = true
		seen["merge "+a.Policy.Merge] = true
		seen["refill "+a.Policy.Refill] = true
		seen["degrade "+a.Policy.Degrade] = true
		for _, w := range a.Workloads {
			seen["kind "+w.Kind] = true
			if w.Kind == scenario.KindSynthetic {
				seen["arrival "+w.Arrival] = true
				seen["size "+w.Size] = true
				seen["lifetime "+w.Lifetime] = true
			}
		}
		for _, f := range a.Faults {
			seen["fault "+f.Kind] = true
		}
		if len(a.Kernel.Cgroups) > 0 {
			seen["cgroups"] = true
		}
		if len(a.Processes) > 0 {
			seen["processes"] = true
		}
	}
	want := []string{"cgroups", "processes"}
	for _, p := range []string{numa.Preset1Node, numa.PresetIntel2S, numa.Preset4Socket, numa.PresetEPYC2SNPS4, numa.PresetTiered} {
		want = append(want, "preset "+p)
	}
	for _, k := range scenario.WorkloadKinds() {
		want = append(want, "kind "+k)
	}
	for _, k := range []string{scenario.FaultNUMALatency, scenario.FaultNodeOffline, scenario.FaultLeak} {
		want = append(want, "fault "+k)
	}
	for _, k := range []string{scenario.ArrivalPoisson, scenario.ArrivalMMPP, scenario.ArrivalDiurnal, scenario.ArrivalPhases,
		scenario.SizeFixed, scenario.SizeDiscrete, scenario.SizeLognormal, scenario.SizeHistogram} {
		want = append(want, "arrival "+k, "size "+k)
	}
	for _, k := range []policies.Kind{policies.KindMerge, policies.KindRefill, policies.KindDegrade} {
		for _, n := range policies.Names(k) {
			want = append(want, string(k)+" "+n)
		}
	}
	for _, k := range want {
		// "arrival fixed" and "size poisson" are not things: skip them.
		if !seen[k] && !bogus(k) {
			t.Errorf("300 seeds never generated %s", k)
		}
	}
}

func bogus(k string) bool {
	switch k {
	case "arrival fixed", "arrival discrete", "arrival lognormal", "arrival histogram",
		"size poisson", "size mmpp", "size diurnal", "size phases":
		return true
	}
	return false
}

// TestSeedsPass is CI's bounded run of `sbmpsim check`: every invariant
// after every event of 30 seeds. A failure names the command
// that replays it.
func TestSeedsPass(t *testing.T) {
	n, every := uint64(30), int64(1)
	if testing.Short() {
		// CI runs the race detector with -short, where a checked run is
		// ten times slower: a few seeds, checked less often.
		n, every = 3, 16
	}
	outs, err := CheckSeeds(t.Context(), seq(1, n), 2, Options{Every: every})
	if err != nil {
		t.Fatal(err)
	}
	var events int64
	for _, o := range outs {
		events += o.Events
		if o.Err != nil {
			t.Errorf("seed %d: %v\n  replay: sbmpsim check --seed %d", o.Seed, o.Err, o.Seed)
		}
	}
	t.Logf("%d seeds, %d events", n, events)
}

func seq(from, n uint64) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = from + uint64(i)
	}
	return out
}

// TestShrinkKeepsTheFailure: a scenario that fails to set up (a
// workload on a CPU the machine lacks) shrinks to one workload and a
// short run that still fails that way.
func TestShrinkKeepsTheFailure(t *testing.T) {
	var sc *scenario.Scenario
	for seed := uint64(1); ; seed++ {
		s, err := Generate(seed)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Workloads) >= 3 {
			sc = s
			break
		}
	}
	sc.Workloads[1].CPUs = "8000"
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	o := CheckScenario(sc, Options{Shrink: true, MaxShrinkRuns: 60})
	if o.Err == nil || o.Shrunk == nil || o.Shrunk.Err == nil {
		t.Fatalf("outcome %+v: want a failure and a shrink", o)
	}
	var ie *world.InvariantError
	if errors.As(o.Shrunk.Err, &ie) {
		t.Fatalf("shrunk failure %v is not the set-up error", o.Shrunk.Err)
	}
	s := o.Shrunk.Scenario
	if len(s.Workloads) != 1 || s.Workloads[0].CPUs != "8000" || len(s.Faults) != 0 || s.Run.DurationMs >= sc.Run.DurationMs {
		t.Fatalf("shrunk to %d workloads (cpus %q), %d faults, %d ms: want the bad workload alone, shorter",
			len(s.Workloads), s.Workloads[0].CPUs, len(s.Faults), s.Run.DurationMs)
	}
}
