package world

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/model/kernel"
)

// long skips a test whose worth is its statistics or its length under
// -short (the race pass of .ci/run); the plain `go test ./...` runs it.
func long(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("long statistical test; runs without -short")
	}
}

// runSrc parses, validates and runs a scenario given as TOML text.
func runSrc(t *testing.T, src string) *Result {
	t.Helper()
	res, err := runPlain(mustParse(t, src))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// within fails the test unless got is within tol of want.
func within(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	t.Logf("%s: got %.6g, want %.6g ± %.3g", what, got, want, tol)
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.6g, want %.6g ± %.3g", what, got, want, tol)
	}
}

// TestLittlesLawAcrossLifetimes: for every lifetime distribution with a
// finite mean, the time-averaged live count is lambda times the mean
// lifetime (Little's law holds for any lifetime distribution). Sizes and
// arrivals vary too, which must not matter.
func TestLittlesLawAcrossLifetimes(t *testing.T) {
	long(t)
	const lambda = 50000.0
	tests := []struct {
		name, keys string
		meanLifeMs float64
	}{
		{"exponential", `lifetime = "exponential"` + "\nlifetime_mean_ms = 10", 10},
		{"lognormal", `lifetime = "lognormal"` + "\nlifetime_median_ms = 5\nlifetime_sigma = 1", 5 * math.Exp(0.5)},
		{"pareto", `lifetime = "pareto"` + "\nlifetime_alpha = 3\nlifetime_min_ms = 4", 3 * 4.0 / 2},
		{"exponential, discrete sizes", `lifetime_mean_ms = 10` + "\nsize = \"discrete\"\nsizes_bytes = [64, 256, 1024]\nsize_weights = [5, 3, 2]", 10},
		{"exponential, lognormal sizes", `lifetime_mean_ms = 10` + "\nsize = \"lognormal\"\nsize_median_bytes = 200\nsize_sigma = 0.7\nsize_max_bytes = 4000", 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runSrc(t, `
[run]
duration_ms = 20000
[[workload]]
name = "a"
cpus = "0-3"
rate_per_s = 50000
`+tt.keys+"\n")
			want := lambda * tt.meanLifeMs / 1000
			within(t, "objects_live_time_avg", res.Summary.ObjectsLiveTimeAvg, want, 0.02*want)
		})
	}
}

// TestSizeDistributionsReachTheAllocator: the bytes allocated per
// allocation match each size distribution's mean.
func TestSizeDistributionsReachTheAllocator(t *testing.T) {
	long(t)
	tests := []struct {
		name, keys string
		mean       float64
		relTol     float64
	}{
		{"fixed", "size_bytes = 200", 200, 0},
		{"discrete", "size = \"discrete\"\nsizes_bytes = [64, 256, 1024]\nsize_weights = [5, 3, 2]", 0.5*64 + 0.3*256 + 0.2*1024, 0.01},
		// Unclamped lognormal: mean = median * exp(sigma^2/2).
		{"lognormal", "size = \"lognormal\"\nsize_median_bytes = 300\nsize_sigma = 0.5", 300 * math.Exp(0.125), 0.01},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runSrc(t, `
[run]
duration_ms = 5000
[[workload]]
name = "a"
cpus = "0-1"
rate_per_s = 50000
lifetime_mean_ms = 1
`+tt.keys+"\n")
			w := res.Summary.Workloads[0]
			got := float64(w.BytesAllocated) / float64(w.Allocs)
			within(t, "bytes per allocation", got, tt.mean, tt.relTol*tt.mean)
		})
	}
}

