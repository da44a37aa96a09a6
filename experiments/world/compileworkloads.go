package world

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/input/heaptrack"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenarios"
	"github.com/sbmpsim/sbmpsim/model/goruntime"
	"github.com/sbmpsim/sbmpsim/model/workload"
)

// workloadCPUs parses a CPU list of workload i (its key named in errors)
// and checks each CPU is on the machine.
func (c *config) workloadCPUs(i int, w *scenario.Workload, key, list string) ([]int, error) {
	cpus, err := scenario.ParseCPUList(list)
	if err != nil {
		return nil, fmt.Errorf("workload %d (%s): %s: %w", i, w.Name, key, err)
	}
	for _, cpu := range cpus {
		if err := c.machine.checkCPU(cpu); err != nil {
			return nil, fmt.Errorf("workload %d (%s): %s: %w", i, w.Name, key, err)
		}
	}
	return cpus, nil
}

// compileKernelWorkloads compiles the workloads outside SBMP: tasks,
// mlock and page-cache readers (a fleet of count tasks each), and kmalloc
// leaks. Pids are 1000+i for a single task and 10000+1024i+c for the
// members of a fleet.
func (c *config) compileKernelWorkloads(sc *scenario.Scenario) error {
	for i := range sc.Workloads {
		w := &sc.Workloads[i]
		switch w.Kind {
		case scenario.KindTask, scenario.KindMlock, scenario.KindPageCache:
			cpus, err := c.kernelWorkloadCPUs(i, w)
			if err != nil {
				return err
			}
			for n := range w.Count {
				t := taskConfig{
					index: i, kind: w.Kind, pid: TaskPID(i, 0, false), name: w.Name, cpu: cpus[0], node: c.machine.kernelNodeOfCPU(cpus[0]),
					oomScoreAdj: w.OOMScoreAdj, cgroup: w.Cgroup, startNs: w.StartMs * 1e6,
					pagesPerTick: w.GrowMBPerS * 256 * faultTickNs / 1e9,
					targetPages:  w.RSSMB << 8, loop: loopOf(w.Loop), psiGroups: c.machine.psiGroups(w.Cgroup),
				}
				if w.Count > 1 {
					t.pid, t.name, t.fleet = TaskPID(i, n, true), fmt.Sprintf("%s-%d", w.Name, n), true
				}
				if w.Kind == scenario.KindPageCache {
					t.fileSetPages, t.hotPages, t.hotFraction = w.PageCacheMB<<8, w.HotMB<<8, w.HotFraction
					if t.hotPages == 0 {
						t.hotPages = t.fileSetPages
					}
				} else {
					t.pageCachePages = w.PageCacheMB << 8
				}
				if w.Kind == scenario.KindTask {
					t.touchIntervalNs = w.TouchIntervalMs * 1e6
				}
				c.tasks = append(c.tasks, t)
			}
		case scenario.KindKmallocLeak:
			cpus, err := c.kernelWorkloadCPUs(i, w)
			if err != nil {
				return err
			}
			k := newKmallocConfig(w.SizeBytes)
			k.index, k.name, k.node, k.cpu = i, w.Name, c.machine.kernelNodeOfCPU(cpus[0]), cpus[0]
			k.bytesPerTick = w.GrowMBPerS * (1 << 20) * faultTickNs / 1e9
			k.limitBytes, k.startNs, k.stopNs = w.RSSMB<<20, w.StartMs*1e6, w.StopMs*1e6
			c.kmallocs = append(c.kmallocs, k)
		}
	}
	return nil
}

// kernelWorkloadCPUs parses a kernel workload's cpus; it runs on the
// first.
func (c *config) kernelWorkloadCPUs(i int, w *scenario.Workload) ([]int, error) {
	cpus, err := scenario.ParseCPUList(w.CPUs)
	if err != nil {
		return nil, fmt.Errorf("workload %d (%s): %w", i, w.Name, err)
	}
	if err := c.machine.checkCPU(cpus[0]); err != nil {
		return nil, fmt.Errorf("workload %d (%s): %w", i, w.Name, err)
	}
	return cpus, nil
}

