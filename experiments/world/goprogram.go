package world

import (
	"bytes"
	"fmt"
	"math"
	"slices"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/stats"
	"github.com/sbmpsim/sbmpsim/model/goruntime"
	"github.com/sbmpsim/sbmpsim/model/workload"
	"github.com/sbmpsim/sbmpsim/sim"
)

// goWorkload is a [[workload]] of kind "go-runtime": a Go program
// (package goruntime: mutator, GC pacer, STW pauses, sweeper, scavenger)
// whose heap objects are allocated from its process's SBMP allocator.
// The process's RSS is what SBMP holds from the kernel model, so GOGC and
// GOMEMLIMIT act against cgroup limits and the OOM killer as in SPEC 5.
type goWorkload struct {
	wstats
	r       *run
	proc    *sbmpSide
	prog    *goruntime.Program
	trace   *bytes.Buffer // gctrace lines, when asked for
	kExit   sim.Kind
	maxWait int // retries of a waiting allocation before it counts as failed
}

// GoRuntimeSummary is a go-runtime workload's end state, in
// runtime.MemStats terms, with the GC record figures SPEC 4.3 and 5.3
// compare (GC interval and its spread, STW pauses).
type GoRuntimeSummary struct {
	HeapAllocEnd   int64   `json:"heap_alloc_end"`
	HeapAllocPeak  int64   `json:"heap_alloc_peak"`
	NextGCEnd      int64   `json:"next_gc_end"`
	NumGC          int64   `json:"num_gc"`
	NumForcedGC    int64   `json:"num_forced_gc"`
	LimitedGCs     int64   `json:"limited_gcs"`
	PauseTotalNs   int64   `json:"pause_total_ns"`
	PauseMedianNs  int64   `json:"pause_median_ns"`
	PauseMaxNs     int64   `json:"pause_max_ns"`
	GCIntervalMean float64 `json:"gc_interval_mean_ns"`
	GCIntervalSD   float64 `json:"gc_interval_sd_ns"`
	FirstGCNs      int64   `json:"first_gc_ns"` // -1: none
	GCCPUFraction  float64 `json:"gc_cpu_fraction"`
	TotalAlloc     int64   `json:"total_alloc"`
	Mallocs        int64   `json:"mallocs"`
	Frees          int64   `json:"frees"`
	LiveSetBytes   int64   `json:"live_set_bytes_end"`
	LeakedBytes    int64   `json:"leaked_bytes"`
	ScavengedBytes int64   `json:"scavenged_bytes"`
	// Died is "alive", "fatal error: out of memory" or "killed" (the OOM
	// killer); DiedNs is when (-1: alive).
	Died   string `json:"died"`
	DiedNs int64  `json:"died_ns"`
}

func (r *run) addGoRuntime(sc *scenario.Scenario, i int, w scenario.Workload, seeds sim.Seeds, proc *sbmpSide) error {
	where := fmt.Sprintf("workload %d (%s)", i, w.Name)
	cpus, err := scenario.ParseCPUList(w.CPUs)
	if err != nil {
		return fmt.Errorf("%s: cpus: %w", where, err)
	}
	for _, c := range cpus {
		if err := r.kernel.checkCPU(c); err != nil {
			return fmt.Errorf("%s: cpus: %w", where, err)
		}
	}
	size, err := sizeOf(sc, w)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	g := &goWorkload{wstats: wstats{name: w.Name}, r: r, proc: proc, maxWait: 1000}
	cfg := goruntime.DefaultConfig()
	cfg.AllocBytesPerS = w.AllocMBPerS * (1 << 20)
	cfg.Sizes = goSizer{size}
	cfg.LiveBytes = int64(w.LiveMB * (1 << 20))
	cfg.GOGC = int(w.GOGC)
	cfg.MemoryLimitBytes = w.GOMEMLIMITMB << 20
	cfg.LeakBytesPerS = w.LeakMBPerS * (1 << 20)
	cfg.LeakFromNs = w.LeakFromMs * 1e6
	cfg.GOMAXPROCS = w.GOMAXPROCS
	cfg.CPUs = cpus
	if w.GCTrace {
		g.trace = &bytes.Buffer{}
		cfg.GCTrace = g.trace
	}
	g.prog, err = goruntime.New(r.eng, cfg, (*goHeap)(g), goruntime.NewStreams(seeds, w.Name))
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	g.kExit = r.eng.Register("go.exit."+w.Name, func(ev sim.Event) {
		// The program died of its own out-of-memory error: the process
		// exits and the kernel gets its memory back.
		if !proc.dead {
			proc.exit(ev.At, "fatal error: out of memory")
		}
	})
	r.goProgs[i] = g
	r.stats[i] = &g.wstats
	r.ts.Columns = append(r.ts.Columns, w.Name+".heap_alloc", w.Name+".next_gc", w.Name+".num_gc", w.Name+".mapped_bytes")
	proc.onDeath = append(proc.onDeath, func(now int64) {
		g.prog.Kill(now)
		r.noteDeath(now, &g.wstats)
	})
	g.prog.Start(w.StartMs * 1e6)
	return nil
}

// goSizer draws a Go program's object sizes from the workload's size
// distribution.
type goSizer struct{ s workload.Size }