// TestArrivalProcesses: each arrival process delivers the expected count
// (the integral of its rate), within four standard deviations.
func TestArrivalProcesses(t *testing.T) {
	long(t)
	tests := []struct {
		name, keys string
		want, sd   float64
	}{
		{"poisson with load factor", "rate_per_s = 10000\nload_factor = 2.5", 25000 * 20, math.Sqrt(25000 * 20)},
		// Two periods of the sine: the integral is the mean rate times
		// the time.
		{"diurnal", "arrival = \"diurnal\"\nrate_per_s = 20000\ndiurnal_amplitude = 0.8\ndiurnal_period_ms = 10000", 20000 * 20, math.Sqrt(20000 * 20)},
		// Long-run rate (10000*9 + 200000*1)/10 = 29000/s. The time spent
		// in the high state over T has variance about
		// 2 p (1-p) tau T with p = 0.1 and tau = 1/(1/9 + 1/1) ms.
		{"mmpp", "arrival = \"mmpp\"\nrate_low_per_s = 10000\nrate_high_per_s = 200000\nlow_mean_ms = 9\nhigh_mean_ms = 1",
			29000 * 20, math.Hypot(190000*math.Sqrt(2*0.1*0.9*0.0009*20), math.Sqrt(29000*20))},
		// 10000/s for 5 s, silence for 5 s, 50000/s for the last 10 s.
		{"phases", "arrival = \"phases\"\nphase_start_ms = [0, 5000, 10000]\nphase_rate_per_s = [10000, 0, 50000]", 50000 + 500000, math.Sqrt(550000)},
		{"stop_ms", "rate_per_s = 10000\nstart_ms = 2000\nstop_ms = 7000", 50000, math.Sqrt(50000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runSrc(t, `
[run]
duration_ms = 20000
[output]
sample_interval_ms = 1000
[[workload]]
name = "a"
cpus = "0-3"
lifetime_mean_ms = 1
`+tt.keys+"\n")
			within(t, "allocations", float64(res.Summary.Allocs), tt.want, 4*tt.sd)
			if tt.name == "phases" {
				allocsAt := func(ms int) float64 { return res.Timeseries.Rows[ms/1000][3] }
				if allocsAt(5000) == 0 || allocsAt(10000) != allocsAt(5000) {
					t.Errorf("allocations at 5 s and 10 s: %v and %v; want some, then none during the silent phase", allocsAt(5000), allocsAt(10000))
				}
			}
			if tt.name == "stop_ms" {
				if got := res.Timeseries.Rows[2][3]; got != 0 {
					t.Errorf("%v allocations before start_ms", got)
				}
			}
		})
	}
}

// TestLeakFraction: a fraction of objects is never freed, so the live
// count at the end is the leaked ones plus lambda*L.
func TestLeakFraction(t *testing.T) {
	res := runSrc(t, `
[run]
duration_ms = 10000
[[workload]]
name = "a"
cpus = "0-3"
rate_per_s = 20000
lifetime_mean_ms = 5
leak_fraction = 0.05
`)
	s := res.Summary
	n := float64(s.Allocs)
	want := 0.05*n + 20000*0.005
	within(t, "objects live at the end", float64(s.ObjectsLiveEnd), want, 4*math.Sqrt(n*0.05*0.95)+4*math.Sqrt(100))
}

// TestThreadMigration: threads move at the given rate, possibly to the
// other socket, and their objects are still freed correctly (SBMP routes
// remote frees home).
func TestThreadMigration(t *testing.T) {
	res := runSrc(t, `
[run]
duration_ms = 10000
[[workload]]
name = "a"
cpus = "0-3"
threads = 8
rate_per_s = 20000
lifetime_mean_ms = 50
migrate_per_s = 500
migrate_cpus = "0-31"
`)
	w := res.Summary.Workloads[0]
	within(t, "migrations", float64(w.Migrations), 5000, 4*math.Sqrt(5000))
	if w.Allocs-w.Frees != uint64(w.ObjectsLiveEnd) {
		t.Fatalf("allocs %d - frees %d != live %d", w.Allocs, w.Frees, w.ObjectsLiveEnd)
	}
}

