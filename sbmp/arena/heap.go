// Package arena is SBMP's real backend: the
// same sbmp.Allocator that the simulator drives, serving real memory to
// real goroutines.
//
// [Arena] is an sbmp.PageSource over one mmap'd anonymous region: a buddy
// allocator of 4 KiB-page blocks of order 0..10, aligned to their size.
// [Clock], [Topology] and [ZeroCost] complete the sbmp.Env: a monotonic
// clock, one node, and no modelled costs (real latency is real).
//
// [Heap] is the concurrent front end: Alloc(size) []byte and Free(b), safe
// from any number of goroutines. sbmp.Allocator is not safe for concurrent
// use, so the Heap is sharded: each shard is one Allocator of one CPU
// behind its own mutex, all shards drawing pages from one Arena.
//
// Which shard serves an allocation: a goroutine takes a shard token from a
// sync.Pool. The pool keeps a token per P (the runtime's processor), so
// consecutive allocations on one P take the same token, hence the same
// shard, whose Tier-0 cache is then warm in that CPU's cache and whose
// mutex is uncontended. Go offers no per-P storage or procPin outside the
// runtime; sync.Pool is the supported way to get P affinity. A token is a
// hint, not ownership (the pool may drop tokens at a GC, and two Ps may
// end up holding tokens of one shard), so the shard is still locked: the
// allocation TryLocks the token's shard and, when another goroutine holds
// it, moves the token to the next shard, so colliding tokens spread out;
// after a full round of busy shards it waits for its own. We measured the
// alternative the issue suggests, a random shard per allocation
// (math/rand/v2, no pool): about as fast on one goroutine, but with two
// goroutines on two cores it did not scale at all (~62 ns per alloc+free
// against ~35 ns with tokens), as random picks collide and the shards'
// cache lines move between cores.
//
// Which shard a free goes to: the shard that allocated the block, always.
// Two Allocators must never exchange addresses (each books its Tier-1
// blocks, slabs and Tier-2 grants by address), so a free on another
// goroutine, P or shard is routed to the owner. Ownership is recorded
// where it is cheap: when a shard's allocator takes a block from the
// Arena (a Tier-1 block of 2 or 4 MiB, or a Tier-2 page-cache or large
// block), the Heap stamps the shard in an owner table with one entry per
// 4 KiB page of the arena (4 bytes per page: 1 MiB per GiB), and clears
// the stamp when the shard returns the block. Free looks up the page of
// the slice's first byte (one atomic load) and frees under the owner's
// lock. Page granularity, rather than 2 MiB, is what Tier-2 needs: its
// blocks are as small as 8 KiB, so blocks of several shards share a 2 MiB
// range.
//
// The memory is outside the Go heap: it is neither zeroed on allocation
// nor scanned by the garbage collector, so it must not hold the only
// reference to a Go object.
package arena

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/sbmpsim/sbmpsim/sbmp"
)

// MaxShards bounds Options.Shards.
const MaxShards = 1 << 12

// Options shape a Heap. Zero fields take the defaults.
type Options struct {
	// Shards is the number of shards, each one sbmp.Allocator (default
	// runtime.GOMAXPROCS(0)).
	Shards int
	// Arena configures the arena all shards share (default 1 GiB).
	Arena ArenaConfig
	// Config returns the allocator configuration of shard i; nil takes
	// sbmp.DefaultConfig. It is called once per shard: policies keep
	// state, so shards must not share policy instances.
	Config func(shard int) sbmp.Config
}

// Heap is SBMP over real memory, safe for concurrent use. See the package
// documentation for how it shards and routes frees.
type Heap struct {
	arena  *Arena
	mem    []byte // the arena's window; immutable, so read without locks
	base   uintptr
	shards []shard
	// owner[p] is 1 + the shard whose block covers arena page p, or 0.
	owner  []atomic.Int32
	tokens sync.Pool
	next   atomic.Uint32 // the shard of the next new token
}

