package world

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/model/kernel"
	"github.com/sbmpsim/sbmpsim/model/numa"
	"github.com/sbmpsim/sbmpsim/sim"
)

// maxModelledMiB bounds the machine the kernel model will hold: it keeps
// per-page state (about 21 bytes a page), so 64 GiB costs about 350 MB.
// Larger machines are modelled with an inline [machine] of smaller
// memory_mb; the behaviour studied (watermarks, reclaim, OOM) scales.
const maxModelledMiB = 64 << 10

// victimExitNs is how long after an OOM kill the victim's memory is free
// again. SIGKILL wakes the victim, which exits and frees its address
// space in exit_mmap: milliseconds, not the OOM reaper's 2 s
// (OOM_REAPER_DELAY), which is only the fallback for a victim stuck in
// the kernel. 10 ms is a generous exit for the process sizes modelled.
const victimExitNs = 10_000_000

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
	kKmalloc     sim.Kind
	kswapdActive []bool
	leaks        []*kmallocLeak
	// fileSeen is the page cache's size after the last page-cache
	// reader's tick: a drop since then is reclaim.
	fileSeen  int64
	oomEvents []OOMEvent
	stallNs   int64
	// topo is the machine; memNodeIDs[k] is the topology node id of
	// kernel node k.
	topo       numa.Topology
	memNodeIDs []int
	// cost is the NUMA cost model every SBMP process prices its work
	// with; numa-latency faults change it in place.
	cost *numaCost
	// sbmpPages is what the SBMP processes hold from the kernel now, in
	// pages; sbmpPeakPages its largest value.
	sbmpPages, sbmpPeakPages int64
	// killHooks are told when the OOM killer kills their pid.
	killHooks map[int64]func(now int64)
}

// onKill registers f to run when pid is OOM-killed.
func (k *kernelSide) onKill(pid int64, f func(now int64)) { k.killHooks[pid] = f }

// taskWorkload is one process of a [[workload]] of kind "task", "mlock"
// or "page-cache" (count > 1 makes several).
type taskWorkload struct {
	index       int
	kind        string
	pid         int64
	name        string
	node        int // preferred kernel node
	pagesPerTic int64
	targetPages int64 // 0: no limit
	got         int64
	dead        bool
	stallNs     int64
	failedTicks int64 // ticks that got fewer pages than asked
	// A page-cache reader keeps reading a file set of fileSetPages;
	// cached is how many of them it believes are in the page cache
	// (reclaim takes its share, see attributeFileReclaim). reads and
	// misses count pages read and pages that had to be read from disk.
	fileSetPages  int64
	cached        float64
	missDue       float64
	reads, misses int64
}

// kmallocLeak is a [[workload]] of kind "kmalloc-leak": kmalloc(size,
// GFP_ATOMIC) calls whose objects are never freed (SPEC 1.6). Objects are
// packed into slabs of the kmalloc cache for their size (the next power of
// two, at least 8 bytes; a slab is one page, or 2^order pages for objects
// past 4 KiB), so the page allocator sees one atomic page request per
// slab. The pages are kernel memory: no task owns them, reclaim cannot
// take them and the OOM killer cannot free them.
type kmallocLeak struct {
	index        int
	name         string
	node, cpu    int
	objBytes     int64 // the cache's object size
	reqBytes     int64 // the requested size
	slabOrder    int
	perSlab      int64
	bytesPerTick float64
	due          float64 // bytes of objects owed to the leak so far
	limitBytes   int64   // 0: no limit
	startNs      int64
	stopNs       int64 // 0: none
	objects      int64 // leaked objects
	slabs        int64 // pages held = slabs << slabOrder
	freeInSlab   int64
	failures     int64
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
	k := &kernelSide{m: m, eng: eng, prefNode: prefNode, kswapdActive: make([]bool, len(cfg.NodePages)), topo: topo, killHooks: map[int64]func(int64){}}
	for _, n := range topo.Nodes {
		if n.MemoryMB > 0 {
			k.memNodeIDs = append(k.memNodeIDs, n.ID)
		}
	}
	c := newNUMACost(&topo, k.memNodeIDs)
	k.cost = &c
	k.kFault = eng.Register("task.fault", k.onFault)
	k.kReap = eng.Register("kernel.oom_reap", k.onReap)
	k.kKswapd = eng.Register("kernel.kswapd", k.onKswapd)
	k.kKmalloc = eng.Register("kernel.kmalloc_leak", k.onKmalloc)
	for i, w := range sc.Workloads {
		var err error
		switch w.Kind {
		case scenario.KindTask, scenario.KindMlock, scenario.KindPageCache:
			for c := range w.Count {
				name := w.Name
				if w.Count > 1 {
					name = fmt.Sprintf("%s-%d", w.Name, c)
				}
				if err = k.addTask(i, c, name, w); err != nil {
					break
				}
			}
		case scenario.KindKmallocLeak:
			err = k.addKmallocLeak(i, w)
		}
		if err != nil {
			return nil, err
		}
	}
	k.fileSeen = k.totalFilePages()
	return k, nil
}

