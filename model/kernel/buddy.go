package kernel

import (
	"fmt"
	"math"
)

// Page geometry of the modelled machine (x86-64 with 4 KiB pages).
const (
	// PageShift is PAGE_SHIFT: a page is 1 << PageShift bytes.
	PageShift = 12
	// PageSize is PAGE_SIZE in bytes.
	PageSize = 1 << PageShift
	// MaxOrder is MAX_PAGE_ORDER (include/linux/mmzone.h, Linux 6.12): the
	// largest buddy block is 1 << MaxOrder pages, 4 MiB with 4 KiB pages.
	MaxOrder = 10
	// NrOrders is NR_PAGE_ORDERS, the number of free lists per zone.
	NrOrders = MaxOrder + 1
	// MaxBlockPages is the number of pages in an order-MaxOrder block.
	MaxBlockPages = 1 << MaxOrder
)

// costlyOrder is PAGE_ALLOC_COSTLY_ORDER: larger allocations fail rather
// than retry or invoke the OOM killer.
const costlyOrder = 3

// BuddyErr is the kind of a page allocator misuse. The values are constants
// so that errors.Is works without any package-level mutable state.
type BuddyErr string

// Error implements error.
func (e BuddyErr) Error() string { return string(e) }

// Kinds of buddy allocator misuse. Each is reported inside a *PageError.
const (
	// ErrDoubleFree: the block being freed is (partly) free already.
	ErrDoubleFree BuddyErr = "double free"
	// ErrBadAlign: the PFN is not aligned to 1 << order.
	ErrBadAlign BuddyErr = "pfn not aligned to its order"
	// ErrBadOrder: the order is outside 0..MaxOrder, or the block was
	// allocated with another order.
	ErrBadOrder BuddyErr = "bad order"
	// ErrOutOfRange: the block is not inside the zone's span.
	ErrOutOfRange BuddyErr = "pfn outside the zone span"
	// ErrNotAllocated: the PFN is not the head of an allocated block (a
	// tail page, or a page the buddy allocator does not manage).
	ErrNotAllocated BuddyErr = "pfn is not the head of an allocated block"
	// ErrBusy: a range that must be free (AllocAt, RemoveRange) is not.
	ErrBusy BuddyErr = "pages in use"
	// ErrNotAbsent: AddRange was given pages the allocator already manages.
	ErrNotAbsent BuddyErr = "pages already managed"
)

// PageError says which operation on which block failed, and why (Err, one
// of the BuddyErr constants, reachable through errors.Is).
type PageError struct {
	Op    string
	PFN   int64
	Order int
	Err   BuddyErr
}

// Error implements error.
func (e *PageError) Error() string {
	return fmt.Sprintf("buddy %s pfn %#x order %d: %s", e.Op, e.PFN, e.Order, e.Err)
}

// Unwrap returns the BuddyErr kind.
func (e *PageError) Unwrap() error { return e.Err }

// Per-page states of the buddy allocator's page map.
const (
	stateTail     int8 = -1 // inside a block whose head is elsewhere
	stateAbsent   int8 = -2 // not managed: a hole, reserved or offline
	statePCP      int8 = -3 // an order-0 page parked on a per-CPU list
	stateAllocBit int8 = 64 // allocated head: stateAllocBit + order
	// A free head stores order | mt<<4 (freeState): its order and the
	// free list (migratetype) it is on, below stateAllocBit.
)

// freeState is the state of a free head of order on mt's free list.
func freeState(order int, mt Migratetype) int8 { return int8(order | int(mt)<<4) }

// isFreeState reports whether s is the state of a free head.
func isFreeState(s int8) bool { return s >= 0 && s < stateAllocBit }

// freeStateOrder and freeStateMT decode a free head's state.
func freeStateOrder(s int8) int             { return int(s & 15) }
func freeStateMT(s int8) Migratetype        { return Migratetype(s >> 4) }
func isAllocState(s int8) bool              { return s >= stateAllocBit && s <= stateAllocBit+MaxOrder }
func allocState(order int) int8             { return stateAllocBit + int8(order) }
func allocStateOrder(s int8) int            { return int(s - stateAllocBit) }
func (b *Buddy) pfnAt(idx int32) int64      { return b.startPFN + int64(idx) }
func (b *Buddy) blockOf(pfn int64) int      { return pageblockIndex(b.startPFN, pfn) }
func (b *Buddy) mtOf(pfn int64) Migratetype { return b.blockMT[b.blockOf(pfn)] }

