package kernel

import (
	"fmt"
)

// GFP is the kind of allocation, standing for the gfp_t masks that matter
// to the model.
type GFP int

const (
	// GFPUser is GFP_HIGHUSER_MOVABLE: user memory; may reclaim and may
	// invoke the OOM killer.
	GFPUser GFP = iota
	// GFPKernel is GFP_KERNEL: may reclaim and may invoke the OOM killer.
	GFPKernel
	// GFPAtomic is GFP_ATOMIC: may not sleep, so no reclaim, but may dip
	// into the reserve below the min watermark (ALLOC_MIN_RESERVE |
	// ALLOC_NON_BLOCK).
	GFPAtomic
)

// String is the kernel's name of the gfp mask g stands for.
func (g GFP) String() string {
	return [...]string{"GFP_HIGHUSER_MOVABLE", "GFP_KERNEL", "GFP_ATOMIC"}[g]
}

// AllocRequest is one page allocation.
type AllocRequest struct {
	PID   int64 // the allocating task; 0 for the kernel itself
	Node  int   // the preferred node (the CPU's node)
	Order int
	GFP   GFP
	// CPU is the allocating CPU whose per-CPU page list serves order-0
	// pages, or -1 to take them from the buddy allocator directly.
	CPU int
	// NoOOM is __GFP_RETRY_MAYFAIL: fail instead of invoking the OOM
	// killer.
	NoOOM bool
	// NoReclaim clears __GFP_DIRECT_RECLAIM, as GFP_TRANSHUGE_LIGHT does
	// for a transparent huge page fault: after the watermark checks the
	// allocation fails rather than reclaim (kswapd is still woken).
	NoReclaim bool
}

// AllocResult is what an allocation got.
type AllocResult struct {
	OK      bool
	PFN     int64
	Node    int
	StallNs int64 // direct reclaim, charged to the caller
	// OOM is set when the allocation invoked the OOM killer. The
	// allocation then failed: the caller retries once the victim's
	// memory is reaped (Reap), or gives up if it was the victim.
	OOM *OOMEvent
}

// OOMEvent is one OOM killer invocation.
type OOMEvent struct {
	Scope      string // "global" (memcg scopes come with the cgroup model)
	Action     OOMAction
	VictimPID  int64
	VictimComm string
	Points     int64
	Reason     string
}

// Alloc allocates 2^order pages as __alloc_pages does: the fast path
// against the low watermark along the zonelist; then the slow path, which
// wakes kswapd, retries at the min watermark (with the GFP_ATOMIC reserve
// discount for atomic requests, which never reclaim), does direct reclaim
// with the bounded retries of should_reclaim_retry, fails costly orders,
// tries once more at the high watermark and finally invokes the OOM
// killer. The pages are the kernel's (unreclaimable); user memory goes
// through AllocAnon, AllocFile or AllocMlocked.
func (m *Machine) Alloc(req AllocRequest) (AllocResult, error) {
	if req.Node < 0 || req.Node >= len(m.nodes) || req.Order < 0 || req.Order > MaxOrder {
		return AllocResult{}, fmt.Errorf("kernel: bad allocation request %+v", req)
	}
	res := m.alloc(req)
	if res.OK {
		m.stats.AllocsOK++
		_, n := m.nodeOf(res.PFN)
		for i := int64(0); i < 1<<req.Order; i++ {
			n.claim(res.PFN+i, pageKernel, 0, 0, 0)
		}
	} else {
		m.stats.AllocsFailed++
	}
	return res, nil
}

// FreeKernel frees pages Alloc returned.
func (m *Machine) FreeKernel(pfn int64, order int) error {
	_, n := m.nodeOf(pfn)
	for i := int64(0); i < 1<<order; i++ {
		if p := n.page(pfn + i); p.kind != pageKernel {
			return fmt.Errorf("kernel: free of pfn %d, which is not a kernel page", pfn+i)
		}
	}
	for i := int64(0); i < 1<<order; i++ {
		n.forget(pfn + i)
	}
	return n.buddy.Free(pfn, order)
}

func (m *Machine) alloc(req AllocRequest) AllocResult {
	return m.allocFrom(m.cfg.Zonelists[req.Node], req)
}

