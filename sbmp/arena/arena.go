package arena

import (
	"fmt"
	"sync"
	"unsafe"

	"github.com/sbmpsim/sbmpsim/sbmp"
)

// Sizes and limits of the arena.
const (
	// PageBytes is the size of a page; a block of order o is PageBytes << o
	// bytes, aligned to its size.
	PageBytes = 4096
	// MaxOrder is the largest block order the arena hands out: 4 MiB, the
	// largest Tier-1 block (sbmp.Config.BlockOrder 10).
	MaxOrder = 10
	// TopBlockBytes is the size of a block of MaxOrder.
	TopBlockBytes = PageBytes << MaxOrder
	// DefaultArenaBytes is the reservation NewArena makes when asked for 0.
	DefaultArenaBytes = 1 << 30
	// MaxArenaBytes bounds the reservation, so that a typo cannot ask for
	// per-page books of gigabytes (6 bytes per page: 1.5 MiB per GiB).
	MaxArenaBytes = 64 << 30
	// Origin is the arena address of the arena's first byte: arena
	// address a is the byte at offset a-Origin. It is not 0, so that no
	// block has address 0 (which sbmp reads as "none"), and it is a
	// multiple of TopBlockBytes, so an arena address is aligned exactly
	// as the real pointer behind it is.
	Origin = TopBlockBytes
	// DefaultMadviseMinOrder is the smallest block order FreePages gives
	// back to the kernel (2 MiB: Tier-1 blocks and large allocations).
	DefaultMadviseMinOrder = 9
	// HugeOrder is the order of a transparent huge page: a PMD mapping,
	// 2 MiB with 4 KiB pages (HPAGE_PMD_ORDER on x86-64 and arm64).
	HugeOrder = 9

	pageShift = 12
	noOrder   = -1
)

// ArenaConfig shapes an Arena. Zero fields take the defaults.
type ArenaConfig struct {
	// SizeBytes is the address space reserved, a multiple of
	// TopBlockBytes up to MaxArenaBytes (default DefaultArenaBytes). It is
	// mapped with MAP_NORESERVE: untouched pages cost nothing.
	SizeBytes int64
	// MadviseMinOrder is the smallest order of a freed block whose pages
	// FreePages returns to the kernel with madvise(MADV_DONTNEED)
	// (default DefaultMadviseMinOrder); above MaxOrder, none are.
	// Smaller blocks keep their pages: they are reused soon, and a
	// syscall per small free would cost more than the memory.
	MadviseMinOrder int
	// Hugepage madvises every block of HugeOrder or more that AllocPages
	// hands out with sbmp.PageNoRetry (SBMP's Tier-1 blocks)
	// MADV_HUGEPAGE, as allocators that want huge pages do: with THP
	// "enabled" set to madvise, its first touch then faults a whole huge
	// page in when the kernel has one (and the cgroup room for it), and
	// falls back to base pages when not. FreePages takes the mark off
	// again (MADV_NOHUGEPAGE), so the range serves base pages if it is
	// handed out for anything else.
	Hugepage bool
}

// Arena is a PageSource (Tier-2) over one anonymous mapping: a buddy
// allocator of blocks of 4 KiB pages, orders 0..MaxOrder, each aligned to
// its size, with coalescing on free. It is safe for concurrent use; one
// mutex guards the books, which only slow paths (Tier-1 growth, large
// allocations) reach.
//
// The addresses it hands out are arena addresses (see Origin), not
// pointers: sbmp's Tier-1 indexes blocks by address in a table that
// starts at address 0, so real pointers (around 2^47) would cost each
// allocator 2^26 table entries. Bytes turns an arena address into the
// memory behind it. The mapping's base is aligned to TopBlockBytes, so a
// block's real address is as aligned as its arena address.
//
// The memory is outside the Go heap: the garbage collector neither scans
// nor frees it, so it must not hold the only reference to a Go object.
type Arena struct {
	mapping []byte // the whole mapping, as mmap returned it (for munmap)
	mem     []byte // the aligned, usable window of the mapping
	base    uintptr
	pages   int32
	madvise int // MadviseMinOrder
	// hugepage is ArenaConfig.Hugepage; advised[p] says the block page p
	// heads was madvised MADV_HUGEPAGE.
	hugepage bool
	advised  []bool

	mu sync.Mutex
	// free[o] lists the first page of every free block of order o.
	free [MaxOrder + 1][]int32
	// freeOrder[p] is the order of the free block page p heads, or noOrder.
	freeOrder []int8
	// pos[p] is the index of page p in free[freeOrder[p]].
	pos []int32
	// usedOrder[p] is the order of the allocated block page p heads, or
	// noOrder.
	usedOrder []int8
	stats     ArenaStats
	closed    bool
}

