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
//   - FSM: every CPU's FSM is IDLE, or ACTIVE on the block its
//     SyncBuffer switched to, with no sync in flight, and every state it
//     entered it left, but the one it is in (checkFSMs);
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
	if got, want := s.Tier0Allocs+s.Tier1Allocs+s.Tier2Allocs-s.Frees, live+int64(len(a.tier2Live)+len(a.mediumLive)); got != want {
		return fmt.Errorf("sbmp: allocs %d + %d + %d - frees %d = %d live, slabs, Tier-2 and medium blocks hold %d + %d + %d",
			s.Tier0Allocs, s.Tier1Allocs, s.Tier2Allocs, s.Frees, got, live, len(a.tier2Live), len(a.mediumLive))
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
	if err := a.checkMedium(); err != nil {
		return 0, err
	}
	spb := a.t1.slabsPerBlock()
	for n, b := range a.t1.blocks {
		if b != nil && int(sc.carved[n])+b.freeSlabs != spb {
			return 0, fmt.Errorf("sbmp: block %#x: %d carved or medium + %d free slabs != %d", b.base, sc.carved[n], b.freeSlabs, spb)
		}
	}
	return live, nil
}

// checkMedium checks each live medium block: aligned to its order in a
// Tier-1 block, none of its slabs free, pending or carved; it counts its
// slabs in scratch.carved (t1.check and the slab loop must have run).
func (a *Allocator) checkMedium() error {
	sc := &a.scratch
	spb := a.t1.slabsPerBlock()
	for addr, order := range a.mediumLive {
		num, b := a.t1.numOf(addr)
		if b == nil || order < 0 || int(order) >= a.t1.topOrder || (addr-b.base)&(uint64(1)<<(slabShift+int(order))-1) != 0 {
			return fmt.Errorf("sbmp: medium block %#x of order %d: not an aligned block of that order in Tier-1", addr, order)
		}
		first := a.t1.slabIndex(b, addr)
		for i := first; i < first+1<<order; i++ {
			slab := b.base + uint64(i)<<slabShift
			if a.t1.covered[int(num)*spb+i] || a.slabs[slab] != nil {
				return fmt.Errorf("sbmp: medium block %#x: slab %#x is also free, pending or carved", addr, slab)
			}
		}
		sc.carved[num] += 1 << order
	}
	return nil
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
	if s.inPartial() != canGive || sc.listed[i] != s.inPartial() {
		return bad("has a slot to give %v, marked partial %v, in its node's partial heap %v", canGive, s.inPartial(), sc.listed[i])
	}
	if s.addr != addr {
		return bad("records address %#x", s.addr)
	}
	return num, nil
}

// markCached marks every cached slot (in a CPU's cache, or in an alien
// cache on its way home) in its slab's bits, checking it against its slab
// and the cache's capacity, and that no slot is cached twice; it counts
// the cached slots of each slab in scratch.cachedIn.
func (a *Allocator) markCached() error {
	for cpu := range a.cpus {
		for cls, c := range a.cpus[cpu].caches {
			if len(c) > a.cfg.Tier0CapacitySlots {
				return fmt.Errorf("sbmp: cpu %d class %d caches %d slots, capacity %d", cpu, cls, len(c), a.cfg.Tier0CapacitySlots)
			}
			if low := a.cpus[cpu].low[cls]; low < 0 || (int(low) > len(c) && low != untouched) || (low == untouched && a.trim.LowWater) {
				return fmt.Errorf("sbmp: cpu %d class %d: low-water mark %d, the cache holds %d", cpu, cls, low, len(c))
			}
			if err := a.markSlots(c, nil, cls, fmt.Sprintf("cpu %d", cpu)); err != nil {
				return err
			}
		}
	}
	classes := len(a.cfg.SlotSizes)
	for home := range a.alien {
		for i, l := range a.alien[home] {
			owner, cls := i/classes, i%classes
			if len(l) >= max(a.cfg.RemoteFreeBatch, 1) || (len(l) > 0 && owner == home) {
				return fmt.Errorf("sbmp: node %d's alien cache of node %d class %d holds %d slots (batch %d)", home, owner, cls, len(l), a.cfg.RemoteFreeBatch)
			}
			if err := a.markSlots(nil, l, cls, fmt.Sprintf("node %d's alien cache", home)); err != nil {
				return err
			}
			for _, s := range l {
				if b := a.t1.blockOf(s.addr); b.node != owner {
					return fmt.Errorf("sbmp: node %d's alien cache for node %d holds %#x of node %d", home, owner, s.addr, b.node)
				}
			}
		}
	}
	return nil
}

