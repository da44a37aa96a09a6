package kernel

import "testing"

// nrFreeOf builds free_area[].nr_free from order:count pairs.
func nrFreeOf(pairs ...int64) *[NrOrders]int64 {
	var nr [NrOrders]int64
	for i := 0; i < len(pairs); i += 2 {
		nr[pairs[i]] = pairs[i+1]
	}
	return &nr
}

// TestFragmentationIndex checks __fragmentation_index against its own
// comment ("0 => allocation would fail due to lack of memory, 1 =>
// allocation would fail due to fragmentation", scaled by 1000; -1000 when
// the request would succeed) with the kernel's integer arithmetic:
// 1000 - (1000 + free_pages * 1000 / 2^order) / free_blocks_total.
func TestFragmentationIndex(t *testing.T) {
	for _, c := range []struct {
		name  string
		nr    *[NrOrders]int64
		order int
		want  int
	}{
		{"no free memory", nrFreeOf(), 9, 0},
		{"a block of the order is free", nrFreeOf(9, 1), 9, -1000},
		{"a larger block is free", nrFreeOf(0, 100, 10, 1), 9, -1000},
		// 512 single pages: 512*1000/512 = 1000; (1000+1000)/512 = 3.
		{"one huge page's worth in single pages", nrFreeOf(0, 512), 9, 997},
		// 4096 single pages: 8000; 9000/4096 = 2.
		{"much memory in single pages", nrFreeOf(0, 4096), 9, 998},
		// Two halves: 512 pages in 2 blocks: 1000; 2000/2 = 1000.
		{"two order-8 halves", nrFreeOf(8, 2), 9, 0},
		// 100 order-8 blocks: 25600 pages, 50000; 51000/100 = 510.
		{"order-8 blocks", nrFreeOf(8, 100), 9, 490},
		// One page: 1000/512 = 1; 1001/1: a little below 0, which
		// compaction_suitable does not read as lack of memory.
		{"a single free page", nrFreeOf(0, 1), 9, -1},
		{"order 3 from single pages", nrFreeOf(0, 64), 3, 1000 - (1000+64*1000/8)/64},
	} {
		if got := FragmentationIndex(c.nr, c.order); got != c.want {
			t.Errorf("%s: fragmentation_index(%d) = %d, want %d", c.name, c.order, got, c.want)
		}
	}
}

// TestExtfragForOrder: the share of free pages in blocks below the order.
func TestExtfragForOrder(t *testing.T) {
	for _, c := range []struct {
		nr    *[NrOrders]int64
		order int
		want  int
	}{
		{nrFreeOf(), 9, 0},
		{nrFreeOf(0, 512), 9, 100},
		{nrFreeOf(9, 1), 9, 0},
		{nrFreeOf(0, 512, 9, 1), 9, 50},
		{nrFreeOf(0, 100, 10, 1), 9, 100 * 100 / 1124},
	} {
		if got := ExtfragForOrder(c.nr, c.order); got != c.want {
			t.Errorf("extfrag_for_order(%v, %d) = %d, want %d", *c.nr, c.order, got, c.want)
		}
	}
}

// TestCompactionSuitable checks compaction_suitable's two tests on a zone
// with min 256 and low 320: the order-0 watermark (min for non-costly
// orders, low for costly ones) plus compact_gap (2 << order), free pages
// of the highatomic reserve not counted; and, for costly orders only,
// the fragmentation index against vm.extfrag_threshold.
func TestCompactionSuitable(t *testing.T) {
	z := &Zone{Wmark: Watermarks{Min: 256, Low: 320, High: 384}}
	frag := nrFreeOf(0, 4096) // index 998
	lack := nrFreeOf(8, 100)  // index 490
	for _, c := range []struct {
		name          string
		nr            *[NrOrders]int64
		free, ha      int64
		order, thresh int
		want          bool
		wantResult    CompactResult
	}{
		{"order 3 above min + 16", frag, 273, 0, 3, 500, true, CompactResultContinue},
		{"order 3 at min + 16", frag, 272, 0, 3, 500, false, CompactResultSkipped},
		{"order 3 ignores the index", lack, 273, 0, 3, 500, true, CompactResultContinue},
		{"order 9 above low + 1024, fragmented", frag, 1345, 0, 9, 500, true, CompactResultContinue},
		{"order 9 at low + 1024", frag, 1344, 0, 9, 500, false, CompactResultSkipped},
		{"order 9, highatomic not counted", frag, 1345, 1, 9, 500, false, CompactResultSkipped},
		{"order 9, lack of memory", lack, 30000, 0, 9, 500, false, CompactResultNotSuitableZone},
		{"order 9, lack of memory under a lower threshold", lack, 30000, 0, 9, 400, true, CompactResultContinue},
		{"order 9, index at the threshold", lack, 30000, 0, 9, 490, false, CompactResultNotSuitableZone},
	} {
		ok, res := CompactionSuitable(z, c.nr, c.free, c.ha, c.order, c.thresh)
		if ok != c.want || res != c.wantResult {
			t.Errorf("%s: %v %s, want %v %s", c.name, ok, res, c.want, c.wantResult)
		}
	}
}

