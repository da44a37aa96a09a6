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
