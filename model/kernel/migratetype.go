package kernel

import "fmt"

// This file holds what a pageblock's migratetype means (include/linux/mmzone.h,
// mm/page_alloc.c, Linux 6.18): the types, the fallbacks[] table, which
// types merge across pageblocks, and how an allocation's gfp mask picks
// its type (gfp_migratetype).

// PageblockOrder is pageblock_order on x86-64 with transparent huge pages
// (HPAGE_PMD_ORDER): the pages of a 2 MiB block share one migratetype.
const PageblockOrder = 9

// PageblockPages is pageblock_nr_pages.
const PageblockPages = 1 << PageblockOrder

// Migratetype is a pageblock's enum migratetype: what kind of allocation
// its free pages are kept for. The values are the kernel's.
type Migratetype uint8

// The migratetypes the model keeps. CMA and ISOLATE are not modelled:
// the simulated machines reserve no CMA areas, and memory offlining takes
// a whole node at once (hotplug.go) without isolating pageblocks.
const (
	// MigrateUnmovable holds pages the kernel cannot move: GFP_KERNEL
	// and GFP_ATOMIC allocations (slab, page tables, drivers).
	MigrateUnmovable Migratetype = iota
	// MigrateMovable holds pages migration can move: user anonymous
	// memory and page cache (GFP_HIGHUSER_MOVABLE). Every pageblock
	// starts movable (memmap_init_range).
	MigrateMovable
	// MigrateReclaimable holds pages a shrinker can free
	// (__GFP_RECLAIMABLE: dentries, inodes). The model's allocations
	// never ask for it; it appears only as a fallback type.
	MigrateReclaimable
	// MigrateHighAtomic (MIGRATE_HIGHATOMIC = MIGRATE_PCPTYPES) is the
	// reserve reserve_highatomic_pageblock sets aside for high-order
	// atomic allocations: at most about 1% of a zone.
	MigrateHighAtomic
	// NrMigratetypes is the number of types the model keeps.
	NrMigratetypes
)

// migratePCPTypes is MIGRATE_PCPTYPES: the types with per-CPU lists and
// fallbacks.
const migratePCPTypes = MigrateHighAtomic

// String is the type's name in /proc/pagetypeinfo (migratetype_names).
func (mt Migratetype) String() string {
	if mt >= NrMigratetypes {
		return fmt.Sprintf("Migratetype(%d)", uint8(mt))
	}
	return [...]string{"Unmovable", "Movable", "Reclaimable", "HighAtomic"}[mt]
}

// fallbacks is fallbacks[] of mm/page_alloc.c: the types an allocation
// takes pages from, in order, when its own free lists are empty. The
// highatomic reserve is nobody's fallback.
var fallbacks = [migratePCPTypes][migratePCPTypes - 1]Migratetype{
	MigrateUnmovable:   {MigrateReclaimable, MigrateMovable},
	MigrateMovable:     {MigrateReclaimable, MigrateUnmovable},
	MigrateReclaimable: {MigrateUnmovable, MigrateMovable},
}

// mergeable is migratetype_is_mergeable: free blocks of the ordinary
// types merge across pageblocks of different types (the merged block
// takes the freed page's type); the highatomic reserve never does.
func mergeable(mt Migratetype) bool { return mt < migratePCPTypes }

// shouldTryClaimBlock is should_try_claim_block (Linux 6.15+): when an
// allocation of type startMT falls back to a free block of order, whether
// to try to claim the block's whole pageblock rather than steal the page.
// Large blocks are always worth claiming, as are blocks for unmovable and
// reclaimable allocations, whose pages would otherwise pollute movable
// pageblocks for good; a small movable allocation only steals, since
// compaction can fix what it fragments.
func shouldTryClaimBlock(order int, startMT Migratetype) bool {
	switch {
	case order >= PageblockOrder, order >= PageblockOrder/2:
		return true
	case startMT == MigrateReclaimable || startMT == MigrateUnmovable:
		return true
	}
	return false
}

// pageblockIndex is the index of pfn's pageblock in a buddy allocator
// whose first pageblock holds startPFN.
func pageblockIndex(startPFN, pfn int64) int {
	return int(pfn>>PageblockOrder - startPFN>>PageblockOrder)
}

// PagetypeInfo is /proc/pagetypeinfo for one node's zone: its free blocks
// by migratetype and order, and its pageblocks by migratetype.
type PagetypeInfo struct {
	FreeBlocks [NrMigratetypes][NrOrders]int64
	Pageblocks [NrMigratetypes]int64
}

// NrFree sums FreeBlocks over the types: free_area[].nr_free, what
// FragmentationIndex and ExtfragForOrder read.
func (p *PagetypeInfo) NrFree() [NrOrders]int64 {
	var nr [NrOrders]int64
	for mt := range p.FreeBlocks {
		for o, n := range p.FreeBlocks[mt] {
			nr[o] += n
		}
	}
	return nr
}

// PagetypeInfo returns node ni's /proc/pagetypeinfo.
func (m *Machine) PagetypeInfo(ni int) PagetypeInfo {
	b := m.nodes[ni].buddy
	var p PagetypeInfo
	for mt := range NrMigratetypes {
		for o := range NrOrders {
			p.FreeBlocks[mt][o] = b.NrFreeMT(o, mt)
		}
	}
	p.Pageblocks = b.PageblockCounts()
	return p
}
