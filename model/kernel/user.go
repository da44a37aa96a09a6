package kernel

import (
	"fmt"
	"slices"
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
// FreeAnon treat one by one. It returns the node that served the block.
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
		return prefNode, stallNs, false, nil
	}
	charged, stall, _ := m.chargeUserPages(s, n, true)
	stallNs += stall
	if !charged {
		if err := m.FreeKernel(r.PFN, order); err != nil {
			panic("kernel: " + err.Error()) // the block was just allocated
		}
		return prefNode, stallNs, false, nil
	}
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

// AllocFile reads n pages into the page cache on behalf of task pid. Page
// cache belongs to no task's RSS (the model's file pages are unmapped),
// and reclaim drops it first.
func (m *Machine) AllocFile(pid int64, prefNode int, n int64) (got int64, stallNs int64, oom *OOMEvent, err error) {
	return m.allocUser(pid, prefNode, n, pageFile, false, nil)
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

// adopt turns a freshly allocated kernel page into a user page of kind.
func (m *Machine) adopt(slot int, pfn int64, kind pageKind) {
	_, n := m.nodeOf(pfn)
	t := &m.tasks[slot]
	v := &n.lru[t.cg]
	switch kind {
	case pageAnon:
		e := n.claim(pfn, pageAnon, int32(slot+1), int32(t.cg))
		v.anon.push(e)
		t.anon = append(t.anon, e)
		v.anonPages++
		n.anonPages++
		t.RSSAnonPages++
	case pageMlocked:
		n.claim(pfn, pageMlocked, int32(slot+1), int32(t.cg))
		t.mlocked = append(t.mlocked, pfn)
		t.RSSAnonPages++
	case pageFile:
		v.file.push(n.claim(pfn, pageFile, 0, int32(t.cg)))
		v.filePages++
		n.filePages++
	}
	v.anon.compact(v.anonPages, func(e lruEntry) bool { return n.live(e, pageAnon) })
	if int64(len(t.anon)) > 2*t.RSSAnonPages+64 {
		t.anon = slices.DeleteFunc(t.anon, func(e lruEntry) bool {
			_, nd := m.nodeOf(e.pfn)
			return !nd.live(e, pageAnon)
		})
	}
	v.file.compact(v.filePages, func(e lruEntry) bool { return n.live(e, pageFile) })
}

// FreeAnon frees n of the task's anonymous memory, newest pages first:
// resident pages, then swap entries.
func (m *Machine) FreeAnon(pid int64, n int64) error {
	s, ok := m.slot[pid]
	if !ok {
		return fmt.Errorf("%w: %d", ErrNoTask, pid)
	}
	t := &m.tasks[s]
	left := n - m.freeAnon(t, n)
	fromSwap := min(left, t.SwapEntries)
	t.SwapEntries -= fromSwap
	m.swapUsed -= fromSwap
	m.unchargeSwap(t.cg, fromSwap)
	return nil
}

// freeAnon frees up to n of t's resident evictable anonymous pages, newest
// first, and returns how many it freed.
func (m *Machine) freeAnon(t *taskState, n int64) int64 {
	freed := int64(0)
	for freed < n && len(t.anon) > 0 {
		e := t.anon[len(t.anon)-1]
		t.anon = t.anon[:len(t.anon)-1]
		_, nd := m.nodeOf(e.pfn)
		if !nd.live(e, pageAnon) {
			continue // swapped out since
		}
		m.freeUserPage(nd, e.pfn, t.cpu)
		nd.lru[t.cg].anonPages--
		nd.anonPages--
		t.RSSAnonPages--
		freed++
	}
	if freed > 0 {
		m.uncharge(t.cg, freed)
	}
	return freed
}

// freeUserPage frees a page a task gave up: onto its CPU's per-CPU list
// when it is placed (free_unref_page), else to the buddy allocator.
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
