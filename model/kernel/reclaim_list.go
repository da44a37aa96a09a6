package kernel

import "math/bits"

// This file works the LRU lists for reclaim (mm/vmscan.c, Linux 6.18,
// the classic two-list LRU): isolate_lru_folios, shrink_inactive_list
// with shrink_folio_list's decisions (folio_check_references), and
// shrink_active_list. Page cache is clean: a file page is dropped. An
// anonymous page is written to swap: on a machine with a clock the write
// takes time and the page is freed by a later scan (writeback.go);
// without one the write completes at once and the page is freed in the
// same pass, as on a synchronous device.

// FolioRef is enum folio_references, folio_check_references' verdict on
// an inactive page.
type FolioRef int

// The verdicts.
const (
	// FolioRefReclaim: reclaim the page.
	FolioRefReclaim FolioRef = iota
	// FolioRefReclaimClean: reclaim it if clean (all the model's page
	// cache is clean).
	FolioRefReclaimClean
	// FolioRefKeep: put it back at the head of the inactive list.
	FolioRefKeep
	// FolioRefActivate: move it to the active list.
	FolioRefActivate
)

// String is the kernel's name of r.
func (r FolioRef) String() string {
	return [...]string{"FOLIOREF_RECLAIM", "FOLIOREF_RECLAIM_CLEAN", "FOLIOREF_KEEP", "FOLIOREF_ACTIVATE"}[r]
}

// CheckReferences is folio_check_references on the classic LRU (no
// VM_LOCKED mapping): referencedPTEs young PTEs map the page
// (folio_referenced, which clears them), or -1 when folio_referenced
// skips it (rmap contention, or an anonymous page mapped only by an
// exiting or OOM-killed task); referenced is PG_referenced
// (test-and-cleared), file says a page-cache page, and exec a page in a
// VM_EXEC mapping. A skipped page is kept. A page mapped young is marked
// referenced and kept for another trip around the inactive list, unless
// it was referenced already or mapped young more than once (or is mapped
// executable file), which activates it; an unmapped page is reclaimed,
// file pages only if clean. It returns the verdict and PG_referenced
// afterwards.
func CheckReferences(referencedPTEs int, referenced, file, exec bool) (FolioRef, bool) {
	if referencedPTEs < 0 {
		return FolioRefKeep, referenced
	}
	if referencedPTEs > 0 {
		if referenced || referencedPTEs > 1 || exec && file {
			return FolioRefActivate, true
		}
		return FolioRefKeep, true
	}
	if referenced && file {
		return FolioRefReclaimClean, false
	}
	return FolioRefReclaim, false
}

// InactiveIsLow is inactive_is_low: a list type's inactive list is low
// when inactive * inactive_ratio < active, where inactive_ratio is
// int_sqrt(10 * the type's size in GiB), or 1 below 1 GiB. So 1 GiB of
// a type keeps a quarter inactive, 10 GiB about a tenth.
func InactiveIsLow(inactive, active int64) bool {
	gb := (inactive + active) >> (30 - PageShift)
	ratio := int64(1)
	if gb > 0 {
		ratio = IntSqrt(10 * gb)
	}
	return inactive*ratio < active
}

// IntSqrt is int_sqrt (lib/math/int_sqrt.c): the floor of the square
// root of x >= 0, by the same digit-by-digit method.
func IntSqrt(x int64) int64 {
	if x <= 1 {
		return max(x, 0)
	}
	u := uint64(x)
	m := uint64(1) << ((bits.Len64(u) - 1) &^ 1)
	var y uint64
	for ; m != 0; m >>= 2 {
		b := y + m
		y >>= 1
		if u >= b {
			u -= b
			y += m
		}
	}
	return int64(y)
}

