package kernel

import "fmt"

// This file checks the LRU lists and the identity of pages (CheckInvariants).

// checkLists asserts that every LRU list is well linked (each page's
// neighbours point back at it, the list's ends and length agree with its
// walk), holds only pages of its kind, cgroup and activity, and that no
// page is on two lists; and that each lruvec's hierarchical sizes are
// the sums of its subtree's lists.
func (m *Machine) checkLists() error {
	for ni, n := range m.nodes {
		var local [][NumEvictableLRU]int64
		for cg := range n.lru {
			var sizes [NumEvictableLRU]int64
			for lru := range NumEvictableLRU {
				got, err := n.walkList(cg, lru)
				if err != nil {
					return fmt.Errorf("kernel: node %d cgroup %s list %d: %w", ni, m.cgPaths[cg], lru, err)
				}
				sizes[lru] = got
			}
			local = append(local, sizes)
		}
		hier := make([][NumEvictableLRU]int64, len(n.lru))
		for cg := range n.lru {
			for c := cg; c >= 0; c = m.cgParent[c] {
				for lru := range NumEvictableLRU {
					hier[c][lru] += local[cg][lru]
				}
			}
		}
		for cg := range n.lru {
			if hier[cg] != n.lru[cg].hier {
				return fmt.Errorf("kernel: node %d cgroup %s: hierarchical list sizes %v, lists say %v", ni, m.cgPaths[cg], n.lru[cg].hier, hier[cg])
			}
		}
	}
	return nil
}

// walkList walks list lru of cgroup cg's lruvec from head to tail and
// returns its length.
func (n *node) walkList(cg, lru int) (int64, error) {
	l := &n.lru[cg].lists[lru]
	var count int64
	prev := noPage
	for i := l.head; i != noPage; i = n.pages.at(i).next {
		if count > l.n {
			return 0, fmt.Errorf("longer than its %d pages, or a cycle", l.n)
		}
		p := n.pages.at(i)
		if p.prev != prev {
			return 0, fmt.Errorf("page %d links back to %d, not %d", i, p.prev, prev)
		}
		if p.flags&pgLRU == 0 || (p.kind != pageAnon && p.kind != pageFile) || int(p.cg) != cg || lruIndex(p.kind, p.flags) != lru {
			return 0, fmt.Errorf("page %d (kind %d, cgroup %d, flags %#x) does not belong here", i, p.kind, p.cg, p.flags)
		}
		prev = i
		count++
	}
	if prev != l.tail || count != l.n {
		return 0, fmt.Errorf("walk ends at %d after %d pages, list says tail %d, %d pages", prev, count, l.tail, l.n)
	}
	return count, nil
}

// checkOwners asserts, together with checkPage (every evictable page's
// owner slot names the page), that page and slot name each other: each
// task has as many resident slots as evictable RSS and as many swapped
// ones (each with its shadow) as swap entries, each file as many resident
// slots as it has pages (filePages) and counts as cached, an own file's
// recycled slots are not resident, and the mlocked lists name each
// mlocked page once.
func (m *Machine) checkOwners(filePages []int64) error {
	for s := range m.tasks {
		if err := m.checkAnonSpace(s); err != nil {
			return err
		}
	}
	for f := range m.files {
		fs := &m.files[f]
		var cached int64
		for _, sl := range fs.slots {
			if sl.pfn >= 0 {
				cached++
			}
		}
		if cached != fs.cached || cached != filePages[f] {
			return fmt.Errorf("kernel: file %d: %d slots resident, %d pages, counter %d", f, cached, filePages[f], fs.cached)
		}
		for _, idx := range fs.recycle {
			if !fs.own || fs.slots[idx].pfn != slotAbsent {
				return fmt.Errorf("kernel: file %d: recycled slot %d is resident, or the file is not a task's own", f, idx)
			}
		}
	}
	seen := m.seenScratch()
	for s := range m.tasks {
		for _, pfn := range m.tasks[s].mlocked {
			if pfn < 0 || pfn >= int64(len(seen)) || seen[pfn] {
				return fmt.Errorf("kernel: task %d: mlocked pfn %d listed twice or out of range", m.tasks[s].PID, pfn)
			}
			seen[pfn] = true
			_, n := m.nodeOf(pfn)
			if p := n.page(pfn); p.kind != pageMlocked || p.owner != int32(s+1) {
				return fmt.Errorf("kernel: task %d: mlocked pfn %d is kind %d of owner %d", m.tasks[s].PID, pfn, p.kind, p.owner)
			}
		}
	}
	return nil
}