// markSlots marks the slots of c (or, when c is nil, of alien) as
// cached, for markCached; where names the cache in errors.
func (a *Allocator) markSlots(c []uint64, alien []alienSlot, cls int, where string) error {
	sc := &a.scratch
	size := uint64(a.cfg.SlotSizes[cls])
	// A refill takes runs of slots from one slab: remember the last slab
	// found.
	lastSlab, i, found := uint64(1), 0, false
	n := len(c)
	if c == nil {
		n = len(alien)
	}
	for j := range n {
		var addr uint64
		if c != nil {
			addr = c[j]
		} else {
			addr = alien[j].addr
		}
		slab := addr &^ (1<<slabShift - 1)
		if slab != lastSlab {
			i, found = slices.BinarySearch(sc.slabs, slab)
			lastSlab = slab
		}
		if !found || sc.states[i].class != cls || (addr-slab)%size != 0 || (addr-slab)/size >= uint64(sc.states[i].carved) {
			return fmt.Errorf("sbmp: %s class %d caches %#x, not a carved slot of a class %d slab", where, cls, addr, cls)
		}
		k := (addr - slab) / size
		w := &sc.bits[uint64(sc.first[i])+k/64]
		if *w&(1<<(k%64)) != 0 {
			return fmt.Errorf("sbmp: slot %#x is cached twice", addr)
		}
		*w |= 1 << (k % 64)
		sc.cachedIn[i]++
	}
	return nil
}

// checkPartialLists marks in scratch.listed the slabs in a partial heap,
// and checks each heap: its order and recorded positions, every slab in
// it carved, of its class and node, in it once, with the key the slab
// selection order gives it (SlabNewest's keys are the push order, which
// is not recomputable: only their uniqueness follows from the heap).
func (a *Allocator) checkPartialLists() error {
	sc := &a.scratch
	sc.listed = slices.Grow(sc.listed[:0], len(sc.slabs))[:len(sc.slabs)]
	clear(sc.listed)
	for node, classes := range a.partial {
		for cls, h := range classes {
			if err := h.check(); err != nil {
				return fmt.Errorf("sbmp: node %d class %d partial heap: %w", node, cls, err)
			}
			for _, s := range h {
				i, found := slices.BinarySearch(sc.slabs, s.addr)
				if !found || sc.states[i] != s || s.class != cls {
					return fmt.Errorf("sbmp: node %d's partial heap of class %d holds slab %#x, not a carved slab of that class", node, cls, s.addr)
				}
				if b := a.t1.blockOf(s.addr); b.node != node {
					return fmt.Errorf("sbmp: node %d's partial heap of class %d offers slab %#x of node %d", node, cls, s.addr, b.node)
				}
				if sc.listed[i] {
					return fmt.Errorf("sbmp: slab %#x is in a partial heap twice", s.addr)
				}
				if a.cfg.SlabSelect != SlabNewest && s.key != slabKey(a.cfg.SlabSelect, s, a.perSlab(cls), 0) {
					return fmt.Errorf("sbmp: slab %#x: key %#x, its %v key is %#x", s.addr, s.key, a.cfg.SlabSelect, slabKey(a.cfg.SlabSelect, s, a.perSlab(cls), 0))
				}
				sc.listed[i] = true
			}
		}
	}
	return nil
}

