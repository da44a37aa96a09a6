package sbmp

import (
	"fmt"
	"math/bits"
)

// Medium requests (SPEC 1.2: Tier-1 is a buddy pool that serves every
// order from its slab size to its block size). Which sizes go where:
//
//   - up to the largest Tier-0 class (1 KiB by default): a Tier-0 slot,
//     refilled from Tier-1 slabs;
//   - above it, up to half a Tier-1 block (1 MiB with 2 MiB blocks): a
//     Tier-1 buddy block of 2^o slabs, the smallest order that holds the
//     request (64 KiB for anything up to 64 KiB, 128 KiB up to 128 KiB,
//     ...). A request just above the largest class takes a whole 64 KiB
//     slab: the internal fragmentation of SBMP's design (add Tier-0
//     classes up to 64 KiB to avoid it);
//   - larger: Tier-2, the page source.
//
// A medium allocation takes a free block of its order from the home
// node's pool, splitting a larger one if it must; an order-0 request
// takes a slab waiting to merge first, as a Tier-0 refill does. A freed
// medium block goes back as its 2^o slabs, queued for the lazy merge
// like any freed slab: until the merge policy coalesces them, they serve
// slab-sized requests but not larger ones. So the merge policy decides
// whether a larger order can be served from what was freed, or the pool
// must split a fresh block, grow from Tier-2, or fall back to Tier-2.
// When the home node's pool has no block of the order even after growing
// (a failed Tier-2 block request), the other nodes' pools are tried,
// nearest first, without growing them; then Tier-2 serves the request,
// counted in fallback_to_tier2 (Tier-1 failed). Degrade policies govern
// Tier-0 classes only: a medium request never waits or fails by policy.

// mediumOrder returns the Tier-1 order of a request of size bytes, or -1
// when the request is not a medium one.
func (a *Allocator) mediumOrder(size int64) int {
	if size <= a.cfg.SlotSizes[len(a.cfg.SlotSizes)-1] || size > int64(1)<<(a.t1.blockShift-1) {
		return -1
	}
	slabs := uint64(size+1<<slabShift-1) >> slabShift
	return bits.Len64(slabs - 1)
}

// allocMedium serves a medium request of 2^order slabs on cpu.
func (a *Allocator) allocMedium(cpu int, size int64, order int) AllocResult {
	st := &a.cpus[cpu]
	home := st.node
	a.stats.FallbackCount++ // it left the fast path
	var stall int64
	for _, node := range a.env.Topology.NodesByDistance(home) {
		for {
			addr, splits, ok := a.t1.allocOrder(node, order)
			if ok {
				a.stats.Tier1Allocs++
				a.stats.MediumAllocs++
				a.mediumLive[addr] = int8(order)
				op := CostRefillLocal
				if node != home {
					op = CostRefillRemote
					a.stats.MediumRemote++
				}
				cost := stall + int64(splits)*a.env.Cost.CostNs(CostSplit, node, node, 0) + a.env.Cost.CostNs(op, node, home, 0)
				a.stats.AllocStallNs += cost
				return AllocResult{Addr: addr, OK: true, Tier: 1, CostNs: cost}
			}
			if node != home {
				break
			}
			s, grown := a.growTier1(cpu, node)
			stall += s
			if !grown {
				break
			}
		}
	}
	a.stats.AllocStallNs += stall
	r := a.allocTier2(cpu, size, true)
	if r.OK {
		a.stats.Tier2Fallbacks++
	}
	r.CostNs += stall
	return r
}

// freeMedium frees a medium block: its slabs go back to Tier-1, queued
// for the lazy merge.
func (a *Allocator) freeMedium(cpu int, addr uint64, size int64) (int64, error) {
	order, ok := a.mediumLive[addr]
	if !ok {
		return 0, fmt.Errorf("sbmp: free of %#x (%d B), which is no live Tier-1 medium block (freed twice, or a slot freed with the wrong size)", addr, size)
	}
	if want := a.mediumOrder(size); want != int(order) {
		return 0, fmt.Errorf("sbmp: free of %#x with %d B, a size of order %d; it was allocated as order %d", addr, size, want, order)
	}
	delete(a.mediumLive, addr)
	a.stats.Frees++
	now := a.env.Clock.Now()
	for i := range 1 << order {
		if err := a.t1.freeSlab(addr+uint64(i)<<slabShift, now); err != nil {
			return 0, err
		}
	}
	home := a.cpus[cpu].node
	b := a.t1.blockOf(addr)
	cost := a.env.Cost.CostNs(CostDrain, b.node, home, 0)
	mc, err := a.maybeMerge(now)
	return cost + mc, err
}
