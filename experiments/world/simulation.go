package world

import (
	"fmt"

	"github.com/sbmpsim/sbmpsim/sim"
)

// simulation is one run's world: the engine and every side, each owning
// its own state. It builds the sides from the compiled config in a fixed
// order and samples them; the sides never reach back into it.
type simulation struct {
	cfg     *config
	eng     *sim.Engine
	books   *ledger
	kernel  *kernelSide
	tasks   *taskDriver
	kmalloc *kmallocDriver
	cost    *numaCost
	fp      footprint
	psi     *pressure
	// procs are the processes whose heaps SBMP manages, in the order of
	// cfg.procs; empty when no workload allocates through SBMP.
	procs []*sbmpSide
	synth *synthDriver
	// progs and traces hold each workload of their kind at its workload
	// index; nil elsewhere.
	progs   []*goWorkload
	traces  []*traceWorkload
	faults  *faultSide // nil without faults
	kSample sim.Kind
	ts      Timeseries
	// perCPU is the number of per-CPU columns ([output] per_cpu).
	perCPU  int
	observe func(*Snapshot)
	snap    Snapshot
}

// newSimulation builds the world of cfg on an engine with the given
// limits and takes its first sample. Close it when done.
//
// The order below is part of every run's identity: event kinds are
// numbered in the order they are registered, events scheduled for the
// same time run in the order they were scheduled, and the trace hash
// covers both. Reordering it changes every trace hash.
func newSimulation(cfg *config, limits sim.Limits, observe func(*Snapshot)) (*simulation, error) {
	n := len(cfg.workloadKinds)
	s := &simulation{
		cfg: cfg, eng: sim.New(limits), books: newLedger(n), ts: newTimeseries(),
		progs: make([]*goWorkload, n), traces: make([]*traceWorkload, n), observe: observe,
	}
	ok := false
	defer func() {
		if !ok {
			s.close()
		}
	}()
	if len(cfg.probes) > 0 {
		s.books.probes = newProbeSet(cfg.probes, cfg.seeds)
	}
	s.psi = newPressure(1 + len(cfg.machine.cgroups))
	s.synth = newSynthDriver(s.eng, s.psi, n)
	s.kSample = s.eng.Register("sample", s.onSample)
	if err := s.buildKernel(); err != nil {
		return nil, err
	}
	if err := s.buildProcesses(); err != nil {
		return nil, err
	}
	if err := s.buildWorkloads(); err != nil {
		return nil, err
	}
	s.ts.Columns = append(s.ts.Columns, s.kernel.kernelSLOColumns()...)
	s.ts.Columns = append(s.ts.Columns, ledgerSLOColumns()...)
	if len(s.procs) > 0 {
		s.ts.Columns = append(s.ts.Columns, sbmpSLOColumns...)
	}
	if len(cfg.faults) > 0 {
		s.faults = newFaultSide(s.eng, cfg.faults, s.kernel, s.cost, s.procs, s.synth, s.progs, cfg.seeds)
	}
	s.onSample(sim.Event{At: 0})
	ok = true
	return s, nil
}

// buildKernel builds the kernel model and starts the workloads outside
// SBMP in workload order.
func (s *simulation) buildKernel() error {
	cfg := s.cfg
	s.tasks = newTaskDriver(s.eng, s.psi, cfg.seeds)
	var err error
	if s.kernel, err = newKernelSide(s.eng, &cfg.machine); err != nil {
		return err
	}
	s.cost = newNUMACost(&cfg.machine.topo, cfg.machine.memNodeIDs)
	s.kmalloc = newKmallocDriver(s.eng, s.kernel)
	// Tasks and leaks are started in workload order, as they were
	// declared.
	ti, ki := 0, 0
	for len(cfg.tasks[ti:]) > 0 || len(cfg.kmallocs[ki:]) > 0 {
		if ki == len(cfg.kmallocs) || ti < len(cfg.tasks) && cfg.tasks[ti].index < cfg.kmallocs[ki].index {
			t := &cfg.tasks[ti]
			if err := s.tasks.add(s.kernel, t); err != nil {
				return err
			}
			ti++
			continue
		}
		s.kmalloc.add(&cfg.kmallocs[ki])
		ki++
	}
	s.ts.Columns = append(s.ts.Columns, kernelColumns...)
	s.ts.Columns = append(s.ts.Columns, s.kernel.nodeColumns()...)
	s.ts.Columns = append(s.ts.Columns, psiColumns...)
	s.ts.Columns = append(s.ts.Columns, vmstatColumns()...)
	return nil
}

