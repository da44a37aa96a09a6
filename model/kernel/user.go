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

// adopt turns a freshly allocated page into an anonymous page at the
// end of task slot's heap, or an mlocked page of the task.
func (m *Machine) adopt(slot int, pfn int64, kind pageKind) {
	t := &m.tasks[slot]
	switch kind {
	case pageAnon:
		heap := t.anon.heap()
		heap.push(slotFreed)
		heap.freed++
		m.adoptAt(slot, 0, int32(len(heap.slots)-1), pfn, 0)
		return
	case pageMlocked:
		_, n := m.nodeOf(pfn)
		n.claim(pfn, pageMlocked, int32(slot+1), t.cg, 0, int32(len(t.mlocked)))
		t.mlocked = append(t.mlocked, pfn)
		m.cgroups.modStatIdx(int32(t.cg), MemcgStatUnevictable, 1)
	default:
		panic(fmt.Sprintf("kernel: adopt of a page of kind %d", kind))
	}
	m.cgroups.modStatIdx(int32(t.cg), MemcgStatAnon, 1)
	t.RSSAnonPages++
}

// adoptAt turns a freshly allocated page into the anonymous page at
// freed slot idx of task slot's mapping vi, with the extra flags (pgHuge
// for a page of a huge page fault). It joins the inactive anon list with
// its PTE young from the faulting access (folio_add_lru_vma ->
// folio_add_lru; since Linux 5.9 new anonymous pages start inactive).
func (m *Machine) adoptAt(slot int, vi, idx int32, pfn int64, flags pageFlags) {
	ni, n := m.nodeOf(pfn)
	t := &m.tasks[slot]
	t.anon.vmas[vi].fill(idx, pfn)
	n.claim(pfn, pageAnon, int32(slot+1), t.cg, vi, idx)
	n.page(pfn).flags = pgYoung | flags
	m.lruAdd(ni, n.index(pfn))
	m.cgroups.modStatIdx(int32(t.cg), MemcgStatAnon, 1)
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