// checkFSMs checks every CPU's FSM between operations against the
// contracts in the doc of FSM:
//
//   - the FSM is IDLE or ACTIVE (ALLOCATING, SYNCING and MIGRATING last
//     only within an operation) and no sync is in flight;
//   - IDLE: the SyncBuffer's local is 0 and no switched block is recorded;
//   - ACTIVE: local is the recorded switched slab, a slab of a slot class,
//     of another node than the CPU's; while its block is still that
//     node's and the cache still holds the slot observed at the mark,
//     that slot is of the slab and no slot of the slab lies below it (the
//     mark that makes the observation of "still serves" exact);
//   - flows balance: every state but IDLE was left as often as it was
//     entered, but for the one the CPU is in;
//   - the drift window counts no more remote slots than slots, and the
//     owed migration cost is not negative.
func (a *Allocator) checkFSMs() error {
	for cpu := range a.cpus {
		st := &a.cpus[cpu]
		state := st.fsm.State()
		if (state != StateIdle && state != StateActive) || st.sync.Pending() {
			return fmt.Errorf("sbmp: cpu %d: FSM in %v, sync pending %v between operations", cpu, state, st.sync.Pending())
		}
		if err := a.checkSwitch(cpu, state); err != nil {
			return err
		}
		for s := range NumStates {
			if s == StateIdle {
				continue
			}
			var in, out uint64
			for o := range NumStates {
				in += st.fsm.Count(o, s)
				out += st.fsm.Count(s, o)
			}
			if s == state {
				out++
			}
			if in != out {
				return fmt.Errorf("sbmp: cpu %d: %v entered %d times, left %d times + %d (in it now)", cpu, s, in, out-b2u(s == state), b2u(s == state))
			}
		}
		x := &st.fsmx
		if x.winRemote < 0 || x.winRemote > x.winTotal || x.owedNs < 0 {
			return fmt.Errorf("sbmp: cpu %d: drift window %d remote of %d slots, owes %d ns", cpu, x.winRemote, x.winTotal, x.owedNs)
		}
	}
	return nil
}

// checkSwitch checks cpu's SyncBuffer and switched block against its FSM
// state, for checkFSMs.
func (a *Allocator) checkSwitch(cpu int, state State) error {
	st := &a.cpus[cpu]
	x := &st.fsmx
	local, _ := st.sync.Load()
	if state == StateIdle {
		if local != 0 || x.slab != 0 {
			return fmt.Errorf("sbmp: cpu %d: IDLE with SyncBuffer local %#x, switched slab %#x", cpu, local, x.slab)
		}
		return nil
	}
	if local == 0 || local != x.slab || x.slab&(1<<slabShift-1) != 0 {
		return fmt.Errorf("sbmp: cpu %d: ACTIVE with SyncBuffer local %#x, switched slab %#x", cpu, local, x.slab)
	}
	if x.cls < 0 || x.cls >= len(st.caches) || x.node == st.node || x.node < 0 || x.node >= len(a.t1.nodes) {
		return fmt.Errorf("sbmp: cpu %d (node %d): ACTIVE on slab %#x of class %d, node %d", cpu, st.node, x.slab, x.cls, x.node)
	}
	if b := a.t1.blockOf(x.slab); b == nil || b.node != x.node {
		// The fast path handed out the slab's last slot, they all came
		// home and the block left Tier-1 (or came back to another
		// node), all since the last observation: legal, and the next
		// one ends ACTIVE. (markCached checks that no cached slot lies
		// outside a carved slab.)
		return nil
	}
	c := st.caches[x.cls]
	if x.mark < 0 || x.mark >= len(c) || c[x.mark] != x.slot {
		return nil // the fast path may have handed the slot out since
	}
	if x.slot&^(1<<slabShift-1) != x.slab {
		return fmt.Errorf("sbmp: cpu %d: mark %d holds %#x, not a slot of switched slab %#x", cpu, x.mark, x.slot, x.slab)
	}
	for i, s := range c[:x.mark] {
		if s&^(1<<slabShift-1) == x.slab {
			return fmt.Errorf("sbmp: cpu %d: slot %#x of switched slab %#x at %d, below its mark %d", cpu, s, x.slab, i, x.mark)
		}
	}
	return nil
}

// b2u is 1 for true.
func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
