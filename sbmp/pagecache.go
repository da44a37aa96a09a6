package sbmp

import (
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"
)

// The Tier-2 fallback allocator with its page cache (SPEC 2.5).
//
// When the main path cannot serve a page-level request, the allocator asks
// a PageCache. Requests of at most 32 KiB look in the cache first and go to
// the page source (the "system allocation") on a miss; larger requests go
// straight to the page source. Cached blocks sit in four buckets of 8, 16,
// 32 and 64 KiB, each an LRU list with a cap on its entries; entries idle
// for longer than IdleEvictNs go back to the page source when EvictIdle
// runs.
//
// How we read the points SPEC 2.5 (and the seed's section 2.4 behind it)
// leaves open:
//
//   - "System allocations are at least 8 KiB": every block this cache asks
//     of the page source is at least order 1 (8 KiB). A request is rounded
//     up to the power-of-two block that covers it, so a 100-byte request
//     takes 8 KiB and a 40 KiB one takes 64 KiB.
//
//   - "Larger requests go straight to the system allocation" holds for
//     allocation: a request over 32 KiB never looks in the cache. Its
//     block may still enter the cache when freed: a freed block of at most
//     64 KiB goes into its bucket if the bucket has room, so the 64 KiB
//     bucket is filled by frees of 33..64 KiB blocks. Frees of larger
//     blocks always go back to the page source.
//
//   - "Cut into standard pages when cached": a cached block is cut into
//     smaller standard (bucket-sized) blocks on demand. When the bucket a
//     request needs is empty, the smallest larger cached block is split
//     buddy-fashion: one piece serves the request and one piece of every
//     size in between is cached (so 64 KiB serving 8 KiB leaves 8, 16 and
//     32 KiB pieces). We cut on demand rather than when a block enters
//     the cache because a piece cannot go back to the page source on its
//     own: PageSource.FreePages takes only blocks AllocPages gave (the
//     kernel model rejects anything else, as __free_pages would). A cut
//     block (an "origin") is therefore tracked until all its pieces are
//     back in the cache, where buddies coalesce; once whole again it is
//     cached or returned like any block. Cutting on insertion would pin
//     whole blocks for speculative small pieces; cutting on demand pins
//     them only when a request would otherwise cost a system allocation.
//     Config.SplitOnMiss turns cutting off.
//
//   - The cap of the 64 KiB bucket, which the seed leaves blank, defaults
//     to 16: the seed's caps of 128 x 8 KiB, 64 x 16 KiB and 32 x 32 KiB
//     each hold 1 MiB, and 16 x 64 KiB keeps that, for 4 MiB in all.
//
//   - A piece of a cut block that is freed when its bucket is full, or
//     that idles past IdleEvictNs, cannot go to the page source yet. It is
//     "parked": held by the cache, never handed out, counted in the held
//     bytes, and its origin is marked for release, so that the block goes
//     back to the page source as soon as its last piece comes home. Caps
//     bound the buckets; parked pieces are bounded by the cut blocks that
//     callers still hold pieces of.
//
//   - "Atomic counters": the statistics are sync/atomic values, so Stats
//     and metric scrapes never take the cache's lock. The structure itself
//     is under one mutex rather than one per bucket: splitting and
//     coalescing move blocks between buckets, and Tier-2 is the rare path
//     by design (SPEC 1.5 alarms at 5 fallbacks a second), so one short
//     critical section is simpler and not a bottleneck. The page source is
//     never called with the lock held.
//
//   - NUMA: the cache does not track which node a block came from (Free
//     is not told), so a hit reports ServedNode -1. An allocator that
//     wants node-local reuse keeps one PageCache per node.
//
// LRU lists are intrusive doubly-linked lists over a slice of entries
// with a free list, so the steady state allocates nothing. A ring buffer
// would be as fast for push and pop but cannot unlink a buddy from the
// middle when pieces coalesce.

// NumPageBuckets is the number of page-cache buckets (8, 16, 32, 64 KiB).
const NumPageBuckets = 4

// PageCacheLookupMaxBytes is the largest request that looks in the page
// cache; larger ones go straight to the page source (SPEC 2.5).
const PageCacheLookupMaxBytes = 32 << 10

