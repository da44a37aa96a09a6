package kernel

import "fmt"

// This file gives a task's anonymous memory an identity: its pages in
// the order they were faulted in, each resident, swapped out (with the
// shadow entry of its eviction) or freed, so that the task can touch its
// memory again (TouchAnon) and bring swapped pages back (do_swap_page).

// anonSpace is a task's evictable anonymous memory, page by page, oldest
// first (the model's stand-in for the task's anonymous VMAs). Freed
// slots are holes, dropped from the end at once and compacted away once
// they are half the slots.
type anonSpace struct {
	slots []pageSlot
	freed int // slots that are slotFreed
	// residentTop and swappedTop bound the resident and swapped slots:
	// none sits at or above them. They let FreeAnon start its walks
	// there rather than at the end.
	residentTop, swappedTop int
	// cursor is the slot TouchAnon touches next.
	cursor int
}

// push adds a resident page at the end and returns its slot.
func (a *anonSpace) push(pfn int64) int32 {
	if len(a.slots) >= 1<<31-1 {
		panic("kernel: a task with 2^31 anonymous pages") // pageState.idx is 32-bit
	}
	a.slots = append(a.slots, pageSlot{pfn: pfn})
	a.residentTop = len(a.slots)
	return int32(len(a.slots) - 1)
}

// swapOut marks slot idx swapped out with shadow sh.
func (a *anonSpace) swapOut(idx int32, sh shadow) {
	s := &a.slots[idx]
	if s.pfn < 0 {
		panic(fmt.Sprintf("kernel: swap-out of anonymous slot %d, which is not resident", idx))
	}
	s.pfn, s.sh = slotAbsent, sh
	a.swappedTop = max(a.swappedTop, int(idx)+1)
}

// swapIn marks swapped slot idx resident again at pfn.
func (a *anonSpace) swapIn(idx int32, pfn int64) {
	s := &a.slots[idx]
	if s.pfn != slotAbsent {
		panic(fmt.Sprintf("kernel: swap-in of anonymous slot %d, which is not swapped", idx))
	}
	s.pfn, s.sh = pfn, shadow{}
	a.residentTop = max(a.residentTop, int(idx)+1)
}

// live counts the slots not freed.
func (a *anonSpace) live() int64 { return int64(len(a.slots) - a.freed) }

// next returns the next live slot from the cursor, round robin, and
// moves the cursor past it. There must be a live slot.
func (a *anonSpace) next() int32 {
	for {
		if a.cursor >= len(a.slots) {
			a.cursor = 0
		}
		i := a.cursor
		a.cursor++
		if a.slots[i].pfn != slotFreed {
			return int32(i)
		}
	}
}

// TouchResult is what TouchAnon did.
type TouchResult struct {
	// Touched counts the pages touched: resident ones, whose PTEs are
	// now young, and swapped ones brought back.
	Touched int64
	// SwappedIn counts the pages read back from swap (major faults), and
	// Refaults, Activated and Restored what workingset_refault made of
	// them.
	SwappedIn, Refaults, Activated, Restored int64
	// StallNs is the task's time in the faults: reclaim for the new
	// pages and the swap reads.
	StallNs int64
	// OOM is the OOM kill that stopped the sweep, if one did.
	OOM *OOMEvent
}

// TouchAnon has task pid touch the next pages pages of its anonymous
// memory (at most all of it once), in a round-robin sweep over its pages
// in fault order that continues where the last call stopped. A resident
// page gets its PTE's accessed bit set (which reclaim reads through
// folio_referenced); a swapped page is faulted back in as do_swap_page
// does: a major fault (pgfault, pgmajfault, pswpin) that charges and
// allocates a page (direct reclaim, memcg reclaim and the OOM killer may
// follow), runs workingset_refault with the page's shadow entry (an
// activated refault goes to the active list) and costs a swap read. The
// swap slot is freed at once: the model keeps no swap cache (see
// doc.go). The new page is allocated on the node of the task's CPU
// (PlaceTask), else on the node the page was evicted from. The sweep
// stops at the first page it cannot bring back.
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
	var r TouchResult
	for r.Touched < pages && !t.killed {
		idx := t.anon.next()
		if pfn := t.anon.slots[idx].pfn; pfn >= 0 {
			_, n := m.nodeOf(pfn)
			n.page(pfn).flags |= pgYoung
			r.Touched++
			continue
		}
		if !m.swapIn(s, idx, &r) {
			t.anon.cursor = int(idx) // the page is still out: the next sweep starts with it
			break
		}
		r.Touched++
	}
	return r, nil
}

