package sbmp

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"pgregory.net/rapid"
)

// pcSource is a page source for page-cache tests. It hands out blocks
// aligned to their size from a bump pointer, never reuses an address (so a
// block handed out twice shows as an overlap), panics on a free of a block
// it does not have out, and logs every call.
type pcSource struct {
	mu       sync.Mutex
	next     uint64
	out      map[uint64]int // outstanding block address -> order
	outBytes int64
	fail     bool  // the next allocation fails
	stallNs  int64 // reported on every allocation
	allocLog []pageBlock
	freeLog  []pageBlock
}

func newPCSource() *pcSource { return &pcSource{next: 1 << 30, out: map[uint64]int{}} }

func (s *pcSource) AllocPages(cpu, node, order int, flags PageFlags) (uint64, int, int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		s.fail = false
		return 0, node, s.stallNs, false
	}
	size := uint64(4096) << order
	addr := (s.next + size - 1) &^ (size - 1)
	s.next = addr + size
	s.out[addr] = order
	s.outBytes += int64(size)
	s.allocLog = append(s.allocLog, pageBlock{addr, order})
	return addr, node, s.stallNs, true
}

func (s *pcSource) FreePages(cpu int, addr uint64, order int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.out[addr]; !ok || o != order {
		panic(fmt.Sprintf("pcSource: free of %#x order %d; outstanding order %d (%v)", addr, order, o, ok))
	}
	delete(s.out, addr)
	s.outBytes -= 4096 << order
	s.freeLog = append(s.freeLog, pageBlock{addr, order})
}

// pcClock is a clock the test moves.
type pcClock struct{ now int64 }

func (c *pcClock) Now() int64 { return c.now }

func newTestPageCache(t testing.TB, cfg PageCacheConfig) (*PageCache, *pcSource, *pcClock) {
	t.Helper()
	src, clk := newPCSource(), &pcClock{now: 1000}
	c, err := NewPageCache(cfg, src, clk)
	if err != nil {
		t.Fatal(err)
	}
	return c, src, clk
}

// cachedBlock is a cached entry as the tests see it.
type cachedBlock struct {
	addr      uint64
	order     int
	list      int
	lastUseNs int64
	whole     bool
}

// cachedBlocks lists every cached entry, bucket by bucket from most to
// least recently used, then the parked ones.
func cachedBlocks(c *PageCache) []cachedBlock {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []cachedBlock
	for list := range c.lists {
		for ei := c.lists[list].head; ei != noEntry; ei = c.entries[ei].next {
			e := c.entries[ei]
			out = append(out, cachedBlock{e.addr, int(e.order), list, e.lastUseNs, e.origin == noEntry})
		}
	}
	return out
}

func mustAlloc(t testing.TB, c *PageCache, size int64) PageGrant {
	t.Helper()
	g, ok := c.Alloc(0, 0, size, 0)
	if !ok {
		t.Fatalf("alloc of %d bytes failed", size)
	}
	return g
}

func mustFree(t testing.TB, c *PageCache, addr uint64, size int64) {
	t.Helper()
	if err := c.Free(0, addr, size); err != nil {
		t.Fatal(err)
	}
}

