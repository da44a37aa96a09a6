// Package experiments wires scenarios to the engine and the models, runs
// them, and writes their outputs. Today it drives the synthetic workloads on
// the sim engine; the kernel model, SBMP and the A/B runner plug in here as
// they land (ARCHITECTURE.md).
package world

import (
	"context"
	"fmt"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/stats"
	"github.com/sbmpsim/sbmpsim/sbmp"
	"github.com/sbmpsim/sbmpsim/sim"
)

// Result is everything one run produced.
type Result struct {
	Summary    Summary
	Timeseries Timeseries
	// Scenario is the resolved scenario (defaults and overrides applied)
	// as canonical TOML: run it again to get the same result.
	Scenario []byte
	// Files are further outputs by file name, such as a go-runtime
	// workload's gctrace-NAME.txt.
	Files map[string][]byte
	// Latency is the histogram of every successful allocation's latency
	// (alloc_latency_ns summarises it), for CDF figures.
	Latency *stats.LatencyHist
}

// run is the state of one simulation: the engine, the processes SBMP
// serves, the workloads and the accounting that feeds the summary and the
// time series.
type run struct {
	eng    *sim.Engine
	kernel *kernelSide
	// procs are the processes whose heaps SBMP manages, in the order of
	// [[process]] with the implicit sbmp-app first when a workload uses
	// it; empty when no workload allocates through SBMP.
	procs []*sbmpSide
	// synth, goProgs and traces hold each workload of their kind at its
	// workload index; nil elsewhere.
	synth    []*synthetic
	goProgs  []*goWorkload
	traces   []*traceWorkload
	stats    []*wstats // every workload's accounting, by index (nil for kernel-side kinds)
	faults   *faultSide
	kArrive  sim.Kind
	kRetry   sim.Kind
	kFree    sim.Kind
	kMigrate sim.Kind
	kSample  sim.Kind
	sampleNs int64

	allocs, frees, failures uint64
	liveObjects, liveBytes  int64
	peakObjects, peakBytes  int64
	liveArea                float64 // integral of live objects over time
	lastNs                  int64
	ts                      Timeseries
	// perCPU is the number of per-CPU columns ([output] per_cpu).
	perCPU int
	// lat is the latency of every successful allocation, waits included.
	lat stats.LatencyHist
	// files are extra outputs (gctrace-NAME.txt), by file name.
	files map[string][]byte
	// observe, if set, sees every sample in snap.
	observe func(*Snapshot)
	snap    Snapshot
}

// wstats is one workload's share of the accounting.
type wstats struct {
	name                             string
	allocs, frees, failures, retries uint64
	liveBytes, liveObjects           int64
	bytesAllocated                   int64
	// lostObjects and lostBytes were live when the process died: gone
	// with it, never freed.
	lostObjects, lostBytes int64
}

// noteAlloc counts one allocation of size bytes for w at now.
func (r *run) noteAlloc(now int64, w *wstats, size int64) {
	r.account(now)
	w.allocs++
	w.liveObjects++
	w.liveBytes += size
	w.bytesAllocated += size
	r.allocs++
	r.liveObjects++
	r.liveBytes += size
	r.peakObjects = max(r.peakObjects, r.liveObjects)
	r.peakBytes = max(r.peakBytes, r.liveBytes)
}

// noteFree counts one free of size bytes for w at now.
func (r *run) noteFree(now int64, w *wstats, size int64) {
	r.account(now)
	w.frees++
	w.liveObjects--
	w.liveBytes -= size
	r.frees++
	r.liveObjects--
	r.liveBytes -= size
}

// noteFailure counts an allocation that failed for good.
func (r *run) noteFailure(w *wstats) {
	w.failures++
	r.failures++
}

// noteDeath drops w's live objects: its process died with them.
func (r *run) noteDeath(now int64, w *wstats) {
	r.account(now)
	r.liveObjects -= w.liveObjects
	r.liveBytes -= w.liveBytes
	w.lostObjects += w.liveObjects
	w.lostBytes += w.liveBytes
	w.liveObjects, w.liveBytes = 0, 0
}

