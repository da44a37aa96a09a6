package sbmp

import (
	"fmt"
	"slices"
)

// Carved fallback blocks (DegradeSmallCarve). When degrade serves a small
// request from Tier-2 and the degrade policy carves, the request gets a
// slot of its class in a fallback block shared with the other degraded
// requests of that class on its node, instead of a fallback block of its
// own. A block is the page cache's smallest, 8 KiB (SPEC 2.5: system
// allocations are at least 8 KiB), or one slot when the class is larger,
// and goes back to the page cache when its last slot is freed.
//
// Taking or returning a slot happens under the slow-path lock: the model
// charges a local refill of one slot for a take and a drain of one slot
// for a return, on top of the page cache's price when a block is taken
// from it or given back. The blocks are kept per node and class, like
// Tier-1's partial slabs, and a slot is never cached on a CPU: it is a
// Tier-2 allocation (tier2Live holds it, AllocResult.Tier is 2, and
// Tier2Allocs and fallback_to_tier2 count it), so Owns, frees and the
// allocator's books treat it as one.

// carveMinBytes is the size of a carved fallback block for classes up to
// it: the page cache's smallest block, SPEC 2.5's smallest system
// allocation.
const carveMinBytes = 8 << 10

// carveBytes is the size of the fallback block carved for slots of
// slotBytes.
func carveBytes(slotBytes int64) int64 { return max(carveMinBytes, slotBytes) }

// carvePage is one fallback block carved into slots of one class.
type carvePage struct {
	base   uint64
	node   int
	cls    int
	free   []uint32 // offsets of free slots; the lowest on top
	inUse  int32    // slots handed out
	listed bool     // on carvePool.avail[node][cls]
	// onList is checkCarve's mark: the check epoch in which it found the
	// block on its list.
	onList uint32
}

// carvePool is the allocator's carved fallback blocks.
type carvePool struct {
	pages map[uint64]*carvePage // by base address
	// avail[node][cls] lists blocks with a free slot, newest last.
	// Entries go stale when a block fills up or goes back to the page
	// cache (listed false, or not in pages); takers drop them.
	avail [][][]*carvePage
	// checkEpoch, checkBases and checkFree are checkCarve's: the mark of
	// the current check and reusable buffers.
	checkEpoch uint32
	checkBases []uint64
	checkFree  []bool
}

func (c *carvePool) init(nodes, classes int) {
	c.pages = map[uint64]*carvePage{}
	c.avail = make([][][]*carvePage, nodes)
	for n := range c.avail {
		c.avail[n] = make([][]*carvePage, classes)
	}
}

// carvedPage returns the carved block holding addr, a live Tier-2 allocation
// of size bytes, or nil when it is a fallback block of its own.
func (a *Allocator) carvedPage(addr uint64, size int64) *carvePage {
	if len(a.carve.pages) == 0 {
		return nil
	}
	cls := a.classOf(size)
	if cls < 0 {
		return nil
	}
	// Page-cache blocks are aligned to their size, so a carved block's
	// base is addr rounded down to it.
	return a.carve.pages[addr&^uint64(carveBytes(a.cfg.SlotSizes[cls])-1)]
}

// allocCarved serves a degraded small request of class cls from a carved
// fallback block, carving a new one from the page cache when none of
// cpu's node has a free slot.
func (a *Allocator) allocCarved(cpu, cls int, size int64) AllocResult {
	node := a.env.Topology.NodeOfCPU(cpu)
	slot := a.cfg.SlotSizes[cls]
	cost := a.env.Cost.CostNs(CostRefillLocal, node, node, slot)
	p := a.availCarved(node, cls)
	if p == nil {
		bytes := carveBytes(slot)
		addr, c, ok := a.pageCacheAlloc(cpu, node, bytes)
		cost += c
		if !ok {
			return AllocResult{CostNs: cost}
		}
		p = &carvePage{base: addr, node: node, cls: cls}
		for off := bytes - slot; off >= 0; off -= slot {
			p.free = append(p.free, uint32(off))
		}
		a.carve.pages[p.base] = p
		p.listed = true
		a.carve.avail[node][cls] = append(a.carve.avail[node][cls], p)
	}
	off := p.free[len(p.free)-1]
	p.free = p.free[:len(p.free)-1]
	p.inUse++
	addr := p.base + uint64(off)
	a.stats.Tier2Allocs++
	a.tier2Live[addr] = size
	return AllocResult{Addr: addr, OK: true, Tier: 2, CostNs: cost}
}

