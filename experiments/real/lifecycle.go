package real

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/sbmp/arena"
)

// This file starts the run's processes, releases them and stops them.

// lifetimeSlack is how much longer than the run a worker lives before it
// exits on its own, should the run fail to stop it.
const lifetimeSlack = 10 * time.Second

// maxShards bounds an SBMP process's heap shards.
const maxShards = 64

// startProcs starts a worker per task and per SBMP process, in the
// simulation's pid order, and places each in its cgroup.
func (r *runner) startProcs() error {
	exe := r.opt.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return fmt.Errorf("find the binary to run workers from: %w", err)
		}
	}
	sc := r.p.sc
	base := workerSpec{
		SetupNs:    int64(r.opt.setupTimeout()),
		LifetimeNs: r.p.durationNs + int64(r.opt.grace()+lifetimeSlack),
		Seed:       sc.Run.Seed,
	}
	for _, t := range r.p.tasks {
		w := sc.Workloads[t.workload]
		spec := base
		spec.Kind, spec.Name, spec.Comm, spec.StartNs = workerKind(t.kind), t.name, t.comm, t.startNs
		spec.BytesPerS, spec.TargetBytes, spec.PageCacheBytes = t.bytesPerS, t.targetBytes, t.pageCacheBytes
		spec.Loop, spec.TouchNs, spec.HotBytes, spec.HotFraction = t.loop, t.touchNs, t.hotBytes, t.hotFraction
		spec.ReserveBytes = t.targetBytes
		if spec.ReserveBytes == 0 {
			spec.ReserveBytes = r.reserve(t.cgroup)
		}
		p := &proc{
			spec:   &spec,
			info:   Process{Name: t.name, Kind: t.kind, Workload: w.Name, PID: t.simPID, Cgroup: t.cgroup, OOMScoreAdj: t.oomScoreAdj, DiedNs: -1},
			adjKey: "workload." + strconv.Itoa(t.workload) + ".oom_score_adj",
			group:  r.groupOf(t.cgroup),
		}
		if cpus, ok, _ := pinCPUs(w.CPUs); ok {
			if t.kind == scenario.KindPageCache {
				spec.CPUs = cpus // the reading thread (pin.go)
			} else {
				p.cpus = cpus // the whole process
			}
		}
		if err := r.launch(exe, p); err != nil {
			return err
		}
	}
	for _, pp := range r.p.procs {
		spec := base
		spec.Kind, spec.Name, spec.Comm = kindSBMP, pp.name, commOf(pp.name)
		enc, err := sc.Encode()
		if err != nil {
			return err
		}
		spec.Scenario, spec.Source, spec.Workloads, spec.DurationNs = enc, sc.Source, pp.workloads, r.p.durationNs
		spec.ArenaBytes = (r.reserve(pp.cgroup) + arena.TopBlockBytes - 1) / arena.TopBlockBytes * arena.TopBlockBytes
		spec.Shards = shardsOf(sc, pp.workloads)
		p := &proc{
			spec:   &spec,
			info:   Process{Name: pp.name, Kind: scenario.KindSynthetic, Workload: pp.name, PID: pp.simPID, Cgroup: pp.cgroup, OOMScoreAdj: pp.oomScoreAdj, DiedNs: -1},
			adjKey: pp.key + ".oom_score_adj",
			group:  r.groupOf(pp.cgroup),
		}
		p.cpus = procCPUs(sc, pp.workloads)
		if err := r.launch(exe, p); err != nil {
			return err
		}
	}
	return nil
}

// launch gives p its directory, starts it and places it.
func (r *runner) launch(exe string, p *proc) error {
	p.spec.Dir = filepath.Join(r.tempDir, "pid"+strconv.FormatInt(p.info.PID, 10))
	if err := os.Mkdir(p.spec.Dir, 0o700); err != nil {
		return err
	}
	if p.group == nil {
		return fmt.Errorf("worker %s: no cgroup %s", p.spec.Name, p.info.Cgroup)
	}
	if err := p.start(exe, workerEnvironment(p.spec.Kind)); err != nil {
		return err
	}
	r.procs = append(r.procs, p)
	fmt.Fprintf(r.log, "real: started %s (pid %d, simulated pid %d) in %s\n", p.spec.Name, p.info.RealPID, p.info.PID, p.info.Cgroup)
	return p.place(r.fs, func(key, format string, args ...any) error {
		return r.p.sc.KeyError(key, format, args...)
	})
}

// procCPUs are the CPUs an SBMP process is pinned to: those of all its
// workloads, when it may run on each; nil otherwise.
func procCPUs(sc *scenario.Scenario, workloads []int) []int {
	var all []int
	for _, i := range workloads {
		cpus, ok, _ := pinCPUs(sc.Workloads[i].CPUs)
		if !ok {
			return nil
		}
		all = append(all, cpus...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}

// workerKind is the worker kind of a task's workload kind.
func workerKind(kind string) string {
	switch kind {
	case scenario.KindMlock:
		return kindMlock
	case scenario.KindPageCache:
		return kindPageCache
	}
	return kindAnon
}

// reserve is the address space a process in cgroup path maps when
// nothing else bounds its growth: more than its cgroup lets it hold
// (the limit that confines it, plus the swap it may use), so that it
// grows until the OOM killer stops it, as in the simulation.
func (r *runner) reserve(path string) int64 {
	c := r.p.cgroup(r.p.confinedBy(path))
	if c == nil {
		return 64 << 20
	}
	limit := c.MaxMB << 20
	if swap := r.p.sc.Kernel.SwapMB << 20; swap > 0 {
		if c.SwapMaxMB > 0 {
			swap = min(swap, c.SwapMaxMB<<20)
		}
		limit += swap
	}
	return limit + 64<<20
}

// shardsOf is the number of heap shards of an SBMP process: the threads
// of its busiest workload (a workload's threads default to one per CPU
// of its cpulist, as in the simulation).
func shardsOf(sc *scenario.Scenario, workloads []int) int {
	n := 1
	for _, i := range workloads {
		w := sc.Workloads[i]
		t := w.Threads
		if t == 0 {
			cpus, _ := scenario.ParseCPUList(w.CPUs)
			t = len(cpus)
		}
		n = max(n, t)
	}
	return min(n, maxShards)
}

// begin starts the run: the cgroups' peaks start afresh, the host's
// counters are read as the baseline, and every process is released.
func (r *runner) begin() error {
	for _, g := range append([]*group{r.parent}, r.groups...) {
		if err := r.fs.resetPeaks(g.dir); err != nil {
			return err
		}
	}
	if err := r.smp.baseline(); err != nil {
		return err
	}
	r.t0 = time.Now()
	r.smp.startClock()
	for _, p := range r.procs {
		if err := p.send(ctlGo); err != nil {
			return err
		}
	}
	return nil
}

// stop asks every live process to report and exit, waits up to the
// grace period, then kills those left and waits until they are reaped.
func (r *runner) stop() {
	for _, p := range r.procs {
		if p.alive() {
			_ = p.send(ctlStop)
		}
	}
	graceEnd := time.Now().Add(r.opt.grace())
	for _, p := range r.procs {
		p.waitExited(graceEnd)
	}
	for _, p := range r.procs {
		p.kill()
	}
	reaped := time.Now().Add(teardownTimeout)
	for _, p := range r.procs {
		p.waitExited(reaped)
	}
}
