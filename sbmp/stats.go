package sbmp

import (
	"fmt"
	"strings"
)

// Stats are the allocator's counters (SPEC 1.4, 4.1). They are plain
// integers: the simulated allocator is single-threaded, and the real
// backend keeps one Stats per shard.
type Stats struct {
	// Allocations by the tier that served them: tier0 from the CPU's
	// cache as it stood, tier1 after a refill from Tier-1, tier2 from the
	// page source (large requests, and small ones when degraded).
	Tier0Allocs, Tier1Allocs, Tier2Allocs int64
	Frees                                 int64
	AllocFailures                         int64
	// FallbackCount is sbmp_fallback_count (SPEC 4.1): allocations that
	// left the fast path.
	FallbackCount int64
	// Tier2Fallbacks counts small allocations Tier-2 served because
	// Tier-0 and Tier-1 could not: the fallback_to_tier2 of SPEC 1.5.
	Tier2Fallbacks int64
	// AllocStallNs is sbmp_alloc_stall_ns (SPEC 4.1): time allocations
	// spent in the slow path, including the page source's stalls.
	AllocStallNs int64

	Refills, RefillsRemote, Drains int64
	Tier1Splits, Tier1Merges       int64
	// Merge delays of Tier-1 slabs, from free to merge (tier1_merge_delay).
	MergeDelayCount, MergeDelaySumNs, MergeDelayMaxNs int64
	BlocksFromTier2, BlocksToTier2                    int64
	Flushes                                           int64
	DegradeEntries                                    int64
	// FSMRefused counts FSM transitions refused by legality or contract
	// (an allocation request with no local free block stays IDLE).
	FSMRefused int64
}

func (s *Stats) noteMergeDelay(ns int64) {
	s.MergeDelayCount++
	s.MergeDelaySumNs += ns
	s.MergeDelayMaxNs = max(s.MergeDelayMaxNs, ns)
}

// MergeDelayMeanNs is the mean Tier-1 merge delay so far.
func (s *Stats) MergeDelayMeanNs() int64 {
	if s.MergeDelayCount == 0 {
		return 0
	}
	return s.MergeDelaySumNs / s.MergeDelayCount
}

// DebugfsText renders the allocator's state in the format of
// /sys/kernel/debug/sbmp/stats (SPEC 1.4): one "key: value" line per
// counter, cpuN_tier0_free being the free slots of the smallest class in
// CPU N's cache, then total_free (free bytes in Tier-0 and Tier-1).
func (a *Allocator) DebugfsText() string {
	var b strings.Builder
	for cpu := range a.cpus {
		fmt.Fprintf(&b, "cpu%d_tier0_free: %d\n", cpu, a.Tier0Free(cpu, 0))
	}
	fmt.Fprintf(&b, "total_free: %d\n", a.TotalFreeBytes())
	s := &a.stats
	for _, kv := range []struct {
		k string
		v int64
	}{
		{"tier0_allocs", s.Tier0Allocs}, {"tier1_allocs", s.Tier1Allocs}, {"tier2_allocs", s.Tier2Allocs},
		{"fallback_to_tier2", s.Tier2Fallbacks}, {"sbmp_fallback_count", s.FallbackCount},
		{"sbmp_alloc_stall_ns", s.AllocStallNs}, {"tier1_merge_delay_ns_mean", s.MergeDelayMeanNs()},
		{"tier1_merge_delay_ns_max", s.MergeDelayMaxNs}, {"tier1_blocks", a.Tier1Blocks()},
	} {
		fmt.Fprintf(&b, "%s: %d\n", kv.k, kv.v)
	}
	return b.String()
}

// Add adds o's counters to s, as for the allocators of several processes
// reported together; MergeDelayMaxNs takes the larger of the two.
func (s *Stats) Add(o Stats) {
	s.Tier0Allocs += o.Tier0Allocs
	s.Tier1Allocs += o.Tier1Allocs
	s.Tier2Allocs += o.Tier2Allocs
	s.Frees += o.Frees
	s.AllocFailures += o.AllocFailures
	s.FallbackCount += o.FallbackCount
	s.Tier2Fallbacks += o.Tier2Fallbacks
	s.AllocStallNs += o.AllocStallNs
	s.Refills += o.Refills
	s.RefillsRemote += o.RefillsRemote
	s.Drains += o.Drains
	s.Tier1Splits += o.Tier1Splits
	s.Tier1Merges += o.Tier1Merges
	s.MergeDelayCount += o.MergeDelayCount
	s.MergeDelaySumNs += o.MergeDelaySumNs
	s.MergeDelayMaxNs = max(s.MergeDelayMaxNs, o.MergeDelayMaxNs)
	s.BlocksFromTier2 += o.BlocksFromTier2
	s.BlocksToTier2 += o.BlocksToTier2
	s.Flushes += o.Flushes
	s.DegradeEntries += o.DegradeEntries
	s.FSMRefused += o.FSMRefused
}