const (
	pageShift          = 12 // a page is 4 KiB; order o is 4096 << o bytes
	pageBucketMinOrder = 1  // bucket 0 holds 8 KiB blocks: the smallest system allocation
	pageBucketMaxOrder = pageBucketMinOrder + NumPageBuckets - 1
	pageLookupMaxOrder = 3  // 32 KiB
	pageMaxOrder       = 50 // 4 PiB: keeps 4096 << order inside int64
	pageUnitShift      = pageShift + pageBucketMinOrder
	parkedList         = NumPageBuckets // index of the parked list in PageCache.lists
	noEntry            = int32(-1)
)

// PageBucketBytes returns the block size of bucket b (8 KiB << b).
func PageBucketBytes(b int) int64 { return pageBytes(b + pageBucketMinOrder) }

// PageCacheConfig shapes a PageCache.
type PageCacheConfig struct {
	// BucketCaps is the most blocks each bucket (8, 16, 32, 64 KiB) holds.
	// Zero disables a bucket: its blocks go back to the page source.
	BucketCaps [NumPageBuckets]int
	// IdleEvictNs is how long a cached block may sit unused before
	// EvictIdle returns it to the page source (SPEC 2.5: 5 minutes).
	IdleEvictNs int64
	// SplitOnMiss lets a request whose bucket is empty be served by
	// cutting a larger cached block instead of a system allocation.
	SplitOnMiss bool
}

// maxPageBucketCap bounds each bucket cap, so a typo cannot make the cache
// hold unbounded memory.
const maxPageBucketCap = 1 << 20

// DefaultPageCacheConfig returns SPEC 2.5's shape: caps 128/64/32/16,
// eviction after 5 minutes idle, cutting on demand.
func DefaultPageCacheConfig() PageCacheConfig {
	return PageCacheConfig{
		BucketCaps:  [NumPageBuckets]int{128, 64, 32, 16},
		IdleEvictNs: 5 * 60 * 1e9,
		SplitOnMiss: true,
	}
}

func (c *PageCacheConfig) validate() error {
	for b, n := range c.BucketCaps {
		if n < 0 || n > maxPageBucketCap {
			return &ConfigError{Field: fmt.Sprintf("PageCacheConfig.BucketCaps[%d]", b), Msg: fmt.Sprintf("must be in 0..%d, got %d", maxPageBucketCap, n)}
		}
	}
	if c.IdleEvictNs <= 0 {
		return &ConfigError{Field: "PageCacheConfig.IdleEvictNs", Msg: fmt.Sprintf("must be positive, got %d", c.IdleEvictNs)}
	}
	return nil
}

// PageGrant describes a block the page cache handed out.
type PageGrant struct {
	Addr       uint64
	Order      int   // the block is 4096 << Order bytes, aligned to its size
	Class      int   // the bucket the block returns to when freed, or -1 above 64 KiB
	Hit        bool  // served from the cache, without a system allocation
	Split      bool  // a hit served by cutting a larger cached block
	ServedNode int   // the node the page source reported; -1 on a hit
	StallNs    int64 // the page source's stall on a system allocation
}

// SizeBytes is the size of the granted block.
func (g PageGrant) SizeBytes() int64 { return pageBytes(g.Order) }

// PageBucketStats describes one bucket.
type PageBucketStats struct {
	SizeBytes int64
	Cap       int
	Entries   int64
	Bytes     int64
}

// PageCacheStats are the page cache's counters and gauges. Each field is
// read atomically; under concurrent use they are not one snapshot.
type PageCacheStats struct {
	Hits          int64 // requests of <= 32 KiB served from the cache (Splits included)
	Splits        int64 // hits served by cutting a larger block
	Misses        int64 // requests of <= 32 KiB that went to the page source
	Bypasses      int64 // requests of > 32 KiB, which never look in the cache
	Frees         int64 // blocks callers gave back
	Merges        int64 // buddy pieces coalesced
	CapOverflows  int64 // whole blocks returned to the page source because their bucket was full
	Evictions     int64 // entries that left a bucket for idling (EvictIdle)
	EvictedBytes  int64 // bytes EvictIdle returned to the page source at once
	SysAllocs     int64 // successful page-source allocations
	SysAllocFails int64 // page-source allocations that failed
	SysFrees      int64 // blocks returned to the page source
	SysAllocBytes int64
	SysFreeBytes  int64
	StallNs       int64 // page-source stall, summed
	// OutstandingBytes are bytes handed out and not freed yet.
	OutstandingBytes int64
	// HeldBytes are bytes the cache holds: in buckets and parked.
	HeldBytes     int64
	ParkedEntries int64
	ParkedBytes   int64
	// CutBlocks are system blocks currently cut into pieces.
	CutBlocks int64
	Buckets   [NumPageBuckets]PageBucketStats
}

