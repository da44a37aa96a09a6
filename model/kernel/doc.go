// Package kernel models the Linux memory management that SBMP's Tier-2 and
// the rest of the machine run on: zones and their watermarks, the buddy
// page allocator with per-CPU page lists and NUMA zonelist fallback,
// kswapd and direct reclaim balanced by vm.swappiness over active and
// inactive LRU lists, workingset detection of refaults, swap, mlock, GFP
// flags and their reserves, cgroup v2 memory.max and memory.high with
// memory.stat, the OOM killer, and memory hotplug (a node's memory going
// offline, its pages migrating away, and coming back: hotplug.go).
//
// The model follows the kernel where the kernel is documented or its source
// is clear, and says so: each function names the Linux function it models
// (for example SetupWatermarks models __setup_per_zone_wmarks) and the
// kernel version it was read from. The reclaim model follows Linux 6.18
// with the classic two-list LRU, which is what this project's host runs
// (no /sys/kernel/mm/lru_gen).
//
// # What the model has
//
//   - Pages with identity. A task's anonymous memory is a sequence of
//     pages in fault order, each resident, swapped out or freed
//     (anon.go): AllocAnon faults pages in, TouchAnon touches them in a
//     round-robin sweep (setting the PTE's accessed bit, or faulting a
//     swapped page back in: do_swap_page), FreeAnon and Reap free them.
//     Page cache belongs to files (pagecache.go): ReadFile reads one page
//     with read(2), AllocFile reads new pages of a task's own file.
//   - Per node and cgroup (the kernel's lruvec) an inactive and an active
//     list of anonymous pages and of page cache (lru.go), and the flags
//     reclaim reads: PG_referenced, PG_active, PG_workingset and the
//     young bit of an anonymous page's PTE. New anonymous pages and new
//     page cache start inactive; folio_mark_accessed activates page
//     cache on its second access.
//   - Reclaim (reclaim_node.go, reclaim_list.go) as
//     do_try_to_free_pages, balance_pgdat, shrink_node with
//     prepare_scan_control (inactive_is_low, refault-driven deactivation,
//     cache trim mode, file_is_tiny), get_scan_count (ScanCount),
//     shrink_lruvec, shrink_active_list, shrink_inactive_list with
//     folio_check_references, lru_note_cost, and the retry with forced
//     deactivation.
//   - Workingset detection (workingset.go): eviction leaves a shadow
//     entry with the lruvec's nonresident age; a refault within the
//     workingset size is activated, and a page that was active before
//     is a workingset restore.
//   - The counters users read: /proc/vmstat (VMStat, vmstat.go) and
//     cgroup v2 memory.stat (memcg_stat.go), kept from the pages.
//   - Fault and reclaim costs in simulated time (ReclaimCost), the disk
//     read of a page-cache miss or a swap-in measured on the build
//     machine (DefaultReadNsPerPage).
//
// # What it simplifies, and what each simplification would change
//
//   - No multi-generational LRU (MGLRU). A host with lru_gen enabled ages
//     pages in generations and tiers, protects refaulting pages by tier
//     rather than by refault distance, and would thrash differently.
//   - No swap cache. A swapped-in page frees its swap slot at once; Linux
//     keeps the page in the swap cache (and the slot) until the page is
//     written or swap is half full (should_try_to_free_swap), so an
//     unmodified page can be reclaimed again without a write. The model
//     writes every re-evicted page again (more pswpout and swap-out cost)
//     and shows less swap in use.
//   - No writeback and no dirty pages. Page cache is clean and an
//     anonymous page is written to swap and freed in one step; Linux
//     starts the write, frees the page on a later pass, and throttles
//     reclaim on writeback (reclaim_throttle) and writers on dirty limits
//     (balance_dirty_pages). Reclaim of write-heavy workloads is
//     therefore faster and cheaper here than on a host.
//   - No mapped page cache. Files are read with read(2), never mmap'd, so
//     no page-cache page is ever young: no VM_EXEC protection of program
//     text, no activation of mapped file pages by their PTEs. Mapped
//     files would stay resident longer under pressure than the model's
//     page cache does.
//   - One mapping per anonymous page (no fork sharing, no KSM), so
//     folio_referenced sees at most one young PTE; shared pages would be
//     activated on their first young scan.
//   - No readahead: a miss reads one page. Sequential readers would pay
//     fewer, larger reads on a host.
//   - No per-CPU LRU batches (folio_batch): pages join and leave lists at
//     once, where Linux batches up to 31 pages per CPU.
//   - shrink_lruvec stops once it has its target, where Linux trims the
//     other type's remaining scan in proportion; reclaim may take a
//     little less of the second type here.
//   - No memory.low or memory.min protection, no slab or inode
//     shrinkers, no compaction (its vmstat counters are declared and stay
//     0), one ZONE_NORMAL per node.
//   - Shadow entries keep the exact 64-bit age (Linux packs it and, above
//     2^36 pages of RAM, drops low bits), and are bounded by one per file
//     page and one per swap slot instead of the shadow-node shrinker; a
//     task's own AllocFile file keeps none.
//   - kswapd runs in batches that each start at DEF_PRIORITY and stops
//     after a batch that reclaims nothing, where balance_pgdat keeps its
//     priority through a run and gives up after MAX_RECLAIM_RETRIES
//     failed runs.
//
// The package does no I/O: experiments/input/host reads a live host's
// /proc and /sys and compares them with what the formulas here compute.
package kernel
