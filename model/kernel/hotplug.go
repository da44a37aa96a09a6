package kernel

import (
	"fmt"
)

// This file models memory hotplug at node granularity: a node's memory
// going offline (offline_pages, scan_movable_pages and do_migrate_range in
// mm/memory_hotplug.c, and has_unmovable_pages in mm/page_isolation.c,
// read in a linux-next tree of the 6.17 cycle; calculate_min_free_kbytes,
// init_per_zone_wmark_min and setup_per_zone_wmarks in mm/page_alloc.c of
// the same era) and coming back (online_pages). The simulator uses it for
// fault injection: a node's memory disappears for a time window.
//
// What the model keeps from the kernel:
//
//   - Unmovable pages block offlining. start_isolate_page_range fails with
//     EBUSY ("failure to isolate range") when has_unmovable_pages finds a
//     page that is neither free nor on an LRU list; here that is any
//     kernel page (Alloc). The check comes before anything changes.
//   - Movable pages are migrated: do_migrate_range isolates LRU pages and
//     migrate_pages allocates their new homes with alloc_migration_target,
//     GFP_KERNEL | __GFP_MOVABLE | __GFP_RETRY_MAYFAIL, preferring the
//     offlined node's zonelist with that node masked out. So migration may
//     direct-reclaim (drop cache, swap) on the other nodes but never
//     invokes the OOM killer. Anonymous and mlocked pages migrate; their
//     cgroup charge moves with them (mem_cgroup_migrate), so no cgroup
//     counter changes.
//   - After success the zone manages no pages and has no present pages,
//     init_per_zone_wmark_min recomputes vm.min_free_kbytes
//     (calculate_min_free_kbytes: int_sqrt(nr_free_buffer_pages in kB *
//     16), kept when a user-set value is larger) and every zone's
//     watermarks (setup_per_zone_wmarks), and setup_per_zone_wmarks
//     updates every zone's per-CPU list limits (zone_pcp_update). The
//     emptied zone's lists were drained by zone_pcp_disable and reset to
//     the boot pageset (zone_pcp_reset); build_all_zonelists drops the
//     unpopulated zone, so allocations preferring the node fall back along
//     its zonelist; kswapd_stop stops the node's kswapd.
//   - online_pages frees the node's pages to the buddy allocator
//     (generic_online_page), sets up the zone's per-CPU lists, recomputes
//     min_free_kbytes and watermarks the same way, and restarts kswapd.
//
// Simplifications, and why they do not change what the simulator studies
// (when allocations fail, what reclaim does, whom the OOM killer picks):
//
//   - A whole node goes offline at once, where Linux offlines memory
//     blocks (128 MiB and up) one at a time; a fault that takes a node
//     away takes all its blocks. The zone keeps its span so that pfns
//     still name the node; Linux shrinks the span.
//   - Page cache is dropped rather than migrated, as reclaim would drop
//     it (the model's page cache is clean), without shadow entries, as
//     truncation drops it: a later read is a plain miss. Migrating it
//     would need room that, under pressure, would come from dropping
//     cache on the other nodes anyway.
//   - Linux retries migration until it succeeds or a signal arrives
//     (current kernels have no timeout). The model gives up instead,
//     with ErrNodeBusy and the count of pages that blocked it: up front,
//     with nothing changed, when the other nodes could not hold the
//     movable pages even if reclaim freed all it can there (free pages
//     above the min watermark plus page cache plus anonymous pages that
//     fit in swap); and during migration when an allocation for a new
//     home fails after the allocator's own reclaim retries. In the
//     second case, as in Linux, the pages already migrated stay where
//     they went, and what reclaim did on the other nodes stays done; the
//     node keeps its remaining pages and stays online.
//   - The checks run before the per-CPU lists are drained: the model has
//     no concurrent frees for zone_pcp_disable to fence off, and a failed
//     check then leaves the lists as they were.
//   - New homes are allocated straight from the buddy allocators (no
//     per-CPU list), migrated pages join their new node's LRU as the
//     youngest, in their old LRU order, and migration charges
//     ReclaimCost.MigrateNsPerPage a page to the offlining caller, not to
//     the tasks whose pages move.
//   - Onlined pages are freed in ascending blocks as at boot; Linux puts
//     them at the tail of the free lists and may shuffle the zone.

