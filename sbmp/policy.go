package sbmp

// The policy interfaces SBMP's behaviour is swapped through (issue 4:
// small interfaces declared here, implementations and the registry by
// name in package policies). The few implementations in this file are the
// built-in defaults, so the allocator runs without the registry.

// MergeState is what a merge policy sees of one node's Tier-1.
type MergeState struct {
	Node            int
	Pending         int   // freed slabs waiting to be merged
	OldestPendingNs int64 // when the oldest of them was freed
	NowNs           int64
	// FreeFraction is the page source's free memory over its total, for
	// watermark-driven policies; -1 when unknown.
	FreeFraction float64
}

// MergePolicy decides when Tier-1 coalesces freed slabs with their buddies
// (lazy merge, SPEC 1.1).
type MergePolicy interface {
	Name() string
	ShouldMerge(MergeState) bool
}

// LazyThresholdMerge merges once Threshold slabs are queued on a node.
type LazyThresholdMerge struct{ Threshold int }

// Name implements MergePolicy.
func (LazyThresholdMerge) Name() string { return "lazy-threshold" }

// ShouldMerge implements MergePolicy.
func (p LazyThresholdMerge) ShouldMerge(s MergeState) bool { return s.Pending >= p.Threshold }

// RefillState is what a refill policy sees when a CPU's cache runs empty.
type RefillState struct {
	CPU, Class int
	Cached     int // slots still in the cache (0 on a miss)
}

// RefillPolicy decides how many slots a Tier-0 refill moves and which
// nodes' Tier-1 it takes them from, in order.
type RefillPolicy interface {
	Name() string
	Batch(RefillState) int
	Nodes(cpu, home int, topo Topology) []int
}

// FixedBatchRefill moves Slots slots per refill, from the home node first
// and then the others nearest first (local-first).
type FixedBatchRefill struct{ Slots int }

// Name implements RefillPolicy.
func (FixedBatchRefill) Name() string { return "fixed-batch" }

// Batch implements RefillPolicy.
func (p FixedBatchRefill) Batch(RefillState) int { return p.Slots }

// Nodes implements RefillPolicy.
func (FixedBatchRefill) Nodes(_, home int, topo Topology) []int { return topo.NodesByDistance(home) }

// DegradeAction is what the allocator does when Tier-0 and Tier-1 cannot
// serve.
type DegradeAction uint8

// Degrade actions.
const (
	DegradeTier2 DegradeAction = iota // serve from Tier-2 (the page source)
	DegradeFail                       // fail the allocation
)

// DegradeState is what a degrade policy sees.
type DegradeState struct{ CPU, Class int }

// DegradePolicy decides what an allocation that Tier-0 and Tier-1 could
// not serve gets.
type DegradePolicy interface {
	Name() string
	OnExhausted(DegradeState) DegradeAction
}

// ImmediateTier2 degrades straight to Tier-2.
type ImmediateTier2 struct{}

// Name implements DegradePolicy.
func (ImmediateTier2) Name() string { return "immediate-tier2" }

// OnExhausted implements DegradePolicy.
func (ImmediateTier2) OnExhausted(DegradeState) DegradeAction { return DegradeTier2 }