// noPage ends a free list or an LRU list, and marks a page on none.
const noPage = int32(-1)

// Buddy is the binary buddy page allocator of one zone, modelled on
// mm/page_alloc.c (Linux 6.18): per order and migratetype a free list,
// per order a count (nr_free); allocation by __rmqueue (the requested
// type's lists first, __rmqueue_smallest, then the fallbacks[] types by
// __rmqueue_claim and __rmqueue_steal, buddy_fallback.go) and expand();
// freeing by __free_one_page with coalescing onto the free list of the
// freed page's pageblock type.
//
// Pages are identified by PFN in [StartPFN, StartPFN+Spanned). Only pages
// handed over with AddRange are managed; the others are holes. Buddies are
// found by absolute PFN (pfn ^ (1 << order)), as in the kernel, so a zone
// whose start is not aligned has smaller blocks at its edges. Pageblocks
// of PageblockPages pages (aligned by absolute PFN) carry a Migratetype;
// every free block is on the list of its pageblock's type, as
// __add_to_free_list asserts in the kernel, and a free block larger than
// a pageblock spans pageblocks of one type.
//
// Free lists keep the kernel's order (LIFO, with the buddy_merge_likely
// tail placement), so which PFN an allocation returns follows the kernel
// too. Pageblock isolation and CMA are not modelled.
//
// Memory: a state byte per spanned page and a byte per pageblock,
// allocated by NewBuddy, and the free lists' links: 8 bytes per pageblock
// and per MaxOrder block, and 8 bytes per page in the 4 MiB chunks in
// which a block smaller than a pageblock has been free, allocated when
// the first is listed there and kept. Alloc, Free and the per-order
// counts are O(MaxOrder); claiming a pageblock for another type walks its
// 512 pages.
type Buddy struct {
	startPFN int64
	spanned  int64
	managed  int64
	free     int64
	nrFree   [NrOrders]int64
	head     [NrOrders][NrMigratetypes]int32
	state    []int8
	// links are the free lists' links (next, prev) of blocks below
	// PageblockOrder, in chunks of pageChunkPages pages that exist once a
	// block in them has been free (pagetable.go); bigLinks[o] are those
	// of blocks of order o >= PageblockOrder, one per o-aligned block, by
	// idx>>o. Memory is mostly free pageblocks and MaxOrder blocks until
	// it is used (boot frees it a pageblock at a time), so the links cost
	// 24 bytes per 4 MiB until then.
	links    []*linkChunk
	bigLinks [NrOrders][][2]int32
	// blockMT is each pageblock's migratetype (the pageblock flags).
	blockMT []Migratetype
	// freeHighAtomic is nr_free_highatomic: free pages on the
	// highatomic lists, which the watermark check discounts for
	// allocations without access to reserves; reservedHighAtomic is
	// nr_reserved_highatomic, the pages of reserved pageblocks.
	freeHighAtomic, reservedHighAtomic int64
	// isLRU reports whether an allocated page is on an LRU list
	// (PageLRU), which try_to_claim_block counts as movable. Nil: none
	// is (a zone without the machine's page states).
	isLRU func(pfn int64) bool
}

// NewBuddy returns an allocator spanning spannedPages pages from startPFN,
// with no page managed yet (call AddRange, as memblock_free_all and memory
// onlining do in the kernel).
func NewBuddy(startPFN, spannedPages int64) (*Buddy, error) {
	if startPFN < 0 || spannedPages < 0 {
		return nil, fmt.Errorf("new buddy: negative start %d or span %d", startPFN, spannedPages)
	}
	if spannedPages >= math.MaxInt32 {
		return nil, fmt.Errorf("new buddy: span %d pages exceeds the model's limit %d", spannedPages, math.MaxInt32-1)
	}
	blocks := 0
	if spannedPages > 0 {
		blocks = pageblockIndex(startPFN, startPFN+spannedPages-1) + 1
	}
	b := &Buddy{
		startPFN: startPFN,
		spanned:  spannedPages,
		state:    make([]int8, spannedPages),
		links:    make([]*linkChunk, (spannedPages+pageChunkMask)>>pageChunkShift),
		blockMT:  make([]Migratetype, blocks),
	}
	for i := range b.state {
		b.state[i] = stateAbsent
	}
	for o := PageblockOrder; o <= MaxOrder; o++ {
		b.bigLinks[o] = make([][2]int32, spannedPages>>o+1)
	}
	for i := range b.blockMT {
		b.blockMT[i] = MigrateMovable
	}
	for o := range b.head {
		for mt := range b.head[o] {
			b.head[o][mt] = noPage
		}
	}
	return b, nil
}