// HotplugErr is the kind of a failed memory hotplug operation. The values
// are constants so that errors.Is works without package-level mutable
// state.
type HotplugErr string

// Error implements error.
func (e HotplugErr) Error() string { return string(e) }

// Kinds of hotplug failure.
const (
	// ErrNodeBusy is offline_pages' EBUSY: unmovable pages on the node,
	// or no room elsewhere for its movable pages. It comes inside an
	// *OfflineError.
	ErrNodeBusy HotplugErr = "node memory busy (EBUSY)"
	// ErrNodeOffline: the node's memory is offline already.
	ErrNodeOffline HotplugErr = "node memory is offline"
	// ErrNodeOnline: OnlineNode of a node whose memory is online.
	ErrNodeOnline HotplugErr = "node memory is online"
	// ErrLastNode: offlining the only node with online memory, which
	// would leave the machine without memory and its migrations nowhere
	// to go.
	ErrLastNode HotplugErr = "no other node has online memory"
)

// OfflineResult is what offlining a node did, in pages, and what it cost.
type OfflineResult struct {
	Node int
	// IsolatedFreePages are the node's free pages, per-CPU lists
	// included, isolated from the page allocator before migration
	// started (start_isolate_page_range); the pages migration and
	// dropping free join them.
	IsolatedFreePages int64
	// DrainedPCPPages of them came off per-CPU lists.
	DrainedPCPPages int64
	// MigratedAnonPages and MigratedMlockedPages moved to other nodes.
	MigratedAnonPages    int64
	MigratedMlockedPages int64
	// DroppedFilePages are page-cache pages dropped instead of migrated.
	DroppedFilePages int64
	// StallNs is the simulated time the offlining took: migration,
	// dropping page cache, and direct reclaim on the other nodes to make
	// room. The caller adds it to whoever waits for the offlining.
	StallNs int64
}

// OfflineError is a failed OfflineNode. It wraps ErrNodeBusy.
type OfflineError struct {
	Node int
	// Reason is "unmovable page", "no room to migrate" or "migration
	// failed".
	Reason string
	// BlockingPages are the pages that blocked offlining: the unmovable
	// pages, or the movable pages left without a new home.
	BlockingPages int64
	// Done is what happened before offlining gave up. For "unmovable
	// page" and "no room to migrate" nothing happened: the machine is
	// exactly as it was. For "migration failed" the migrated pages stay
	// migrated, and reclaim on the other nodes (StallNs) stays done.
	Done OfflineResult
}

// Error implements error.
func (e *OfflineError) Error() string {
	return fmt.Sprintf("kernel: offline node %d: %s: %d pages blocked it: %s", e.Node, e.Reason, e.BlockingPages, ErrNodeBusy)
}

// Unwrap returns ErrNodeBusy.
func (e *OfflineError) Unwrap() error { return ErrNodeBusy }

// NodeOnline reports whether node ni's memory is online (node_state
// N_MEMORY).
func (m *Machine) NodeOnline(ni int) bool {
	return ni >= 0 && ni < len(m.nodes) && !m.nodes[ni].offline
}

// OfflineNode takes node ni's memory offline, as offline_pages over all
// of its memory blocks (see the top of hotplug.go for what is modelled).
// On success the node's free pages are out of the allocator, its movable
// pages are on other nodes, its page cache is dropped, its zone manages
// no pages and every zone's watermarks and per-CPU list limits are
// recomputed. A node that cannot go offline returns an *OfflineError
// wrapping ErrNodeBusy; an offline node ErrNodeOffline; the only online
// node ErrLastNode.
func (m *Machine) OfflineNode(ni int) (OfflineResult, error) {
	if err := m.checkNode("offline", ni); err != nil {
		return OfflineResult{}, err
	}
	m.touchAll()
	n := m.nodes[ni]
	if n.offline {
		return OfflineResult{}, fmt.Errorf("kernel: offline node %d: %w", ni, ErrNodeOffline)
	}
	targets := m.migrationTargets(ni)
	if len(targets) == 0 {
		return OfflineResult{}, fmt.Errorf("kernel: offline node %d: %w", ni, ErrLastNode)
	}
	anon, mlocked, kernelPages := n.movableCounts()
	if kernelPages > 0 {
		return OfflineResult{}, &OfflineError{Node: ni, Reason: "unmovable page", BlockingPages: kernelPages}
	}
	if room := m.migrationRoom(targets); anon+mlocked > room {
		return OfflineResult{}, &OfflineError{Node: ni, Reason: "no room to migrate", BlockingPages: anon + mlocked - room}
	}
	res := OfflineResult{Node: ni}
	saved := m.disableNodePCPs(ni, &res)
	left := m.migrateNode(ni, targets, &res)
	if left > 0 {
		// undo_isolate_page_range and zone_pcp_enable: the node's free
		// pages are allocatable again, its lists get their limits back.
		for cpu, cfg := range saved {
			m.setPCPConfig(cpu, ni, cfg)
		}
		return res, &OfflineError{Node: ni, Reason: "migration failed", BlockingPages: left, Done: res}
	}
	m.dropNodeFile(ni, &res)
	m.takeNodeOffline(ni)
	return res, nil
}