func mustCheck(t testing.TB, c *PageCache) {
	t.Helper()
	if err := c.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

func TestPageCacheConfig(t *testing.T) {
	d := DefaultPageCacheConfig()
	if d.BucketCaps != [NumPageBuckets]int{128, 64, 32, 16} || d.IdleEvictNs != 300e9 || !d.SplitOnMiss {
		t.Fatalf("defaults %+v", d)
	}
	for b, want := range []int64{8 << 10, 16 << 10, 32 << 10, 64 << 10} {
		if PageBucketBytes(b) != want {
			t.Errorf("bucket %d is %d bytes, want %d", b, PageBucketBytes(b), want)
		}
	}
	bad := []struct {
		name  string
		edit  func(*PageCacheConfig)
		field string
	}{
		{"negative cap", func(c *PageCacheConfig) { c.BucketCaps[2] = -1 }, "PageCacheConfig.BucketCaps[2]"},
		{"huge cap", func(c *PageCacheConfig) { c.BucketCaps[0] = maxPageBucketCap + 1 }, "PageCacheConfig.BucketCaps[0]"},
		{"zero idle", func(c *PageCacheConfig) { c.IdleEvictNs = 0 }, "PageCacheConfig.IdleEvictNs"},
	}
	for _, tc := range bad {
		cfg := DefaultPageCacheConfig()
		tc.edit(&cfg)
		_, err := NewPageCache(cfg, newPCSource(), &pcClock{})
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != tc.field {
			t.Errorf("%s: got %v, want a ConfigError on %s", tc.name, err, tc.field)
		}
	}
	if _, err := NewPageCache(DefaultPageCacheConfig(), nil, &pcClock{}); err == nil {
		t.Error("nil source accepted")
	}
	if _, err := NewPageCache(DefaultPageCacheConfig(), newPCSource(), nil); err == nil {
		t.Error("nil clock accepted")
	}
}

// TestPageCacheRouting covers the size rules: requests of at most 32 KiB
// look in the cache, larger ones go to the page source, and every system
// allocation is at least 8 KiB (order 1).
func TestPageCacheRouting(t *testing.T) {
	cases := []struct {
		size      int64
		order     int
		class     int
		lookup    bool // counted as a hit or miss rather than a bypass
		cachedOnF bool // the block enters the cache when freed
	}{
		{1, 1, 0, true, true},
		{4096, 1, 0, true, true},
		{8 << 10, 1, 0, true, true},
		{8<<10 + 1, 2, 1, true, true},
		{16 << 10, 2, 1, true, true},
		{20 << 10, 3, 2, true, true},
		{32 << 10, 3, 2, true, true},
		{32<<10 + 1, 4, 3, false, true},
		{64 << 10, 4, 3, false, true},
		{64<<10 + 1, 5, -1, false, false},
		{2 << 20, 9, -1, false, false},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.size), func(t *testing.T) {
			c, src, _ := newTestPageCache(t, DefaultPageCacheConfig())
			g := mustAlloc(t, c, tc.size)
			if g.Order != tc.order || g.Class != tc.class || g.Hit || g.SizeBytes() < 8<<10 {
				t.Fatalf("grant %+v, want order %d class %d, a miss", g, tc.order, tc.class)
			}
			if len(src.allocLog) != 1 || src.allocLog[0].order != tc.order {
				t.Fatalf("system allocations %v, want one of order %d", src.allocLog, tc.order)
			}
			s := c.Stats()
			if lookups := s.Hits + s.Misses; (lookups == 1) != tc.lookup || (s.Bypasses == 1) == tc.lookup {
				t.Fatalf("hits %d misses %d bypasses %d", s.Hits, s.Misses, s.Bypasses)
			}
			mustFree(t, c, g.Addr, tc.size)
			if cached := len(src.freeLog) == 0; cached != tc.cachedOnF {
				t.Fatalf("freed block cached %v, want %v", cached, tc.cachedOnF)
			}
			g2 := mustAlloc(t, c, tc.size)
			wantHit := tc.lookup // a bypass never looks, even when its bucket holds the block
			if g2.Hit != wantHit || (wantHit && g2.Addr != g.Addr) {
				t.Fatalf("second alloc %+v, want hit %v at %#x", g2, wantHit, g.Addr)
			}
			mustCheck(t, c)
		})
	}
}

