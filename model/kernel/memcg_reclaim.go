package kernel

// This file is the reclaim contract between the memory controller, which
// owns counters, and its caller, which owns the pages
// (try_to_free_mem_cgroup_pages).

// MemcgReclaimReason says which path asks for reclaim.
type MemcgReclaimReason int

// Reclaim reasons.
const (
	// ReclaimForMax: a charge hit memory.max (try_charge_memcg).
	ReclaimForMax MemcgReclaimReason = iota
	// ReclaimForHigh: usage above memory.high (reclaim_high).
	ReclaimForHigh
	// ReclaimForLimitWrite: memory.max or memory.high was lowered below
	// usage (memory_max_write, memory_high_write).
	ReclaimForLimitWrite
)

// MemcgReclaim is one call of try_to_free_mem_cgroup_pages.
type MemcgReclaim struct {
	// Cgroup is sc->target_mem_cgroup: reclaim from pages charged to it
	// and its descendants only.
	Cgroup string
	// NrToReclaimPages is sc->nr_to_reclaim = max(nr_pages,
	// SWAP_CLUSTER_MAX). Reclaim starts at DEF_PRIORITY and stops once
	// it has this many (do_try_to_free_pages).
	NrToReclaimPages int64
	// MaySwap is sc->may_swap, always true on cgroup v2; with v1's memsw
	// accounting a charge that hit the memsw limit clears it, since
	// swapping does not lower memsw. Whether anon can actually be swapped is
	// SwapAvailable > 0. Scan balance: ScanCount with CgroupReclaim set
	// and the global vm.swappiness (cgroup v2 has no per-cgroup
	// swappiness, mem_cgroup_swappiness), so swappiness 0 reclaims file
	// pages only.
	MaySwap bool
	Reason  MemcgReclaimReason
}

// MemcgReclaimer performs one try_to_free_mem_cgroup_pages for the
// caller, who owns the pages. It returns how many pages it reclaimed and
// must have uncharged each of them (Uncharge) from cgroups in
// r.Cgroup's subtree before returning; a swapped-out page is also
// charged to swap (TryChargeSwap). It must not charge memory. Cgroups
// checks that the target's memory.current fell by at least the reported
// count (ErrReclaimContract otherwise), which is what guarantees that the
// kernel's "retry while reclaim makes progress" loops end. A nil
// MemcgReclaimer reclaims nothing.
type MemcgReclaimer func(r MemcgReclaim) (reclaimedPages int64)

// reclaim calls fn for target and checks the contract.
func (c *Cgroups) reclaim(fn MemcgReclaimer, target int32, pages int64, why MemcgReclaimReason) (int64, error) {
	if fn == nil {
		return 0, nil
	}
	before := c.cgs[target].memory.usage
	got := fn(MemcgReclaim{Cgroup: c.cgs[target].path, NrToReclaimPages: max(pages, swapClusterMax),
		MaySwap: why != ReclaimForMax || !c.memswFailed, Reason: why})
	if after := c.cgs[target].memory.usage; got < 0 || after > before-got {
		return 0, cgErr("reclaim", c.cgs[target].path, ErrReclaimContract,
			"reported %d pages, memory.current %d -> %d", got, before, after)
	}
	return got, nil
}