// TestProcessesAreSeparate: two processes with their own allocators; the
// one in a small cgroup is OOM-killed inside it, its workload stops and
// its live objects are lost with it, while the other runs on.
func TestProcessesAreSeparate(t *testing.T) {
	res := runSrc(t, `
[run]
duration_ms = 3000
[[kernel.cgroup]]
path = "/small"
max_mb = 64
[[process]]
name = "victim"
cgroup = "/small"
[[workload]]
name = "ok"
cpus = "0-3"
rate_per_s = 20000
lifetime_mean_ms = 10
[[workload]]
name = "leaker"
process = "victim"
cpus = "4-7"
rate_per_s = 50000
size_bytes = 1024
lifetime = "forever"
`)
	s := res.Summary
	if len(s.Processes) != 2 || s.Processes[0].Name != "sbmp-app" || s.Processes[1].Name != "victim" {
		t.Fatalf("processes %+v", s.Processes)
	}
	v := s.Processes[1]
	if v.DiedOf != "oom-kill" || s.OOMKills != 1 || s.OOMEvents[0].Scope != "memcg:/small" || s.OOMEvents[0].VictimComm != "victim" {
		t.Fatalf("victim %+v, oom events %+v", v, s.OOMEvents)
	}
	leaker := s.Workloads[1]
	// 64 MiB of 1 KiB objects is at most 65536; the process dies there.
	if leaker.ObjectsLost == 0 || leaker.ObjectsLiveEnd != 0 || leaker.Allocs > 65536 {
		t.Fatalf("leaker %+v", leaker)
	}
	if s.Processes[0].DiedNs != -1 || s.Workloads[0].Allocs < 50000 {
		t.Fatalf("sbmp-app %+v, workload %+v: want it alive and allocating", s.Processes[0], s.Workloads[0])
	}
}

// TestKmallocLeak: 256-byte objects pack 16 to a slab page; 64 MiB of
// objects is 262144 objects on 16384 kernel pages, which no reclaim takes.
func TestKmallocLeak(t *testing.T) {
	res := runSrc(t, `
[run]
duration_ms = 2000
[[workload]]
name = "leak"
kind = "kmalloc-leak"
size_bytes = 200
grow_mb_per_s = 100
rss_mb = 64
`)
	k := res.Summary.KernelWorkloads
	if len(k) != 1 || k[0].ObjectsLeaked != 64<<20/200+1 || k[0].SlabPages != (64<<20/200+1+15)/16 || k[0].Failures != 0 {
		t.Fatalf("kmalloc leak %+v; want %d objects on %d pages", k, 64<<20/200+1, (64<<20/200+1+15)/16)
	}
}

// TestMlockIsNeverSwapped: under pressure with swap, an ordinary task's
// pages are swapped out while the mlocked task keeps every page resident.
func TestMlockIsNeverSwapped(t *testing.T) {
	skipUnderRace(t)
	res := runSrc(t, `
[run]
duration_ms = 6000
[machine]
node_memory_mb = 1024
[kernel]
swap_mb = 4096
swappiness = 100
[[workload]]
name = "pinned"
kind = "mlock"
grow_mb_per_s = 1000
rss_mb = 600
[[workload]]
name = "hog"
kind = "task"
cpus = "16"
grow_mb_per_s = 1000
rss_mb = 2500
`)
	s := res.Summary
	var pinned, hog TaskSummary
	for _, tk := range s.Kernel.Tasks {
		switch tk.Comm {
		case "pinned":
			pinned = tk
		case "hog":
			hog = tk
		}
	}
	if pinned.RSSAnonPages != 600<<8 || pinned.SwapEntries != 0 {
		t.Fatalf("mlocked task %+v: want all 153600 pages resident", pinned)
	}
	if hog.SwapEntries == 0 || s.OOMKills != 0 {
		t.Fatalf("hog %+v, oom kills %d: want the hog swapped, no OOM", hog, s.OOMKills)
	}
}