// StartPFN is the first PFN of the span (zone_start_pfn).
func (b *Buddy) StartPFN() int64 { return b.startPFN }

// Spanned is the number of PFNs in the span (spanned_pages).
func (b *Buddy) Spanned() int64 { return b.spanned }

// Managed is the number of pages the allocator manages (managed_pages).
func (b *Buddy) Managed() int64 { return b.managed }

// FreePages is the number of free pages (NR_FREE_PAGES).
func (b *Buddy) FreePages() int64 { return b.free }

// FreeHighAtomicPages is nr_free_highatomic: the free pages held on the
// highatomic reserve's lists.
func (b *Buddy) FreeHighAtomicPages() int64 { return b.freeHighAtomic }

// ReservedHighAtomicPages is nr_reserved_highatomic: the pages of the
// pageblocks reserved for high-order atomic allocations.
func (b *Buddy) ReservedHighAtomicPages() int64 { return b.reservedHighAtomic }

// NrFree is the number of free blocks of exactly this order
// (free_area[order].nr_free), all migratetypes.
func (b *Buddy) NrFree(order int) int64 {
	if order < 0 || order > MaxOrder {
		return 0
	}
	return b.nrFree[order]
}

// NrFreeMT is the number of free blocks of exactly this order on mt's
// free list (a cell of /proc/pagetypeinfo's free pages table). It walks
// the list, as pagetypeinfo_showfree_print does: O(blocks).
func (b *Buddy) NrFreeMT(order int, mt Migratetype) int64 {
	if order < 0 || order > MaxOrder || mt >= NrMigratetypes {
		return 0
	}
	var n int64
	h := b.head[order][mt]
	for idx := h; idx != noPage; {
		n++
		if idx = b.link(idx, order)[0]; idx == h {
			break
		}
	}
	return n
}

// HasFreeMT reports whether mt's free list of this order holds a block
// (!free_area_empty).
func (b *Buddy) HasFreeMT(order int, mt Migratetype) bool {
	return order >= 0 && order <= MaxOrder && mt < NrMigratetypes && b.head[order][mt] != noPage
}

// PageblockMT returns the migratetype of pfn's pageblock
// (get_pfnblock_migratetype); pfn must lie in the span.
func (b *Buddy) PageblockMT(pfn int64) Migratetype { return b.mtOf(pfn) }

// PageblockCounts counts the pageblocks of each migratetype ("Number of
// blocks type" in /proc/pagetypeinfo), managed or not.
func (b *Buddy) PageblockCounts() [NrMigratetypes]int64 {
	var n [NrMigratetypes]int64
	for _, mt := range b.blockMT {
		n[mt]++
	}
	return n
}

// Alloc takes a block of 1 << order pages for a movable allocation
// (Rmqueue with MigrateMovable and no reserve flags). It reports false
// when no block of order or larger is free (or order is invalid).
func (b *Buddy) Alloc(order int) (pfn int64, ok bool) {
	if order >= 0 && order <= MaxOrder {
		if idx, ok := b.smallest(order, MigrateMovable); ok {
			return b.pfnAt(idx), true
		}
	}
	return b.Rmqueue(order, MigrateMovable, 0)
}

// smallest is __rmqueue_smallest: the smallest order with a free block on
// mt's list gives its first listed block, and expand() returns the upper
// halves to mt's lower lists. The block is marked allocated.
func (b *Buddy) smallest(order int, mt Migratetype) (int32, bool) {
	for o := order; o <= MaxOrder; o++ {
		idx := b.head[o][mt]
		if idx == noPage {
			continue
		}
		b.delFree(idx, o)
		b.expand(idx, order, o, mt)
		b.state[idx] = allocState(order)
		return idx, true
	}
	return 0, false
}

