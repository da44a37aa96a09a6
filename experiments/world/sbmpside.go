package world

import (
	"fmt"
	"maps"
	"slices"

	"github.com/sbmpsim/sbmpsim/model/kernel"
	"github.com/sbmpsim/sbmpsim/policies"
	"github.com/sbmpsim/sbmpsim/sbmp"
	"github.com/sbmpsim/sbmpsim/sim"
)

// firstProcessPID is the pid of the first process SBMP serves; the next
// ones count up from it. A process's workloads' objects live in its heap,
// so its RSS is what its SBMP instance holds and the OOM killer weighs it
// like any task.
const firstProcessPID = 100

// sbmpTickNs is how often time-based merge policies are consulted.
const sbmpTickNs = 1_000_000

// alertIntervalNs is SPEC 3.1's sampling interval.
const alertIntervalNs = 500_000_000

// policySet names an allocator's merge, refill and degrade policies and
// their parameters, as the policies registry builds them.
type policySet struct {
	merge, refill, degrade                   string
	mergeParams, refillParams, degradeParams map[string]float64
}

// procConfig is one process whose heap SBMP manages, compiled.
type procConfig struct {
	name        string
	pid         int64
	cgroup      string
	oomScoreAdj int64
	cpu         int         // where it is placed: its first workload's first CPU
	sbmp        sbmp.Config // without policies
	policy      policySet
	place       placement
}

// placement is where SBMP runs ([sbmp] placement) and how it asks the
// kernel for memory.
type placement struct {
	// kernel: an in-kernel allocator (Tier-1 and Tier-2 blocks are
	// alloc_pages with tier1Mask and tier2Mask; unmovable kernel memory in
	// no task's RSS). Otherwise a process's allocator: its blocks are
	// anonymous mappings, Tier-1 ones faulted with huge pages when
	// kernel.THPEnabled(thp, madvised) says so, with defrag's gfp mask.
	kernel               bool
	tier1Mask, tier2Mask kernel.GFPFlags
	thp                  kernel.THPEnabledMode
	defrag               kernel.THPDefrag
	madvised             bool
}

// block is what backs a block SBMP holds: its mapping (user placement) or
// its first page frame (kernel placement), and its order.
type block struct {
	backing int64
	order   int
}

// footprint is what the SBMP processes together hold from the kernel, in
// pages, and the most they held at once.
type footprint struct{ pages, peakPages int64 }

// sbmpSide is one process running the real SBMP allocator: its Env is the
// engine's clock, the kernel model as page source (through a virtual
// address space, so that addresses stay unique while the kernel reuses
// page frames), the machine's topology and the NUMA cost model.
type sbmpSide struct {
	cfg *procConfig
	a   *sbmp.Allocator // the current allocator (the Switcher's)
	sw  *sbmp.Switcher
	env sbmp.Env
	k   *kernelSide
	eng *sim.Engine
	fp  *footprint
	va  vaSpace
	// dead: the process was OOM-killed, or died of a fatal error, at
	// diedNs (-1 while alive) of diedOf ("oom-kill" or the fatal error).
	dead   bool
	diedNs int64
	diedOf string
	held   int64 // pages held from the kernel
	// blocks maps the address SBMP got for each block to what backs it.
	blocks map[uint64]block
	// memStallNs is what the kernel stalled the current allocation for
	// (reclaim, compaction, throttling): its PSI memory stall, taken by
	// the workload that allocated (takeMemStall).
	memStallNs int64
	// servedRemote counts page requests another node served.
	servedRemote int64
	// onDeath runs once when the process dies, so that its workloads stop.
	onDeath []func(now int64)
	kTick   sim.Kind
	// alert sampling (SPEC 1.5 thresholds, SPEC 3.1's 500 ms interval)
	kAlert    sim.Kind
	lastStats sbmp.Stats
	alerts    [3]AlertSummary
	// lastAlerts are the signals of the window that closed at
	// lastAlertsNs, for observers.
	lastAlerts   [3]sbmp.Alert
	lastAlertsNs int64
}

