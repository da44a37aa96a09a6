package world

import (
	"bytes"
	"fmt"
	"math"
	"slices"

	"github.com/sbmpsim/sbmpsim/experiments/stats"
	"github.com/sbmpsim/sbmpsim/model/goruntime"
	"github.com/sbmpsim/sbmpsim/model/workload"
	"github.com/sbmpsim/sbmpsim/sim"
)

// programConfig is a [[workload]] of kind "go-runtime", compiled.
type programConfig struct {
	index int // the workload's index
	name  string
	proc  int // the index of its process
	// rt is the program's configuration; its gctrace writer is the
	// run's, set when the program starts.
	rt      goruntime.Config
	gctrace bool
	startNs int64
	// psiGroups are the PSI groups its mutator stalls in.
	psiGroups []int
}

// goWorkload is a Go program (package goruntime: mutator, GC pacer, STW
// pauses, sweeper, scavenger) whose heap objects are allocated from its
// process's SBMP allocator. The process's RSS is what SBMP holds from the
// kernel model, so GOGC and GOMEMLIMIT act against cgroup limits and the
// OOM killer as in SPEC 5.
type goWorkload struct {
	cfg     *programConfig
	acct    *account
	eng     *sim.Engine
	proc    *sbmpSide
	prog    *goruntime.Program
	trace   *bytes.Buffer // gctrace lines, when asked for
	kExit   sim.Kind
	maxWait int // retries of a waiting allocation before it counts as failed
	psi     *pressure
	// psiEnt[cpu] is its mutator's PSI member on cpu, for each of the
	// CPUs it runs on (-1 for the others); psiCPU0 is the first of them.
	psiEnt  []int
	psiCPU0 int
}

// newGoWorkload starts program c in proc, counted in acct.
func newGoWorkload(eng *sim.Engine, psi *pressure, c *programConfig, proc *sbmpSide, acct *account, seeds sim.Seeds) (*goWorkload, error) {
	g := &goWorkload{cfg: c, acct: acct, eng: eng, proc: proc, maxWait: 1000, psi: psi}
	rt := c.rt
	cpus := goCPUs(rt)
	g.psiCPU0 = cpus[0]
	for _, cpu := range cpus {
		for len(g.psiEnt) <= cpu {
			g.psiEnt = append(g.psiEnt, -1)
		}
		if g.psiEnt[cpu] < 0 {
			g.psiEnt[cpu] = psi.entity(c.psiGroups, cpu, true)
		}
	}
	if c.gctrace {
		g.trace = &bytes.Buffer{}
		rt.GCTrace = g.trace
	}
	var err error
	g.prog, err = goruntime.New(eng, rt, (*goHeap)(g), goruntime.NewStreams(seeds, c.name))
	if err != nil {
		return nil, fmt.Errorf("workload %d (%s): %w", c.index, c.name, err)
	}
	g.kExit = eng.Register("go.exit."+c.name, func(ev sim.Event) {
		// The program died of its own out-of-memory error: the process
		// exits and the kernel gets its memory back.
		if !proc.dead {
			proc.exit(ev.At, "fatal error: out of memory")
		}
	})
	proc.onDeath = append(proc.onDeath, func(now int64) {
		g.prog.Kill(now)
		acct.die(now)
		for _, e := range g.psiEnt {
			if e >= 0 {
				psi.die(e, now)
			}
		}
	})
	g.prog.Start(c.startNs)
	return g, nil
}

// goCPUs are the CPUs a Go program's goroutines run on, as
// goruntime.Config resolves them: CPUs, or 0..GOMAXPROCS-1 (at least one).
func goCPUs(rt goruntime.Config) []int {
	if len(rt.CPUs) > 0 {
		return rt.CPUs
	}
	cpus := make([]int, max(1, rt.GOMAXPROCS))
	for i := range cpus {
		cpus[i] = i
	}
	return cpus
}

// goColumns are the time series columns a Go program adds.
func goColumns(name string) []string {
	return columnNames(goColumnDocs, name)
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
		g.acct.retries++
		wait += res.RetryAfterNs
		res = g.proc.a.AllocAttempt(cpu, size, attempt)
	}
	psiCPU := cpu
	if cpu < 0 || cpu >= len(g.psiEnt) || g.psiEnt[cpu] < 0 {
		psiCPU = g.psiCPU0
	}
	g.psi.stall(g.psiEnt[psiCPU], psiCPU, now, g.proc.takeMemStall())
	if g.proc.dead {
		return 0, res.CostNs + wait, false // killed by its own page fault
	}
	degraded := res.Degraded || wait > 0 // only degrade asks to wait
	if !res.OK {
		g.acct.fail()
		if degraded {
			g.acct.degraded(cpu, false, 0)
		}
		g.acct.observe(now, cpu, size, res, res.CostNs+wait, -1)
		if !g.proc.dead {
			g.eng.Schedule(now, g.kExit, 0, 0)
		}
		return 0, res.CostNs + wait, false
	}
	g.acct.alloc(now, size)
	g.acct.latency(res.CostNs + wait)
	if degraded {
		g.acct.degraded(cpu, true, res.CostNs+wait)
	}
	g.acct.observe(now, cpu, size, res, res.CostNs+wait, -1)
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
	g.acct.free(now, size)
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

// addFiles adds the program's gctrace output, when asked for, to the
// run's files.
func (g *goWorkload) addFiles(files map[string][]byte) {
	if g.trace != nil {
		files["gctrace-"+g.cfg.name+".txt"] = g.trace.Bytes()
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
			sq += float64(d * d)
		}
		s.GCIntervalMean = sum / n
		if n > 1 {
			s.GCIntervalSD = math.Sqrt(max(0, (sq-sum*sum/n)/(n-1)))
		}
	}
	return s
}
