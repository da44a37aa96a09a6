package sbmp

// FuzzAllocator drives the allocator from raw bytes: a few bytes choose the
// environment and configuration, the rest decode to operations (alloc
// bursts, frees, free bursts, flushes, clock ticks) on random CPUs. After
// every operation checkAllocator proves the books (no slot in two places,
// no overlap, Tier-1 consistent, the page source's outstanding memory
// equal to Tier-1 blocks plus Tier-2), and the counters must agree with
// what the driver saw. Inputs are decoded by hand rather than through
// rapid.MakeFuzz so that a mutation of one byte changes one operation,
// and the seeds below read as the scenarios they stage.
//
//	go test -run '^$' -fuzz FuzzAllocator -fuzztime 60s ./sbmp/
//
// A failure prints the decoded configuration and the last operations.

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Limits on one input, so that every run is short (TigerStyle).
const (
	fuzzMaxOps    = 256
	fuzzMaxAllocs = 1 << 14 // allocation calls per input
	fuzzMaxBurst  = 2048
)

// fuzzSizes are the request sizes an alloc op picks from: class edges,
// sizes between classes, the page cache's buckets and beyond.
var fuzzSizes = []int64{1, 8, 63, 64, 65, 100, 256, 1000, 1024, 1025, 4096, 5000, 8192, 32 << 10, 32<<10 + 1, 64 << 10, 70_000, 400_000, 3 << 20}

// fuzzSlotSets are the Tier-0 class sets a config picks from: the default,
// the smallest and largest classes allowed, and one slot per slab.
var fuzzSlotSets = [][]int64{{64, 256, 1024}, {8, 16, 32, 4096}, {64, 64 << 10}}

// The operations; the op byte is taken modulo fuzzNumOps.
const (
	fuzzOpAlloc = iota
	fuzzOpFree
	fuzzOpFreeBurst
	fuzzOpFlush
	fuzzOpTick
	fuzzNumOps
)

// fuzzBytes reads an input; past its end it reads zeros, so every input
// decodes.
type fuzzBytes struct {
	data []byte
	pos  int
}

func (b *fuzzBytes) next() int {
	if b.pos >= len(b.data) {
		b.pos++
		return 0
	}
	b.pos++
	return int(b.data[b.pos-1])
}

func (b *fuzzBytes) done() bool { return b.pos >= len(b.data) }

// fuzzHarness is one input's allocator and what the driver knows of it.
type fuzzHarness struct {
	f        *fakeEnv
	a        *Allocator
	cfg      Config
	live     map[uint64]int64
	order    []uint64 // live addresses, oldest first
	allocsOK int64
	frees    int64
	calls    int
	log      []string // decoded operations, for the failure report
}

// newFuzzHarness decodes the configuration from the first 9 bytes.
func newFuzzHarness(in *fuzzBytes) (*fuzzHarness, error) {
	cpus := 1 + in.next()%4
	nodes := min(1+in.next()%2, cpus)
	blockOrder := 9 + in.next()%2
	// From exactly one block (Tier-2 full at once) to about five.
	limitPages := int64(512+in.next()*8) << (blockOrder - 9)
	cfg := Config{
		SlotSizes:          fuzzSlotSets[in.next()%len(fuzzSlotSets)],
		BlockOrder:         blockOrder,
		Tier0CapacitySlots: 2 + in.next(),
		RetainBlocks:       1 + in.next()%3,
	}
	batch, threshold := 1+in.next()%128, 1+in.next()%8
	cfg.Refill = &FixedBatchRefill{Slots: batch}
	cfg.Merge = LazyThresholdMerge{Threshold: threshold}
	f := newFakeEnv(cpus, nodes, limitPages)
	a, err := New(f.env(), cfg)
	if err != nil {
		return nil, err
	}
	h := &fuzzHarness{f: f, a: a, cfg: cfg, live: map[uint64]int64{}}
	h.logf("env cpus=%d nodes=%d limit_pages=%d block_order=%d slots=%v capacity=%d batch=%d merge_threshold=%d retain=%d",
		cpus, nodes, limitPages, blockOrder, cfg.SlotSizes, cfg.Tier0CapacitySlots, batch, threshold, cfg.RetainBlocks)
	return h, nil
}

