package kernel

import "fmt"

// This file is the swap-in fault (do_swap_page in mm/memory.c, Linux
// 6.18) with the swap cache and swap readahead (swapin_readahead in
// mm/swap_state.c).
//
// Which readahead: swapin_readahead uses swap_vma_readahead (a window
// of virtual addresses around the fault) only when
// swap_use_vma_readahead() holds, that is
// /sys/kernel/mm/swap/vma_ra_enabled (default true) and no rotational
// swap device is on (nr_rotate_swap, which swapon counts for a device
// without bdev_nonrot). This project's host swaps to a file on a
// virtio disk that reports itself rotational (queue/rotational 1), so
// its swap-ins take swap_cluster_readahead: the aligned block of up to
// 2^page-cluster swap slots around the faulting one, sized by
// swapin_nr_pages from the hits on earlier readahead. That is what the
// model does.

// defaultPageCluster is page_cluster as swap_setup sets it on a machine
// of more than 16 MiB, and maxPageCluster the sysctl's upper bound
// (page_cluster_max).
const (
	defaultPageCluster = 3
	maxPageCluster     = 31
)

// swapRAState is swapin_nr_pages' global state: the offset of the last
// fault that had no readahead hits before it (prev_offset), the window
// it last chose (last_readahead_pages) and the hits on read-ahead pages
// since (swapin_readahead_hits, which starts at 4).
type swapRAState struct {
	prevOffset int64
	lastPages  int
	hits       int
}

func newSwapRAState() swapRAState { return swapRAState{hits: 4} }

// SwapinNrPages is __swapin_nr_pages: the number of swap slots a fault
// at offset reads, given the readahead hits since the last window, the
// most it may read (2^page-cluster) and the previous window. With no
// hits a fault next to the previous one reads 2 pages and any other
// fault 1; with hits the window is hits + 2 rounded up to a power of
// two of at least 4; it is capped at maxPages and shrinks at most by
// half at a time.
func SwapinNrPages(prevOffset, offset int64, hits, maxPages, prevWin int) int {
	pages := hits + 2
	if pages == 2 {
		if offset != prevOffset+1 && offset != prevOffset-1 {
			pages = 1
		}
	} else {
		roundup := 4
		for roundup < pages {
			roundup <<= 1
		}
		pages = roundup
	}
	pages = min(pages, maxPages)
	return max(pages, prevWin/2)
}

// swapinNrPages is swapin_nr_pages for a fault at offset: it takes the
// hits gathered so far and updates the state.
func (m *Machine) swapinNrPages(offset int64) int {
	maxPages := 1 << m.pageCluster
	if maxPages <= 1 {
		return 1
	}
	st := &m.swapRA
	hits := st.hits
	st.hits = 0
	pages := SwapinNrPages(st.prevOffset, offset, hits, maxPages, st.lastPages)
	if hits == 0 {
		st.prevOffset = offset
	}
	st.lastPages = pages
	return pages
}

// SwapClusterWindow is the block swap_cluster_readahead reads around
// offset for a window of pages (a power of two): aligned to the window,
// without slot 0 (the swap header) and within the device's slots
// 1..swapPages.
func SwapClusterWindow(offset int64, pages int, swapPages int64) (start, end int64) {
	mask := int64(pages - 1)
	start, end = offset&^mask, offset|mask
	if start == 0 {
		start = 1
	}
	return start, min(end, swapPages)
}

