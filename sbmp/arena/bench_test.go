package arena

import (
	"sync"
	"testing"

	"github.com/sbmpsim/sbmpsim/sbmp"
)

// The fast-path comparison: one alloc+free of 64 bytes, with
// one byte written so that every variant touches its memory.
//
//	go test -bench . -run '^$' ./sbmp/arena/
//
// sim-mode is sbmp.Allocator alone over a trivial Env (what the simulator
// pays per operation, less its cost model); heap is the real backend,
// sharded and locked; sync.Pool and make are the Go baselines.

const benchSize = 64

// simEnv is the trivial Env of sim-mode: a frozen clock, a bump page
// source that never runs out, one CPU, no costs.
type simEnv struct{ next uint64 }

func (e *simEnv) Now() int64 { return 0 }

func (e *simEnv) AllocPages(cpu, node, order int, flags sbmp.PageFlags) (uint64, int, int64, bool) {
	size := uint64(PageBytes) << order
	e.next = (e.next + size - 1) &^ (size - 1)
	addr := e.next
	e.next += size
	return addr, 0, 0, true
}

func (e *simEnv) FreePages(int, uint64, int) {}

func BenchmarkAllocFree64(b *testing.B) {
	b.Run("sim-mode", func(b *testing.B) {
		env := &simEnv{next: Origin}
		al, err := sbmp.New(sbmp.Env{Clock: env, Pages: env, Topology: NewTopology(1), Cost: ZeroCost{}}, sbmp.DefaultConfig())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			r := al.Alloc(0, benchSize)
			if !r.OK {
				b.Fatal("alloc failed")
			}
			if _, err := al.Free(0, r.Addr, benchSize); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("heap", func(b *testing.B) {
		h := benchHeap(b)
		b.ReportAllocs()
		for b.Loop() {
			p := h.Alloc(benchSize)
			p[0] = 1
			if err := h.Free(p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("heap-parallel", func(b *testing.B) {
		h := benchHeap(b)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				p := h.Alloc(benchSize)
				p[0] = 1
				if err := h.Free(p); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	pool := &sync.Pool{New: func() any { return new([benchSize]byte) }}
	b.Run("sync.Pool", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p := pool.Get().(*[benchSize]byte)
			p[0] = 1
			pool.Put(p)
		}
	})
	b.Run("sync.Pool-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				p := pool.Get().(*[benchSize]byte)
				p[0] = 1
				pool.Put(p)
			}
		})
	})
	b.Run("make", func(b *testing.B) {
		// Storing into the ring makes each slice escape to the heap, as a
		// real allocation that outlives its function would; the GC frees
		// it (the "free" of this variant).
		var ring [16][]byte
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			p := make([]byte, benchSize)
			p[0] = 1
			ring[i&15] = p
			i++
		}
	})
	b.Run("make-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			var ring [16][]byte
			i := 0
			for pb.Next() {
				p := make([]byte, benchSize)
				p[0] = 1
				ring[i&15] = p
				i++
			}
		})
	})
}

func benchHeap(b *testing.B) *Heap {
	b.Helper()
	h, err := NewHeap(Options{Arena: ArenaConfig{SizeBytes: 64 << 20}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := h.Close(); err != nil {
			b.Error(err)
		}
	})
	return h
}