// checkCPU reports whether cpu is on the machine.
func (k *kernelSide) checkCPU(cpu int) error {
	if k.topo.NodeOfCPU(cpu) == numa.NoNode {
		return fmt.Errorf("cpu %d is not on the machine", cpu)
	}
	return nil
}

// kernelNodeOfID is the kernel node of topology node id, or -1 when that
// node has no memory (or does not exist).
func (k *kernelSide) kernelNodeOfID(id int) int {
	for i, m := range k.memNodeIDs {
		if m == id {
			return i
		}
	}
	return -1
}

// kernelNodeOfCPU is the kernel node cpu's allocations prefer.
func (k *kernelSide) kernelNodeOfCPU(cpu int) int {
	id := k.topo.NodeOfCPU(cpu)
	for p, n := range k.topo.Nodes {
		if n.ID == id {
			return k.prefNode[p]
		}
	}
	return 0
}

func (k *kernelSide) totalFilePages() int64 {
	var f int64
	for n := range k.kswapdActive {
		f += k.m.NodeFilePages(n)
	}
	return f
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
		ReaperDelayNs:         victimExitNs,
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

// addTask starts copy c of workload i. Pids are 1000+i for a single task
// and 10000+1024i+c for the members of a fleet.
func (k *kernelSide) addTask(i, c int, name string, w scenario.Workload) error {
	cpus, err := scenario.ParseCPUList(w.CPUs)
	if err != nil {
		return fmt.Errorf("workload %d (%s): %w", i, w.Name, err)
	}
	if err := k.checkCPU(cpus[0]); err != nil {
		return fmt.Errorf("workload %d (%s): %w", i, w.Name, err)
	}
	t := &taskWorkload{
		index: i, kind: w.Kind, pid: int64(1000 + i), name: name, node: k.kernelNodeOfCPU(cpus[0]),
		pagesPerTic: max(1, int64(math.Round(w.GrowMBPerS*256*faultTickNs/1e9))),
		targetPages: w.RSSMB << 8,
	}
	if w.Count > 1 {
		t.pid = int64(10000 + 1024*i + c)
	}
	if len(name) > 15 {
		name = name[:15] // a Linux comm holds 15 bytes
	}
	if err := k.m.AddTask(kernel.Task{PID: t.pid, Comm: name, OOMScoreAdj: w.OOMScoreAdj, Cgroup: w.Cgroup}); err != nil {
		return err
	}
	if err := k.m.PlaceTask(t.pid, cpus[0]); err != nil {
		return err
	}
	k.tasks = append(k.tasks, t)
	k.onKill(t.pid, func(int64) { t.dead = true })
	switch {
	case w.Kind == scenario.KindPageCache:
		t.fileSetPages = w.PageCacheMB << 8
	case w.PageCacheMB > 0:
		if _, _, _, err := k.m.AllocFile(t.pid, t.node, w.PageCacheMB<<8); err != nil {
			return err
		}
	}
	k.eng.Schedule(w.StartMs*1e6, k.kFault, int64(len(k.tasks)-1), 0)
	return nil
}

// onFault runs one tick of task A: an anonymous or mlocked task faults in
// its next pages; a page-cache reader reads its next pages. Direct-reclaim
// stalls delay the task's next tick; an OOM kill is recorded and its reap
// scheduled.
func (k *kernelSide) onFault(ev sim.Event) {
	t := k.tasks[ev.A]
	if t.dead {
		return
	}
	var got, stall int64
	var oom *kernel.OOMEvent
	var err error
	switch t.kind {
	case scenario.KindPageCache:
		got, stall, oom, err = k.readFiles(t)
	default:
		want := t.pagesPerTic
		if t.targetPages > 0 {
			want = min(want, t.targetPages-t.got)
		}
		if want <= 0 {
			return
		}
		if t.kind == scenario.KindMlock {
			got, stall, oom, err = k.m.AllocMlocked(t.pid, t.node, want)
		} else {
			got, stall, oom, err = k.m.AllocAnon(t.pid, t.node, want)
		}
		if got < want {
			t.failedTicks++
		}
	}
	if err != nil {
		// The task was killed by an earlier OOM: it stops.
		t.dead = true
		return
	}
	t.got += got
	t.stallNs += stall
	k.stallNs += stall
	k.wakeKswapd(ev.At)
	if oom != nil {
		k.recordOOM(ev.At, oom)
	}
	if !t.dead {
		k.eng.Schedule(ev.At+faultTickNs+stall, k.kFault, ev.A, 0)
	}
}

// readFiles is one tick of a page-cache reader: it reads pagesPerTic pages
// of its file set at uniformly random places, so the share that hits the
// page cache is cached/fileSetPages; the misses (their expected number,
// carried over in fractions) are read into the page cache (AllocFile).
// Which of its pages reclaim took is not tracked page by page:
// attributeFileReclaim charges each reader its share of the page cache's
// shrinkage.
func (k *kernelSide) readFiles(t *taskWorkload) (got, stall int64, oom *kernel.OOMEvent, err error) {
	k.attributeFileReclaim()
	hit := min(1, t.cached/float64(t.fileSetPages))
	t.missDue += float64(t.pagesPerTic) * (1 - hit)
	miss := int64(t.missDue)
	t.missDue -= float64(miss)
	t.reads += t.pagesPerTic
	if miss > 0 {
		got, stall, oom, err = k.m.AllocFile(t.pid, t.node, miss)
		t.misses += got
		t.cached += float64(got)
		if got < miss {
			t.failedTicks++
		}
	}
	k.fileSeen = k.totalFilePages()
	return 0, stall, oom, err // page cache is not the task's RSS
}

// attributeFileReclaim charges the page cache's shrinkage since the last
// reader tick to the readers in proportion to their cached pages (the
// rest of the page cache, such as files tasks read at start, takes its
// own share).
func (k *kernelSide) attributeFileReclaim() {
	now := k.totalFilePages()
	dropped := k.fileSeen - now
	if dropped <= 0 || k.fileSeen == 0 {
		k.fileSeen = now
		return
	}
	keep := float64(now) / float64(k.fileSeen)
	for _, t := range k.tasks {
		if t.kind == scenario.KindPageCache {
			t.cached *= keep
		}
	}
	k.fileSeen = now
}

func (k *kernelSide) addKmallocLeak(i int, w scenario.Workload) error {
	cpus, err := scenario.ParseCPUList(w.CPUs)
	if err != nil {
		return fmt.Errorf("workload %d (%s): %w", i, w.Name, err)
	}
	if err := k.checkCPU(cpus[0]); err != nil {
		return fmt.Errorf("workload %d (%s): %w", i, w.Name, err)
	}
	obj := int64(8)
	for obj < w.SizeBytes {
		obj <<= 1
	}
	order := 0
	for int64(kernel.PageSize)<<order < obj {
		order++
	}
	l := &kmallocLeak{
		index: i, name: w.Name, node: k.kernelNodeOfCPU(cpus[0]), cpu: cpus[0],
		objBytes: obj, reqBytes: w.SizeBytes, slabOrder: order, perSlab: (int64(kernel.PageSize) << order) / obj,
		bytesPerTick: w.GrowMBPerS * (1 << 20) * faultTickNs / 1e9, limitBytes: w.RSSMB << 20,
		startNs: w.StartMs * 1e6, stopNs: w.StopMs * 1e6,
	}
	k.leaks = append(k.leaks, l)
	k.eng.Schedule(l.startNs, k.kKmalloc, int64(len(k.leaks)-1), 0)
	return nil
}

// onKmalloc runs one tick of a kmalloc leak: the objects due by now are
// allocated, a new slab (GFP_ATOMIC: no reclaim, may dip into the
// reserves, never the OOM killer) whenever the current one is full. A
// failed slab allocation fails the kmalloc calls it was for, as
// kmalloc(GFP_ATOMIC) returns NULL.
func (k *kernelSide) onKmalloc(ev sim.Event) {
	l := k.leaks[ev.A]
	if l.stopNs > 0 && ev.At >= l.stopNs {
		return
	}
	l.due += l.bytesPerTick
	for l.due >= float64(l.reqBytes) {
		if l.limitBytes > 0 && l.objects*l.reqBytes >= l.limitBytes {
			return
		}
		l.due -= float64(l.reqBytes)
		if l.freeInSlab == 0 {
			res, err := k.m.Alloc(kernel.AllocRequest{Node: l.node, Order: l.slabOrder, GFP: kernel.GFPAtomic, CPU: l.cpu})
			if err != nil {
				panic(err) // a malformed request: a bug, loudly
			}
			if !res.OK {
				l.failures++
				continue
			}
			l.slabs++
			l.freeInSlab = l.perSlab
		}
		l.freeInSlab--
		l.objects++
	}
	k.wakeKswapd(ev.At)
	k.eng.Schedule(ev.At+faultTickNs, k.kKmalloc, ev.A, 0)
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
	if f := k.killHooks[oom.VictimPID]; f != nil {
		f(now)
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

// KernelWorkloadSummary is one workload outside SBMP at the end of the
// run; a fleet (count > 1) is summed over its tasks.
type KernelWorkloadSummary struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Tasks int    `json:"tasks,omitempty"`
	// PagesGot are the anonymous or mlocked pages faulted in.
	PagesGot    int64 `json:"pages_got,omitempty"`
	StallNs     int64 `json:"stall_ns,omitempty"`
	FailedTicks int64 `json:"failed_ticks,omitempty"`
	Killed      int   `json:"oom_killed,omitempty"`
	// PagesRead and PagesMissed are a page-cache reader's reads and the
	// reads that went to disk (page-cache misses).
	PagesRead   int64 `json:"pages_read,omitempty"`
	PagesMissed int64 `json:"pages_missed,omitempty"`
	// ObjectsLeaked, SlabPages and Failures are a kmalloc leak's objects,
	// the kernel pages they pin and the kmalloc calls that returned NULL.
	ObjectsLeaked int64 `json:"objects_leaked,omitempty"`
	SlabPages     int64 `json:"slab_pages,omitempty"`
	Failures      int64 `json:"kmalloc_failures,omitempty"`
}

func (k *kernelSide) workloadSummaries() []KernelWorkloadSummary {
	var out []KernelWorkloadSummary
	at := map[int]int{} // workload index -> position in out
	for _, t := range k.tasks {
		p, ok := at[t.index]
		if !ok {
			name := t.name
			if i := strings.LastIndexByte(name, '-'); i > 0 && t.pid >= 10000 {
				name = name[:i]
			}
			out = append(out, KernelWorkloadSummary{Name: name, Kind: t.kind})
			p = len(out) - 1
			at[t.index] = p
		}
		s := &out[p]
		s.Tasks++
		s.PagesGot += t.got
		s.StallNs += t.stallNs
		s.FailedTicks += t.failedTicks
		s.PagesRead += t.reads
		s.PagesMissed += t.misses
		if t.dead {
			s.Killed++
		}
	}
	for _, l := range k.leaks {
		out = append(out, KernelWorkloadSummary{
			Name: l.name, Kind: scenario.KindKmallocLeak, ObjectsLeaked: l.objects,
			SlabPages: l.slabs << l.slabOrder, Failures: l.failures,
		})
	}
	return out
}
