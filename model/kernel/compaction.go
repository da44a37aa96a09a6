package kernel

// This file is memory compaction's core (mm/compaction.c, Linux 6.18):
// compact_zone with its two scanners, the migration scanner walking up
// from the zone's start isolating movable pages (isolate_migratepages),
// the free scanner walking down from the zone's end isolating free pages
// as targets (isolate_freepages), migration of each isolated page to a
// target (migrate_pages with compaction_alloc), and the cached scanner
// positions and pageblock skip hints that let the next compaction resume.
//
// Simplified, and why it does not change what compaction achieves:
//   - The fast searches (fast_find_migrateblock, fast_isolate_freepages)
//     are left out: they pick where the linear scanners start; the
//     linear scans find the same blocks, in order.
//   - Pages freed by migration and the free scanner's leftovers go
//     straight to the buddy allocator, where the kernel frees them to the
//     compacting CPU's per-CPU lists and drains them as the migration
//     scanner moves on (lru_add_drain_cpu_zone), so they merge at once
//     here. No page is captured for the compacting task
//     (compaction_capture): the model runs nothing between compaction and
//     the allocation that follows it.
//   - Resetting the skip hints (__reset_isolation_suitable) clears every
//     hint and restarts the scanners at the zone's ends, where the kernel
//     samples each pageblock for LRU and free pages first.

// compactZoneState is a zone's compaction state (struct zone's compact_*
// fields and the pageblock skip bits) and its node's kcompactd state.
type compactZoneState struct {
	deferral Deferral
	// cachedMigrate (async, sync) and cachedFree are
	// compact_cached_migrate_pfn[] and compact_cached_free_pfn: where
	// the scanners resume; initMigrate is compact_init_migrate_pfn.
	cachedMigrate [2]int64
	cachedFree    int64
	initMigrate   int64
	// blockskipFlush is compact_blockskip_flush: a direct compaction's
	// scanners met, so kswapd clears the skip hints when it sleeps.
	blockskipFlush bool
	// skip is each pageblock's PB_migrate_skip bit.
	skip []bool
	// kcompactdMaxOrder is kcompactd_max_order; kcompactdWanted is set
	// while kcompactd is woken and has not run.
	kcompactdMaxOrder int
	kcompactdWanted   bool
	// proactiveSkip is how many of the next 500 ms proactive checks
	// kcompactd sleeps through after a proactive compaction that did not
	// lower the fragmentation score (its timeout of default_timeout <<
	// COMPACT_MAX_DEFER_SHIFT).
	proactiveSkip int
}

// compactMode is enum migrate_mode as compaction uses it.
type compactMode int

const (
	migrateAsync compactMode = iota
	migrateSyncLight
	migrateSync
)

// compactControl is struct compact_control for one compact_zone run.
type compactControl struct {
	ni    int
	order int // -1: proactive compaction or /proc/sys/vm/compact_memory
	mt    Migratetype
	mode  compactMode
	flags AllocFlags
	// direct is set for direct compaction (an allocating task), clear
	// for kcompactd and proactive compaction.
	direct, wholeZone, ignoreSkip, ignoreBlockSuitable, proactive bool
	migratePFN, freePFN                                           int64
	// migrate holds the isolated source pages; freepages the isolated
	// free blocks by order (list heads first), nrFree their pages.
	migrate   []int64
	freepages [NrOrders][]int64
	nrFree    int64
	// The counters compact_zone reports.
	migrateScanned, freeScanned, migrated int64
}

// zoneEnd returns one past the last pfn of node ni's zone.
func (m *Machine) zoneEnd(ni int) int64 {
	z := &m.nodes[ni].zone
	return z.StartPFN + z.SpannedPages
}

// pageblockStart and pageblockEnd are pageblock_start_pfn and
// pageblock_end_pfn.
func pageblockStart(pfn int64) int64 { return pfn &^ (PageblockPages - 1) }
func pageblockEnd(pfn int64) int64   { return pageblockStart(pfn) + PageblockPages }

// resetCachedPositions is reset_cached_positions: the next compaction
// starts the scanners at the zone's ends.
func (m *Machine) resetCachedPositions(ni int) {
	c := &m.nodes[ni].compact
	start := m.nodes[ni].zone.StartPFN
	c.cachedMigrate = [2]int64{start, start}
	c.cachedFree = pageblockStart(m.zoneEnd(ni) - 1)
}

// resetIsolationSuitable is __reset_isolation_suitable when a direct
// compaction's scanners met since the last reset: the skip hints are
// cleared and the scanners restart at the zone's ends (see the file's
// comment for the simplification).
func (m *Machine) resetIsolationSuitable(ni int) {
	c := &m.nodes[ni].compact
	if !c.blockskipFlush {
		return
	}
	c.blockskipFlush = false
	clear(c.skip)
	m.resetCachedPositions(ni)
	c.initMigrate = m.nodes[ni].zone.StartPFN
}

// compactZone is compact_zone for cc on its node's zone.
func (m *Machine) compactZone(cc *compactControl) CompactResult {
	c := &m.nodes[cc.ni].compact
	if cc.order >= 0 {
		if ret := m.compactionSuitAllocationOrder(cc.ni, cc.order, cc.flags, cc.mode == migrateAsync); ret != CompactResultContinue {
			return ret
		}
	}
	if c.deferral.Restarting(cc.order) {
		m.resetIsolationSuitable(cc.ni)
	}
	m.initScanners(cc)
	ret := m.compactFinished(cc)
	for ret == CompactResultContinue {
		if m.isolateMigratepages(cc) {
			if !m.migratePages(cc) && !m.scannersMet(cc) {
				ret = CompactResultContended // the free scanner ran dry first
				break
			}
		}
		ret = m.compactFinished(cc)
	}
	m.releaseFreepages(cc)
	m.vmstat[CompactMigrateScanned] += cc.migrateScanned
	m.vmstat[CompactFreeScanned] += cc.freeScanned
	return ret
}

