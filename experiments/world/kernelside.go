package world

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/model/kernel"
	"github.com/sbmpsim/sbmpsim/model/numa"
	"github.com/sbmpsim/sbmpsim/sim"
)

// victimExitNs is how long after an OOM kill the victim's memory is free
// again. SIGKILL wakes the victim, which exits and frees its address
// space in exit_mmap: milliseconds, not the OOM reaper's 2 s
// (OOM_REAPER_DELAY), which is only the fallback for a victim stuck in
// the kernel. 10 ms is a generous exit for the process sizes modelled.
const victimExitNs = 10_000_000

// machineConfig is the scenario's machine compiled for the kernel model:
// the topology, the kernel's configuration with one kernel node per
// topology node that has memory, and the cgroups.
type machineConfig struct {
	topo   numa.Topology
	kernel kernel.MachineConfig
	// prefNode maps a topology node position to the kernel node its
	// allocations prefer (the first of its zonelist: itself, or the
	// nearest node with memory for a CPU-only node).
	prefNode []int
	// memNodeIDs[k] is the topology node id of kernel node k.
	memNodeIDs []int
	cgroups    []cgroupConfig
}

// cgroupConfig is one [[kernel.cgroup]].
type cgroupConfig struct {
	path   string
	limits kernel.CgroupLimits
}

// kernelNodeOfID is the kernel node of topology node id, or -1 when that
// node has no memory (or does not exist).
func (c *machineConfig) kernelNodeOfID(id int) int {
	for i, m := range c.memNodeIDs {
		if m == id {
			return i
		}
	}
	return -1
}

// kernelNodeOfCPU is the kernel node cpu's allocations prefer.
func (c *machineConfig) kernelNodeOfCPU(cpu int) int {
	id := c.topo.NodeOfCPU(cpu)
	for p, n := range c.topo.Nodes {
		if n.ID == id {
			return c.prefNode[p]
		}
	}
	return 0
}

// psiGroups are the PSI groups a task of cgroup path stalls in: the
// machine's (0), and each declared cgroup (1 + its index) that is path or
// an ancestor of it.
func (c *machineConfig) psiGroups(path string) []int {
	groups := []int{0}
	for i, cg := range c.cgroups {
		if path == cg.path || strings.HasPrefix(path, cg.path+"/") {
			groups = append(groups, 1+i)
		}
	}
	return groups
}

// checkCPU reports whether cpu is on the machine.
func (c *machineConfig) checkCPU(cpu int) error {
	if c.topo.NodeOfCPU(cpu) == numa.NoNode {
		return fmt.Errorf("cpu %d is not on the machine", cpu)
	}
	return nil
}

// kernelSide is the kernel model in a run: the machine's memory, kswapd
// on each node, and the OOM killer's kills and reaps. The workloads that
// fault memory in through it (tasks, kmalloc leaks, SBMP's page source)
// call it; it calls back only through the kill hooks.
type kernelSide struct {
	m            *kernel.Machine
	eng          *sim.Engine
	kReap        sim.Kind
	kKswapd      sim.Kind
	kKcompactd   sim.Kind
	kProactive   sim.Kind
	kswapdActive []bool
	// kcompactdActive[n] is set while node n's kcompactd is scheduled.
	kcompactdActive []bool
	// memNodeIDs[k] is the topology node id of kernel node k.
	memNodeIDs []int
	oomEvents  []OOMEvent
	// killHooks are told when the OOM killer kills their pid.
	killHooks map[int64]func(now int64)
}

// newKernelSide builds the kernel model of the machine with its cgroups
// and registers kswapd's and the reaper's events. The machine reads the
// engine's clock, so that its swap writes take time.
func newKernelSide(eng *sim.Engine, cfg *machineConfig) (*kernelSide, error) {
	kc := cfg.kernel
	kc.Clock = eng.Now
	m, err := kernel.NewMachine(kc)
	if err != nil {
		return nil, err
	}
	for _, c := range cfg.cgroups {
		if err := m.AddCgroup(c.path, c.limits); err != nil {
			return nil, fmt.Errorf("kernel.cgroup %s: %w", c.path, err)
		}
	}
	n := len(cfg.kernel.NodePages)
	k := &kernelSide{
		m: m, eng: eng, memNodeIDs: cfg.memNodeIDs,
		kswapdActive: make([]bool, n), kcompactdActive: make([]bool, n), killHooks: map[int64]func(int64){},
	}
	k.kReap = eng.Register("kernel.oom_reap", k.onReap)
	k.kKswapd = eng.Register("kernel.kswapd", k.onKswapd)
	k.kKcompactd = eng.Register("kernel.kcompactd", k.onKcompactd)
	k.kProactive = eng.Register("kernel.proactive_compact", k.onProactive)
	if cfg.kernel.Compaction.Proactiveness > 0 {
		// kcompactd checks the fragmentation score every
		// HPAGE_FRAG_CHECK_INTERVAL_MSEC when proactiveness is on.
		eng.Schedule(kernel.ProactiveCheckIntervalNs, k.kProactive, 0, 0)
	}
	return k, nil
}

