package sbmp

import (
	"fmt"
	"strings"
)

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
	s.RemoteFrees += o.RemoteFrees
	s.RemoteFlushes += o.RemoteFlushes
	s.Trims += o.Trims
	s.TrimmedSlots += o.TrimmedSlots
	s.MediumAllocs += o.MediumAllocs
	s.MediumRemote += o.MediumRemote
	s.Tier1Splits += o.Tier1Splits
	s.Tier1Merges += o.Tier1Merges
	s.Tier1DecayedSlabs += o.Tier1DecayedSlabs
	s.MergeDelayCount += o.MergeDelayCount
	s.MergeDelaySumNs += o.MergeDelaySumNs
	s.MergeDelayMaxNs = max(s.MergeDelayMaxNs, o.MergeDelayMaxNs)
	s.BlocksFromTier2 += o.BlocksFromTier2
	s.BlocksToTier2 += o.BlocksToTier2
	s.Flushes += o.Flushes
	s.DegradeEntries += o.DegradeEntries
	s.DegradeExits += o.DegradeExits
	s.DegradedNs += o.DegradedNs
	s.FSMRefused += o.FSMRefused
	s.FSMDriftMigrations += o.FSMDriftMigrations
	s.FSMFaultMigrations += o.FSMFaultMigrations
}