// newSBMPSide starts the process of c with its own SBMP allocator, placed
// on its CPU, and schedules its policy ticks and alert samples.
func newSBMPSide(eng *sim.Engine, k *kernelSide, cost *numaCost, fp *footprint, c *procConfig) (*sbmpSide, error) {
	s := &sbmpSide{cfg: c, k: k, eng: eng, fp: fp, va: newVASpace(), diedNs: -1, blocks: map[uint64]block{}}
	// In the kernel SBMP is a kernel context, which the OOM killer never
	// chooses (oom_unkillable_task: kernel threads).
	task := kernel.Task{PID: c.pid, Comm: c.name, Cgroup: c.cgroup, OOMScoreAdj: c.oomScoreAdj, Unkillable: c.place.kernel}
	if err := k.m.AddTask(task); err != nil {
		return nil, fmt.Errorf("process %s: %w", c.name, err)
	}
	if err := k.m.PlaceTask(c.pid, c.cpu); err != nil {
		return nil, fmt.Errorf("process %s: %w", c.name, err)
	}
	k.onKill(c.pid, func(now int64) { s.die(now, "oom-kill") })
	mc := k.m.Config()
	s.env = sbmp.Env{
		Clock:    engineClock{eng},
		Pages:    (*sbmpPages)(s),
		Topology: sbmpTopology{cpuNodes: mc.CPUNodes, zonelists: mc.Zonelists},
		Cost:     cost,
	}
	a, err := s.newAllocator(c.policy)
	if err != nil {
		return nil, err
	}
	s.a, s.sw = a, sbmp.NewSwitcher(a)
	s.kTick = eng.Register("sbmp.tick."+c.name, s.onTick)
	eng.Schedule(sbmpTickNs, s.kTick, 0, 0)
	for i := range s.alerts {
		s.alerts[i].FirstDangerNs = -1
	}
	s.kAlert = eng.Register("sbmp.alerts."+c.name, s.onAlert)
	eng.Schedule(alertIntervalNs, s.kAlert, 0, 0)
	return s, nil
}

// newAllocator builds an allocator of the process's configuration with
// the policies p.
func (s *sbmpSide) newAllocator(p policySet) (*sbmp.Allocator, error) {
	merge, err := policies.Merge(p.merge, p.mergeParams)
	if err != nil {
		return nil, fmt.Errorf("policy.merge: %w", err)
	}
	refill, err := policies.Refill(p.refill, p.refillParams)
	if err != nil {
		return nil, fmt.Errorf("policy.refill: %w", err)
	}
	degrade, err := policies.Degrade(p.degrade, p.degradeParams)
	if err != nil {
		return nil, fmt.Errorf("policy.degrade: %w", err)
	}
	cfg := s.cfg.sbmp
	cfg.Merge, cfg.Refill, cfg.Degrade = merge, refill, degrade
	return sbmp.New(s.env, cfg)
}

// swap replaces the process's allocator with one running the policies p
// (SPEC 2.4's SwapAllocator): new requests go to it at once; the old
// allocators keep serving the frees of what they handed out. It returns
// the flush cost of the old allocator's per-CPU caches.
func (s *sbmpSide) swap(p policySet) (int64, error) {
	next, err := s.newAllocator(p)
	if err != nil {
		return 0, err
	}
	_, flushNs := s.sw.Swap(next)
	s.a = next
	return flushNs, nil
}

// takeMemStall returns the memory stall of the allocation just made and
// clears it.
func (s *sbmpSide) takeMemStall() int64 {
	d := s.memStallNs
	s.memStallNs = 0
	return d
}

// free frees addr in the allocator that owns it: the only one, or, after
// a swap, the one the Switcher finds.
func (s *sbmpSide) free(cpu int, addr uint64, size int64) (int64, error) {
	if all := s.sw.Allocators(); len(all) == 1 {
		return s.a.Free(cpu, addr, size)
	}
	return s.sw.Free(cpu, addr, size)
}

// stats sums the counters of every allocator the process has had.
func (s *sbmpSide) stats() sbmp.Stats {
	all := s.sw.Allocators()
	if len(all) == 1 {
		return s.a.Stats()
	}
	var st sbmp.Stats
	for _, a := range all {
		st.Add(a.Stats())
	}
	return st
}

// totalFreeBytes and tier1Blocks sum over every allocator.
func (s *sbmpSide) totalFreeBytes() (n int64) {
	for _, a := range s.sw.Allocators() {
		n += a.TotalFreeBytes()
	}
	return n
}

func (s *sbmpSide) tier1Blocks() (n int64) {
	for _, a := range s.sw.Allocators() {
		n += a.Tier1Blocks()
	}
	return n
}

