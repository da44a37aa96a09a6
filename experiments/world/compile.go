package world

import (
	"fmt"
	"math/bits"
	"slices"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/model/kernel"
	"github.com/sbmpsim/sbmpsim/model/numa"
	"github.com/sbmpsim/sbmpsim/policies"
	"github.com/sbmpsim/sbmpsim/sbmp"
	"github.com/sbmpsim/sbmpsim/sim"
)

// MaxModelledMiB bounds the machine the kernel model will hold (the
// memory of all its nodes together, in MiB): 4 TiB. The model keeps a
// byte of buddy state per page of the machine (256 MiB per simulated
// TiB) and, where memory has been used, about 33 bytes more per page
// (model/kernel/pagetable.go): so what a run costs follows the memory
// its workloads use, not the machine. Measured (peak resident set of a
// whole 60 s run of the default scenario's workloads, which use about
// 2 GiB): 60 MB at 2 x 512 MiB, 165 MB on intel-2s at its preset
// 2 x 96 GiB (1.7 GB when every page had its state), 596 MB at
// 2 x 512 GiB. A scenario that fills a 4 TiB machine needs about 33 GiB
// of page state, more than this project's 24 GiB host has.
const MaxModelledMiB = 4 << 20

// config is a scenario compiled for the simulation: every side's
// settings, resolved and checked against the machine, so that no side
// reads the scenario. A config is compiled for one run: the samplers it
// holds (arrival processes) keep their state in it.
type config struct {
	name, source string
	seeds        sim.Seeds
	durationNs   int64
	sampleNs     int64
	perCPU       bool
	// encoded is the resolved scenario as canonical TOML.
	encoded []byte

	machine machineConfig
	// workloadKinds are the workloads' kinds by index; procOf is the
	// index in procs of the process an SBMP workload allocates in (-1
	// for a workload outside SBMP).
	workloadKinds []string
	// sloNs are the workloads' degrade-SLI latency objectives by index
	// (slo_latency_ms), and workloadNames their names.
	sloNs         []int64
	workloadNames []string
	// probes are the [[probe]]s.
	probes []probeConfig
	procOf []int
	// Each side's parts, in workload (or declaration) order.
	tasks     []taskConfig
	kmallocs  []kmallocConfig
	procs     []procConfig
	synthetic []syntheticConfig
	programs  []programConfig
	traces    []traceConfig
	faults    []faultConfig
	// blockBytes is a Tier-1 block's size.
	blockBytes int64
}

// compile compiles sc (already validated) for one run.
func compile(sc *scenario.Scenario) (*config, error) {
	c := &config{
		name: sc.Run.Name, source: sc.Source, seeds: sim.Seeds{Master: sc.Run.Seed},
		durationNs: sc.Run.DurationMs * 1e6, sampleNs: sc.Output.SampleIntervalMs * 1e6, perCPU: sc.Output.PerCPU,
		blockBytes: int64(sc.SBMP.Tier1BlockKiB) << 10,
	}
	var err error
	if c.encoded, err = sc.Encode(); err != nil {
		return nil, err
	}
	if err := compileMachine(sc, &c.machine); err != nil {
		return nil, err
	}
	for _, w := range sc.Workloads {
		c.workloadKinds = append(c.workloadKinds, w.Kind)
		c.sloNs = append(c.sloNs, int64(w.SLOLatencyMs*1e6))
		c.workloadNames = append(c.workloadNames, w.Name)
	}
	c.probes = compileProbes(sc)
	if err := c.compileKernelWorkloads(sc); err != nil {
		return nil, err
	}
	if err := c.compileProcesses(sc); err != nil {
		return nil, err
	}
	if err := c.compileSBMPWorkloads(sc); err != nil {
		return nil, err
	}
	return c, c.compileFaults(sc)
}