// PageCacheError reports a Free the cache refuses: a size it cannot
// place, a misaligned address, or a block (or part of one) it already
// holds. Nothing changes when Free returns it.
type PageCacheError struct {
	Addr      uint64
	SizeBytes int64
	Msg       string
}

func (e *PageCacheError) Error() string {
	return fmt.Sprintf("sbmp: page cache free of %#x (%d bytes): %s", e.Addr, e.SizeBytes, e.Msg)
}

// PageCache is the Tier-2 fallback allocator of SPEC 2.5. It is safe for
// concurrent use.
type PageCache struct {
	cfg   PageCacheConfig
	src   PageSource
	clock Clock

	mu         sync.Mutex
	entries    []pageEntry // slab of list entries
	freeEntry  int32       // free list through pageEntry.next
	lists      [NumPageBuckets + 1]pageList
	index      map[uint64]int32 // address of every cached block -> entry
	origins    []pageOrigin     // slab of cut blocks
	freeOrigin int32            // free list through pageOrigin.nextFree
	cut        map[uint64]int32 // address of every cut block -> origin

	n pageCacheCounters
}

// pageEntry is one cached block, on one of the lists.
type pageEntry struct {
	addr       uint64
	lastUseNs  int64
	prev, next int32
	origin     int32 // the cut block this is a piece of, or noEntry when whole
	order      int8
	list       int8 // bucket, parkedList, or -1 while on the free list
}

// pageOrigin is a system block cut into pieces. Its 8 KiB units are each
// either with a caller (a bit in out) or inside exactly one cached piece.
type pageOrigin struct {
	addr     uint64
	order    int8
	out      uint8 // bit u: unit u is with a caller
	release  bool  // return to the page source once whole, rather than cache
	nextFree int32
}

// pageList is an LRU list: most recently used at head, oldest at tail.
// Counts are atomic so that Stats need not lock.
type pageList struct {
	head, tail int32
	n, bytes   atomic.Int64
}

type pageCacheCounters struct {
	hits, splits, misses, bypasses, frees, merges, capOverflows atomic.Int64
	evictions, evictedBytes                                     atomic.Int64
	sysAllocs, sysAllocFails, sysFrees                          atomic.Int64
	sysAllocBytes, sysFreeBytes, stallNs, outstanding           atomic.Int64
	cutBlocks                                                   atomic.Int64
}

// pageBlock names a block to return to the page source.
type pageBlock struct {
	addr  uint64
	order int
}

// NewPageCache returns an empty page cache over src, stamping entries with
// clock. Used from several goroutines, src and clock must be safe for
// concurrent use too; the cache never calls src with its lock held.
func NewPageCache(cfg PageCacheConfig, src PageSource, clock Clock) (*PageCache, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if src == nil {
		return nil, &ConfigError{Field: "PageCache source", Msg: "is nil"}
	}
	if clock == nil {
		return nil, &ConfigError{Field: "PageCache clock", Msg: "is nil"}
	}
	total := 0
	for _, n := range cfg.BucketCaps {
		total += n
	}
	c := &PageCache{
		cfg: cfg, src: src, clock: clock,
		entries:    make([]pageEntry, 0, min(total, 1024)),
		freeEntry:  noEntry,
		index:      make(map[uint64]int32, min(total, 1024)),
		freeOrigin: noEntry,
		cut:        make(map[uint64]int32),
	}
	for i := range c.lists {
		c.lists[i].head, c.lists[i].tail = noEntry, noEntry
	}
	return c, nil
}

// Config returns the configuration the cache runs with.
func (c *PageCache) Config() PageCacheConfig { return c.cfg }