// isolate is isolate_lru_folios: up to nr pages off the tail of cgroup
// cg's list lru on node ni, into the machine's scratch slice. Writes
// that have completed are applied first, so their pages are at the tail.
func (m *Machine) isolate(ni, cg, lru int, nr int64) []int32 {
	if m.asyncWriteback() {
		m.endWriteback()
	}
	n := m.nodes[ni]
	l := &n.lru[cg].lists[lru]
	m.isolated = m.isolated[:0]
	for int64(len(m.isolated)) < nr && l.tail != noPage {
		i := l.tail
		m.lruDel(ni, i)
		m.isolated = append(m.isolated, i)
	}
	return m.isolated
}

// shrinkInactiveList is shrink_inactive_list: isolate a batch from the
// tail, count the scan, decide each page with folio_check_references,
// and activate, keep or reclaim it (shrink_folio_list). An anonymous page
// that is not in the swap cache and finds no swap slot is activated, as
// a failed add_to_swap does; an activated swap-cache page gives its slot
// up when swap is half full (activate_locked). Activated pages age the
// lruvec (move_folios_to_lru); the cost of the batch, swap writes and
// pages not reclaimed, is noted (lru_note_cost).
func (m *Machine) shrinkInactiveList(ni, cg, lru int, nrToScan int64, sc *scanControl) int64 {
	file := isFileLRU(lru)
	taken := m.isolate(ni, cg, lru, nrToScan)
	scanned := int64(len(taken))
	if scanned == 0 {
		return 0
	}
	m.countReclaim(cg, file, scanned, sc, PgscanKswapd, PgscanAnon, MemcgStatPgscan, MemcgStatPgscanKswapd)
	var b reclaimBatch
	for _, i := range taken {
		m.shrinkFolio(ni, i, file, sc, &b)
	}
	// The batch's pages are all the lruvec's cgroup's: uncharge them at
	// once (mem_cgroup_uncharge_list).
	m.cgroups.modStatIdx(int32(cg), MemcgStatAnon, -b.unmapped)
	reclaimed := b.dropped + b.anonDropped + b.writtenFreed
	if reclaimed > 0 {
		m.cgroups.modStatIdx(int32(cg), MemcgStatFile, -b.dropped)
		m.uncharge(cg, reclaimed)
	}
	m.countEvent(Pgactivate, cg, MemcgStatPgactivate, b.activated)
	m.ageNonresident(ni, cg, uint64(b.activated))
	m.countReclaim(cg, file, reclaimed, sc, PgstealKswapd, PgstealAnon, MemcgStatPgsteal, MemcgStatPgstealKswapd)
	m.noteCost(ni, cg, file, b.pageout, scanned-reclaimed)
	cost := &m.cfg.Cost
	sc.res.reclaimed += reclaimed
	sc.res.scanned += scanned
	spent := scanned*cost.ScanNsPerPage + (b.dropped+b.anonDropped)*cost.DropFileNsPerPage + b.pageout*cost.SwapOutNsPerPage
	sc.res.costNs += spent
	m.spend(spent)
	m.stats.PagesReclaimedFile += b.dropped
	m.stats.PagesSwappedOut += b.pageout
	m.countEvent(Pswpout, cg, MemcgStatPswpout, b.pageout)
	return reclaimed
}

// reclaimBatch is what shrink_folio_list did with a batch: page-cache
// pages dropped, clean swap-cache pages dropped without a write,
// anonymous pages written to swap (pageout) and those of them freed in
// the same pass (a synchronous write), mapped anonymous pages among these
// (unmapped from their task), and pages activated.
type reclaimBatch struct {
	dropped, anonDropped, pageout, writtenFreed, unmapped, activated int64
}