func TestPageCacheHitIsMostRecentlyUsed(t *testing.T) {
	c, src, clk := newTestPageCache(t, DefaultPageCacheConfig())
	a, b := mustAlloc(t, c, 8<<10), mustAlloc(t, c, 8<<10)
	mustFree(t, c, a.Addr, 8<<10)
	clk.now++
	mustFree(t, c, b.Addr, 8<<10)
	if g := mustAlloc(t, c, 100); !g.Hit || g.Addr != b.Addr || g.ServedNode != -1 {
		t.Fatalf("got %+v, want a hit on the last freed block %#x", g, b.Addr)
	}
	if g := mustAlloc(t, c, 100); !g.Hit || g.Addr != a.Addr {
		t.Fatalf("got %+v, want a hit on %#x", g, a.Addr)
	}
	if g := mustAlloc(t, c, 100); g.Hit || len(src.allocLog) != 3 {
		t.Fatalf("got %+v after the bucket emptied, want a miss", g)
	}
	s := c.Stats()
	if s.Hits != 2 || s.Misses != 3 || s.SysAllocs != 3 || s.OutstandingBytes != 3*8<<10 || s.HeldBytes != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestPageCacheBucketCaps(t *testing.T) {
	cfg := DefaultPageCacheConfig()
	for b, capEntries := range cfg.BucketCaps {
		t.Run(fmt.Sprint(PageBucketBytes(b)), func(t *testing.T) {
			c, src, _ := newTestPageCache(t, cfg)
			size := PageBucketBytes(b)
			var grants []PageGrant
			for range capEntries + 3 {
				grants = append(grants, mustAlloc(t, c, size))
			}
			for _, g := range grants {
				mustFree(t, c, g.Addr, size)
			}
			s := c.Stats()
			if s.Buckets[b].Entries != int64(capEntries) || s.Buckets[b].Bytes != int64(capEntries)*size {
				t.Fatalf("bucket holds %d entries, %d bytes; cap %d", s.Buckets[b].Entries, s.Buckets[b].Bytes, capEntries)
			}
			if s.CapOverflows != 3 || len(src.freeLog) != 3 || s.SysFreeBytes != 3*size {
				t.Fatalf("overflows %d, source frees %v", s.CapOverflows, src.freeLog)
			}
			mustCheck(t, c)
		})
	}
	t.Run("zero cap disables a bucket", func(t *testing.T) {
		cfg := DefaultPageCacheConfig()
		cfg.BucketCaps[1] = 0
		c, src, _ := newTestPageCache(t, cfg)
		g := mustAlloc(t, c, 16<<10)
		mustFree(t, c, g.Addr, 16<<10)
		if len(src.freeLog) != 1 || c.Stats().HeldBytes != 0 {
			t.Fatal("a block entered a bucket with cap 0")
		}
	})
}

// TestPageCacheEvictIdle: blocks idle for more than IdleEvictNs go back to
// the page source, oldest first across buckets; blocks idle for exactly
// IdleEvictNs, or less, stay.
func TestPageCacheEvictIdle(t *testing.T) {
	c, src, clk := newTestPageCache(t, DefaultPageCacheConfig())
	idle := c.Config().IdleEvictNs
	sizes := []int64{64 << 10, 8 << 10, 32 << 10, 8 << 10, 16 << 10}
	var grants []PageGrant
	for _, size := range sizes {
		grants = append(grants, mustAlloc(t, c, size))
	}
	t0 := clk.now
	for i, g := range grants {
		clk.now = t0 + int64(i)*1e9 // freed one second apart
		mustFree(t, c, g.Addr, sizes[i])
	}
	if got := c.EvictIdle(0, t0+idle); got != 0 || len(src.freeLog) != 0 {
		t.Fatalf("evicted %d bytes at exactly the idle limit", got)
	}
	got := c.EvictIdle(0, t0+2e9+idle+1) // the first three are idle for more than the limit
	if want := sizes[0] + sizes[1] + sizes[2]; got != want {
		t.Fatalf("evicted %d bytes, want %d", got, want)
	}
	for i, blk := range src.freeLog {
		if blk.addr != grants[i].Addr {
			t.Fatalf("eviction %d returned %#x, want %#x (oldest first)", i, blk.addr, grants[i].Addr)
		}
	}
	s := c.Stats()
	if s.Evictions != 3 || s.EvictedBytes != got || s.Buckets[0].Entries != 1 || s.Buckets[1].Entries != 1 {
		t.Fatalf("stats %+v", s)
	}
	if got := c.EvictIdle(0, clk.now+idle+1); got != sizes[3]+sizes[4] || c.Stats().HeldBytes != 0 {
		t.Fatalf("second eviction returned %d bytes", got)
	}
	mustCheck(t, c)
}

// TestPageCacheCutOnDemand: a miss in a small bucket cuts the smallest
// larger cached block; the pieces coalesce when freed and the block is
// whole again.
func TestPageCacheCutOnDemand(t *testing.T) {
	c, src, _ := newTestPageCache(t, DefaultPageCacheConfig())
	big := mustAlloc(t, c, 64<<10)
	mustFree(t, c, big.Addr, 64<<10)
	g := mustAlloc(t, c, 8<<10)
	if !g.Hit || !g.Split || g.Addr != big.Addr || len(src.allocLog) != 1 {
		t.Fatalf("got %+v, want a split hit at %#x", g, big.Addr)
	}
	s := c.Stats()
	wantEntries := [NumPageBuckets]int64{1, 1, 1, 0}
	for b := range NumPageBuckets {
		if s.Buckets[b].Entries != wantEntries[b] {
			t.Fatalf("bucket %d holds %d after the cut, want %d", b, s.Buckets[b].Entries, wantEntries[b])
		}
	}
	if s.CutBlocks != 1 || s.HeldBytes != 56<<10 || s.OutstandingBytes != 8<<10 {
		t.Fatalf("stats %+v", s)
	}
	mustCheck(t, c)
	g16 := mustAlloc(t, c, 16<<10) // a plain hit on the 16 KiB piece
	if !g16.Hit || g16.Split || g16.Addr != big.Addr+16<<10 {
		t.Fatalf("got %+v", g16)
	}
	if err := c.Free(0, g.Addr+8<<10, 8<<10); err == nil {
		t.Fatal("free of the cached 8 KiB piece accepted")
	}
	mustFree(t, c, g16.Addr, 16<<10)
	mustFree(t, c, g.Addr, 8<<10)
	s = c.Stats()
	if s.CutBlocks != 0 || s.Buckets[3].Entries != 1 || s.HeldBytes != 64<<10 || s.Merges != 3 {
		t.Fatalf("after coalescing: stats %+v", s)
	}
	if blocks := cachedBlocks(c); len(blocks) != 1 || !blocks[0].whole || blocks[0].addr != big.Addr {
		t.Fatalf("cached %+v, want the whole 64 KiB block", blocks)
	}
	mustCheck(t, c)
}

func TestPageCacheNoCutWhenDisabled(t *testing.T) {
	cfg := DefaultPageCacheConfig()
	cfg.SplitOnMiss = false
	c, _, _ := newTestPageCache(t, cfg)
	big := mustAlloc(t, c, 64<<10)
	mustFree(t, c, big.Addr, 64<<10)
	if g := mustAlloc(t, c, 8<<10); g.Hit {
		t.Fatalf("got %+v with cutting off", g)
	}
}

// TestPageCacheParkedPiecesGoBackWhole: a piece of a cut block cannot go
// to the page source alone; idle or drained pieces are parked and the
// block goes back as soon as its last piece returns.
func TestPageCacheParkedPiecesGoBackWhole(t *testing.T) {
	for _, how := range []string{"evict", "drain", "full bucket"} {
		t.Run(how, func(t *testing.T) {
			cfg := DefaultPageCacheConfig()
			c, src, clk := newTestPageCache(t, cfg)
			big := mustAlloc(t, c, 64<<10)
			mustFree(t, c, big.Addr, 64<<10)
			g := mustAlloc(t, c, 8<<10) // cuts the block: 8+16+32 KiB pieces cached
			var released int64
			switch how {
			case "evict":
				released = c.EvictIdle(0, clk.now+cfg.IdleEvictNs+1)
			case "drain":
				released = c.Drain(0)
			case "full bucket":
				// Take the three cached pieces, fill the 8 KiB bucket with
				// whole blocks, then free a piece into the full bucket.
				p8, p16, p32 := mustAlloc(t, c, 8<<10), mustAlloc(t, c, 16<<10), mustAlloc(t, c, 32<<10)
				var fill []PageGrant
				for range cfg.BucketCaps[0] {
					fill = append(fill, mustAlloc(t, c, 8<<10))
				}
				for _, f := range fill {
					mustFree(t, c, f.Addr, 8<<10)
				}
				mustFree(t, c, p8.Addr, 8<<10) // parked: bucket full
				if s := c.Stats(); s.ParkedEntries != 1 || s.Buckets[0].Entries != int64(cfg.BucketCaps[0]) {
					t.Fatalf("stats %+v", s)
				}
				mustFree(t, c, p16.Addr, 16<<10)
				mustFree(t, c, p32.Addr, 32<<10)
			}
			if released != 0 || len(src.freeLog) != 0 {
				t.Fatalf("a piece went to the page source alone: %v", src.freeLog)
			}
			if s := c.Stats(); s.ParkedEntries == 0 || s.CutBlocks != 1 {
				t.Fatalf("stats %+v, want parked pieces", s)
			}
			mustCheck(t, c)
			mustFree(t, c, g.Addr, 8<<10)
			if how == "full bucket" {
				// Not marked for release: the whole block is cached.
				if s := c.Stats(); s.Buckets[3].Entries != 1 || s.ParkedEntries != 0 || s.CutBlocks != 0 {
					t.Fatalf("stats %+v", s)
				}
			} else if len(src.freeLog) != 1 || src.freeLog[0] != (pageBlock{big.Addr, 4}) || c.Stats().HeldBytes != 0 {
				t.Fatalf("source frees %v, want the whole 64 KiB block", src.freeLog)
			}
			mustCheck(t, c)
		})
	}
}

func TestPageCacheDrain(t *testing.T) {
	c, src, _ := newTestPageCache(t, DefaultPageCacheConfig())
	var grants []PageGrant
	for _, size := range []int64{8 << 10, 16 << 10, 32 << 10, 64 << 10} {
		grants = append(grants, mustAlloc(t, c, size))
	}
	for _, g := range grants {
		mustFree(t, c, g.Addr, g.SizeBytes())
	}
	if got := c.Drain(1); got != 120<<10 || len(src.out) != 0 || c.Stats().HeldBytes != 0 {
		t.Fatalf("drained %d bytes, %d blocks still out", got, len(src.out))
	}
	if g := mustAlloc(t, c, 8<<10); g.Hit {
		t.Fatal("hit after drain")
	}
	mustCheck(t, c)
}

func TestPageCacheSourceFailure(t *testing.T) {
	c, src, _ := newTestPageCache(t, DefaultPageCacheConfig())
	src.fail, src.stallNs = true, 777
	g, ok := c.Alloc(0, 1, 8<<10, PageNoRetry)
	if ok || g.StallNs != 777 {
		t.Fatalf("got %+v %v, want a failure with the stall", g, ok)
	}
	if s := c.Stats(); s.SysAllocFails != 1 || s.Misses != 1 || s.StallNs != 777 || s.OutstandingBytes != 0 {
		t.Fatalf("stats %+v", s)
	}
	if _, ok := c.Alloc(0, 0, 1<<62+1, 0); ok || len(src.allocLog) != 0 {
		t.Fatal("a request above 4 EiB went to the page source")
	}
}

func TestPageCacheRefusesBadFrees(t *testing.T) {
	c, _, _ := newTestPageCache(t, DefaultPageCacheConfig())
	a := mustAlloc(t, c, 32<<10)
	mustFree(t, c, a.Addr, 32<<10)
	before := c.Stats()
	cases := []struct {
		name string
		addr uint64
		size int64
	}{
		{"zero size", a.Addr, 0},
		{"misaligned", a.Addr + 4096, 8 << 10},
		{"double free", a.Addr, 32 << 10},
		{"double free, smaller size", a.Addr, 8 << 10},
		{"inside a cached block", a.Addr + 16<<10, 16 << 10},
	}
	for _, tc := range cases {
		var pe *PageCacheError
		if err := c.Free(0, tc.addr, tc.size); !errors.As(err, &pe) {
			t.Errorf("%s: got %v, want a PageCacheError", tc.name, err)
		}
	}
	if after := c.Stats(); after != before {
		t.Fatalf("a refused free changed the stats:\n%+v\n%+v", before, after)
	}
	mustCheck(t, c)
}

func TestPageCacheConcurrent(t *testing.T) {
	c, src, _ := newTestPageCache(t, DefaultPageCacheConfig())
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			sizes := []int64{8 << 10, 16 << 10, 8 << 10, 32 << 10, 64 << 10, 4096}
			var held []PageGrant
			for i := range 2000 {
				if len(held) < 8 {
					g, ok := c.Alloc(w, 0, sizes[(i+w)%len(sizes)], 0)
					if ok {
						held = append(held, g)
					}
					continue
				}
				g := held[i%len(held)]
				held = slices.Delete(held, i%len(held), i%len(held)+1)
				if err := c.Free(w, g.Addr, g.SizeBytes()); err != nil {
					t.Error(err)
				}
				if i%500 == 0 {
					c.EvictIdle(w, 1<<60)
					_ = c.Stats()
				}
			}
			for _, g := range held {
				if err := c.Free(w, g.Addr, g.SizeBytes()); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	mustCheck(t, c)
	c.Drain(0)
	if s := c.Stats(); s.OutstandingBytes != 0 || s.HeldBytes != 0 || len(src.out) != 0 {
		t.Fatalf("after drain: stats %+v, source still has %d blocks out", s, len(src.out))
	}
}

// pcModel drives a PageCache in the rapid state machine and keeps what
// callers hold.
type pcModel struct {
	c    *PageCache
	src  *pcSource
	clk  *pcClock
	cfg  PageCacheConfig
	held []pcHeld
}

type pcHeld struct {
	addr      uint64
	sizeBytes int64 // as asked
	order     int
}

func (m *pcModel) alloc(t *rapid.T) {
	limits := []int64{1, 8<<10 + 1, 16<<10 + 1, 32<<10 + 1, 64<<10 + 1, 256 << 10}
	k := rapid.IntRange(0, len(limits)-2).Draw(t, "class")
	size := rapid.Int64Range(limits[k], limits[k+1]-1).Draw(t, "size")
	m.src.fail = rapid.IntRange(0, 7).Draw(t, "fail") == 0
	order := pageOrderFor(size)
	b := order - pageBucketMinOrder
	mustHit := order <= pageLookupMaxOrder && m.c.Stats().Buckets[b].Entries > 0
	calls := len(m.src.allocLog)
	g, ok := m.c.Alloc(rapid.IntRange(0, 3).Draw(t, "cpu"), rapid.IntRange(0, 1).Draw(t, "node"), size, 0)
	m.src.fail = false
	switch {
	case mustHit && !g.Hit:
		t.Fatalf("alloc %d: its bucket held a block but it missed (%+v)", size, g)
	case g.Hit && len(m.src.allocLog) != calls:
		t.Fatal("a hit called the page source")
	case !g.Hit && ok && (len(m.src.allocLog) != calls+1 || m.src.allocLog[calls].order != order):
		t.Fatalf("a miss of order %d made system allocations %v", order, m.src.allocLog[calls:])
	case order > pageLookupMaxOrder && g.Hit:
		t.Fatalf("a %d-byte request looked in the cache", size)
	case !ok:
		return
	case g.Order != order || g.Addr%uint64(pageBytes(order)) != 0:
		t.Fatalf("grant %+v for %d bytes, want order %d aligned", g, size, order)
	}
	for _, h := range m.held {
		if overlaps(g.Addr, order, h.addr, h.order) {
			t.Fatalf("%#x order %d handed out while %#x order %d is held", g.Addr, order, h.addr, h.order)
		}
	}
	m.held = append(m.held, pcHeld{g.Addr, size, order})
}

func (m *pcModel) free(t *rapid.T) {
	if len(m.held) == 0 {
		t.Skip("nothing held")
	}
	i := rapid.IntRange(0, len(m.held)-1).Draw(t, "i")
	h := m.held[i]
	size := h.sizeBytes
	if rapid.Bool().Draw(t, "rounded size") {
		size = pageBytes(h.order)
	}
	frees := len(m.src.freeLog)
	if err := m.c.Free(rapid.IntRange(0, 3).Draw(t, "cpu"), h.addr, size); err != nil {
		t.Fatal(err)
	}
	if h.order > pageBucketMaxOrder && (len(m.src.freeLog) != frees+1 || m.src.freeLog[frees] != (pageBlock{h.addr, h.order})) {
		t.Fatalf("a %d-byte block did not go straight back to the source", pageBytes(h.order))
	}
	m.held = slices.Delete(m.held, i, i+1)
}

func (m *pcModel) badFree(t *rapid.T) {
	blocks := cachedBlocks(m.c)
	if len(blocks) == 0 {
		t.Skip("nothing cached")
	}
	blk := rapid.SampledFrom(blocks).Draw(t, "block")
	addr, order := blk.addr, blk.order
	if order > pageBucketMinOrder && rapid.Bool().Draw(t, "upper half") {
		order--
		addr += uint64(pageBytes(order))
	}
	before := m.c.Stats()
	if err := m.c.Free(0, addr, pageBytes(order)); err == nil {
		t.Fatalf("free of cached %#x order %d accepted", addr, order)
	}
	if m.c.Stats() != before {
		t.Fatal("a refused free changed the stats")
	}
}

func (m *pcModel) evict(t *rapid.T) {
	now := m.clk.now
	lastUse := map[uint64]int64{}
	var wantBytes int64
	idleCount := 0
	for _, blk := range cachedBlocks(m.c) {
		if blk.list < NumPageBuckets && now-blk.lastUseNs > m.cfg.IdleEvictNs {
			idleCount++
			if blk.whole {
				wantBytes += pageBytes(blk.order)
				lastUse[blk.addr] = blk.lastUseNs
			}
		}
	}
	frees, evictions := len(m.src.freeLog), m.c.Stats().Evictions
	if got := m.c.EvictIdle(0, now); got != wantBytes {
		t.Fatalf("evicted %d bytes, want %d", got, wantBytes)
	}
	if got := m.c.Stats().Evictions - evictions; got != int64(idleCount) {
		t.Fatalf("%d evictions, want %d", got, idleCount)
	}
	prev := int64(-1 << 62)
	for _, blk := range m.src.freeLog[frees:] {
		lu, ok := lastUse[blk.addr]
		if !ok || lu < prev {
			t.Fatalf("eviction returned %#x (idle %v) out of LRU order", blk.addr, ok)
		}
		prev = lu
	}
	for _, blk := range cachedBlocks(m.c) {
		if blk.list < NumPageBuckets && now-blk.lastUseNs > m.cfg.IdleEvictNs {
			t.Fatalf("%#x still in bucket %d, idle %d ns", blk.addr, blk.list, now-blk.lastUseNs)
		}
	}
}

func (m *pcModel) drain(t *rapid.T) {
	var want int64
	for _, blk := range cachedBlocks(m.c) {
		if blk.list < NumPageBuckets && blk.whole {
			want += pageBytes(blk.order)
		}
	}
	if got := m.c.Drain(0); got != want {
		t.Fatalf("drained %d bytes, want %d", got, want)
	}
	for b, bs := range m.c.Stats().Buckets {
		if bs.Entries != 0 {
			t.Fatalf("bucket %d holds %d after drain", b, bs.Entries)
		}
	}
}

// check holds after every step: the structure is sound; every byte the
// page source has out is either with a caller or cached, exactly once; no
// two blocks overlap; caps hold.
func (m *pcModel) check(t *rapid.T) {
	if err := m.c.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
	s := m.c.Stats()
	type span struct {
		addr  uint64
		order int
		what  string
	}
	var spans []span
	var heldBytes int64
	for _, h := range m.held {
		spans = append(spans, span{h.addr, h.order, "held"})
		heldBytes += pageBytes(h.order)
	}
	for _, blk := range cachedBlocks(m.c) {
		spans = append(spans, span{blk.addr, blk.order, "cached"})
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.addr, b.addr) })
	for i := 1; i < len(spans); i++ {
		if p := spans[i-1]; p.addr+uint64(pageBytes(p.order)) > spans[i].addr {
			t.Fatalf("%s %#x order %d overlaps %s %#x", p.what, p.addr, p.order, spans[i].what, spans[i].addr)
		}
	}
	for _, sp := range spans {
		if !m.src.contains(sp.addr, sp.order) {
			t.Fatalf("%s %#x order %d is not inside a block the source has out", sp.what, sp.addr, sp.order)
		}
	}
	switch {
	case heldBytes+s.HeldBytes != m.src.outBytes:
		t.Fatalf("held %d + cached %d != %d out at the source", heldBytes, s.HeldBytes, m.src.outBytes)
	case s.OutstandingBytes != heldBytes:
		t.Fatalf("outstanding %d, callers hold %d", s.OutstandingBytes, heldBytes)
	case s.SysAllocBytes-s.SysFreeBytes != m.src.outBytes:
		t.Fatalf("system bytes %d - %d != %d out", s.SysAllocBytes, s.SysFreeBytes, m.src.outBytes)
	}
	for b, bs := range s.Buckets {
		if bs.Entries > int64(m.cfg.BucketCaps[b]) {
			t.Fatalf("bucket %d holds %d, cap %d", b, bs.Entries, m.cfg.BucketCaps[b])
		}
	}
}

