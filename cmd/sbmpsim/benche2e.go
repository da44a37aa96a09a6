package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenarios"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/internal/buildinfo"
)

// E2EBench is the JSON `sbmpsim bench e2e` prints (schema
// sbmpsim.bench-e2e/v2; v1 timed one scenario once and had its figures
// at the top level).
type E2EBench struct {
	// Schema names the layout: "sbmpsim.bench-e2e/v2".
	Schema string `json:"schema"`
	// Version is the build that ran the benchmark (sbmpsim version).
	Version buildinfo.Version `json:"version"`
	// GOMAXPROCS is 1: the simulator is single-threaded, and one P keeps
	// the garbage collector off the other cores too.
	GOMAXPROCS int `json:"gomaxprocs"`
	// NumCPU is the number of CPUs of the machine that ran it.
	NumCPU int `json:"num_cpu"`
	// CPU is the processor's model name (/proc/cpuinfo), when known.
	CPU string `json:"cpu,omitempty"`
	// Count is the number of samples of each scenario, taken in turn
	// (steady, then the default, then the next, then steady again...)
	// so that a change in the machine's load hits them alike.
	Count int `json:"count"`
	// Scenarios are the scenarios timed, in the order named.
	Scenarios []E2EScenario `json:"scenarios"`
	// DefaultVsSteady is the default scenario's median allocations+frees
	// per second over steady's, when both were timed (absent otherwise).
	DefaultVsSteady float64 `json:"default_vs_steady,omitempty"`
	// BytesPerLiveObject is the Go heap in use per live simulated object,
	// measured on LiveObjectsScenario's machine with LiveObjects objects
	// live at the end of a run that only allocates (the engine's pending
	// frees, SBMP's slabs and the kernel model's page state all count);
	// absent with --live-objects 0.
	BytesPerLiveObject float64 `json:"bytes_per_live_object,omitempty"`
	// LiveObjects is the number of objects live in that measurement.
	LiveObjects int64 `json:"live_objects,omitempty"`
	// LiveObjectsScenario is the scenario whose machine it used: the
	// first one timed.
	LiveObjectsScenario string `json:"live_objects_scenario,omitempty"`
}

// E2EScenario is one scenario's samples and their spread. Every sample
// runs the same events (same seed): the counts, the simulated time and
// the trace hash are each sample's, and a sample that differs fails the
// benchmark. Two builds whose trace hashes differ timed different work.
type E2EScenario struct {
	// Scenario is the scenario's run.name.
	Scenario string `json:"scenario"`
	// Window says what a sample times: "the first N allocations+frees"
	// or "the whole run". The clock runs from the first event to the
	// last, after the world is built and before it is summarised.
	Window string `json:"window"`
	// AllocsPlusFrees counts the SBMP workloads' allocations plus frees
	// in the window.
	AllocsPlusFrees uint64 `json:"allocs_plus_frees"`
	// Events counts the events the engine ran in the window.
	Events int64 `json:"events"`
	// SimTimeNs is the simulated time at the end of the window.
	SimTimeNs int64 `json:"sim_time_ns"`
	// TraceHash is the trace hash of the window's events (summary.json's
	// trace_hash of the same run).
	TraceHash string `json:"trace_hash"`
	// MachineGiB is the simulated machine's memory in GiB.
	MachineGiB float64 `json:"machine_gib"`
	// AllocsFreesPerS is simulated allocations plus frees per wall second.
	AllocsFreesPerS Spread `json:"allocs_frees_per_s"`
	// EventsPerS is events per wall second.
	EventsPerS Spread `json:"events_per_s"`
	// WallS is the wall time of a sample in seconds.
	WallS Spread `json:"wall_s"`
	// HeapBytesPerSimGiB is process memory per simulated GiB: the Go heap
	// in use (after a collection) once the world is built, before its
	// first event, less the heap in use before the run, divided by
	// MachineGiB. It covers the kernel model's page state, the
	// allocators, the engine, the workloads and the compiled scenario;
	// the fixed part dominates on a small machine.
	HeapBytesPerSimGiB Spread `json:"heap_bytes_per_sim_gib"`
	// HeapEndBytesPerSimGiB is the same at the end of the window, the
	// world still whole: what the run's use of memory added (the page
	// state of the memory it used, its live objects) is in it. The
	// kernel model keeps page state only where memory has been used, so
	// on a large machine this is the figure that says whether the run
	// fits on a host.
	HeapEndBytesPerSimGiB Spread `json:"heap_end_bytes_per_sim_gib"`
	// Counters show which paths the window exercised: vmstat counters
	// (direct reclaim, compaction, refaults, THP, OOM kills) and the
	// allocations SBMP's Tier-2 served.
	Counters map[string]int64 `json:"counters"`
	// Samples are the samples, in the order taken.
	Samples []E2ESample `json:"samples"`
}