// shrinkFolio is shrink_folio_list's decision for isolated page i of
// node ni, whose list is file or anon, into b.
func (m *Machine) shrinkFolio(ni int, i int32, file bool, sc *scanControl, b *reclaimBatch) {
	p := m.nodes[ni].pages.at(i)
	var sl *pageSlot
	young := 0
	if !file {
		t := &m.tasks[p.owner-1]
		sl = &t.anon.vmas[p.vma].slots[p.idx]
		if t.killed {
			// folio_referenced_one: an anonymous page mapped only by an
			// exiting or OOM-killed task is left for the exit (or the
			// OOM reaper) to free, not swapped.
			young = -1
		}
	}
	if sl != nil && sl.swf&swfWriteback != 0 {
		// shrink_folio_list meets a folio under writeback before it
		// checks references. kswapd with PGDAT_WRITEBACK (case 1) and
		// every reclaimer where writeback_throttling_sane holds (case 2:
		// global reclaim, and memcg reclaim on cgroup v2) activate it;
		// folio_rotate_reclaimable brings it back to the inactive tail
		// when the write ends. cgroup v1's memcg reclaim (case 3) meets
		// it with PG_reclaim, which pageout set, and waits for the write
		// (folio_wait_writeback), then tries the same folio again: a
		// legacy memcg has no dirty throttling, and would otherwise OOM
		// with its memory in flight.
		if !sc.cgroupReclaim || !m.cgroups.memsw {
			p.flags |= pgActive
			m.lruAdd(ni, i)
			b.activated++
			return
		}
		m.waitWriteback(sl, sc)
	}
	if young == 0 && p.flags&pgYoung != 0 {
		young = 1
	}
	ref, referenced := CheckReferences(young, p.flags&pgReferenced != 0, file, false)
	if young >= 0 {
		p.flags &^= pgYoung | pgReferenced
	}
	if referenced {
		p.flags |= pgReferenced
	}
	switch {
	case ref == FolioRefKeep:
		m.lruAdd(ni, i)
	case ref == FolioRefActivate || !file && sl.swp == 0 && !m.canSwap(int(p.cg)):
		if !file && m.memcgSwapFull(int(p.cg)) {
			m.folioFreeSwap(sl, int(p.cg))
		}
		p.flags |= pgActive
		m.lruAdd(ni, i)
		b.activated++
	case file:
		m.reclaimFilePage(ni, i, sc)
		b.dropped++
	default:
		m.reclaimAnonPage(ni, i, sc, b)
	}
}

// countReclaim counts n pages scanned or stolen (the kswapd counter
// kswapdEv, its direct twin after it, and the anon counter typeEv, its
// file twin after it; memory.stat's sum and its kswapd line, the direct
// line after it), as shrink_inactive_list does: the kswapd/direct split
// machine-wide for global reclaim only, the type split always, and
// memory.stat's lines for the lruvec's cgroup.
func (m *Machine) countReclaim(cg int, file bool, n int64, sc *scanControl, kswapdEv, typeEv VMEvent, sum, kswapdItem MemcgStatItem) {
	if n == 0 {
		return
	}
	who, t := 0, 0
	if !sc.kswapd {
		who = 1
	}
	if file {
		t = 1
	}
	if !sc.cgroupReclaim {
		m.vmstat[kswapdEv+VMEvent(who)] += n
	}
	m.vmstat[typeEv+VMEvent(t)] += n
	m.cgroups.modStatIdx(int32(cg), sum, n)
	m.cgroups.modStatIdx(int32(cg), kswapdItem+MemcgStatItem(who), n)
}

// shrinkActiveList is shrink_active_list: isolate a batch from the tail
// of an active list and move every page to the head of the inactive
// list, PG_workingset set. folio_referenced clears the pages' young
// bits; only referenced executable file pages would stay active, and the
// model maps no file pages.
func (m *Machine) shrinkActiveList(ni, cg, lru int, nrToScan int64, sc *scanControl) {
	n := m.nodes[ni]
	taken := m.isolate(ni, cg, lru, nrToScan)
	scanned := int64(len(taken))
	if scanned == 0 {
		return
	}
	if !sc.cgroupReclaim {
		m.vmstat[Pgrefill] += scanned
	}
	m.cgroups.modStatIdx(int32(cg), MemcgStatPgrefill, scanned)
	for _, i := range taken {
		p := n.pages.at(i)
		p.flags &^= pgYoung | pgActive
		p.flags |= pgWorkingset
		m.lruAdd(ni, i)
	}
	m.countEvent(Pgdeactivate, cg, MemcgStatPgdeactivate, scanned)
	sc.res.scanned += scanned
	spent := scanned * m.cfg.Cost.ScanNsPerPage
	sc.res.costNs += spent
	m.spend(spent)
}

