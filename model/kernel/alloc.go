package kernel

import (
	"fmt"
)

// GFP is the kind of allocation, standing for the gfp_t masks that matter
// to the model; Mask gives the bits.
type GFP int

const (
	// GFPUser is GFP_HIGHUSER_MOVABLE: user memory; may reclaim and may
	// invoke the OOM killer; movable.
	GFPUser GFP = iota
	// GFPKernel is GFP_KERNEL: may reclaim and may invoke the OOM
	// killer; unmovable.
	GFPKernel
	// GFPAtomic is GFP_ATOMIC: may not sleep, so no reclaim, but may dip
	// into the reserve below the min watermark (ALLOC_MIN_RESERVE |
	// ALLOC_NON_BLOCK) and, at order > 0, into the highatomic reserve.
	GFPAtomic
	// GFPNowait is GFP_NOWAIT: may not sleep, wakes kswapd, no reserves.
	GFPNowait
)

// String is the kernel's name of the gfp mask g stands for.
func (g GFP) String() string {
	if g < 0 || g > GFPNowait {
		return fmt.Sprintf("GFP(%d)", int(g))
	}
	return [...]string{"GFP_HIGHUSER_MOVABLE", "GFP_KERNEL", "GFP_ATOMIC", "GFP_NOWAIT"}[g]
}

// Mask is the gfp mask g stands for.
func (g GFP) Mask() GFPFlags {
	switch g {
	case GFPUser:
		return MaskHighUserMovable
	case GFPKernel:
		return MaskKernel
	case GFPAtomic:
		return MaskAtomic
	case GFPNowait:
		return MaskNowait
	}
	return 0
}

// AllocRequest is one page allocation (alloc_pages_node).
type AllocRequest struct {
	PID   int64 // the allocating task; 0 for the kernel itself
	Node  int   // the preferred node (the CPU's node)
	Order int
	// GFP names the base mask; Flags adds __GFP bits to it
	// (GFPNoRetry, GFPRetryMayFail, GFPAccount, GFPHigh, GFPThisNode,
	// ...). Mask, when not zero, is the whole mask instead, GFP and
	// Flags ignored (GFP_TRANSHUGE_LIGHT, or a mask with bits cleared).
	GFP   GFP
	Flags GFPFlags
	Mask  GFPFlags
	// CPU is the allocating CPU whose per-CPU page list serves order-0
	// pages, or -1 to take them from the buddy allocator directly.
	CPU int
	// NoOOM adds __GFP_RETRY_MAYFAIL: fail instead of invoking the OOM
	// killer.
	NoOOM bool
	// NoReclaim clears __GFP_DIRECT_RECLAIM: after the watermark checks
	// the allocation fails rather than reclaim or compact (kswapd is
	// still woken if the mask says so).
	NoReclaim bool
	// Cgroup is the memory cgroup a __GFP_ACCOUNT allocation is charged
	// to; "" means the allocating task's, or the root for PID 0 (the
	// kernel charges the current task's memcg, get_mem_cgroup_from_current).
	Cgroup string
}

// GFPMask is the request's gfp mask.
func (r *AllocRequest) GFPMask() GFPFlags {
	mask := r.Mask
	if mask == 0 {
		mask = r.GFP.Mask() | r.Flags
	}
	if r.NoOOM {
		mask |= GFPRetryMayFail
	}
	if r.NoReclaim {
		mask &^= GFPDirectReclaim
	}
	return mask
}

// AllocResult is what an allocation got.
type AllocResult struct {
	OK   bool
	PFN  int64
	Node int
	// StallNs is the caller's time in direct reclaim and direct
	// compaction, and in memcg reclaim for a __GFP_ACCOUNT charge.
	StallNs int64
	// OOM is set when the allocation invoked the OOM killer (global, or
	// the memcg OOM killer of a __GFP_ACCOUNT charge). The allocation
	// then failed: the caller retries once the victim's memory is reaped
	// (Reap), or gives up if it was the victim.
	OOM *OOMEvent
}

// OOMEvent is one OOM killer invocation.
type OOMEvent struct {
	Scope      string // "global", or "memcg:" and the cgroup
	Action     OOMAction
	VictimPID  int64
	VictimComm string
	Points     int64
	Reason     string
}