// scavenge returns free memory of every allocator, newest first.
func (s *sbmpSide) scavenge(bytes int64) (released, costNs int64) {
	all := s.sw.Allocators()
	for i := len(all) - 1; i >= 0 && (bytes <= 0 || released < bytes); i-- {
		want := bytes - released
		if bytes <= 0 {
			want = 0
		}
		r, c := all[i].Scavenge(want)
		released += r
		costNs += c
	}
	return released, costNs
}

// exit ends the process on its own (a fatal error): its memory goes back
// to the kernel, as exit_mmap frees it, and it dies.
func (s *sbmpSide) exit(now int64, why string) {
	if s.dead {
		return
	}
	if s.held > 0 {
		if err := s.freeAll(); err != nil {
			panic(err) // the pages are the process's own: a bug, loudly
		}
	}
	s.die(now, why)
}

// freeAll gives back every block the process holds: its address space
// (exit_mmap, as the reap of a killed process does), or its kernel pages
// in address order.
func (s *sbmpSide) freeAll() error {
	if !s.cfg.place.kernel {
		return s.k.m.Reap(s.cfg.pid)
	}
	for _, a := range slices.Sorted(maps.Keys(s.blocks)) {
		if err := s.k.m.FreeKernel(s.blocks[a].backing, s.blocks[a].order); err != nil {
			return err
		}
		delete(s.blocks, a)
	}
	return nil
}

// die marks the process dead (OOM-killed, or a fatal error of its own):
// its allocator is never used again, and its workloads stop.
func (s *sbmpSide) die(now int64, why string) {
	if s.dead {
		return
	}
	s.dead = true
	s.diedNs = now
	s.diedOf = why
	for _, a := range s.sw.Allocators() {
		a.Retire() // a degrade episode ends with its process
	}
	s.fp.pages -= s.held // the kernel reaps them
	s.held = 0
	for _, f := range s.onDeath {
		f(now)
	}
}

func (s *sbmpSide) onTick(ev sim.Event) {
	if s.dead {
		return
	}
	for _, a := range s.sw.Allocators() {
		if err := a.Tick(); err != nil {
			panic(err) // an allocator invariant broke: a bug, loudly
		}
	}
	s.eng.Schedule(ev.At+sbmpTickNs, s.kTick, 0, 0)
}

func (s *sbmpSide) onAlert(ev sim.Event) {
	if s.dead {
		return
	}
	cur := s.stats()
	s.lastAlerts, s.lastAlertsNs = s.a.Alerts(s.lastStats, cur, alertIntervalNs), ev.At
	for i, al := range s.lastAlerts {
		sum := &s.alerts[i]
		sum.Metric = al.Metric
		sum.Max = max(sum.Max, al.Value)
		if al.Level == sbmp.AlertDanger {
			sum.DangerSamples++
			if sum.FirstDangerNs < 0 {
				sum.FirstDangerNs = ev.At
			}
		}
	}
	s.lastStats = cur
	s.eng.Schedule(ev.At+alertIntervalNs, s.kAlert, 0, 0)
}

type engineClock struct{ eng *sim.Engine }

func (c engineClock) Now() int64 { return c.eng.Now() }

// sbmpPages is SBMP's Tier-2: the process's anonymous memory in the kernel
// model, at virtual addresses of its own.
type sbmpPages sbmpSide

// AllocPages gets 2^order pages for the process at an address of its
// own, and reports the node that served the most of them and the stall.
// In user placement it maps them (MapAnon): a Tier-1 block (a no-retry
// request of the block order) with transparent huge pages when the THP
// mode allows them for the mapping, which fall back to base pages as a
// huge-page fault does; anything else with base pages. A mapping can end
// in an OOM kill (recorded; it may be this very process). In kernel
// placement it allocates kernel pages (alloc_pages) with the Tier-1 or
// Tier-2 gfp mask: a costly Tier-1 request compacts as its mask allows
// and fails rather than invoke the OOM killer; an order-0 or order-1
// Tier-2 request may invoke it.
func (p *sbmpPages) AllocPages(cpu, node, order int, flags sbmp.PageFlags) (uint64, int, int64, bool) {
	s := (*sbmpSide)(p)
	if s.dead {
		return 0, node, 0, false
	}
	tier1 := flags&sbmp.PageNoRetry != 0
	var backing int64
	var served int
	var stall int64
	var ok bool
	if s.cfg.place.kernel {
		backing, served, stall, ok = p.allocKernel(cpu, node, order, tier1)
	} else {
		backing, served, stall, ok = p.mapAnon(node, order, tier1)
	}
	s.memStallNs += stall
	s.k.wakeKswapd(s.eng.Now())
	if !ok {
		return 0, node, stall, false
	}
	want := int64(1) << order
	s.held += want
	s.fp.pages += want
	s.fp.peakPages = max(s.fp.peakPages, s.fp.pages)
	if served != node {
		s.servedRemote++
	}
	addr := s.va.alloc(order)
	s.blocks[addr] = block{backing: backing, order: order}
	return addr, served, stall, true
}

