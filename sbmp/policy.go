package sbmp

// The policy interfaces SBMP's behaviour is swapped through:
// small interfaces declared here, implementations and the registry by
// name in package policies. The three implementations in this file are
// the built-in defaults, so that the allocator runs without the registry.
// Policies may keep state (adaptive batches), so each allocator gets its
// own instances.

// MergeState is what a merge policy sees of one node's Tier-1.
type MergeState struct {
	Node            int
	Pending         int   // freed slabs waiting to be merged
	OldestPendingNs int64 // when the oldest of them was freed
	NowNs           int64
	// FreeFraction is the node's free memory over its total as the page
	// source reports it (MemoryPressure), or -1 when the Env does not say.
	FreeFraction float64
}

// MergePolicy decides when Tier-1 coalesces freed slabs with their buddies
// (lazy merge, SPEC 1.1).
type MergePolicy interface {
	Name() string
	ShouldMerge(MergeState) bool
}

// MemoryPressure is an optional interface of the page source: the free
// fraction of a node's memory, for watermark-driven policies.
type MemoryPressure interface {
	FreeFraction(node int) float64
}

// LazyThresholdMerge merges once Threshold slabs are queued on a node.
type LazyThresholdMerge struct{ Threshold int }

// Name implements MergePolicy.
func (LazyThresholdMerge) Name() string { return "lazy-threshold" }

// ShouldMerge implements MergePolicy.
func (p LazyThresholdMerge) ShouldMerge(s MergeState) bool { return s.Pending >= p.Threshold }

// RefillState is what a refill policy sees when a CPU's cache runs empty.
type RefillState struct {
	CPU, Class, Home int
	Cached, Capacity int   // slots in the cache now, and its capacity
	NowNs            int64 // the time of this refill
}

// RefillStep is one place a refill takes slots from: node's slabs, and,
// when Grow is set, a new block from Tier-2 into node's Tier-1.
type RefillStep struct {
	Node int
	Grow bool
}

// RefillPlan is how one refill proceeds.
type RefillPlan struct {
	Batch int // slots to move into the cache
	// StealPeers: first take slots from the caches of other CPUs of the
	// home node.
	StealPeers bool
	Steps      []RefillStep
}

// RefillPolicy decides how many slots a Tier-0 refill moves and where it
// takes them from. The Steps slice may be reused by the policy between
// calls; the allocator does not keep it.
type RefillPolicy interface {
	Name() string
	Plan(RefillState, Topology) RefillPlan
}

// FixedBatchRefill moves Slots slots per refill, from the home node's
// Tier-1 (growing it from Tier-2 if needed) before any remote node.
type FixedBatchRefill struct {
	Slots int
	steps []RefillStep
}

// Name implements RefillPolicy.
func (*FixedBatchRefill) Name() string { return "fixed-batch" }

// Plan implements RefillPolicy.
func (p *FixedBatchRefill) Plan(s RefillState, topo Topology) RefillPlan {
	p.steps = p.steps[:0]
	for _, n := range topo.NodesByDistance(s.Home) {
		p.steps = append(p.steps, RefillStep{Node: n, Grow: true})
	}
	return RefillPlan{Batch: p.Slots, Steps: p.steps}
}

// DegradeAction is what the allocator does when Tier-0 and Tier-1 cannot
// serve.
type DegradeAction uint8

// Degrade actions.
const (
	// DegradeTier2 serves the allocation from Tier-2 (the page source).
	DegradeTier2 DegradeAction = iota
	// DegradeFail fails the allocation.
	DegradeFail
	// DegradeWait asks the caller to retry after WaitNs (a refill may
	// have become possible by then); Alloc reports RetryAfterNs.
	DegradeWait
	// DegradeStealRemote takes slots from any node's existing Tier-1
	// slabs, without growing Tier-1, then from other CPUs' caches (half
	// of each, nearest node first), then falls back to Tier-2.
	DegradeStealRemote
	// DegradeReclaimFirst flushes every CPU cache and merges, retries the
	// refill, and only then falls back to Tier-2.
	DegradeReclaimFirst
)

// DegradeState is what a degrade policy sees.
type DegradeState struct {
	CPU, Class int
	NowNs      int64
	// Attempt counts how often this allocation was retried after a
	// DegradeWait (0 on the first try).
	Attempt int
}

// DegradeDecision is a degrade policy's answer.
type DegradeDecision struct {
	Action DegradeAction
	WaitNs int64 // for DegradeWait
}

// DegradePolicy decides what an allocation Tier-0 and Tier-1 could not
// serve gets.
type DegradePolicy interface {
	Name() string
	OnExhausted(DegradeState) DegradeDecision
}

// ImmediateTier2 degrades straight to Tier-2.
type ImmediateTier2 struct{}

// Name implements DegradePolicy.
func (ImmediateTier2) Name() string { return "immediate-tier2" }

// OnExhausted implements DegradePolicy.
func (ImmediateTier2) OnExhausted(DegradeState) DegradeDecision {
	return DegradeDecision{Action: DegradeTier2}
}
