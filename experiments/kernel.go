package experiments

import (
	"fmt"
	"math"
	"slices"

	"github.com/sbmpsim/sbmpsim/experiments/scenario"
	"github.com/sbmpsim/sbmpsim/model/kernel"
	"github.com/sbmpsim/sbmpsim/model/numa"
	"github.com/sbmpsim/sbmpsim/sim"
)

// maxModelledMiB bounds the machine the kernel model will hold: it keeps
// per-page state (about 21 bytes a page), so 64 GiB costs about 350 MB.
// Larger machines are modelled with an inline [machine] of smaller
// memory_mb; the behaviour studied (watermarks, reclaim, OOM) scales.
const maxModelledMiB = 64 << 10

// faultTickNs is how often a task faults in its next batch of pages.
const faultTickNs = 1_000_000 // 1 ms

// kernelSide is the kernel model in a run: the machine's memory and the
// "task" workloads that fault memory in through it.
type kernelSide struct {
	m     *kernel.Machine
	eng   *sim.Engine
	tasks []*taskWorkload
	// prefNode maps a topology node position to the kernel node its
	// allocations prefer (the first of its zonelist: itself, or the
	// nearest node with memory for a CPU-only node).
	prefNode     []int
	kFault       sim.Kind
	kReap        sim.Kind
	kKswapd      sim.Kind
	kswapdActive []bool
	oomEvents    []OOMEvent
	stallNs      int64
	// topo is the machine; memNodeIDs[k] is the topology node id of
	// kernel node k.
	topo       numa.Topology
	memNodeIDs []int
}

// taskWorkload is one [[workload]] of kind "task".
type taskWorkload struct {
	index       int
	pid         int64
	name        string
	node        int // preferred kernel node
	pagesPerTic int64
	targetPages int64 // 0: no limit
	got         int64
	dead        bool
}