// Alloc serves a page-level request of sizeBytes on cpu, preferring node
// for a system allocation; flags go to the page source. A request of at
// most 32 KiB is served from the cache when it can be (Hit); otherwise
// the page source is asked for the power-of-two block of at least 8 KiB
// that covers sizeBytes. It reports false when the page source fails.
// sizeBytes must be positive.
func (c *PageCache) Alloc(cpu, node int, sizeBytes int64, flags PageFlags) (PageGrant, bool) {
	if sizeBytes <= 0 {
		panic(fmt.Sprintf("sbmp: page cache alloc of %d bytes", sizeBytes))
	}
	order := pageOrderFor(sizeBytes)
	if order > pageLookupMaxOrder {
		c.n.bypasses.Add(1)
		return c.allocSystem(cpu, node, order, flags)
	}
	if g, ok := c.allocCached(order); ok {
		return g, true
	}
	c.n.misses.Add(1)
	return c.allocSystem(cpu, node, order, flags)
}

// allocSystem asks the page source for a block of order.
func (c *PageCache) allocSystem(cpu, node, order int, flags PageFlags) (PageGrant, bool) {
	g := PageGrant{Order: order, Class: pageClass(order), ServedNode: -1}
	if order > pageMaxOrder {
		c.n.sysAllocFails.Add(1)
		return g, false
	}
	addr, served, stallNs, ok := c.src.AllocPages(cpu, node, order, flags)
	c.n.stallNs.Add(stallNs)
	g.StallNs = stallNs
	if !ok {
		c.n.sysAllocFails.Add(1)
		return g, false
	}
	size := pageBytes(order)
	if addr%uint64(size) != 0 {
		panic(fmt.Sprintf("sbmp: page source gave %#x for order %d, which is not aligned to its size", addr, order))
	}
	c.n.sysAllocs.Add(1)
	c.n.sysAllocBytes.Add(size)
	c.n.outstanding.Add(size)
	g.Addr, g.ServedNode = addr, served
	return g, true
}

// allocCached serves a block of order (at most 32 KiB) from the cache:
// the most recently used block of its bucket, or a piece cut from the
// smallest larger cached block.
func (c *PageCache) allocCached(order int) (PageGrant, bool) {
	b := order - pageBucketMinOrder
	c.mu.Lock()
	ei := c.lists[b].head
	split := false
	if ei == noEntry {
		ei = c.splitFor(b)
		split = ei != noEntry
	}
	if ei == noEntry {
		c.mu.Unlock()
		return PageGrant{}, false
	}
	addr := c.entries[ei].addr
	c.take(ei)
	c.mu.Unlock()
	c.n.hits.Add(1)
	if split {
		c.n.splits.Add(1)
	}
	c.n.outstanding.Add(pageBytes(order))
	return PageGrant{Addr: addr, Order: order, Class: b, Hit: true, Split: split, ServedNode: -1}, true
}

// splitFor cuts the most recently used block of the smallest non-empty
// bucket above b down to bucket b's size, caching one piece of every size
// in between, and returns the entry of the piece left for the caller (in
// bucket b). Every bucket from b up to the one cut is empty, so each has
// room for its piece when its cap is not zero.
func (c *PageCache) splitFor(b int) int32 {
	if !c.cfg.SplitOnMiss {
		return noEntry
	}
	k := b + 1
	for k < NumPageBuckets && c.lists[k].head == noEntry {
		k++
	}
	if k == NumPageBuckets {
		return noEntry
	}
	for j := b; j < k; j++ {
		if c.cfg.BucketCaps[j] == 0 {
			return noEntry
		}
	}
	ei := c.lists[k].head
	e := c.entries[ei]
	oi := e.origin
	if oi == noEntry {
		oi = c.newOrigin(e.addr, int(e.order))
	}
	c.removeEntry(ei)
	now := c.clock.Now()
	for j := k - 1; j >= b; j-- {
		// The upper half of each split stays cached; the lower half is
		// split again, and at bucket b it is the caller's piece.
		c.push(j, e.addr+uint64(PageBucketBytes(j)), j+pageBucketMinOrder, oi, now)
	}
	return c.push(b, e.addr, b+pageBucketMinOrder, oi, now)
}

// take hands a cached entry to a caller.
func (c *PageCache) take(ei int32) {
	e := c.entries[ei]
	if e.origin != noEntry {
		o := &c.origins[e.origin]
		o.out |= o.unitMask(e.addr, int(e.order))
	}
	c.removeEntry(ei)
}