// Options steer one run. The zero value runs the scenario to its end,
// unchecked and unobserved.
type Options struct {
	// Observer, if set, is called after every time-series sample (every
	// [output] sample_interval_ms of simulated time, and at the end) with
	// the state of the simulation then. It runs on the simulation's
	// goroutine, must only read the Snapshot, and must not keep it past
	// the call. Observing changes nothing in the run.
	Observer func(*Snapshot)
	// StopAtNs, if positive and before the end of the scenario's
	// duration, ends the run at that simulated time: the Result is the
	// run up to then, with sim_time_ns = StopAtNs.
	StopAtNs int64
	// CheckEvery, if positive, checks every invariant after every
	// CheckEvery-th event (1: after each), before the first and after the
	// last, and fails the run with an *InvariantError at the first
	// violation. Checking only reads: the Result is the unchecked run's,
	// with Summary.InvariantChecks counting the checks made.
	CheckEvery int64
	// AtEnd, if set, is called once at the end of simulated time while
	// the whole simulation is still alive (benchmarks measure memory
	// there).
	AtEnd func()
	// setUp, if set, is called once the run is set up, before the first
	// event: tests break the books there.
	setUp func(*run)
}

// cancelCheckNs is how much simulated time runs between two looks at the
// context: cancelling takes effect within that much simulated time.
const cancelCheckNs = 10_000_000

// Run simulates sc (already validated) from its seed and returns the
// result. The result is a pure function of sc and opt.StopAtNs: the wall
// time is the caller's to measure, and neither observing nor checking
// changes it. A run that reaches its event limit fails with a
// *sim.LimitError; a cancelled context stops the run with ctx.Err().
func Run(ctx context.Context, sc *scenario.Scenario, opt Options) (*Result, error) {
	endNs := sc.Run.DurationMs * 1e6
	if opt.StopAtNs > 0 && opt.StopAtNs < endNs {
		endNs = opt.StopAtNs
	}
	limits := sim.Limits{MaxEvents: sc.Run.MaxEvents}
	if opt.CheckEvery > 0 {
		// The time limit stops stepping at the end of the run exactly
		// where RunUntil would.
		limits.MaxTimeNs = endNs
	}
	r, err := newRun(sc, limits, opt.Observer)
	if err != nil {
		return nil, err
	}
	defer r.close()
	if opt.CheckEvery > 0 {
		return runChecked(ctx, r, sc, endNs, opt)
	}
	if opt.setUp != nil {
		opt.setUp(r)
	}
	for t := int64(0); t < endNs; {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("run %s: %w", sc.Run.Name, err)
		}
		t = min(t+cancelCheckNs, endNs)
		if err := r.eng.RunUntil(t); err != nil {
			return nil, fmt.Errorf("run %s: %w", sc.Run.Name, err)
		}
	}
	return r.finish(sc, endNs, opt.AtEnd)
}

// newRun sets a run of sc up on an engine with the given limits: the
// kernel model, the SBMP processes, the workloads, the faults and the
// first sample. Run and RunChecked share it. Close the run when done.
func newRun(sc *scenario.Scenario, limits sim.Limits, observe func(*Snapshot)) (*run, error) {
	seeds := sim.Seeds{Master: sc.Run.Seed}
	n := len(sc.Workloads)
	r := &run{
		eng:      sim.New(limits),
		sampleNs: sc.Output.SampleIntervalMs * 1e6,
		ts:       newTimeseries(),
		synth:    make([]*synthetic, n),
		goProgs:  make([]*goWorkload, n),
		traces:   make([]*traceWorkload, n),
		stats:    make([]*wstats, n),
		files:    map[string][]byte{},
		observe:  observe,
	}
	ok := false
	defer func() {
		if !ok {
			r.close()
		}
	}()
	r.kArrive = r.eng.Register("workload.arrive", r.onArrive)
	r.kRetry = r.eng.Register("workload.retry", r.onRetry)
	r.kFree = r.eng.Register("workload.free", r.onFree)
	r.kMigrate = r.eng.Register("workload.migrate", r.onMigrate)
	r.kSample = r.eng.Register("sample", r.onSample)
	durationNs := sc.Run.DurationMs * 1e6
	var err error
	if r.kernel, err = newKernelSide(sc, r.eng); err != nil {
		return nil, err
	}
	r.ts.Columns = append(r.ts.Columns, kernelColumns...)
	procOf, err := r.startProcesses(sc)
	if err != nil {
		return nil, err
	}
	if len(r.procs) > 0 {
		r.ts.Columns = append(r.ts.Columns, sbmpColumns...)
		if sc.Output.PerCPU {
			// cpu0_tier0_free is among sbmpColumns already.
			r.perCPU = len(r.kernel.m.Config().CPUNodes)
			for c := 1; c < r.perCPU; c++ {
				r.ts.Columns = append(r.ts.Columns, fmt.Sprintf("cpu%d_tier0_free", c))
			}
		}
	}
	for i, w := range sc.Workloads {
		var err error
		switch w.Kind {
		case scenario.KindSynthetic:
			err = r.addSynthetic(sc, i, w, seeds, procOf[w.Process], durationNs)
		case scenario.KindGoRuntime:
			err = r.addGoRuntime(sc, i, w, seeds, procOf[w.Process])
		case scenario.KindHeaptrack:
			err = r.addTrace(sc, i, w, seeds, procOf[w.Process])
		}
		if err != nil {
			return nil, err
		}
	}
	if r.faults, err = newFaultSide(sc, r); err != nil {
		return nil, err
	}
	r.onSample(sim.Event{At: 0})
	ok = true
	return r, nil
}