// E2ESample is one timed run.
type E2ESample struct {
	// WallS is its wall time in seconds.
	WallS float64 `json:"wall_s"`
	// AllocsFreesPerS is allocations plus frees per wall second.
	AllocsFreesPerS float64 `json:"allocs_frees_per_s"`
	// EventsPerS is events per wall second.
	EventsPerS float64 `json:"events_per_s"`
	// HeapBytes is the Go heap the built world holds before its first
	// event (the scenario's heap per simulated GiB times its GiB).
	HeapBytes int64 `json:"heap_bytes"`
	// HeapEndBytes is the Go heap the world holds at the end of the
	// window (after a collection, less the heap before the run).
	HeapEndBytes int64 `json:"heap_end_bytes"`
}

// Spread summarises samples: their median, least and greatest.
type Spread struct {
	// Median is the middle sample (the mean of the two middle ones).
	Median float64 `json:"median"`
	// Min is the least sample.
	Min float64 `json:"min"`
	// Max is the greatest sample.
	Max float64 `json:"max"`
}

func spreadOf(xs []float64) Spread {
	s := slices.Sorted(slices.Values(xs))
	if len(s) == 0 {
		return Spread{}
	}
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + m) / 2
	}
	return Spread{Median: m, Min: s[0], Max: s[len(s)-1]}
}

// e2eDefaults are the scenarios bench e2e times when none is named:
// SBMP's fast path, the default scenario (the kernel-pressure path), and
// one with compaction and thrashing (THP faults that compact and migrate,
// a page cache refaulting, then an OOM kill).
var e2eDefaults = []string{"steady", scenarios.Default, "oom-crisis-user"}

// e2eDefaultOps is --ops's default: about 1 s of steady on this
// project's 2-core VM.
const e2eDefaultOps = 10_000_000

// e2eCaseOf returns the overrides bench e2e puts under the user's --set
// for a scenario, and whether a sample is its whole run unless --ops is
// given.
//
// steady is stationary, so it runs for as long as --ops takes (it does
// about 200,000 operations per simulated second). The OOM crises reach
// their costly part late: the default scenario is under pressure from
// 4.8 s, its page cache is gone at about 36 s, and from then to the kill
// (54 s) and the end (60 s) each operation costs most; oom-crisis-user
// compacts and thrashes until its kill at about 35 s. A fixed count
// from the start would time mostly the fast path, so a sample is the
// whole 60 s run (seed 1: about 8.2 and 4.5 M operations).
func e2eCaseOf(name string) (sets []string, wholeRun bool) {
	switch name {
	case "steady":
		return []string{"run.duration_ms=3600000"}, false
	case scenarios.Default, "oom-crisis-user":
		return nil, true
	}
	return nil, false
}

// e2eFlags are bench e2e's flags; bench all has them too.
type e2eFlags struct {
	ops   int64
	count int
	live  int64
	sets  []string
}

func (f *e2eFlags) define(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.Int64Var(&f.ops, "ops", e2eDefaultOps, "allocations+frees per sample (0: the whole run); by default the OOM-crisis scenarios are timed over their whole run")
	fl.IntVar(&f.count, "count", 6, "samples of each scenario (6, the fewest for which benchstat gives a 95 % interval)")
	fl.Int64Var(&f.live, "live-objects", 1_000_000, "live objects for the memory measurement (0 skips it)")
	setFlag(cmd, &f.sets, "override a scenario key in every scenario (repeatable)")
}

// e2eJob is one scenario to time, loaded and validated.
type e2eJob struct {
	sc  *scenario.Scenario
	ops int64 // 0: the whole run
}

