package arena

import (
	"time"

	"github.com/sbmpsim/sbmpsim/sbmp"
)

// Clock is a monotonic sbmp.Clock: nanoseconds since it was made. This is
// the real backend, so it reads the wall clock's monotonic reading; sbmp
// itself never does. It is safe for concurrent use.
type Clock struct{ start time.Time }

// NewClock returns a clock that reads 0 now.
func NewClock() *Clock { return &Clock{start: time.Now()} }

// Now implements sbmp.Clock.
func (c *Clock) Now() int64 { return int64(time.Since(c.start)) }

// Topology is an sbmp.Topology of one NUMA node with CPUs CPUs. The Heap
// gives each shard's allocator a Topology of one CPU; a caller driving a
// single Allocator over an Arena from one goroutine may use more.
type Topology struct {
	cpus  int
	nodes []int
}

// NewTopology returns a one-node topology of cpus CPUs (at least 1).
func NewTopology(cpus int) Topology { return Topology{cpus: max(cpus, 1), nodes: []int{0}} }

// NumCPUs implements sbmp.Topology.
func (t Topology) NumCPUs() int { return t.cpus }

// NumNodes implements sbmp.Topology: one.
func (t Topology) NumNodes() int { return 1 }

// NodeOfCPU implements sbmp.Topology: every CPU is on node 0.
func (t Topology) NodeOfCPU(int) int { return 0 }

// NodesByDistance implements sbmp.Topology. The slice is shared between
// calls (so refills allocate nothing); callers must not modify it.
func (t Topology) NodesByDistance(int) []int { return t.nodes }

// ZeroCost is an sbmp.CostModel that charges nothing: on real memory an
// operation's latency is the time it really takes, measured, not modelled.
type ZeroCost struct{}

// CostNs implements sbmp.CostModel.
func (ZeroCost) CostNs(sbmp.CostOp, int, int, int64) int64 { return 0 }

// NewEnv returns an sbmp.Env over pages with a one-node topology of cpus
// CPUs, clock and no modelled costs. The Heap builds its shards' Envs
// this way with cpus 1.
func NewEnv(pages sbmp.PageSource, cpus int, clock *Clock) sbmp.Env {
	return sbmp.Env{Clock: clock, Pages: pages, Topology: NewTopology(cpus), Cost: ZeroCost{}}
}
