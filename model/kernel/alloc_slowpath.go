package kernel

// This file is the page allocator's allocation path (mm/page_alloc.c,
// Linux 6.18): get_page_from_freelist along a zonelist, and
// __alloc_pages_slowpath with kswapd wake-ups, direct compaction, direct
// reclaim, their retry rules and the OOM killer.

// allocContext is struct alloc_context with what the slow path carries
// between its steps: the request's task, order and CPU, its zonelist,
// gfp mask and migratetype.
type allocContext struct {
	pid        int64
	order, cpu int
	zl         []int
	mask       GFPFlags
	mt         Migratetype
}

// allocFrom is __alloc_pages along the zonelist zl: the fast path at the
// low watermark, then the slow path. __GFP_THISNODE narrows zl to the
// preferred node.
func (m *Machine) allocFrom(zl []int, req AllocRequest) AllocResult {
	ac := allocContext{pid: req.PID, order: req.Order, cpu: req.CPU, zl: zl, mask: req.GFPMask()}
	ac.mt = ac.mask.Migratetype()
	if ac.mask&GFPThisNode != 0 {
		ac.zl = []int{req.Node}
	}
	if r, ok := m.getPageFromFreelist(&ac, AllocWmarkLow); ok {
		return r
	}
	return m.slowpath(&ac)
}

// getPageFromFreelist is get_page_from_freelist: the first node along the
// zonelist whose zone passes the watermark check and has a block gives
// the pages, order-0 ones through the CPU's per-CPU list of the
// allocation's type when there is one (rmqueue_pcplist). A high-order
// atomic allocation reserves its pageblock for later ones
// (reserve_highatomic_pageblock).
func (m *Machine) getPageFromFreelist(ac *allocContext, flags AllocFlags) (AllocResult, bool) {
	order := ac.order
	for _, ni := range ac.zl {
		n := m.nodes[ni]
		if n.offline || !m.zoneWatermarkOK(ni, order, n.zone.WmarkPages(flags.Wmark()), flags, n.buddy.FreePages()) {
			// build_all_zonelists left an offline node's zone out.
			continue
		}
		var pfn int64
		var ok bool
		if order == 0 && ac.cpu >= 0 && ac.cpu < len(m.pcps) {
			pfn, ok = m.pcps[ac.cpu][ni].AllocMT(ac.mt)
		}
		if !ok {
			pfn, ok = n.buddy.Rmqueue(order, ac.mt, flags)
		}
		if !ok {
			continue
		}
		if flags&AllocHighAtomic != 0 {
			n.buddy.reserveHighAtomic(pfn, order)
		}
		return AllocResult{OK: true, PFN: pfn, Node: ni}, true
	}
	return AllocResult{}, false
}

// zoneWatermarkOK is zone_watermark_ok for node ni's zone with free
// pages free (which may be a hypothetical count): the order-0 check with
// the reserve discounts and the highatomic reserve held back from those
// without rights to it, then a free block of the order on a list the
// allocation may use.
func (m *Machine) zoneWatermarkOK(ni, order int, mark int64, flags AllocFlags, free int64) bool {
	n := m.nodes[ni]
	if order == 0 && flags&AllocReserves == 0 {
		// zone_watermark_fast's order-0 check, which gives the same
		// answer as __zone_watermark_ok for a request without reserves.
		return free-n.buddy.FreeHighAtomicPages() > mark+n.zone.LowmemReserve[ZoneNormal]
	}
	return WatermarkOK(&n.zone, n.buddy, WatermarkCheck{Order: order, Mark: mark, HighestZoneIdx: ZoneNormal,
		Flags: flags, FreePages: free, FreeHighAtomic: n.buddy.FreeHighAtomicPages()})
}

