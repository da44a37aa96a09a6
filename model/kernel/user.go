package kernel

import (
	"fmt"
)

// AllocAnon faults in n anonymous pages for task pid on its preferred
// node, one order-0 allocation each, as page faults do. It stops at the
// first page it cannot get and returns how many it got, the total stall,
// and the OOM kill that stopped it, if any.
func (m *Machine) AllocAnon(pid int64, prefNode int, n int64) (got int64, stallNs int64, oom *OOMEvent, err error) {
	return m.allocUser(pid, prefNode, n, pageAnon, false, nil)
}

// AllocAnonOnNodes is AllocAnon (noOOM false) or AllocAnonMayFail (noOOM
// true) that also counts where the pages came from: perNode[k] grows by
// the pages node k served (perNode has one entry per node). An allocator
// that maps a large block uses it to learn which node the block's memory
// is on, since the zonelist may have served it from another node.
func (m *Machine) AllocAnonOnNodes(pid int64, prefNode int, n int64, noOOM bool, perNode []int64) (got int64, stallNs int64, oom *OOMEvent, err error) {
	if len(perNode) != len(m.nodes) {
		return 0, 0, nil, fmt.Errorf("kernel: AllocAnonOnNodes: perNode has %d entries for %d nodes", len(perNode), len(m.nodes))
	}
	return m.allocUser(pid, prefNode, n, pageAnon, noOOM, perNode)
}

// AllocAnonHuge faults in one naturally aligned block of 2^order
// anonymous pages for task pid, as a transparent huge page fault does
// (do_huge_pmd_anonymous_page with THP defrag "madvise", the default, for
// a region that was not madvised): the cgroup is charged for the whole
// block (reclaiming inside it if needed, never OOM-killing), then one
// order-`order` request goes along the preferred node's zonelist with
// GFP_TRANSHUGE_LIGHT: no direct reclaim, no compaction, no OOM killer;
// kswapd is woken. It fails when no free block of that order sits above
// the watermarks: free memory fragmented into smaller pieces does not
// help (the model has no compaction). The block is then split
// (split_page) into ordinary anonymous pages that reclaim, swap and
// FreeAnon treat one by one, all young. It returns the node that served
// the block. As vma_alloc_anon_folio_pmd and __do_huge_pmd_anonymous_page
// count them: thp_fault_alloc and one pgfault on success,
// thp_fault_fallback on failure, and thp_fault_fallback_charge too when
// the charge failed (the caller's fallback to base pages counts their
// own faults).
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
	n := int64(1) << order
	// As do_huge_pmd_anonymous_page: allocate the folio, then charge it
	// (mem_cgroup_charge may reclaim inside the cgroup, never OOM-kill);
	// a failed charge frees the folio and the fault falls back.
	r, err := m.Alloc(AllocRequest{PID: pid, Node: prefNode, Order: order, GFP: GFPUser, CPU: -1, NoOOM: true, NoReclaim: true})
	if err != nil {
		return prefNode, stallNs, false, err
	}
	stallNs += r.StallNs
	if !r.OK {
		m.vmstat[ThpFaultFallback]++
		return prefNode, stallNs, false, nil
	}
	charged, stall, _ := m.chargeUserPages(s, n, true)
	stallNs += stall
	if !charged {
		if err := m.FreeKernel(r.PFN, order); err != nil {
			panic("kernel: " + err.Error()) // the block was just allocated
		}
		m.vmstat[ThpFaultFallback]++
		m.vmstat[ThpFaultFallbackCharge]++
		return prefNode, stallNs, false, nil
	}
	m.vmstat[ThpFaultAlloc]++
	m.countEvent(Pgfault, m.tasks[s].cg, MemcgStatPgfault, 1)
	_, nd := m.nodeOf(r.PFN)
	if err := nd.buddy.Split(r.PFN, order); err != nil {
		panic("kernel: " + err.Error()) // the block was just allocated
	}
	for i := range n {
		m.adopt(s, r.PFN+i, pageAnon)
	}
	return r.Node, stallNs, true, nil
}