func (h *fuzzHarness) logf(format string, args ...any) {
	h.log = append(h.log, fmt.Sprintf(format, args...))
}

// failf reports a broken invariant with the configuration and the
// operations that led to it.
func (h *fuzzHarness) failf(t *testing.T, format string, args ...any) {
	t.Helper()
	ops := h.log[1:]
	if len(ops) > 30 {
		ops = ops[len(ops)-30:]
	}
	t.Fatalf("%s\n%s\nlast operations:\n  %s", fmt.Sprintf(format, args...), h.log[0], strings.Join(ops, "\n  "))
}

func FuzzAllocator(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &fuzzBytes{data: data}
		h, err := newFuzzHarness(in)
		if err != nil {
			t.Fatalf("a decoded config was refused: %v", err)
		}
		for op := 0; op < fuzzMaxOps && !in.done() && h.calls < fuzzMaxAllocs; op++ {
			h.step(t, in)
			h.check(t)
		}
	})
}

// step decodes and runs one operation.
func (h *fuzzHarness) step(t *testing.T, in *fuzzBytes) {
	t.Helper()
	switch in.next() % fuzzNumOps {
	case fuzzOpAlloc:
		cpu := in.next() % h.f.cpus
		size := fuzzSizes[in.next()%len(fuzzSizes)]
		burst := 1 + (in.next()<<3|in.next()&7)%fuzzMaxBurst
		h.logf("alloc cpu=%d size=%d n=%d", cpu, size, burst)
		h.allocBurst(t, cpu, size, burst)
	case fuzzOpFree:
		cpu := in.next() % h.f.cpus
		k := in.next()<<8 | in.next()
		if len(h.order) == 0 {
			return
		}
		i := k % len(h.order)
		h.logf("free #%d of %d cpu=%d", i, len(h.order), cpu)
		h.free(t, cpu, i)
	case fuzzOpFreeBurst:
		cpu := in.next() % h.f.cpus
		n := 1 + in.next()*8
		oldest := in.next()%2 == 0
		h.logf("free burst cpu=%d n=%d oldest=%v", cpu, n, oldest)
		for ; n > 0 && len(h.order) > 0; n-- {
			i := len(h.order) - 1
			if oldest {
				i = 0
			}
			h.free(t, cpu, i)
		}
	case fuzzOpFlush:
		h.logf("flush")
		h.a.Flush()
		h.checkFlushed(t, "after Flush", -1, -1)
		if len(h.live) == 0 {
			h.checkAllMerged(t)
		}
	case fuzzOpTick:
		dtMs := int64(in.next()) * 10
		h.logf("tick ms=%d", dtMs)
		h.f.now += dtMs * 1e6
		if err := h.a.Tick(); err != nil {
			h.failf(t, "tick: %v", err)
		}
	}
}

func (h *fuzzHarness) allocBurst(t *testing.T, cpu int, size int64, n int) {
	t.Helper()
	for range n {
		if h.calls >= fuzzMaxAllocs {
			return
		}
		h.calls++
		entries := h.a.Stats().DegradeEntries
		r := h.a.Alloc(cpu, size)
		if h.a.Stats().DegradeEntries > entries {
			h.checkFlushed(t, fmt.Sprintf("degrade entered on cpu %d class %d", cpu, h.a.classOf(size)), cpu, h.a.classOf(size))
		}
		if !r.OK {
			return
		}
		if _, dup := h.live[r.Addr]; dup {
			h.failf(t, "%#x handed out twice", r.Addr)
		}
		// A slot is aligned to its class, a Tier-2 block to a page.
		// A slot is aligned to its class, a medium block to its order,
		// a Tier-2 block to a page.
		align := uint64(1 << pageShift)
		cls, order := h.a.classOf(size), h.a.mediumOrder(size)
		switch {
		case r.Tier < 2 && cls >= 0:
			align = uint64(h.cfg.SlotSizes[cls])
		case r.Tier == 1 && order >= 0:
			align = uint64(1) << (slabShift + order)
		}
		if r.Addr%align != 0 || r.Tier < 0 || r.Tier > 2 {
			h.failf(t, "alloc of %d B: tier %d address %#x not aligned to %d", size, r.Tier, r.Addr, align)
		}
		if r.Tier < 2 && cls < 0 && (order < 0 || r.Tier == 0) {
			h.failf(t, "alloc of %d B, larger than every class and no medium size, served by tier %d", size, r.Tier)
		}
		h.live[r.Addr] = size
		h.order = append(h.order, r.Addr)
		h.allocsOK++
	}
}