// swapIn is do_swap_page for task slot s's swapped slot idx of mapping
// vi when the page is not in the swap cache: a major fault that reads
// the page and its readahead (swap_cluster_readahead) into the swap
// cache and maps it. It reports whether the page is resident again.
//
// The readahead reads every slot of the window that holds a swapped-out
// page, whichever task's, in slot order: each page is charged to the
// cgroup its slot is charged to (mem_cgroup_swapin_charge_folio),
// allocated on the faulting page's node (the same mempolicy for the
// whole readahead), put through workingset_refault with its shadow and
// added to the LRU, clean and unmapped, with PG_readahead (swap_ra). A
// readahead page that cannot be charged or allocated without the OOM
// killer is skipped. The faulting page is read last, so that no
// allocation of the readahead can reclaim it before it is mapped (the
// kernel reads it in slot order and its fault's reference keeps reclaim
// off it). The fault waits for one read: SwapInNsPerPage for its page
// and SwapReadaheadNsPerPage for each readahead page in it; and it runs
// SwapInCPUNsPerPage for each page it read and SwapCacheFaultNs to map
// its own.
func (m *Machine) swapIn(s int, vi, idx int32, r *TouchResult) bool {
	t := &m.tasks[s]
	m.countEvent(Pgfault, t.cg, MemcgStatPgfault, 1)
	sl := &t.anon.vmas[vi].slots[idx]
	target := int64(sl.swp)
	node := int(sl.sh.node)
	if t.cpu >= 0 && t.cpu < len(m.cfg.CPUNodes) {
		node = m.cfg.CPUNodes[t.cpu]
	}
	start, end := SwapClusterWindow(target, m.swapinNrPages(target), m.cfg.SwapPages)
	var read int64
	for off := start; off <= end; off++ {
		if off == target || m.swap.slots[off].owner == 0 || m.slotOf(int32(off)).pfn != slotAbsent {
			continue
		}
		ok, stall, _, rr := m.readSwapPage(s, int32(off), node, false)
		r.StallNs += stall
		if ok {
			read++
			r.addRefault(rr)
		}
	}
	r.ReadAhead += read
	ok, stall, oom, rr := m.readSwapPage(s, int32(target), node, true)
	r.StallNs += stall
	if !ok {
		// The readahead's pages stay in the swap cache; the task did
		// not wait for them.
		r.OOM = oom
		return false
	}
	readNs := m.cfg.Cost.SwapInNsPerPage + read*m.cfg.Cost.SwapReadaheadNsPerPage
	r.StallNs += readNs
	m.spend(readNs)
	r.addCPU(m, (read+1)*m.cfg.Cost.SwapInCPUNsPerPage+m.cfg.Cost.SwapCacheFaultNs)
	if !rr.restore {
		// Only the read of a workingset page is a memory stall
		// (folio_wait_bit_common's psi_memstall_enter); the rest is I/O.
		r.IOWaitNs += readNs
	}
	r.addRefault(rr)
	m.countEvent(Pgmajfault, t.cg, MemcgStatPgmajfault, 1)
	r.SwappedIn++
	m.mapSwapCachePage(s, vi, idx)
	return true
}

// addRefault counts what workingset_refault made of a page read in.
func (r *TouchResult) addRefault(rr refaultResult) {
	r.Refaults += b2i(rr.refault)
	r.Activated += b2i(rr.activate)
	r.Restored += b2i(rr.restore)
}

