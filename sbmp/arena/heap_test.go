package arena

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/sbmpsim/sbmpsim/sbmp"
)

func newTestHeap(t *testing.T, opts Options) *Heap {
	t.Helper()
	h, err := NewHeap(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Error(err)
		}
	})
	return h
}

// fill writes id's bytes over b, repeated: every byte of an allocation is
// its own, so an overlapping allocation shows as bytes of another id.
func fill(b []byte, id uint64) {
	var w [8]byte
	binary.LittleEndian.PutUint64(w[:], id)
	n := copy(b, w[:])
	for n < len(b) {
		n += copy(b[n:], b[:n])
	}
}

// intact reports whether b still holds what fill(b, id) wrote.
func intact(b []byte, id uint64) bool {
	var w [8]byte
	binary.LittleEndian.PutUint64(w[:], id)
	n := min(len(b), 8)
	if !bytes.Equal(b[:n], w[:n]) {
		return false
	}
	// b[:n] is right; each doubling compares the next stretch with it.
	for ; n < len(b); n *= 2 {
		if !bytes.Equal(b[n:min(2*n, len(b))], b[:min(n, len(b)-n)]) {
			return false
		}
	}
	return true
}

// object is an allocation under test.
type object struct {
	b  []byte
	id uint64
}

// testSize draws an allocation size: mostly Tier-0 classes, some Tier-2
// page-cache sizes, a few large blocks up to 1 MiB.
func testSize(rng *rand.Rand) int {
	switch r := rng.IntN(100); {
	case r < 75:
		return 1 + rng.IntN(1024)
	case r < 97:
		return 1025 + rng.IntN(64<<10)
	default:
		return 64<<10 + rng.IntN(1<<20)
	}
}

// TestHeapConcurrent runs goroutines that allocate random sizes, write
// every byte, hand some allocations to another goroutine, and verify every
// byte before freeing, under -race in CI. Afterwards each shard has
// freed exactly what it allocated: frees reached their owners. With one
// shard every goroutine contends for it; with four, tokens spread.
func TestHeapConcurrent(t *testing.T) {
	for _, shards := range []int{1, 4} {
		t.Run(fmt.Sprintf("shards=%d", shards), func(t *testing.T) { testHeapConcurrent(t, shards) })
	}
}

func testHeapConcurrent(t *testing.T, shards int) {
	const (
		seed       = 7
		goroutines = 8
		steps      = 8000
		maxLive    = 48
	)
	h := newTestHeap(t, Options{Shards: shards, Arena: ArenaConfig{SizeBytes: 512 << 20}})
	inbox := make([]chan object, goroutines)
	for g := range inbox {
		inbox[g] = make(chan object, 64)
	}
	verifyFree := func(o object) {
		if !intact(o.b, o.id) {
			t.Errorf("seed %d: allocation %#x (%d bytes) was overwritten", seed, o.id, len(o.b))
		}
		if err := h.Free(o.b); err != nil {
			t.Errorf("seed %d: free of %#x: %v", seed, o.id, err)
		}
	}
	var allocs [goroutines]int64
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(g)))
			var live []object
			for step := range steps {
				for drained := false; !drained; {
					select {
					case o := <-inbox[g]:
						verifyFree(o)
					default:
						drained = true
					}
				}
				if len(live) < maxLive && rng.IntN(3) != 0 {
					size := testSize(rng)
					b := h.Alloc(size)
					if len(b) != size || cap(b) != size {
						t.Errorf("seed %d goroutine %d step %d: Alloc(%d) gave len %d cap %d", seed, g, step, size, len(b), cap(b))
						return
					}
					o := object{b, uint64(g)<<32 | uint64(step)}
					fill(o.b, o.id)
					live = append(live, o)
					allocs[g]++
					continue
				}
				if len(live) == 0 {
					continue
				}
				i := rng.IntN(len(live))
				o := live[i]
				live[i] = live[len(live)-1]
				live = live[:len(live)-1]
				select {
				case inbox[(g+1)%goroutines] <- o: // freed by another goroutine
				default:
					verifyFree(o)
				}
			}
			for _, o := range live {
				verifyFree(o)
			}
		})
	}
	wg.Wait()
	for _, in := range inbox {
		close(in)
		for o := range in {
			verifyFree(o)
		}
	}
	var total, want, tier2 int64
	for _, n := range allocs {
		want += n
	}
	for i, st := range h.ShardStats() {
		served := st.Tier0Allocs + st.Tier1Allocs + st.Tier2Allocs
		if served != st.Frees || st.AllocFailures != 0 {
			t.Errorf("shard %d: allocated %d, freed %d, failed %d", i, served, st.Frees, st.AllocFailures)
		}
		total += served
		tier2 += st.Tier2Allocs
	}
	if total != want || tier2 == 0 {
		t.Errorf("shards served %d allocations (%d from Tier-2), goroutines made %d", total, tier2, want)
	}
}

