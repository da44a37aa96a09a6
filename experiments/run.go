// Package experiments wires scenarios to the engine and the models, runs
// them, and writes their outputs. Today it drives the synthetic workloads on
// the sim engine; the kernel model, SBMP and the A/B runner plug in here as
// they land (ARCHITECTURE.md).
package experiments

import (
	"context"
	"fmt"

	"github.com/sbmpsim/sbmpsim/experiments/scenario"
	"github.com/sbmpsim/sbmpsim/sim"
)

// Result is everything one run produced.
type Result struct {
	Summary    Summary
	Timeseries Timeseries
	// Scenario is the resolved scenario (defaults and overrides applied)
	// as canonical TOML: run it again to get the same result.
	Scenario []byte
}

// run is the state of one simulation: the engine, the workloads and the
// accounting that feeds the summary and the time series.
type run struct {
	eng       *sim.Engine
	kernel    *kernelSide
	sbmp      *sbmpSide    // nil when no workload allocates through SBMP
	workloads []*synthetic // nil entries for workloads of other kinds
	kArrive   sim.Kind
	kRetry    sim.Kind
	kFree     sim.Kind
	kSample   sim.Kind
	sampleNs  int64

	allocs, frees, failures uint64
	liveObjects, liveBytes  int64
	peakObjects, peakBytes  int64
	liveArea                float64 // integral of live objects over time
	lastNs                  int64
	ts                      Timeseries
}

// Run simulates sc (already validated) from its seed and returns the
// result. It is a pure function of sc: the wall time is the caller's to
// measure. A run that reaches its event limit fails with a *sim.LimitError.
func Run(sc *scenario.Scenario) (*Result, error) { return RunKeep(sc, nil) }

// RunKeep is Run with a hook called at the end of the simulated time,
// while the whole simulation state is still alive: benchmarks measure
// memory there.
func RunKeep(sc *scenario.Scenario, atEnd func()) (*Result, error) {
	seeds := sim.Seeds{Master: sc.Run.Seed}
	r := &run{
		eng:      sim.New(sim.Limits{MaxEvents: sc.Run.MaxEvents}),
		sampleNs: sc.Output.SampleIntervalMs * 1e6,
		ts:       newTimeseries(),
	}
	r.kArrive = r.eng.Register("workload.arrive", r.onArrive)
	r.kRetry = r.eng.Register("workload.retry", r.onRetry)
	r.kFree = r.eng.Register("workload.free", r.onFree)
	r.kSample = r.eng.Register("sample", r.onSample)
	var err error
	if r.kernel, err = newKernelSide(sc, r.eng); err != nil {
		return nil, err
	}
	r.ts.Columns = append(r.ts.Columns, kernelColumns...)
	if hasSynthetic(sc) {
		if r.sbmp, err = newSBMPSide(sc, r.eng, r.kernel, &r.kernel.topo); err != nil {
			return nil, err
		}
		r.ts.Columns = append(r.ts.Columns, sbmpColumns...)
	}
	for i, w := range sc.Workloads {
		if w.Kind == scenario.KindTask {
			r.workloads = append(r.workloads, nil)
			continue
		}
		s, err := newSynthetic(i, w, seeds)
		if err != nil {
			return nil, err
		}
		r.workloads = append(r.workloads, s)
		r.eng.Schedule(s.nextGap(), r.kArrive, int64(i), 0)
	}
	durationNs := sc.Run.DurationMs * 1e6
	r.onSample(sim.Event{At: 0})
	if err := r.eng.RunUntil(durationNs); err != nil {
		return nil, fmt.Errorf("run %s: %w", sc.Run.Name, err)
	}
	r.account(durationNs)
	if atEnd != nil {
		atEnd()
	}
	if r.ts.lastTimeNs() != durationNs {
		r.sample(durationNs)
	}
	enc, err := sc.Encode()
	if err != nil {
		return nil, err
	}
	return &Result{Summary: r.summary(sc, durationNs), Timeseries: r.ts, Scenario: enc}, nil
}

// account advances the time integral of live objects to now.
func (r *run) account(now int64) {
	r.liveArea += float64(r.liveObjects) * float64(now-r.lastNs)
	r.lastNs = now
}

func (r *run) onArrive(ev sim.Event) {
	w := r.workloads[ev.A]
	r.eng.Schedule(ev.At+w.nextGap(), r.kArrive, ev.A, 0)
	r.allocate(ev.At, ev.A, w.cpu(), 0)
}

// onRetry retries an allocation the degrade policy told to wait (payload
// A: the workload, B: cpu << 32 | attempt). The object is born late, and
// its wait shows in the allocation stall.
func (r *run) onRetry(ev sim.Event) {
	r.allocate(ev.At, ev.A, int(ev.B>>32), int(ev.B&(1<<32-1)))
}

// allocate asks SBMP for one object of workload wi on cpu.
func (r *run) allocate(now, wi int64, cpu, attempt int) {
	w := r.workloads[wi]
	r.account(now)
	res := r.sbmp.a.AllocAttempt(cpu, w.sizeBytes, attempt)
	if !res.OK {
		if res.RetryAfterNs > 0 {
			w.retries++
			r.eng.Schedule(now+res.RetryAfterNs, r.kRetry, wi, int64(cpu)<<32|int64(attempt+1))
			return
		}
		w.failures++
		r.failures++
		return
	}
	w.allocs++
	w.liveObjects++
	w.liveBytes += w.sizeBytes
	r.allocs++
	r.liveObjects++
	r.liveBytes += w.sizeBytes
	r.peakObjects = max(r.peakObjects, r.liveObjects)
	r.peakBytes = max(r.peakBytes, r.liveBytes)
	if w.meanLifeNs > 0 {
		r.eng.Schedule(now+w.lifetime(), r.kFree, int64(res.Addr), wi<<32|w.sizeBytes)
	}
}