// onKill registers f to run when pid is OOM-killed.
func (k *kernelSide) onKill(pid int64, f func(now int64)) { k.killHooks[pid] = f }

// nodes is the number of kernel nodes.
func (k *kernelSide) nodes() int { return len(k.kswapdActive) }

// recordOOM records an OOM kill, tells the victim's hook, and schedules
// the reap of its memory when the victim has exited.
func (k *kernelSide) recordOOM(now int64, oom *kernel.OOMEvent) {
	if oom.Action != kernel.OOMKill {
		return // wait for the earlier victim, or nothing killable
	}
	e := OOMEvent{TimeNs: now, Scope: oom.Scope, VictimPID: int(oom.VictimPID), VictimComm: oom.VictimComm, VictimPoints: oom.Points}
	e.ScopeAnonPages, e.ScopeFilePages = k.scopeMemory(oom.Scope)
	k.oomEvents = append(k.oomEvents, e)
	if f := k.killHooks[oom.VictimPID]; f != nil {
		f(now)
	}
	k.eng.Schedule(now+k.m.Config().ReaperDelayNs, k.kReap, oom.VictimPID, 0)
}

// scopeMemory is the anonymous and page-cache pages of an OOM's scope as
// the kill found them: memory.stat's anon and file of the cgroup for
// "memcg:PATH", of the root cgroup (every user page of the machine,
// hierarchically) for "global". anon counts mlocked pages too
// (NR_ANON_MAPPED), as the kernel's does.
func (k *kernelSide) scopeMemory(scope string) (anon, file int64) {
	path, ok := strings.CutPrefix(scope, "memcg:")
	if !ok {
		path = "/"
	}
	cg, ok := k.m.Cgroup(path)
	if !ok {
		panic("world: the OOM event's cgroup " + path + " is not the machine's") // the scope came from the machine
	}
	return cg.Stat[kernel.MemcgStatAnon], cg.Stat[kernel.MemcgStatFile]
}

func (k *kernelSide) onReap(ev sim.Event) {
	if err := k.m.Reap(ev.A); err != nil {
		panic(err) // the pid came from the machine's own OOM event
	}
}

// wakeKswapd schedules kswapd, and kcompactd, on every node an
// allocation or kswapd woke.
func (k *kernelSide) wakeKswapd(now int64) {
	for n := range k.kswapdActive {
		if k.m.KswapdWanted(n) && !k.kswapdActive[n] {
			k.kswapdActive[n] = true
			k.eng.Schedule(now, k.kKswapd, int64(n), 0)
		}
		if k.m.KcompactdWanted(n) && !k.kcompactdActive[n] {
			k.kcompactdActive[n] = true
			k.eng.Schedule(now, k.kKcompactd, int64(n), 0)
		}
	}
}

func (k *kernelSide) onKswapd(ev sim.Event) {
	cost, again := k.m.KswapdStep(int(ev.A))
	if !again {
		k.kswapdActive[ev.A] = false
		// kswapd going back to sleep after balancing for a high-order
		// request wakes kcompactd (wakeup_kcompactd).
		k.wakeKswapd(ev.At)
		return
	}
	k.eng.Schedule(ev.At+max(cost, 1), k.kKswapd, ev.A, 0)
}

// onKcompactd runs node A's kcompactd (kcompactd_do_work) once it has
// spent its time.
func (k *kernelSide) onKcompactd(ev sim.Event) {
	cost, again := k.m.KcompactdStep(int(ev.A))
	if again || k.m.KcompactdWanted(int(ev.A)) {
		k.eng.Schedule(ev.At+max(cost, 1), k.kKcompactd, ev.A, 0)
		return
	}
	k.kcompactdActive[ev.A] = false
}

// onProactive runs proactive compaction on every node whose
// fragmentation score asks for it, every HPAGE_FRAG_CHECK_INTERVAL_MSEC.
func (k *kernelSide) onProactive(ev sim.Event) {
	for n := range k.nodes() {
		k.m.ProactiveCompactStep(n)
	}
	k.eng.Schedule(ev.At+kernel.ProactiveCheckIntervalNs, k.kProactive, 0, 0)
}