// checkFlushed checks that a flush emptied every CPU's cache (SPEC 2.6).
// After an allocation that entered degrade, the refill retried after the
// flush may have put slots back into the allocating CPU's cache of the
// class it asked for; cpu and cls name it, -1 for none.
func (h *fuzzHarness) checkFlushed(t *testing.T, why string, cpu, cls int) {
	t.Helper()
	for c := range h.f.cpus {
		for k := range h.cfg.SlotSizes {
			if n := h.a.Tier0Free(c, k); n > 0 && (c != cpu || k != cls) {
				h.failf(t, "%s, cpu %d still caches %d slots of class %d (SPEC 2.6: flush every per-CPU cache)", why, c, n, k)
			}
		}
	}
}

// checkAllMerged checks, once nothing is live and the caches are flushed,
// that each node whose pending slabs were merged holds only whole blocks,
// coalesced back to one free entry each, and no more than RetainBlocks of
// them: the rest went back to Tier-2.
func (h *fuzzHarness) checkAllMerged(t *testing.T) {
	t.Helper()
	t1 := h.a.t1
	for node := range t1.nodes {
		tn := &t1.nodes[node]
		if len(tn.pending) > 0 {
			continue
		}
		if whole := len(tn.free[t1.topOrder]); whole != tn.blocks || t1.freeSlabCount(node) != int64(tn.blocks)<<t1.topOrder {
			h.failf(t, "nothing live, node %d merged: %d blocks but %d whole free blocks, %d free slabs", node, tn.blocks, whole, t1.freeSlabCount(node))
		}
		if tn.blocks > h.cfg.RetainBlocks {
			h.failf(t, "nothing live, node %d merged: keeps %d wholly free blocks, RetainBlocks is %d", node, tn.blocks, h.cfg.RetainBlocks)
		}
	}
}

func (h *fuzzHarness) free(t *testing.T, cpu, i int) {
	t.Helper()
	addr := h.order[i]
	h.order = slices.Delete(h.order, i, i+1)
	size := h.live[addr]
	delete(h.live, addr)
	if _, err := h.a.Free(cpu, addr, size); err != nil {
		h.failf(t, "free of %#x (%d B) on cpu %d: %v", addr, size, cpu, err)
	}
	h.frees++
}

// check runs checkAllocator and compares the counters with what the
// driver did.
func (h *fuzzHarness) check(t *testing.T) {
	t.Helper()
	if err := checkAllocator(h.a, h.f, h.live); err != nil {
		h.failf(t, "checkAllocator: %v", err)
	}
	s := h.a.Stats()
	if got := s.Tier0Allocs + s.Tier1Allocs + s.Tier2Allocs; got != h.allocsOK {
		h.failf(t, "tier0 %d + tier1 %d + tier2 %d allocs = %d, the driver saw %d succeed", s.Tier0Allocs, s.Tier1Allocs, s.Tier2Allocs, got, h.allocsOK)
	}
	if s.Frees != h.frees {
		h.failf(t, "stats count %d frees, the driver made %d", s.Frees, h.frees)
	}
	if s.Flushes < s.DegradeEntries {
		h.failf(t, "%d degrade entries but %d flushes: SPEC 2.6 flushes on every entry", s.DegradeEntries, s.Flushes)
	}
	if s.Tier2Fallbacks > s.Tier2Allocs+s.AllocFailures {
		h.failf(t, "%d tier-2 fallbacks, more than tier-2 allocs %d + failures %d", s.Tier2Fallbacks, s.Tier2Allocs, s.AllocFailures)
	}
	// A threshold policy merges as soon as a node queues threshold slabs,
	// and every place that queues one asks it.
	threshold := h.cfg.Merge.(LazyThresholdMerge).Threshold
	for node := range h.a.t1.nodes {
		if n := len(h.a.t1.nodes[node].pending); n >= threshold {
			h.failf(t, "node %d has %d slabs pending a merge, threshold %d", node, n, threshold)
		}
	}
	if total := h.a.TotalFreeBytes(); total < 0 {
		h.failf(t, "total_free %d < 0", total)
	}
}

