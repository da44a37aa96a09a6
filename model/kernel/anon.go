package kernel

import "fmt"

// This file gives a task's anonymous memory an identity: its pages in
// the order they were faulted in, each resident, swapped out (with the
// shadow entry of its eviction) or freed, so that the task can touch its
// memory again (TouchAnon) and bring swapped pages back (do_swap_page).

// vma is one anonymous mapping of a task: its pages in address order,
// each resident (pfn >= 0), swapped out (with the shadow entry of its
// eviction) or freed. The heap, vmas[0], grows at its end (AllocAnon)
// and shrinks from it (FreeAnon); its freed slots are holes, dropped
// from the end at once and compacted away once they are half the slots.
// A MapAnon mapping keeps its size until UnmapAnon.
type vma struct {
	slots []pageSlot
	freed int // slots that are slotFreed
	// residentTop and swappedTop bound the resident and swapped slots:
	// none sits at or above them. They let FreeAnon start its walks
	// there rather than at the end.
	residentTop, swappedTop int
	// thp marks the HugePagePages-page chunks of a mapping that a huge
	// page fault filled and that reclaim, migration or hotplug have not
	// split since (its pages carry pgHuge).
	thp []bool
	// mapped is set while the id is in use.
	mapped bool
}

// anonSpace is a task's evictable anonymous memory (the model's stand-in
// for its anonymous VMAs): the heap and the task's mappings, by id.
type anonSpace struct {
	vmas []vma
	// freeIDs are unmapped ids, reused by the next MapAnon.
	freeIDs []int32
	// cursorVMA and cursor are the slot TouchAnon touches next.
	cursorVMA, cursor int
}

// newAnonSpace returns a task's anonymous memory with an empty heap.
func newAnonSpace() anonSpace { return anonSpace{vmas: []vma{{mapped: true}}} }

// heap is the task's heap, vmas[0].
func (a *anonSpace) heap() *vma { return &a.vmas[0] }

// push adds a resident page at the end of v and returns its slot.
func (v *vma) push(pfn int64) int32 {
	if len(v.slots) >= 1<<31-1 {
		panic("kernel: a mapping with 2^31 anonymous pages") // pageState.idx is 32-bit
	}
	v.slots = append(v.slots, pageSlot{pfn: pfn})
	v.residentTop = len(v.slots)
	return int32(len(v.slots) - 1)
}

// fill makes freed slot idx of v resident at pfn.
func (v *vma) fill(idx int32, pfn int64) {
	if v.slots[idx].pfn != slotFreed {
		panic(fmt.Sprintf("kernel: fault into anonymous slot %d, which is in use", idx))
	}
	v.slots[idx] = pageSlot{pfn: pfn}
	v.freed--
	v.residentTop = max(v.residentTop, int(idx)+1)
}

// swapOut marks slot idx, whose entry swap slot holds, swapped out with
// shadow sh.
func (v *vma) swapOut(idx int32, sh shadow) {
	s := &v.slots[idx]
	if s.pfn < 0 || s.swp == 0 {
		panic(fmt.Sprintf("kernel: swap-out of anonymous slot %d, which is not resident or has no swap slot", idx))
	}
	s.pfn, s.sh, s.swf = slotAbsent, sh, 0
	v.swappedTop = max(v.swappedTop, int(idx)+1)
}

// swapIn marks swapped slot idx resident again at pfn, in the swap
// cache: it keeps its swap slot.
func (v *vma) swapIn(idx int32, pfn int64) {
	s := &v.slots[idx]
	if s.pfn != slotAbsent {
		panic(fmt.Sprintf("kernel: swap-in of anonymous slot %d, which is not swapped", idx))
	}
	s.pfn, s.sh = pfn, shadow{}
	v.residentTop = max(v.residentTop, int(idx)+1)
}

// live counts v's slots not freed.
func (v *vma) live() int64 { return int64(len(v.slots) - v.freed) }

// live counts the task's anonymous slots not freed, every mapping.
func (a *anonSpace) live() int64 {
	var n int64
	for i := range a.vmas {
		n += a.vmas[i].live()
	}
	return n
}

// next returns the next live slot from the cursor, round robin over the
// mappings in id order, and moves the cursor past it. There must be a
// live slot.
func (a *anonSpace) next() (int32, int32) {
	for {
		if a.cursorVMA >= len(a.vmas) {
			a.cursorVMA, a.cursor = 0, 0
		}
		v := &a.vmas[a.cursorVMA]
		if a.cursor >= len(v.slots) {
			a.cursorVMA++
			a.cursor = 0
			continue
		}
		i := a.cursor
		a.cursor++
		if v.slots[i].pfn != slotFreed {
			return int32(a.cursorVMA), int32(i)
		}
	}
}