// compileMachine builds the topology and maps it onto the kernel model:
// one kernel node per topology node with memory, zonelists translated to
// kernel node indices.
func compileMachine(sc *scenario.Scenario, m *machineConfig) error {
	topo, err := sc.Machine.Topology()
	if err != nil {
		return fmt.Errorf("machine: %w", err)
	}
	if mb := topo.TotalMemoryMB(); mb > MaxModelledMiB {
		return fmt.Errorf("machine: %d MiB is more than the kernel model holds (%d MiB); give an inline [machine] with smaller memory_mb", mb, MaxModelledMiB)
	}
	m.topo = topo
	m.kernel, m.prefNode = kernelConfig(sc, &m.topo)
	for _, n := range topo.Nodes {
		if n.MemoryMB > 0 {
			m.memNodeIDs = append(m.memNodeIDs, n.ID)
		}
	}
	for _, cg := range sc.Kernel.Cgroups {
		m.cgroups = append(m.cgroups, cgroupConfig{
			path:   cg.Path,
			limits: kernel.CgroupLimits{MaxPages: cg.MaxMB << 8, HighPages: cg.HighMB << 8, SwapMaxPages: cg.SwapMaxMB << 8},
		})
	}
	return nil
}

// kernelConfig is the kernel model's configuration of the machine, and
// the kernel node each topology node position prefers.
func kernelConfig(sc *scenario.Scenario, topo *numa.Topology) (cfg kernel.MachineConfig, prefNode []int) {
	kIndex := map[int]int{} // node id -> kernel node
	cfg = kernel.MachineConfig{
		MinFreeKbytes:         sc.Kernel.MinFreeKbytes,
		WatermarkScaleFactor:  int64(sc.Kernel.WatermarkScaleFactor),
		Swappiness:            sc.Kernel.Swappiness,
		CgroupV1:              sc.Kernel.CgroupVersion == 1,
		OOMKillAllocatingTask: sc.Kernel.OOMKillAllocatingTask == 1,
		SwapPages:             sc.Kernel.SwapMB << 8,
		ReaperDelayNs:         victimExitNs,
		Khugepaged:            sc.Kernel.THPEnabled != "never",
	}
	cs := kernel.DefaultCompactionSysctls()
	cs.ExtfragThreshold, cs.Proactiveness = sc.Kernel.ExtfragThreshold, sc.Kernel.CompactionProactiveness
	cfg.Compaction = &cs
	cfg.Cost = kernel.DefaultReclaimCost()
	if d := sc.Machine.DiskReadNs; d > 0 {
		// One random read: a page-cache miss's and a swap-in's.
		cfg.Cost.ReadNsPerPage, cfg.Cost.SwapInNsPerPage = d, d
	}
	if d := sc.Machine.DiskReadaheadNsPerPage; d > 0 {
		cfg.Cost.SwapReadaheadNsPerPage = d
	}
	for _, n := range topo.Nodes {
		if n.MemoryMB > 0 {
			kIndex[n.ID] = len(cfg.NodePages)
			cfg.NodePages = append(cfg.NodePages, n.MemoryMB<<8)
		}
	}
	lists := topo.Zonelists()
	prefNode = make([]int, len(topo.Nodes))
	cfg.Zonelists = make([][]int, len(cfg.NodePages))
	for pos, n := range topo.Nodes {
		var zl []int
		for _, id := range lists[pos] {
			zl = append(zl, kIndex[id])
		}
		prefNode[pos] = zl[0]
		if k, ok := kIndex[n.ID]; ok {
			cfg.Zonelists[k] = zl
		}
	}
	// Each CPU's page lists live on the kernel nodes; a CPU allocates
	// from its node's list (a CPU-only node's nearest memory node).
	if cpus := topo.CPUs(); len(cpus) > 0 {
		cfg.CPUNodes = make([]int, slices.Max(cpus)+1)
		for pos, n := range topo.Nodes {
			for _, c := range n.CPUs {
				cfg.CPUNodes[c] = prefNode[pos]
			}
		}
	}
	return cfg, prefNode
}