func (z goSizer) SampleBytes(s *sim.Stream) int64 { return z.s.Draw(s) }
func (z goSizer) MeanBytes() float64              { return z.s.Mean() }

// goHeap is the Go program's heap: its process's SBMP allocator.
type goHeap goWorkload

// Alloc allocates from SBMP. When the degrade policy asks to wait, the
// allocating goroutine waits: the waits add to the allocation's cost (the
// program's clock does not stop for it). An allocation SBMP cannot serve
// is the Go runtime's fatal out-of-memory error: the process exits.
func (h *goHeap) Alloc(now int64, cpu int, size int64) (uint64, int64, bool) {
	g := (*goWorkload)(h)
	if g.proc.dead {
		return 0, 0, false
	}
	var wait int64
	res := g.proc.a.AllocAttempt(cpu, size, 0)
	for attempt := 1; !res.OK && res.RetryAfterNs > 0 && !g.proc.dead && attempt <= g.maxWait; attempt++ {
		g.retries++
		wait += res.RetryAfterNs
		res = g.proc.a.AllocAttempt(cpu, size, attempt)
	}
	if !res.OK {
		g.r.noteFailure(&g.wstats)
		if !g.proc.dead {
			g.r.eng.Schedule(now, g.kExit, 0, 0)
		}
		return 0, res.CostNs + wait, false
	}
	g.r.noteAlloc(now, &g.wstats, size)
	g.r.lat.Record(res.CostNs + wait)
	return res.Addr, res.CostNs + wait, true
}

// Free frees to SBMP on cpu.
func (h *goHeap) Free(now int64, cpu int, addr uint64, size int64) int64 {
	g := (*goWorkload)(h)
	if g.proc.dead {
		return 0
	}
	cost, err := g.proc.free(cpu, addr, size)
	if err != nil {
		panic(err) // the program frees only what SBMP gave it: a bug, loudly
	}
	g.r.noteFree(now, &g.wstats, size)
	return cost
}

// MappedBytes is what the process holds from the kernel: SBMP's blocks and
// pages, resident or swapped.
func (h *goHeap) MappedBytes() int64 { return (*goWorkload)(h).proc.held * 4096 }

// Scavenge returns free memory from SBMP to the kernel.
func (h *goHeap) Scavenge(now int64, bytes int64) (int64, int64) {
	g := (*goWorkload)(h)
	if g.proc.dead {
		return 0, 0
	}
	return g.proc.scavenge(bytes)
}

// sample appends the program's time series columns.
func (g *goWorkload) sample(row []float64) []float64 {
	st := g.prog.Stats()
	return append(row, float64(st.HeapAlloc), float64(st.NextGC), float64(st.NumGC), float64(g.proc.held*4096))
}

// finish stores the gctrace output as a file of the run.
func (g *goWorkload) finish(r *run) {
	if g.trace != nil {
		r.files["gctrace-"+g.name+".txt"] = g.trace.Bytes()
	}
}

func (g *goWorkload) setLeak(now int64, bytesPerS float64) { g.prog.SetLeakRate(now, bytesPerS) }

func (g *goWorkload) leakedBytes() int64 { return g.prog.Stats().LeakedBytes }

func (g *goWorkload) summary() *GoRuntimeSummary {
	st := g.prog.Stats()
	s := &GoRuntimeSummary{
		HeapAllocEnd: st.HeapAlloc, HeapAllocPeak: st.PeakHeapAlloc, NextGCEnd: st.NextGC,
		NumGC: st.NumGC, NumForcedGC: st.NumForcedGC, LimitedGCs: st.LimitedGCs, PauseTotalNs: st.PauseTotalNs,
		GCCPUFraction: st.GCCPUFraction, TotalAlloc: st.TotalAlloc, Mallocs: st.Mallocs, Frees: st.Frees,
		LiveSetBytes: st.LiveSetBytes, LeakedBytes: st.LeakedBytes, ScavengedBytes: st.ScavengedBytes,
		Died: st.Dead.String(), DiedNs: -1, FirstGCNs: -1,
	}
	if st.Dead != goruntime.Alive {
		s.DiedNs = st.DeadAtNs
	}
	recs := g.prog.GCs()
	if len(recs) > 0 {
		s.FirstGCNs = recs[0].StartNs
		pauses := make([]float64, len(recs))
		for i, rec := range recs {
			pauses[i] = float64(rec.PauseNs)
		}
		slices.Sort(pauses)
		med, err := stats.Quantile(pauses, 0.5)
		if err == nil {
			s.PauseMedianNs = int64(math.Round(med))
		}
		s.PauseMaxNs = int64(pauses[len(pauses)-1])
	}
	if len(recs) > 1 {
		var sum, sq float64
		n := float64(len(recs) - 1)
		for i := 1; i < len(recs); i++ {
			d := float64(recs[i].StartNs - recs[i-1].StartNs)
			sum += d
			sq += d * d
		}
		s.GCIntervalMean = sum / n
		if n > 1 {
			s.GCIntervalSD = math.Sqrt(max(0, (sq-sum*sum/n)/(n-1)))
		}
	}
	return s
}