// close releases what a run holds open (trace files).
func (r *run) close() {
	for _, t := range r.traces {
		if t != nil {
			t.stop()
		}
	}
}

// finish ends a run whose engine reached the end of sc's duration: the
// last sample, the Go programs' files, and the Result. atEnd, if set, is
// called first, while the whole simulation is still alive.
func (r *run) finish(sc *scenario.Scenario, durationNs int64, atEnd func()) (*Result, error) {
	r.account(durationNs)
	if atEnd != nil {
		atEnd()
	}
	if r.ts.lastTimeNs() != durationNs {
		r.sample(durationNs)
	}
	for _, g := range r.goProgs {
		if g != nil {
			g.finish(r)
		}
	}
	enc, err := sc.Encode()
	if err != nil {
		return nil, err
	}
	lat := r.lat
	return &Result{Summary: r.summary(sc, durationNs), Timeseries: r.ts, Scenario: enc, Files: r.files, Latency: &lat}, nil
}

// startProcesses starts one SBMP process per process some workload
// allocates in: the implicit sbmp-app first if used, then the declared
// [[process]] tables in order. Pids count up from firstProcessPID. Each
// process is placed on the first CPU of its first workload.
func (r *run) startProcesses(sc *scenario.Scenario) (map[string]*sbmpSide, error) {
	firstCPU := map[string]int{}
	for _, w := range sc.Workloads {
		if !scenario.UsesSBMP(w.Kind) {
			continue
		}
		if _, seen := firstCPU[w.Process]; seen {
			continue
		}
		cpus, err := scenario.ParseCPUList(w.CPUs)
		if err != nil {
			return nil, fmt.Errorf("workload %s: cpus: %w", w.Name, err)
		}
		firstCPU[w.Process] = cpus[0]
	}
	list := []scenario.Process{}
	if _, ok := firstCPU[scenario.DefaultProcess]; ok {
		list = append(list, scenario.Process{Name: scenario.DefaultProcess, Cgroup: "/"})
	}
	for _, p := range sc.Processes {
		if _, ok := firstCPU[p.Name]; ok && p.Name != scenario.DefaultProcess {
			list = append(list, p)
		}
	}
	procOf := map[string]*sbmpSide{}
	for i, p := range list {
		if err := r.kernel.checkCPU(firstCPU[p.Name]); err != nil {
			return nil, fmt.Errorf("process %s: %w", p.Name, err)
		}
		s, err := newSBMPSide(sc, r.eng, r.kernel, &r.kernel.topo, p, int64(firstProcessPID+i), firstCPU[p.Name])
		if err != nil {
			return nil, err
		}
		r.procs = append(r.procs, s)
		procOf[p.Name] = s
	}
	return procOf, nil
}

// account advances the time integral of live objects to now.
func (r *run) account(now int64) {
	r.liveArea += float64(r.liveObjects) * float64(now-r.lastNs)
	r.lastNs = now
}

// Payload layout of a synthetic object's free event: A is its address, B
// packs the workload index, the owning thread and the size.
const (
	freeWorkloadShift = 48
	freeThreadShift   = 32
	freeSizeMask      = 1<<32 - 1
	freeThreadMask    = 1<<16 - 1
)