// AllocAnonMayFail is AllocAnon for a request that fails rather than
// invoke the OOM killer (__GFP_RETRY_MAYFAIL), globally or in its cgroup.
// An allocator growing its heap by a large block uses it, and falls back
// to smaller requests on failure.
func (m *Machine) AllocAnonMayFail(pid int64, prefNode int, n int64) (got int64, stallNs int64, err error) {
	got, stallNs, _, err = m.allocUser(pid, prefNode, n, pageAnon, true, nil)
	return got, stallNs, err
}

// AllocMlocked faults in n pages and locks them (mlock): anonymous pages
// that reclaim cannot take (the unevictable list).
func (m *Machine) AllocMlocked(pid int64, prefNode int, n int64) (got int64, stallNs int64, oom *OOMEvent, err error) {
	return m.allocUser(pid, prefNode, n, pageMlocked, false, nil)
}

func (m *Machine) allocUser(pid int64, prefNode int, count int64, kind pageKind, noOOM bool, perNode []int64) (got, stallNs int64, oom *OOMEvent, err error) {
	s, ok := m.slot[pid]
	if !ok {
		return 0, 0, nil, fmt.Errorf("%w: %d", ErrNoTask, pid)
	}
	if m.tasks[s].killed {
		return 0, 0, nil, fmt.Errorf("kernel: task %d was OOM-killed", pid)
	}
	for got < count {
		// mm_account_fault counts every fault, failed ones included.
		m.countEvent(Pgfault, m.tasks[s].cg, MemcgStatPgfault, 1)
		charged, stall, oom := m.chargeUser(s, noOOM)
		stallNs += stall
		if !charged {
			return got, stallNs, oom, nil
		}
		r, err := m.Alloc(AllocRequest{PID: pid, Node: prefNode, GFP: GFPUser, CPU: m.tasks[s].cpu, NoOOM: noOOM})
		if err != nil {
			return got, stallNs, nil, err
		}
		stallNs += r.StallNs
		if !r.OK {
			m.uncharge(m.tasks[s].cg, 1)
			return got, stallNs, r.OOM, nil
		}
		m.adopt(s, r.PFN, kind)
		if perNode != nil {
			perNode[r.Node]++
		}
		got++
	}
	return got, stallNs, nil, nil
}

// adopt turns a freshly allocated kernel page into an anonymous or
// mlocked page of task slot. An anonymous page joins the inactive anon
// list with its PTE young from the faulting access
// (folio_add_lru_vma -> folio_add_lru; since Linux 5.9 new anonymous
// pages start inactive); an mlocked one is unevictable.
func (m *Machine) adopt(slot int, pfn int64, kind pageKind) {
	ni, n := m.nodeOf(pfn)
	t := &m.tasks[slot]
	cg := int32(t.cg)
	switch kind {
	case pageAnon:
		idx := t.anon.push(pfn)
		n.claim(pfn, pageAnon, int32(slot+1), cg, idx)
		n.page(pfn).flags = pgYoung
		m.lruAdd(ni, n.index(pfn))
	case pageMlocked:
		n.claim(pfn, pageMlocked, int32(slot+1), cg, 0)
		t.mlocked = append(t.mlocked, pfn)
		m.cgroups.modStatIdx(cg, MemcgStatUnevictable, 1)
	default:
		panic(fmt.Sprintf("kernel: adopt of a page of kind %d", kind))
	}
	m.cgroups.modStatIdx(cg, MemcgStatAnon, 1)
	t.RSSAnonPages++
}

// freeUserPage frees a page a task gave up, off its LRU list: onto its
// CPU's per-CPU list when it is placed (free_unref_page), else to the
// buddy allocator.
func (m *Machine) freeUserPage(n *node, pfn int64, cpu int) {
	if cpu < 0 || cpu >= len(m.pcps) {
		n.release(pfn)
		return
	}
	ni, _ := m.nodeOf(pfn)
	n.forget(pfn)
	if err := m.pcps[cpu][ni].Free(pfn); err != nil {
		panic("kernel: " + err.Error())
	}
}
