package kernel

import "fmt"

// This file gives tasks anonymous mappings with identity: mmap of a
// private anonymous region populated at once (its faults: huge page
// faults where transparent huge pages apply, base page faults otherwise),
// munmap of exactly that region, and the end of a task's memory (exit
// or the OOM reaper).

// MappingID names one of a task's mappings (MapAnon). IDs of unmapped
// mappings are reused.
type MappingID int32

// MapOptions say how MapAnon populates a mapping.
type MapOptions struct {
	// Huge faults the mapping in with PMD-sized transparent huge pages
	// (do_huge_pmd_anonymous_page), each 512-page chunk on its own; the
	// caller decided that THPs apply (THPEnabled) and promises the
	// mapping is PMD-aligned, as SBMP's 2 and 4 MiB Tier-1 blocks are.
	// A trailing part shorter than a huge page gets base pages.
	Huge bool
	// Defrag and Madvised give the huge page faults' gfp mask
	// (THPGFPMask: transparent_hugepage/defrag, MADV_HUGEPAGE).
	Defrag   THPDefrag
	Madvised bool
	// NoOOM makes base page faults fail rather than invoke the OOM
	// killer (__GFP_RETRY_MAYFAIL). A real page fault has no such
	// choice; it stands for a caller that populates memory it can do
	// without.
	NoOOM bool
}

// MapResult is what MapAnon did.
type MapResult struct {
	// ID names the mapping; it is valid only when OK.
	ID MappingID
	// OK is set when every page of the mapping is resident.
	OK bool
	// HugePages counts the huge pages faulted in and BasePages the
	// pages faulted one by one (no THP, a fallback, or a tail).
	HugePages, BasePages int64
	// Node is the node that served the most pages (the preferred node
	// on a tie or when nothing was served).
	Node int
	// StallNs is the task's time in the faults: direct reclaim and
	// compaction, memcg reclaim and memory.high throttling.
	StallNs int64
	// OOM is the OOM kill that stopped the population, if one did.
	OOM *OOMEvent
}

// MapAnon maps pages pages of private anonymous memory for task pid and
// populates them, as mmap with MAP_POPULATE (or a first touch of every
// page) does, preferring node prefNode: with opts.Huge each whole
// 512-page chunk is a huge page fault under opts' defrag mode, and a
// chunk whose huge page fault fails falls back to base pages
// (thp_fault_fallback); without it every page is a base page fault
// (do_anonymous_page: a charge to the task's cgroup and a
// GFP_HIGHUSER_MOVABLE order-0 allocation, each of which may reclaim and
// may end in the OOM killer). Every fault counts pgfault.
//
// All or nothing: when a page cannot be had, the pages faulted so far
// are unmapped again (the caller would munmap the half-populated
// region) and the result is not OK, with the stall and the OOM kill, if
// any; if that kill took the task itself, its memory, the partial
// mapping included, waits for Reap. The error reports a bad request: an
// unknown or killed task, a node out of range, pages not positive.
func (m *Machine) MapAnon(pid int64, prefNode int, pages int64, opts MapOptions) (MapResult, error) {
	s, ok := m.slot[pid]
	if !ok {
		return MapResult{}, fmt.Errorf("%w: %d", ErrNoTask, pid)
	}
	if m.tasks[s].killed {
		return MapResult{}, fmt.Errorf("kernel: task %d was OOM-killed", pid)
	}
	if prefNode < 0 || prefNode >= len(m.nodes) || pages <= 0 || pages > 1<<31-1 {
		return MapResult{}, fmt.Errorf("kernel: MapAnon of %d pages on node %d (nodes 0..%d)", pages, prefNode, len(m.nodes)-1)
	}
	vi := m.tasks[s].anon.newMapping(pages)
	res := MapResult{ID: MappingID(vi), Node: prefNode}
	perNode := make([]int64, len(m.nodes))
	mask := THPGFPMask(opts.Defrag, opts.Madvised)
	for idx := int64(0); idx < pages; {
		if opts.Huge && idx+HugePagePages <= pages {
			f := m.hugeFaultAt(s, vi, int32(idx), prefNode, HugePageOrder, mask)
			res.StallNs += f.stallNs
			if f.ok {
				res.HugePages++
				perNode[f.node] += HugePagePages
				idx += HugePagePages
				continue
			}
		}
		end := pages
		if opts.Huge && idx+HugePagePages <= pages {
			end = idx + HugePagePages // the fallback covers this chunk's range
		}
		got, stall, oom := m.faultBasePages(s, vi, idx, end, prefNode, opts.NoOOM, perNode)
		res.StallNs += stall
		res.BasePages += got
		if oom != nil || idx+got < end {
			res.OOM = oom
			if !m.tasks[s].killed {
				m.unmapVMA(s, vi)
			}
			return res, nil
		}
		idx = end
	}
	res.OK = true
	for n, c := range perNode {
		if c > perNode[res.Node] {
			res.Node = n
		}
	}
	return res, nil
}