// shard is one allocator behind its mutex, padded to its own cache lines
// so that shards locked by different CPUs do not share one.
type shard struct {
	shardState
	_ [128 - unsafe.Sizeof(shardState{})%128]byte
}

type shardState struct {
	mu     sync.Mutex
	alloc  *sbmp.Allocator
	closed bool
}

// token is a goroutine's hint of which shard to allocate from.
type token struct{ shard int }

// shardPages is the PageSource of one shard: the arena, with ownership
// stamped in the Heap's owner table.
type shardPages struct {
	h     *Heap
	stamp int32 // 1 + the shard
}

// NewHeap maps an arena and builds the shards over it.
func NewHeap(opts Options) (*Heap, error) {
	n := opts.Shards
	if n == 0 {
		n = runtime.GOMAXPROCS(0)
	}
	if n < 1 || n > MaxShards {
		return nil, &sbmp.ConfigError{Field: "Options.Shards", Msg: fmt.Sprintf("must be in 1..%d, got %d", MaxShards, n)}
	}
	a, err := NewArena(opts.Arena)
	if err != nil {
		return nil, err
	}
	h := &Heap{arena: a, mem: a.mem, base: a.base, shards: make([]shard, n), owner: make([]atomic.Int32, a.pages)}
	h.tokens.New = func() any { return &token{shard: int(h.next.Add(1)-1) % len(h.shards)} }
	clock := NewClock()
	for i := range h.shards {
		cfg := sbmp.DefaultConfig()
		if opts.Config != nil {
			cfg = opts.Config(i)
		}
		al, err := sbmp.New(NewEnv(&shardPages{h: h, stamp: int32(i) + 1}, 1, clock), cfg)
		if err != nil {
			_ = a.Close()
			return nil, fmt.Errorf("arena: shard %d: %w", i, err)
		}
		h.shards[i].alloc = al
	}
	return h, nil
}

// Alloc returns size bytes of the arena as a slice of length and capacity
// size. The contents are undefined (not zeroed, as malloc). It returns nil
// when size is not positive, when the arena cannot serve (it is exhausted,
// or size exceeds the largest block, 4 MiB), and after Close. A shard does
// not borrow what other shards cache (their Tier-0 slots, retained Tier-1
// blocks and page cache), so near exhaustion one shard may fail while
// another could still serve.
func (h *Heap) Alloc(size int) []byte {
	if size <= 0 {
		return nil
	}
	t := h.tokens.Get().(*token)
	s := h.lockShard(t)
	b := h.allocLocked(s, size)
	s.mu.Unlock()
	h.tokens.Put(t)
	return b
}

// lockShard locks the shard of t, or, when it is busy, the first free one
// after it (moving t there), or, when every shard is busy, t's own once it
// is released.
func (h *Heap) lockShard(t *token) *shard {
	for range len(h.shards) {
		s := &h.shards[t.shard]
		if s.mu.TryLock() {
			return s
		}
		if t.shard++; t.shard == len(h.shards) {
			t.shard = 0
		}
	}
	s := &h.shards[t.shard]
	s.mu.Lock()
	return s
}

// allocLocked allocates size bytes from s, whose lock the caller holds.
func (h *Heap) allocLocked(s *shard, size int) []byte {
	if s.closed {
		return nil
	}
	r := s.alloc.Alloc(0, int64(size))
	if !r.OK {
		return nil
	}
	off := r.Addr - Origin
	return h.mem[off : off+uint64(size) : off+uint64(size)]
}