// buildProcesses starts the SBMP processes.
func (s *simulation) buildProcesses() error {
	for i := range s.cfg.procs {
		p, err := newSBMPSide(s.eng, s.kernel, s.cost, &s.fp, &s.cfg.procs[i])
		if err != nil {
			return err
		}
		s.procs = append(s.procs, p)
	}
	if len(s.procs) == 0 {
		return nil
	}
	s.ts.Columns = append(s.ts.Columns, sbmpColumns...)
	if s.cfg.perCPU {
		// cpu0_tier0_free is among sbmpColumns already.
		s.perCPU = len(s.kernel.m.Config().CPUNodes)
		for c := 1; c < s.perCPU; c++ {
			s.ts.Columns = append(s.ts.Columns, fmt.Sprintf("cpu%d_tier0_free", c))
		}
	}
	return nil
}

// buildWorkloads starts the workloads that allocate through SBMP, in
// workload order, each with its account in the books.
func (s *simulation) buildWorkloads() error {
	cfg := s.cfg
	si, pi, ti := 0, 0, 0
	for i, kind := range cfg.workloadKinds {
		if cfg.procOf[i] < 0 {
			continue
		}
		proc := s.procs[cfg.procOf[i]]
		switch {
		case si < len(cfg.synthetic) && cfg.synthetic[si].index == i:
			c := &cfg.synthetic[si]
			s.synth.add(c, proc, s.books.open(i, c.name, cfg.sloNs[i]), cfg.seeds, cfg.machine.psiGroups(proc.cfg.cgroup))
			si++
		case pi < len(cfg.programs) && cfg.programs[pi].index == i:
			c := &cfg.programs[pi]
			g, err := newGoWorkload(s.eng, s.psi, c, proc, s.books.open(i, c.name, cfg.sloNs[i]), cfg.seeds)
			if err != nil {
				return err
			}
			s.progs[i] = g
			s.ts.Columns = append(s.ts.Columns, goColumns(c.name)...)
			pi++
		case ti < len(cfg.traces) && cfg.traces[ti].index == i:
			c := &cfg.traces[ti]
			t, err := newTraceWorkload(s.eng, s.psi, c, proc, s.books.open(i, c.name, cfg.sloNs[i]), cfg.seeds)
			if err != nil {
				return err
			}
			s.traces[i] = t
			ti++
		default:
			panic(fmt.Sprintf("world: workload %d of kind %s allocates through SBMP but was not compiled", i, kind))
		}
	}
	return nil
}

// close releases what a run holds open (trace files).
func (s *simulation) close() {
	for _, t := range s.traces {
		if t != nil {
			t.stop()
		}
	}
}

func (s *simulation) onSample(ev sim.Event) {
	s.sample(ev.At)
	s.eng.Schedule(ev.At+s.cfg.sampleNs, s.kSample, 0, 0)
}

// sample adds a row to the time series at now, and shows it to the
// observer.
func (s *simulation) sample(now int64) {
	b := s.books
	row := []float64{float64(now), float64(b.liveObjects), float64(b.liveBytes), float64(b.allocs), float64(b.frees)}
	row = s.kernel.appendSample(row)
	some, full := s.psi.totals(0, now)
	row = append(row, float64(some), float64(full))
	row = s.kernel.appendVMStat(row)
	if len(s.procs) > 0 {
		row = appendSBMPSample(row, s.procs, s.perCPU)
	}
	for _, g := range s.progs {
		if g != nil {
			row = g.sample(row)
		}
	}
	row = s.kernel.appendKernelSLO(row)
	row = b.appendLedgerSLO(row)
	if len(s.procs) > 0 {
		row = appendSBMPSLO(row, s.procs)
	}
	s.ts.add(row...)
	if s.observe != nil {
		s.observe(s.snapshot(now, row))
	}
}

// snapshot fills the run's Snapshot for the sample row taken at now.
func (s *simulation) snapshot(now int64, row []float64) *Snapshot {
	sn := &s.snap
	sn.TimeNs, sn.Columns, sn.Row = now, s.ts.Columns, row
	sn.Nodes = s.kernel.appendNodes(sn.Nodes[:0])
	sn.OOMEvents = s.kernel.oomEvents
	sn.MinFreeKbytes = s.kernel.m.Config().MinFreeKbytes
	if len(sn.Processes) != len(s.procs) {
		sn.Processes = make([]ProcessSnapshot, len(s.procs))
	}
	cpus := len(s.kernel.m.Config().CPUNodes)
	for i, p := range s.procs {
		ps := &sn.Processes[i]
		ps.Name, ps.Dead, ps.Stats, ps.Degraded = p.cfg.name, p.dead, p.stats(), p.a.Degraded()
		ps.Tier0Free, ps.FSM = ps.Tier0Free[:0], ps.FSM[:0]
		for c := range cpus {
			ps.Tier0Free = append(ps.Tier0Free, p.a.Tier0Free(c, 0))
			ps.FSM = append(ps.FSM, p.a.CPUState(c))
		}
		ps.Alerts, ps.AlertsAtNs, ps.HeldPages = p.lastAlerts, p.lastAlertsNs, p.held
	}
	return sn
}