// initScanners sets where cc's scanners start: the zone's ends for a
// whole-zone compaction, else the cached positions (whole_zone again
// when the migration scanner would start at the zone's start).
func (m *Machine) initScanners(cc *compactControl) {
	c := &m.nodes[cc.ni].compact
	start, end := m.nodes[cc.ni].zone.StartPFN, m.zoneEnd(cc.ni)
	if cc.wholeZone {
		cc.migratePFN, cc.freePFN = start, pageblockStart(end-1)
		return
	}
	sync := 0
	if cc.mode != migrateAsync {
		sync = 1
	}
	cc.migratePFN, cc.freePFN = c.cachedMigrate[sync], c.cachedFree
	if cc.freePFN < start || cc.freePFN >= end {
		cc.freePFN = pageblockStart(end - 1)
		c.cachedFree = cc.freePFN
	}
	if cc.migratePFN < start || cc.migratePFN >= end {
		cc.migratePFN = start
		c.cachedMigrate = [2]int64{start, start}
	}
	if cc.migratePFN <= c.initMigrate {
		cc.wholeZone = true
	}
}

// scannersMet is compact_scanners_met: the free scanner has reached the
// migration scanner's pageblock or below.
func (m *Machine) scannersMet(cc *compactControl) bool {
	return cc.freePFN>>PageblockOrder <= cc.migratePFN>>PageblockOrder
}

// compactFinished is compact_finished (__compact_finished): done when the
// scanners met; for proactive compaction when the zone's fragmentation
// score is down to the low mark (or kswapd runs); for an allocation once
// the migration scanner is at a pageblock boundary and a free block of
// the order sits on the allocation's list, or on a fallback list it
// would claim.
func (m *Machine) compactFinished(cc *compactControl) CompactResult {
	n := m.nodes[cc.ni]
	if m.scannersMet(cc) {
		m.resetCachedPositions(cc.ni)
		if cc.direct {
			n.compact.blockskipFlush = true
		}
		if cc.wholeZone {
			return CompactResultComplete
		}
		return CompactResultPartialSkipped
	}
	if cc.proactive {
		if n.kswapdWanted {
			return CompactResultPartialSkipped
		}
		low, _ := FragmentationScoreWmarks(m.compaction.Proactiveness, m.compaction.ProactivenessLeeway)
		if ExtfragForOrder(n.buddy.nrFreeArray(), HugePageOrder) > low {
			return CompactResultContinue
		}
		return CompactResultSuccess
	}
	if cc.order < 0 || cc.migratePFN&(PageblockPages-1) != 0 {
		return CompactResultContinue
	}
	for o := cc.order; o <= MaxOrder; o++ {
		if n.buddy.HasFreeMT(o, cc.mt) || n.buddy.findSuitableFallback(o, cc.mt, true) >= 0 {
			return CompactResultSuccess
		}
	}
	return CompactResultContinue // COMPACT_NO_SUITABLE_PAGE
}

// migratePages is migrate_pages for cc's isolated pages: each moves to a
// target from compaction_alloc. It reports false when the free scanner
// found no target for some page; those pages are put back where they are.
func (m *Machine) migratePages(cc *compactControl) bool {
	for _, src := range cc.migrate {
		dst, ok := m.compactionAlloc(cc)
		if !ok {
			cc.migrate = cc.migrate[:0]
			return false
		}
		m.movePage(src, dst)
		cc.migrated++
	}
	cc.migrate = cc.migrate[:0]
	return true
}

// compactionAlloc is compaction_alloc for an order-0 page: the first
// isolated free block of the smallest order gives its first page and the
// rest goes back on the lower orders' lists (heads first); with none
// left, the free scanner runs once more.
func (m *Machine) compactionAlloc(cc *compactControl) (int64, bool) {
	for attempt := 0; attempt < 2; attempt++ {
		for o := 0; o <= MaxOrder; o++ {
			if len(cc.freepages[o]) == 0 {
				continue
			}
			pfn := cc.freepages[o][0]
			cc.freepages[o] = cc.freepages[o][1:]
			_, n := m.nodeOf(pfn)
			for ; o > 0; o-- {
				n.buddy.splitAllocated(pfn, o)
				half := pfn + int64(1)<<(o-1)
				cc.freepages[o-1] = append([]int64{half}, cc.freepages[o-1]...)
			}
			cc.nrFree--
			return pfn, true
		}
		if attempt == 0 {
			m.isolateFreepages(cc)
		}
	}
	return 0, false
}

// releaseFreepages is release_free_list at the end of compact_zone: the
// isolated free blocks not used go back to the buddy allocator, and the
// free scanner's cached position moves back to the highest of them.
func (m *Machine) releaseFreepages(cc *compactControl) {
	c := &m.nodes[cc.ni].compact
	var high int64 = -1
	for o := range cc.freepages {
		for _, pfn := range cc.freepages[o] {
			_, n := m.nodeOf(pfn)
			if err := n.buddy.Free(pfn, o); err != nil {
				panic("kernel: " + err.Error()) // the block was isolated by the free scanner
			}
			high = max(high, pfn)
		}
		cc.freepages[o] = cc.freepages[o][:0]
	}
	cc.nrFree = 0
	if high >= 0 && pageblockStart(high) > c.cachedFree {
		c.cachedFree = pageblockStart(high)
	}
}