// slowpath is __alloc_pages_slowpath.
func (m *Machine) slowpath(ac *allocContext) AllocResult {
	order := ac.order
	canDirect := ac.mask&GFPDirectReclaim != 0
	canCompact := ac.mask&GFPIO != 0
	costly := order > costlyOrder
	flags := gfpToAllocFlags(ac.mask, order)
	if flags&AllocKswapd != 0 {
		m.wakeAllKswapds(ac)
	}
	plainFit := true
	if flags&AllocReserves != 0 {
		_, plainFit = m.wouldFitAt(ac.zl, order, AllocWmarkMin)
	}
	if r, ok := m.getPageFromFreelist(ac, flags); ok {
		if !plainFit {
			m.stats.AtomicReserveAllocations++ // only the reserve discount let it in
		}
		return r
	}
	st := slowState{compact: CompactResultSkipped, prio: DefCompactPriority}
	if canDirect && canCompact && (costly || order > 0 && ac.mt != MigrateMovable) {
		// Costly and unmovable high-order requests compact first: there
		// are likely enough base pages, and compaction migrating within
		// the type keeps pageblocks from mixing.
		r, res, ok := m.directCompact(ac, flags, InitCompactPriority)
		st.stallNs += r.StallNs
		if ok {
			return r
		}
		st.compact = res
		if costly && ac.mask&GFPNoRetry != 0 {
			if res == CompactResultSkipped || res == CompactResultDeferred {
				return AllocResult{StallNs: st.stallNs}
			}
			st.prio = InitCompactPriority // keep to async compaction
		}
	}
	if r, ok := m.retryLoop(ac, flags, &st); ok || r.OOM != nil || !st.mayOOM {
		return r
	}
	return m.mayOOM(ac, &st)
}

// slowState is the slow path's loop state.
type slowState struct {
	stallNs                     int64
	compact                     CompactResult
	prio                        CompactPriority
	noProgress, compactRetries  int
	drained, mayOOM, progressed bool
}

// retryLoop is the slow path's retry: label to the OOM decision: wake
// kswapd, try the free lists, direct reclaim, direct compaction, and
// retry while should_reclaim_retry or should_compact_retry says so. It
// returns the allocation when one succeeded, and sets st.mayOOM when the
// loop ended in __alloc_pages_may_oom's territory.
func (m *Machine) retryLoop(ac *allocContext, flags AllocFlags, st *slowState) (AllocResult, bool) {
	order := ac.order
	costly := order > costlyOrder
	for first := true; ; first = false {
		if flags&AllocKswapd != 0 {
			m.wakeAllKswapds(ac)
		}
		// The first pass's attempt repeats the one the slow path just
		// made, with nothing run in between unless compaction did.
		if !first || st.compact != CompactResultSkipped {
			if r, ok := m.getPageFromFreelist(ac, flags); ok {
				r.StallNs = st.stallNs
				return r, true
			}
		}
		if ac.mask&GFPDirectReclaim == 0 {
			return AllocResult{StallNs: st.stallNs}, false
		}
		if r, ok := m.directReclaimAlloc(ac, flags, st); ok {
			return r, true
		}
		r, res, ok := m.directCompact(ac, flags, st.prio)
		st.stallNs += r.StallNs
		if ok {
			r.StallNs = st.stallNs
			return r, true
		}
		st.compact = res
		if ac.mask&GFPNoRetry != 0 || costly && (ac.mask&GFPIO == 0 || ac.mask&GFPRetryMayFail == 0) {
			// Costly orders without __GFP_RETRY_MAYFAIL give up here
			// and never invoke the OOM killer.
			return AllocResult{StallNs: st.stallNs}, false
		}
		if m.shouldReclaimRetry(ac, flags, st.progressed, &st.noProgress) {
			continue
		}
		if st.progressed && ac.mask&GFPIO != 0 && m.shouldCompactRetry(ac, flags, st) {
			continue
		}
		st.mayOOM = true
		return AllocResult{StallNs: st.stallNs}, false
	}
}

// directReclaimAlloc is __alloc_pages_direct_reclaim: reclaim, then try
// the free lists; the first time that fails, give back a highatomic
// pageblock (unless it is the zone's last) and drain the per-CPU lists,
// and try once more.
func (m *Machine) directReclaimAlloc(ac *allocContext, flags AllocFlags, st *slowState) (AllocResult, bool) {
	rec := m.directReclaim(ac.zl, ac.order, ac.cpu, ac.mask)
	st.stallNs += rec.costNs
	st.progressed = rec.reclaimed > 0
	r, ok := m.getPageFromFreelist(ac, flags)
	if !ok && !st.drained {
		// Pages may be pinned on per-CPU lists or in the highatomic
		// reserve: release them once and retry.
		m.unreserveHighAtomic(ac, false)
		m.drainAllPages()
		st.drained = true
		r, ok = m.getPageFromFreelist(ac, flags)
	}
	r.StallNs = st.stallNs
	return r, ok
}

// mayOOM is __alloc_pages_may_oom: one last try at the high watermark,
// then the OOM killer, except for costly orders, __GFP_RETRY_MAYFAIL and
// __GFP_THISNODE requests, which fail.
func (m *Machine) mayOOM(ac *allocContext, st *slowState) AllocResult {
	if r, ok := m.getPageFromFreelist(ac, AllocWmarkHigh); ok {
		r.StallNs = st.stallNs
		return r
	}
	if ac.order > costlyOrder || ac.mask&(GFPRetryMayFail|GFPThisNode) != 0 {
		return AllocResult{StallNs: st.stallNs}
	}
	return AllocResult{StallNs: st.stallNs, OOM: m.outOfMemory(ac.pid)}
}