// newMapping adds an unpopulated mapping of pages slots (all freed) and
// returns its id, reusing an unmapped one.
func (a *anonSpace) newMapping(pages int64) int32 {
	v := vma{slots: make([]pageSlot, pages), freed: int(pages), mapped: true, thp: make([]bool, (pages+HugePagePages-1)/HugePagePages)}
	for i := range v.slots {
		v.slots[i].pfn = slotFreed
	}
	if k := len(a.freeIDs); k > 0 {
		id := a.freeIDs[k-1]
		a.freeIDs = a.freeIDs[:k-1]
		a.vmas[id] = v
		return id
	}
	if len(a.vmas) >= 1<<31-1 {
		panic("kernel: a task with 2^31 mappings") // pageState.vma is 32-bit
	}
	a.vmas = append(a.vmas, v)
	return int32(len(a.vmas) - 1)
}

// dropMapping forgets mapping id, all of whose slots are freed, and
// keeps the id for reuse.
func (a *anonSpace) dropMapping(id int32) {
	if a.vmas[id].live() != 0 {
		panic(fmt.Sprintf("kernel: mapping %d dropped with %d live slots", id, a.vmas[id].live()))
	}
	a.vmas[id] = vma{}
	a.freeIDs = append(a.freeIDs, id)
	if a.cursorVMA == int(id) {
		a.cursor = 0
	}
}

// TouchResult is what TouchAnon did.
type TouchResult struct {
	// Touched counts the pages touched: resident ones, whose PTEs are
	// now young, and swapped ones brought back.
	Touched int64
	// SwappedIn counts the major faults: pages read back from swap.
	// ReadAhead counts the pages their readahead read besides (into the
	// swap cache, any task's), and ReadaheadHits the minor faults on
	// such pages, already in memory. Refaults, Activated and Restored
	// are what workingset_refault made of every page read.
	SwappedIn, ReadAhead, ReadaheadHits int64
	Refaults, Activated, Restored       int64
	// StallNs is the task's time in the faults: reclaim for the new
	// pages, the swap reads and the CPU time of swapping in. IOWaitNs is
	// the part of it spent waiting on reads of pages that were not in
	// the workingset, which PSI counts as I/O rather than a memory
	// stall, and CPUNs the part spent running the faults (swap-in CPU
	// time), which PSI does not count either.
	StallNs, IOWaitNs, CPUNs int64
	// OOM is the OOM kill that stopped the sweep, if one did.
	OOM *OOMEvent
}

