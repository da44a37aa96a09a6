package kernel

import "fmt"

// CheckInvariants walks the whole allocator in O(spanned) and returns the
// first broken invariant: every free list is well linked, holds aligned
// free heads of its order and type and matches nr_free; every free block
// is on the list of its pageblock's migratetype, and a free block larger
// than a pageblock spans pageblocks of that one type (what
// __add_to_free_list and move_to_free_list assert in the kernel); blocks
// tile the span without overlap; free + allocated = managed; the
// highatomic counters match the reserved pageblocks and their free
// pages; and coalescing is complete (no free block has a free buddy of
// the same order it could merge with). It is for tests and `sbmpsim
// check`, not for the simulation's hot path.
func (b *Buddy) CheckInvariants() error {
	for o := 0; o <= MaxOrder; o++ {
		if err := b.checkList(o); err != nil {
			return err
		}
	}
	var free, used, absent, freeHA int64
	for i := int64(0); i < b.spanned; {
		size, err := b.checkBlockAt(i)
		if err != nil {
			return err
		}
		switch s := b.state[i]; {
		case s == stateAbsent:
			absent++
		case isFreeState(s):
			free += size
			if freeStateMT(s) == MigrateHighAtomic {
				freeHA += size
			}
		default:
			used += size
		}
		i += size
	}
	if free != b.free || free+used != b.managed || absent != b.spanned-b.managed {
		return fmt.Errorf("buddy: counted free %d used %d absent %d, want free %d managed %d spanned %d",
			free, used, absent, b.free, b.managed, b.spanned)
	}
	if reserved := b.PageblockCounts()[MigrateHighAtomic] * PageblockPages; freeHA != b.freeHighAtomic || reserved != b.reservedHighAtomic {
		return fmt.Errorf("buddy: highatomic free %d reserved %d pages, counters say %d and %d", freeHA, reserved, b.freeHighAtomic, b.reservedHighAtomic)
	}
	return nil
}

// checkList checks the free lists of order o: links, members, and that
// they hold nr_free blocks together.
func (b *Buddy) checkList(o int) error {
	var total int64
	for mt := range NrMigratetypes {
		h := b.head[o][mt]
		var n int64
		for idx := h; idx != noPage; {
			next, prev := b.peekLink(idx, o)
			if pn, _ := b.peekLink(prev, o); n > b.spanned || b.state[idx] != freeState(o, mt) || pn != idx {
				return fmt.Errorf("buddy: free list %d %s broken at pfn %#x", o, mt, b.startPFN+int64(idx))
			}
			n++
			if idx = next; idx == h {
				break
			}
		}
		total += n
	}
	if total != b.nrFree[o] {
		return fmt.Errorf("buddy: free lists of order %d hold %d blocks, nr_free %d", o, total, b.nrFree[o])
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
	case isFreeState(s):
		o = freeStateOrder(s)
		if err := b.checkFreeBlock(pfn, o, freeStateMT(s)); err != nil {
			return 0, err
		}
	case isAllocState(s):
		o = allocStateOrder(s)
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

// checkFreeBlock checks that the free block at pfn of order, on mt's
// list, lies in pageblocks of type mt and has no free buddy it should
// have merged with.
func (b *Buddy) checkFreeBlock(pfn int64, o int, mt Migratetype) error {
	for p := pfn; p < pfn+int64(1)<<o; p += PageblockPages {
		if got := b.mtOf(p); got != mt {
			return fmt.Errorf("buddy: free block pfn %#x order %d is on the %s list in a %s pageblock", pfn, o, mt, got)
		}
	}
	if o == MaxOrder {
		return nil
	}
	bi, ok := b.freeHeadAt(pfn^(1<<o), o)
	if !ok {
		return nil
	}
	if bmt := freeStateMT(b.state[bi]); o >= PageblockOrder && bmt != mt && (!mergeable(mt) || !mergeable(bmt)) {
		return nil // __free_one_page keeps the highatomic reserve apart
	}
	return fmt.Errorf("buddy: free block pfn %#x order %d not merged with its free buddy", pfn, o)
}

// IsFreeHead reports whether pfn is the head of a free block of exactly
// this order.
func (b *Buddy) IsFreeHead(pfn int64, order int) bool {
	_, ok := b.freeHeadAt(pfn, order)
	return ok
}
