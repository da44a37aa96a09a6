package sbmp

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestSlabKeyOrder: under each selection the heap gives slabs in the
// order its doc names: fullest (fewest slots to give) first with ties
// to the lowest address, address order, or the latest push first.
func TestSlabKeyOrder(t *testing.T) {
	const perSlab = 64
	slab := func(addr uint64, inUse int32) *slabState { return &slabState{addr: addr << slabShift, inUse: inUse} }
	for _, c := range []struct {
		sel  SlabSelect
		want []uint64 // slab numbers (addr >> slabShift), in pop order
	}{
		// Fullest: 60 in use (4 to give) before 10 in use; among the two
		// with 4 to give, the lower address, though its lowest bit is
		// the higher one's complement (a mask that kept only low bits
		// would order them the other way).
		{SlabFullest, []uint64{0x601, 0xa04, 0x3, 0x9}},
		{SlabAddress, []uint64{0x3, 0x9, 0x601, 0xa04}},
		// Newest: pushed in the order below, so the last push comes first.
		{SlabNewest, []uint64{0x601, 0x3, 0xa04, 0x9}},
	} {
		slabs := []*slabState{slab(0x9, 10), slab(0xa04, 60), slab(0x3, 20), slab(0x601, 60)}
		var h partialHeap
		for seq, s := range slabs {
			s.key = slabKey(c.sel, s, perSlab, uint64(seq))
			h.push(s)
			if err := h.check(); err != nil {
				t.Fatalf("%v: after push %d: %v", c.sel, seq, err)
			}
		}
		var got []uint64
		for len(h) > 0 {
			s := h[0]
			h.remove(s)
			if s.heapPos != -1 {
				t.Errorf("%v: removed slab records position %d", c.sel, s.heapPos)
			}
			if err := h.check(); err != nil {
				t.Fatalf("%v: %v", c.sel, err)
			}
			got = append(got, s.addr>>slabShift)
		}
		if len(got) != len(c.want) {
			t.Fatalf("%v: popped %x", c.sel, got)
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%v: pop order %x, want %x", c.sel, got, c.want)
				break
			}
		}
	}
}

// TestPartialHeapRandom: pushes, removals from anywhere and key changes
// in random order keep every position and the heap order (check), and
// the top is always the smallest key.
func TestPartialHeapRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h partialHeap
	var in []*slabState
	for step := range 5000 {
		switch op := r.IntN(3); {
		case op == 0 || len(in) == 0:
			s := &slabState{addr: uint64(step) << slabShift, key: r.Uint64N(50)}
			h.push(s)
			in = append(in, s)
		case op == 1:
			i := r.IntN(len(in))
			h.remove(in[i])
			in = append(in[:i], in[i+1:]...)
		default:
			s := in[r.IntN(len(in))]
			s.key = r.Uint64N(50)
			h.fix(int(s.heapPos))
		}
		if err := h.check(); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		for _, s := range in {
			if len(h) == 0 || s.key < h[0].key {
				t.Fatalf("step %d: top key %d above a member's %d", step, h[0].key, s.key)
			}
		}
	}
}

// TestPartialHeapCheckCatches: check reports a wrong recorded position
// and a key below its parent's, naming the slab.
func TestPartialHeapCheckCatches(t *testing.T) {
	build := func() partialHeap {
		var h partialHeap
		for i, k := range []uint64{1, 5, 3, 7, 9, 4} {
			h.push(&slabState{addr: uint64(i+1) << slabShift, key: k})
		}
		return h
	}
	h := build()
	h[4].key = 0 // below its parent at 1
	if err := h.check(); err == nil || !strings.Contains(err.Error(), "below its parent") {
		t.Errorf("a key below its parent: %v", err)
	}
	h = build()
	h[3].heapPos = 2
	if err := h.check(); err == nil || !strings.Contains(err.Error(), "records 2") {
		t.Errorf("a wrong position: %v", err)
	}
}

// TestSlabSelectNames: names round-trip; an unknown name and an out of
// range value say so.
func TestSlabSelectNames(t *testing.T) {
	for s := range numSlabSelect {
		got, err := ParseSlabSelect(s.String())
		if err != nil || got != s {
			t.Errorf("%v: parsed %v, %v", s, got, err)
		}
	}
	if got := numSlabSelect.String(); got != "SlabSelect(3)" {
		t.Errorf("out of range: %q", got)
	}
	if _, err := ParseSlabSelect("oldest"); err == nil || !strings.Contains(err.Error(), `"oldest"`) {
		t.Errorf("unknown: %v", err)
	}
}
