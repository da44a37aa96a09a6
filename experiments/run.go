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
	kernel    *kernelSide  // nil when no workload needs the kernel model
	workloads []*synthetic // nil entries for workloads of other kinds
	kArrive   sim.Kind
	kFree     sim.Kind
	kSample   sim.Kind
	sampleNs  int64

	allocs, frees          uint64
	liveObjects, liveBytes int64
	peakObjects, peakBytes int64
	liveArea               float64 // integral of live objects over time
	lastNs                 int64
	ts                     Timeseries
}

// Run simulates sc (already validated) from its seed and returns the
// result. It is a pure function of sc: the wall time is the caller's to
// measure. A run that reaches its event limit fails with a *sim.LimitError.
func Run(sc *scenario.Scenario) (*Result, error) {
	seeds := sim.Seeds{Master: sc.Run.Seed}
	r := &run{
		eng:      sim.New(sim.Limits{MaxEvents: sc.Run.MaxEvents}),
		sampleNs: sc.Output.SampleIntervalMs * 1e6,
		ts:       newTimeseries(),
	}
	r.kArrive = r.eng.Register("workload.arrive", r.onArrive)
	r.kFree = r.eng.Register("workload.free", r.onFree)
	r.kSample = r.eng.Register("sample", r.onSample)
	var err error
	if r.kernel, err = newKernelSide(sc, r.eng); err != nil {
		return nil, err
	}
	if r.kernel != nil {
		r.ts.Columns = append(r.ts.Columns, kernelColumns...)
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
	r.account(ev.At)
	_ = w.cpu() // placement: which CPU's allocator serves it, once SBMP is wired
	w.allocs++
	w.liveObjects++
	w.liveBytes += w.sizeBytes
	r.allocs++
	r.liveObjects++
	r.liveBytes += w.sizeBytes
	r.peakObjects = max(r.peakObjects, r.liveObjects)
	r.peakBytes = max(r.peakBytes, r.liveBytes)
	if w.meanLifeNs > 0 {
		r.eng.Schedule(ev.At+w.lifetime(), r.kFree, ev.A, w.sizeBytes)
	}
	r.eng.Schedule(ev.At+w.nextGap(), r.kArrive, ev.A, 0)
}

// onFree frees one object; payload A is the workload, B the size.
func (r *run) onFree(ev sim.Event) {
	w := r.workloads[ev.A]
	r.account(ev.At)
	w.frees++
	w.liveObjects--
	w.liveBytes -= ev.B
	r.frees++
	r.liveObjects--
	r.liveBytes -= ev.B
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
	if k := r.kernel; k != nil {
		var free, file, anon int64
		for n := range k.kswapdActive {
			free += k.m.NodeFreePages(n)
			file += k.m.NodeFilePages(n)
			anon += k.m.NodeAnonPages(n)
		}
		row = append(row, float64(free), float64(file), float64(anon), float64(k.m.SwapUsed()))
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
			Name: w.name, Allocs: w.allocs, Frees: w.frees,
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