// Free gives back a slice Alloc returned. b may have been resliced to a
// shorter length, but must start where Alloc's slice started and keep its
// capacity: SBMP keeps no header, so the capacity is the size it frees.
// Free(nil) does nothing. Free reports a *FreeError for a slice that does
// not start in a block the Heap handed out, and passes on the allocator's
// error for a detected double free of a large block; a double free of a
// small one is not detected (there is no per-object metadata) and
// corrupts the heap, as it would with malloc.
func (h *Heap) Free(b []byte) error {
	if b == nil {
		return nil
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	if cap(b) == 0 || p < h.base || p-h.base >= uintptr(len(h.mem)) {
		return &FreeError{Ptr: p, SizeBytes: cap(b), Msg: "not in the heap's arena"}
	}
	off := p - h.base
	stamp := h.owner[off>>pageShift].Load()
	if stamp == 0 {
		return &FreeError{Ptr: p, SizeBytes: cap(b), Msg: "in no block the heap holds"}
	}
	s := &h.shards[stamp-1]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return &FreeError{Ptr: p, SizeBytes: cap(b), Msg: "heap is closed"}
	}
	if _, err := s.alloc.Free(0, Origin+uint64(off), int64(cap(b))); err != nil {
		return fmt.Errorf("arena: free on shard %d: %w", stamp-1, err)
	}
	return nil
}

// FreeError reports a Free of memory the Heap did not hand out.
type FreeError struct {
	Ptr       uintptr
	SizeBytes int
	Msg       string
}

func (e *FreeError) Error() string {
	return fmt.Sprintf("arena: free of %#x (%d bytes): %s", e.Ptr, e.SizeBytes, e.Msg)
}

// NumShards is the number of shards.
func (h *Heap) NumShards() int { return len(h.shards) }

// ShardStats returns each shard's allocator counters, shard by shard (each
// is one snapshot; together they are not).
func (h *Heap) ShardStats() []sbmp.Stats {
	out := make([]sbmp.Stats, len(h.shards))
	for i := range h.shards {
		s := &h.shards[i]
		s.mu.Lock()
		out[i] = s.alloc.Stats()
		s.mu.Unlock()
	}
	return out
}

// ArenaStats returns the arena's counters.
func (h *Heap) ArenaStats() ArenaStats { return h.arena.Stats() }

// Close unmaps the arena. Every slice Alloc returned becomes invalid:
// touching one faults. Alloc returns nil and Free an error after Close; a
// second Close returns nil. Close waits for Allocs and Frees under way.
func (h *Heap) Close() error {
	for i := range h.shards {
		h.shards[i].mu.Lock()
	}
	for i := range h.shards {
		h.shards[i].closed = true
	}
	for i := range h.shards {
		h.shards[i].mu.Unlock()
	}
	return h.arena.Close()
}

// AllocPages implements sbmp.PageSource: the arena's block, stamped as
// this shard's.
func (sp *shardPages) AllocPages(cpu, node, order int, flags sbmp.PageFlags) (uint64, int, int64, bool) {
	addr, served, stall, ok := sp.h.arena.AllocPages(cpu, node, order, flags)
	if ok {
		sp.h.stamp(addr, order, 0, sp.stamp)
	}
	return addr, served, stall, ok
}

// FreePages implements sbmp.PageSource. The stamp is cleared before the
// block goes back to the arena, so that it never erases the stamp of a
// shard that got the block next.
func (sp *shardPages) FreePages(cpu int, addr uint64, order int) {
	sp.h.stamp(addr, order, sp.stamp, 0)
	sp.h.arena.FreePages(cpu, addr, order)
}

// FreeFraction implements sbmp.MemoryPressure.
func (sp *shardPages) FreeFraction(node int) float64 { return sp.h.arena.FreeFraction(node) }

// stamp sets the owner of every page of the block of order at addr from
// stamp from to stamp to, panicking if a page's owner was not from: a
// block handed to two shards, or returned by a shard that did not hold it.
func (h *Heap) stamp(addr uint64, order int, from, to int32) {
	first := (addr - Origin) >> pageShift
	for p := first; p < first+1<<order; p++ {
		if got := h.owner[p].Swap(to); got != from {
			panic(fmt.Sprintf("arena: page %d of block %#x order %d: owner stamp %d, want %d", p, addr, order, got, from))
		}
	}
}