// Alloc allocates 2^order pages for the kernel as __alloc_pages does
// (alloc_slowpath.go): the fast path against the low watermark along the
// zonelist; then the slow path, which wakes kswapd, retries at the min
// watermark (with the GFP_ATOMIC reserve discount), compacts directly
// first for costly and unmovable high orders, does direct reclaim and
// direct compaction with the bounded retries of should_reclaim_retry and
// should_compact_retry, fails costly orders (unless __GFP_RETRY_MAYFAIL),
// tries once more at the high watermark and finally invokes the OOM
// killer for non-costly orders only. With __GFP_NORETRY a costly request
// compacts asynchronously, fails at once if compaction was skipped or
// deferred, else reclaims once, compacts asynchronously once more and
// fails. A request without __GFP_DIRECT_RECLAIM neither reclaims nor
// compacts (SLUB's higher-order attempt in allocate_slab clears
// __GFP_RECLAIM, so it does not compact).
//
// The pages are the kernel's: unmovable unless the mask says movable,
// in no task's RSS, never reclaimed and never migrated. With
// __GFP_ACCOUNT they are charged to a memory cgroup after the allocation
// (__memcg_kmem_charge_page: memory.current and memory.stat "kernel");
// a failed charge frees them and the allocation fails. User memory goes
// through AllocAnon, MapAnon, AllocFile or AllocMlocked. FreeKernel frees
// what Alloc returned, with the same order. The error reports a bad
// request (a node or order out of range; for __GFP_ACCOUNT, an unknown
// pid or cgroup).
func (m *Machine) Alloc(req AllocRequest) (AllocResult, error) {
	if req.Node < 0 || req.Node >= len(m.nodes) || req.Order < 0 || req.Order > MaxOrder {
		return AllocResult{}, fmt.Errorf("kernel: bad allocation request %+v", req)
	}
	mask := req.GFPMask()
	cg, allocating := 0, -1
	if mask&GFPAccount != 0 {
		if s, ok := m.slot[req.PID]; ok {
			cg, allocating = m.tasks[s].cg, s
		} else if req.PID != 0 {
			return AllocResult{}, fmt.Errorf("%w: %d", ErrNoTask, req.PID)
		}
		if req.Cgroup != "" {
			c, ok := m.cgIndex[req.Cgroup]
			if !ok {
				return AllocResult{}, fmt.Errorf("kernel: Alloc: no cgroup %q", req.Cgroup)
			}
			cg = c
		}
	}
	res := m.alloc(req)
	if !res.OK {
		m.stats.AllocsFailed++
		return res, nil
	}
	_, n := m.nodeOf(res.PFN)
	pages := int64(1) << req.Order
	if mask&GFPAccount != 0 {
		charged, stall, oom := m.chargeCg(cg, allocating, pages, chargeOptionsFor(mask, false))
		res.StallNs += stall
		if !charged {
			if err := n.buddy.Free(res.PFN, req.Order); err != nil {
				panic("kernel: " + err.Error()) // the block was just allocated
			}
			m.stats.AllocsFailed++
			return AllocResult{StallNs: res.StallNs, OOM: oom}, nil
		}
		m.cgroups.modStatIdx(int32(cg), MemcgStatKernel, pages)
	}
	m.stats.AllocsOK++
	for i := range pages {
		n.claim(res.PFN+i, pageKernel, 0, cg, 0, 0)
		if mask&GFPAccount != 0 {
			n.page(res.PFN + i).flags = pgKmem
		}
	}
	return res, nil
}

// chargeOptionsFor is what try_charge_memcg reads of a gfp mask.
func chargeOptionsFor(mask GFPFlags, dying bool) ChargeOptions {
	return ChargeOptions{
		NoBlock:      mask&GFPDirectReclaim == 0,
		NoRetry:      mask&GFPNoRetry != 0,
		RetryMayFail: mask&GFPRetryMayFail != 0,
		High:         mask&GFPHigh != 0,
		Dying:        dying,
	}
}

// FreeKernel frees pages Alloc returned, with the order it was given:
// they go back to the buddy allocator (free_pages), and an accounted
// block is uncharged (__memcg_kmem_uncharge_page).
func (m *Machine) FreeKernel(pfn int64, order int) error {
	if order < 0 || order > MaxOrder {
		return fmt.Errorf("kernel: FreeKernel of order %d", order)
	}
	_, n := m.nodeOf(pfn)
	if pfn+int64(1)<<order > n.zone.StartPFN+n.zone.SpannedPages {
		return fmt.Errorf("kernel: FreeKernel of pfn %d order %d crosses its node", pfn, order)
	}
	p0 := *n.page(pfn)
	for i := int64(0); i < 1<<order; i++ {
		if p := n.page(pfn + i); p.kind != pageKernel || p.flags != p0.flags || p.cg != p0.cg {
			return fmt.Errorf("kernel: free of pfn %d, which is not a kernel page of this block", pfn+i)
		}
	}
	if err := n.buddy.checkAllocated("free", pfn, order); err != nil {
		return err
	}
	for i := int64(0); i < 1<<order; i++ {
		n.page(pfn + i).flags = 0
		n.forget(pfn + i)
	}
	if p0.flags&pgKmem != 0 {
		m.cgroups.modStatIdx(int32(p0.cg), MemcgStatKernel, -(1 << order))
		m.uncharge(int(p0.cg), 1<<order)
	}
	n.buddy.freeOne(pfn, order)
	return nil
}

func (m *Machine) alloc(req AllocRequest) AllocResult {
	return m.allocFrom(m.cfg.Zonelists[req.Node], req)
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