// e2eJobs loads the scenarios named (the defaults when none is) with
// their overrides, so that a bad name or key fails before any timing.
func (f *e2eFlags) jobs(cmd *cobra.Command, names []string) ([]e2eJob, error) {
	if f.count < 1 || f.ops < 0 || f.live < 0 {
		return nil, usageError{fmt.Errorf("--count must be at least 1, --ops and --live-objects at least 0; got %d, %d, %d", f.count, f.ops, f.live)}
	}
	if len(names) == 0 {
		names = e2eDefaults
	}
	var jobs []e2eJob
	for _, name := range names {
		sets, whole := e2eCaseOf(name)
		sc, err := loadScenario(cmd, []string{name}, append(sets, f.sets...), 0)
		if err != nil {
			return nil, err
		}
		ops := f.ops
		if whole && !cmd.Flags().Changed("ops") {
			ops = 0
		}
		jobs = append(jobs, e2eJob{sc: sc, ops: ops})
	}
	return jobs, nil
}

// runE2E times every job count times, in turn, and measures the memory
// per live object on the first job's machine. Progress lines go to
// progress.
func runE2E(ctx context.Context, jobs []e2eJob, f *e2eFlags, progress io.Writer) (*E2EBench, error) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	out := &E2EBench{
		Schema: "sbmpsim.bench-e2e/v2", Version: buildinfo.Current(), GOMAXPROCS: 1,
		NumCPU: runtime.NumCPU(), CPU: cpuModel(), Count: f.count,
	}
	out.Scenarios = make([]E2EScenario, len(jobs))
	for rep := range f.count {
		for i, j := range jobs {
			s, sum, err := e2eSample(ctx, j)
			if err != nil {
				return nil, err
			}
			if err := out.Scenarios[i].add(j, s, sum); err != nil {
				return nil, err
			}
			fmt.Fprintf(progress, "bench e2e: %s %d/%d: %.3g M allocations+frees/s, %.3g M events/s, %.2f s, heap %.3g MiB per simulated GiB at the end\n",
				sum.Scenario, rep+1, f.count, s.AllocsFreesPerS/1e6, s.EventsPerS/1e6, s.WallS, float64(s.HeapEndBytes)/(1<<20)/out.Scenarios[i].MachineGiB)
		}
	}
	medians := map[string]float64{}
	for i := range out.Scenarios {
		out.Scenarios[i].summarise()
		medians[out.Scenarios[i].Scenario] = out.Scenarios[i].AllocsFreesPerS.Median
	}
	if d, s := medians[scenarios.Default], medians["steady"]; d > 0 && s > 0 {
		out.DefaultVsSteady = d / s
	}
	if f.live > 0 && len(jobs) > 0 {
		var err error
		out.BytesPerLiveObject, out.LiveObjects, err = bytesPerLiveObject(jobs[0].sc, f.live)
		if err != nil {
			return nil, err
		}
		out.LiveObjectsScenario = jobs[0].sc.Run.Name
	}
	return out, nil
}

// e2eSample runs j once and times it from its first event to its last.
func e2eSample(ctx context.Context, j e2eJob) (E2ESample, *world.Summary, error) {
	ops := j.ops
	if ops == 0 {
		ops = math.MaxInt64 // the whole run, through the same loop
	}
	var before, built, end runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var start time.Time
	var wall time.Duration
	res, err := world.Run(ctx, j.sc, world.Options{
		StopAfterOps: ops,
		AtStart: func() {
			runtime.GC()
			runtime.ReadMemStats(&built)
			start = time.Now()
		},
		AtEnd: func() {
			wall = time.Since(start)
			runtime.GC()
			runtime.ReadMemStats(&end)
		},
	})
	if err != nil {
		return E2ESample{}, nil, err
	}
	sum := &res.Summary
	s := E2ESample{WallS: wall.Seconds(), HeapBytes: int64(built.HeapInuse) - int64(before.HeapInuse),
		HeapEndBytes: int64(end.HeapInuse) - int64(before.HeapInuse)}
	if s.WallS > 0 {
		s.AllocsFreesPerS = float64(sum.Allocs+sum.Frees) / s.WallS
		s.EventsPerS = float64(sum.Events) / s.WallS
	}
	return s, sum, nil
}

// e2eCounters are the summary's counters E2EScenario.Counters shows.
var e2eCounters = []string{
	"pgscan_direct", "compact_stall", "compact_success", "pgmigrate_success",
	"workingset_refault_file", "thp_fault_alloc", "oom_kill",
}

