package sbmp

import (
	"fmt"
	"slices"
)

// CheckInvariants verifies the allocator's books between operations and
// returns the first broken invariant, or nil:
//
//   - Tier-1: every free-list entry heads a free buddy block of its order
//     at its recorded position, no slab is free twice, pending slabs are
//     marked, each block's free count and each node's block count match,
//     and the address index maps every block;
//   - slabs: every carved slab lies in a Tier-1 block and is not also free
//     there; its carved slots are in use (cached or live) or drained, each
//     drained slot once; it has a slot out (an empty slab goes back to
//     Tier-1); it is on its node's partial list exactly when it has a slot
//     to give, and no partial list offers a slab of another node;
//   - Tier-0: every cached slot lies in a carved slab of its class, on a
//     slot boundary, carved and not drained, and in one cache once; no
//     cache is over capacity;
//   - blocks: carved slabs plus free or pending slabs make every block;
//   - FSM: every CPU's FSM is IDLE with no sync in flight, and every
//     refill cycle it began has ended;
//   - stats: allocations minus frees equal the objects live in slabs plus
//     the live Tier-2 allocations, and blocks taken from Tier-2 minus
//     blocks returned equal the blocks held;
//   - the Tier-2 page cache's own invariants (PageCache.CheckInvariants).
//
// It costs O((slabs + cached slots + partial-list entries) log slabs +
// drained slots + Tier-1 slabs) and reuses its buffers. It is for tests and
// `sbmpsim check`, never the allocation path.
func (a *Allocator) CheckInvariants() error {
	if err := a.t1.check(); err != nil {
		return err
	}
	live, err := a.checkSlabs()
	if err != nil {
		return err
	}
	if err := a.checkFSMs(); err != nil {
		return err
	}
	s := &a.stats
	if got, want := s.Tier0Allocs+s.Tier1Allocs+s.Tier2Allocs-s.Frees, live+int64(len(a.tier2Live)); got != want {
		return fmt.Errorf("sbmp: allocs %d + %d + %d - frees %d = %d live, slabs and Tier-2 hold %d + %d",
			s.Tier0Allocs, s.Tier1Allocs, s.Tier2Allocs, s.Frees, got, live, len(a.tier2Live))
	}
	if got := s.BlocksFromTier2 - s.BlocksToTier2; got != a.Tier1Blocks() {
		return fmt.Errorf("sbmp: %d blocks from Tier-2 - %d returned = %d, Tier-1 holds %d", s.BlocksFromTier2, s.BlocksToTier2, got, a.Tier1Blocks())
	}
	if err := a.checkCarve(); err != nil {
		return err
	}
	return a.pc.CheckInvariants()
}

// checkSlabs checks the carved slabs, the per-CPU caches and the partial
// lists against each other and Tier-1 (t1.check must have run: it leaves
// the free slabs in t1.covered), and returns the objects live in slabs.
// Each slab's slots have a range of bits in scratch.bits: a cached or
// drained slot sets its bit, and finding it set already means a slot in
// two places.
func (a *Allocator) checkSlabs() (live int64, err error) {
	sc := &a.scratch
	sc.slabs = sc.slabs[:0]
	for addr := range a.slabs {
		sc.slabs = append(sc.slabs, addr)
	}
	slices.Sort(sc.slabs)
	sc.states = sc.states[:0]
	sc.first = sc.first[:0]
	words := 0
	for _, addr := range sc.slabs {
		s := a.slabs[addr]
		if s.class < 0 || s.class >= len(a.cfg.SlotSizes) {
			return 0, fmt.Errorf("sbmp: slab %#x: class %d of %d", addr, s.class, len(a.cfg.SlotSizes))
		}
		sc.states = append(sc.states, s)
		sc.first = append(sc.first, int32(words))
		words += int(1<<slabShift/a.cfg.SlotSizes[s.class]+63) / 64
	}
	sc.bits = slices.Grow(sc.bits[:0], words)[:words]
	clear(sc.bits)
	sc.cachedIn = slices.Grow(sc.cachedIn[:0], len(sc.slabs))[:len(sc.slabs)]
	clear(sc.cachedIn)
	if err := a.markCached(); err != nil {
		return 0, err
	}
	if err := a.checkPartialLists(); err != nil {
		return 0, err
	}
	sc.carved = slices.Grow(sc.carved[:0], len(a.t1.blocks))[:len(a.t1.blocks)]
	clear(sc.carved)
	for i, addr := range sc.slabs {
		s := sc.states[i]
		n, err := a.checkSlab(i, addr, s)
		if err != nil {
			return 0, err
		}
		if sc.cachedIn[i] > s.inUse {
			return 0, fmt.Errorf("sbmp: slab %#x: %d slots cached, %d out", addr, sc.cachedIn[i], s.inUse)
		}
		live += int64(s.inUse - sc.cachedIn[i])
		sc.carved[n]++
	}
	spb := a.t1.slabsPerBlock()
	for n, b := range a.t1.blocks {
		if b != nil && int(sc.carved[n])+b.freeSlabs != spb {
			return 0, fmt.Errorf("sbmp: block %#x: %d carved + %d free slabs != %d", b.base, sc.carved[n], b.freeSlabs, spb)
		}
	}
	return live, nil
}