// contains reports whether a block lies inside one the source has out
// (blocks are at most 64 KiB apart from bypasses, which are whole).
func (s *pcSource) contains(addr uint64, order int) bool {
	for o := order; o <= pageMaxOrder && o <= 20; o++ {
		base := addr &^ uint64(pageBytes(o)-1)
		if got, ok := s.out[base]; ok && got == o {
			return true
		}
	}
	return false
}

func overlaps(a uint64, ao int, b uint64, bo int) bool {
	return a < b+uint64(pageBytes(bo)) && b < a+uint64(pageBytes(ao))
}

// TestPageCacheStateMachine runs random allocations, frees, clock moves,
// evictions, drains and refused frees against random shapes, checking the
// invariants after every step and that nothing is lost at the end.
func TestPageCacheStateMachine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := PageCacheConfig{
			IdleEvictNs: rapid.Int64Range(1, 1000).Draw(t, "idle"),
			SplitOnMiss: rapid.IntRange(0, 3).Draw(t, "split") > 0,
		}
		for b := range cfg.BucketCaps {
			cfg.BucketCaps[b] = rapid.IntRange(0, 4).Draw(t, fmt.Sprintf("cap%d", b))
		}
		m := &pcModel{src: newPCSource(), clk: &pcClock{}, cfg: cfg}
		var err error
		if m.c, err = NewPageCache(cfg, m.src, m.clk); err != nil {
			t.Fatal(err)
		}
		t.Repeat(map[string]func(*rapid.T){
			"alloc":   m.alloc,
			"free":    m.free,
			"badFree": m.badFree,
			"evict":   m.evict,
			"drain":   m.drain,
			"tick": func(t *rapid.T) {
				m.clk.now += rapid.Int64Range(0, 2*cfg.IdleEvictNs).Draw(t, "dt")
			},
			"": m.check,
		})
		for len(m.held) > 0 {
			h := m.held[0]
			if err := m.c.Free(0, h.addr, h.sizeBytes); err != nil {
				t.Fatal(err)
			}
			m.held = m.held[1:]
		}
		m.c.Drain(0)
		if s := m.c.Stats(); len(m.src.out) != 0 || s.HeldBytes != 0 || s.CutBlocks != 0 {
			t.Fatalf("after freeing everything and draining: %d blocks out at the source, stats %+v", len(m.src.out), s)
		}
	})
}