// add records one sample of j, whose run is sum; every sample must run
// the same events.
func (e *E2EScenario) add(j e2eJob, s E2ESample, sum *world.Summary) error {
	if len(e.Samples) == 0 {
		e.Scenario, e.TraceHash = sum.Scenario, sum.TraceHash
		e.AllocsPlusFrees, e.Events, e.SimTimeNs = sum.Allocs+sum.Frees, sum.Events, sum.SimTimeNs
		switch {
		case j.ops == 0:
			e.Window = "the whole run"
		case e.AllocsPlusFrees < uint64(j.ops):
			e.Window = fmt.Sprintf("the whole run, which ends before %d allocations+frees", j.ops)
		default:
			e.Window = fmt.Sprintf("the first %d allocations+frees", j.ops)
		}
		topo, err := j.sc.Machine.Topology()
		if err != nil {
			return err
		}
		e.MachineGiB = float64(topo.TotalMemoryMB()) / 1024
		e.Counters = map[string]int64{"tier2_allocs": int64(sum.TierAllocs.Tier2)}
		for _, k := range e2eCounters {
			e.Counters[k] = sum.VMStat[k]
		}
	} else if sum.TraceHash != e.TraceHash || sum.Events != e.Events || sum.Allocs+sum.Frees != e.AllocsPlusFrees {
		return fmt.Errorf("bench e2e: %s: sample %d ran %d events (trace %s), the first %d (trace %s): the run is not deterministic",
			e.Scenario, len(e.Samples)+1, sum.Events, sum.TraceHash, e.Events, e.TraceHash)
	}
	e.Samples = append(e.Samples, s)
	return nil
}

// summarise fills the spreads from the samples.
func (e *E2EScenario) summarise() {
	pick := func(f func(E2ESample) float64) Spread {
		xs := make([]float64, len(e.Samples))
		for i, s := range e.Samples {
			xs[i] = f(s)
		}
		return spreadOf(xs)
	}
	e.AllocsFreesPerS = pick(func(s E2ESample) float64 { return s.AllocsFreesPerS })
	e.EventsPerS = pick(func(s E2ESample) float64 { return s.EventsPerS })
	e.WallS = pick(func(s E2ESample) float64 { return s.WallS })
	if e.MachineGiB > 0 {
		e.HeapBytesPerSimGiB = pick(func(s E2ESample) float64 { return float64(s.HeapBytes) / e.MachineGiB })
		e.HeapEndBytesPerSimGiB = pick(func(s E2ESample) float64 { return float64(s.HeapEndBytes) / e.MachineGiB })
	}
}

// bytesPerLiveObject measures the memory each additional live object
// costs: it runs the scenario's machine with one workload that
// allocates n/2 and then n 64-byte objects over one simulated second, each
// living far longer than the run (so it holds its pending free, as any
// long-lived object does), and divides the difference in Go heap in use
// at the end of the two runs by the difference in live objects. The fixed
// cost of the machine model (per-page state) cancels out.
func bytesPerLiveObject(base *scenario.Scenario, n int64) (float64, int64, error) {
	heapAt := func(objects int64) (uint64, int64, error) {
		sc := base.Clone()
		for _, s := range []string{
			"run.duration_ms=1000",
			fmt.Sprintf(`workload=[{name="live", cpus="0-31", rate_per_s=%d, size_bytes=64, lifetime_mean_ms=1e6}]`, objects),
		} {
			if err := sc.Set(s); err != nil {
				return 0, 0, err
			}
		}
		if err := sc.Validate(); err != nil {
			return 0, 0, err
		}
		var ms runtime.MemStats
		runtime.GC()
		res, err := world.Run(context.Background(), sc, world.Options{AtEnd: func() {
			runtime.GC()
			runtime.ReadMemStats(&ms)
		}})
		if err != nil {
			return 0, 0, err
		}
		return ms.HeapInuse, res.Summary.ObjectsLiveEnd, nil
	}
	h1, l1, err := heapAt(n / 2)
	if err != nil {
		return 0, 0, err
	}
	h2, l2, err := heapAt(n)
	if err != nil {
		return 0, 0, err
	}
	if l2 == l1 {
		return 0, l2, fmt.Errorf("bench e2e: --live-objects %d: as many objects live (%d) with half of them", n, l2)
	}
	return float64(int64(h2)-int64(h1)) / float64(l2-l1), l2, nil
}