// ArenaStats are the arena's counters.
type ArenaStats struct {
	SizeBytes      int64
	InUseBytes     int64 // bytes in blocks handed out and not freed
	InUseBytesPeak int64
	Allocs, Frees  int64
	AllocFailures  int64
	Splits, Merges int64
	// MadvisedBytes are bytes given back to the kernel by FreePages.
	MadvisedBytes int64
	// HugepageBlocks counts the blocks madvised MADV_HUGEPAGE
	// (ArenaConfig.Hugepage).
	HugepageBlocks int64
}

// NewArena reserves and maps the arena.
func NewArena(cfg ArenaConfig) (*Arena, error) {
	if cfg.SizeBytes == 0 {
		cfg.SizeBytes = DefaultArenaBytes
	}
	if cfg.MadviseMinOrder == 0 {
		cfg.MadviseMinOrder = DefaultMadviseMinOrder
	}
	if cfg.SizeBytes < 0 || cfg.SizeBytes > MaxArenaBytes || cfg.SizeBytes%TopBlockBytes != 0 {
		return nil, &sbmp.ConfigError{Field: "ArenaConfig.SizeBytes", Msg: fmt.Sprintf("must be a multiple of %d up to %d, got %d", TopBlockBytes, int64(MaxArenaBytes), cfg.SizeBytes)}
	}
	if cfg.MadviseMinOrder < 0 {
		return nil, &sbmp.ConfigError{Field: "ArenaConfig.MadviseMinOrder", Msg: fmt.Sprintf("must not be negative, got %d", cfg.MadviseMinOrder)}
	}
	// mmap aligns to pages only: reserve one top block more and use the
	// aligned window inside. The slack is never touched, so costs nothing.
	mapping, err := mapAnon(int(cfg.SizeBytes) + TopBlockBytes)
	if err != nil {
		return nil, fmt.Errorf("arena: mmap %d bytes: %w", cfg.SizeBytes+TopBlockBytes, err)
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(mapping)))
	skip := (TopBlockBytes - start%TopBlockBytes) % TopBlockBytes
	pages := int32(cfg.SizeBytes >> pageShift)
	a := &Arena{
		mapping:   mapping,
		mem:       mapping[skip : skip+uintptr(cfg.SizeBytes) : skip+uintptr(cfg.SizeBytes)],
		base:      start + skip,
		pages:     pages,
		madvise:   cfg.MadviseMinOrder,
		hugepage:  cfg.Hugepage,
		freeOrder: make([]int8, pages),
		pos:       make([]int32, pages),
		usedOrder: make([]int8, pages),
	}
	a.stats.SizeBytes = cfg.SizeBytes
	if cfg.Hugepage {
		a.advised = make([]bool, pages)
	}
	for p := range a.freeOrder {
		a.freeOrder[p], a.usedOrder[p] = noOrder, noOrder
	}
	// Push the top blocks highest first, so the lowest is handed out
	// first and the used part of the arena stays compact.
	for p := pages - 1<<MaxOrder; p >= 0; p -= 1 << MaxOrder {
		a.pushFree(p, MaxOrder)
	}
	return a, nil
}

