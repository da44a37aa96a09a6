package kernel

// This file is compaction's two scanners (mm/compaction.c, Linux 6.18):
// isolate_migratepages with isolate_migratepages_block, and
// isolate_freepages with isolate_freepages_block, with the pageblock
// suitability rules of suitable_migration_source and
// suitable_migration_target.

// compactionSuitAllocationOrder is compaction_suit_allocation_order:
// success if the allocation would already pass its watermark for the
// order; skipped if compaction_suitable says no (an async costly
// compaction without ALLOC_CMA also checks the low watermark plus the
// gap first, which without CMA pages is the same check); else continue.
func (m *Machine) compactionSuitAllocationOrder(ni, order int, flags AllocFlags, async bool) CompactResult {
	n := m.nodes[ni]
	if m.zoneWatermarkOK(ni, order, n.zone.WmarkPages(flags.Wmark()), flags, n.buddy.FreePages()) {
		return CompactResultSuccess
	}
	if ok, _ := m.compactionSuitable(ni, order); !ok {
		return CompactResultSkipped
	}
	return CompactResultContinue
}

// compactionSuitable is compaction_suitable for node ni's zone.
func (m *Machine) compactionSuitable(ni, order int) (bool, CompactResult) {
	n := m.nodes[ni]
	return CompactionSuitable(&n.zone, n.buddy.nrFreeArray(), n.buddy.FreePages(), n.buddy.FreeHighAtomicPages(),
		order, m.compaction.ExtfragThreshold)
}

// isolateMigratepages is isolate_migratepages: from the migration
// scanner's position, the first pageblock not marked skip whose type
// suits the compaction (suitable_migration_source) has its pages
// isolated; the scanner stops at the free scanner's pageblock. It
// reports whether pages were isolated.
func (m *Machine) isolateMigratepages(cc *compactControl) bool {
	zstart := m.nodes[cc.ni].zone.StartPFN
	c := &m.nodes[cc.ni].compact
	low := cc.migratePFN
	blockEnd := pageblockEnd(low)
	for ; blockEnd <= cc.freePFN; low, blockEnd = blockEnd, blockEnd+PageblockPages {
		cc.migratePFN = low
		k := m.nodes[cc.ni].buddy.blockOf(low)
		if (low&(PageblockPages-1) == 0 || low == zstart) && !cc.ignoreSkip && c.skip[k] {
			continue
		}
		if !m.suitableMigrationSource(cc, low) {
			m.updateCachedMigrate(cc, blockEnd)
			continue
		}
		m.isolateMigratepagesBlock(cc, low, blockEnd)
		return len(cc.migrate) > 0
	}
	cc.migratePFN = low
	return false
}

// suitableMigrationSource is suitable_migration_source: a pageblock a
// whole huge page fills is never one (pageblock_skip_persistent); async
// direct compaction takes only blocks of the allocation's type (movable
// ones for a movable request), everyone else any block.
func (m *Machine) suitableMigrationSource(cc *compactControl, pfn int64) bool {
	n := m.nodes[cc.ni]
	if p := n.page(pageblockStart(pfn)); p.flags&pgHuge != 0 {
		return false
	}
	if cc.mode != migrateAsync || !cc.direct {
		return true
	}
	return n.buddy.PageblockMT(pfn) == cc.mt
}

// updateCachedMigrate is update_cached_migrate: where the next
// compaction's migration scanner resumes.
func (m *Machine) updateCachedMigrate(cc *compactControl, pfn int64) {
	c := &m.nodes[cc.ni].compact
	pfn = pageblockEnd(pfn - 1)
	c.cachedMigrate[0] = max(c.cachedMigrate[0], pfn)
	if cc.mode != migrateAsync {
		c.cachedMigrate[1] = max(c.cachedMigrate[1], pfn)
	}
}

// migratable reports whether isolate_migratepages_block would isolate
// page p: a page on an LRU list (anonymous or page cache), or an
// mlocked page on the unevictable list when
// vm.compact_unevictable_allowed is set; never a page of a whole huge
// page (skip_isolation_on_order: a THP is not split to compact it),
// never a kernel page, a free page or a page on a per-CPU list.
func (m *Machine) migratable(p *pageState) bool {
	switch {
	case p.flags&pgHuge != 0:
		return false
	case p.kind == pageAnon || p.kind == pageFile:
		return p.flags&pgLRU != 0
	case p.kind == pageMlocked:
		return m.compaction.UnevictableAllowed
	}
	return false
}