// OnlineNode brings node ni's memory back, as online_pages: every page is
// free again, the zone's per-CPU lists are set up, vm.min_free_kbytes and
// every zone's watermarks and list limits are recomputed, and kswapd runs
// again (asleep until an allocation wakes it). An online node returns
// ErrNodeOnline.
func (m *Machine) OnlineNode(ni int) error {
	if err := m.checkNode("online", ni); err != nil {
		return err
	}
	m.touchAll()
	n := m.nodes[ni]
	if !n.offline {
		return fmt.Errorf("kernel: online node %d: %w", ni, ErrNodeOnline)
	}
	if err := n.buddy.AddRange(n.zone.StartPFN, n.zone.SpannedPages); err != nil {
		return fmt.Errorf("kernel: online node %d: %w", ni, err)
	}
	n.offline = false
	n.zone.PresentPages = n.zone.SpannedPages
	n.zone.ManagedPages = n.buddy.Managed()
	// kcompactd_run: compaction starts over on the new memory, its
	// pageblocks movable (AddRange), no skip hints, nothing deferred.
	n.compact = compactZoneState{skip: n.compact.skip}
	clear(n.compact.skip)
	m.resetCachedPositions(ni)
	n.compact.initMigrate = n.zone.StartPFN
	m.initPerZoneWmarkMin()
	return nil
}

// checkNode validates a node index for op.
func (m *Machine) checkNode(op string, ni int) error {
	if ni < 0 || ni >= len(m.nodes) {
		return fmt.Errorf("kernel: %s node %d: the machine has nodes 0..%d", op, ni, len(m.nodes)-1)
	}
	return nil
}

// migrationTargets is where pages of node ni may go: ni's zonelist
// without ni itself (alloc_migration_target's nodemask) and without
// offline nodes.
func (m *Machine) migrationTargets(ni int) []int {
	var zl []int
	for _, t := range m.cfg.Zonelists[ni] {
		if t != ni && !m.nodes[t].offline {
			zl = append(zl, t)
		}
	}
	return zl
}

// movableCounts counts the node's evictable anonymous, mlocked and kernel
// pages, as scan_movable_pages and has_unmovable_pages walk the range.
func (n *node) movableCounts() (anon, mlocked, kernelPages int64) {
	for i := range n.pages.len() {
		switch n.pages.get(int32(i)).kind {
		case pageAnon:
			anon++
		case pageMlocked:
			mlocked++
		case pageKernel:
			kernelPages++
		}
	}
	return anon, mlocked, kernelPages
}

// migrationRoom is the most pages the target nodes could give migration:
// free pages (per-CPU lists included) above each zone's min watermark,
// plus all their page cache, plus their anonymous pages that fit in swap,
// which is what should_reclaim_retry counts as reclaimable.
func (m *Machine) migrationRoom(targets []int) int64 {
	var room, anon int64
	for _, ti := range targets {
		n := m.nodes[ti]
		room += max(0, n.buddy.FreePages()+m.PCPPages(ti)-n.zone.Wmark.Min)
		room += n.filePages()
		anon += n.anonPages()
	}
	return room + min(anon, max(0, m.cfg.SwapPages-m.swap.used))
}

