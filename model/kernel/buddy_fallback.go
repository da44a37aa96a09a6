package kernel

// This file is the buddy allocator's migratetype machinery (mm/page_alloc.c,
// Linux 6.18): __rmqueue with its fallbacks to other types' free lists
// (__rmqueue_claim with try_to_claim_block, __rmqueue_steal, introduced in
// 6.15), moving a pageblock's free pages to another type
// (__move_freepages_block), and the highatomic reserve
// (reserve_highatomic_pageblock, unreserve_highatomic_pageblock).

// rmqueueMode is enum rmqueue_mode: where rmqueue_bulk found pages last,
// so that the next page of the same bulk skips the searches that failed.
type rmqueueMode int

const (
	rmqueueNormal rmqueueMode = iota
	rmqueueClaim
	rmqueueSteal
)

// Rmqueue takes a block of 1 << order pages for an allocation of type mt
// with the allocator flags flags, as rmqueue_buddy does: a high-order
// atomic allocation (AllocHighAtomic) tries the highatomic reserve first;
// then __rmqueue (mt's own lists, then claiming or stealing from the
// fallbacks[] types); an allocation that may not block or an OOM victim
// (AllocNonBlock, AllocOOM) takes from the highatomic reserve as a last
// resort. It reports false when nothing fits. Watermarks are the
// caller's business.
func (b *Buddy) Rmqueue(order int, mt Migratetype, flags AllocFlags) (pfn int64, ok bool) {
	if order < 0 || order > MaxOrder || mt >= migratePCPTypes {
		return 0, false
	}
	if flags&AllocHighAtomic == 0 {
		if idx, ok := b.smallest(order, mt); ok { // the common case first
			return b.pfnAt(idx), true
		}
	}
	mode := rmqueueNormal
	return b.rmqueue(order, mt, flags, &mode)
}

// rmqueue is Rmqueue with rmqueue_bulk's remembered mode.
func (b *Buddy) rmqueue(order int, mt Migratetype, flags AllocFlags, mode *rmqueueMode) (int64, bool) {
	if flags&AllocHighAtomic != 0 {
		if idx, ok := b.smallest(order, MigrateHighAtomic); ok {
			return b.pfnAt(idx), true
		}
	}
	if idx, ok := b.rmqueueFallback(order, mt, mode); ok {
		return b.pfnAt(idx), true
	}
	if flags&(AllocOOM|AllocNonBlock) != 0 {
		if idx, ok := b.smallest(order, MigrateHighAtomic); ok {
			return b.pfnAt(idx), true
		}
	}
	return 0, false
}

// rmqueueFallback is __rmqueue without CMA: the requested type's lists,
// then claiming a fallback type's pageblock, then stealing from one,
// starting at the mode that found pages last (and remembering it). The
// model never sets ALLOC_NOFRAGMENT: its zones have no ZONE_DMA32 next to
// ZONE_NORMAL for alloc_flags_nofragment to spread to, and within one
// zone the flag only reorders the same search.
func (b *Buddy) rmqueueFallback(order int, mt Migratetype, mode *rmqueueMode) (int32, bool) {
	if *mode == rmqueueNormal {
		if idx, ok := b.smallest(order, mt); ok {
			return idx, true
		}
	}
	if *mode <= rmqueueClaim {
		if idx, ok := b.claim(order, mt); ok {
			*mode = rmqueueNormal // the preferred lists are replenished
			return idx, true
		}
	}
	if idx, ok := b.steal(order, mt); ok {
		*mode = rmqueueSteal
		return idx, true
	}
	return 0, false
}

// findSuitableFallback is find_suitable_fallback: the first type of
// fallbacks[mt] with a free block of order, or -1; with claimable, -2
// when a block of order is not worth claiming (should_try_claim_block).
func (b *Buddy) findSuitableFallback(order int, mt Migratetype, claimable bool) int {
	if claimable && !shouldTryClaimBlock(order, mt) {
		return -2
	}
	if b.nrFree[order] == 0 {
		return -1
	}
	for _, fb := range fallbacks[mt] {
		if b.head[order][fb] != noPage {
			return int(fb)
		}
	}
	return -1
}

