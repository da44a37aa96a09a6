// Package sbmp is the SBMP allocator (Scalable Buddy Memory Pool, SPEC 1,
// 2): per-CPU Tier-0 caches of fixed slot sizes, per-node Tier-1 buddy
// pools of 2 or 4 MiB blocks with lazy merging, and Tier-2, the page
// source behind them, with a fallback page cache.
//
// It is pure logic. Everything it needs from the world arrives through
// [Env] (SPEC's environment injection, ARCHITECTURE.md "Env"): a clock, a
// page source, a cost model and the machine's topology. The CPU an
// operation runs on is passed with each call. The simulator implements
// Env over model/kernel and model/numa; a real backend implements it over
// an mmap'd arena. sbmp imports nothing of the simulator.
//
// # Degrade episodes
//
// SPEC 2.6 says when degrade begins (Tier-0 empty, and Tier-1 cannot
// refill it) and what entering costs (every per-CPU cache flushed back to
// the shared pool), not when it ends. Ending it at the first refill that
// finds slots made degrade flap: the flush itself puts slots back, the
// next refills find them, degrade ends, the pool runs dry again, and the
// next entry flushes every CPU again (tens of thousands of flushes a run
// in the default scenario). So degrade is an episode with hysteresis
// (degrade.go): it begins as SPEC 2.6 says, flushes once, and ends at a
// refill that finds slots once it has lasted a minimum dwell and enough
// refills in a row have found slots ([DegradeHysteresis], a parameter of
// every degrade policy; SBMP design parameters, defaults justified
// there). Inside an episode a refill that finds nothing goes straight to
// the degrade policy. Being in an episode changes no allocation's path:
// each still tries its refill first.
//
// Each CPU pays its own flush. When an episode begins every CPU's cache is
// emptied at once (SPEC 2.6's invariant needs every slot out of the caches
// before the pool is searched again), but the modelled cost of emptying
// CPU k's cache is CPU k's: it is owed, and charged to CPU k's next
// allocation slow path (its cache is empty after the flush, so its next
// allocation of a class it had cached takes the slow path; if frees
// restock it first, the next slow path pays either way). The entering
// allocation pays its own CPU's share and the merges the flush sets off.
// This is an SBMP design decision, not Linux's behaviour: Linux's
// drain_all_pages (mm/page_alloc.c) queues drain_local_pages on every CPU
// with pages cached (newer kernels drain the remote lists from the
// caller) and SLUB's flush_all (mm/slub.c) queues flush_cpu_slab, and in
// both the caller waits until every CPU is drained. SBMP's caches are
// per-CPU data with no global lock (SPEC 1.1), so each CPU empties its own
// when it next takes its slow path, and the allocation that began the
// episode does not wait for the others (before, one allocation was
// charged all 32 CPUs' flushes). A debt not yet paid when the allocator
// is swapped out is never charged. Flush (hot swaps) and the
// reclaim-first policy's flush still charge their caller the whole cost.
//
// What a degraded small request costs is the degrade policies' other
// shared parameter ([DegradeSmallCost]): a fallback block of its own, at
// least 8 KiB (SPEC 2.5's smallest system allocation; the default, and
// the footprint cost of degrading that SPEC 1.3 describes), or a slot of
// a fallback block carved for its class and shared under the slow-path
// lock (carve.go). Either way it is a Tier-2 allocation.
package sbmp

// Clock tells the time in nanoseconds. Simulated or monotonic; never used
// to sleep.
type Clock interface {
	Now() int64
}

// PageFlags are the GFP-like flags of a page request.
type PageFlags uint8

const (
	// PageNoRetry asks the page source to fail rather than retry hard or
	// invoke the OOM killer (__GFP_NORETRY); Tier-1 refills use it, as
	// costly orders fail anyway.
	PageNoRetry PageFlags = 1 << iota
	// PageAtomic asks for a non-blocking allocation that may use reserves
	// (GFP_ATOMIC).
	PageAtomic
)