// allocFrom is alloc along the zonelist zl.
func (m *Machine) allocFrom(zl []int, req AllocRequest) AllocResult {
	if r, ok := m.tryZonelist(zl, req, AllocWmarkLow); ok {
		return r
	}
	for _, ni := range zl {
		// wake_all_kswapds; wakeup_kswapd skips a zone without
		// managed pages (an offline node).
		if !m.nodes[ni].offline {
			m.nodes[ni].kswapdWanted = true
		}
	}
	flags := AllocWmarkMin
	if req.GFP == GFPAtomic {
		flags |= AllocMinReserve | AllocNonBlock
	}
	_, plainFit := m.wouldFitAt(zl, req.Order, AllocWmarkMin)
	if r, ok := m.tryZonelist(zl, req, flags); ok {
		if !plainFit {
			m.stats.AtomicReserveAllocations++ // only the reserve discount let it in
		}
		return r
	}
	if req.GFP == GFPAtomic || req.NoReclaim {
		return AllocResult{}
	}
	var stall int64
	drained := false
	for noProgress := 0; ; {
		rec := m.directReclaim(zl, req.Order, req.GFP)
		stall += rec.costNs
		r, ok := m.tryZonelist(zl, req, flags)
		if !ok && !drained {
			// __alloc_pages_direct_reclaim: pages may be pinned on
			// per-CPU lists; drain them once and retry.
			m.drainAllPages()
			drained = true
			r, ok = m.tryZonelist(zl, req, flags)
		}
		if ok {
			r.StallNs = stall
			return r
		}
		if req.Order > costlyOrder {
			// Costly orders without __GFP_RETRY_MAYFAIL give up here
			// and never invoke the OOM killer.
			return AllocResult{StallNs: stall}
		}
		if !m.shouldReclaimRetry(zl, req.Order, rec.reclaimed > 0, &noProgress) {
			break
		}
	}
	// __alloc_pages_may_oom: one last try at the high watermark.
	if r, ok := m.tryZonelist(zl, req, AllocWmarkHigh); ok {
		r.StallNs = stall
		return r
	}
	if req.NoOOM {
		return AllocResult{StallNs: stall}
	}
	return AllocResult{StallNs: stall, OOM: m.outOfMemory(req.PID)}
}

// tryZonelist is get_page_from_freelist: the first node along zl whose
// zone passes the watermark check gives the pages, order-0 ones through
// the CPU's per-CPU list when there is one (rmqueue_pcplist).
func (m *Machine) tryZonelist(zl []int, req AllocRequest, flags AllocFlags) (AllocResult, bool) {
	ni, ok := m.wouldFitAt(zl, req.Order, flags)
	if !ok {
		return AllocResult{}, false
	}
	var pfn int64
	if req.Order == 0 && req.CPU >= 0 && req.CPU < len(m.pcps) {
		pfn, ok = m.pcps[req.CPU][ni].Alloc()
	} else {
		pfn, ok = m.nodes[ni].buddy.Alloc(req.Order)
	}
	if !ok {
		return AllocResult{}, false
	}
	return AllocResult{OK: true, PFN: pfn, Node: ni}, true
}

// wouldFitAt returns the first node along zl whose zone passes the
// watermark check for order with flags.
func (m *Machine) wouldFitAt(zl []int, order int, flags AllocFlags) (int, bool) {
	for _, ni := range zl {
		n := m.nodes[ni]
		if n.offline {
			// build_all_zonelists left the unpopulated zone out; its
			// zero watermarks and free pages would fail the check too.
			continue
		}
		c := WatermarkCheck{Order: order, Mark: n.zone.WmarkPages(flags.Wmark()), HighestZoneIdx: ZoneNormal, Flags: flags, FreePages: n.buddy.FreePages()}
		if WatermarkOK(&n.zone, n.buddy, c) {
			return ni, true
		}
	}
	return 0, false
}