// AllocPages implements sbmp.PageSource: a block of 2^order pages, aligned
// to its size. The arena has one node and never stalls; it fails when no
// free block of order or larger is left, when order is outside
// 0..MaxOrder, or after Close.
func (a *Arena) AllocPages(cpu, node, order int, flags sbmp.PageFlags) (addr uint64, servedNode int, stallNs int64, ok bool) {
	if order < 0 || order > MaxOrder {
		a.mu.Lock()
		a.stats.AllocFailures++
		a.mu.Unlock()
		return 0, 0, 0, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	o := order
	for o <= MaxOrder && len(a.free[o]) == 0 {
		o++
	}
	if o > MaxOrder || a.closed {
		a.stats.AllocFailures++
		return 0, 0, 0, false
	}
	l := a.free[o]
	p := l[len(l)-1]
	a.removeFree(p)
	for o > order { // split: keep the lower half, free the upper
		o--
		a.pushFree(p+1<<o, o)
		a.stats.Splits++
	}
	a.usedOrder[p] = int8(order)
	a.stats.Allocs++
	a.stats.InUseBytes += PageBytes << order
	a.stats.InUseBytesPeak = max(a.stats.InUseBytesPeak, a.stats.InUseBytes)
	if a.hugepage && order >= HugeOrder && flags&sbmp.PageNoRetry != 0 {
		off := int(p) << pageShift
		if err := hugepage(a.mem[off:off+PageBytes<<order], true); err != nil {
			panic(fmt.Sprintf("arena: madvise MADV_HUGEPAGE of order %d at page %d: %v", order, p, err))
		}
		a.advised[p] = true
		a.stats.HugepageBlocks++
	}
	return Origin + uint64(p)<<pageShift, 0, 0, true
}

// FreePages implements sbmp.PageSource: it takes back a block AllocPages
// gave, with the order it was asked for, and coalesces it with its free
// buddies. A block of MadviseMinOrder or more is first given back to the
// kernel (madvise MADV_DONTNEED), so the process's resident memory shrinks
// and the block reads zeros when next handed out; smaller blocks keep
// their pages and contents. Freeing anything else is a bug in the caller
// and panics, as the PageSource contract allows no error. After Close it
// does nothing.
func (a *Arena) FreePages(cpu int, addr uint64, order int) {
	p := a.pageOf(addr, order)
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return
	}
	if got := a.usedOrder[p]; got != int8(order) {
		a.mu.Unlock()
		panic(fmt.Sprintf("arena: free of %#x order %d, which heads no allocated block of that order (allocated order %d)", addr, order, got))
	}
	// The block is nobody's between here and the push below: neither the
	// caller's any more nor on a free list, so madvise can run unlocked.
	a.usedOrder[p] = noOrder
	a.stats.Frees++
	a.stats.InUseBytes -= PageBytes << order
	huge := a.advised != nil && a.advised[p]
	if huge {
		a.advised[p] = false
	}
	a.mu.Unlock()
	var advised int64
	off := int(p) << pageShift
	if order >= a.madvise {
		if err := dontNeed(a.mem[off : off+PageBytes<<order]); err != nil {
			panic(fmt.Sprintf("arena: madvise of %#x order %d: %v", addr, order, err))
		}
		advised = PageBytes << order
	}
	if huge {
		if err := hugepage(a.mem[off:off+PageBytes<<order], false); err != nil {
			panic(fmt.Sprintf("arena: madvise MADV_NOHUGEPAGE of %#x order %d: %v", addr, order, err))
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stats.MadvisedBytes += advised
	for order < MaxOrder {
		buddy := p ^ 1<<order
		if a.freeOrder[buddy] != int8(order) {
			break
		}
		a.removeFree(buddy)
		p = min(p, buddy)
		order++
		a.stats.Merges++
	}
	a.pushFree(p, order)
}

// pageOf returns the first page of the block of order at addr, panicking
// when addr cannot head such a block.
func (a *Arena) pageOf(addr uint64, order int) int32 {
	if order < 0 || order > MaxOrder || addr < Origin || addr-Origin >= uint64(a.pages)<<pageShift || addr&(PageBytes<<order-1) != 0 {
		panic(fmt.Sprintf("arena: %#x order %d is no block of this arena", addr, order))
	}
	return int32((addr - Origin) >> pageShift)
}

// FreeFraction implements sbmp.MemoryPressure: the share of the arena not
// handed out.
func (a *Arena) FreeFraction(node int) float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return 1 - float64(a.stats.InUseBytes)/float64(a.stats.SizeBytes)
}

// Bytes returns the n bytes at arena address addr, as a slice whose
// capacity is n. It panics when the range is outside the arena. The slice
// must not be used after Close.
func (a *Arena) Bytes(addr uint64, n int) []byte {
	off := addr - Origin
	return a.mem[off : off+uint64(n) : off+uint64(n)]
}

// AddrOf returns the arena address of b's first byte, and false when b
// does not start inside the arena (or has no capacity).
func (a *Arena) AddrOf(b []byte) (uint64, bool) {
	if cap(b) == 0 {
		return 0, false
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	if p < a.base || p-a.base >= uintptr(len(a.mem)) {
		return 0, false
	}
	return Origin + uint64(p-a.base), true
}

// Stats returns the arena's counters.
func (a *Arena) Stats() ArenaStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stats
}

// Close unmaps the arena. Every slice Bytes returned becomes invalid:
// touching one faults. AllocPages fails and FreePages does nothing after
// Close; a second Close returns nil.
func (a *Arena) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil
	}
	a.closed = true
	if err := unmap(a.mapping); err != nil {
		return fmt.Errorf("arena: munmap: %w", err)
	}
	return nil
}