// TestDeferralSequence follows a zone's deferral through failures and a
// success: after the k-th failure (defer_compaction) the next 2^k - 1
// considerations are skipped (compaction_deferred), the shift stops at
// COMPACT_MAX_DEFER_SHIFT, orders below the lowest failed one are never
// deferred, and a successful allocation (compaction_defer_reset with
// alloc_success) starts over.
func TestDeferralSequence(t *testing.T) {
	var d Deferral
	if d.Deferred(9) {
		t.Fatal("deferred before any failure")
	}
	for k := 1; k <= 8; k++ {
		d.Defer(9)
		wantShift := min(k, CompactMaxDeferShift)
		if d.DeferShift != wantShift || d.Considered != 0 {
			t.Fatalf("after failure %d: shift %d considered %d", k, d.DeferShift, d.Considered)
		}
		skipped := 0
		for d.Deferred(9) {
			skipped++
			if skipped > 1<<CompactMaxDeferShift {
				t.Fatal("never runs again")
			}
		}
		if want := 1<<wantShift - 1; skipped != want {
			t.Fatalf("after failure %d: %d attempts skipped, want %d", k, skipped, want)
		}
		if d.Restarting(9) != (wantShift == CompactMaxDeferShift) {
			t.Fatalf("after failure %d: restarting %v", k, d.Restarting(9))
		}
	}
	d.Defer(9)
	d.OrderFailed = 9
	if d.Deferred(8) {
		t.Fatal("an order below the failed one was deferred")
	}
	d.Reset(9, false) // compaction says it will succeed: orders up to 9 run
	if d.OrderFailed != 10 || d.DeferShift != CompactMaxDeferShift || d.Deferred(9) {
		t.Fatalf("reset without an allocation: %+v", d)
	}
	d.OrderFailed = 9
	d.Reset(9, true)
	if d.DeferShift != 0 || d.Considered != 0 || d.Deferred(9) {
		t.Fatalf("reset after an allocation: %+v", d)
	}
}

// TestFragmentationScoreWmarks: fragmentation_score_wmark.
func TestFragmentationScoreWmarks(t *testing.T) {
	for _, c := range []struct{ proactiveness, leeway, low, high int }{
		{20, 10, 80, 90}, {0, 10, 100, 100}, {95, 10, 5, 15}, {100, 10, 0, 10}, {20, 0, 80, 80},
	} {
		if low, high := FragmentationScoreWmarks(c.proactiveness, c.leeway); low != c.low || high != c.high {
			t.Errorf("proactiveness %d leeway %d: %d %d, want %d %d", c.proactiveness, c.leeway, low, high, c.low, c.high)
		}
	}
}

// TestGFPToAllocFlags checks gfp_to_alloc_flags on the masks the model
// uses.
func TestGFPToAllocFlags(t *testing.T) {
	for _, c := range []struct {
		mask  GFPFlags
		order int
		want  AllocFlags
	}{
		{MaskKernel, 0, AllocWmarkMin | AllocKswapd},
		{MaskHighUserMovable, 9, AllocWmarkMin | AllocKswapd},
		{MaskAtomic, 0, AllocWmarkMin | AllocMinReserve | AllocKswapd | AllocNonBlock},
		{MaskAtomic, 2, AllocWmarkMin | AllocMinReserve | AllocKswapd | AllocNonBlock | AllocHighAtomic},
		{MaskNowait, 0, AllocWmarkMin | AllocKswapd | AllocNonBlock},
		{MaskTransHugeLight, 9, AllocWmarkMin},
		{MaskTransHugeLight | GFPKswapdReclaim, 9, AllocWmarkMin | AllocKswapd},
	} {
		if got := gfpToAllocFlags(c.mask, c.order); got != c.want {
			t.Errorf("gfp_to_alloc_flags(%s, %d) = %#x, want %#x", c.mask, c.order, got, c.want)
		}
	}
	if MaskKernel.Migratetype() != MigrateUnmovable || MaskHighUserMovable.Migratetype() != MigrateMovable ||
		MaskAtomic.Migratetype() != MigrateUnmovable || (MaskKernel|GFPReclaimable).Migratetype() != MigrateReclaimable {
		t.Error("gfp_migratetype")
	}
}