// wouldFitAt returns the first node along zl whose zone passes the
// watermark check for order with flags.
func (m *Machine) wouldFitAt(zl []int, order int, flags AllocFlags) (int, bool) {
	for _, ni := range zl {
		n := m.nodes[ni]
		if n.offline {
			continue
		}
		if m.zoneWatermarkOK(ni, order, n.zone.WmarkPages(flags.Wmark()), flags, n.buddy.FreePages()) {
			return ni, true
		}
	}
	return 0, false
}

// directReclaim is __perform_reclaim -> try_to_free_pages: global reclaim
// over the zonelist's nodes for SWAP_CLUSTER_MAX pages (at least the
// request), do_try_to_free_pages.
func (m *Machine) directReclaim(zl []int, order, cpu int, mask GFPFlags) reclaimResult {
	m.stats.DirectReclaims++
	sc := scanControl{target: max(int64(swapClusterMax), int64(1)<<order), movable: mask&GFPMovable != 0}
	sc.setCPU(cpu)
	m.doTryToFreePages(zl, &sc)
	m.stats.DirectReclaimStallNs += sc.res.costNs
	return sc.res
}

// shouldReclaimRetry is should_reclaim_retry: progress on a non-costly
// order resets the count of fruitless rounds; after MAX_RECLAIM_RETRIES
// of them, give up; otherwise retry only if some zone could pass its min
// watermark were all its reclaimable pages freed. Before giving up it
// releases a highatomic pageblock, even a zone's last, and retries if it
// did.
func (m *Machine) shouldReclaimRetry(ac *allocContext, flags AllocFlags, progress bool, noProgress *int) bool {
	order := ac.order
	if progress && order <= costlyOrder {
		*noProgress = 0
	} else {
		*noProgress++
	}
	if *noProgress <= maxReclaimRetries {
		for _, ni := range ac.zl {
			n := m.nodes[ni]
			if n.offline {
				continue
			}
			available := m.reclaimablePages(ni) + n.buddy.FreePages()
			if m.zoneWatermarkOK(ni, order, n.zone.Wmark.Min, flags, available) {
				return true
			}
		}
	}
	return m.unreserveHighAtomic(ac, true)
}

// unreserveHighAtomic is unreserve_highatomic_pageblock along the
// zonelist: the first zone that can give back a highatomic pageblock
// (keeping its last one unless force) converts it to the allocation's
// type. It reports whether one did.
func (m *Machine) unreserveHighAtomic(ac *allocContext, force bool) bool {
	for _, ni := range ac.zl {
		if n := m.nodes[ni]; !n.offline && n.buddy.unreserveHighAtomic(ac.mt, force) {
			return true
		}
	}
	return false
}

// wakeAllKswapds is wake_all_kswapds: wakeup_kswapd on every node of the
// zonelist for the request's order.
func (m *Machine) wakeAllKswapds(ac *allocContext) {
	for _, ni := range ac.zl {
		m.wakeupKswapd(ni, ac.order, ac.mask)
	}
}

// wakeupKswapd is wakeup_kswapd for node ni: kswapd notes the order;
// asleep, it wakes unless the node is balanced for that order (pgdat_balanced
// at the high watermark). A balanced node with a fragmentation problem
// and a caller that cannot compact itself wakes kcompactd instead. An
// offline node has no kswapd (kswapd_stop).
func (m *Machine) wakeupKswapd(ni, order int, mask GFPFlags) {
	n := m.nodes[ni]
	if n.offline {
		return
	}
	n.kswapdOrder = max(n.kswapdOrder, order)
	if n.kswapdWanted {
		return // awake already (waitqueue_active is false)
	}
	if m.pgdatBalanced(ni, order) {
		if mask&GFPDirectReclaim == 0 {
			m.wakeupKcompactd(ni, order)
		}
		return
	}
	n.kswapdWanted = true
}

// pgdatBalanced is pgdat_balanced: node ni's zone passes the high
// watermark for order, without reserves.
func (m *Machine) pgdatBalanced(ni, order int) bool {
	n := m.nodes[ni]
	return m.zoneWatermarkOK(ni, order, n.zone.WmarkPages(WmarkHigh), 0, n.buddy.FreePages())
}
