package kernel

import "fmt"

// This file keeps the memory.stat counters.

// MemcgStatItem indexes the memory.stat counters the model keeps.
type MemcgStatItem int

// The memory.stat items the model keeps, in the order cgroup v2's
// memory.stat prints them (memory_stats[] in mm/memcontrol.c, then the
// accumulated pgscan and pgsteal, then memcg_vm_event_stat[], Linux
// 6.18). Swap is not a memory.stat line in cgroup v2; it is
// memory.swap.current. All are kept in pages (or events); the first
// nine print in bytes, the rest as counts, as memcg_page_state_output
// does.
const (
	// MemcgStatAnon is "anon" (NR_ANON_MAPPED): anonymous pages mapped
	// by the cgroup's tasks, mlocked ones included.
	MemcgStatAnon MemcgStatItem = iota
	// MemcgStatFile is "file" (NR_FILE_PAGES): page-cache pages.
	MemcgStatFile
	// MemcgStatKernel is "kernel" (MEMCG_KMEM): kernel pages charged to
	// the cgroup, which is what alloc_pages with __GFP_ACCOUNT is
	// (__memcg_kmem_charge_page -> account_kmem); slab and percpu have
	// lines of their own, not modelled.
	MemcgStatKernel
	// MemcgStatSwapcached is "swapcached" (NR_SWAPCACHE): the cgroup's
	// pages in the swap cache (swap_cache_add_folio), which memory.stat
	// prints after file_writeback and before the LRU lines.
	MemcgStatSwapcached
	// MemcgStatInactiveAnon .. MemcgStatActiveFile are the LRU list
	// sizes, in enum lru_list order.
	MemcgStatInactiveAnon
	MemcgStatActiveAnon
	MemcgStatInactiveFile
	MemcgStatActiveFile
	// MemcgStatUnevictable is "unevictable" (mlocked pages).
	MemcgStatUnevictable
	// MemcgStatWorkingsetRefaultAnon .. MemcgStatWorkingsetRestoreFile
	// are the workingset events of pages charged to the cgroup
	// (workingset_refault).
	MemcgStatWorkingsetRefaultAnon
	MemcgStatWorkingsetRefaultFile
	MemcgStatWorkingsetActivateAnon
	MemcgStatWorkingsetActivateFile
	MemcgStatWorkingsetRestoreAnon
	MemcgStatWorkingsetRestoreFile
	// MemcgStatPgscan and MemcgStatPgsteal are the sums memory.stat
	// prints first: pgscan_kswapd + pgscan_direct, and the same for
	// pgsteal.
	MemcgStatPgscan
	MemcgStatPgsteal
	// MemcgStatPswpin and MemcgStatPswpout are the cgroup's pages read
	// from and written to swap (count_memcg_folio_events in
	// swap_read_folio and __swap_writepage), first of
	// memcg_vm_event_stat[] on a kernel without cgroup v1's pgpgin.
	MemcgStatPswpin
	MemcgStatPswpout
	// The vm events of the cgroup's pages (count_memcg_events). Reclaim
	// done for a cgroup's limit counts as direct.
	MemcgStatPgscanKswapd
	MemcgStatPgscanDirect
	MemcgStatPgstealKswapd
	MemcgStatPgstealDirect
	MemcgStatPgfault
	MemcgStatPgmajfault
	MemcgStatPgrefill
	MemcgStatPgactivate
	MemcgStatPgdeactivate
	// NrMemcgStatItems is the number of items.
	NrMemcgStatItems
)

// String is the item's name in memory.stat.
func (s MemcgStatItem) String() string {
	if s < 0 || s >= NrMemcgStatItems {
		return fmt.Sprintf("MemcgStatItem(%d)", int(s))
	}
	return [NrMemcgStatItems]string{
		"anon", "file", "kernel", "swapcached", "inactive_anon", "active_anon", "inactive_file", "active_file", "unevictable",
		"workingset_refault_anon", "workingset_refault_file", "workingset_activate_anon",
		"workingset_activate_file", "workingset_restore_anon", "workingset_restore_file",
		"pgscan", "pgsteal", "pswpin", "pswpout", "pgscan_kswapd", "pgscan_direct", "pgsteal_kswapd", "pgsteal_direct",
		"pgfault", "pgmajfault", "pgrefill", "pgactivate", "pgdeactivate",
	}[s]
}

// InBytes reports whether memory.stat prints the item in bytes (a page
// count times PAGE_SIZE) rather than as a count.
func (s MemcgStatItem) InBytes() bool { return s >= MemcgStatAnon && s <= MemcgStatUnevictable }

// MemcgStat holds memory.stat counters in pages, indexed by MemcgStatItem.
type MemcgStat [NrMemcgStatItems]int64

// ModStat adds delta pages to a memory.stat item of the cgroup at path
// and its ancestors (memory.stat is hierarchical in cgroup v2). The
// caller feeds these as it maps and unmaps pages; they are independent of
// the charge counters. A cgroup's own count going negative is an
// ErrCounterUnderflow and changes nothing. A Machine keeps its cgroups'
// memory.stat itself, from its pages.
func (c *Cgroups) ModStat(path string, item MemcgStatItem, delta int64) error {
	i, err := c.lookup("stat", path)
	if err != nil {
		return err
	}
	if item < 0 || item >= NrMemcgStatItems {
		return cgErr("stat", path, ErrBadPages, "no stat item %d", int(item))
	}
	if c.cgs[i].statLocal[item]+delta < 0 {
		return cgErr("stat", path, ErrCounterUnderflow, "%s %d%+d", item, c.cgs[i].statLocal[item], delta)
	}
	c.modStatIdx(i, item, delta)
	return nil
}

// modStatIdx is ModStat for a cgroup index the caller got right, on the
// page paths (mod_memcg_state, count_memcg_events). A count going
// negative is a bug in the caller's books.
func (c *Cgroups) modStatIdx(i int32, item MemcgStatItem, delta int64) {
	c.cgs[i].statLocal[item] += delta
	if c.cgs[i].statLocal[item] < 0 {
		panic(fmt.Sprintf("kernel: memory.stat %s of %s went to %d", item, c.cgs[i].path, c.cgs[i].statLocal[item]))
	}
	for ; i >= 0; i = c.cgs[i].parent {
		c.cgs[i].stat[item] += delta
	}
}
