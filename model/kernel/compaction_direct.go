package kernel

// This file is direct compaction, an allocating task compacting for
// itself (mm/page_alloc.c and mm/compaction.c, Linux 6.18):
// __alloc_pages_direct_compact, try_to_compact_pages, compact_zone_order
// and the slow path's should_compact_retry.

// compactCost is what a compaction run cost in simulated time: every
// page either scanner looked at costs ReclaimCost.ScanNsPerPage and
// every migrated page MigrateNsPerPage. The scan rate is of the order
// Nitin Gupta reported with the proactive compaction patches (lkml,
// 2020): a fully fragmented 32 GiB machine (8 Mi pages) compacted in
// under a second, about 100 ns a page.
func (m *Machine) compactCost(cc *compactControl) int64 {
	c := &m.cfg.Cost
	return (cc.migrateScanned+cc.freeScanned)*c.ScanNsPerPage + cc.migrated*c.MigrateNsPerPage
}

// directCompact is __alloc_pages_direct_compact: try_to_compact_pages at
// priority prio, then the free lists. A run that every zone skipped
// counts nothing; otherwise compact_stall, and compact_success (the
// zone's deferral reset) or compact_fail. The result's StallNs is the
// compaction's cost.
func (m *Machine) directCompact(ac *allocContext, flags AllocFlags, prio CompactPriority) (AllocResult, CompactResult, bool) {
	order := ac.order
	if order == 0 {
		return AllocResult{}, CompactResultSkipped, false
	}
	res, cost := m.tryToCompactPages(ac, flags, prio)
	m.stats.CompactStallNs += cost
	if res == CompactResultSkipped {
		return AllocResult{StallNs: cost}, res, false
	}
	m.vmstat[CompactStall]++
	r, ok := m.getPageFromFreelist(ac, flags)
	r.StallNs = cost
	if ok {
		c := &m.nodes[r.Node].compact
		c.blockskipFlush = false
		c.deferral.Reset(order, true)
		m.vmstat[CompactSuccess]++
		return r, res, true
	}
	m.vmstat[CompactFail]++
	return r, res, false
}

// tryToCompactPages is try_to_compact_pages: each zone of the zonelist
// is compacted (compact_zone_order) unless compaction of the order is
// deferred there (below the highest priority), until one succeeds, which
// resets its deferral; a synchronous run whose scanners met without
// success defers the zone. It returns the largest result and the cost.
func (m *Machine) tryToCompactPages(ac *allocContext, flags AllocFlags, prio CompactPriority) (CompactResult, int64) {
	if ac.mask&GFPIO == 0 {
		return CompactResultSkipped, 0 // gfp_compaction_allowed
	}
	order := ac.order
	rc := CompactResultSkipped
	var cost int64
	for _, ni := range ac.zl {
		n := m.nodes[ni]
		if n.offline {
			continue
		}
		if prio > MinCompactPriority && n.compact.deferral.Deferred(order) {
			rc = max(rc, CompactResultDeferred)
			continue
		}
		cc := compactControl{ni: ni, order: order, mt: ac.mt, flags: flags, direct: true, mode: migrateSyncLight,
			wholeZone: prio == MinCompactPriority, ignoreSkip: prio == MinCompactPriority, ignoreBlockSuitable: prio == MinCompactPriority}
		if prio == CompactPrioAsync {
			cc.mode = migrateAsync
		}
		status := m.compactZone(&cc)
		cost += m.compactCost(&cc)
		rc = max(rc, status)
		if status == CompactResultSuccess {
			n.compact.deferral.Reset(order, false)
			break
		}
		if prio != CompactPrioAsync && (status == CompactResultComplete || status == CompactResultPartialSkipped) {
			n.compact.deferral.Defer(order)
		}
	}
	return rc, cost
}

// shouldCompactRetry is should_compact_retry: compaction skipped for
// lack of order-0 targets retries if reclaim could make it suitable
// somewhere (compaction_zonelist_suitable); a success whose page was
// taken retries up to MAX_COMPACT_RETRIES (a quarter for costly orders);
// a failure retries at the next higher priority, down to
// MIN_COMPACT_PRIORITY (MIN_COMPACT_COSTLY_PRIORITY for costly orders).
func (m *Machine) shouldCompactRetry(ac *allocContext, flags AllocFlags, st *slowState) bool {
	order := ac.order
	if order == 0 {
		return false
	}
	if st.compact == CompactResultSkipped {
		return m.compactionZonelistSuitable(ac)
	}
	if st.compact == CompactResultSuccess {
		limit := maxCompactRetries
		if order > costlyOrder {
			limit /= 4
		}
		if st.compactRetries++; st.compactRetries <= limit {
			return true
		}
	}
	minPrio := MinCompactPriority
	if order > costlyOrder {
		minPrio = MinCompactCostlyPriority
	}
	if st.prio > minPrio {
		st.prio--
		st.compactRetries = 0
		return true
	}
	return false
}

// compactionZonelistSuitable is compaction_zonelist_suitable: some zone
// would pass __compaction_suitable with its free pages plus a share of
// its reclaimable pages (reclaimable / order, not all of them: reclaim
// is not worth thrashing for one high-order page).
func (m *Machine) compactionZonelistSuitable(ac *allocContext) bool {
	order := ac.order
	for _, ni := range ac.zl {
		n := m.nodes[ni]
		if n.offline {
			continue
		}
		available := m.reclaimablePages(ni)/int64(order) + n.buddy.FreePages()
		if compactionWatermarkOK(&n.zone, order, available, n.buddy.FreeHighAtomicPages()) {
			return true
		}
	}
	return false
}