// claim is __rmqueue_claim: from the largest order down, the first
// fallback block whose pageblock try_to_claim_block can claim for mt
// gives the pages. The largest free block roughly stands for the
// pageblock with the most free pages.
func (b *Buddy) claim(order int, mt Migratetype) (int32, bool) {
	for co := MaxOrder; co >= order; co-- {
		fb := b.findSuitableFallback(co, mt, true)
		if fb == -1 {
			continue
		}
		if fb == -2 {
			break
		}
		idx := b.head[co][fb]
		if got, ok := b.tryToClaimBlock(idx, co, order, mt, Migratetype(fb)); ok {
			return got, true
		}
	}
	return 0, false
}

// tryToClaimBlock is try_to_claim_block: a free block of a pageblock or
// more becomes the requester's type whole; a smaller one claims its
// pageblock only when at least half of the pageblock is free or holds
// pages compatible with the request (movable pages for a movable
// request; for an unmovable or reclaimable request falling back to a
// movable block, the pages that are neither free nor movable). Claiming
// moves the pageblock's free pages to the requester's lists. The
// watermark boost of boost_watermark is not modelled (doc.go).
func (b *Buddy) tryToClaimBlock(idx int32, co, order int, start, blockType Migratetype) (int32, bool) {
	if co >= PageblockOrder {
		b.delFree(idx, co)
		b.changePageblockRange(b.pfnAt(idx), co, start)
		b.expand(idx, order, co, start)
		b.state[idx] = allocState(order)
		return idx, true
	}
	blockStart := b.pfnAt(idx) &^ (PageblockPages - 1)
	if blockStart < b.startPFN || blockStart+PageblockPages > b.startPFN+b.spanned {
		return 0, false // prep_move_freepages_block: the block straddles the zone's edge
	}
	free, movable := b.countBlock(blockStart)
	alike := 0
	switch {
	case start == MigrateMovable:
		alike = movable
	case blockType == MigrateMovable:
		alike = PageblockPages - (free + movable)
	}
	if free+alike < PageblockPages/2 {
		return 0, false
	}
	b.setBlockMT(b.blockOf(blockStart), start)
	return b.smallest(order, start)
}

// countBlock is prep_move_freepages_block's count over the pageblock at
// start: its free pages, and its allocated pages on an LRU list (which
// the kernel assumes could be isolated for migration).
func (b *Buddy) countBlock(start int64) (free, movable int) {
	for pfn := start; pfn < start+PageblockPages; {
		s := b.state[pfn-b.startPFN]
		if isFreeState(s) {
			n := int64(1) << freeStateOrder(s)
			free += int(n)
			pfn += n
			continue
		}
		if b.isLRU != nil && (isAllocState(s) || s == stateTail) && b.isLRU(pfn) {
			movable++
		}
		pfn++
	}
	return free, movable
}

// moveFreepagesBlock is __move_freepages_block: every free block inside
// the pageblock at start moves to mt's list of its order. The caller sets
// the pageblock's type.
func (b *Buddy) moveFreepagesBlock(start int64, mt Migratetype) int64 {
	var moved int64
	lo := max(start, b.startPFN)
	hi := min(start+PageblockPages, b.startPFN+b.spanned)
	for pfn := lo; pfn < hi; {
		idx := int32(pfn - b.startPFN)
		s := b.state[idx]
		if !isFreeState(s) {
			pfn++
			continue
		}
		o := freeStateOrder(s)
		if freeStateMT(s) != mt {
			b.delFree(idx, o)
			b.addFree(idx, o, mt, false)
		}
		moved += 1 << o
		pfn += 1 << o
	}
	return moved
}

// setBlockMT gives pageblock k the type mt, moving its free pages along
// (move_freepages_block). No free block larger than a pageblock may cover
// it.
func (b *Buddy) setBlockMT(k int, mt Migratetype) {
	start := (b.startPFN>>PageblockOrder + int64(k)) << PageblockOrder
	b.moveFreepagesBlock(start, mt)
	b.setType(k, mt)
}

// setType is set_pageblock_migratetype for pageblock k, keeping
// nr_reserved_highatomic equal to the pages of the highatomic pageblocks
// (what reserve_highatomic_pageblock and
// unreserve_highatomic_pageblock add and subtract).
func (b *Buddy) setType(k int, mt Migratetype) {
	old := b.blockMT[k]
	if old == MigrateHighAtomic && mt != MigrateHighAtomic {
		b.reservedHighAtomic -= PageblockPages
	} else if mt == MigrateHighAtomic && old != MigrateHighAtomic {
		b.reservedHighAtomic += PageblockPages
	}
	b.blockMT[k] = mt
}

