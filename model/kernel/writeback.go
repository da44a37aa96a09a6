package kernel

// This file is the writeback of anonymous pages to swap (mm/vmscan.c's
// pageout and mm/page_io.c's swap_writepage, Linux 6.18) on a machine
// with a clock (MachineConfig.Clock).
//
// Reclaim that swaps a page out only starts the write: pageout() sets
// PG_reclaim and submits the bio, the page is unmapped (its PTE holds the
// swap entry), stays in the swap cache under writeback, and goes back to
// the head of the inactive list (shrink_folio_list's "keep"). It is
// counted in pswpout but not reclaimed, and stays charged. When the
// device completes the write, folio_end_writeback sees PG_reclaim and
// folio_rotate_reclaimable moves the page to the tail of the inactive
// list (lru_move_tail, which also clears PG_active and counts pgrotated),
// unless the task has written to it again meanwhile; the next scan that
// reaches it finds a clean, unmapped swap-cache page and frees it without
// a write. On this project's host every page swapped out was rotated so
// (a validation run: pgrotated 170,229 against pswpout 170,266), so each
// swapped page is scanned at least twice, and memory is freed a scan
// later than it is written.
//
// A scan that meets a page still under writeback activates it (cases 1
// and 2 of shrink_folio_list's writeback check: kswapd with
// PGDAT_WRITEBACK, and every reclaimer where writeback_throttling_sane
// holds, which is cgroup v2 and global reclaim). With
// MachineConfig.CgroupV1, memcg reclaim instead waits for the write
// (case 3, folio_wait_writeback: waitWriteback) and then reclaims the
// page, clean, without a second write.
//
// The device is one FIFO server: the pages one shrink_lruvec run writes
// are one request (shrink_lruvec plugs the block layer, which merges the
// run's bios to neighbouring slots), and a request completes
// SwapWriteNsPerRequest plus SwapWriteNsPerPage per page after the device
// is free. Completions are applied, in completion order, when the machine
// is next asked to reclaim or to touch memory, so a page that completed is
// at the tail by the time any scan looks; EndWriteback applies them on
// request. The simulator does not call it when it samples, so that
// sampling cannot change a run: pgrotated and the list sizes in its time
// series lag the device by up to the time to the next reclaim or touch.
//
// A call into the machine happens at one instant of the caller's clock,
// but what it does takes time: memcg charging retries reclaim up to
// MAX_RECLAIM_RETRIES times, each run scanning for as long as its cost
// says, and a sweep over a task's memory waits for every swap-in and
// page-cache read it faults. So within one instant the writeback clock
// runs on by the reclaim and read time spent so far (writeback.elapsed),
// and writes complete during a call as they would on a host, instead of
// every retry finding the same pages in flight (and the charge ending in
// an OOM kill) or a sweep of thousands of faults finding its own writes
// never done.

// wbEntry is one page under writeback: its anonymous slot and when the
// write completes.
type wbEntry struct {
	done            int64
	owner, vma, idx int32
}

// writeback is the swap device's writes in flight.
type writeback struct {
	// queue holds the writes in completion order from head on.
	queue []wbEntry
	head  int
	// batch is the current shrink_lruvec run's writes, not yet submitted
	// (the plug).
	batch []wbEntry
	// free is when the device finishes the requests it has.
	free int64
	// clock is the caller's clock when the machine last looked, and
	// elapsed the reclaim cost spent since at that instant.
	clock, elapsed int64
}

// spend runs the writeback clock on by ns spent at this instant.
func (m *Machine) spend(ns int64) {
	if m.asyncWriteback() {
		m.now() // a new instant starts from the caller's clock
		m.wb.elapsed += ns
	}
}

// now is the writeback clock: the caller's clock plus the reclaim cost
// spent at this instant.
func (m *Machine) now() int64 {
	w := &m.wb
	if c := m.cfg.Clock(); c != w.clock {
		w.clock, w.elapsed = c, 0
	}
	return w.clock + w.elapsed
}

// asyncWriteback reports whether swap writes take time: the machine has
// a clock and swap (NewMachine sets it once; without swap nothing is
// ever written, and the read and reclaim paths skip the clock).
func (m *Machine) asyncWriteback() bool { return m.async }

// startWrite is pageout for anonymous slot idx of task slot s's mapping
// vi: the write joins the current batch's request.
func (m *Machine) startWrite(s int, vi, idx int32) {
	m.wb.batch = append(m.wb.batch, wbEntry{owner: int32(s + 1), vma: vi, idx: idx})
}