// mapAnon maps 2^order anonymous pages for a user-placement process.
func (p *sbmpPages) mapAnon(node, order int, tier1 bool) (mapping int64, served int, stall int64, ok bool) {
	s := (*sbmpSide)(p)
	pl := &s.cfg.place
	opts := kernel.MapOptions{Defrag: pl.defrag, Madvised: pl.madvised}
	opts.Huge = tier1 && order >= kernel.HugePageOrder && kernel.THPEnabled(pl.thp, pl.madvised)
	r, err := s.k.m.MapAnon(s.cfg.pid, node, int64(1)<<order, opts)
	if err != nil {
		panic(err) // a live task and a valid node: a bug, loudly
	}
	if r.OOM != nil {
		s.k.recordOOM(s.eng.Now(), r.OOM) // may kill this very process
	}
	if !r.OK || s.dead {
		return 0, node, r.StallNs, false
	}
	return int64(r.ID), r.Node, r.StallNs, true
}

// allocKernel allocates 2^order kernel pages for a kernel-placement
// allocator, with the Tier-1 or Tier-2 mask; __GFP_ACCOUNT charges the
// process's cgroup.
func (p *sbmpPages) allocKernel(cpu, node, order int, tier1 bool) (pfn int64, served int, stall int64, ok bool) {
	s := (*sbmpSide)(p)
	mask := s.cfg.place.tier2Mask
	if tier1 {
		mask = s.cfg.place.tier1Mask
	}
	req := kernel.AllocRequest{Node: node, Order: order, Mask: mask, CPU: -1, Cgroup: s.cfg.cgroup}
	if order == 0 {
		req.CPU = cpu
	}
	r, err := s.k.m.Alloc(req)
	if err != nil {
		panic(err) // a valid node, order and cgroup: a bug, loudly
	}
	if r.OOM != nil {
		s.k.recordOOM(s.eng.Now(), r.OOM)
	}
	return r.PFN, r.Node, r.StallNs, r.OK
}

// FreePages gives back a block AllocPages returned: unmaps it, or frees
// its kernel pages.
func (p *sbmpPages) FreePages(cpu int, addr uint64, order int) {
	s := (*sbmpSide)(p)
	s.va.free(addr, order)
	b, found := s.blocks[addr]
	delete(s.blocks, addr)
	if s.dead && !s.cfg.place.kernel {
		return // the kernel reaped the process's memory
	}
	if !found {
		panic(fmt.Sprintf("sbmp process %s: free of block %#x it does not hold", s.cfg.name, addr))
	}
	s.held -= int64(1) << order
	s.fp.pages -= int64(1) << order
	var err error
	if s.cfg.place.kernel {
		err = s.k.m.FreeKernel(b.backing, order)
	} else {
		err = s.k.m.UnmapAnon(s.cfg.pid, kernel.MappingID(b.backing))
	}
	if err != nil {
		panic(err) // the block is the process's own: a bug, loudly
	}
}

// FreeFraction implements sbmp.MemoryPressure.
func (p *sbmpPages) FreeFraction(node int) float64 {
	s := (*sbmpSide)(p)
	z := s.k.m.Zone(node)
	return float64(s.k.m.NodeFreePages(node)) / float64(z.ManagedPages)
}

// NodeOnline implements sbmp.NodeHealth: whether the node's memory is
// online in the kernel model (a node-offline fault takes it offline),
// which SBMP's syncs and fault signal ask (SPEC 2.1).
func (p *sbmpPages) NodeOnline(node int) bool {
	return (*sbmpSide)(p).k.m.NodeOnline(node)
}

