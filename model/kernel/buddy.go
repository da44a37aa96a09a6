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
	stateAllocBit int8 = 16 // allocated head: stateAllocBit + order
	// A free head stores its order, 0..MaxOrder.
)

// noPage ends a free list or an LRU list, and marks a page on none.
const noPage = int32(-1)

// Buddy is the binary buddy page allocator of one zone, modelled on
// mm/page_alloc.c (Linux 6.12): one free area per order with a count
// (nr_free) and a free list, allocation by __rmqueue_smallest and expand(),
// freeing by __free_one_page with coalescing.
//
// Pages are identified by PFN in [StartPFN, StartPFN+Spanned). Only pages
// handed over with AddRange are managed; the others are holes. Buddies are
// found by absolute PFN (pfn ^ (1 << order)), as in the kernel, so a zone
// whose start is not aligned has smaller blocks at its edges.
//
// Migratetypes are not modelled: there is one free list per order, as if
// every pageblock were MIGRATE_MOVABLE; pageblock isolation, CMA and the
// highatomic reserve are absent. Free lists keep the kernel's order
// (LIFO, with the buddy_merge_likely tail placement), so which PFN an
// allocation returns follows the kernel too.
//
// Memory: 9 bytes per spanned page (a state byte and two int32 links),
// allocated once by NewBuddy; no operation allocates afterwards. Alloc,
// Free and the per-order counts are O(MaxOrder).
type Buddy struct {
	startPFN int64
	spanned  int64
	managed  int64
	free     int64
	nrFree   [NrOrders]int64
	head     [NrOrders]int32
	state    []int8
	next     []int32
	prev     []int32
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
	b := &Buddy{
		startPFN: startPFN,
		spanned:  spannedPages,
		state:    make([]int8, spannedPages),
		next:     make([]int32, spannedPages),
		prev:     make([]int32, spannedPages),
	}
	for i := range b.state {
		b.state[i] = stateAbsent
	}
	for o := range b.head {
		b.head[o] = noPage
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

// NrFree is the number of free blocks of exactly this order
// (free_area[order].nr_free).
func (b *Buddy) NrFree(order int) int64 {
	if order < 0 || order > MaxOrder {
		return 0
	}
	return b.nrFree[order]
}

// Alloc takes a block of 1 << order pages, as __rmqueue_smallest: the
// smallest order with a free block gives its first listed block, and
// expand() returns the upper halves to the lower free lists. It reports
// false when no block of order or larger is free (or order is invalid).
func (b *Buddy) Alloc(order int) (pfn int64, ok bool) {
	if order < 0 || order > MaxOrder {
		return 0, false
	}
	for o := order; o <= MaxOrder; o++ {
		idx := b.head[o]
		if idx == noPage {
			continue
		}
		b.delFree(idx, o)
		b.expand(idx, order, o)
		b.state[idx] = stateAllocBit + int8(order)
		return b.startPFN + int64(idx), true
	}
	return 0, false
}

// expand splits the block at idx of order high down to order low, putting
// each upper half on the free list of its order, like expand().
func (b *Buddy) expand(idx int32, low, high int) {
	size := int32(1) << high
	for high > low {
		high--
		size >>= 1
		b.addFree(idx+size, high, false)
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

// freeOne merges a validated block with its buddies and lists the result,
// like __free_one_page (the caller has checked the block).
func (b *Buddy) freeOne(pfn int64, order int) {
	b.state[pfn-b.startPFN] = stateTail
	var buddyPFN int64
	for order < MaxOrder {
		buddyPFN = pfn ^ (1 << order)
		bi, ok := b.freeHeadAt(buddyPFN, order)
		if !ok {
			break
		}
		b.delFree(bi, order)
		b.state[bi] = stateTail
		pfn &= buddyPFN
		order++
	}
	toTail := b.buddyMergeLikely(pfn, buddyPFN, order)
	b.addFree(int32(pfn-b.startPFN), order, toTail)
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
	if idx < 0 || idx >= b.spanned || b.state[idx] != int8(order) {
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
	case s == stateAllocBit+int8(order):
		return nil
	case s == statePCP:
		return &PageError{op, pfn, order, ErrDoubleFree}
	case s >= stateAllocBit:
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

// addFree puts the block at idx on the free list of order, at the head
// (the kernel's default) or the tail, and counts it.
func (b *Buddy) addFree(idx int32, order int, toTail bool) {
	b.state[idx] = int8(order)
	b.nrFree[order]++
	b.free += 1 << order
	h := b.head[order]
	if h == noPage {
		b.next[idx], b.prev[idx] = idx, idx
		b.head[order] = idx
		return
	}
	// The list is circular: head's prev is the tail.
	tail := b.prev[h]
	b.next[idx], b.prev[idx] = h, tail
	b.next[tail], b.prev[h] = idx, idx
	if !toTail {
		b.head[order] = idx
	}
}

// delFree unlinks the free block at idx from its list and uncounts it; the
// caller sets its new state.
func (b *Buddy) delFree(idx int32, order int) {
	n, p := b.next[idx], b.prev[idx]
	if n == idx {
		b.head[order] = noPage
	} else {
		b.next[p], b.prev[n] = n, p
		if b.head[order] == idx {
			b.head[order] = n
		}
	}
	b.nrFree[order]--
	b.free -= 1 << order
	b.state[idx] = stateTail
}

// AllocAt takes the specific block [pfn, pfn + 1<<order), which must be
// entirely free, splitting the free block that holds it and returning the
// rest to the free lists (as take_page_off_buddy and
// break_down_buddy_pages do for memory offlining and poisoning).
func (b *Buddy) AllocAt(pfn int64, order int) error {
	if err := b.checkBlock("alloc_at", pfn, order); err != nil {
		return err
	}
	h, o, ok := b.freeBlockContaining(pfn)
	if !ok || o < order {
		// Coalescing is complete, so an entirely free aligned block
		// always lies inside one free block of at least its order.
		return &PageError{"alloc_at", pfn, order, ErrBusy}
	}
	b.takeOut(h, o, pfn, order)
	b.state[pfn-b.startPFN] = stateAllocBit + int8(order)
	return nil
}

// takeOut removes the free block (h, o) and frees back every part of it
// but the target block (pfn, order), like break_down_buddy_pages.
func (b *Buddy) takeOut(h int64, o int, pfn int64, order int) {
	b.delFree(int32(h-b.startPFN), o)
	for o > order {
		o--
		half := int64(1) << o
		if pfn >= h+half {
			b.addFree(int32(h-b.startPFN), o, false)
			h += half
		} else {
			b.addFree(int32(h+half-b.startPFN), o, false)
		}
	}
}

// AddRange hands n absent pages from pfn to the allocator, freeing them in
// the largest aligned blocks and coalescing with free neighbours, as
// memblock_free_all and online_pages do via __free_pages_core. Managed
// grows by n.
func (b *Buddy) AddRange(pfn, n int64) error {
	if err := b.checkRange("add_range", pfn, n); err != nil {
		return err
	}
	for i := pfn - b.startPFN; i < pfn-b.startPFN+n; i++ {
		if b.state[i] != stateAbsent {
			return &PageError{"add_range", b.startPFN + i, 0, ErrNotAbsent}
		}
	}
	for p, end := pfn, pfn+n; p < end; {
		o := largestOrder(p, end-p)
		i := p - b.startPFN
		for j := i + 1; j < i+1<<o; j++ {
			b.state[j] = stateTail
		}
		b.state[i] = stateAllocBit + int8(o)
		b.managed += 1 << o
		b.freeOne(p, o)
		p += 1 << o
	}
	return nil
}

// RemoveRange takes n free pages from pfn out of the allocator (memory
// going offline, or reserved): all of them must be free, otherwise nothing
// changes and the error is ErrBusy. Managed shrinks by n.
func (b *Buddy) RemoveRange(pfn, n int64) error {
	if err := b.checkRange("remove_range", pfn, n); err != nil {
		return err
	}
	for p, end := pfn, pfn+n; p < end; {
		h, o, ok := b.freeBlockContaining(p)
		if !ok {
			return &PageError{"remove_range", p, 0, ErrBusy}
		}
		p = h + 1<<o
	}
	for p, end := pfn, pfn+n; p < end; {
		o := largestOrder(p, end-p)
		h, ho, _ := b.freeBlockContaining(p)
		if ho < o {
			o = ho // p is a free head, possibly of a smaller block
		}
		b.takeOut(h, ho, p, o)
		for i := p - b.startPFN; i < p-b.startPFN+1<<o; i++ {
			b.state[i] = stateAbsent
		}
		b.managed -= 1 << o
		p += 1 << o
	}
	return nil
}

// checkRange validates a page range against the span.
func (b *Buddy) checkRange(op string, pfn, n int64) error {
	if n < 0 || pfn < b.startPFN || pfn+n > b.startPFN+b.spanned {
		return &PageError{op, pfn, 0, ErrOutOfRange}
	}
	return nil
}

// largestOrder is the largest order of a block aligned at pfn that fits in
// n > 0 pages.
func largestOrder(pfn, n int64) int {
	o := 0
	for o < MaxOrder && pfn&(1<<(o+1)-1) == 0 && int64(1)<<(o+1) <= n {
		o++
	}
	return o
}

// Split turns an allocated block of order into 1 << order allocated order-0
// pages that are freed one by one, like split_page.
func (b *Buddy) Split(pfn int64, order int) error {
	if err := b.checkAllocated("split", pfn, order); err != nil {
		return err
	}
	for i := pfn - b.startPFN; i < pfn-b.startPFN+1<<order; i++ {
		b.state[i] = stateAllocBit
	}
	return nil
}

// toPCP marks an allocated order-0 page as parked on a per-CPU list.
func (b *Buddy) toPCP(pfn int64) error {
	if err := b.checkAllocated("pcp_free", pfn, 0); err != nil {
		return err
	}
	b.state[pfn-b.startPFN] = statePCP
	return nil
}

// markPCP marks a page the buddy allocator just handed out as parked on a
// per-CPU list.
func (b *Buddy) markPCP(pfn int64) {
	b.state[pfn-b.startPFN] = statePCP
}

// fromPCP marks a page taken off a per-CPU list as allocated again.
func (b *Buddy) fromPCP(pfn int64) {
	b.state[pfn-b.startPFN] = stateAllocBit
}

// IsFree reports whether pfn lies in a free block.
func (b *Buddy) IsFree(pfn int64) bool {
	if pfn < b.startPFN || pfn >= b.startPFN+b.spanned {
		return false
	}
	_, _, ok := b.freeBlockContaining(pfn)
	return ok
}

// CheckInvariants walks the whole allocator in O(spanned) and returns the
// first broken invariant: every free list is well linked, holds aligned
// free heads of its order and matches nr_free; blocks tile the span without
// overlap; free + allocated = managed; and coalescing is complete (no free
// block has a free buddy of the same order). It is for tests and
// `sbmpsim check`, not for the simulation's hot path.
func (b *Buddy) CheckInvariants() error {
	for o := 0; o <= MaxOrder; o++ {
		if err := b.checkList(o); err != nil {
			return err
		}
	}
	var free, used, absent int64
	for i := int64(0); i < b.spanned; {
		size, err := b.checkBlockAt(i)
		if err != nil {
			return err
		}
		switch s := b.state[i]; {
		case s == stateAbsent:
			absent++
		case s >= 0 && s <= MaxOrder:
			free += size
		default:
			used += size
		}
		i += size
	}
	if free != b.free || free+used != b.managed || absent != b.spanned-b.managed {
		return fmt.Errorf("buddy: counted free %d used %d absent %d, want free %d managed %d spanned %d",
			free, used, absent, b.free, b.managed, b.spanned)
	}
	return nil
}

// checkList checks one free list's links, members and count.
func (b *Buddy) checkList(o int) error {
	h := b.head[o]
	var n int64
	for idx := h; idx != noPage; {
		if n > b.spanned || b.state[idx] != int8(o) || b.next[b.prev[idx]] != idx {
			return fmt.Errorf("buddy: free list %d broken at pfn %#x", o, b.startPFN+int64(idx))
		}
		n++
		if idx = b.next[idx]; idx == h {
			break
		}
	}
	if n != b.nrFree[o] {
		return fmt.Errorf("buddy: free list %d has %d blocks, nr_free %d", o, n, b.nrFree[o])
	}
	return nil
}

// checkBlockAt checks the block (or absent page) starting at index i and
// returns its size in pages.
func (b *Buddy) checkBlockAt(i int64) (int64, error) {
	s := b.state[i]
	pfn := b.startPFN + i
	var o int
	switch {
	case s == stateAbsent || s == statePCP:
		return 1, nil
	case s >= 0 && s <= MaxOrder:
		o = int(s)
		if o < MaxOrder && b.IsFreeHead(pfn^(1<<o), o) {
			return 0, fmt.Errorf("buddy: free block pfn %#x order %d not merged with its free buddy", pfn, o)
		}
	case s >= stateAllocBit && s <= stateAllocBit+MaxOrder:
		o = int(s - stateAllocBit)
	default:
		return 0, fmt.Errorf("buddy: pfn %#x is a tail page outside any block", pfn)
	}
	size := int64(1) << o
	if pfn&(size-1) != 0 || i+size > b.spanned {
		return 0, fmt.Errorf("buddy: block pfn %#x order %d misaligned or outside the span", pfn, o)
	}
	for j := i + 1; j < i+size; j++ {
		if b.state[j] != stateTail {
			return 0, fmt.Errorf("buddy: block pfn %#x order %d overlaps pfn %#x", pfn, o, b.startPFN+j)
		}
	}
	return size, nil
}

// IsFreeHead reports whether pfn is the head of a free block of exactly
// this order.
func (b *Buddy) IsFreeHead(pfn int64, order int) bool {
	_, ok := b.freeHeadAt(pfn, order)
	return ok
}