// swapIn is do_swap_page for task slot s's swapped slot idx, into r. It
// reports whether the page is resident again.
func (m *Machine) swapIn(s int, idx int32, r *TouchResult) bool {
	t := &m.tasks[s]
	m.countEvent(Pgfault, t.cg, MemcgStatPgfault, 1)
	sh := t.anon.slots[idx].sh
	node := int(sh.node)
	if t.cpu >= 0 && t.cpu < len(m.cfg.CPUNodes) {
		node = m.cfg.CPUNodes[t.cpu]
	}
	charged, stall, oom := m.chargeUser(s, false)
	r.StallNs += stall
	if !charged {
		r.OOM = oom
		return false
	}
	a, err := m.Alloc(AllocRequest{PID: t.PID, Node: node, GFP: GFPUser, CPU: t.cpu})
	if err != nil {
		panic("kernel: " + err.Error()) // the node came from the machine's own records
	}
	r.StallNs += a.StallNs
	if !a.OK {
		m.uncharge(t.cg, 1)
		r.OOM = a.OOM
		return false
	}
	ni, n := m.nodeOf(a.PFN)
	n.claim(a.PFN, pageAnon, int32(s+1), int32(t.cg), idx)
	p := n.page(a.PFN)
	p.flags = pgYoung
	rr := m.workingsetRefault(ni, t.cg, false, sh, &p.flags)
	m.lruAdd(ni, n.index(a.PFN))
	t.anon.swapIn(idx, a.PFN)
	t.RSSAnonPages++
	t.SwapEntries--
	m.swapUsed--
	m.unchargeSwap(t.cg, 1)
	m.cgroups.modStatIdx(int32(t.cg), MemcgStatAnon, 1)
	m.vmstat[Pswpin]++
	m.countEvent(Pgmajfault, t.cg, MemcgStatPgmajfault, 1)
	r.StallNs += m.cfg.Cost.SwapInNsPerPage
	r.SwappedIn++
	r.Refaults += b2i(rr.refault)
	r.Activated += b2i(rr.activate)
	r.Restored += b2i(rr.restore)
	return true
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// FreeAnon frees n of the task's anonymous memory: resident pages first,
// newest first, then swap entries, newest first (munmap of the memory
// the task got last; a swap entry frees its slot).
func (m *Machine) FreeAnon(pid int64, n int64) error {
	s, ok := m.slot[pid]
	if !ok {
		return fmt.Errorf("%w: %d", ErrNoTask, pid)
	}
	t := &m.tasks[s]
	left := n - m.freeAnonResident(t, n)
	m.freeAnonSwapped(t, min(left, t.SwapEntries))
	m.trimAnon(t)
	return nil
}

// freeAnonResident frees up to n of t's resident evictable anonymous
// pages, newest first, and returns how many it freed.
func (m *Machine) freeAnonResident(t *taskState, n int64) int64 {
	a := &t.anon
	freed := int64(0)
	i := a.residentTop - 1
	for ; i >= 0 && freed < n; i-- {
		pfn := a.slots[i].pfn
		if pfn < 0 {
			continue
		}
		ni, nd := m.nodeOf(pfn)
		m.lruDel(ni, nd.index(pfn))
		m.freeUserPage(nd, pfn, t.cpu)
		a.slots[i] = pageSlot{pfn: slotFreed}
		a.freed++
		freed++
	}
	a.residentTop = i + 1
	if freed > 0 {
		t.RSSAnonPages -= freed
		m.cgroups.modStatIdx(int32(t.cg), MemcgStatAnon, -freed)
		m.uncharge(t.cg, freed)
	}
	return freed
}

// freeAnonSwapped frees n of t's swap entries, newest first.
func (m *Machine) freeAnonSwapped(t *taskState, n int64) {
	a := &t.anon
	freed := int64(0)
	i := a.swappedTop - 1
	for ; i >= 0 && freed < n; i-- {
		if a.slots[i].pfn != slotAbsent {
			continue
		}
		a.slots[i] = pageSlot{pfn: slotFreed}
		a.freed++
		freed++
	}
	a.swappedTop = i + 1
	t.SwapEntries -= freed
	m.swapUsed -= freed
	m.unchargeSwap(t.cg, freed)
}

// trimAnon drops freed slots from the end of t's anonymous memory and
// compacts the rest once freed slots are half of them, renumbering the
// pages' slots; the touch cursor keeps its place among the live slots.
func (m *Machine) trimAnon(t *taskState) {
	a := &t.anon
	for len(a.slots) > 0 && a.slots[len(a.slots)-1].pfn == slotFreed {
		a.slots = a.slots[:len(a.slots)-1]
		a.freed--
	}
	if a.freed <= len(a.slots)/2+64 {
		a.residentTop, a.swappedTop = min(a.residentTop, len(a.slots)), min(a.swappedTop, len(a.slots))
		a.cursor = min(a.cursor, len(a.slots))
		return
	}
	out, cursor := 0, 0
	for i, s := range a.slots {
		if i == a.cursor {
			cursor = out
		}
		if s.pfn == slotFreed {
			continue
		}
		if s.pfn >= 0 {
			_, n := m.nodeOf(s.pfn)
			n.page(s.pfn).idx = int32(out)
		}
		a.slots[out] = s
		out++
	}
	if a.cursor >= len(a.slots) {
		cursor = out
	}
	clear(a.slots[out:])
	a.slots = a.slots[:out]
	a.freed, a.cursor = 0, cursor
	a.residentTop, a.swappedTop = out, out
}