// allocOn allocates size bytes from shard i, as Alloc does from the shard
// its token names.
func (h *Heap) allocOn(i, size int) []byte {
	s := &h.shards[i]
	s.mu.Lock()
	defer s.mu.Unlock()
	return h.allocLocked(s, size)
}

// TestHeapCrossShardFree allocates on every shard and frees everything
// from other goroutines, concurrently with new allocations: each free
// must reach the shard that allocated, which a free on the wrong
// allocator would not.
func TestHeapCrossShardFree(t *testing.T) {
	const shards = 3
	h := newTestHeap(t, Options{Shards: shards, Arena: ArenaConfig{SizeBytes: 128 << 20}})
	sizes := []int{8, 64, 200, 1000, 5000, 40000, 300000}
	var objs []object
	for i := range shards {
		for j, size := range sizes {
			for k := range 50 {
				b := h.allocOn(i, size)
				if b == nil {
					t.Fatalf("shard %d: Alloc(%d) failed", i, size)
				}
				o := object{b, uint64(i)<<40 | uint64(j)<<20 | uint64(k)}
				fill(o.b, o.id)
				objs = append(objs, o)
			}
		}
	}
	// A Tier-2 block of shard 0 is unknown to shard 1's allocator.
	big := objs[len(sizes)*50-1]
	addr, _ := h.arena.AddrOf(big.b)
	if _, err := h.shards[1].alloc.Free(0, addr, int64(len(big.b))); err == nil {
		t.Fatal("shard 1 accepted a free of shard 0's Tier-2 block")
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := g; i < len(objs); i += 4 {
				if !intact(objs[i].b, objs[i].id) {
					t.Errorf("allocation %#x was overwritten", objs[i].id)
				}
				if err := h.Free(objs[i].b); err != nil {
					t.Error(err)
				}
				// Allocations on whichever shard this goroutine's token
				// names, interleaved with the routed frees.
				b := h.Alloc(sizes[i%len(sizes)])
				fill(b, uint64(i))
				if !intact(b, uint64(i)) {
					t.Errorf("fresh allocation %d was overwritten", i)
				}
				if err := h.Free(b); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	for i, st := range h.ShardStats() {
		served := st.Tier0Allocs + st.Tier1Allocs + st.Tier2Allocs
		if served != st.Frees || served < int64(len(sizes)*50) {
			t.Errorf("shard %d: allocated %d, freed %d", i, served, st.Frees)
		}
	}
}

func TestHeapSizes(t *testing.T) {
	h := newTestHeap(t, Options{Shards: 1, Arena: ArenaConfig{SizeBytes: 16 << 20}})
	for _, size := range []int{0, -1, TopBlockBytes + 1} {
		if b := h.Alloc(size); b != nil {
			t.Errorf("Alloc(%d) gave %d bytes", size, len(b))
		}
	}
	for _, size := range []int{1, 64, 65, 1024, 1025, 64 << 10, TopBlockBytes} {
		b := h.Alloc(size)
		if len(b) != size || cap(b) != size {
			t.Fatalf("Alloc(%d): len %d cap %d", size, len(b), cap(b))
		}
		fill(b, uint64(size))
		if err := h.Free(b[:0]); err != nil { // a shorter length frees the same
			t.Fatalf("Free of Alloc(%d): %v", size, err)
		}
	}
}

func TestHeapFreeErrors(t *testing.T) {
	h := newTestHeap(t, Options{Shards: 2, Arena: ArenaConfig{SizeBytes: 16 << 20}})
	if err := h.Free(nil); err != nil {
		t.Errorf("Free(nil): %v", err)
	}
	var fe *FreeError
	if err := h.Free(make([]byte, 64)); !errors.As(err, &fe) {
		t.Errorf("Free of a Go slice: %v, want a *FreeError", err)
	}
	// A large block (above half a Tier-1 block) goes back to the arena at
	// once: its second free finds no owner.
	large := h.Alloc(2 << 20)
	if err := h.Free(large); err != nil {
		t.Fatal(err)
	}
	if err := h.Free(large); !errors.As(err, &fe) {
		t.Errorf("double free of a large block: %v, want a *FreeError", err)
	}
	// A medium block (a Tier-1 buddy block) stays with its shard: the
	// allocator catches it.
	medium := h.Alloc(1 << 20)
	if err := h.Free(medium); err != nil {
		t.Fatal(err)
	}
	if err := h.Free(medium); err == nil {
		t.Error("double free of a medium block succeeded")
	}
	// A page-cache block stays with its shard: the allocator catches it.
	mid := h.Alloc(5000)
	if err := h.Free(mid); err != nil {
		t.Fatal(err)
	}
	if err := h.Free(mid); err == nil {
		t.Error("double free of a page-cache block succeeded")
	}
}

// TestHeapExhaustion fills a small arena with small and large allocations,
// then frees everything and fills it again.
func TestHeapExhaustion(t *testing.T) {
	h := newTestHeap(t, Options{Shards: 1, Arena: ArenaConfig{SizeBytes: 8 << 20}})
	fillUp := func(size int) [][]byte {
		var got [][]byte
		for {
			b := h.Alloc(size)
			if b == nil {
				return got
			}
			b[0], b[size-1] = 1, 2
			got = append(got, b)
		}
	}
	for _, size := range []int{1 << 20, 64} {
		first := fillUp(size)
		if int64(len(first))*int64(size) < 4<<20 {
			t.Fatalf("size %d: an 8 MiB arena served only %d allocations", size, len(first))
		}
		for _, b := range first {
			if err := h.Free(b); err != nil {
				t.Fatal(err)
			}
		}
		again := fillUp(size)
		for _, b := range again {
			if err := h.Free(b); err != nil {
				t.Fatal(err)
			}
		}
		if len(again) < len(first)/2 {
			t.Fatalf("size %d: %d allocations, only %d after freeing them all", size, len(first), len(again))
		}
	}
}

func TestHeapClose(t *testing.T) {
	h, err := NewHeap(Options{Shards: 2, Arena: ArenaConfig{SizeBytes: 16 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	b := h.Alloc(64)
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if got := h.Alloc(64); got != nil {
		t.Error("Alloc after Close served")
	}
	if err := h.Free(b); err == nil {
		t.Error("Free after Close succeeded")
	}
	if err := h.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestHeapOptionErrors(t *testing.T) {
	for _, opts := range []Options{
		{Shards: -1},
		{Shards: MaxShards + 1},
		{Shards: 1, Arena: ArenaConfig{SizeBytes: 3}},
		{Shards: 1, Arena: ArenaConfig{SizeBytes: TopBlockBytes}, Config: func(int) sbmp.Config { return sbmp.Config{BlockOrder: 3} }},
	} {
		if h, err := NewHeap(opts); err == nil {
			_ = h.Close()
			t.Errorf("NewHeap(%+v) succeeded", opts)
		}
	}
}