// PageSource is Tier-2: the system's page allocator (the kernel's
// __alloc_pages, or an mmap'd arena). Addresses are byte addresses; a
// block of order o is 4096 << o bytes, aligned to its size.
type PageSource interface {
	// AllocPages allocates 2^order pages preferring node. It reports the
	// node that served, and the time the caller stalled (direct reclaim,
	// throttling), which the allocator charges as alloc stall.
	AllocPages(cpu, node, order int, flags PageFlags) (addr uint64, servedNode int, stallNs int64, ok bool)
	// FreePages returns a block AllocPages gave.
	FreePages(cpu int, addr uint64, order int)
}

// NodeHealth is an optional interface of the page source: whether a
// node's memory is online now. A node taken offline (memory hot-remove,
// or an injected fault) holds no Tier-1 view that could acknowledge a
// sync, and a shadow cannot be persisted there (SPEC 2.1). A page source
// without it has every node online.
type NodeHealth interface {
	NodeOnline(node int) bool
}

// Topology is what SBMP needs of the machine.
type Topology interface {
	// NumCPUs is the number of CPUs; CPU ids are 0..NumCPUs-1.
	NumCPUs() int
	// NumNodes is the number of NUMA nodes with memory; ids 0..n-1.
	NumNodes() int
	// NodeOfCPU is the memory node a CPU allocates from first.
	NodeOfCPU(cpu int) int
	// NodesByDistance lists the memory nodes, nearest to node first.
	NodesByDistance(node int) []int
}

// CostOp names an operation whose cost the allocator reports.
type CostOp uint8

// The operations the cost model prices.
const (
	CostTier0Hit     CostOp = iota // a Tier-0 alloc or free on the fast path
	CostRefillLocal                // a Tier-0 refill from the local node's Tier-1
	CostRefillRemote               // a Tier-0 refill from another node's Tier-1
	CostDrain                      // a Tier-0 drain back to Tier-1
	CostSplit                      // a Tier-1 block split
	CostMerge                      // a Tier-1 buddy merge
	CostFlush                      // a per-CPU flush on entering degrade (SPEC 2.6)
	CostCASRetry                   // a failed compare-and-swap retried (SyncBuffer)
	CostTier2                      // a Tier-2 page allocation or free
	// CostSync is one message of a SyncBuffer sync (SPEC 2.1, 2.2): the
	// shadow record persisted at the switched block's node, or a
	// replica's acknowledgement; from and to are the nodes it travels
	// between, bytes its size (SyncRecordBytes, or 0 for an ack).
	CostSync
	NumCostOps
)

var costOpNames = [NumCostOps]string{"tier0_hit", "refill_local", "refill_remote", "drain", "split", "merge", "flush", "cas_retry", "tier2", "sync"}

func (o CostOp) String() string { return costOpNames[o] }

// CostModel says how long an operation took, so that latency is charged,
// not slept. from and to are NUMA nodes (equal for local work); bytes is
// the data moved.
type CostModel interface {
	CostNs(op CostOp, fromNode, toNode int, bytes int64) int64
}

// Env is the allocator's whole environment.
type Env struct {
	Clock    Clock
	Pages    PageSource
	Topology Topology
	Cost     CostModel
}

// validate checks that every part of the environment is present.
func (e *Env) validate() error {
	switch {
	case e.Clock == nil:
		return errMissing("Clock")
	case e.Pages == nil:
		return errMissing("Pages")
	case e.Topology == nil:
		return errMissing("Topology")
	case e.Cost == nil:
		return errMissing("Cost")
	}
	if e.Topology.NumCPUs() < 1 || e.Topology.NumNodes() < 1 {
		return &ConfigError{Field: "Env.Topology", Msg: "needs at least one CPU and one node"}
	}
	return nil
}

func errMissing(what string) error {
	return &ConfigError{Field: "Env." + what, Msg: "is nil"}
}

// ConfigError reports a bad Config or Env.
type ConfigError struct {
	Field string
	Msg   string
}

func (e *ConfigError) Error() string { return "sbmp: " + e.Field + " " + e.Msg }