func (a *Arena) pushFree(p int32, order int) {
	a.freeOrder[p] = int8(order)
	a.pos[p] = int32(len(a.free[order]))
	a.free[order] = append(a.free[order], p)
}

func (a *Arena) removeFree(p int32) {
	order := a.freeOrder[p]
	l := a.free[order]
	i := a.pos[p]
	last := l[len(l)-1]
	l[i] = last
	a.pos[last] = i
	a.free[order] = l[:len(l)-1]
	a.freeOrder[p] = noOrder
}

// check verifies the arena's books: every free-list entry heads a free
// block of its list's order at the recorded position, aligned to its size;
// free and allocated blocks tile without overlap; the bytes in use match
// the allocated blocks. Tests call it.
func (a *Arena) check() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	covered := make([]bool, a.pages)
	cover := func(p int32, order int, what string) error {
		if p&(1<<order-1) != 0 || p+1<<order > a.pages {
			return fmt.Errorf("arena: %s block at page %d order %d is misaligned or out of range", what, p, order)
		}
		for i := p; i < p+1<<order; i++ {
			if covered[i] {
				return fmt.Errorf("arena: page %d is covered twice (%s block at page %d order %d)", i, what, p, order)
			}
			covered[i] = true
		}
		return nil
	}
	for o, l := range a.free {
		for i, p := range l {
			if int(a.freeOrder[p]) != o || int(a.pos[p]) != i {
				return fmt.Errorf("arena: free list %d entry %d is page %d, which records order %d pos %d", o, i, p, a.freeOrder[p], a.pos[p])
			}
			if err := cover(p, o, "free"); err != nil {
				return err
			}
		}
	}
	var used int64
	for p, o := range a.usedOrder {
		if o == noOrder {
			continue
		}
		if err := cover(int32(p), int(o), "allocated"); err != nil {
			return err
		}
		used += PageBytes << o
	}
	if used != a.stats.InUseBytes {
		return fmt.Errorf("arena: allocated blocks hold %d bytes, InUseBytes says %d", used, a.stats.InUseBytes)
	}
	return nil
}