// expand splits the block at idx of order high down to order low, putting
// each upper half on mt's free list of its order, like expand().
func (b *Buddy) expand(idx int32, low, high int, mt Migratetype) {
	size := int32(1) << high
	for high > low {
		high--
		size >>= 1
		b.addFree(idx+size, high, mt, false)
	}
}

// Free returns the block at pfn of 1 << order pages, which must be the head
// of a block allocated with that order, and coalesces it with its free
// buddies as __free_one_page does. Misuse returns a *PageError and changes
// nothing.
func (b *Buddy) Free(pfn int64, order int) error {
	if err := b.checkAllocated("free", pfn, order); err != nil {
		return err
	}
	b.freeOne(pfn, order)
	return nil
}

// freeOne merges a validated block with its buddies and lists the result
// on the free list of its pageblock's type, like free_one_page: a block
// larger than a pageblock is freed pageblock by pageblock, each with its
// own type (split_large_buddy), and __free_one_page merges; at pageblock
// order and above a buddy of another mergeable type takes the freed
// block's type; the highatomic reserve merges with nothing else.
func (b *Buddy) freeOne(pfn int64, order int) {
	if order > PageblockOrder {
		for p := pfn; p < pfn+int64(1)<<order; p += PageblockPages {
			b.state[p-b.startPFN] = allocState(PageblockOrder)
			b.freeOneBlock(p, PageblockOrder)
		}
		return
	}
	b.freeOneBlock(pfn, order)
}

// freeOneBlock is __free_one_page for a block of at most a pageblock.
func (b *Buddy) freeOneBlock(pfn int64, order int) {
	mt := b.mtOf(pfn)
	b.state[pfn-b.startPFN] = stateTail
	var buddyPFN int64
	for order < MaxOrder {
		buddyPFN = pfn ^ (1 << order)
		if order < PageblockOrder {
			// The buddy lies in the same pageblock, so if free it is on
			// the same list: one comparison finds it.
			bi := buddyPFN - b.startPFN
			if bi < 0 || bi >= b.spanned || b.state[bi] != freeState(order, mt) {
				break
			}
			b.delFree(int32(bi), order)
			pfn &= buddyPFN
			order++
			continue
		}
		bi, ok := b.freeHeadAt(buddyPFN, order)
		if !ok {
			break
		}
		buddyMT := freeStateMT(b.state[bi])
		if order >= PageblockOrder && buddyMT != mt && (!mergeable(mt) || !mergeable(buddyMT)) {
			break
		}
		b.delFree(bi, order)
		b.state[bi] = stateTail
		if buddyMT != mt {
			b.setType(b.blockOf(buddyPFN), mt)
		}
		pfn &= buddyPFN
		order++
	}
	toTail := b.buddyMergeLikely(pfn, buddyPFN, order)
	b.addFree(int32(pfn-b.startPFN), order, mt, toTail)
}

// buddyMergeLikely reports whether the block's parent's buddy is free, in
// which case the block goes to the tail of its list so it stays free long
// enough to merge (buddy_merge_likely).
func (b *Buddy) buddyMergeLikely(pfn, buddyPFN int64, order int) bool {
	if order >= MaxOrder-1 {
		return false
	}
	higher := buddyPFN & pfn
	_, ok := b.freeHeadAt(higher^(1<<(order+1)), order+1)
	return ok
}

// freeHeadAt returns the page index of pfn when pfn lies in the span and is
// the head of a free block of exactly this order (page_is_buddy).
func (b *Buddy) freeHeadAt(pfn int64, order int) (int32, bool) {
	idx := pfn - b.startPFN
	if idx < 0 || idx >= b.spanned {
		return 0, false
	}
	s := b.state[idx]
	if !isFreeState(s) || freeStateOrder(s) != order {
		return 0, false
	}
	return int32(idx), true
}