// onFree frees one object; payload A is its address, B the workload
// index << 32 | its size. The free runs on one of the workload's CPUs,
// not necessarily the one that allocated (SBMP routes it).
func (r *run) onFree(ev sim.Event) {
	w := r.workloads[ev.B>>32]
	size := ev.B & (1<<32 - 1)
	r.account(ev.At)
	if _, err := r.sbmp.a.Free(w.cpu(), uint64(ev.A), size); err != nil {
		panic(err) // the workload frees only what SBMP gave it: a bug, loudly
	}
	w.frees++
	w.liveObjects--
	w.liveBytes -= size
	r.frees++
	r.liveObjects--
	r.liveBytes -= size
}

func hasSynthetic(sc *scenario.Scenario) bool {
	for _, w := range sc.Workloads {
		if w.Kind == scenario.KindSynthetic {
			return true
		}
	}
	return false
}

func (r *run) onSample(ev sim.Event) {
	r.sample(ev.At)
	r.eng.Schedule(ev.At+r.sampleNs, r.kSample, 0, 0)
}

// kernelColumns are the time series columns the kernel model adds: pages
// summed over nodes.
var kernelColumns = []string{"free_pages", "file_pages", "anon_pages", "swap_used_pages"}

func (r *run) sample(now int64) {
	row := []float64{float64(now), float64(r.liveObjects), float64(r.liveBytes), float64(r.allocs), float64(r.frees)}
	{
		k := r.kernel
		var free, file, anon int64
		for n := range k.kswapdActive {
			free += k.m.NodeFreePages(n)
			file += k.m.NodeFilePages(n)
			anon += k.m.NodeAnonPages(n)
		}
		row = append(row, float64(free), float64(file), float64(anon), float64(k.m.SwapUsed()))
	}
	if r.sbmp != nil {
		st := r.sbmp.a.Stats()
		row = append(row, float64(st.Tier0Allocs), float64(st.Tier1Allocs), float64(st.Tier2Allocs),
			float64(r.sbmp.a.TotalFreeBytes()), float64(r.sbmp.a.Tier1Blocks()), float64(r.sbmp.a.Tier0Free(0, 0)))
	}
	r.ts.add(row...)
}

func (r *run) summary(sc *scenario.Scenario, durationNs int64) Summary {
	s := Summary{
		Schema:                SummarySchema,
		Scenario:              sc.Run.Name,
		Source:                sc.Source,
		Seed:                  sc.Run.Seed,
		Models:                []string{"workload"},
		SimTimeNs:             durationNs,
		Events:                r.eng.Events(),
		TraceHash:             r.eng.TraceHash(),
		Allocs:                r.allocs,
		Frees:                 r.frees,
		BytesRequestedLiveEnd: r.liveBytes,
		BytesRequestedPeak:    r.peakBytes,
		ObjectsLiveEnd:        r.liveObjects,
		ObjectsLivePeak:       r.peakObjects,
		OOMEvents:             []OOMEvent{},
		FSMTransitions:        map[string]uint64{},
	}
	if durationNs > 0 {
		s.ObjectsLiveTimeAvg = r.liveArea / float64(durationNs)
	}
	if a := r.sbmp; a != nil {
		st := a.a.Stats()
		s.Models = append(s.Models, "sbmp")
		s.TierAllocs = TierCounts{Tier0: uint64(st.Tier0Allocs), Tier1: uint64(st.Tier1Allocs), Tier2: uint64(st.Tier2Allocs)}
		s.FallbackCount = uint64(st.FallbackCount)
		s.AllocStallNs = st.AllocStallNs
		a.a.FSMTransitions(s.FSMTransitions)
		s.SBMP = sbmpSummary(a)
	}
	s.AllocFailures = r.failures
	if k := r.kernel; k != nil {
		s.Models = append(s.Models, "kernel")
		s.OOMEvents = append(s.OOMEvents, k.oomEvents...)
		s.OOMKills = len(k.oomEvents)
		s.Kernel = k.summary()
	}
	for _, w := range r.workloads {
		if w == nil {
			continue
		}
		s.Workloads = append(s.Workloads, WorkloadSummary{
			Name: w.name, Allocs: w.allocs, AllocFailures: w.failures, AllocRetries: w.retries, Frees: w.frees,
			BytesLiveEnd: w.liveBytes, ObjectsLiveEnd: w.liveObjects,
		})
	}
	return s
}

// RunSeeds runs sc once per seed on up to workers goroutines and returns
// the summaries in seed order, identical for any number of workers.
func RunSeeds(ctx context.Context, sc *scenario.Scenario, seeds []uint64, workers int) ([]Summary, error) {
	return sim.Replicate(ctx, len(seeds), workers, func(i int) (Summary, error) {
		c := sc.Clone()
		c.Run.Seed = seeds[i]
		res, err := Run(c)
		if err != nil {
			return Summary{}, fmt.Errorf("seed %d: %w", seeds[i], err)
		}
		return res.Summary, nil
	})
}