// compileSBMPWorkloads compiles the workloads that allocate through SBMP:
// synthetic, go-runtime and heaptrack.
func (c *config) compileSBMPWorkloads(sc *scenario.Scenario) error {
	for i := range sc.Workloads {
		w := &sc.Workloads[i]
		var err error
		switch w.Kind {
		case scenario.KindSynthetic:
			err = c.compileSynthetic(sc, i, w)
		case scenario.KindGoRuntime:
			err = c.compileProgram(sc, i, w)
		case scenario.KindHeaptrack:
			err = c.compileTrace(sc, i, w)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *config) compileSynthetic(sc *scenario.Scenario, i int, w *scenario.Workload) error {
	where := fmt.Sprintf("workload %d (%s)", i, w.Name)
	cpus, err := c.workloadCPUs(i, w, "cpus", w.CPUs)
	if err != nil {
		return err
	}
	s := syntheticConfig{index: i, name: w.Name, proc: c.procOf[i], startNs: w.StartMs * 1e6, stopNs: c.durationNs, loop: loopOf(w.Loop)}
	if s.sizes, err = sizeOf(sc, w); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if s.life, err = lifetimeOf(w); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if w.StopMs > 0 {
		s.stopNs = min(s.stopNs, w.StopMs*1e6)
	}
	if s.arrival, err = arrivalOf(w); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	n := w.Threads
	if n == 0 {
		n = len(cpus)
	}
	s.threadCPUs = make([]int, n)
	for t := range s.threadCPUs {
		s.threadCPUs[t] = cpus[t%len(cpus)]
	}
	if w.MigratePerS > 0 {
		s.migrateGapNs = 1e9 / w.MigratePerS
		s.migrateCPUs = c.machine.topo.CPUs()
		if w.MigrateCPUs != "" {
			if s.migrateCPUs, err = c.workloadCPUs(i, w, "migrate_cpus", w.MigrateCPUs); err != nil {
				return err
			}
		}
	}
	c.synthetic = append(c.synthetic, s)
	return nil
}

func (c *config) compileProgram(sc *scenario.Scenario, i int, w *scenario.Workload) error {
	where := fmt.Sprintf("workload %d (%s)", i, w.Name)
	cpus, err := c.workloadCPUs(i, w, "cpus", w.CPUs)
	if err != nil {
		return err
	}
	size, err := sizeOf(sc, w)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	rt := goruntime.DefaultConfig()
	rt.AllocBytesPerS = w.AllocMBPerS * (1 << 20)
	rt.Sizes = goSizer{size}
	rt.LiveBytes = int64(w.LiveMB * (1 << 20))
	rt.GOGC = int(w.GOGC)
	rt.MemoryLimitBytes = w.GOMEMLIMITMB << 20
	rt.LeakBytesPerS = w.LeakMBPerS * (1 << 20)
	rt.LeakFromNs = w.LeakFromMs * 1e6
	rt.GOMAXPROCS = w.GOMAXPROCS
	rt.CPUs = cpus
	rt.Loop = [...]goruntime.Loop{loopClosed: goruntime.LoopClosed, loopQueued: goruntime.LoopQueued, loopIgnore: goruntime.LoopIgnore}[loopOf(w.Loop)]
	proc := c.procs[c.procOf[i]]
	c.programs = append(c.programs, programConfig{
		index: i, name: w.Name, proc: c.procOf[i], rt: rt, gctrace: w.GCTrace, startNs: w.StartMs * 1e6,
		psiGroups: c.machine.psiGroups(proc.cgroup),
	})
	return nil
}

func (c *config) compileTrace(sc *scenario.Scenario, i int, w *scenario.Workload) error {
	where := fmt.Sprintf("workload %d (%s)", i, w.Name)
	cpus, err := c.workloadCPUs(i, w, "cpus", w.CPUs)
	if err != nil {
		return err
	}
	ht, path, err := checkTrace(sc, w.File)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	file, source := w.File, sc.Source
	c.traces = append(c.traces, traceConfig{
		index: i, name: w.Name, proc: c.procOf[i], file: file, cpus: cpus, startNs: w.StartMs * 1e6, scale: w.TimeScale, path: path,
		loop: loopOf(w.Loop), psiGroups: c.machine.psiGroups(c.procs[c.procOf[i]].cgroup),
		open: func() (*heaptrack.Reader, error) {
			rd, _, err := openTrace(source, file)
			return rd, err
		},
		heaptrack: HeaptrackNumbers{
			Calls: ht.Calls, PeakBytes: ht.PeakBytes, LeakedBytes: ht.LeakedBytes, SuppressedBytes: ht.SuppressedBytes,
			DurationMs: ht.DurationMs, PeakRSSBytes: ht.PeakRSSBytes,
			Print: fmt.Sprintf("calls to allocation functions: %d; peak heap memory consumption: %s; total memory leaked: %s; suppressed leaks: %s",
				ht.Calls, heaptrack.FormatBytes(ht.PeakBytes), heaptrack.FormatBytes(ht.LeakedBytes), heaptrack.FormatBytes(ht.SuppressedBytes)),
		},
	})
	return nil
}

// checkTrace reads the whole trace once, so that a malformed or truncated
// file fails the run before it starts, and returns what heaptrack_print
// reports for it, with the file's name for errors.
func checkTrace(sc *scenario.Scenario, file string) (heaptrack.Summary, string, error) {
	rd, path, err := openTrace(sc.Source, file)
	if err != nil {
		return heaptrack.Summary{}, path, err
	}
	defer rd.Close()
	s, err := heaptrack.Summarize(rd)
	return s, path, err
}

// openTrace opens a trace file a scenario from source names; closing the
// Reader closes the file.
func openTrace(source, file string) (*heaptrack.Reader, string, error) {
	f, path, err := openScenarioFile(source, file)
	if err != nil {
		return nil, path, err
	}
	rd, err := heaptrack.NewReadCloser(f, path)
	return rd, path, err
}

// openScenarioFile opens a file a scenario from source names (a trace, a
// size histogram), resolved against the scenario file's directory. An
// embedded scenario's "data/NAME" files come from the binary. It returns
// the file and the name to report in errors.
func openScenarioFile(source, p string) (io.ReadCloser, string, error) {
	if strings.HasPrefix(source, "embedded:") {
		if strings.HasPrefix(p, "data/") {
			f, err := scenarios.OpenData(p)
			return f, source + ":" + p, err
		}
		f, err := os.Open(p)
		return f, p, err
	}
	if !filepath.IsAbs(p) && source != "" {
		p = filepath.Join(filepath.Dir(source), p)
	}
	f, err := os.Open(p)
	return f, p, err
}

// arrivalOf builds the workload's arrival process with its load factor.
func arrivalOf(w *scenario.Workload) (*workload.Arrivals, error) {
	var a *workload.Arrivals
	var err error
	switch w.Arrival {
	case scenario.ArrivalMMPP:
		a, err = workload.NewMMPP(workload.MMPPParams{
			RateLowPerS: w.RateLowPerS, RateHighPerS: w.RateHighPerS, MeanLowNs: w.LowMeanMs * 1e6, MeanHighNs: w.HighMeanMs * 1e6,
		})
	case scenario.ArrivalDiurnal:
		a, err = workload.NewDiurnal(workload.DiurnalParams{
			MeanRatePerS: w.RatePerS, Amplitude: w.DiurnalAmplitude, PeriodNs: w.DiurnalPeriodMs * 1e6, PhaseRad: w.DiurnalPhase,
		})
	case scenario.ArrivalPhases:
		phases := make([]workload.Phase, len(w.PhaseStartMs))
		for i := range phases {
			phases[i] = workload.Phase{StartNs: int64(math.Round(w.PhaseStartMs[i] * 1e6)), RatePerS: w.PhaseRatePerS[i]}
		}
		a, err = workload.NewPhases(phases)
	default:
		a, err = workload.NewPoisson(w.RatePerS)
	}
	if err != nil || w.LoadFactor == 1 {
		return a, err
	}
	return a.WithLoad(w.LoadFactor)
}

// sizeOf builds the workload's size distribution.
func sizeOf(sc *scenario.Scenario, w *scenario.Workload) (workload.Size, error) {
	switch w.Size {
	case scenario.SizeDiscrete:
		return workload.DiscreteSize(w.SizesBytes, w.SizeWeights)
	case scenario.SizeLognormal:
		return workload.LognormalSize(workload.LognormalSizeParams{
			MedianBytes: w.SizeMedianBytes, Sigma: w.SizeSigma, MinBytes: w.SizeMinBytes, MaxBytes: w.SizeMaxBytes,
		})
	case scenario.SizeHistogram:
		f, path, err := openScenarioFile(sc.Source, w.SizeFile)
		if err != nil {
			return workload.Size{}, fmt.Errorf("size_file: %w", err)
		}
		defer f.Close()
		h, err := workload.ParseHistogram(path, f)
		if err != nil {
			return workload.Size{}, err
		}
		return workload.HistogramSize(h)
	default:
		return workload.FixedSize(w.SizeBytes)
	}
}

// lifetimeOf builds the workload's lifetime distribution with its leak.
func lifetimeOf(w *scenario.Workload) (workload.Lifetime, error) {
	var l workload.Lifetime
	var err error
	switch w.Lifetime {
	case scenario.LifetimeLognormal:
		l, err = workload.LognormalLifetime(workload.LognormalLifetimeParams{MedianNs: w.LifetimeMedianMs * 1e6, Sigma: w.LifetimeSigma})
	case scenario.LifetimePareto:
		l, err = workload.ParetoLifetime(workload.ParetoLifetimeParams{Alpha: w.LifetimeAlpha, ScaleNs: w.LifetimeMinMs * 1e6})
	case scenario.LifetimeForever:
		l = workload.ForeverLifetime()
	default:
		l, err = workload.ExponentialLifetime(w.LifetimeMeanMs * 1e6)
	}
	if err != nil || w.LeakFraction == 0 {
		return l, err
	}
	return l.WithLeak(w.LeakFraction)
}

// WorkloadSamplers builds the arrival process and the size and lifetime
// distributions of synthetic workload index of sc (validated) exactly as
// a run of sc builds them, so that a real run of the scenario
// (experiments/real) draws what the simulation draws.
func WorkloadSamplers(sc *scenario.Scenario, index int) (*workload.Arrivals, workload.Size, workload.Lifetime, error) {
	if index < 0 || index >= len(sc.Workloads) || sc.Workloads[index].Kind != scenario.KindSynthetic {
		return nil, workload.Size{}, workload.Lifetime{}, fmt.Errorf("workload %d is not a synthetic workload of %s", index, sc.Run.Name)
	}
	w := &sc.Workloads[index]
	where := fmt.Sprintf("workload %d (%s)", index, w.Name)
	size, err := sizeOf(sc, w)
	if err != nil {
		return nil, workload.Size{}, workload.Lifetime{}, fmt.Errorf("%s: %w", where, err)
	}
	life, err := lifetimeOf(w)
	if err != nil {
		return nil, workload.Size{}, workload.Lifetime{}, fmt.Errorf("%s: %w", where, err)
	}
	arr, err := arrivalOf(w)
	if err != nil {
		return nil, workload.Size{}, workload.Lifetime{}, fmt.Errorf("%s: %w", where, err)
	}
	return arr, size, life, nil
}

// TaskPID is the pid a run gives the kernel-side task of workload i: 1000+i
// for a single task, 10000+1024i+n for member n of a fleet (count > 1).
func TaskPID(i, n int, fleet bool) int64 {
	if fleet {
		return int64(10000 + 1024*i + n)
	}
	return int64(1000 + i)
}

// ProcessPID is the pid a run gives its i-th SBMP process (the implicit
// sbmp-app first, if used, then the [[process]] tables in order).
func ProcessPID(i int) int64 { return int64(firstProcessPID + i) }
