package kernel

import "fmt"

// This file is the swap device and the swap cache (mm/swapfile.c and
// mm/swap_state.c, Linux 6.18): swap slots with identity, so that a
// slot is free, holds the entry of a swapped-out page, or backs a page
// that is in memory and in the swap cache at once; the allocation of a
// slot when reclaim adds a page to swap (folio_alloc_swap); and the
// freeing of a swap-cache page's slot (folio_free_swap) when
// do_swap_page, reclaim's activation or an unmap lets it go.
//
// A page read back from swap stays in the swap cache with its slot:
// its copy on swap is still good, so reclaim can drop it again without
// a write while it is clean (shrink_folio_list skips add_to_swap and
// pageout for a clean swap-cache folio, and __remove_mapping leaves the
// shadow in the slot). It leaves the swap cache when do_swap_page's
// should_try_to_free_swap says so (swap more than half full for its
// cgroup, mem_cgroup_swap_full; an mlocked page; an exclusive write
// fault), when reclaim activates it while swap is that full
// (activate_locked in shrink_folio_list), or when its task unmaps it.

// swapSlot is one slot of the swap device: the swap_map count and the
// swap_cgroup record the model needs. A slot in use names the task's
// anonymous slot whose entry it holds (owner is the task slot + 1, 0
// for a free slot) and the cgroup its swap is charged to
// (__mem_cgroup_try_charge_swap records it, mem_cgroup_uncharge_swap
// uncharges it when the slot is freed).
type swapSlot struct {
	owner, vma, idx int32
	cg              int16
	// charged: with cgroup v1's memsw accounting, the entry holds a swap
	// charge (its page is out of memory).
	charged bool
}

// swapDevice is the machine's one swap area (struct swap_info_struct):
// slots[0] stands for the swap header, which is never allocated
// (setup_swap_map), so the slots are 1..SwapPages.
type swapDevice struct {
	slots []swapSlot
	// next is where the next allocation's scan starts.
	next int32
	// used counts the slots in use (total_swap_pages - nr_swap_pages)
	// and cached the pages in the swap cache (total_swapcache_pages,
	// meminfo's SwapCached).
	used, cached int64
}

// swapFlags are the swap-cache state of a resident anonymous page, kept
// in its slot (pageSlot.swf) because page flags have no room left.
type swapFlags uint8

const (
	// swfDirty: the page in memory differs from its copy on swap (its
	// PTE or the folio is dirty), so reclaim writes it again.
	swfDirty swapFlags = 1 << iota
	// swfReadahead: swap readahead read the page into the swap cache
	// and no fault has mapped it yet: PG_readahead is set and the
	// task's PTE still holds the swap entry, so the page is in no RSS
	// and not in memory.stat's anon, but its swap entry is in the
	// task's MM_SWAPENTS.
	swfReadahead
	// swfOut: reclaim swapped the page out (pageout) and it is still in
	// memory, in the swap cache, until the scan after its write frees it
	// (writeback.go). Its task's PTE holds the swap entry, as for a page
	// read ahead.
	swfOut
	// swfWriteback: the page's write to swap is in flight
	// (PG_writeback, with PG_reclaim, which pageout sets).
	swfWriteback
	// swfUnmapped are the states in which the task's PTE holds the swap
	// entry of a resident page.
	swfUnmapped = swfReadahead | swfOut
)

// newSwapDevice returns a device of pages slots, all free.
func newSwapDevice(pages int64) swapDevice {
	return swapDevice{slots: make([]swapSlot, pages+1), next: 1}
}

// SwapCachedPages returns the pages in the swap cache, machine-wide:
// meminfo's SwapCached (total_swapcache_pages), in pages. They are
// resident and charged to memory, and each holds a swap slot.
func (m *Machine) SwapCachedPages() int64 { return m.swap.cached }

// vmSwapFull is vm_swap_full: more than half the swap space is in use
// (nr_swap_pages * 2 < total_swap_pages).
func (m *Machine) vmSwapFull() bool {
	return (m.cfg.SwapPages-m.swap.used)*2 < m.cfg.SwapPages
}

// memcgSwapFull is mem_cgroup_swap_full for a page charged to cgroup
// cg on cgroup v2: vm_swap_full, or cg or an ancestor below the root
// using at least half its memory.swap.max or memory.swap.high.
func (m *Machine) memcgSwapFull(cg int) bool {
	return m.vmSwapFull() || m.cgroups.swapFull(int32(cg))
}