// Free takes back a block Alloc handed out: addr and the size asked for
// (or any size that rounds to the same block). A block of at most 64 KiB
// goes into its bucket when there is room and back to the page source
// otherwise; a larger one goes back to the page source. A piece of a cut
// block coalesces with its cached buddies first. Free refuses, with a
// *PageCacheError and no change, a misaligned address or a block the cache
// already holds (some double frees: those of blocks that went back to the
// page source are the page source's to catch).
func (c *PageCache) Free(cpu int, addr uint64, sizeBytes int64) error {
	if sizeBytes <= 0 {
		return &PageCacheError{Addr: addr, SizeBytes: sizeBytes, Msg: "size must be positive"}
	}
	order := pageOrderFor(sizeBytes)
	if order > pageMaxOrder {
		return &PageCacheError{Addr: addr, SizeBytes: sizeBytes, Msg: "larger than any page block"}
	}
	size := pageBytes(order)
	if addr%uint64(size) != 0 {
		return &PageCacheError{Addr: addr, SizeBytes: sizeBytes, Msg: fmt.Sprintf("address not aligned to its %d-byte block", size)}
	}
	if order > pageBucketMaxOrder {
		c.n.frees.Add(1)
		c.n.outstanding.Add(-size)
		c.release(cpu, pageBlock{addr, order})
		return nil
	}
	now := c.clock.Now()
	c.mu.Lock()
	back, err := c.freeLocked(addr, order, now)
	c.mu.Unlock()
	if err != nil {
		return &PageCacheError{Addr: addr, SizeBytes: sizeBytes, Msg: err.Error()}
	}
	c.n.frees.Add(1)
	c.n.outstanding.Add(-size)
	if back.order != 0 {
		c.release(cpu, back)
	}
	return nil
}

// freeLocked places a freed block of at most 64 KiB. It returns the block
// to give back to the page source, if any (order 0 when none).
func (c *PageCache) freeLocked(addr uint64, order int, now int64) (pageBlock, error) {
	if err := c.checkNotCached(addr, order); err != nil {
		return pageBlock{}, err
	}
	oi := c.originOf(addr, order)
	if oi == noEntry {
		return c.cacheWhole(addr, order, now), nil
	}
	o := &c.origins[oi]
	mask := o.unitMask(addr, order)
	if o.out&mask != mask {
		return pageBlock{}, fmt.Errorf("part of it is already cached (a piece of the %d-byte block at %#x)", pageBytes(int(o.order)), o.addr)
	}
	o.out &^= mask
	for order < int(o.order) {
		buddy := addr ^ uint64(pageBytes(order))
		bi, ok := c.index[buddy]
		if !ok || int(c.entries[bi].order) != order {
			break
		}
		c.removeEntry(bi)
		addr &^= uint64(pageBytes(order))
		order++
		c.n.merges.Add(1)
	}
	if order == int(o.order) {
		release := o.release
		c.dropOrigin(oi)
		if release {
			return pageBlock{addr, order}, nil
		}
		return c.cacheWhole(addr, order, now), nil
	}
	b := order - pageBucketMinOrder
	list := b
	if o.release || c.lists[b].n.Load() >= int64(c.cfg.BucketCaps[b]) {
		list = parkedList
	}
	c.push(list, addr, order, oi, now)
	return pageBlock{}, nil
}

// checkNotCached refuses a block that starts at a cached block or lies
// inside one.
func (c *PageCache) checkNotCached(addr uint64, order int) error {
	if ei, ok := c.index[addr]; ok {
		return fmt.Errorf("already cached (as a %d-byte block)", pageBytes(int(c.entries[ei].order)))
	}
	parked := c.lists[parkedList].n.Load() > 0
	for o := order + 1; o <= pageBucketMaxOrder; o++ {
		if !parked && c.lists[o-pageBucketMinOrder].n.Load() == 0 {
			continue // no cached block of this order to lie inside
		}
		a := addr &^ uint64(pageBytes(o)-1)
		if ei, ok := c.index[a]; ok && int(c.entries[ei].order) == o {
			return fmt.Errorf("inside the cached %d-byte block at %#x", pageBytes(o), a)
		}
	}
	return nil
}

// cacheWhole caches a whole system block, or returns it for the page
// source when its bucket is full.
func (c *PageCache) cacheWhole(addr uint64, order int, now int64) pageBlock {
	b := order - pageBucketMinOrder
	if c.lists[b].n.Load() >= int64(c.cfg.BucketCaps[b]) {
		c.n.capOverflows.Add(1)
		return pageBlock{addr, order}
	}
	c.push(b, addr, order, noEntry, now)
	return pageBlock{}
}