// faultBasePages faults slots [from, to) of task slot's mapping vi in
// one page at a time (do_anonymous_page), counting where the pages came
// from in perNode. It stops at the first page it cannot get.
func (m *Machine) faultBasePages(s int, vi int32, from, to int64, prefNode int, noOOM bool, perNode []int64) (got, stallNs int64, oom *OOMEvent) {
	t := &m.tasks[s]
	for idx := from; idx < to; idx++ {
		m.countEvent(Pgfault, t.cg, MemcgStatPgfault, 1)
		charged, stall, oom := m.chargeUser(s, noOOM)
		stallNs += stall
		if !charged {
			return got, stallNs, oom
		}
		r, err := m.Alloc(AllocRequest{PID: t.PID, Node: prefNode, GFP: GFPUser, CPU: t.cpu, NoOOM: noOOM})
		if err != nil {
			panic("kernel: " + err.Error()) // MapAnon checked the request
		}
		stallNs += r.StallNs
		if !r.OK {
			m.uncharge(t.cg, 1)
			return got, stallNs, r.OOM
		}
		m.adoptAt(s, vi, int32(idx), r.PFN, 0) // Alloc's kernel page becomes the task's

		perNode[r.Node]++
		got++
	}
	return got, stallNs, nil
}

// UnmapAnon unmaps task pid's mapping id, as munmap of the whole region
// (or MADV_DONTNEED over it, which the model does not tell apart): its
// resident pages are freed (a huge page still whole as one block to the
// buddy allocator, other pages through the task's CPU's per-CPU list)
// and uncharged, its swap entries freed and uncharged; the id becomes
// free for reuse. Unmapping the heap, an unknown id or one already
// unmapped is an error and changes nothing.
func (m *Machine) UnmapAnon(pid int64, id MappingID) error {
	s, ok := m.slot[pid]
	if !ok {
		return fmt.Errorf("%w: %d", ErrNoTask, pid)
	}
	a := &m.tasks[s].anon
	if id <= 0 || int(id) >= len(a.vmas) || !a.vmas[id].mapped {
		return fmt.Errorf("kernel: task %d has no mapping %d", pid, id)
	}
	m.unmapVMA(s, int32(id))
	return nil
}

// unmapVMA frees everything of task slot s's mapping vi and drops it.
func (m *Machine) unmapVMA(s int, vi int32) {
	t := &m.tasks[s]
	v := &t.anon.vmas[vi]
	m.freeAnonResident(t, v, v.live())
	m.freeAnonSwapped(t, v, v.swapped())
	t.anon.dropMapping(vi)
}

// MappingPages reports how many of mapping id's pages are resident and
// swapped out, and how many of its huge pages are still whole.
func (m *Machine) MappingPages(pid int64, id MappingID) (resident, swapped, hugePages int64, err error) {
	s, ok := m.slot[pid]
	if !ok {
		return 0, 0, 0, fmt.Errorf("%w: %d", ErrNoTask, pid)
	}
	a := &m.tasks[s].anon
	if id < 0 || int(id) >= len(a.vmas) || !a.vmas[id].mapped {
		return 0, 0, 0, fmt.Errorf("kernel: task %d has no mapping %d", pid, id)
	}
	v := &a.vmas[id]
	for _, sl := range v.slots {
		switch {
		case sl.pfn >= 0:
			resident++
		case sl.pfn == slotAbsent:
			swapped++
		}
	}
	for _, whole := range v.thp {
		if whole {
			hugePages++
		}
	}
	return resident, swapped, hugePages, nil
}

// Reap frees everything an OOM victim (or an exiting task) holds: its
// heap's and mappings' resident pages and swap entries, and its mlocked
// pages (exit_mmap, or the OOM reaper). Afterwards the task has no mm
// and is skipped by the OOM killer.
func (m *Machine) Reap(pid int64) error {
	s, ok := m.slot[pid]
	if !ok {
		return fmt.Errorf("%w: %d", ErrNoTask, pid)
	}
	t := &m.tasks[s]
	for vi := range t.anon.vmas {
		if v := &t.anon.vmas[vi]; v.mapped {
			m.freeAnonResident(t, v, v.live())
			m.freeAnonSwapped(t, v, v.swapped())
		}
	}
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
	t.anon = newAnonSpace()
	t.NoMM, t.OOMSkip = true, true
	return nil
}