// kernelColumns are the time series columns the kernel model adds: pages
// summed over nodes.
var kernelColumns = columnNames(kernelColumnDocs, "")

// vmstatColumns are the /proc/vmstat counters the time series carries,
// by their Linux names: all the model keeps.
func vmstatColumns() []string {
	out := make([]string, kernel.NrVMEvents)
	for e := range kernel.NrVMEvents {
		out[e] = e.String()
	}
	return out
}

// appendVMStat appends the values of vmstatColumns to row.
func (k *kernelSide) appendVMStat(row []float64) []float64 {
	for _, v := range k.m.VMStat() {
		row = append(row, float64(v))
	}
	return row
}

// psiColumns are the machine's PSI totals, as /proc/pressure/memory's
// "total=" fields (microseconds).
var psiColumns = columnNames(psiColumnDocs, "")

// nodeColumns are the per-node time series columns (nodeColumnDocs) of
// every memory node, by its topology ID.
func (k *kernelSide) nodeColumns() []string {
	var out []string
	for _, id := range k.memNodeIDs {
		out = append(out, columnNames(nodeColumnDocs, strconv.Itoa(id))...)
	}
	return out
}

// appendSample appends the values of kernelColumns, then of nodeColumns,
// to row.
func (k *kernelSide) appendSample(row []float64) []float64 {
	var free, file, anon int64
	for n := range k.nodes() {
		free += k.m.NodeFreePages(n)
		file += k.m.NodeFilePages(n)
		anon += k.m.NodeAnonPages(n)
	}
	row = append(row, float64(free), float64(file), float64(anon), float64(k.m.SwapUsed()))
	for n := range k.memNodeIDs {
		nf, nc, na := k.m.NodeFreePages(n), k.m.NodeFilePages(n), k.m.NodeAnonPages(n)
		rest := max(0, k.m.Zone(n).ManagedPages-nf-nc-na)
		row = append(row, float64(nf), float64(nc), float64(na), float64(rest))
	}
	return row
}

// appendNodes appends each node's pages by kind, and its zone's sizes,
// to dst.
func (k *kernelSide) appendNodes(dst []NodeSnapshot) []NodeSnapshot {
	for n, id := range k.memNodeIDs {
		z := k.m.Zone(n)
		dst = append(dst, NodeSnapshot{ID: id, FreePages: k.m.NodeFreePages(n), FilePages: k.m.NodeFilePages(n), AnonPages: k.m.NodeAnonPages(n),
			ManagedPages: z.ManagedPages, Wmark: z.Wmark, PCP: k.m.PagesetConfig(n)})
	}
	return dst
}

// memoryEvents is memory.events by name: the events of enum
// memcg_memory_event up to oom_group_kill (the swap_* ones are
// memory.swap.events).
func memoryEvents(e *kernel.MemcgEvents) map[string]int64 {
	out := map[string]int64{}
	for ev := kernel.MemcgLow; ev <= kernel.MemcgOOMGroupKill; ev++ {
		out[ev.String()] = e[ev]
	}
	return out
}

// memoryStat is memory.stat by name, as the kernel prints it: page items
// in bytes, events as counts.
func memoryStat(st *kernel.MemcgStat) map[string]int64 {
	out := map[string]int64{}
	for item := range kernel.NrMemcgStatItems {
		v := st[item]
		if item.InBytes() {
			v *= kernel.PageSize
		}
		out[item.String()] = v
	}
	return out
}

// vmstat is every /proc/vmstat counter the model keeps, by name.
func (k *kernelSide) vmstat() map[string]int64 {
	st := k.m.VMStat()
	out := make(map[string]int64, len(st))
	for e, v := range st {
		out[kernel.VMEvent(e).String()] = v
	}
	return out
}

// summary is the kernel model's part of summary.json.
func (k *kernelSide) summary() *KernelSummary {
	st := k.m.Stats()
	s := &KernelSummary{
		SwapUsedPagesEnd: k.m.SwapUsed(), PagesSwappedOut: st.PagesSwappedOut,
		PagesReclaimedFile: st.PagesReclaimedFile, DirectReclaims: st.DirectReclaims,
		DirectReclaimStallNs: st.DirectReclaimStallNs, KswapdRuns: st.KswapdRuns,
	}
	for n := range k.nodes() {
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
			MemoryEvents: memoryEvents(&c.Events), MemoryStat: memoryStat(&c.Stat),
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