// newKernelSide builds the kernel model of the scenario's machine.
func newKernelSide(sc *scenario.Scenario, eng *sim.Engine) (*kernelSide, error) {
	topo, err := sc.Machine.Topology()
	if err != nil {
		return nil, fmt.Errorf("machine: %w", err)
	}
	if mb := topo.TotalMemoryMB(); mb > maxModelledMiB {
		return nil, fmt.Errorf("machine: %d MiB is more than the kernel model holds (%d MiB); give an inline [machine] with smaller memory_mb", mb, maxModelledMiB)
	}
	cfg, prefNode := kernelConfig(sc, &topo)
	m, err := kernel.NewMachine(cfg)
	if err != nil {
		return nil, err
	}
	for _, c := range sc.Kernel.Cgroups {
		lim := kernel.CgroupLimits{MaxPages: c.MaxMB << 8, HighPages: c.HighMB << 8, SwapMaxPages: c.SwapMaxMB << 8}
		if err := m.AddCgroup(c.Path, lim); err != nil {
			return nil, fmt.Errorf("kernel.cgroup %s: %w", c.Path, err)
		}
	}
	k := &kernelSide{m: m, eng: eng, prefNode: prefNode, kswapdActive: make([]bool, len(cfg.NodePages)), topo: topo}
	for _, n := range topo.Nodes {
		if n.MemoryMB > 0 {
			k.memNodeIDs = append(k.memNodeIDs, n.ID)
		}
	}
	k.kFault = eng.Register("task.fault", k.onFault)
	k.kReap = eng.Register("kernel.oom_reap", k.onReap)
	k.kKswapd = eng.Register("kernel.kswapd", k.onKswapd)
	for i, w := range sc.Workloads {
		if w.Kind != scenario.KindTask {
			continue
		}
		if err := k.addTask(i, w, &topo); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// kernelConfig maps the topology onto the kernel model: one kernel node per
// topology node with memory, zonelists translated to kernel node indices.
func kernelConfig(sc *scenario.Scenario, topo *numa.Topology) (cfg kernel.MachineConfig, prefNode []int) {
	kIndex := map[int]int{} // node id -> kernel node
	cfg = kernel.MachineConfig{
		MinFreeKbytes:         sc.Kernel.MinFreeKbytes,
		WatermarkScaleFactor:  int64(sc.Kernel.WatermarkScaleFactor),
		Swappiness:            sc.Kernel.Swappiness,
		OOMKillAllocatingTask: sc.Kernel.OOMKillAllocatingTask == 1,
		SwapPages:             sc.Kernel.SwapMB << 8,
		ReaperDelayNs:         2_000_000_000, // OOM_REAPER_DELAY = 2*HZ
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

func (k *kernelSide) addTask(i int, w scenario.Workload, topo *numa.Topology) error {
	cpus, err := scenario.ParseCPUList(w.CPUs)
	if err != nil {
		return fmt.Errorf("workload %d (%s): %w", i, w.Name, err)
	}
	nodeID := topo.NodeOfCPU(cpus[0])
	if nodeID == numa.NoNode {
		return fmt.Errorf("workload %d (%s): cpu %d is not on the machine", i, w.Name, cpus[0])
	}
	pos := 0
	for p, n := range topo.Nodes {
		if n.ID == nodeID {
			pos = p
		}
	}
	t := &taskWorkload{
		index: i, pid: int64(1000 + i), name: w.Name, node: k.prefNode[pos],
		pagesPerTic: max(1, int64(math.Round(w.GrowMBPerS*256*faultTickNs/1e9))),
		targetPages: w.RSSMB << 8,
	}
	if err := k.m.AddTask(kernel.Task{PID: t.pid, Comm: w.Name, OOMScoreAdj: w.OOMScoreAdj, Cgroup: w.Cgroup}); err != nil {
		return err
	}
	if err := k.m.PlaceTask(t.pid, cpus[0]); err != nil {
		return err
	}
	k.tasks = append(k.tasks, t)
	if w.PageCacheMB > 0 {
		if _, _, _, err := k.m.AllocFile(t.pid, t.node, w.PageCacheMB<<8); err != nil {
			return err
		}
	}
	k.eng.Schedule(0, k.kFault, int64(len(k.tasks)-1), 0)
	return nil
}

// onFault faults in one tick's pages for task A. Direct-reclaim stalls
// delay the task's next tick; an OOM kill is recorded and its reap
// scheduled.
func (k *kernelSide) onFault(ev sim.Event) {
	t := k.tasks[ev.A]
	if t.dead {
		return
	}
	want := t.pagesPerTic
	if t.targetPages > 0 {
		want = min(want, t.targetPages-t.got)
	}
	if want <= 0 {
		return
	}
	got, stall, oom, err := k.m.AllocAnon(t.pid, t.node, want)
	if err != nil {
		// The task was killed by an earlier OOM: it stops.
		t.dead = true
		return
	}
	t.got += got
	k.stallNs += stall
	k.wakeKswapd(ev.At)
	if oom != nil {
		k.recordOOM(ev.At, oom)
	}
	if !t.dead {
		k.eng.Schedule(ev.At+faultTickNs+stall, k.kFault, ev.A, 0)
	}
}

func (k *kernelSide) recordOOM(now int64, oom *kernel.OOMEvent) {
	if oom.Action != kernel.OOMKill {
		return // wait for the earlier victim, or nothing killable
	}
	k.oomEvents = append(k.oomEvents, OOMEvent{TimeNs: now, Scope: oom.Scope, VictimPID: int(oom.VictimPID), VictimComm: oom.VictimComm, VictimPoints: oom.Points})
	for _, t := range k.tasks {
		if t.pid == oom.VictimPID {
			t.dead = true
		}
	}
	k.eng.Schedule(now+k.m.Config().ReaperDelayNs, k.kReap, oom.VictimPID, 0)
}

func (k *kernelSide) onReap(ev sim.Event) {
	if err := k.m.Reap(ev.A); err != nil {
		panic(err) // the pid came from the machine's own OOM event
	}
}

// wakeKswapd schedules kswapd on every node an allocation woke.
func (k *kernelSide) wakeKswapd(now int64) {
	for n := range k.kswapdActive {
		if k.m.KswapdWanted(n) && !k.kswapdActive[n] {
			k.kswapdActive[n] = true
			k.eng.Schedule(now, k.kKswapd, int64(n), 0)
		}
	}
}

func (k *kernelSide) onKswapd(ev sim.Event) {
	cost, again := k.m.KswapdStep(int(ev.A))
	if !again {
		k.kswapdActive[ev.A] = false
		return
	}
	k.eng.Schedule(ev.At+max(cost, 1), k.kKswapd, ev.A, 0)
}

// KernelSummary is the kernel model's part of summary.json.
type KernelSummary struct {
	SwapUsedPagesEnd     int64           `json:"swap_used_pages_end"`
	PagesSwappedOut      int64           `json:"pages_swapped_out"`
	PagesReclaimedFile   int64           `json:"pages_reclaimed_file"`
	DirectReclaims       int64           `json:"direct_reclaims"`
	DirectReclaimStallNs int64           `json:"direct_reclaim_stall_ns"`
	KswapdRuns           int64           `json:"kswapd_runs"`
	FreePagesEnd         int64           `json:"free_pages_end"`
	FilePagesEnd         int64           `json:"file_pages_end"`
	AnonPagesEnd         int64           `json:"anon_pages_end"`
	Tasks                []TaskSummary   `json:"tasks"`
	Cgroups              []CgroupSummary `json:"cgroups"`
	MemcgHighStallNs     int64           `json:"memcg_high_stall_ns"`
}

// CgroupSummary is one cgroup at the end of the run: memory.current,
// memory.peak, memory.swap.current and memory.events.
type CgroupSummary struct {
	Path             string `json:"path"`
	CurrentPages     int64  `json:"current_pages"`
	PeakPages        int64  `json:"peak_pages"`
	SwapCurrentPages int64  `json:"swap_current_pages"`
	EventsMax        int64  `json:"events_max"`
	EventsHigh       int64  `json:"events_high"`
	EventsOOM        int64  `json:"events_oom"`
	EventsOOMKill    int64  `json:"events_oom_kill"`
}

// TaskSummary is one task at the end of the run, with its oom_score as
// /proc/PID/oom_score would show it.
type TaskSummary struct {
	PID          int64  `json:"pid"`
	Comm         string `json:"comm"`
	RSSAnonPages int64  `json:"rss_anon_pages"`
	SwapEntries  int64  `json:"swap_entries"`
	OOMScoreAdj  int64  `json:"oom_score_adj"`
	OOMScore     int64  `json:"oom_score"`
	Killed       bool   `json:"oom_killed"`
}

func (k *kernelSide) summary() *KernelSummary {
	st := k.m.Stats()
	s := &KernelSummary{
		SwapUsedPagesEnd: k.m.SwapUsed(), PagesSwappedOut: st.PagesSwappedOut,
		PagesReclaimedFile: st.PagesReclaimedFile, DirectReclaims: st.DirectReclaims,
		DirectReclaimStallNs: st.DirectReclaimStallNs, KswapdRuns: st.KswapdRuns,
	}
	for n := range k.kswapdActive {
		s.FreePagesEnd += k.m.NodeFreePages(n)
		s.FilePagesEnd += k.m.NodeFilePages(n)
		s.AnonPagesEnd += k.m.NodeAnonPages(n)
	}
	s.MemcgHighStallNs = st.MemcgHighStallNs
	for _, path := range k.m.CgroupPaths() {
		c, _ := k.m.Cgroup(path)
		s.Cgroups = append(s.Cgroups, CgroupSummary{
			Path: path, CurrentPages: c.CurrentPages, PeakPages: c.PeakPages, SwapCurrentPages: c.SwapCurrentPages,
			EventsMax: c.Events[kernel.MemcgMax], EventsHigh: c.Events[kernel.MemcgHigh],
			EventsOOM: c.Events[kernel.MemcgOOM], EventsOOMKill: c.Events[kernel.MemcgOOMKill],
		})
	}
	total := k.m.TotalPages()
	for _, t := range k.m.Tasks() {
		s.Tasks = append(s.Tasks, TaskSummary{
			PID: t.PID, Comm: t.Comm, RSSAnonPages: t.RSSAnonPages, SwapEntries: t.SwapEntries,
			OOMScoreAdj: t.OOMScoreAdj, OOMScore: kernel.ProcOOMScore(&t, total), Killed: t.OOMVictim,
		})
	}
	return s
}