// allocSwapSlot is folio_alloc_swap for anonymous slot idx of task
// slot s's mapping vi, charged to cgroup cg: the next free slot at or
// after the device's scan position, wrapping at the end, which gives
// pages reclaimed one after another neighbouring slots, as 6.18's
// allocator does for a rotational device by filling its one global
// cluster (cluster_alloc_swap_entry with si->global_cluster) before
// taking another. The caller checked canSwap; the swap is charged here
// (mem_cgroup_try_charge_swap).
func (m *Machine) allocSwapSlot(s int, vi, idx int32, cg int) int32 {
	d := &m.swap
	n := int32(len(d.slots) - 1)
	for range n {
		off := d.next
		d.next++
		if d.next > n {
			d.next = 1
		}
		if d.slots[off].owner == 0 {
			d.slots[off] = swapSlot{owner: int32(s + 1), vma: vi, idx: idx, cg: int16(cg)}
			d.used++
			if !m.cgroups.memsw {
				m.chargeSwap(cg)
			}
			return off
		}
	}
	panic(fmt.Sprintf("kernel: no free swap slot with %d of %d in use", d.used, n))
}

// freeSwapSlot is swap_entries_free for slot off: the slot is free
// again and its swap charge goes back (mem_cgroup_uncharge_swap).
func (m *Machine) freeSwapSlot(off int32) {
	d := &m.swap
	sl := d.slots[off]
	if sl.owner == 0 {
		panic(fmt.Sprintf("kernel: free of swap slot %d, which is free", off))
	}
	d.slots[off] = swapSlot{}
	d.used--
	if !m.cgroups.memsw || sl.charged {
		m.unchargeSwap(int(sl.cg), 1)
	}
}

// swapOutCharge is cgroup v1's mem_cgroup_swapout for the page whose
// entry swap slot off holds: as the page leaves memory its memsw charge
// stays with the entry, which the model counts as a swap charge. With
// cgroup v2's accounting the slot was charged when it was allocated.
func (m *Machine) swapOutCharge(off int32) {
	sl := &m.swap.slots[off]
	if !m.cgroups.memsw || sl.charged {
		return
	}
	if err := m.cgroups.ChargeSwapOut(m.cgPaths[sl.cg], 1); err != nil {
		panic("kernel: " + err.Error())
	}
	sl.charged = true
}

// swapInUncharge is cgroup v1's memcg1_swapin for swap slot off, whose
// page is back in memory and charged there: the entry's swap charge goes,
// so the page counts once against memsw, and the slot stays with the
// swap cache.
func (m *Machine) swapInUncharge(off int32) {
	sl := &m.swap.slots[off]
	if !sl.charged {
		return
	}
	m.unchargeSwap(int(sl.cg), 1)
	sl.charged = false
}

// slotOf returns the anonymous slot swap slot off holds the entry of.
func (m *Machine) slotOf(off int32) *pageSlot {
	sl := m.swap.slots[off]
	return &m.tasks[sl.owner-1].anon.vmas[sl.vma].slots[sl.idx]
}

// swapCacheMod counts n pages into (or out of) the swap cache for
// cgroup cg: meminfo's SwapCached and memory.stat's swapcached
// (NR_SWAPCACHE, swap_cache_add_folio and __swap_cache_del_folio).
func (m *Machine) swapCacheMod(cg int, n int64) {
	m.swap.cached += n
	m.cgroups.modStatIdx(int32(cg), MemcgStatSwapcached, n)
}

// folioFreeSwap is folio_free_swap for the resident anonymous page in
// slot sl, charged to cgroup cg: a page in the swap cache whose entry
// no page table holds any more (it is mapped) leaves the swap cache,
// dirty, and its slot is freed. A page read ahead and not yet mapped, or
// swapped out and not yet freed, keeps its slot (folio_swapped: the PTE
// still holds the entry), and so does a page under writeback. It reports
// whether the slot was freed.
func (m *Machine) folioFreeSwap(sl *pageSlot, cg int) bool {
	if sl.swp == 0 || sl.swf&(swfUnmapped|swfWriteback) != 0 {
		return false
	}
	m.freeSwapSlot(sl.swp)
	m.swapCacheMod(cg, -1)
	sl.swp, sl.swf = 0, 0
	m.touchPFN(sl.pfn)
	return true
}