func (r *run) onArrive(ev sim.Event) {
	w := r.synth[ev.A]
	if w.proc.dead {
		return
	}
	if next, ok := w.nextArrival(ev.At); ok {
		r.eng.Schedule(next, r.kArrive, ev.A, 0)
	}
	r.allocate(ev.At, ev.A, w.thread(), w.size(), 0, ev.At)
}

// onRetry retries an allocation the degrade policy told to wait (payload
// A: requested at << 8 | the workload, B: size << 32 | thread << 16 |
// attempt, with retryLeakBit set for a leaked object). The object is born
// late, and its wait shows in the allocation stall and its latency.
func (r *run) onRetry(ev sim.Event) {
	wi := ev.A & 0xff
	w := r.synth[wi]
	if w.proc.dead {
		return
	}
	r.allocate(ev.At, wi, int(ev.B>>16&freeThreadMask), ev.B>>32, int(ev.B&retryLeakBit|ev.B&retryAttemptMask), ev.A>>8)
}

// The low 16 bits of a retry's payload: the attempt, and whether the
// object is leaked.
const (
	retryLeakBit     = 1 << 15
	retryAttemptMask = retryLeakBit - 1
)

// allocate asks SBMP for one object of size bytes for workload wi on
// thread th, first requested at reqNs; attempt carries retryLeakBit for an
// object a leak fault allocates, which is never freed.
func (r *run) allocate(now, wi int64, th int, size int64, attempt int, reqNs int64) {
	w := r.synth[wi]
	leak := attempt&retryLeakBit != 0
	n := attempt & retryAttemptMask
	res := w.proc.a.AllocAttempt(w.threads[th], size, n)
	if !res.OK {
		if res.RetryAfterNs > 0 && !w.proc.dead && n < retryAttemptMask {
			w.retries++
			r.eng.Schedule(now+res.RetryAfterNs, r.kRetry, reqNs<<8|wi, size<<32|int64(th)<<16|int64(attempt+1))
			return
		}
		r.noteFailure(&w.wstats)
		return
	}
	r.noteAlloc(now, &w.wstats, size)
	r.lat.Record(now - reqNs + res.CostNs)
	if leak {
		w.leakedBytes += size
		return
	}
	if life, ok := w.lifetime(); ok {
		r.eng.Schedule(now+life, r.kFree, int64(res.Addr), wi<<freeWorkloadShift|int64(th)<<freeThreadShift|size)
	}
}

// onFree frees one object on the CPU its thread is on now, which need not
// be where it was allocated (SBMP routes it home).
func (r *run) onFree(ev sim.Event) {
	w := r.synth[ev.B>>freeWorkloadShift]
	if w.proc.dead {
		return // the process died with its objects
	}
	size := ev.B & freeSizeMask
	th := int(ev.B >> freeThreadShift & freeThreadMask)
	if _, err := w.proc.free(w.threads[th], uint64(ev.A), size); err != nil {
		panic(err) // the workload frees only what SBMP gave it: a bug, loudly
	}
	r.noteFree(ev.At, &w.wstats, size)
}

// onMigrate moves one thread of workload A to another CPU.
func (r *run) onMigrate(ev sim.Event) {
	w := r.synth[ev.A]
	if w.proc.dead {
		return
	}
	w.migrate()
	r.eng.Schedule(ev.At+w.nextMigration(), r.kMigrate, ev.A, 0)
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
	if len(r.procs) > 0 {
		var st sbmp.Stats
		var free, blocks int64
		for _, p := range r.procs {
			st.Add(p.stats())
			free += p.totalFreeBytes()
			blocks += p.tier1Blocks()
		}
		row = append(row, float64(st.Tier0Allocs), float64(st.Tier1Allocs), float64(st.Tier2Allocs),
			float64(free), float64(blocks), float64(r.procs[0].a.Tier0Free(0, 0)))
		for c := 1; c < r.perCPU; c++ {
			row = append(row, float64(r.procs[0].a.Tier0Free(c, 0)))
		}
	}
	for _, g := range r.goProgs {
		if g != nil {
			row = g.sample(row)
		}
	}
	r.ts.add(row...)
	if r.observe != nil {
		r.observe(r.snapshot(now, row))
	}
}