// checkAnonSpace checks task slot s's anonymous slots: each mapping's
// counters, its swapped slots keep a shadow and a swap slot, its whole
// huge pages are whole; and that the task's RSS (mapped pages) and swap
// entries (swapped-out and read-ahead pages) are what its mappings
// hold. With checkPage (every anonymous page is named by the slot it
// names) and RSS equal to the task's anonymous pages (checkTasks), the
// resident slots and the pages are in one-to-one correspondence: no
// frame belongs to two mappings, or twice to one.
func (m *Machine) checkAnonSpace(s int) error {
	t := &m.tasks[s]
	a := &t.anon
	var mapped, swapEntries int64
	for vi := range a.vmas {
		v := &a.vmas[vi]
		if !v.mapped {
			if len(v.slots) != 0 || vi == 0 {
				return fmt.Errorf("kernel: task %d: unmapped mapping %d has %d slots", t.PID, vi, len(v.slots))
			}
			continue
		}
		r, sw, err := m.checkVMA(s, int32(vi))
		if err != nil {
			return fmt.Errorf("kernel: task %d mapping %d: %w", t.PID, vi, err)
		}
		mapped += r
		swapEntries += sw
	}
	switch {
	case mapped != t.RSSAnonPages-int64(len(t.mlocked)):
		return fmt.Errorf("kernel: task %d: %d mapped slots, rss %d with %d mlocked", t.PID, mapped, t.RSSAnonPages, len(t.mlocked))
	case swapEntries != t.SwapEntries:
		return fmt.Errorf("kernel: task %d: %d swapped or read-ahead slots, %d swap entries", t.PID, swapEntries, t.SwapEntries)
	case a.cursorVMA < 0 || a.cursorVMA > len(a.vmas) || a.cursorVMA < len(a.vmas) && a.cursor > len(a.vmas[a.cursorVMA].slots):
		return fmt.Errorf("kernel: task %d: touch cursor %d:%d of %d mappings", t.PID, a.cursorVMA, a.cursor, len(a.vmas))
	}
	for _, id := range a.freeIDs {
		if id <= 0 || int(id) >= len(a.vmas) || a.vmas[id].mapped {
			return fmt.Errorf("kernel: task %d: free mapping id %d is in use", t.PID, id)
		}
	}
	return nil
}

