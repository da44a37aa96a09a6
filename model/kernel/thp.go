package kernel

import "fmt"

// This file is the transparent huge page fault (mm/huge_memory.c,
// mm/mempolicy.c, Linux 6.18): whether a mapping gets PMD-sized huge pages
// at all (transparent_hugepage/enabled, thp_vma_allowable_orders), the gfp
// mask of the fault (transparent_hugepage/defrag, vma_thp_gfp_mask), and
// do_huge_pmd_anonymous_page with its fallback to base pages.

// HugePageOrder is HPAGE_PMD_ORDER on x86-64 with 4 KiB pages: a PMD
// maps 2 MiB.
const HugePageOrder = 9

// HugePagePages is HPAGE_PMD_NR.
const HugePagePages = 1 << HugePageOrder

// THPEnabledMode is /sys/kernel/mm/transparent_hugepage/enabled.
type THPEnabledMode int

// The modes of transparent_hugepage/enabled.
const (
	THPEnabledAlways THPEnabledMode = iota
	THPEnabledMadvise
	THPEnabledNever
)

// String is the mode as the sysfs file names it.
func (e THPEnabledMode) String() string {
	if e < 0 || e > THPEnabledNever {
		return fmt.Sprintf("THPEnabledMode(%d)", int(e))
	}
	return [...]string{"always", "madvise", "never"}[e]
}

// THPEnabled reports whether an anonymous mapping may be faulted in with
// PMD-sized huge pages, as thp_vma_allowable_orders decides it for
// HPAGE_PMD_ORDER when that order inherits the top-level setting
// (huge_anon_orders_inherit, the default): with "always" every mapping;
// with "madvise" only a mapping madvised with MADV_HUGEPAGE (VM_HUGEPAGE,
// hugepage_global_enabled); with "never" none. (MADV_NOHUGEPAGE, which
// would veto it, is the caller's business.)
func THPEnabled(enabled THPEnabledMode, madvised bool) bool {
	switch enabled {
	case THPEnabledAlways:
		return true
	case THPEnabledMadvise:
		return madvised
	}
	return false
}

// THPDefrag is /sys/kernel/mm/transparent_hugepage/defrag.
type THPDefrag int

// The modes of transparent_hugepage/defrag.
const (
	THPDefragAlways THPDefrag = iota
	THPDefragDefer
	THPDefragDeferMadvise
	THPDefragMadvise
	THPDefragNever
)

// String is the mode as the sysfs file names it.
func (d THPDefrag) String() string {
	if d < 0 || d > THPDefragNever {
		return fmt.Sprintf("THPDefrag(%d)", int(d))
	}
	return [...]string{"always", "defer", "defer+madvise", "madvise", "never"}[d]
}

// THPGFPMask is vma_thp_gfp_mask: the gfp mask of a huge page fault in
// a mapping, madvised with MADV_HUGEPAGE or not, under the defrag mode:
//
//	always:         GFP_TRANSHUGE, plus __GFP_NORETRY unless madvised
//	                (direct reclaim and compaction; madvised ones retry)
//	defer:          GFP_TRANSHUGE_LIGHT | __GFP_KSWAPD_RECLAIM (wake
//	                kswapd and kcompactd, fail at once)
//	defer+madvise:  GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM if
//	                madvised, else | __GFP_KSWAPD_RECLAIM
//	madvise:        GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM if
//	                madvised, else nothing more (no reclaim of any kind)
//	never:          GFP_TRANSHUGE_LIGHT
func THPGFPMask(defrag THPDefrag, madvised bool) GFPFlags {
	switch defrag {
	case THPDefragAlways:
		if madvised {
			return MaskTransHuge
		}
		return MaskTransHuge | GFPNoRetry
	case THPDefragDefer:
		return MaskTransHugeLight | GFPKswapdReclaim
	case THPDefragDeferMadvise:
		if madvised {
			return MaskTransHugeLight | GFPDirectReclaim
		}
		return MaskTransHugeLight | GFPKswapdReclaim
	case THPDefragMadvise:
		if madvised {
			return MaskTransHugeLight | GFPDirectReclaim
		}
	}
	return MaskTransHugeLight
}

// hugeFault is what one huge page fault did.
type hugeFault struct {
	ok      bool
	node    int
	stallNs int64
}