// release gives a block back to the page source.
func (c *PageCache) release(cpu int, blk pageBlock) {
	c.src.FreePages(cpu, blk.addr, blk.order)
	c.n.sysFrees.Add(1)
	c.n.sysFreeBytes.Add(pageBytes(blk.order))
}

// EvictIdle returns to the page source, on behalf of cpu, every cached
// block unused for more than IdleEvictNs at nowNs, least recently used
// first across all buckets. A piece of a cut block cannot go back alone:
// it is parked, and its block goes back once every piece is home. It
// returns the bytes given back to the page source now. The allocator
// calls it from a periodic timer.
func (c *PageCache) EvictIdle(cpu int, nowNs int64) (evictedBytes int64) {
	var back []pageBlock
	c.mu.Lock()
	for {
		ei := c.oldestIdle(nowNs)
		if ei == noEntry {
			break
		}
		c.n.evictions.Add(1)
		if blk, whole := c.evict(ei); whole {
			back = append(back, blk)
		}
	}
	c.mu.Unlock()
	for _, blk := range back {
		c.release(cpu, blk)
		evictedBytes += pageBytes(blk.order)
	}
	c.n.evictedBytes.Add(evictedBytes)
	return evictedBytes
}

// oldestIdle returns the least recently used bucket entry idle for more
// than IdleEvictNs at now, or noEntry.
func (c *PageCache) oldestIdle(now int64) int32 {
	best := noEntry
	for b := range NumPageBuckets {
		t := c.lists[b].tail
		if t == noEntry || now-c.entries[t].lastUseNs <= c.cfg.IdleEvictNs {
			continue
		}
		if best == noEntry || c.entries[t].lastUseNs < c.entries[best].lastUseNs {
			best = t
		}
	}
	return best
}

// evict takes an entry out of its bucket: a whole block is returned for
// the page source (true); a piece is parked and its origin marked for
// release.
func (c *PageCache) evict(ei int32) (pageBlock, bool) {
	e := c.entries[ei]
	if e.origin == noEntry {
		c.removeEntry(ei)
		return pageBlock{e.addr, int(e.order)}, true
	}
	c.origins[e.origin].release = true
	c.unlink(ei)
	c.link(parkedList, ei)
	return pageBlock{}, false
}

// Drain empties the buckets on behalf of cpu, as on entering degrade or
// reclaim-first: whole blocks go back to the page source, pieces of cut
// blocks are parked and their blocks go back once whole. It returns the
// bytes given back now. The cache stays usable.
func (c *PageCache) Drain(cpu int) (releasedBytes int64) {
	var back []pageBlock
	c.mu.Lock()
	for b := range NumPageBuckets {
		for c.lists[b].tail != noEntry {
			if blk, whole := c.evict(c.lists[b].tail); whole {
				back = append(back, blk)
			}
		}
	}
	c.mu.Unlock()
	for _, blk := range back {
		c.release(cpu, blk)
		releasedBytes += pageBytes(blk.order)
	}
	return releasedBytes
}

// Stats returns the counters and gauges without taking the lock.
func (c *PageCache) Stats() PageCacheStats {
	s := PageCacheStats{
		Hits: c.n.hits.Load(), Splits: c.n.splits.Load(), Misses: c.n.misses.Load(),
		Bypasses: c.n.bypasses.Load(), Frees: c.n.frees.Load(), Merges: c.n.merges.Load(),
		CapOverflows: c.n.capOverflows.Load(), Evictions: c.n.evictions.Load(),
		EvictedBytes: c.n.evictedBytes.Load(), SysAllocs: c.n.sysAllocs.Load(),
		SysAllocFails: c.n.sysAllocFails.Load(), SysFrees: c.n.sysFrees.Load(),
		SysAllocBytes: c.n.sysAllocBytes.Load(), SysFreeBytes: c.n.sysFreeBytes.Load(),
		StallNs: c.n.stallNs.Load(), OutstandingBytes: c.n.outstanding.Load(),
		ParkedEntries: c.lists[parkedList].n.Load(), ParkedBytes: c.lists[parkedList].bytes.Load(),
		CutBlocks: c.n.cutBlocks.Load(),
	}
	s.HeldBytes = s.ParkedBytes
	for b := range NumPageBuckets {
		bs := PageBucketStats{SizeBytes: PageBucketBytes(b), Cap: c.cfg.BucketCaps[b], Entries: c.lists[b].n.Load(), Bytes: c.lists[b].bytes.Load()}
		s.Buckets[b] = bs
		s.HeldBytes += bs.Bytes
	}
	return s
}

