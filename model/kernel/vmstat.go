package kernel

import "fmt"

// VMEvent indexes the machine-wide counters of /proc/vmstat the model
// keeps. They are in the order /proc/vmstat prints them on this
// project's Linux 6.18 host (read with cat /proc/vmstat): the
// workingset_* node stats first, then the vm_event_item counters of
// include/linux/vm_event_item.h.
type VMEvent int

// The counters, with the kernel code that counts each.
const (
	// WorkingsetRefaultAnon and WorkingsetRefaultFile count faults on
	// pages that left a shadow entry when evicted (workingset_refault).
	WorkingsetRefaultAnon VMEvent = iota
	WorkingsetRefaultFile
	// WorkingsetActivateAnon and WorkingsetActivateFile count refaults
	// within the workingset size, which go straight to the active list.
	WorkingsetActivateAnon
	WorkingsetActivateFile
	// WorkingsetRestoreAnon and WorkingsetRestoreFile count activated
	// refaults of pages that were active before eviction (PG_workingset
	// in the shadow entry).
	WorkingsetRestoreAnon
	WorkingsetRestoreFile
	// Pswpin and Pswpout count pages read from and written to swap
	// (swap_read_folio, __swap_writepage): a swap-in reads the faulting
	// page and its readahead, and reclaim writes a page that has no
	// copy on swap or a dirty one.
	Pswpin
	Pswpout
	// AllocstallNormal and AllocstallMovable count direct reclaim runs
	// (do_try_to_free_pages, global reclaim only) by the allocation's
	// highest zone, gfp_zone(): ZONE_NORMAL for GFP_KERNEL,
	// ZONE_MOVABLE for GFP_HIGHUSER_MOVABLE.
	AllocstallNormal
	AllocstallMovable
	// Pgactivate and Pgdeactivate count pages moved to an active list
	// (shrink_folio_list, lru_activate) and to an inactive one
	// (shrink_active_list).
	Pgactivate
	Pgdeactivate
	// Pgfault and Pgmajfault count page faults (mm_account_fault,
	// failed ones included) and those that read from disk
	// (do_swap_page).
	Pgfault
	Pgmajfault
	// Pgrefill counts pages shrink_active_list scanned (global reclaim).
	Pgrefill
	// PgstealKswapd .. PgscanDirect count pages reclaimed and scanned on
	// the inactive lists by kswapd and by direct reclaim
	// (shrink_inactive_list; memcg reclaim counts only in memory.stat).
	PgstealKswapd
	PgstealDirect
	PgscanKswapd
	PgscanDirect
	// PgscanAnon .. PgstealFile split the scans and steals by type, memcg
	// reclaim included.
	PgscanAnon
	PgscanFile
	PgstealAnon
	PgstealFile
	// VMOOMKill counts OOM kills, global and memcg (__oom_kill_process).
	VMOOMKill
	// PgmigrateSuccess counts pages migrated (migrate_pages), by
	// compaction or memory offlining. A migration never fails in the
	// model once it has a target, so pgmigrate_fail stays out.
	PgmigrateSuccess
	// CompactMigrateScanned and CompactFreeScanned count the pages
	// compaction's migration and free scanners looked at, and
	// CompactIsolated the pages they isolated (compact_zone,
	// isolate_migratepages_block, isolate_freepages_block), direct,
	// kcompactd and proactive compaction alike.
	CompactMigrateScanned
	CompactFreeScanned
	CompactIsolated
	// CompactStall, CompactFail and CompactSuccess count direct
	// compaction runs that did not skip every zone, and whether the
	// allocation then succeeded (__alloc_pages_direct_compact).
	CompactStall
	CompactFail
	CompactSuccess
	// CompactDaemonWake counts kcompactd's wake-ups for a high order
	// (kcompactd_do_work), and CompactDaemonMigrateScanned and
	// CompactDaemonFreeScanned its scanners' pages, proactive
	// compaction included (KCOMPACTD_MIGRATE_SCANNED, _FREE_SCANNED).
	CompactDaemonWake
	CompactDaemonMigrateScanned
	CompactDaemonFreeScanned
	// ThpFaultAlloc, ThpFaultFallback and ThpFaultFallbackCharge count
	// transparent huge page faults that got a huge page, that fell back
	// to base pages, and that fell back because the memcg charge failed
	// (vma_alloc_anon_folio_pmd).
	ThpFaultAlloc
	ThpFaultFallback
	ThpFaultFallbackCharge
	// SwapRa counts pages swap readahead read besides the faulting one
	// (swap_cluster_readahead), and SwapRaHit the faults that found such
	// a page in the swap cache, PG_readahead still set
	// (swap_update_readahead).
	SwapRa
	SwapRaHit
	// Pgrotated counts pages moved to the tail of their inactive list when
	// their writeback ended (lru_move_tail via folio_rotate_reclaimable).
	Pgrotated
	// NrVMEvents is the number of counters.
	NrVMEvents
)

// String is the counter's name in /proc/vmstat.
func (e VMEvent) String() string {
	if e < 0 || e >= NrVMEvents {
		return fmt.Sprintf("VMEvent(%d)", int(e))
	}
	return [NrVMEvents]string{
		"workingset_refault_anon", "workingset_refault_file", "workingset_activate_anon",
		"workingset_activate_file", "workingset_restore_anon", "workingset_restore_file",
		"pswpin", "pswpout", "allocstall_normal", "allocstall_movable",
		"pgactivate", "pgdeactivate", "pgfault", "pgmajfault", "pgrefill",
		"pgsteal_kswapd", "pgsteal_direct", "pgscan_kswapd", "pgscan_direct",
		"pgscan_anon", "pgscan_file", "pgsteal_anon", "pgsteal_file",
		"oom_kill", "pgmigrate_success", "compact_migrate_scanned", "compact_free_scanned", "compact_isolated",
		"compact_stall", "compact_fail", "compact_success", "compact_daemon_wake",
		"compact_daemon_migrate_scanned", "compact_daemon_free_scanned",
		"thp_fault_alloc", "thp_fault_fallback", "thp_fault_fallback_charge",
		"swap_ra", "swap_ra_hit", "pgrotated",
	}[e]
}

// VMStat holds the /proc/vmstat counters, indexed by VMEvent.
type VMStat [NrVMEvents]int64

// VMStat returns the machine's /proc/vmstat counters so far.
func (m *Machine) VMStat() VMStat { return m.vmstat }

// countEvent counts n of a vm event machine-wide and in memory.stat of
// cgroup cg (count_vm_events plus count_memcg_events).
func (m *Machine) countEvent(ev VMEvent, cg int, item MemcgStatItem, n int64) {
	if n == 0 {
		return
	}
	m.vmstat[ev] += n
	m.cgroups.modStatIdx(int32(cg), item, n)
}