// isolateMigratepagesBlock is isolate_migratepages_block over [low, end)
// of one pageblock: free blocks are stepped over, movable pages isolated
// until COMPACT_CLUSTER_MAX are held. Async direct compaction gives up
// on an order-aligned block as soon as one page in it cannot move
// (skip_on_failure), since the order's block could not be freed anyway.
// The pageblock's skip hint is set once its scan starts (test_and_set_skip)
// or when it ends with nothing isolated.
func (m *Machine) isolateMigratepagesBlock(cc *compactControl, low, end int64) {
	n := m.nodes[cc.ni]
	c := &n.compact
	k := n.buddy.blockOf(low)
	skipOnFailure := cc.direct && cc.mode == migrateAsync
	var nextSkip int64
	if skipOnFailure {
		nextSkip = blockAlignEnd(low, cc.order)
	}
	isolated := 0
	for ; low < end; low++ {
		if skipOnFailure && low >= nextSkip {
			if isolated > 0 {
				break
			}
			nextSkip = blockAlignEnd(low, cc.order)
		}
		cc.migrateScanned++
		if s := n.buddy.state[low-n.zone.StartPFN]; isFreeState(s) {
			step := int64(1)<<freeStateOrder(s) - 1
			low += step
			cc.migrateScanned += step
			continue
		}
		if p := n.page(low); m.migratable(p) {
			cc.migrate = append(cc.migrate, low)
			isolated++
			if !cc.ignoreSkip {
				c.skip[k] = true // test_and_set_skip
			}
			if len(cc.migrate) >= compactClusterMax {
				low++
				break
			}
			continue
		}
		if !skipOnFailure {
			continue
		}
		if isolated > 0 { // the order's block cannot be freed: put the pages back
			cc.migrate = cc.migrate[:len(cc.migrate)-isolated]
			isolated = 0
		}
		if low < nextSkip {
			low = nextSkip - 1
			nextSkip += int64(1) << cc.order
		}
	}
	low = min(low, end)
	if low == end && isolated == 0 {
		c.skip[k] = true
		m.updateCachedMigrate(cc, low)
	}
	m.vmstat[CompactIsolated] += int64(isolated)
	cc.migratePFN = low
}

// blockAlignEnd is block_end_pfn: the end of the order-aligned block
// holding pfn.
func blockAlignEnd(pfn int64, order int) int64 {
	return (pfn + 1 + int64(1)<<order - 1) &^ (int64(1)<<order - 1)
}

// isolateFreepages is isolate_freepages: from the free scanner's
// position down to the migration scanner's pageblock, pageblocks fit to
// receive pages (suitable_migration_target) and not marked skip give
// their free pages, until there are targets for every isolated page. A
// pageblock scanned to its end is marked skip. The model checks every
// page: the kernel's async compaction strides over pages (up to
// COMPACT_CLUSTER_MAX), but finds targets through the free lists first
// (fast_isolate_freepages), which the model leaves out; a stride alone
// would miss every hole of a regular pattern and mark its pageblocks
// skip.
func (m *Machine) isolateFreepages(cc *compactControl) {
	n := m.nodes[cc.ni]
	c := &n.compact
	isolateStart := cc.freePFN
	blockStart := pageblockStart(isolateStart)
	blockEnd := min(blockStart+PageblockPages, m.zoneEnd(cc.ni))
	lowPFN := pageblockEnd(cc.migratePFN)
	for ; blockStart >= lowPFN; blockEnd, blockStart, isolateStart = blockStart, blockStart-PageblockPages, blockStart-PageblockPages {
		k := n.buddy.blockOf(blockStart)
		if !m.suitableMigrationTarget(cc, blockStart) || !cc.ignoreSkip && c.skip[k] {
			continue
		}
		m.isolateFreepagesBlock(cc, &isolateStart, blockEnd)
		if isolateStart == blockEnd {
			c.skip[k] = true // update_pageblock_skip
			c.cachedFree = min(c.cachedFree, blockStart-PageblockPages)
		}
		if cc.nrFree >= int64(len(cc.migrate)) {
			if isolateStart >= blockEnd {
				isolateStart = blockStart - PageblockPages
			}
			break
		}
		if isolateStart < blockEnd {
			break // isolation failed early: the watermark
		}
	}
	cc.freePFN = isolateStart
}

// suitableMigrationTarget is suitable_migration_target for the pageblock
// at pfn: not one that starts with a free block as large as the request
// (or a pageblock, for proactive compaction), which is worth more whole;
// then any block when ignoring block suitability (SYNC_FULL), else only
// movable ones.
func (m *Machine) suitableMigrationTarget(cc *compactControl, pfn int64) bool {
	n := m.nodes[cc.ni]
	order := cc.order
	if order <= 0 {
		order = PageblockOrder
	}
	if s := n.buddy.state[pfn-n.zone.StartPFN]; isFreeState(s) && freeStateOrder(s) >= order {
		return false
	}
	return cc.ignoreBlockSuitable || n.buddy.PageblockMT(pfn) == MigrateMovable
}

// isolateFreepagesBlock is isolate_freepages_block from *start to end:
// each free block met is taken off the free lists as a whole
// (__isolate_free_page, which stops at the min watermark plus the
// block), until the isolated pages cover the isolated sources. It leaves
// *start where it stopped.
func (m *Machine) isolateFreepagesBlock(cc *compactControl, start *int64, end int64) {
	n := m.nodes[cc.ni]
	p := *start
	for ; p < end; p++ {
		cc.freeScanned++
		s := n.buddy.state[p-n.zone.StartPFN]
		if !isFreeState(s) {
			continue
		}
		o := freeStateOrder(s)
		mark := n.zone.Wmark.Min + int64(1)<<o
		if !m.zoneWatermarkOK(cc.ni, 0, mark, AllocCMA, n.buddy.FreePages()) {
			break
		}
		n.buddy.isolateFree(p, o)
		size := int64(1) << o
		cc.freepages[o] = append(cc.freepages[o], p)
		cc.nrFree += size
		cc.freeScanned += size - 1
		m.vmstat[CompactIsolated] += size
		if int64(len(cc.migrate)) <= cc.nrFree {
			p += size
			break
		}
		p += size - 1
	}
	*start = min(p, end)
}