// checkSlab checks carved slab i on its own and against Tier-1, marks its
// drained slots, and returns its block number.
func (a *Allocator) checkSlab(i int, addr uint64, s *slabState) (blockNum int32, err error) {
	bad := func(format string, args ...any) (int32, error) {
		return 0, fmt.Errorf("sbmp: slab %#x: "+format, append([]any{addr}, args...)...)
	}
	if addr&(1<<slabShift-1) != 0 {
		return bad("misaligned")
	}
	num, b := a.t1.numOf(addr)
	if b == nil {
		return bad("in no Tier-1 block")
	}
	if a.t1.covered[int(num)*a.t1.slabsPerBlock()+a.t1.slabIndex(b, addr)] {
		return bad("carved, and free or pending in Tier-1")
	}
	size := a.cfg.SlotSizes[s.class]
	perSlab := int32(1 << slabShift / size)
	if s.carved < 0 || s.carved > perSlab || s.inUse != s.carved-int32(len(s.free)) {
		return bad("carved %d of %d, drained %d, in use %d", s.carved, perSlab, len(s.free), s.inUse)
	}
	if s.inUse <= 0 {
		return bad("no slot out, yet not returned to Tier-1")
	}
	sc := &a.scratch
	bits := sc.bits[sc.first[i]:]
	for _, off := range s.free {
		k := off / uint32(size)
		if int64(off)%size != 0 || int32(k) >= s.carved || bits[k/64]&(1<<(k%64)) != 0 {
			return bad("drained offset %#x: misaligned, uncarved, drained twice or also cached", off)
		}
		bits[k/64] |= 1 << (k % 64)
	}
	canGive := len(s.free) > 0 || s.carved < perSlab
	if s.inPartial != canGive || sc.listed[i] != s.inPartial {
		return bad("has a slot to give %v, marked partial %v, on its node's partial list %v", canGive, s.inPartial, sc.listed[i])
	}
	return num, nil
}

// markCached marks every cached slot in its slab's bits, checking it
// against its slab and the cache's capacity, and that no slot is cached
// twice; it counts the cached slots of each slab in scratch.cachedIn.
func (a *Allocator) markCached() error {
	sc := &a.scratch
	for cpu := range a.cpus {
		for cls, c := range a.cpus[cpu].caches {
			if len(c) > a.cfg.Tier0CapacitySlots {
				return fmt.Errorf("sbmp: cpu %d class %d caches %d slots, capacity %d", cpu, cls, len(c), a.cfg.Tier0CapacitySlots)
			}
			size := uint64(a.cfg.SlotSizes[cls])
			// A refill takes runs of slots from one slab: remember the
			// last slab found.
			lastSlab, i, found := uint64(1), 0, false
			for _, addr := range c {
				slab := addr &^ (1<<slabShift - 1)
				if slab != lastSlab {
					i, found = slices.BinarySearch(sc.slabs, slab)
					lastSlab = slab
				}
				if !found || sc.states[i].class != cls || (addr-slab)%size != 0 || (addr-slab)/size >= uint64(sc.states[i].carved) {
					return fmt.Errorf("sbmp: cpu %d class %d caches %#x, not a carved slot of a class %d slab", cpu, cls, addr, cls)
				}
				k := (addr - slab) / size
				w := &sc.bits[uint64(sc.first[i])+k/64]
				if *w&(1<<(k%64)) != 0 {
					return fmt.Errorf("sbmp: slot %#x is cached twice", addr)
				}
				*w |= 1 << (k % 64)
				sc.cachedIn[i]++
			}
		}
	}
	return nil
}

// checkPartialLists marks in scratch.listed the slabs that have a live
// entry in a partial list (one partialSlab would return), and checks that
// every live entry is in the list of its slab's node and class. Stale
// entries (slabs gone, re-carved for another class, or exhausted) are
// allowed: the lists are cleaned lazily.
func (a *Allocator) checkPartialLists() error {
	sc := &a.scratch
	sc.listed = slices.Grow(sc.listed[:0], len(sc.slabs))[:len(sc.slabs)]
	clear(sc.listed)
	for node, classes := range a.partial {
		for cls, l := range classes {
			for _, addr := range l {
				s := a.slabs[addr]
				if s == nil || !s.inPartial || s.class != cls {
					continue
				}
				if b := a.t1.blockOf(addr); b.node != node {
					return fmt.Errorf("sbmp: node %d's partial list of class %d offers slab %#x of node %d", node, cls, addr, b.node)
				}
				i, _ := slices.BinarySearch(sc.slabs, addr)
				sc.listed[i] = true
			}
		}
	}
	return nil
}

// checkFSMs checks that between operations every CPU's FSM is back in
// IDLE with no sync in flight, and that its cycles balance: every
// IDLE->ALLOCATING ended in IDLE.
func (a *Allocator) checkFSMs() error {
	for cpu := range a.cpus {
		st := &a.cpus[cpu]
		if st.fsm.State() != StateIdle || st.sync.Pending() {
			return fmt.Errorf("sbmp: cpu %d: FSM in %v, sync pending %v between operations", cpu, st.fsm.State(), st.sync.Pending())
		}
		in := st.fsm.Count(StateIdle, StateAllocating)
		out := st.fsm.Count(StateAllocating, StateIdle) + st.fsm.Count(StateSyncing, StateIdle) + st.fsm.Count(StateActive, StateIdle)
		if in != out {
			return fmt.Errorf("sbmp: cpu %d: %d refill cycles began, %d ended", cpu, in, out)
		}
	}
	return nil
}
