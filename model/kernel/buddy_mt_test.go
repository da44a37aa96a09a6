package kernel

import "testing"

// TestShouldTryClaimBlock is should_try_claim_block's table: orders of
// half a pageblock or more are always worth claiming, small unmovable and
// reclaimable requests claim, small movable ones only steal.
func TestShouldTryClaimBlock(t *testing.T) {
	for _, c := range []struct {
		order int
		mt    Migratetype
		want  bool
	}{
		{0, MigrateMovable, false}, {3, MigrateMovable, false}, {4, MigrateMovable, true},
		{9, MigrateMovable, true}, {10, MigrateMovable, true},
		{0, MigrateUnmovable, true}, {0, MigrateReclaimable, true}, {3, MigrateUnmovable, true},
	} {
		if got := shouldTryClaimBlock(c.order, c.mt); got != c.want {
			t.Errorf("should_try_claim_block(%d, %s) = %v, want %v", c.order, c.mt, got, c.want)
		}
	}
}

// TestFallbacksTable pins fallbacks[] of mm/page_alloc.c.
func TestFallbacksTable(t *testing.T) {
	want := map[Migratetype][2]Migratetype{
		MigrateUnmovable:   {MigrateReclaimable, MigrateMovable},
		MigrateMovable:     {MigrateReclaimable, MigrateUnmovable},
		MigrateReclaimable: {MigrateUnmovable, MigrateMovable},
	}
	for mt, w := range want {
		if fallbacks[mt] != w {
			t.Errorf("fallbacks[%s] = %v, want %v", mt, fallbacks[mt], w)
		}
	}
}

