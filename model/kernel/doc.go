// Package kernel models the Linux memory management that SBMP's Tier-2 and
// the rest of the machine run on: zones and their watermarks, the buddy
// page allocator with pageblock migratetypes, per-CPU page lists and NUMA
// zonelist fallback, memory compaction (direct, kcompactd and proactive),
// transparent huge page faults, kswapd and direct reclaim balanced by
// vm.swappiness over active and inactive LRU lists, workingset detection
// of refaults, swap, mlock, GFP flags and their reserves, cgroup v2
// memory.max and memory.high with memory.stat, the OOM killer, and memory
// hotplug (a node's memory going offline, its pages migrating away, and
// coming back: hotplug.go).
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
//   - Pages with identity. A task's anonymous memory is its heap, pages
//     in fault order (AllocAnon faults them in, FreeAnon frees the
//     newest), and its mappings (mapping.go: MapAnon populates a private
//     anonymous region, with transparent huge pages or base pages;
//     UnmapAnon frees exactly its frames, as munmap does); each page
//     resident, swapped out or freed (anon.go). TouchAnon touches pages
//     in a round-robin sweep: a read then a write of one byte, which
//     sets the PTE's accessed bit (and dirties a swap-cache page), maps
//     a read-ahead page by a minor fault, or faults a swapped page back
//     in (do_swap_page, swapin.go); Reap frees everything.
//     Page cache belongs to files (pagecache.go): ReadFile reads one page
//     with read(2), AllocFile reads new pages of a task's own file.
//   - Swap with identity and the swap cache (swap.go, swapin.go): each
//     swap slot is free, holds a swapped-out page's entry, or backs a
//     page in the swap cache; reclaim allocates slots in order
//     (folio_alloc_swap on a rotational device's global cluster). A
//     page read back stays in the swap cache with its slot, charged to
//     memory.current and still to memory.swap.current (cgroup v2), until
//     do_swap_page's should_try_to_free_swap (swap half full for its
//     cgroup: mem_cgroup_swap_full), reclaim's activate_locked at the
//     same test, or an unmap frees the slot; reclaim drops a clean one
//     without a write and writes a dirty one to its own slot. A major
//     fault reads the aligned block of up to 2^vm.page-cluster slots
//     around its own (swap_cluster_readahead, the readahead 6.18 uses
//     with a rotational swap device, as this project's host has),
//     sized by swapin_nr_pages from the hits on earlier readahead; the
//     read-ahead pages go to the inactive (or, refaulting, active) anon
//     list unmapped, in no RSS. SwapCachedPages is meminfo's
//     SwapCached; memory.stat has swapcached, pswpin and pswpout;
//     /proc/vmstat swap_ra and swap_ra_hit.
//   - Kernel pages (alloc.go): Alloc with a gfp mask (GFP_KERNEL,
//     GFP_ATOMIC, GFP_NOWAIT and __GFP_NORETRY, __GFP_RETRY_MAYFAIL,
//     __GFP_HIGH, __GFP_THISNODE, __GFP_ACCOUNT), unmovable, in no RSS,
//     never reclaimed or migrated, charged to a cgroup's memory.current
//     and memory.stat "kernel" with __GFP_ACCOUNT; FreeKernel.
//   - Grouping pages by mobility (migratetype.go, buddy_fallback.go):
//     2 MiB pageblocks carry MIGRATE_UNMOVABLE, MOVABLE, RECLAIMABLE or
//     HIGHATOMIC; free lists per order and type; an allocation falls
//     back as Linux 6.15+ does (__rmqueue_claim with try_to_claim_block,
//     then __rmqueue_steal, in fallbacks[] order); per-CPU lists per
//     type; the highatomic reserve of high-order GFP_ATOMIC
//     allocations.
//   - The page allocator's slow path (alloc_slowpath.go) as
//     __alloc_pages_slowpath: kswapd wake-ups with the request's order
//     (a node balanced but fragmented wakes kcompactd), direct
//     compaction first for costly and unmovable high orders, direct
//     reclaim, direct compaction at rising priorities, the retries of
//     should_reclaim_retry and should_compact_retry, __GFP_NORETRY and
//     __GFP_RETRY_MAYFAIL, the OOM killer for non-costly orders only.
//   - Compaction (compaction*.go, kcompactd.go): compaction_suitable
//     with compact_gap and the fragmentation index against
//     vm.extfrag_threshold, deferral, the migration and free scanners
//     with cached positions and pageblock skip hints, migration of
//     anonymous, page-cache and (with vm.compact_unevictable_allowed)
//     mlocked pages with their LRU flags and owners (migrate.go);
//     kcompactd after kswapd (KcompactdStep) and proactive compaction by
//     vm.compaction_proactiveness every 500 ms (ProactiveCompactStep).
//   - Transparent huge page faults (thp.go): THPEnabled for
//     transparent_hugepage/enabled, THPGFPMask (vma_thp_gfp_mask) for
//     defrag and MADV_HUGEPAGE, the local-node-first allocation of
//     alloc_pages_mpol, the memcg charge, thp_fault_alloc,
//     thp_fault_fallback and thp_fault_fallback_charge, and the fallback
//     to base pages.
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
//     deactivation. Reclaimed pages are freed onto the reclaiming CPU's
//     per-CPU list (free_unref_folios): the allocating task's for direct
//     and memcg reclaim, kswapd's for kswapd (the node's first CPU: the
//     scheduler's pick among the node's CPUs is not modelled), and while
//     a kswapd run is in progress its zone is ZONE_RECLAIM_ACTIVE, so
//     every list of the zone returns pages to the buddy allocator once
//     it holds 4 batches (nr_pcp_high). The free lists see reclaimed
//     pages only when a list flushes or the drain_all_pages after a
//     failed direct-reclaim allocation empties it.
//   - Workingset detection (workingset.go): eviction leaves a shadow
//     entry with the lruvec's nonresident age; a refault within the
//     workingset size is activated, and a page that was active before
//     is a workingset restore.
//   - The counters users read: /proc/vmstat (VMStat, vmstat.go) and
//     cgroup v2 memory.stat (memcg_stat.go), kept from the pages.
//   - Fault and reclaim costs in simulated time (ReclaimCost), the disk
//     read of a page-cache miss or a swap-in and the extra pages of a
//     swap readahead measured on the build machine
//     (DefaultReadNsPerPage, DefaultSwapReadaheadNsPerPage; a scenario
//     can give its own disk's), and the time around the disk: per page
//     a swap-in reads and per fault that maps a page from the swap cache
//     (DefaultSwapInCPUNsPerPage, DefaultSwapCacheFaultNs), per
//     page-cache miss and per hit (DefaultReadCPUNsPerPage,
//     DefaultReadHitNs): time the task runs, which PSI does not count as
//     a stall. Scanning and freeing a page in reclaim
//     (ScanNsPerPage, DropFileNsPerPage) are assumptions.
//
// # What it simplifies, and what each simplification would change
//
//   - Reclaim's costs leave out what the sim-to-real suite traced on
//     its host (cgroup v1 limit reclaim, a 2-CPU VM; see
//     experiments/validate, cache-anon-swappiness60): a fixed part of
//     about 140 us a memcg reclaim call (a regression over 5,957 calls:
//     141 us a call, 6.2 us a page written, 0.9 us an anonymous page
//     scanned and kept), the TLB-flush interrupt reclaim sends before it
//     writes a dirty page still mapped by a task running on another CPU
//     (try_to_unmap_flush_dirty; a page written took 16.8 us with one,
//     3.2 us without), the wake-up of a task on another CPU than the
//     one taking the disk's interrupts after its read, a swap-in or a
//     page-cache miss (a 4 KiB read took about 24 us longer from the
//     other CPU; a swap-in waited about 38 us beyond the disk's; a
//     reader pinned to the other CPU read a quarter less), and CPU time
//     a page swapped in under a memory limit (about 7.6 us against the
//     model's 1.7 us measured outside one). With them a task thrashing
//     against its limit would fault more slowly and swap less: the
//     suite's simulated app swaps about 1.5 times the host's pages.
//   - No multi-generational LRU (MGLRU). A host with lru_gen enabled ages
//     pages in generations and tiers, protects refaulting pages by tier
//     rather than by refault distance, and would thrash differently.
//   - Swap readahead is swap_cluster_readahead only. With no rotational
//     swap device Linux uses swap_vma_readahead (a window of virtual
//     addresses, hits kept per VMA, at most 2^min(page-cluster, 5)
//     pages within one page table); on such a host the model's
//     readahead would read other tasks' neighbours on swap where Linux
//     reads the faulting task's own neighbours in memory. A readahead
//     page that cannot be charged or allocated without the OOM killer is
//     skipped (the kernel's readahead allocations may reclaim and kill
//     like any user fault), every read-ahead page is allocated on the
//     faulting page's node, and the fault's one read costs
//     SwapInNsPerPage plus SwapReadaheadNsPerPage per page read ahead,
//     however the block's slots are spread.
//   - The swap allocator takes the next free slot after the last one
//     handed out. 6.18's cluster allocator prefers partly used clusters
//     to free ones and, once swap is half full, reclaims swap-cache
//     slots it passes (cluster_reclaim_range); the model's slots of one
//     reclaim run are more often neighbours, so its readahead hits a
//     little more, and it frees swap-cache slots only on swap-in,
//     activation and unmap.
//   - Swap accounting is cgroup v2's by default: a swap-cache page counts
//     in memory.current and memory.swap.current. MachineConfig.CgroupV1
//     accounts it as cgroup v1 with memsw does (this project's host):
//     memcg1_swapin uncharges the entry at swap-in, so the page counts
//     once against memsw, a page's entry is charged when the page leaves
//     memory (mem_cgroup_swapout), a charge must fit memory.max plus
//     swap.max on memory plus swapped-out pages and reclaims without
//     swapping when it does not, and mem_cgroup_swap_full looks only at
//     vm_swap_full, so swap-cache pages stay. v1's OOM lock, soft limit,
//     move_charge and kmem counters are not modelled.
//   - AllocMlocked puts a page on no list: mlocked pages are never
//     scanned. Linux puts a page faulted in a VM_LOCKED mapping straight
//     on the unevictable list (mlock_new_folio); a page faulted before
//     mlock(2) sits on an evictable list until mlock_vma_pages_range
//     moves it (mlock_folio, then lru_add_drain), and reclaim that
//     meets an mlocked page there culls it (folio_evictable in
//     shrink_folio_list). On this project's host the validation
//     workers fault and mlock within one tick: over all its runs
//     /proc/vmstat showed unevictable_pgs_culled 494,331 (which
//     __mlock_folio and __mlock_new_folio count too) against
//     unevictable_pgs_mlocked 494,031, so reclaim and lru_add culled at
//     most 300 pages, and the model leaves that window out.
//   - No dirty page cache: page cache is clean, so there is no file
//     writeback, no flusher, no dirty throttling (balance_dirty_pages)
//     and no reclaim_throttle on dirty or congested pages; write-heavy
//     workloads are reclaimed faster here than on a host. Swap writes
//     are modelled (writeback.go) when the machine has a clock: the page
//     stays in memory until a scan after its write frees it; without a
//     clock (the package's own tests) a write completes at once and the
//     page is freed in the same pass, as on a synchronous device. The
//     swap device is one FIFO queue with a latency measured by
//     sequential O_DIRECT writes; a reclaim batch's writes are one
//     request. cgroup v1's memcg reclaim waits for a page still under
//     writeback (shrink_folio_list's case 3, folio_wait_writeback), as
//     Linux does; the model assumes the reclaimer may enter the file
//     system (may_enter_fs: every memcg charge it models is a user page
//     or page cache, GFP_HIGHUSER_MOVABLE). Compaction and
//     memory offlining migrate a page under writeback (Linux's async
//     compaction skips it), and a page under writeback that its task
//     frees is freed at once (Linux holds it until the write ends).
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
//     shrinkers, one ZONE_NORMAL per node.
//   - No watermark boost (boost_watermark, vm.watermark_boost_factor).
//     After a fallback that mixes a pageblock, Linux raises the
//     watermarks by up to 150% of high for a kswapd run that reclaims
//     without swapping and then wakes kcompactd for pageblock order. The
//     model reclaims less right after fragmenting allocations, and
//     kcompactd wakes only for high-order requests and proactively.
//   - No ALLOC_NOFRAGMENT: it spreads allocations to ZONE_DMA32 before
//     mixing pageblocks of ZONE_NORMAL, and the model has no DMA32
//     zones; within one zone it changes nothing. No CMA, no pageblock
//     isolation (memory offlining takes a whole node, hotplug.go).
//   - A huge page is kept as its 512 base pages, split at fault
//     (split_page) and marked whole (pgHuge) until reclaim, migration or
//     a partial free splits it; munmap of a whole one frees an order-9
//     block, and compaction never migrates one. Linux keeps a THP as one
//     folio: one LRU entry with one referenced bit, swapped whole with
//     THP_SWAP. So the model ages huge-page memory 4 KiB at a time and
//     splits it on its first eviction. khugepaged is not modelled: a
//     region that fell back to base pages stays so (Linux may collapse
//     it later); memory.stat has no anon_thp line; per-CPU lists hold
//     order-0 pages only, where Linux also keeps orders 1-3 and the THP
//     order (a freed order-9 block may wait on a list there).
//   - Compaction leaves out the fast free-list searches
//     (fast_find_migrateblock, fast_isolate_freepages) and so scans
//     every page with the free scanner where async compaction strides;
//     pages it frees go straight to the buddy allocator (the kernel
//     frees them to the CPU's list and drains it), no page is captured
//     for the compacting task, locks never contend, and migration never
//     fails (the model has no pinned, dirty or writeback pages).
//     Resetting the skip hints clears them all. A run costs
//     ReclaimCost.ScanNsPerPage for every page scanned and
//     MigrateNsPerPage for every page moved, a rate of the order of the
//     under-a-second compaction of a fragmented 32 GiB machine reported
//     with the proactive compaction patches. KcompactdStep does
//     kcompactd_do_work in one step.
//   - MapAnon populates a whole mapping at once (as MAP_POPULATE, or a
//     first touch of every page) and assumes it PMD-aligned; mappings
//     have no addresses, are never partly unmapped, and are not shared.
//     Kernel pages are freed straight to the buddy allocator, not to a
//     per-CPU list.
//   - Shadow entries keep the exact 64-bit age (Linux packs it and, above
//     2^36 pages of RAM, drops low bits), and are bounded by one per file
//     page and one per swap slot instead of the shadow-node shrinker; a
//     task's own AllocFile file keeps none.
//   - A direct reclaim that freed nothing still tries the free lists
//     and, failing, drains every per-CPU list (directReclaimAlloc);
//     __alloc_pages_direct_reclaim returns at once when
//     did_some_progress is 0, so on a host the pages on other CPUs'
//     lists stay there through the retries and the OOM kill. Measured
//     with that change on the default scenario (seed 1): the kill comes
//     at 36.1 s instead of 54.2 s. It is kept until the dynamics work
//     can judge it against the real-kernel suite, because it moves the
//     headline result.
//   - kswapd runs in batches that each start at DEF_PRIORITY and stops
//     after a batch that reclaims nothing, where balance_pgdat keeps its
//     priority through a run and gives up after MAX_RECLAIM_RETRIES
//     failed runs.
//
// # Checking what changed
//
// CheckInvariants walks every page, block, list and slot: O(pages +
// slots). After TrackTouched, the machine records which chunks of 64
// pages its operations touched: claim and forget (a page's life), the
// LRU list primitives (the page and its neighbours), and the few places
// that change a page's flags or its slot's swap state alone. The buddy
// allocator records nothing: the check compares its page states and
// pageblock types, region by region of 1024 pages (a MaxOrder block;
// nodes and buddy blocks never cross one), with a copy taken at the last
// check, about a byte a page.
//
// CheckTouched then checks, in each touched chunk, what CheckInvariants
// checks from the page's side: every page's kind, flags and owner slot
// (which must name it back), its LRU links (its neighbours link back and
// are on the list its kind, cgroup and flags name, whose head or tail it
// is when it ends it), an anonymous page's slot's swap-cache flags and
// swap slot (which must name the slot back and be charged where the page
// is), its place in a whole huge page; and in each changed region every
// buddy block tiling it, each free block on the list of its pageblock's
// type, linked both ways and not mergeable with its buddy. It keeps what
// each chunk and region counted (pages by kind; free, allocated and
// absent pages; highatomic pages and pageblocks; and per cgroup, file
// and task the charged, page-cache, kernel and mlocked pages) and
// compares the sums with the counters: each node's LRU and buddy
// counters, managed pages, each cgroup's own charge and memory.stat
// file, kernel and unevictable lines, each file's cached pages, each
// task's mlocked list. Every check also verifies what costs O(nodes x
// cgroups + tasks + CPUs): the zones' watermarks and per-CPU limits,
// each LRU list's ends and count against the hierarchical sizes and
// memory.stat, each free list's head, the tasks' swap entries, the swap
// device's header, and the cgroup tree (Cgroups.CheckInvariants).
//
// Only CheckInvariants checks: the pages no operation touched and the
// regions whose buddy states did not change since the last check (among
// them the free-list neighbours of a block that joined or left a list);
// the LRU and free lists walked end to end (their lengths, cycles, and
// every member reachable); every task's slots (RSS equal to its mapped
// slots and its owned pages, swap entries, freed counts, huge chunks,
// the touch cursor, free mapping ids) and every file's slots; the
// mlocked lists free of duplicates; the swap device slot by slot (slots
// in use, the swap cache, each cgroup's swap charge and swapcached
// line); and memory.stat's anon line, which depends on whether a slot is
// mapped. When the counts disagree with the counters, CheckTouched falls
// back to CheckInvariants, so it never reports a violation
// CheckInvariants would not; a fall-back that passes means an operation
// changed a page without recording it (TouchStats counts them, and the
// tests require none).
//
// # The model's own memory
//
// Linux allocates a struct page for every page at boot; the model keeps
// a byte of buddy state per page and, only where a page has been used,
// the rest: a 24-byte pageState (owner, LRU links, flags) in chunks of
// a MAX_ORDER block, created when a page in the chunk is first written,
// and the free-list links of blocks below a pageblock, in chunks of the
// same size created when such a block is first listed there (links of
// pageblocks and MAX_ORDER blocks, which boot frees, are kept per
// block). A page never written reads as free (pagetable.go). No
// operation and no check can tell the difference; the memory follows the
// most memory a run has used and is not given back, and a machine of up
// to 4 TiB is held in a byte a page until it is used.
//
// The package does no I/O: experiments/input/host reads a live host's
// /proc and /sys and compares them with what the formulas here compute.
package kernel