// allocHugeFolio is alloc_pages_mpol for HPAGE_PMD_ORDER under the
// default (local) memory policy: first the preferred node alone with
// __GFP_THISNODE | __GFP_NORETRY (compaction but no repeated reclaim, no
// remote memory, since remote accesses would likely cost more than the
// huge page saves); if that fails and the mask allows direct reclaim
// (defrag "always", or a madvised mapping), the mask itself along the
// zonelist. A mask without direct reclaim never leaves the node.
//
// Other orders (multi-size THP folios) go along the zonelist with the
// mask at once.
func (m *Machine) allocHugeFolio(pid int64, prefNode, order int, mask GFPFlags) AllocResult {
	req := AllocRequest{PID: pid, Node: prefNode, Order: order, Mask: mask, CPU: -1}
	if order != HugePageOrder {
		return m.allocFrom(m.cfg.Zonelists[prefNode], req)
	}
	req.Mask = mask | GFPThisNode | GFPNoRetry
	r := m.allocFrom(m.cfg.Zonelists[prefNode], req)
	if r.OK || mask&GFPDirectReclaim == 0 {
		return r
	}
	req.Mask = mask
	r2 := m.allocFrom(m.cfg.Zonelists[prefNode], req)
	r2.StallNs += r.StallNs
	return r2
}

// hugeFaultAt is do_huge_pmd_anonymous_page for the 512-page chunk of
// task slot's mapping vi starting at slot idx (aligned in the mapping,
// which the caller promises is PMD-aligned), or for another order the
// large folio fault of alloc_anon_folio (multi-size THP, which counts
// the per-size mTHP statistics rather than thp_fault_*): the folio is allocated
// with mask (allocHugeFolio), then charged to the task's cgroup with the
// same mask (mem_cgroup_charge: no reclaim without __GFP_DIRECT_RECLAIM,
// one round with __GFP_NORETRY, never the memcg OOM killer for a costly
// charge). As vma_alloc_anon_folio_pmd counts: thp_fault_alloc and one
// pgfault on success, thp_fault_fallback on failure, and
// thp_fault_fallback_charge too when the charge failed; the caller faults
// base pages in after a fallback (do_anonymous_page), each counting its
// own fault. The block is split (split_page) into ordinary anonymous
// pages that reclaim and swap treat one by one; in a mapping (vi > 0)
// they carry pgHuge until something splits the huge page.
func (m *Machine) hugeFaultAt(slot int, vi, idx int32, prefNode, order int, mask GFPFlags) hugeFault {
	t := &m.tasks[slot]
	pmd := order == HugePageOrder
	r := m.allocHugeFolio(t.PID, prefNode, order, mask)
	f := hugeFault{node: prefNode, stallNs: r.StallNs}
	if !r.OK {
		m.countTHP(pmd, ThpFaultFallback)
		return f
	}
	charged, stall, _ := m.chargePages(slot, int64(1)<<order, chargeOptionsFor(mask, t.killed))
	f.stallNs += stall
	_, nd := m.nodeOf(r.PFN)
	if !charged {
		if err := nd.buddy.Free(r.PFN, order); err != nil {
			panic("kernel: " + err.Error()) // the block was just allocated
		}
		m.countTHP(pmd, ThpFaultFallback)
		m.countTHP(pmd, ThpFaultFallbackCharge)
		return f
	}
	m.countTHP(pmd, ThpFaultAlloc)
	m.countEvent(Pgfault, t.cg, MemcgStatPgfault, 1)
	if err := nd.buddy.Split(r.PFN, order); err != nil {
		panic("kernel: " + err.Error()) // the block was just allocated
	}
	var flags pageFlags
	if vi > 0 && pmd {
		flags = pgHuge
		t.anon.vmas[vi].thp[idx/HugePagePages] = true
	}
	for i := range int64(1) << order {
		m.adoptAt(slot, vi, idx+int32(i), r.PFN+i, flags)
	}
	f.ok, f.node = true, r.Node
	return f
}

// countTHP counts a thp_fault_* event for a PMD-sized fault.
func (m *Machine) countTHP(pmd bool, ev VMEvent) {
	if pmd {
		m.vmstat[ev]++
	}
}