// checkVMA checks mapping vi of task slot s and counts its mapped
// resident slots and its swap entries (swapped-out slots and pages read
// ahead into the swap cache, whose PTEs still hold the entry). Every
// slot with a swap slot must be named back by that swap slot
// (checkSwap checks the other direction), so no swap slot backs two
// pages.
func (m *Machine) checkVMA(s int, vi int32) (mapped, swapEntries int64, err error) {
	v := &m.tasks[s].anon.vmas[vi]
	freed := 0
	for idx, sl := range v.slots {
		if sl.swp != 0 {
			if sl.swp < 0 || int(sl.swp) >= len(m.swap.slots) {
				return 0, 0, fmt.Errorf("slot %d has swap slot %d of %d", idx, sl.swp, len(m.swap.slots)-1)
			}
			if d := m.swap.slots[sl.swp]; d.owner != int32(s+1) || d.vma != vi || d.idx != int32(idx) {
				return 0, 0, fmt.Errorf("slot %d has swap slot %d, which names task slot %d mapping %d slot %d", idx, sl.swp, d.owner-1, d.vma, d.idx)
			}
		}
		if err := m.checkSwapFlags(sl, idx); err != nil {
			return 0, 0, err
		}
		switch {
		case sl.pfn == slotFreed:
			freed++
		case sl.pfn == slotAbsent:
			if !sl.sh.valid || idx >= v.swappedTop || sl.swp == 0 {
				return 0, 0, fmt.Errorf("swapped slot %d has no shadow or no swap slot, or sits above %d", idx, v.swappedTop)
			}
			swapEntries++
		default:
			if idx >= v.residentTop {
				return 0, 0, fmt.Errorf("resident slot %d sits above %d", idx, v.residentTop)
			}
			if sl.swf&swfUnmapped != 0 {
				swapEntries++
			} else {
				mapped++
			}
		}
	}
	if freed != v.freed {
		return 0, 0, fmt.Errorf("%d freed slots, counter %d", freed, v.freed)
	}
	for c, whole := range v.thp {
		if whole {
			if err := m.checkHugeChunk(v, c); err != nil {
				return 0, 0, err
			}
		}
	}
	return mapped, swapEntries, nil
}

// checkSwapFlags checks a slot's swap-cache state: only a resident page
// in the swap cache has any, a page read ahead or swapped out is clean and
// not mapped (so not young), a page is one of the two, only a swapped-out
// or mapped page is under writeback, and a freed slot keeps no swap slot.
func (m *Machine) checkSwapFlags(sl pageSlot, idx int) error {
	switch {
	case sl.pfn == slotFreed && (sl.swp != 0 || sl.swf != 0):
		return fmt.Errorf("freed slot %d keeps swap slot %d (flags %#x)", idx, sl.swp, sl.swf)
	case sl.swf != 0 && (sl.pfn < 0 || sl.swp == 0):
		return fmt.Errorf("slot %d has swap-cache flags %#x but is not a resident page in the swap cache", idx, sl.swf)
	case sl.swf&(swfOut|swfWriteback) != 0 && !m.asyncWriteback():
		return fmt.Errorf("slot %d is swapped out or under writeback (flags %#x) on a machine whose writes complete at once", idx, sl.swf)
	case sl.swf&swfWriteback != 0 && !m.inFlight(sl):
		return fmt.Errorf("slot %d is under writeback but no write of it is in flight", idx)
	case sl.swf&swfUnmapped == swfUnmapped:
		return fmt.Errorf("slot %d is both read ahead and swapped out (flags %#x)", idx, sl.swf)
	case sl.swf&swfReadahead != 0 && sl.swf&swfWriteback != 0:
		return fmt.Errorf("slot %d was read ahead and is under writeback", idx)
	case sl.swf&swfUnmapped != 0 && sl.swf&swfDirty != 0:
		return fmt.Errorf("slot %d is dirty, but no task maps it (flags %#x)", idx, sl.swf)
	case sl.swf&swfUnmapped != 0:
		_, n := m.nodeOf(sl.pfn)
		if n.page(sl.pfn).flags&pgYoung != 0 {
			return fmt.Errorf("slot %d is young, but no PTE maps it (flags %#x)", idx, sl.swf)
		}
	}
	return nil
}

// checkHugeChunk checks that whole huge page c of mapping v is 512
// resident pages at contiguous, aligned frames, each marked pgHuge.
func (m *Machine) checkHugeChunk(v *vma, c int) error {
	head := v.slots[c*HugePagePages].pfn
	if head < 0 || head&(HugePagePages-1) != 0 {
		return fmt.Errorf("huge page %d starts at pfn %d", c, head)
	}
	_, n := m.nodeOf(head)
	for i := range int64(HugePagePages) {
		if v.slots[int64(c*HugePagePages)+i].pfn != head+i || n.page(head+i).flags&pgHuge == 0 {
			return fmt.Errorf("huge page %d is not %d contiguous resident pages marked huge", c, HugePagePages)
		}
	}
	return nil
}