// snapshot fills the run's Snapshot for the sample row taken at now.
func (r *run) snapshot(now int64, row []float64) *Snapshot {
	s := &r.snap
	s.TimeNs, s.Columns, s.Row = now, r.ts.Columns, row
	k := r.kernel
	s.Nodes = s.Nodes[:0]
	for n, id := range k.memNodeIDs {
		s.Nodes = append(s.Nodes, NodeSnapshot{ID: id, FreePages: k.m.NodeFreePages(n), FilePages: k.m.NodeFilePages(n), AnonPages: k.m.NodeAnonPages(n)})
	}
	s.OOMEvents = k.oomEvents
	if len(s.Processes) != len(r.procs) {
		s.Processes = make([]ProcessSnapshot, len(r.procs))
	}
	for i, p := range r.procs {
		ps := &s.Processes[i]
		ps.Name, ps.Dead, ps.Stats, ps.Degraded = p.name, p.dead, p.stats(), p.a.Degraded()
		ps.Tier0Free = ps.Tier0Free[:0]
		for c := range len(k.m.Config().CPUNodes) {
			ps.Tier0Free = append(ps.Tier0Free, p.a.Tier0Free(c, 0))
		}
	}
	return s
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
	if len(r.procs) > 0 {
		var st sbmp.Stats
		for _, p := range r.procs {
			st.Add(p.stats())
			for _, a := range p.sw.Allocators() {
				a.FSMTransitions(s.FSMTransitions)
			}
			s.Processes = append(s.Processes, p.summary(r))
		}
		s.Models = append(s.Models, "sbmp")
		s.TierAllocs = TierCounts{Tier0: uint64(st.Tier0Allocs), Tier1: uint64(st.Tier1Allocs), Tier2: uint64(st.Tier2Allocs)}
		s.FallbackCount = uint64(st.FallbackCount)
		s.AllocStallNs = st.AllocStallNs
		s.SBMP = sbmpSummary(r.procs, st)
		s.FootprintPeakBytes = r.kernel.sbmpPeakPages * 4096
	}
	s.AllocLatencyNs = latencySummary(&r.lat)
	s.AllocFailures = r.failures
	if k := r.kernel; k != nil {
		s.Models = append(s.Models, "kernel")
		s.OOMEvents = append(s.OOMEvents, k.oomEvents...)
		s.OOMKills = len(k.oomEvents)
		s.Kernel = k.summary()
	}
	for i, w := range r.stats {
		if w == nil {
			continue
		}
		ws := WorkloadSummary{
			Name: w.name, Kind: sc.Workloads[i].Kind, Allocs: w.allocs, AllocFailures: w.failures, AllocRetries: w.retries, Frees: w.frees,
			BytesAllocated: w.bytesAllocated, BytesLiveEnd: w.liveBytes, ObjectsLiveEnd: w.liveObjects, ObjectsLost: w.lostObjects, BytesLost: w.lostBytes,
		}
		if sy := r.synth[i]; sy != nil {
			ws.BytesLeaked = sy.leakedBytes
			ws.Migrations = sy.migrations
		}
		if g := r.goProgs[i]; g != nil {
			ws.GoRuntime = g.summary()
		}
		if t := r.traces[i]; t != nil {
			ws.Trace = t.summary()
		}
		s.Workloads = append(s.Workloads, ws)
	}
	if k := r.kernel; k != nil {
		s.KernelWorkloads = k.workloadSummaries()
	}
	if r.faults != nil {
		s.Faults = r.faults.summary()
	}
	return s
}

// latencySummary reports the recorded allocation latencies.
func latencySummary(h *stats.LatencyHist) LatencySummary {
	q := func(p float64) int64 {
		v, err := h.Quantile(p)
		if err != nil {
			return 0 // no allocation succeeded
		}
		return v
	}
	return LatencySummary{Count: h.Count(), MeanNs: h.MeanNs(), P50: q(0.5), P99: q(0.99), P999: q(0.999), Max: h.MaxNs()}
}

// RunSeeds runs sc once per seed on up to workers goroutines and returns
// the summaries in seed order, identical for any number of workers.
func RunSeeds(ctx context.Context, sc *scenario.Scenario, seeds []uint64, workers int) ([]Summary, error) {
	return sim.Replicate(ctx, len(seeds), workers, func(i int) (Summary, error) {
		c := sc.Clone()
		c.Run.Seed = seeds[i]
		res, err := Run(ctx, c, Options{})
		if err != nil {
			return Summary{}, fmt.Errorf("seed %d: %w", seeds[i], err)
		}
		return res.Summary, nil
	})
}