// AllocAnonHuge faults a naturally aligned block of 2^order pages onto
// the end of task pid's heap, as huge page faults in a region that was
// not madvised do under the default defrag mode "madvise":
// GFP_TRANSHUGE_LIGHT, so no reclaim, no compaction, no kswapd, and for
// a PMD-sized page only the preferred node (allocHugeFolio). Order
// HugePageOrder is one THP fault; a smaller order a multi-size THP
// folio; order 10 two THP faults, both or neither. It returns the node
// that served the memory. The pages are split at once and behave like
// the heap's other pages (FreeAnon frees them one by one); MapAnon with
// Huge set is the faithful path for memory that stays a mapping. The
// caller falls back to base pages on failure (thp_fault_fallback is
// counted here).
func (m *Machine) AllocAnonHuge(pid int64, prefNode, order int) (servedNode int, stallNs int64, ok bool, err error) {
	s, found := m.slot[pid]
	if !found {
		return 0, 0, false, fmt.Errorf("%w: %d", ErrNoTask, pid)
	}
	if m.tasks[s].killed {
		return 0, 0, false, fmt.Errorf("kernel: task %d was OOM-killed", pid)
	}
	if order < 0 || order > MaxOrder {
		return 0, 0, false, fmt.Errorf("kernel: AllocAnonHuge: order %d is outside 0..%d", order, MaxOrder)
	}
	if prefNode < 0 || prefNode >= len(m.nodes) {
		return 0, 0, false, fmt.Errorf("kernel: AllocAnonHuge: node %d of %d", prefNode, len(m.nodes))
	}
	folio := min(order, HugePageOrder)
	mask := THPGFPMask(THPDefragMadvise, false)
	servedNode = prefNode
	for done := 0; done < 1<<(order-folio); done++ {
		heap := m.tasks[s].anon.heap()
		start := int32(len(heap.slots))
		for range 1 << folio {
			heap.push(slotFreed)
			heap.freed++
		}
		f := m.hugeFaultAt(s, 0, start, prefNode, folio, mask)
		stallNs += f.stallNs
		if !f.ok {
			m.trimAnon(&m.tasks[s])
			if done > 0 {
				m.freeAnonResident(&m.tasks[s], m.tasks[s].anon.heap(), int64(done)<<folio)
				m.trimAnon(&m.tasks[s])
			}
			return prefNode, stallNs, false, nil
		}
		if done == 0 {
			servedNode = f.node
		}
	}
	return servedNode, stallNs, true, nil
}

// splitHugeChunkOf splits the huge page holding slot idx of mapping v, if
// it is still whole (split_huge_page): its pages lose pgHuge, and from
// now on reclaim, migration and munmap treat them one by one.
func (m *Machine) splitHugeChunkOf(v *vma, idx int32) {
	c := int(idx) / HugePagePages
	if c >= len(v.thp) || !v.thp[c] {
		return
	}
	v.thp[c] = false
	for i := c * HugePagePages; i < (c+1)*HugePagePages; i++ {
		pfn := v.slots[i].pfn
		_, n := m.nodeOf(pfn)
		n.page(pfn).flags &^= pgHuge
		n.touchPFN(pfn)
	}
}

// splitHugePage splits the whole huge page that the anonymous page p
// belongs to, if any.
func (m *Machine) splitHugePage(p *pageState) {
	if p.flags&pgHuge == 0 {
		return
	}
	m.splitHugeChunkOf(&m.tasks[p.owner-1].anon.vmas[p.vma], p.idx)
}

// freeHugeChunk frees the whole huge page of chunk c of mapping v as one
// order-HugePageOrder block, as freeing an unsplit THP folio does (the
// kernel may park it on the per-CPU THP list; the model frees it to the
// buddy allocator). The caller uncharges and counts.
func (m *Machine) freeHugeChunk(v *vma, c int) {
	head := v.slots[c*HugePagePages].pfn
	ni, n := m.nodeOf(head)
	for i := c * HugePagePages; i < (c+1)*HugePagePages; i++ {
		pfn := v.slots[i].pfn
		m.lruDel(ni, n.index(pfn))
		n.page(pfn).flags &^= pgHuge
		n.forget(pfn)
		v.slots[i] = pageSlot{pfn: slotFreed}
	}
	v.freed += HugePagePages
	v.thp[c] = false
	if err := n.buddy.freeRun(head, HugePageOrder); err != nil {
		panic("kernel: " + err.Error()) // the pages were the mapping's own
	}
}