// TestPageCacheReader: a reader keeps its file set cached when memory is
// plentiful (misses = the set, once), pays a disk read for each miss
// (which delays it in the closed loop, not in the ignore loop), and
// refaults when a memory hog squeezes the page cache.
func TestPageCacheReader(t *testing.T) {
	const reader = `
[run]
duration_ms = 8000
[machine]
node_memory_mb = 1024
[[workload]]
name = "reader"
kind = "page-cache"
page_cache_mb = 512
grow_mb_per_s = 512
`
	// Reads are uniform over the set: after reading r pages of a set of
	// S, S(1 - exp(-r/S)) have been missed once (sd about 130 here);
	// here r/S = 8.
	calm := runSrc(t, reader+"loop = \"ignore\"\n").Summary.KernelWorkloads[0]
	// 512 MiB/s is 131.072 pages a 1 ms tick, the fractions carried.
	perTick := 512 * 256 / 1000.0
	const set = 512 << 8
	within(t, "misses", float64(calm.PagesMissed), set*(1-math.Exp(-float64(calm.PagesRead)/set)), 0.002*set)
	if want := int64(8001 * perTick); calm.PagesRead != want {
		t.Fatalf("calm reader %+v: want %d pages read in 8001 ticks of %g", calm, want, perTick)
	}
	// Nothing to reclaim: the stall is the disk reads and the kernel's
	// time around them, one per miss, and the read(2) of each hit.
	readTime := func(s KernelWorkloadSummary) int64 {
		return s.PagesMissed*(kernel.DefaultReadNsPerPage+kernel.DefaultReadCPUNsPerPage) + (s.PagesRead-s.PagesMissed)*kernel.DefaultReadHitNs
	}
	if calm.StallNs != readTime(calm) {
		t.Fatalf("calm reader stalled %d ns for %d misses and %d hits, want %d", calm.StallNs, calm.PagesMissed, calm.PagesRead-calm.PagesMissed, readTime(calm))
	}
	closed := runSrc(t, reader).Summary.KernelWorkloads[0]
	if closed.PagesRead >= calm.PagesRead || closed.StallNs != readTime(closed) {
		t.Fatalf("closed-loop reader %+v: want fewer reads than %d, each miss a disk read", closed, calm.PagesRead)
	}
	squeezed := runSrc(t, reader+`
[[workload]]
name = "hog"
kind = "task"
grow_mb_per_s = 400
rss_mb = 1700
`).Summary
	r := squeezed.KernelWorkloads[0]
	if r.Refaults == 0 || squeezed.VMStat["workingset_refault_file"] != r.Refaults || squeezed.Kernel.PagesReclaimedFile == 0 {
		t.Fatalf("squeezed reader %+v, vmstat refaults %d, file pages reclaimed %d: want refaults", r, squeezed.VMStat["workingset_refault_file"], squeezed.Kernel.PagesReclaimedFile)
	}
	t.Logf("misses: calm %d, closed %d of %d reads, squeezed %d (%d refaults; reclaimed file pages %d)",
		calm.PagesMissed, closed.PagesMissed, closed.PagesRead, r.PagesMissed, r.Refaults, squeezed.Kernel.PagesReclaimedFile)
}

// TestFleet: count makes several tasks that the OOM killer weighs one by
// one.
func TestFleet(t *testing.T) {
	res := runSrc(t, `
[run]
duration_ms = 3000
[machine]
node_memory_mb = 512
[[workload]]
name = "web"
kind = "task"
count = 6
grow_mb_per_s = 100
rss_mb = 100
oom_score_adj = 500
`)
	s := res.Summary
	if len(s.Kernel.Tasks) != 6 || s.Kernel.Tasks[5].Comm != "web-5" || s.Kernel.Tasks[5].OOMScoreAdj != 500 {
		t.Fatalf("tasks %+v", s.Kernel.Tasks)
	}
	if k := s.KernelWorkloads[0]; k.Tasks != 6 || k.Name != "web" {
		t.Fatalf("fleet summary %+v", k)
	}
}