// TouchAnon has task pid touch the next pages pages of its anonymous
// memory (at most all of it once), in a round-robin sweep over its pages
// in fault order that continues where the last call stopped. A touch
// adds one to a byte of the page: a read, then a write. A resident page
// gets its PTE's accessed bit set (which reclaim reads through
// folio_referenced) and, if it is in the swap cache, becomes dirty (its
// copy on swap is stale). A page that swap readahead brought into the
// swap cache is mapped by a minor fault (swapCacheFault). A swapped page
// is faulted back in by do_swap_page (swapIn): a major fault (pgfault,
// pgmajfault, pswpin) whose readahead also reads its neighbours on swap
// (swap_cluster_readahead), that charges and allocates a page (direct
// reclaim, memcg reclaim and the OOM killer may follow), runs
// workingset_refault with the page's shadow entry (an activated refault
// goes to the active list) and costs a swap read. The page stays in the
// swap cache with its slot unless swap is half full for its cgroup
// (should_try_to_free_swap). The new page is allocated on the node of
// the task's CPU (PlaceTask), else on the node the page was evicted
// from. The sweep stops at the first page it cannot bring back.
func (m *Machine) TouchAnon(pid int64, pages int64) (TouchResult, error) {
	s, ok := m.slot[pid]
	if !ok {
		return TouchResult{}, fmt.Errorf("%w: %d", ErrNoTask, pid)
	}
	t := &m.tasks[s]
	if t.killed {
		return TouchResult{}, fmt.Errorf("kernel: task %d was OOM-killed", pid)
	}
	if pages < 0 {
		return TouchResult{}, fmt.Errorf("kernel: TouchAnon of %d pages", pages)
	}
	pages = min(pages, t.anon.live())
	if m.asyncWriteback() {
		m.endWriteback()
	}
	var r TouchResult
	for r.Touched < pages && !t.killed {
		vi, idx := t.anon.next()
		sl := &t.anon.vmas[vi].slots[idx]
		switch {
		case sl.pfn >= 0 && sl.swf&swfUnmapped != 0:
			m.swapCacheFault(s, vi, idx, &r)
		case sl.pfn >= 0:
			_, n := m.nodeOf(sl.pfn)
			n.page(sl.pfn).flags |= pgYoung
			n.touchPFN(sl.pfn)
			if sl.swp != 0 {
				sl.swf |= swfDirty
			}
		case !m.swapIn(s, vi, idx, &r):
			// The page is still out: the next sweep starts with it.
			t.anon.cursorVMA, t.anon.cursor = int(vi), int(idx)
			return r, nil
		}
		r.Touched++
	}
	return r, nil
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// FreeAnon frees n of the task's heap (AllocAnon's memory): resident
// pages first, newest first, then swap entries, newest first (munmap of
// the memory the task got last; a swap entry frees its slot). Mappings
// (MapAnon) are freed only by UnmapAnon.
func (m *Machine) FreeAnon(pid int64, n int64) error {
	s, ok := m.slot[pid]
	if !ok {
		return fmt.Errorf("%w: %d", ErrNoTask, pid)
	}
	t := &m.tasks[s]
	heap := t.anon.heap()
	left := n - m.freeAnonResident(t, heap, n)
	m.freeAnonSwapped(t, heap, min(left, heap.swapped()))
	m.trimAnon(t)
	return nil
}

// swapped counts v's swapped slots.
func (v *vma) swapped() int64 {
	var n int64
	for i := range v.swappedTop {
		if v.slots[i].pfn == slotAbsent {
			n++
		}
	}
	return n
}

// freeAnonResident frees up to n of t's resident pages of mapping v,
// newest first, and returns how many it freed. A huge page of a mapping
// that is still whole goes back to the buddy allocator as one block, as
// the kernel frees an unsplit THP folio; other pages go through the
// task's CPU's per-CPU list. A page in the swap cache takes its swap
// slot with it: zap_pte_range frees a mapped one's through
// free_swap_cache (folio_free_swap), a read-ahead one's (whose PTE
// still holds the entry) through free_swap_and_cache_nr.
func (m *Machine) freeAnonResident(t *taskState, v *vma, n int64) int64 {
	freed, mapped := int64(0), int64(0)
	i := v.residentTop - 1
	for ; i >= 0 && freed < n; i-- {
		sl := v.slots[i]
		if sl.pfn < 0 {
			continue
		}
		if c := i / HugePagePages; c < len(v.thp) && v.thp[c] && n-freed >= HugePagePages && i%HugePagePages == HugePagePages-1 {
			m.freeHugeChunk(v, c)
			freed += HugePagePages
			mapped += HugePagePages
			i -= HugePagePages - 1
			continue
		}
		m.splitHugeChunkOf(v, int32(i))
		ni, nd := m.nodeOf(sl.pfn)
		m.lruDel(ni, nd.index(sl.pfn))
		m.freeUserPage(nd, sl.pfn, t.cpu)
		if sl.swp != 0 {
			m.freeSwapSlot(sl.swp)
			m.swapCacheMod(t.cg, -1)
		}
		if sl.swf&swfUnmapped != 0 {
			t.SwapEntries--
		} else {
			mapped++
		}
		v.slots[i] = pageSlot{pfn: slotFreed}
		v.freed++
		freed++
	}
	v.residentTop = i + 1
	if freed > 0 {
		t.RSSAnonPages -= mapped
		m.cgroups.modStatIdx(int32(t.cg), MemcgStatAnon, -mapped)
		m.uncharge(t.cg, freed)
	}
	return freed
}

// freeAnonSwapped frees n of t's swap entries of mapping v, newest
// first, and their slots (free_swap_and_cache_nr).
func (m *Machine) freeAnonSwapped(t *taskState, v *vma, n int64) {
	freed := int64(0)
	i := v.swappedTop - 1
	for ; i >= 0 && freed < n; i-- {
		if v.slots[i].pfn != slotAbsent {
			continue
		}
		m.freeSwapSlot(v.slots[i].swp)
		v.slots[i] = pageSlot{pfn: slotFreed}
		v.freed++
		freed++
	}
	v.swappedTop = i + 1
	t.SwapEntries -= freed
}

// trimAnon drops freed slots from the end of t's heap and compacts the
// rest once freed slots are half of them, renumbering the pages' slots;
// the touch cursor keeps its place among the live slots.
func (m *Machine) trimAnon(t *taskState) {
	a := &t.anon
	v := a.heap()
	for len(v.slots) > 0 && v.slots[len(v.slots)-1].pfn == slotFreed {
		v.slots = v.slots[:len(v.slots)-1]
		v.freed--
	}
	inHeap := a.cursorVMA == 0
	if v.freed <= len(v.slots)/2+64 {
		v.residentTop, v.swappedTop = min(v.residentTop, len(v.slots)), min(v.swappedTop, len(v.slots))
		if inHeap {
			a.cursor = min(a.cursor, len(v.slots))
		}
		return
	}
	out, cursor := 0, 0
	for i, sl := range v.slots {
		if inHeap && i == a.cursor {
			cursor = out
		}
		if sl.pfn == slotFreed {
			continue
		}
		if sl.pfn >= 0 {
			_, n := m.nodeOf(sl.pfn)
			n.page(sl.pfn).idx = int32(out)
			n.touchPFN(sl.pfn)
		}
		if sl.swp != 0 {
			m.swap.slots[sl.swp].idx = int32(out)
		}
		v.slots[out] = sl
		out++
	}
	if inHeap && a.cursor >= len(v.slots) {
		cursor = out
	}
	clear(v.slots[out:])
	v.slots = v.slots[:out]
	v.freed = 0
	if inHeap {
		a.cursor = cursor
	}
	v.residentTop, v.swappedTop = out, out
}