// changePageblockRange is change_pageblock_range: the pageblocks of a
// block of order >= PageblockOrder at pfn take the type mt.
func (b *Buddy) changePageblockRange(pfn int64, order int, mt Migratetype) {
	for k := range 1 << (order - PageblockOrder) {
		b.setType(b.blockOf(pfn)+k, mt)
	}
}

// steal is __rmqueue_steal: the smallest fallback block of order or more
// gives the pages, and the rest of it stays free on its own type's lists,
// in a pageblock that now mixes types.
func (b *Buddy) steal(order int, mt Migratetype) (int32, bool) {
	for co := order; co <= MaxOrder; co++ {
		fb := b.findSuitableFallback(co, mt, false)
		if fb == -1 {
			continue
		}
		idx := b.head[co][fb]
		b.delFree(idx, co)
		b.expand(idx, order, co, Migratetype(fb))
		b.state[idx] = allocState(order)
		return idx, true
	}
	return 0, false
}

// reserveHighAtomic is reserve_highatomic_pageblock for a high-order
// atomic allocation just made at pfn: its pageblock (or, for a block of
// pageblock order or more, its pageblocks) joins the highatomic reserve,
// which may hold about 1% of the zone (at least one pageblock; none when
// 1% is less than a pageblock).
func (b *Buddy) reserveHighAtomic(pfn int64, order int) {
	maxManaged := b.managed / 100
	if maxManaged < PageblockPages {
		return
	}
	maxManaged = (maxManaged + PageblockPages - 1) &^ (PageblockPages - 1)
	if b.reservedHighAtomic >= maxManaged || !mergeable(b.mtOf(pfn)) {
		return
	}
	if order < PageblockOrder {
		start := pfn &^ (PageblockPages - 1)
		if start < b.startPFN || start+PageblockPages > b.startPFN+b.spanned {
			return
		}
		b.setBlockMT(b.blockOf(start), MigrateHighAtomic)
		return
	}
	b.changePageblockRange(pfn, order, MigrateHighAtomic)
}

// unreserveHighAtomic is unreserve_highatomic_pageblock for one zone:
// unless force, a zone keeps at least one reserved pageblock; otherwise
// the pageblock of the smallest free highatomic block goes back to the
// allocation's type mt (setType keeps nr_reserved_highatomic). It
// reports whether it released one.
func (b *Buddy) unreserveHighAtomic(mt Migratetype, force bool) bool {
	if !force && b.reservedHighAtomic <= PageblockPages {
		return false
	}
	for o := 0; o <= MaxOrder; o++ {
		idx := b.head[o][MigrateHighAtomic]
		if idx == noPage {
			continue
		}
		pfn := b.pfnAt(idx)
		if o < PageblockOrder {
			b.setBlockMT(b.blockOf(pfn), mt)
		} else {
			b.delFree(idx, o)
			b.changePageblockRange(pfn, o, mt)
			b.addFree(idx, o, mt, false)
		}
		return true
	}
	return false
}

// isolateFree is __isolate_free_page for compaction's free scanner: the
// free block at pfn of order leaves the free lists as an allocated block
// of that order. A block of at least half a pageblock turns its
// pageblocks of mergeable types movable (so that what migrates into it
// stays grouped). The caller has checked the watermark.
func (b *Buddy) isolateFree(pfn int64, order int) {
	idx := int32(pfn - b.startPFN)
	b.delFree(idx, order)
	b.state[idx] = allocState(order)
	if order < PageblockOrder-1 {
		return
	}
	for p := pfn; p < pfn+int64(1)<<order-1; p += PageblockPages {
		if k := b.blockOf(p); mergeable(b.blockMT[k]) && b.blockMT[k] != MigrateMovable {
			b.setBlockMT(k, MigrateMovable)
		}
	}
}

// splitAllocated turns the allocated block at pfn of order into two
// allocated blocks of order-1, as compaction_alloc does when it hands
// out the lower half of an isolated free block.
func (b *Buddy) splitAllocated(pfn int64, order int) {
	b.state[pfn-b.startPFN] = allocState(order - 1)
	b.state[pfn+int64(1)<<(order-1)-b.startPFN] = allocState(order - 1)
}
