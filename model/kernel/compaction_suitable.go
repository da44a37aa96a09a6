package kernel

import "fmt"

// This file holds compaction's decisions that are formulas over a zone's
// counters (mm/compaction.c and mm/vmstat.c, Linux 6.18): whether to
// compact at all (compaction_suitable with the order-0 watermark plus
// compact_gap and the fragmentation index against vm.extfrag_threshold),
// the fragmentation score of proactive compaction, and deferral after
// failures (defer_compaction, compaction_deferred, compaction_defer_reset).

// CompactResult is enum compact_result, in the kernel's order:
// try_to_compact_pages keeps the largest result over the zones.
type CompactResult int

// The results.
const (
	CompactResultNotSuitableZone CompactResult = iota
	// CompactResultSkipped: compaction did not start, the order-0 watermark
	// plus the gap was not met (or, for costly orders, the failure
	// looked like a lack of memory rather than fragmentation).
	CompactResultSkipped
	// CompactResultDeferred: compaction did not start, it failed recently.
	CompactResultDeferred
	CompactResultNoSuitablePage
	CompactResultContinue
	// CompactResultComplete: the scanners met after scanning the whole zone.
	CompactResultComplete
	// CompactResultPartialSkipped: the scanners met, part of the zone skipped.
	CompactResultPartialSkipped
	// CompactResultContended: compaction stopped early (the free scanner ran
	// dry before meeting the migration scanner).
	CompactResultContended
	// CompactResultSuccess: a page of the order is free now.
	CompactResultSuccess
)

// String is the result's name in the compaction tracepoints.
func (r CompactResult) String() string {
	if r < 0 || r > CompactResultSuccess {
		return fmt.Sprintf("CompactResult(%d)", int(r))
	}
	return [...]string{"not_suitable_zone", "skipped", "deferred", "no_suitable_page", "continue",
		"complete", "partial_skipped", "contended", "success"}[r]
}

// CompactPriority is enum compact_priority: how hard direct compaction
// tries. Lower is harder.
type CompactPriority int

// The priorities. SYNC_FULL scans the whole zone, ignores the skip hints
// and migrates into any pageblock; the others use MIGRATE_SYNC_LIGHT or
// MIGRATE_ASYNC.
const (
	CompactPrioSyncFull CompactPriority = iota
	CompactPrioSyncLight
	CompactPrioAsync

	MinCompactPriority       = CompactPrioSyncFull
	MinCompactCostlyPriority = CompactPrioSyncLight
	DefCompactPriority       = CompactPrioSyncLight
	InitCompactPriority      = CompactPrioAsync
)

// CompactMaxDeferShift is COMPACT_MAX_DEFER_SHIFT: after failures,
// compaction of an order is skipped up to 1 << 6 = 64 times.
const CompactMaxDeferShift = 6

// maxCompactRetries is MAX_COMPACT_RETRIES.
const maxCompactRetries = 16

// compactClusterMax is COMPACT_CLUSTER_MAX (SWAP_CLUSTER_MAX): the pages
// the migration scanner isolates at a time.
const compactClusterMax = swapClusterMax

// hpageFragCheckIntervalMs is HPAGE_FRAG_CHECK_INTERVAL_MSEC: how often
// kcompactd checks the node's fragmentation score for proactive
// compaction.
const hpageFragCheckIntervalMs = 500

// ProactiveCheckIntervalNs is HPAGE_FRAG_CHECK_INTERVAL_MSEC in
// nanoseconds: the interval at which the simulation calls
// ProactiveCompactStep.
const ProactiveCheckIntervalNs = hpageFragCheckIntervalMs * 1_000_000

// CompactGap is compact_gap: the free order-0 pages compaction wants
// above the watermark before it starts, twice the request, so that it
// has migration targets and the allocation has room afterwards.
func CompactGap(order int) int64 { return 2 << order }

// contigInfo is struct contig_page_info (fill_contig_page_info).
type contigInfo struct {
	freePages, freeBlocksTotal, freeBlocksSuitable int64
}

// fillContigInfo is fill_contig_page_info over the free block counts of
// each order (free_area[order].nr_free, all types).
func fillContigInfo(nrFree *[NrOrders]int64, suitableOrder int) contigInfo {
	var info contigInfo
	for o, blocks := range nrFree {
		info.freeBlocksTotal += blocks
		info.freePages += blocks << o
		if o >= suitableOrder {
			info.freeBlocksSuitable += blocks << (o - suitableOrder)
		}
	}
	return info
}

