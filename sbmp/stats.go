package sbmp

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
	// RemoteFrees counts slots freed on another node than their own;
	// RemoteFlushes the alien-cache batches that took them home; Trims
	// the idle trims and TrimmedSlots the slots they returned.
	RemoteFrees, RemoteFlushes, Trims, TrimmedSlots int64
	// MediumAllocs counts the medium allocations Tier-1 served (a buddy
	// block each; they are among Tier1Allocs), MediumRemote those another
	// node's pool served.
	MediumAllocs, MediumRemote int64
	Tier1Splits, Tier1Merges   int64
	// Tier1DecayedSlabs counts the pending slabs the idle decay merged
	// (homing.go); their merges are among Tier1Merges, their waits not
	// among the merge delays.
	Tier1DecayedSlabs int64
	// Merge delays of Tier-1 slabs, from free to merge (tier1_merge_delay).
	MergeDelayCount, MergeDelaySumNs, MergeDelayMaxNs int64
	BlocksFromTier2, BlocksToTier2                    int64
	Flushes                                           int64
	// DegradeEntries counts degrade episodes begun, DegradeExits those
	// ended (degrade.go); the two differ by one while an episode is open.
	DegradeEntries, DegradeExits int64
	// DegradedNs is the time spent in degrade episodes: the closed ones,
	// and, in Allocator.Stats, the open one up to the time of the call.
	DegradedNs int64
	// FSMRefused counts FSM transitions refused by legality or contract:
	// an allocation request with no free block in Tier-1 stays IDLE, and
	// a sync whose shadow was not persisted or acknowledged is refused
	// ACTIVE (and fails, SYNCING -> IDLE).
	FSMRefused int64
	// FSMDriftMigrations and FSMFaultMigrations count the ACTIVE CPUs
	// that migrated on load drift and on a fault signal (fsmdrive.go).
	FSMDriftMigrations, FSMFaultMigrations int64
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