// readSwapPage is __read_swap_cache_async and swap_read_folio for swap
// slot off, which holds a swapped-out page, for the fault of task slot
// s: the page is charged to the slot's cgroup (the faulting page with
// the fault's full charge, OOM killer included; a readahead page
// without the OOM killer), allocated on node, put in the swap cache
// (its slot kept, swap still charged: cgroup v2 uncharges swap only
// when the slot is freed), run through workingset_refault and added to
// the LRU, and counted in pswpin (and swap_ra for a readahead page).
func (m *Machine) readSwapPage(s int, off int32, node int, target bool) (ok bool, stallNs int64, oom *OOMEvent, rr refaultResult) {
	t := &m.tasks[s]
	owner := m.swap.slots[off]
	cg := int(owner.cg)
	var charged bool
	if target {
		charged, stallNs, oom = m.chargeUser(s, false)
	} else {
		charged, stallNs, oom = m.chargeCg(cg, s, 1, ChargeOptions{RetryMayFail: true})
	}
	if !charged {
		return false, stallNs, oom, rr
	}
	a, err := m.Alloc(AllocRequest{PID: t.PID, Node: node, GFP: GFPUser, CPU: t.cpu, NoOOM: !target})
	if err != nil {
		panic("kernel: " + err.Error()) // the node came from the machine's own records
	}
	stallNs += a.StallNs
	if !a.OK {
		m.uncharge(cg, 1)
		return false, stallNs, a.OOM, rr
	}
	sl := m.slotOf(off)
	if sl.pfn != slotAbsent || target && cg != t.cg {
		// Reclaim never touches a swapped-out slot, and a task's pages
		// are charged to its own cgroup.
		panic(fmt.Sprintf("kernel: swap slot %d changed during its read, or is charged to cgroup %d, not the faulting task's %d", off, cg, t.cg))
	}
	ni, n := m.nodeOf(a.PFN)
	n.claim(a.PFN, pageAnon, owner.owner, cg, owner.vma, owner.idx)
	p := n.page(a.PFN)
	rr = m.workingsetRefault(ni, cg, false, sl.sh, &p.flags)
	m.lruAdd(ni, n.index(a.PFN))
	m.tasks[owner.owner-1].anon.vmas[owner.vma].swapIn(owner.idx, a.PFN)
	if !target {
		sl.swf = swfReadahead
		m.vmstat[SwapRa]++
	}
	m.swapCacheMod(cg, 1)
	m.swapInUncharge(off)
	m.countEvent(Pswpin, cg, MemcgStatPswpin, 1)
	return true, stallNs, nil, rr
}

// swapCacheFault is do_swap_page for task slot s's slot idx of mapping
// vi when its page is still in the swap cache: read ahead by an earlier
// fault, or swapped out by reclaim and not yet freed (under writeback or
// waiting for the scan that frees it). A minor fault, no read; for a
// page read ahead, swap_update_readahead clears PG_readahead and counts
// the hit (swap_ra_hit, and a hit for the next window); the page is
// mapped.
func (m *Machine) swapCacheFault(s int, vi, idx int32, r *TouchResult) {
	t := &m.tasks[s]
	m.countEvent(Pgfault, t.cg, MemcgStatPgfault, 1)
	sl := &t.anon.vmas[vi].slots[idx]
	if sl.swf&swfReadahead != 0 {
		m.vmstat[SwapRaHit]++
		m.swapRA.hits++
		r.ReadaheadHits++
	}
	sl.swf &^= swfUnmapped
	r.addCPU(m, m.cfg.Cost.SwapCacheFaultNs)
	m.mapSwapCachePage(s, vi, idx)
}

// addCPU adds ns of the faulting task's CPU time to the touch: time
// the sweep takes, and time the writeback clock runs on.
func (r *TouchResult) addCPU(m *Machine, ns int64) {
	r.StallNs += ns
	r.CPUNs += ns
	m.spend(ns)
}

// mapSwapCachePage is the end of do_swap_page for a page in the swap
// cache: the PTE maps it (young) and no longer holds the swap entry
// (swap_free_nr: MM_SWAPENTS to MM_ANONPAGES, NR_ANON_MAPPED), and
// should_try_to_free_swap decides whether the page leaves the swap
// cache. TouchAnon's access is a read fault followed by a write (the
// model's tasks, like the validation workers, add one to a byte of
// each page: a load, then a store), so on a read fault only a full swap
// (mem_cgroup_swap_full) frees the slot; the page is mapped writable
// but clean, as an exclusive anonymous page is, and the store then
// dirties it without a fault, so reclaim will write it again.
func (m *Machine) mapSwapCachePage(s int, vi, idx int32) {
	t := &m.tasks[s]
	sl := &t.anon.vmas[vi].slots[idx]
	_, n := m.nodeOf(sl.pfn)
	p := n.page(sl.pfn)
	p.flags |= pgYoung
	n.touchPFN(sl.pfn)
	t.RSSAnonPages++
	t.SwapEntries--
	m.cgroups.modStatIdx(int32(p.cg), MemcgStatAnon, 1)
	if m.memcgSwapFull(int(p.cg)) {
		m.folioFreeSwap(sl, int(p.cg))
	}
	if sl.swp != 0 {
		sl.swf |= swfDirty
	}
}