// compileProcesses lists one SBMP process per process some workload
// allocates in: the implicit sbmp-app first if used, then the declared
// [[process]] tables in order. Pids count up from firstProcessPID. Each
// process is placed on the first CPU of its first workload.
func (c *config) compileProcesses(sc *scenario.Scenario) error {
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
			return fmt.Errorf("workload %s: cpus: %w", w.Name, err)
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
	sel, err := sbmp.ParseSlabSelect(sc.SBMP.SlabSelect)
	if err != nil {
		return fmt.Errorf("sbmp.slab_select: %w", err)
	}
	sbmpCfg := sbmp.Config{
		SlotSizes: sc.SBMP.SlotSizes, Tier0CapacitySlots: sc.SBMP.Tier0CapacitySlots,
		BlockOrder: bits.Len(uint(sc.SBMP.Tier1BlockKiB/4)) - 1,
		SlabSelect: sel, RemoteFreeBatch: sc.SBMP.RemoteFreeBatch,
		FSM: sbmp.FSMConfig{
			DriftWindowNs: sc.SBMP.FSMDriftWindowMs * 1e6, DriftRemoteShare: sc.SBMP.FSMDriftRemoteShare,
			DriftMinSlots: sc.SBMP.FSMDriftMinSlots, SyncTimeoutFactor: sc.SBMP.FSMSyncTimeoutFactor,
		},
	}
	place, err := compilePlacement(sc)
	if err != nil {
		return err
	}
	for i, p := range list {
		cpu := firstCPU[p.Name]
		if err := c.machine.checkCPU(cpu); err != nil {
			return fmt.Errorf("process %s: %w", p.Name, err)
		}
		c.procs = append(c.procs, procConfig{
			name: p.Name, pid: ProcessPID(i), cgroup: p.Cgroup, oomScoreAdj: p.OOMScoreAdj,
			cpu: cpu, sbmp: sbmpCfg, policy: compilePolicy(sc.Policy), place: place,
		})
	}
	c.procOf = make([]int, len(sc.Workloads))
	for i, w := range sc.Workloads {
		c.procOf[i] = -1
		if scenario.UsesSBMP(w.Kind) {
			c.procOf[i] = slices.IndexFunc(c.procs, func(p procConfig) bool { return p.name == w.Process })
		}
	}
	return nil
}

// compilePlacement is [sbmp] placement with the THP modes of [kernel] and
// the gfp masks of kernel placement.
func compilePlacement(sc *scenario.Scenario) (placement, error) {
	b, k := &sc.SBMP, &sc.Kernel
	p := placement{kernel: b.Placement == scenario.PlacementKernel, madvised: b.MadviseHugepage}
	p.thp = map[string]kernel.THPEnabledMode{"always": kernel.THPEnabledAlways, "madvise": kernel.THPEnabledMadvise, "never": kernel.THPEnabledNever}[k.THPEnabled]
	p.defrag = map[string]kernel.THPDefrag{
		"always": kernel.THPDefragAlways, "defer": kernel.THPDefragDefer, "defer+madvise": kernel.THPDefragDeferMadvise,
		"madvise": kernel.THPDefragMadvise, "never": kernel.THPDefragNever,
	}[k.THPDefrag]
	for _, m := range []struct {
		key, mask string
		dst       *kernel.GFPFlags
	}{{"sbmp.tier1_gfp", b.Tier1GFP, &p.tier1Mask}, {"sbmp.tier2_gfp", b.Tier2GFP, &p.tier2Mask}} {
		g, err := scenario.ParseGFP(m.mask)
		if err != nil {
			return p, fmt.Errorf("%s: %w", m.key, err)
		}
		*m.dst = kernelMask(g)
	}
	return p, nil
}

// kernelMask is the kernel model's gfp mask of a parsed scenario mask.
func kernelMask(g scenario.GFP) kernel.GFPFlags {
	mask := kernel.MaskKernel
	if g.Atomic {
		mask = kernel.MaskAtomic
	}
	for _, f := range []struct {
		on  bool
		bit kernel.GFPFlags
	}{{g.NoRetry, kernel.GFPNoRetry}, {g.RetryMayFail, kernel.GFPRetryMayFail}, {g.High, kernel.GFPHigh}, {g.Account, kernel.GFPAccount}} {
		if f.on {
			mask |= f.bit
		}
	}
	return mask
}

// compilePolicy names the policies of p with their parameters.
func compilePolicy(p scenario.Policy) policySet {
	return policySet{
		merge: p.Merge, refill: p.Refill, degrade: p.Degrade,
		mergeParams: p.Params(policies.KindMerge), refillParams: p.Params(policies.KindRefill), degradeParams: p.Params(policies.KindDegrade),
	}
}