// disableNodePCPs is zone_pcp_disable for node ni: every CPU's list of
// the zone is drained and disabled (high 0, batch 1) so that frees go
// straight to the buddy allocator. It returns the limits it replaced.
func (m *Machine) disableNodePCPs(ni int, res *OfflineResult) []PCPConfig {
	saved := make([]PCPConfig, len(m.pcps))
	for cpu, lists := range m.pcps {
		saved[cpu] = lists[ni].Config()
		res.DrainedPCPPages += lists[ni].Drain()
		m.setPCPConfig(cpu, ni, bootPageset())
	}
	res.IsolatedFreePages = m.nodes[ni].buddy.FreePages()
	return saved
}

// bootPageset is the limits of the kernel's boot_pageset, which
// zone_pcp_disable and zone_pcp_reset give a zone going away: every free
// goes straight back to the buddy allocator.
func bootPageset() PCPConfig { return PCPConfig{Batch: 1} }

// setPCPConfig sets the limits of cpu's list for node ni; the limits come
// from PagesetConfig or bootPageset, so a failure is a model bug.
func (m *Machine) setPCPConfig(cpu, ni int, cfg PCPConfig) {
	if err := m.pcps[cpu][ni].setConfig(cfg); err != nil {
		panic("kernel: " + err.Error())
	}
}

// migrateNode moves node ni's anonymous pages (each cgroup's LRU lists
// in pre-order, inactive then active, oldest first) and then its mlocked
// pages (task by task) to new homes along targets. It stops at the first
// page that finds no home and returns how many movable pages are left
// on the node.
func (m *Machine) migrateNode(ni int, targets []int, res *OfflineResult) int64 {
	n := m.nodes[ni]
	var pfns []int64
	for _, cg := range m.cgPreorder() {
		for _, lru := range []int{InactiveAnon, ActiveAnon} {
			for i := n.lru[cg].lists[lru].tail; i != noPage; i = n.pages.at(i).prev {
				pfns = append(pfns, n.zone.StartPFN+int64(i))
			}
		}
	}
	for _, pfn := range pfns {
		if _, ok := m.migratePage(ni, pfn, targets, res); !ok {
			anon, mlocked, _ := n.movableCounts()
			return anon + mlocked
		}
		res.MigratedAnonPages++
	}
	for s := range m.tasks {
		t := &m.tasks[s]
		for _, pfn := range t.mlocked {
			if !m.onNode(ni, pfn) {
				continue
			}
			if _, ok := m.migratePage(ni, pfn, targets, res); !ok {
				anon, mlocked, _ := n.movableCounts()
				return anon + mlocked
			}
			res.MigratedMlockedPages++
		}
	}
	return 0
}

// onNode reports whether pfn lies on node ni.
func (m *Machine) onNode(ni int, pfn int64) bool {
	z := &m.nodes[ni].zone
	return pfn >= z.StartPFN && pfn < z.StartPFN+z.SpannedPages
}

// migratePage moves the anonymous or mlocked page at pfn on node ni to a
// new page along targets (migrate_pages with alloc_migration_target, no
// OOM killer; movePage does the move). It returns the new pfn, or false
// when no node had room.
func (m *Machine) migratePage(ni int, pfn int64, targets []int, res *OfflineResult) (int64, bool) {
	r := m.allocFrom(targets, AllocRequest{Node: ni, GFP: GFPUser, CPU: -1, NoOOM: true})
	res.StallNs += r.StallNs
	if !r.OK {
		return 0, false
	}
	m.movePage(pfn, r.PFN)
	res.StallNs += m.cfg.Cost.MigrateNsPerPage
	m.stats.PagesMigrated++
	return r.PFN, true
}

// dropNodeFile drops every page-cache page on node ni and uncharges it.
// Like truncation, and unlike reclaim, it leaves no shadow entries.
func (m *Machine) dropNodeFile(ni int, res *OfflineResult) {
	n := m.nodes[ni]
	for cg := range n.lru {
		var dropped int64
		for _, lru := range []int{InactiveFile, ActiveFile} {
			l := &n.lru[cg].lists[lru]
			for l.tail != noPage {
				i := l.tail
				m.lruDel(ni, i)
				p := n.pages.at(i)
				m.files[p.owner-1].evict(p.idx, shadow{})
				n.release(n.zone.StartPFN + int64(i))
				dropped++
			}
		}
		if dropped > 0 {
			m.cgroups.modStatIdx(int32(cg), MemcgStatFile, -dropped)
			m.uncharge(cg, dropped)
		}
		res.DroppedFilePages += dropped
	}
	m.stats.PagesDroppedOffline += res.DroppedFilePages
	res.StallNs += res.DroppedFilePages * (m.cfg.Cost.ScanNsPerPage + m.cfg.Cost.DropFileNsPerPage)
}