// TestUnmovableClaimsWholeFreeBlock: on a zone of free movable pageblocks,
// an order-0 unmovable allocation claims a whole free block the largest
// one there is (__rmqueue_claim searches from MAX_PAGE_ORDER down): an
// order-10 block, whose two pageblocks both become unmovable; the next
// unmovable pages come from its own lists.
func TestUnmovableClaimsWholeFreeBlock(t *testing.T) {
	b := mustBuddy(t, 0, 4*MaxBlockPages)
	pfn, ok := b.Rmqueue(0, MigrateUnmovable, 0)
	if !ok {
		t.Fatal("no page")
	}
	counts := b.PageblockCounts()
	if counts[MigrateUnmovable] != 2 || counts[MigrateMovable] != 6 {
		t.Fatalf("pageblocks %v, want 2 unmovable 6 movable", counts)
	}
	if b.PageblockMT(pfn) != MigrateUnmovable || b.PageblockMT(pfn^PageblockPages) != MigrateUnmovable {
		t.Fatalf("claimed block pfn %#x not unmovable", pfn)
	}
	next, _ := b.Rmqueue(0, MigrateUnmovable, 0)
	if next != pfn+1 || b.PageblockCounts() != counts {
		t.Fatalf("second unmovable page %#x, want %#x from the claimed block; pageblocks %v", next, pfn+1, b.PageblockCounts())
	}
	if err := b.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

// TestTryToClaimBlock checks try_to_claim_block's rule for a fallback
// block smaller than a pageblock: the pageblock is claimed when its free
// pages plus the pages compatible with the request reach half of it.
// The zone is one movable pageblock (of two, the other filled) with a
// given number of pages on the LRU and of kernel pages; the rest is free.
func TestTryToClaimBlock(t *testing.T) {
	for _, c := range []struct {
		name             string
		lru, kernelPages int
		mt               Migratetype
		claim            bool
	}{
		// Unmovable into a movable block: free + non-movable >= 256.
		{"unmovable, mostly free", 100, 0, MigrateUnmovable, true},
		{"unmovable, mostly lru", 300, 0, MigrateUnmovable, false},
		{"unmovable, lru and kernel pages", 200, 200, MigrateUnmovable, true},
		{"unmovable, too few kernel pages", 300, 100, MigrateUnmovable, false},
		{"unmovable, exactly half lru", 256, 0, MigrateUnmovable, true},
		{"unmovable, one past half lru", 257, 0, MigrateUnmovable, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := mustBuddy(t, 0, MaxBlockPages)
			lru := map[int64]bool{}
			b.isLRU = func(pfn int64) bool { return lru[pfn] }
			// Fill the second pageblock so that only the first has
			// free pages, then take the first's pages one by one.
			if err := b.AllocAt(PageblockPages, PageblockOrder); err != nil {
				t.Fatal(err)
			}
			for pfn := int64(0); pfn < int64(c.lru+c.kernelPages); pfn++ {
				if err := b.AllocAt(pfn, 0); err != nil {
					t.Fatal(err)
				}
				lru[pfn] = pfn < int64(c.lru)
			}
			pfn, ok := b.Rmqueue(0, c.mt, 0)
			if !ok {
				t.Fatal("no page")
			}
			claimed := b.PageblockMT(0) == c.mt
			if claimed != c.claim {
				t.Fatalf("pageblock became %s (claimed %v), want claimed %v", b.PageblockMT(0), claimed, c.claim)
			}
			if !claimed && b.NrFreeMT(0, c.mt) != 0 {
				t.Fatalf("a steal left pages on the %s lists", c.mt)
			}
			if pfn != int64(c.lru+c.kernelPages) {
				t.Fatalf("got pfn %#x", pfn)
			}
			if err := b.CheckInvariants(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestMovableStealsWithoutClaiming: a small movable allocation falling
// back to an unmovable pageblock that holds only small free blocks takes
// the smallest one and leaves the pageblock unmovable (__rmqueue_steal),
// the rest of the block on the unmovable lists; freeing the page puts it
// back on the unmovable lists.
func TestMovableStealsWithoutClaiming(t *testing.T) {
	b := mustBuddy(t, 0, MaxBlockPages)
	if err := b.AllocAt(0, MaxOrder); err != nil {
		t.Fatal(err)
	}
	b.setType(0, MigrateUnmovable)
	if err := b.Split(0, MaxOrder); err != nil {
		t.Fatal(err)
	}
	for _, pfn := range []int64{8, 9, 100} { // an order-1 and an order-0 block
		if err := b.Free(pfn, 0); err != nil {
			t.Fatal(err)
		}
	}
	pfn, ok := b.Rmqueue(0, MigrateMovable, 0)
	if !ok || pfn != 100 {
		t.Fatalf("got %#x %v, want the order-0 block at 0x64", pfn, ok)
	}
	if b.PageblockMT(0) != MigrateUnmovable || b.NrFreeMT(1, MigrateUnmovable) != 1 {
		t.Fatalf("pageblock %s, unmovable order-1 free %d", b.PageblockMT(0), b.NrFreeMT(1, MigrateUnmovable))
	}
	pfn, _ = b.Rmqueue(0, MigrateMovable, 0)
	if pfn != 8 || b.NrFreeMT(0, MigrateUnmovable) != 1 {
		t.Fatalf("second steal %#x; the order-1 remainder is not on the unmovable list", pfn)
	}
	if err := b.Free(pfn, 0); err != nil {
		t.Fatal(err)
	}
	if b.NrFreeMT(1, MigrateUnmovable) != 1 {
		t.Fatal("the freed page did not merge back on the unmovable list")
	}
	if err := b.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

// TestFreeMergesAcrossPageblockTypes: freeing a page of an unmovable
// pageblock whose buddy pageblock is free and movable merges them into
// an order-10 block of the freed page's type (__free_one_page sets the
// buddy's pageblock type), but the highatomic reserve does not merge.
func TestFreeMergesAcrossPageblockTypes(t *testing.T) {
	b := mustBuddy(t, 0, MaxBlockPages)
	if err := b.AllocAt(0, PageblockOrder); err != nil {
		t.Fatal(err)
	}
	b.setType(0, MigrateUnmovable)
	if err := b.Free(0, PageblockOrder); err != nil {
		t.Fatal(err)
	}
	if b.NrFreeMT(MaxOrder, MigrateUnmovable) != 1 || b.PageblockMT(PageblockPages) != MigrateUnmovable {
		t.Fatalf("no unmovable order-10 block: %v", b.PageblockCounts())
	}
	if err := b.AllocAt(0, PageblockOrder); err != nil {
		t.Fatal(err)
	}
	b.setType(0, MigrateHighAtomic)
	if err := b.Free(0, PageblockOrder); err != nil {
		t.Fatal(err)
	}
	if b.NrFreeMT(PageblockOrder, MigrateHighAtomic) != 1 || b.NrFree(MaxOrder) != 0 || b.FreeHighAtomicPages() != PageblockPages {
		t.Fatalf("highatomic pageblock merged: %d order-10 blocks, %d free highatomic", b.NrFree(MaxOrder), b.FreeHighAtomicPages())
	}
	if err := b.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

// TestHighAtomicReserve: reserve_highatomic_pageblock sets aside the
// pageblock of a high-order atomic allocation, up to about 1% of the
// zone; the reserve serves later high-order atomic requests first and
// is nobody's fallback, except as the last resort of a request that may
// not block; unreserve_highatomic_pageblock gives it back.
func TestHighAtomicReserve(t *testing.T) {
	b := mustBuddy(t, 0, 64*MaxBlockPages) // 1% is 655 pages: two pageblocks
	pfn, _ := b.Rmqueue(2, MigrateUnmovable, AllocHighAtomic)
	b.reserveHighAtomic(pfn, 2)
	if b.ReservedHighAtomicPages() != PageblockPages || b.PageblockMT(pfn) != MigrateHighAtomic {
		t.Fatalf("reserved %d pages, pageblock %s", b.ReservedHighAtomicPages(), b.PageblockMT(pfn))
	}
	next, _ := b.Rmqueue(2, MigrateUnmovable, AllocHighAtomic)
	if next>>PageblockOrder != pfn>>PageblockOrder {
		t.Fatalf("high-order atomic page %#x not from the reserve at %#x", next, pfn)
	}
	b.reserveHighAtomic(next, 2) // the same pageblock: nothing changes
	if b.ReservedHighAtomicPages() != PageblockPages {
		t.Fatalf("reserved %d", b.ReservedHighAtomicPages())
	}
	// Ordinary allocations never touch the reserve: fill everything else.
	for {
		p, ok := b.Rmqueue(0, MigrateMovable, 0)
		if !ok {
			break
		}
		if b.PageblockMT(p) == MigrateHighAtomic {
			t.Fatalf("movable page %#x from the highatomic reserve", p)
		}
	}
	if _, ok := b.Rmqueue(0, MigrateMovable, AllocNonBlock); !ok {
		t.Fatal("a non-blocking request did not fall back on the reserve")
	}
	if !b.unreserveHighAtomic(MigrateMovable, true) || b.ReservedHighAtomicPages() != 0 {
		t.Fatalf("unreserve: %d reserved", b.ReservedHighAtomicPages())
	}
	if err := b.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}