// TestFaults: a NUMA latency spike makes cross-node refills slower, a
// leak fault leaks at its rate, and a node going offline moves its pages.
func TestFaults(t *testing.T) {
	long(t)
	// Interleaved refills take slots from both nodes, so half of them
	// cross the link.
	const base = `
[run]
duration_ms = 4000
[policy]
refill = "interleave"
[[workload]]
name = "a"
cpus = "16-31"
rate_per_s = 100000
size_bytes = 256
lifetime_mean_ms = 20
[[workload]]
name = "hog"
kind = "task"
cpus = "16"
grow_mb_per_s = 2000
rss_mb = 3900
`
	calm := runSrc(t, base).Summary
	spike := runSrc(t, base+`
[[fault]]
kind = "numa-latency"
at_ms = 0
latency_factor = 50
bandwidth_factor = 10
`).Summary
	if calm.SBMP.RefillsRemote == 0 {
		t.Fatalf("no remote refills in the baseline: the test does not exercise the links")
	}
	if spike.AllocStallNs <= calm.AllocStallNs {
		t.Errorf("alloc stall %d with the latency spike, %d without", spike.AllocStallNs, calm.AllocStallNs)
	}
	t.Logf("alloc_stall_ns: calm %d, spike %d (remote refills %d)", calm.AllocStallNs, spike.AllocStallNs, calm.SBMP.RefillsRemote)

	leak := runSrc(t, base+`
[[fault]]
kind = "leak"
workload = "a"
at_ms = 1000
duration_ms = 2000
rate_mb_per_s = 8
`).Summary
	// 16 MiB of 256-byte objects: 65536, a Poisson count.
	f := leak.Faults[0]
	within(t, "leaked bytes", float64(f.BytesLeaked), 16<<20, 4*256*math.Sqrt(65536))
	if f.LeakFailures != 0 || leak.Workloads[0].BytesLeaked != f.BytesLeaked {
		t.Errorf("leak fault %+v, workload %+v", f, leak.Workloads[0])
	}

	off := runSrc(t, `
[run]
duration_ms = 3000
[[workload]]
name = "a"
cpus = "16-31"
rate_per_s = 50000
size_bytes = 1024
lifetime = "forever"
[[fault]]
kind = "node-offline"
node = 1
at_ms = 1000
duration_ms = 1000
`).Summary
	o := off.Faults[0]
	if o.Error != "" || o.PagesMigrated == 0 || o.PagesIsolated == 0 {
		t.Fatalf("node offline %+v: want the app's pages migrated off node 1", o)
	}
	if off.AllocFailures != 0 || off.OOMKills != 0 {
		t.Fatalf("alloc failures %d, oom kills %d while node 1 was offline", off.AllocFailures, off.OOMKills)
	}
}

// TestEveryFeatureIsDeterministic runs a scenario using every workload
// kind and fault twice.
func TestEveryFeatureIsDeterministic(t *testing.T) {
	const src = `
[run]
duration_ms = 3000
[kernel]
swap_mb = 512
[[process]]
name = "db"
oom_score_adj = -100
[[workload]]
name = "a"
cpus = "0-7"
threads = 12
arrival = "mmpp"
size = "lognormal"
size_median_bytes = 100
lifetime = "pareto"
leak_fraction = 0.01
migrate_per_s = 50
[[workload]]
name = "b"
process = "db"
cpus = "16-23"
arrival = "diurnal"
diurnal_period_ms = 1000
rate_per_s = 20000
size = "discrete"
sizes_bytes = [64, 1024, 9000]
size_weights = [1, 1, 0.1]
[[workload]]
name = "pin"
kind = "mlock"
rss_mb = 100
[[workload]]
name = "cache"
kind = "page-cache"
page_cache_mb = 300
[[workload]]
name = "k"
kind = "kmalloc-leak"
grow_mb_per_s = 20
[[fault]]
kind = "numa-latency"
at_ms = 500
duration_ms = 1000
[[fault]]
kind = "leak"
workload = "b"
at_ms = 1000
`
	a := runSrc(t, src).Summary
	b := runSrc(t, src).Summary
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("two runs differ:\n%+v\n%+v", a, b)
	}
}