// FragmentationIndex is fragmentation_index (__fragmentation_index in
// mm/vmstat.c) of a zone whose free blocks of each order are nrFree: 0
// when there are no free blocks; -1000 when a block of the order is free
// (the index only makes sense for a request that would fail); otherwise
// 1000 - (1000 + free_pages * 1000 / 2^order) / free_blocks_total, in
// integer arithmetic: towards 0 the failure is a lack of memory, towards
// 1000 it is fragmentation.
func FragmentationIndex(nrFree *[NrOrders]int64, order int) int {
	if order < 0 || order > MaxOrder {
		return 0
	}
	info := fillContigInfo(nrFree, order)
	if info.freeBlocksTotal == 0 {
		return 0
	}
	if info.freeBlocksSuitable > 0 {
		return -1000
	}
	requested := int64(1) << order
	return int(1000 - (1000+info.freePages*1000/requested)/info.freeBlocksTotal)
}

// ExtfragForOrder is extfrag_for_order: the percentage of free pages in
// blocks smaller than the order, 0..100 (0 with no free pages).
func ExtfragForOrder(nrFree *[NrOrders]int64, order int) int {
	info := fillContigInfo(nrFree, order)
	if info.freePages == 0 {
		return 0
	}
	return int((info.freePages - info.freeBlocksSuitable<<order) * 100 / info.freePages)
}

// nrFreeArray is a zone's free_area[].nr_free.
func (b *Buddy) nrFreeArray() *[NrOrders]int64 { return &b.nrFree }

// CompactionSuitable is compaction_suitable with __compaction_suitable for
// a zone z holding free pages (freeHighAtomic of them in the highatomic
// reserve) in blocks nrFree: compaction may run if the order-0 check
// passes at the min watermark (the low one for costly orders) plus
// CompactGap(order), with ALLOC_CMA and so without reserves; and, for
// costly orders only, if the fragmentation index is not in
// [0, extfragThreshold] (a failure that looks like a lack of memory is
// left to reclaim). It returns the decision and the tracepoint's result.
func CompactionSuitable(z *Zone, nrFree *[NrOrders]int64, free, freeHighAtomic int64, order, extfragThreshold int) (bool, CompactResult) {
	if !compactionWatermarkOK(z, order, free, freeHighAtomic) {
		return false, CompactResultSkipped
	}
	if order > costlyOrder {
		if fi := FragmentationIndex(nrFree, order); fi >= 0 && fi <= extfragThreshold {
			return false, CompactResultNotSuitableZone
		}
	}
	return true, CompactResultContinue
}

// compactionWatermarkOK is __compaction_suitable for free pages (which
// compaction_zonelist_suitable may make hypothetical).
func compactionWatermarkOK(z *Zone, order int, free, freeHighAtomic int64) bool {
	mark := z.WmarkPages(WmarkMin)
	if order > costlyOrder {
		mark = z.WmarkPages(WmarkLow)
	}
	mark += CompactGap(order)
	return WatermarkOK(z, nil, WatermarkCheck{Order: 0, Mark: mark, HighestZoneIdx: ZoneNormal, Flags: AllocCMA,
		FreePages: free, FreeHighAtomic: freeHighAtomic})
}

// Deferral is a zone's compaction back-off state: compact_considered,
// compact_defer_shift and compact_order_failed.
type Deferral struct {
	Considered, DeferShift, OrderFailed int
}

// Defer is defer_compaction: a compaction of order failed where the
// allocation was expected to succeed, so skip the next 1 << shift
// compactions of this order or larger (the shift grows up to
// COMPACT_MAX_DEFER_SHIFT).
func (d *Deferral) Defer(order int) {
	d.Considered = 0
	d.DeferShift = min(d.DeferShift+1, CompactMaxDeferShift)
	if order < d.OrderFailed {
		d.OrderFailed = order
	}
}

// Deferred is compaction_deferred: whether this compaction of order is
// skipped. Each call counts a consideration; once 1 << shift of them
// have passed, compaction runs again.
func (d *Deferral) Deferred(order int) bool {
	if order < d.OrderFailed {
		return false
	}
	limit := 1 << d.DeferShift
	d.Considered++
	if d.Considered >= limit {
		d.Considered = limit
		return false
	}
	return true
}

// Reset is compaction_defer_reset: compaction of order succeeded (and,
// with allocSuccess, the allocation did), so orders up to it are no
// longer deferred, and the back-off starts over.
func (d *Deferral) Reset(order int, allocSuccess bool) {
	if allocSuccess {
		d.Considered, d.DeferShift = 0, 0
	}
	if order >= d.OrderFailed {
		d.OrderFailed = order + 1
	}
}

// Restarting is compaction_restarting: compaction of order runs after
// the longest back-off, so the skip hints are cleared first.
func (d *Deferral) Restarting(order int) bool {
	return order >= d.OrderFailed && d.DeferShift == CompactMaxDeferShift && d.Considered >= 1<<d.DeferShift
}

// FragmentationScoreWmarks are fragmentation_score_wmark: proactive
// compaction starts above high and stops at or below low, with low =
// 100 - vm.compaction_proactiveness and high = min(low + leeway, 100)
// (vm.compaction_proactiveness_leeway, default 10).
func FragmentationScoreWmarks(proactiveness, leeway int) (low, high int) {
	low = 100 - proactiveness
	return low, min(low+leeway, 100)
}