// push caches a block at the head of list and indexes it.
func (c *PageCache) push(list int, addr uint64, order int, origin int32, now int64) int32 {
	ei := c.freeEntry
	if ei == noEntry {
		c.entries = append(c.entries, pageEntry{})
		ei = int32(len(c.entries) - 1)
	} else {
		c.freeEntry = c.entries[ei].next
	}
	c.entries[ei] = pageEntry{addr: addr, lastUseNs: now, origin: origin, order: int8(order)}
	c.link(list, ei)
	c.index[addr] = ei
	return ei
}

// removeEntry unlinks a cached block, drops it from the index and frees
// its entry.
func (c *PageCache) removeEntry(ei int32) {
	c.unlink(ei)
	delete(c.index, c.entries[ei].addr)
	c.entries[ei] = pageEntry{next: c.freeEntry, prev: noEntry, origin: noEntry, list: -1}
	c.freeEntry = ei
}

// link puts an entry at the head (most recently used end) of list.
func (c *PageCache) link(list int, ei int32) {
	l := &c.lists[list]
	e := &c.entries[ei]
	e.list, e.prev, e.next = int8(list), noEntry, l.head
	if l.head != noEntry {
		c.entries[l.head].prev = ei
	} else {
		l.tail = ei
	}
	l.head = ei
	l.n.Add(1)
	l.bytes.Add(pageBytes(int(e.order)))
}

// unlink takes an entry off its list.
func (c *PageCache) unlink(ei int32) {
	e := &c.entries[ei]
	l := &c.lists[e.list]
	if e.prev != noEntry {
		c.entries[e.prev].next = e.next
	} else {
		l.head = e.next
	}
	if e.next != noEntry {
		c.entries[e.next].prev = e.prev
	} else {
		l.tail = e.prev
	}
	l.n.Add(-1)
	l.bytes.Add(-pageBytes(int(e.order)))
	e.prev, e.next, e.list = noEntry, noEntry, -1
}

// newOrigin starts tracking a system block that is about to be cut.
func (c *PageCache) newOrigin(addr uint64, order int) int32 {
	oi := c.freeOrigin
	if oi == noEntry {
		c.origins = append(c.origins, pageOrigin{})
		oi = int32(len(c.origins) - 1)
	} else {
		c.freeOrigin = c.origins[oi].nextFree
	}
	c.origins[oi] = pageOrigin{addr: addr, order: int8(order), nextFree: noEntry}
	c.cut[addr] = oi
	c.n.cutBlocks.Add(1)
	return oi
}

// dropOrigin stops tracking a block whose pieces have all coalesced.
func (c *PageCache) dropOrigin(oi int32) {
	delete(c.cut, c.origins[oi].addr)
	c.origins[oi] = pageOrigin{nextFree: c.freeOrigin}
	c.freeOrigin = oi
	c.n.cutBlocks.Add(-1)
}

// originOf returns the cut block that a block of order at addr is a piece
// of, or noEntry when it is a whole system block. Cut blocks are at most
// 64 KiB and aligned to their size, so at most three lookups find it.
func (c *PageCache) originOf(addr uint64, order int) int32 {
	if len(c.cut) == 0 {
		return noEntry
	}
	for o := order + 1; o <= pageBucketMaxOrder; o++ {
		if oi, ok := c.cut[addr&^uint64(pageBytes(o)-1)]; ok && int(c.origins[oi].order) == o {
			return oi
		}
	}
	return noEntry
}

// unitMask is the set of the origin's 8 KiB units a block covers.
func (o *pageOrigin) unitMask(addr uint64, order int) uint8 {
	first := (addr - o.addr) >> pageUnitShift
	units := uint(1) << (order - pageBucketMinOrder)
	return uint8((uint(1)<<units - 1) << first)
}

