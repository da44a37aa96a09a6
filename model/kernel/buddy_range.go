package kernel

// This file holds the buddy allocator's operations on given page ranges:
// taking a specific block (memory offlining, poisoning), handing pages
// to it and taking them back (memory hotplug), and splitting allocated
// blocks.

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
		// lies inside one free block of at least its order, unless it
		// spans pageblocks whose types do not merge (the highatomic
		// reserve), which AllocAt reports as busy.
		return &PageError{"alloc_at", pfn, order, ErrBusy}
	}
	b.takeOut(h, o, pfn, order)
	b.state[pfn-b.startPFN] = allocState(order)
	return nil
}

// takeOut removes the free block (h, o) and frees back every part of it
// but the target block (pfn, order), like break_down_buddy_pages: the
// parts go back on the list the block was on.
func (b *Buddy) takeOut(h int64, o int, pfn int64, order int) {
	mt := b.delFree(int32(h-b.startPFN), o)
	for o > order {
		o--
		half := int64(1) << o
		if pfn >= h+half {
			b.addFree(int32(h-b.startPFN), o, mt, false)
			h += half
		} else {
			b.addFree(int32(h+half-b.startPFN), o, mt, false)
		}
	}
}

// AddRange hands n absent pages from pfn to the allocator, freeing them in
// the largest aligned blocks and coalescing with free neighbours, as
// memblock_free_all and online_pages do via __free_pages_core. Their
// pageblocks become movable first, as memmap_init_range initialises them.
// Managed grows by n.
func (b *Buddy) AddRange(pfn, n int64) error {
	if err := b.checkRange("add_range", pfn, n); err != nil {
		return err
	}
	for i := pfn - b.startPFN; i < pfn-b.startPFN+n; i++ {
		if b.state[i] != stateAbsent {
			return &PageError{"add_range", b.startPFN + i, 0, ErrNotAbsent}
		}
	}
	if n > 0 {
		for k := b.blockOf(pfn); k <= b.blockOf(pfn+n-1); k++ {
			b.setBlockMT(k, MigrateMovable)
		}
	}
	for p, end := pfn, pfn+n; p < end; {
		o := largestOrder(p, end-p)
		i := p - b.startPFN
		for j := i + 1; j < i+1<<o; j++ {
			b.state[j] = stateTail
		}
		b.state[i] = allocState(o)
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
		b.state[i] = allocState(0)
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
	b.state[pfn-b.startPFN] = allocState(0)
}

// IsFree reports whether pfn lies in a free block.
func (b *Buddy) IsFree(pfn int64) bool {
	if pfn < b.startPFN || pfn >= b.startPFN+b.spanned {
		return false
	}
	_, _, ok := b.freeBlockContaining(pfn)
	return ok
}

// freeRun frees 1 << order allocated order-0 pages from the aligned pfn,
// which were one block before Split, as the block they were (freeing a
// THP folio that was mapped as base pages in the model).
func (b *Buddy) freeRun(pfn int64, order int) error {
	if err := b.checkBlock("free_run", pfn, order); err != nil {
		return err
	}
	for i := pfn - b.startPFN; i < pfn-b.startPFN+1<<order; i++ {
		if b.state[i] != allocState(0) {
			return &PageError{"free_run", b.startPFN + i, 0, ErrNotAllocated}
		}
	}
	for i := pfn - b.startPFN + 1; i < pfn-b.startPFN+1<<order; i++ {
		b.state[i] = stateTail
	}
	b.state[pfn-b.startPFN] = allocState(order)
	b.freeOne(pfn, order)
	return nil
}
