package sbmp

import "fmt"

// SlabSelect is the order in which a refill takes partly used slabs of a
// class from a node (Config.SlabSelect). It decides which slabs empty and
// go back to Tier-1, and so whether Tier-1 can merge.
type SlabSelect uint8

// The slab selection orders.
const (
	// SlabFullest takes the slab with the fewest slots to give (ties: the
	// lowest address), so that the emptiest slabs are left alone to drain
	// back to Tier-1. It is tcmalloc's span prioritisation
	// (tcmalloc/central_freelist.h: `IndexFor` files a span in one of
	// `kNumLists` lists by the bit width of its allocated objects, and
	// `FirstNonEmptySpan` takes from the list of the most allocated); SBMP
	// orders exactly where tcmalloc buckets by powers of two. The default.
	SlabFullest SlabSelect = iota
	// SlabAddress takes the lowest-addressed slab, packing live objects
	// towards one end of the pool. jemalloc's bins keep their non-full
	// slabs in a heap ordered by serial number, then address
	// (`slabs_nonfull`, `edata_snad_comp`); among slabs of one age that is
	// address order.
	SlabAddress
	// SlabNewest takes the slab that most recently got a slot to give (a
	// stack): cache-warm, and what SBMP did before slab selection was a
	// parameter. It leaves old, nearly empty slabs to wait the longest.
	SlabNewest
	numSlabSelect
)

var slabSelectNames = [numSlabSelect]string{"fullest", "address", "newest"}

func (s SlabSelect) String() string {
	if s < numSlabSelect {
		return slabSelectNames[s]
	}
	return fmt.Sprintf("SlabSelect(%d)", uint8(s))
}

// ParseSlabSelect returns the order called name.
func ParseSlabSelect(name string) (SlabSelect, error) {
	for i, n := range slabSelectNames {
		if n == name {
			return SlabSelect(i), nil
		}
	}
	return 0, fmt.Errorf("unknown slab selection %q (known: fullest, address, newest)", name)
}

// partialHeap holds one node's partly used slabs of one class: the slabs
// with a slot to give, each once, ordered by key (smallest first). Every
// slab records its position, so a slab leaves the heap, or moves when its
// key changes, in O(log n) without stale entries.
type partialHeap []*slabState

// slabKey is s's key under sel; seq is the allocator's push counter.
func slabKey(sel SlabSelect, s *slabState, perSlab int32, seq uint64) uint64 {
	switch sel {
	case SlabFullest:
		// Slots it can still give (drained or never carved), then address.
		give := uint64(perSlab - s.inUse)
		return give<<44 | (s.addr>>slabShift)&(1<<44-1)
	case SlabAddress:
		return s.addr
	default: // SlabNewest: the latest push first.
		return ^seq
	}
}

func (h *partialHeap) push(s *slabState) {
	s.heapPos = int32(len(*h))
	*h = append(*h, s)
	h.up(int(s.heapPos))
}

// remove takes s out of the heap.
func (h *partialHeap) remove(s *slabState) {
	i, last := int(s.heapPos), len(*h)-1
	if i != last {
		h.swap(i, last)
	}
	(*h)[last] = nil
	*h = (*h)[:last]
	s.heapPos = -1
	if i != last {
		h.fix(i)
	}
}

// fix restores the order after the key at i changed.
func (h partialHeap) fix(i int) {
	if !h.down(i) {
		h.up(i)
	}
}

func (h partialHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapPos, h[j].heapPos = int32(i), int32(j)
}

func (h partialHeap) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if h[i].key <= h[j].key {
			return
		}
		h.swap(i, j)
		j = i
	}
}

func (h partialHeap) down(i0 int) bool {
	i, n := i0, len(h)
	for {
		j := 2*i + 1
		if j >= n {
			break
		}
		if r := j + 1; r < n && h[r].key < h[j].key {
			j = r
		}
		if h[i].key <= h[j].key {
			break
		}
		h.swap(i, j)
		i = j
	}
	return i > i0
}

// check verifies positions and the heap order.
func (h partialHeap) check() error {
	for i, s := range h {
		if int(s.heapPos) != i {
			return fmt.Errorf("slab %#x at heap position %d records %d", s.addr, i, s.heapPos)
		}
		if i > 0 && h[(i-1)/2].key > s.key {
			return fmt.Errorf("slab %#x: key %#x below its parent's %#x", s.addr, s.key, h[(i-1)/2].key)
		}
	}
	return nil
}