// availCarved returns the newest carved block of node and class cls with
// a free slot, dropping stale entries on the way, or nil.
func (a *Allocator) availCarved(node, cls int) *carvePage {
	l := &a.carve.avail[node][cls]
	for len(*l) > 0 {
		p := (*l)[len(*l)-1]
		if p.listed && len(p.free) > 0 && a.carve.pages[p.base] == p {
			return p
		}
		p.listed = false
		*l = (*l)[:len(*l)-1]
	}
	return nil
}

// freeCarved takes back the carved slot addr of block p on cpu; the block
// goes back to the page cache with its last slot.
func (a *Allocator) freeCarved(cpu int, p *carvePage, addr uint64) (int64, error) {
	node := a.env.Topology.NodeOfCPU(cpu)
	slot := a.cfg.SlotSizes[p.cls]
	delete(a.tier2Live, addr)
	a.stats.Frees++
	cost := a.env.Cost.CostNs(CostDrain, node, p.node, slot)
	p.free = append(p.free, uint32(addr-p.base))
	p.inUse--
	if p.inUse > 0 {
		if !p.listed {
			p.listed = true
			a.carve.avail[p.node][p.cls] = append(a.carve.avail[p.node][p.cls], p)
		}
		return cost, nil
	}
	delete(a.carve.pages, p.base)
	bytes := carveBytes(slot)
	if err := a.pc.Free(cpu, p.base, bytes); err != nil {
		return cost, err
	}
	return cost + a.env.Cost.CostNs(CostTier2, node, node, bytes), nil
}

// checkCarve checks the carved blocks: each is aligned to its size, its
// free and live slots add up to the block, no slot is both free and live
// or neither, and a block with a free slot is listed. It costs O(carved
// slots): CheckInvariants runs after every event of `sbmpsim check`, so
// it must not walk every live Tier-2 allocation.
func (a *Allocator) checkCarve() error {
	c := &a.carve
	c.checkEpoch++
	for node := range c.avail {
		for cls, l := range c.avail[node] {
			for _, p := range l {
				if c.pages[p.base] != p {
					continue // a stale entry: the block went back
				}
				if p.onList == c.checkEpoch || p.node != node || p.cls != cls {
					return fmt.Errorf("sbmp: carved block %#x (node %d class %d) is listed twice or on node %d class %d's list", p.base, p.node, p.cls, node, cls)
				}
				p.onList = c.checkEpoch
			}
		}
	}
	// In address order, so that the first error found does not depend on
	// map order.
	bases := c.checkBases[:0]
	for base := range c.pages {
		bases = append(bases, base)
	}
	slices.Sort(bases)
	c.checkBases = bases
	for _, base := range bases {
		if err := a.checkCarvePage(base, a.carve.pages[base]); err != nil {
			return err
		}
	}
	return nil
}

// checkCarvePage checks one carved block, filed under base.
func (a *Allocator) checkCarvePage(base uint64, p *carvePage) error {
	slot := a.cfg.SlotSizes[p.cls]
	bytes := carveBytes(slot)
	n := int32(bytes / slot)
	switch {
	case p.base != base || base%uint64(bytes) != 0:
		return fmt.Errorf("sbmp: carved block %#x: misfiled or not aligned to %d bytes", base, bytes)
	case p.inUse < 1 || p.inUse+int32(len(p.free)) != n:
		return fmt.Errorf("sbmp: carved block %#x: %d slots out + %d free != %d, or none out", base, p.inUse, len(p.free), n)
	case len(p.free) > 0 && !p.listed:
		return fmt.Errorf("sbmp: carved block %#x has %d free slots and is not listed", base, len(p.free))
	case p.listed != (p.onList == a.carve.checkEpoch):
		return fmt.Errorf("sbmp: carved block %#x: marked listed %v, on its list %v", base, p.listed, !p.listed)
	}
	free := slices.Grow(a.carve.checkFree[:0], int(n))[:n]
	clear(free)
	a.carve.checkFree = free
	for _, off := range p.free {
		i := int64(off) / slot
		if int64(off)%slot != 0 || i >= int64(n) || free[i] {
			return fmt.Errorf("sbmp: carved block %#x: free offset %#x repeated, misaligned or outside", base, off)
		}
		free[i] = true
	}
	for i, isFree := range free {
		addr := base + uint64(int64(i)*slot)
		size, live := a.tier2Live[addr]
		switch {
		case live && isFree:
			return fmt.Errorf("sbmp: carved slot %#x is both live and free", addr)
		case !live && !isFree:
			return fmt.Errorf("sbmp: carved slot %#x is neither live nor free (lost)", addr)
		case live && a.classOf(size) != p.cls:
			return fmt.Errorf("sbmp: carved slot %#x of class %d holds a live %d-byte allocation", addr, p.cls, size)
		}
	}
	return nil
}
