package world

import (
	"context"
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
)

// probeScenario: small objects, and buffers of 40 KB, 1.5 MB and (half
// of them) 3 MB that go to Tier-2, at 2,000 a second.
const probeScenario = `
[run]
duration_ms = 1500
[[workload]]
name = "small"
cpus = "0-3"
rate_per_s = 20000
lifetime_mean_ms = 5
[[workload]]
name = "big"
cpus = "4-7"
rate_per_s = 2000
size = "discrete"
sizes_bytes = [40000, 1500000, 3000000]
size_weights = [1, 1, 2]
lifetime_mean_ms = 1
`

func runProbes(t *testing.T, src string) *Result {
	t.Helper()
	res, err := Run(context.Background(), mustParse(t, src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestProbesOnlyWatch: the same run with and without probes has the same
// trace and the same summary but for the probes' lines.
func TestProbesOnlyWatch(t *testing.T) {
	skipUnderRace(t)
	bare := runProbes(t, probeScenario)
	probed := runProbes(t, probeScenario+"[[probe]]\nkind = \"alloc\"\nsample_rate = 0.3\n[[probe]]\nkind = \"span\"\n")
	if bare.Summary.TraceHash != probed.Summary.TraceHash || bare.Summary.Allocs != probed.Summary.Allocs {
		t.Fatalf("probes changed the run: %s vs %s", bare.Summary.TraceHash, probed.Summary.TraceHash)
	}
	if _, ok := bare.Files["probes.csv"]; ok {
		t.Error("a run without probes wrote probes.csv")
	}
	ps := probed.Summary.Probes
	if len(ps) != 2 {
		t.Fatalf("probes %+v", ps)
	}
	alloc, span := ps[0], ps[1]
	if alloc.Seen != bare.Summary.Allocs+bare.Summary.AllocFailures {
		t.Errorf("alloc probe saw %d of %d allocations", alloc.Seen, bare.Summary.Allocs+bare.Summary.AllocFailures)
	}
	// A 0.3 sample of tens of thousands: within 5 % of 0.3.
	if f := float64(alloc.Recorded) / float64(alloc.Seen); f < 0.285 || f > 0.315 {
		t.Errorf("alloc probe recorded %.3f of what it saw, want 0.3", f)
	}
	if span.Seen != uint64(bare.Summary.TierAllocs.Tier2) || span.Recorded != span.Seen {
		t.Errorf("span probe: seen %d recorded %d, Tier-2 served %d (all above 32 KiB: all recorded)", span.Seen, span.Recorded, bare.Summary.TierAllocs.Tier2)
	}
	// 2,000 spans a second: past 1,000 after the first half second;
	// half of them are 3 MB, above 512 pages.
	if span.FlaggedRate == 0 || span.FlaggedRate >= span.Seen || span.FlaggedSize < span.Seen/4 || span.FlaggedSize > span.Seen*3/4 {
		t.Errorf("span flags: %+v", span)
	}
	if span.FlaggedStack != 0 {
		t.Error("synthetic workloads have no stacks, yet a stack was flagged")
	}
	csv := string(probed.Files["probes.csv"])
	lines := strings.Split(strings.TrimSpace(csv), "\n")
	if lines[0]+"\n" != ProbesCSVHeader || uint64(len(lines)-1) != alloc.Recorded+span.Recorded {
		t.Errorf("probes.csv: %d rows for %d records; header %q", len(lines)-1, alloc.Recorded+span.Recorded, lines[0])
	}
	if !strings.Contains(csv, ",big,") || !strings.Contains(csv, "rate|size") || !strings.Contains(csv, ",-1,") {
		t.Errorf("probes.csv lacks a big span flagged rate|size, or a stack depth of -1:\n%.500s", csv)
	}
}

// TestProbeOfOneWorkload watches one workload only.
func TestProbeOfOneWorkload(t *testing.T) {
	skipUnderRace(t)
	res := runProbes(t, probeScenario+"[[probe]]\nkind = \"alloc\"\nworkload = \"small\"\n")
	if strings.Contains(string(res.Files["probes.csv"]), ",big,") {
		t.Error("a probe of workload small recorded big's allocations")
	}
	if p := res.Summary.Probes[0]; p.Workload != "small" || p.Seen == 0 || p.Seen != p.Recorded {
		t.Errorf("%+v", p)
	}
}

// TestHeaptrackProbeHasStacks: the trace replay's allocations carry the
// depth of their heaptrack backtraces.
func TestHeaptrackProbeHasStacks(t *testing.T) {
	sc, err := scenario.Load("trace-replay")
	if err != nil {
		t.Fatal(err)
	}
	sc.Probes = append(sc.Probes, scenario.Probe{Name: "all", Kind: scenario.ProbeAlloc})
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), sc, Options{StopAtNs: 200e6})
	if err != nil {
		t.Fatal(err)
	}
	deep := 0
	for _, l := range strings.Split(string(res.Files["probes.csv"]), "\n")[1:] {
		f := strings.Split(l, ",")
		if len(f) == 11 && f[9] != "-1" && f[9] != "0" {
			deep++
		}
	}
	if deep == 0 {
		t.Error("no recorded allocation of the heaptrack replay has a stack depth")
	}
}

// sliScenario: a task fills a 256 MiB machine while an SBMP workload's
// live set grows: Tier-1 cannot grow and allocations meet degrade.
const sliScenario = `
[run]
duration_ms = 3000
[machine]
preset = "1-node"
node_memory_mb = 256
[kernel]
swap_mb = 0
[[workload]]
name = "hog"
kind = "task"
cpus = "1"
grow_mb_per_s = 400
rss_mb = 200
[[workload]]
name = "app"
cpus = "0"
rate_per_s = 50000
size_bytes = 1024
lifetime_mean_ms = 3000
`

// TestDegradeSLIBooks: the SLI's counts add up overall, by workload and
// by CPU, name the policy, and a wait the workload's objective cannot
// afford counts as harm.
func TestDegradeSLIBooks(t *testing.T) {
	res := runProbes(t, sliScenario)
	d := res.Summary.DegradeSLI
	if d == nil || d.Met == 0 || d.Policy != "immediate-tier2" {
		t.Fatalf("degrade SLI %+v", d)
	}
	if d.Unharmed+d.Failed+d.OverSLO != d.Met || d.Rate == nil || *d.Rate != float64(d.Unharmed)/float64(d.Met) {
		t.Errorf("counts do not add up: %+v", d.SLICounts)
	}
	var byW, byC uint64
	for _, w := range res.Summary.Workloads {
		byW += w.DegradeSLI.Met
	}
	for _, c := range d.ByCPU {
		byC += c.Met
		if c.CPU != 0 {
			t.Errorf("CPU %d met degrade; the app runs on CPU 0 only", c.CPU)
		}
	}
	if byW != d.Met || byC != d.Met {
		t.Errorf("met %d overall, %d by workload, %d by CPU", d.Met, byW, byC)
	}
	// immediate-tier2 fails only what Tier-2 cannot serve: every failed
	// allocation of the run met degrade first.
	if d.Failed != res.Summary.AllocFailures {
		t.Errorf("failed %d of the degraded, %d in the run", d.Failed, res.Summary.AllocFailures)
	}
	sc := mustParse(t, sliScenario)
	for _, set := range []string{"policy.degrade=wait-refill", "workload.1.slo_latency_ms=0.05"} {
		if err := sc.Set(set); err != nil {
			t.Fatal(err)
		}
	}
	w, err := Run(context.Background(), sc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := w.Summary.DegradeSLI; d.Policy != "wait-refill" || d.OverSLO == 0 || d.Unharmed+d.Failed+d.OverSLO != d.Met {
		t.Errorf("wait-refill with a 50 us objective: %+v", d.SLICounts)
	}
}