// sbmpTopology is the kernel model's view: CPUs to nodes and zonelists.
type sbmpTopology struct {
	cpuNodes  []int
	zonelists [][]int
}

func (t sbmpTopology) NumCPUs() int                   { return len(t.cpuNodes) }
func (t sbmpTopology) NumNodes() int                  { return len(t.zonelists) }
func (t sbmpTopology) NodeOfCPU(cpu int) int          { return t.cpuNodes[cpu] }
func (t sbmpTopology) NodesByDistance(node int) []int { return t.zonelists[node] }

// sbmpColumns are the time series columns SBMP adds; with [output]
// per_cpu, cpuN_tier0_free follow for the other CPUs.
var sbmpColumns = columnNames(sbmpColumnDocs, "0")

// appendSBMPSample appends the values of sbmpColumns, summed over the
// processes (the per-CPU free slots are the first process's), and cpus-1
// further per-CPU columns.
func appendSBMPSample(row []float64, procs []*sbmpSide, cpus int) []float64 {
	var st sbmp.Stats
	var free, blocks int64
	for _, p := range procs {
		st.Add(p.stats())
		free += p.totalFreeBytes()
		blocks += p.tier1Blocks()
	}
	row = append(row, float64(st.Tier0Allocs), float64(st.Tier1Allocs), float64(st.Tier2Allocs),
		float64(free), float64(blocks), float64(procs[0].a.Tier0Free(0, 0)))
	for c := 1; c < cpus; c++ {
		row = append(row, float64(procs[0].a.Tier0Free(c, 0)))
	}
	return row
}

// sbmpSummary reports SBMP's counters summed over the processes (st);
// the alerts and the debugfs text are the first process's, as a kernel
// would show its one allocator (each process's are in its own summary
// when there are several).
func sbmpSummary(procs []*sbmpSide, st sbmp.Stats) *SBMPSummary {
	var blocks, free int64
	for _, p := range procs {
		blocks += p.tier1Blocks()
		free += p.totalFreeBytes()
	}
	return &SBMPSummary{
		Refills: st.Refills, RefillsRemote: st.RefillsRemote, Drains: st.Drains,
		Tier1Splits: st.Tier1Splits, Tier1Merges: st.Tier1Merges, Tier1DecayedSlabs: st.Tier1DecayedSlabs,
		MergeDelayMeanNs: st.MergeDelayMeanNs(), MergeDelayMaxNs: st.MergeDelayMaxNs,
		BlocksFromTier2: st.BlocksFromTier2, BlocksToTier2: st.BlocksToTier2, Tier1BlocksEnd: blocks,
		RemoteFrees: st.RemoteFrees, RemoteFlushes: st.RemoteFlushes, Trims: st.Trims, TrimmedSlots: st.TrimmedSlots, MediumAllocs: st.MediumAllocs,
		Tier2Fallbacks: st.Tier2Fallbacks, DegradeEntries: st.DegradeEntries, DegradeExits: st.DegradeExits, DegradedNs: st.DegradedNs, Flushes: st.Flushes,
		TotalFreeBytesEnd: free, FSMRefused: st.FSMRefused, Debugfs: procs[0].a.DebugfsText(),
		FSMDriftMigrations: st.FSMDriftMigrations, FSMFaultMigrations: st.FSMFaultMigrations,
		// A copy: a slice of the array would keep the whole simulation
		// alive for as long as the summary is.
		Alerts: slices.Clone(procs[0].alerts[:]),
	}
}

// summary is the process's line in summary.json.
func (s *sbmpSide) summary() ProcessSummary {
	st := s.stats()
	p := ProcessSummary{
		Name: s.cfg.name, PID: s.cfg.pid, Cgroup: s.cfg.cgroup,
		TierAllocs:    TierCounts{Tier0: uint64(st.Tier0Allocs), Tier1: uint64(st.Tier1Allocs), Tier2: uint64(st.Tier2Allocs)},
		FallbackCount: uint64(st.FallbackCount), AllocStallNs: st.AllocStallNs,
		DiedNs: s.diedNs, DiedOf: s.diedOf, ServedRemote: s.servedRemote,
	}
	if t, ok := s.k.m.Task(s.cfg.pid); ok {
		p.RSSAnonPagesEnd = t.RSSAnonPages
	}
	return p
}