// CheckInvariants verifies the cache's structure: list links and counts,
// LRU order in the buckets (last use never increases from head to tail;
// the parked list is in no order, as nothing is taken from it by age),
// caps, the
// address index, and that every cut block's units are each either with a
// caller or inside exactly one cached piece. Tests and `sbmpsim check`
// call it; it takes the lock.
func (c *PageCache) CheckInvariants() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := 0
	covered := make(map[int32]uint8, len(c.cut))
	for list := range c.lists {
		n, err := c.checkList(list, covered)
		if err != nil {
			return err
		}
		seen += n
	}
	if seen != len(c.index) {
		return fmt.Errorf("page cache: %d entries on lists, %d indexed", seen, len(c.index))
	}
	if int64(len(c.cut)) != c.n.cutBlocks.Load() {
		return fmt.Errorf("page cache: %d cut blocks tracked, counter says %d", len(c.cut), c.n.cutBlocks.Load())
	}
	for addr, oi := range c.cut {
		o := c.origins[oi]
		full := o.unitMask(o.addr, int(o.order))
		if o.addr != addr || covered[oi]&o.out != 0 || covered[oi]|o.out != full {
			return fmt.Errorf("page cache: cut block %#x order %d: cached units %08b, out %08b", o.addr, o.order, covered[oi], o.out)
		}
	}
	return nil
}

// checkList walks one list, adding cached pieces' units to covered.
func (c *PageCache) checkList(list int, covered map[int32]uint8) (int, error) {
	l := &c.lists[list]
	n, bytes, prev := 0, int64(0), noEntry
	for ei := l.head; ei != noEntry; ei = c.entries[ei].next {
		e := c.entries[ei]
		switch {
		case int(e.list) != list || e.prev != prev:
			return 0, fmt.Errorf("page cache: list %d: entry %d badly linked", list, ei)
		case !c.indexed(e.addr, ei):
			return 0, fmt.Errorf("page cache: list %d: entry %#x not indexed", list, e.addr)
		case list < NumPageBuckets && int(e.order) != list+pageBucketMinOrder:
			return 0, fmt.Errorf("page cache: bucket %d holds order %d", list, e.order)
		case list == parkedList && e.origin == noEntry:
			return 0, fmt.Errorf("page cache: whole block %#x parked", e.addr)
		case list < NumPageBuckets && prev != noEntry && c.entries[prev].lastUseNs < e.lastUseNs:
			return 0, fmt.Errorf("page cache: list %d out of LRU order at %#x", list, e.addr)
		case e.addr%uint64(pageBytes(int(e.order))) != 0:
			return 0, fmt.Errorf("page cache: %#x misaligned for order %d", e.addr, e.order)
		}
		if e.origin != noEntry {
			o := &c.origins[e.origin]
			if int(e.order) >= int(o.order) || e.addr < o.addr || e.addr >= o.addr+uint64(pageBytes(int(o.order))) {
				return 0, fmt.Errorf("page cache: piece %#x order %d outside its block %#x order %d", e.addr, e.order, o.addr, o.order)
			}
			m := o.unitMask(e.addr, int(e.order))
			if covered[e.origin]&m != 0 {
				return 0, fmt.Errorf("page cache: pieces overlap at %#x", e.addr)
			}
			covered[e.origin] |= m
		}
		n, bytes, prev = n+1, bytes+pageBytes(int(e.order)), ei
	}
	if prev != l.tail || int64(n) != l.n.Load() || bytes != l.bytes.Load() {
		return 0, fmt.Errorf("page cache: list %d: %d entries / %d bytes walked, %d / %d counted", list, n, bytes, l.n.Load(), l.bytes.Load())
	}
	if list < NumPageBuckets && n > c.cfg.BucketCaps[list] {
		return 0, fmt.Errorf("page cache: bucket %d holds %d, cap %d", list, n, c.cfg.BucketCaps[list])
	}
	return n, nil
}

// indexed reports whether the index maps addr to entry ei.
func (c *PageCache) indexed(addr uint64, ei int32) bool {
	got, ok := c.index[addr]
	return ok && got == ei
}

// pageOrderFor is the order of the smallest block of at least 8 KiB that
// holds sizeBytes (> 0).
func pageOrderFor(sizeBytes int64) int {
	return max(bits.Len64(uint64(sizeBytes-1))-pageShift, pageBucketMinOrder)
}

// pageBytes is the size of a block of order.
func pageBytes(order int) int64 { return int64(1) << (order + pageShift) }

// pageClass is the bucket of a block of order, or -1 above 64 KiB.
func pageClass(order int) int {
	if order > pageBucketMaxOrder {
		return -1
	}
	return order - pageBucketMinOrder
}