// BenchmarkPageCacheHit is an 8 KiB alloc and free on the hit path, with
// the bucket half full as in steady use.
func BenchmarkPageCacheHit(b *testing.B) {
	c := newWarmPageCache(b, 8<<10, 64)
	b.ReportAllocs()
	for b.Loop() {
		g, _ := c.Alloc(0, 0, 8<<10, 0)
		if err := c.Free(0, g.Addr, 8<<10); err != nil {
			b.Fatal(err)
		}
	}
}

// newWarmPageCache returns a cache holding n blocks of size.
func newWarmPageCache(b *testing.B, size int64, n int) *PageCache {
	c, _, _ := newTestPageCache(b, DefaultPageCacheConfig())
	var grants []PageGrant
	for range n {
		grants = append(grants, mustAlloc(b, c, size))
	}
	for _, g := range grants {
		mustFree(b, c, g.Addr, size)
	}
	return c
}

// BenchmarkPageCacheHitWithCutBlocks is the hit path on a piece of a cut
// block whose buddy a caller holds: every free looks up the origin and
// tries to coalesce.
func BenchmarkPageCacheHitWithCutBlocks(b *testing.B) {
	c, _, _ := newTestPageCache(b, DefaultPageCacheConfig())
	big := mustAlloc(b, c, 64<<10)
	mustFree(b, c, big.Addr, 64<<10)
	mustAlloc(b, c, 8<<10) // cuts the block; the buddy piece stays cached
	b.ReportAllocs()
	for b.Loop() {
		g, _ := c.Alloc(0, 0, 8<<10, 0)
		if err := c.Free(0, g.Addr, 8<<10); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPageCacheCutAndCoalesce cuts a cached 64 KiB block for an 8 KiB
// request and coalesces it back on the free (three merges).
func BenchmarkPageCacheCutAndCoalesce(b *testing.B) {
	c, _, _ := newTestPageCache(b, DefaultPageCacheConfig())
	big := mustAlloc(b, c, 64<<10)
	mustFree(b, c, big.Addr, 64<<10)
	b.ReportAllocs()
	for b.Loop() {
		g, _ := c.Alloc(0, 0, 8<<10, 0)
		if err := c.Free(0, g.Addr, 8<<10); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPageCacheHitParallel(b *testing.B) {
	c := newWarmPageCache(b, 8<<10, 64)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			g, ok := c.Alloc(0, 0, 8<<10, 0)
			if !ok {
				b.Error("alloc failed")
				return
			}
			if err := c.Free(0, g.Addr, 8<<10); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TestPageCacheBounds: a bucket may hold up to maxPageBucketCap blocks,
// and a request or free of no bytes is refused (Alloc panics: it is a
// caller's bug; Free reports it).
func TestPageCacheBounds(t *testing.T) {
	cfg := DefaultPageCacheConfig()
	cfg.BucketCaps[0] = maxPageBucketCap
	if _, err := NewPageCache(cfg, newPCSource(), &pcClock{}); err != nil {
		t.Fatalf("a bucket cap of exactly %d refused: %v", maxPageBucketCap, err)
	}
	c, _, _ := newTestPageCache(t, DefaultPageCacheConfig())
	var pce *PageCacheError
	if err := c.Free(0, 1<<30, 0); !errors.As(err, &pce) {
		t.Fatalf("free of 0 bytes: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("alloc of 0 bytes did not panic")
		}
	}()
	c.Alloc(0, 0, 0, 0)
}