// reclaimFilePage drops page-cache page i of node ni, isolated, leaving
// a shadow entry in its file slot (__remove_mapping ->
// workingset_eviction). The caller uncharges it.
func (m *Machine) reclaimFilePage(ni int, i int32, sc *scanControl) {
	n := m.nodes[ni]
	p := n.pages.at(i)
	f := &m.files[p.owner-1]
	sh := m.workingsetEviction(ni, sc.root, p)
	f.evict(p.idx, sh)
	m.freeReclaimed(ni, i, sc)
}

// freeReclaimed frees page i of node ni, which reclaim took, onto the
// per-CPU list of the CPU the reclaimer runs on (free_unref_folios,
// which shrink_folio_list calls on its batch of freed folios), or
// straight to the buddy allocator when that CPU is unknown. The list
// returns pages to the buddy allocator once it holds its high mark (4
// batches while kswapd runs), and the allocation that follows a direct
// reclaim drains every list before it gives up.
func (m *Machine) freeReclaimed(ni int, i int32, sc *scanControl) {
	n := m.nodes[ni]
	pfn := n.zone.StartPFN + int64(i)
	cpu := sc.freeCPU - 1
	if cpu < 0 || cpu >= len(m.pcps) {
		n.release(pfn)
		return
	}
	n.forget(pfn)
	if err := m.pcps[cpu][ni].Free(pfn); err != nil {
		panic("kernel: " + err.Error()) // a model bug: the page state said it was ours
	}
}

// reclaimAnonPage reclaims anonymous page i of node ni, isolated, into
// b. A mapped page is unmapped (try_to_unmap): the task loses it from
// its RSS to its swap entries (a page read ahead, or swapped out and not
// yet freed, was in neither). A page not in the swap cache gets a slot
// (add_to_swap, which charges its swap) and is written (pageout); a page
// in the swap cache is written again only if dirty, and a clean one is
// dropped with no write (its copy on swap is good). A write on a machine
// with a clock only starts: the page stays (writeback.go). Otherwise the
// page leaves memory (__remove_mapping): its anonymous slot keeps the
// swap entry with the shadow entry (the kernel keeps the shadow in the
// swap slot), and the caller uncharges the memory.
func (m *Machine) reclaimAnonPage(ni int, i int32, sc *scanControl, b *reclaimBatch) {
	n := m.nodes[ni]
	p := n.pages.at(i)
	s := int(p.owner - 1)
	t := &m.tasks[s]
	m.splitHugePage(p) // the THP is split to swap its pages one by one
	sl := &t.anon.vmas[p.vma].slots[p.idx]
	if sl.swf&swfUnmapped == 0 {
		// try_to_unmap: the PTE now holds the swap entry.
		t.RSSAnonPages--
		t.SwapEntries++
		b.unmapped++
	}
	write := sl.swp == 0 || sl.swf&swfDirty != 0
	if sl.swp == 0 {
		sl.swp = m.allocSwapSlot(s, p.vma, p.idx, int(p.cg))
		m.swapCacheMod(int(p.cg), 1) // add_to_swap
	}
	if write {
		b.pageout++
		if m.asyncWriteback() {
			// pageout started the write: the page stays, unmapped, in
			// the swap cache, back at the head of the inactive list
			// (keep), until a scan after the write frees it.
			p.flags &^= pgYoung
			sl.swf = swfOut | swfWriteback
			m.startWrite(s, p.vma, p.idx)
			m.lruAdd(ni, i)
			return
		}
		b.writtenFreed++
	} else {
		b.anonDropped++
	}
	m.swapCacheMod(int(p.cg), -1)
	m.swapOutCharge(sl.swp)
	sh := m.workingsetEviction(ni, sc.root, p)
	t.anon.vmas[p.vma].swapOut(p.idx, sh)
	m.freeReclaimed(ni, i, sc)
}