// takeNodeOffline finishes offlining node ni once it holds only free
// pages: __offline_isolated_pages takes them out of the buddy allocator,
// the zone's managed and present pages drop to zero, its LRU lists and
// kswapd go, and init_per_zone_wmark_min recomputes every zone's
// watermarks and per-CPU list limits.
func (m *Machine) takeNodeOffline(ni int) {
	n := m.nodes[ni]
	if n.anonPages() != 0 || n.filePages() != 0 {
		panic(fmt.Sprintf("kernel: offline node %d with %d anon and %d file pages left", ni, n.anonPages(), n.filePages()))
	}
	if err := n.buddy.RemoveRange(n.zone.StartPFN, n.zone.SpannedPages); err != nil {
		panic("kernel: offline node: " + err.Error()) // a page the model thought free was not
	}
	// The lruvecs stay (the node's pgdat does in Linux), empty, with
	// their ages, so that shadow entries of the node stay comparable.
	// kswapd and kcompactd stop (kswapd_stop, kcompactd_stop).
	n.offline, n.kswapdWanted, n.kswapdOrder, n.kswapdRun = true, false, 0, kswapdRun{}
	m.setReclaimActive(ni, false)
	n.compact.kcompactdWanted, n.compact.kcompactdMaxOrder = false, 0
	n.zone.PresentPages, n.zone.ManagedPages = 0, n.buddy.Managed()
	m.initPerZoneWmarkMin()
}

// initPerZoneWmarkMin is init_per_zone_wmark_min after memory hotplug:
// calculate_min_free_kbytes (int_sqrt(nr_free_buffer_pages() in kB * 16),
// clamped to [128, 262144], unless a user-set value is at least as
// large), then setup_per_zone_wmarks, which also updates every zone's
// per-CPU list limits (zone_pcp_update); an offline zone's lists keep the
// boot pageset (zone_pcp_reset). nr_free_buffer_pages reads the
// watermarks in force before the recomputation, as in the kernel, so an
// offline and online cycle can leave min_free_kbytes a little below its
// boot value, computed when the watermarks were still zero.
func (m *Machine) initPerZoneWmarkMin() {
	zones := make([]Zone, len(m.nodes))
	for ni, n := range m.nodes {
		zones[ni] = n.zone
	}
	lowmemKbytes := uint64(FreeBufferPages(zones)) << (PageShift - 10)
	if newMin := int64(isqrt(lowmemKbytes * 16)); newMin > m.userMinFreeKbytes {
		m.cfg.MinFreeKbytes = min(max(newMin, 128), 262144)
	}
	if m.cfg.Khugepaged {
		// Memory hotplug tells khugepaged too
		// (khugepaged_min_free_kbytes_update).
		m.cfg.MinFreeKbytes = THPMinFreeKbytes(zones, m.cfg.MinFreeKbytes)
	}
	if err := SetupWatermarks(zones, m.cfg.MinFreeKbytes, m.cfg.WatermarkScaleFactor); err != nil {
		panic("kernel: " + err.Error()) // an online node always has managed pages
	}
	for ni, n := range m.nodes {
		n.zone = zones[ni]
	}
	for cpu := range m.pcps {
		for ni := range m.nodes {
			m.setPCPConfig(cpu, ni, m.pagesetConfig(ni))
		}
	}
}

// pagesetConfig is the per-CPU list limits of node ni's zone now:
// zone_set_pageset_high_and_batch split among the node's CPUs, or the
// boot pageset while the node is offline.
func (m *Machine) pagesetConfig(ni int) PCPConfig {
	if m.nodes[ni].offline {
		return bootPageset()
	}
	nodeCPUs := 0
	for _, n := range m.cfg.CPUNodes {
		if n == ni {
			nodeCPUs++
		}
	}
	return PagesetConfig(&m.nodes[ni].zone, nodeCPUs, len(m.cfg.CPUNodes), 0)
}