// submitWrites submits the batch's writes as one request (blk_finish_plug).
func (m *Machine) submitWrites() {
	w := &m.wb
	n := int64(len(w.batch))
	if n == 0 {
		return
	}
	c := &m.cfg.Cost
	w.free = max(w.free, m.now()) + c.SwapWriteNsPerRequest + n*c.SwapWriteNsPerPage
	for _, e := range w.batch {
		e.done = w.free
		w.queue = append(w.queue, e)
	}
	w.batch = w.batch[:0]
}

// EndWriteback applies every swap write that has completed by the
// machine's clock (folio_end_writeback): the pages move to the tail of
// their inactive lists. The machine does so itself before it reclaims or
// touches memory; a caller that wants the counters and lists current
// between operations calls it first (applying completions earlier can
// change what later operations do). Without a clock there is nothing in
// flight.
func (m *Machine) EndWriteback() {
	if m.asyncWriteback() {
		m.endWriteback()
	}
}

// endWriteback completes every write that is done by now
// (folio_end_writeback).
func (m *Machine) endWriteback() {
	w := &m.wb
	if w.head == len(w.queue) {
		return
	}
	now := m.now()
	for w.head < len(w.queue) && w.queue[w.head].done <= now {
		m.completeWrite(w.queue[w.head])
		w.head++
	}
	if w.head == len(w.queue) {
		w.queue, w.head = w.queue[:0], 0
	} else if w.head > len(w.queue)/2 {
		k := copy(w.queue, w.queue[w.head:])
		w.queue, w.head = w.queue[:k], 0
	}
}

// completeWrite ends the writeback of e's page: PG_writeback and
// PG_reclaim are cleared and folio_rotate_reclaimable moves the page to
// the tail of its inactive list, unless it is dirty again (its task wrote
// to it after mapping it back). A page freed meanwhile (unmapped, reaped)
// has nothing left to complete: the model frees a page under writeback
// at once, where Linux holds the folio until the write ends.
func (m *Machine) completeWrite(e wbEntry) {
	sl := m.entrySlot(e)
	if sl == nil || sl.pfn < 0 || sl.swf&swfWriteback == 0 {
		return
	}
	sl.swf &^= swfWriteback
	m.touchPFN(sl.pfn)
	if sl.swf&swfDirty != 0 {
		return
	}
	ni, n := m.nodeOf(sl.pfn)
	i := n.index(sl.pfn)
	if n.pages.at(i).flags&pgLRU == 0 {
		return
	}
	m.lruDel(ni, i)
	n.pages.at(i).flags &^= pgActive
	m.lruAddTail(ni, i)
	m.vmstat[Pgrotated]++
}

// waitWriteback is folio_wait_writeback for the page of anonymous slot
// sl, under writeback, by the reclaimer sc (cgroup v1's memcg reclaim,
// shrink_folio_list's case 3): a write still in this run's plug is
// submitted (the reclaimer's sleep flushes the plug), the reclaimer waits
// until the request that holds the page completes, which it pays as
// reclaim time (the charge's memory stall), and every write done by then
// completes. The page is isolated, so its completion does not rotate it.
// Entries ahead of it in the queue complete no later than it does, so
// the search costs no more than the completions the wait applies.
func (m *Machine) waitWriteback(sl *pageSlot, sc *scanControl) {
	w := &m.wb
	for _, e := range w.batch {
		if m.entrySlot(e) == sl {
			m.submitWrites()
			break
		}
	}
	done := int64(-1)
	for _, e := range w.queue[w.head:] {
		if m.entrySlot(e) == sl {
			done = e.done
			break
		}
	}
	if done < 0 {
		panic("kernel: a page under writeback has no write in flight") // a model bug
	}
	if wait := done - m.now(); wait > 0 {
		sc.res.costNs += wait
		m.spend(wait)
	}
	m.endWriteback()
}

// inFlight reports whether a write in flight names the slot sl points
// to (for CheckInvariants: a linear search).
func (m *Machine) inFlight(sl pageSlot) bool {
	for _, e := range m.wb.queue[m.wb.head:] {
		if x := m.entrySlot(e); x != nil && x.pfn == sl.pfn && x.swp == sl.swp {
			return true
		}
	}
	return false
}

// entrySlot is the anonymous slot a write names, or nil when its task's
// mappings no longer have it (reaped or unmapped since).
func (m *Machine) entrySlot(e wbEntry) *pageSlot {
	if int(e.owner-1) >= len(m.tasks) {
		return nil
	}
	a := &m.tasks[e.owner-1].anon
	if int(e.vma) >= len(a.vmas) || int(e.idx) >= len(a.vmas[e.vma].slots) {
		return nil
	}
	return &a.vmas[e.vma].slots[e.idx]
}