// TestPolicySwap: swapping the allocator mid-run (SPEC 2.4) loses
// nothing: every object allocated before the swap is freed by the old
// allocator, the books balance, and the new policies take over at once
// (fail-fast from the swap on: the degraded allocations now fail instead
// of going to Tier-2).
func TestPolicySwap(t *testing.T) {
	src := `
[run]
duration_ms = 3000
[[workload]]
name = "a"
cpus = "0-31"
rate_per_s = 100000
size_bytes = 256
lifetime_mean_ms = 200
[[fault]]
kind = "policy-swap"
at_ms = 1000
merge = "eager"
refill = "adaptive-batch"
`
	s := runSrc(t, src).Summary
	f := s.Faults[0]
	if f.Swapped != 1 || f.SwapFlushNs <= 0 {
		t.Fatalf("swap %+v", f)
	}
	w := s.Workloads[0]
	if w.Allocs-w.Frees != uint64(w.ObjectsLiveEnd) || w.AllocFailures != 0 || s.AllocFailures != 0 {
		t.Fatalf("workload %+v after the swap", w)
	}
	// Without the swap: the same until 1 s, and the adaptive batches of
	// the new allocator show after it (a different number of refills).
	plainRes := runSrc(t, src[:strings.Index(src, "[[fault]]")])
	swapped := runSrc(t, src)
	for i, row := range plainRes.Timeseries.Rows {
		if row[0] >= 1e9 {
			break
		}
		if !reflect.DeepEqual(row, swapped.Timeseries.Rows[i]) {
			t.Fatalf("the runs differ before the swap, at %v ns", row[0])
		}
	}
	if plainRes.Summary.SBMP.Refills == s.SBMP.Refills {
		t.Errorf("%d refills with the swap to adaptive batches, the same without", s.SBMP.Refills)
	}
	t.Logf("swap flush %d ns; refills %d vs %d; p99 latency %d vs %d ns", f.SwapFlushNs, s.SBMP.Refills, plainRes.Summary.SBMP.Refills, s.AllocLatencyNs.P99, plainRes.Summary.AllocLatencyNs.P99)
}

// TestSweepBlocksGrowth: a task with touch_interval_ms sweeps all its
// memory in one go every interval, as the real worker does. While swapped
// pages come back in, the sweep holds the closed-loop task's growth (it
// grows less than the same task with loop "ignore", by about the sweeps'
// stall), and a task at its target keeps sweeping (swap-ins go on after it
// stopped growing).
func TestSweepBlocksGrowth(t *testing.T) {
	skipUnderRace(t)
	const src = `
[run]
duration_ms = 5000
[machine]
node_memory_mb = 1024
[kernel]
swap_mb = 1024
swappiness = 60
[[kernel.cgroup]]
path = "/box"
max_mb = 128
swap_max_mb = 768
[[workload]]
name = "app"
kind = "task"
cgroup = "/box"
grow_mb_per_s = 64
touch_interval_ms = 1000
`
	closed := runSrc(t, src).Summary
	open := runSrc(t, src+"loop = \"ignore\"\n").Summary
	c, o := closed.KernelWorkloads[0], open.KernelWorkloads[0]
	if o.PagesGot != 5001*64<<8/1000 {
		t.Fatalf("open-loop app %+v: want 5001 ticks of 64 MiB/s", o)
	}
	if c.StallNs == 0 || c.PagesGot >= o.PagesGot {
		t.Fatalf("closed-loop app %+v against open %+v: want its sweeps' stall to cost growth", c, o)
	}
	// 64 MiB/s is 16384 pages a second: the closed loop loses about its
	// stall's worth of growth (a tick absorbs a stall shorter than it).
	lost := float64(o.PagesGot-c.PagesGot) / (64 << 8)
	if stall := float64(c.StallNs) / 1e9; lost > stall*1.05 || lost < stall*0.5 {
		t.Errorf("closed-loop app lost %.2f s of growth for %.2f s of stall", lost, stall)
	}
	t.Logf("closed: %d pages, stall %.2f s; open: %d pages, stall %.2f s", c.PagesGot, float64(c.StallNs)/1e9, o.PagesGot, float64(o.StallNs)/1e9)

	// At 160 MiB from 2.5 s on, the app only sweeps: it keeps swapping
	// its pages back in to the end.
	res := runSrc(t, src+"rss_mb = 160\n")
	ts := res.Timeseries
	col := slices.Index(ts.Columns, "pswpin")
	at := func(ns float64) float64 {
		for _, r := range ts.Rows {
			if r[0] >= ns {
				return r[col]
			}
		}
		return ts.Rows[len(ts.Rows)-1][col]
	}
	if got := res.Summary.KernelWorkloads[0].PagesGot; got != 160<<8 {
		t.Fatalf("app got %d pages, want its 160 MiB target", got)
	}
	if in3, in5 := at(3e9), at(5e9); in5 <= in3 || res.Summary.OOMKills != 0 {
		t.Fatalf("app at its target: pswpin %g at 3 s, %g at 5 s, %d OOM kills: want swap-ins to go on, no kill", in3, in5, res.Summary.OOMKills)
	}
}