// directReclaim is __alloc_pages_direct_reclaim -> try_to_free_pages:
// global reclaim over the zonelist's nodes for SWAP_CLUSTER_MAX pages
// (at least the request), do_try_to_free_pages.
func (m *Machine) directReclaim(zl []int, order int, gfp GFP) reclaimResult {
	m.stats.DirectReclaims++
	sc := scanControl{target: max(int64(swapClusterMax), int64(1)<<order), gfp: gfp}
	m.doTryToFreePages(zl, &sc)
	m.stats.DirectReclaimStallNs += sc.res.costNs
	return sc.res
}

// shouldReclaimRetry is should_reclaim_retry: progress on a non-costly
// order resets the count of fruitless rounds; after MAX_RECLAIM_RETRIES
// of them, give up; otherwise retry only if some zone could pass its min
// watermark were all its reclaimable pages freed.
func (m *Machine) shouldReclaimRetry(zl []int, order int, progress bool, noProgress *int) bool {
	if progress && order <= costlyOrder {
		*noProgress = 0
	} else {
		*noProgress++
	}
	if *noProgress > maxReclaimRetries {
		return false
	}
	for _, ni := range zl {
		n := m.nodes[ni]
		available := m.reclaimablePages(ni) + n.buddy.FreePages()
		c := WatermarkCheck{Order: order, Mark: n.zone.Wmark.Min, HighestZoneIdx: ZoneNormal, Flags: AllocWmarkMin, FreePages: available}
		if WatermarkOK(&n.zone, n.buddy, c) {
			return true
		}
	}
	return false
}

// outOfMemory is out_of_memory for a global OOM: pick a victim with
// SelectVictim (oom_badness, or the allocating task when
// vm.oom_kill_allocating_task is set) and kill it. The victim's memory is
// freed when the caller calls Reap, after the reaper delay.
func (m *Machine) outOfMemory(pid int64) *OOMEvent {
	tasks := m.Tasks()
	allocating := -1
	if s, ok := m.slot[pid]; ok {
		allocating = s
	}
	d := SelectVictim(tasks, OOMControl{
		Scope: OOMGlobal, TotalPages: m.TotalPages(),
		KillAllocatingTask: m.cfg.OOMKillAllocatingTask, Allocating: allocating,
	})
	k := &OOMEvent{Scope: "global", Action: d.Action, Points: d.Points, Reason: d.Reason}
	if d.Action != OOMKill {
		return k
	}
	t := &m.tasks[d.Victim]
	t.OOMVictim, t.Exiting, t.killed = true, true, true
	k.VictimPID, k.VictimComm = t.PID, t.Comm
	m.stats.OOMKills++
	m.vmstat[VMOOMKill]++
	// The victim's cgroup counts the kill in memory.events
	// (count_memcg_event_mm in __oom_kill_process).
	if err := m.cgroups.RecordOOMKill(t.Cgroup); err != nil {
		panic("kernel: " + err.Error())
	}
	return k
}

// Reap frees everything an OOM victim (or an exiting task) holds: its
// resident anonymous and mlocked pages and its swap entries. Afterwards
// the task has no mm and is skipped by the OOM killer.
func (m *Machine) Reap(pid int64) error {
	s, ok := m.slot[pid]
	if !ok {
		return fmt.Errorf("%w: %d", ErrNoTask, pid)
	}
	t := &m.tasks[s]
	m.freeAnonResident(t, t.RSSAnonPages-int64(len(t.mlocked)))
	m.freeAnonSwapped(t, t.SwapEntries)
	for _, pfn := range t.mlocked {
		_, n := m.nodeOf(pfn)
		n.release(pfn)
	}
	if nm := int64(len(t.mlocked)); nm > 0 {
		m.cgroups.modStatIdx(int32(t.cg), MemcgStatUnevictable, -nm)
		m.cgroups.modStatIdx(int32(t.cg), MemcgStatAnon, -nm)
		m.uncharge(t.cg, nm)
		t.RSSAnonPages -= nm
	}
	t.mlocked = t.mlocked[:0]
	if t.anon.live() != 0 || t.SwapEntries != 0 || t.RSSAnonPages != 0 {
		panic(fmt.Sprintf("kernel: reap of task %d left %d slots, %d swap entries, rss %d", pid, t.anon.live(), t.SwapEntries, t.RSSAnonPages))
	}
	t.anon = anonSpace{}
	t.NoMM, t.OOMSkip = true, true
	return nil
}