// checkAllocated validates that pfn heads an allocated block of order.
func (b *Buddy) checkAllocated(op string, pfn int64, order int) error {
	if err := b.checkBlock(op, pfn, order); err != nil {
		return err
	}
	s := b.state[pfn-b.startPFN]
	switch {
	case s == allocState(order):
		return nil
	case s == statePCP:
		return &PageError{op, pfn, order, ErrDoubleFree}
	case isAllocState(s):
		return &PageError{op, pfn, order, ErrBadOrder}
	}
	if _, _, free := b.freeBlockContaining(pfn); free {
		return &PageError{op, pfn, order, ErrDoubleFree}
	}
	return &PageError{op, pfn, order, ErrNotAllocated}
}

// checkBlock validates order, alignment and span of a block.
func (b *Buddy) checkBlock(op string, pfn int64, order int) error {
	if order < 0 || order > MaxOrder {
		return &PageError{op, pfn, order, ErrBadOrder}
	}
	if pfn&(1<<order-1) != 0 {
		return &PageError{op, pfn, order, ErrBadAlign}
	}
	if pfn < b.startPFN || pfn+1<<order > b.startPFN+b.spanned {
		return &PageError{op, pfn, order, ErrOutOfRange}
	}
	return nil
}

// freeBlockContaining finds the free block that holds pfn, if any, by
// testing the one candidate head per order.
func (b *Buddy) freeBlockContaining(pfn int64) (headPFN int64, order int, ok bool) {
	for o := 0; o <= MaxOrder; o++ {
		h := pfn &^ (1<<o - 1)
		if h < b.startPFN {
			break
		}
		if _, free := b.freeHeadAt(h, o); free {
			return h, o, true
		}
	}
	return 0, 0, false
}

// addFree puts the block at idx on mt's free list of order, at the head
// (the kernel's default) or the tail, and counts it (account_freepages).
func (b *Buddy) addFree(idx int32, order int, mt Migratetype, toTail bool) {
	b.state[idx] = freeState(order, mt)
	b.nrFree[order]++
	b.free += 1 << order
	if mt == MigrateHighAtomic {
		b.freeHighAtomic += 1 << order
	}
	h := b.head[order][mt]
	l := b.link(idx, order)
	if h == noPage {
		*l = [2]int32{idx, idx}
		b.head[order][mt] = idx
		return
	}
	// The list is circular: head's prev is the tail.
	hl := b.link(h, order)
	tail := hl[1]
	*l = [2]int32{h, tail}
	b.link(tail, order)[0], hl[1] = idx, idx
	if !toTail {
		b.head[order][mt] = idx
	}
}

// linkChunk holds the free-list links (next, prev) of a chunk's pages.
type linkChunk [pageChunkPages][2]int32

// link returns the free-list links (next, prev) of the block at idx of
// order, creating its chunk's links on first use.
func (b *Buddy) link(idx int32, order int) *[2]int32 {
	if order >= PageblockOrder {
		return &b.bigLinks[order][idx>>order]
	}
	c := b.links[idx>>pageChunkShift]
	if c == nil {
		c = new(linkChunk)
		b.links[idx>>pageChunkShift] = c
	}
	return &c[idx&pageChunkMask]
}

// peekLink returns the links of the block at idx of order for a check,
// without creating anything: (noPage, noPage) where none were written.
func (b *Buddy) peekLink(idx int32, order int) (next, prev int32) {
	if idx < 0 || int64(idx) >= b.spanned || order < 0 || order > MaxOrder {
		return noPage, noPage
	}
	if order >= PageblockOrder {
		l := b.bigLinks[order][idx>>order]
		return l[0], l[1]
	}
	if c := b.links[idx>>pageChunkShift]; c != nil {
		return c[idx&pageChunkMask][0], c[idx&pageChunkMask][1]
	}
	return noPage, noPage
}

// delFree unlinks the free block at idx of order from the list its state
// names, uncounts it and returns the list's type; the caller sets the
// block's new state.
func (b *Buddy) delFree(idx int32, order int) Migratetype {
	mt := freeStateMT(b.state[idx])
	l := b.link(idx, order)
	n, p := l[0], l[1]
	if n == idx {
		b.head[order][mt] = noPage
	} else {
		b.link(p, order)[0], b.link(n, order)[1] = n, p
		if b.head[order][mt] == idx {
			b.head[order][mt] = n
		}
	}
	b.nrFree[order]--
	b.free -= 1 << order
	if mt == MigrateHighAtomic {
		b.freeHighAtomic -= 1 << order
	}
	b.state[idx] = stateTail
	return mt
}