// fuzzInput encodes a configuration and operations for the seed corpus.
type fuzzInput []byte

func (in fuzzInput) alloc(cpu, sizeIdx, n int) fuzzInput {
	n--
	return append(in, fuzzOpAlloc, byte(cpu), byte(sizeIdx), byte(n>>3), byte(n&7))
}

func (in fuzzInput) freeAt(cpu, k int) fuzzInput {
	return append(in, fuzzOpFree, byte(cpu), byte(k>>8), byte(k))
}

func (in fuzzInput) freeBurst(cpu, n8 int, oldest bool) fuzzInput {
	o := byte(1)
	if oldest {
		o = 0
	}
	return append(in, fuzzOpFreeBurst, byte(cpu), byte(n8), o)
}

func (in fuzzInput) flush() fuzzInput { return append(in, fuzzOpFlush) }

func (in fuzzInput) tick(dt10ms int) fuzzInput { return append(in, fuzzOpTick, byte(dt10ms)) }

// fuzzConfig encodes the 9 configuration bytes: cpus, nodes, block order,
// limit (512 + 8*limit8 pages for 2 MiB blocks), slot set, capacity-2,
// retain-1, batch-1 and threshold-1.
func fuzzConfig(cpus, nodes, order4MiB, limit8, slotSet, capacity, retain, batch, threshold int) fuzzInput {
	return fuzzInput{byte(cpus - 1), byte(nodes - 1), byte(order4MiB), byte(limit8), byte(slotSet), byte(capacity - 2), byte(retain - 1), byte(batch - 1), byte(threshold - 1)}
}

// fuzzSeeds stage the scenarios of testdata/scripts and a few edges.
func fuzzSeeds() [][]byte {
	const size64, size1K, sizeLarge = 3, 8, 17
	return [][]byte{
		// The fast path: a refill, LIFO reuse, frees on another CPU.
		fuzzConfig(2, 1, 0, 64, 0, 64, 1, 64, 4).alloc(0, size64, 8).freeAt(1, 3).alloc(1, size64, 2).freeBurst(0, 1, false),
		// Degrade: one block and 8 pages; CPU 1 caches slots, CPU 0 runs
		// Tier-1 dry, the flush, Tier-2, Tier-2 dry; then everything back.
		fuzzConfig(2, 1, 0, 1, 0, 64, 1, 32, 4).alloc(1, size64, 1).alloc(0, size1K, 1990).freeBurst(0, 255, true).flush().tick(100),
		// Remote refills: two nodes, one block.
		fuzzConfig(2, 2, 0, 0, 0, 64, 1, 48, 2).alloc(0, size64, 1).alloc(1, size64, 100).alloc(1, size1K, 2048).freeBurst(1, 255, false),
		// Lazy merge and blocks back to Tier-2: room for four blocks, threshold 4.
		fuzzConfig(1, 1, 0, 192, 0, 128, 1, 64, 4).alloc(0, size1K, 2048).alloc(0, size1K, 2048).freeBurst(0, 255, true).tick(100).freeBurst(0, 255, false).freeBurst(0, 255, true).flush().tick(1),
		// Large requests and the page cache, with ticks past idle eviction.
		fuzzConfig(3, 2, 1, 8, 1, 8, 2, 4, 1).alloc(2, sizeLarge, 4).alloc(0, 12, 30).freeBurst(1, 4, true).tick(255).tick(255).alloc(1, 9, 5),
		// One slot per slab (64 KiB class) on 4 MiB blocks.
		fuzzConfig(4, 2, 1, 0, 2, 2, 3, 1, 1).alloc(3, 15, 70).freeAt(0, 5).flush().alloc(0, 15, 64).freeBurst(2, 20, true),
	}
}
