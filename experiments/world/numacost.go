package world

import (
	"github.com/sbmpsim/sbmpsim/model/numa"
	"github.com/sbmpsim/sbmpsim/sbmp"
)

// numaCost prices SBMP's operations from the NUMA model: moving bytes
// costs the idle load latency between the nodes plus the bytes at the
// link's bandwidth; a Tier-0 hit touches no other node's memory; a Tier-2
// allocation pays a page-fault cost per page (about 250 ns for a 4 KiB
// anonymous fault, on top of the kernel model's reclaim stalls); a sync
// message (the shadow record, or an ack) moves its bytes like any other
// transfer, so a numa-latency fault slows it and can make it time out
// (sbmp.FSMConfig.SyncTimeoutFactor). Every
// SBMP process of a run prices its work with the same numaCost, and
// numa-latency faults change it in place (see faultSide.applyLatency).
type numaCost struct {
	latNs [][]int64 // [from][to], kernel node indices
	bwMBs [][]int64
	// baseLatNs and baseBwMBs are the machine's own values, before any
	// fault.
	baseLatNs [][]int64
	baseBwMBs [][]int64
}

// newNUMACost builds the cost model between the memory nodes memNodeIDs
// (kernel node k is topology node memNodeIDs[k]).
func newNUMACost(topo *numa.Topology, memNodeIDs []int) *numaCost {
	n := len(memNodeIDs)
	c := &numaCost{latNs: make([][]int64, n), bwMBs: make([][]int64, n)}
	for i, a := range memNodeIDs {
		c.latNs[i] = make([]int64, n)
		c.bwMBs[i] = make([]int64, n)
		for j, b := range memNodeIDs {
			c.latNs[i][j] = topo.IdleLatencyNs(a, b)
			c.bwMBs[i][j] = topo.BandwidthMBps(a, b)
		}
	}
	c.baseLatNs, c.baseBwMBs = cloneMatrix(c.latNs), cloneMatrix(c.bwMBs)
	return c
}

func cloneMatrix(m [][]int64) [][]int64 {
	out := make([][]int64, len(m))
	for i, row := range m {
		out[i] = append([]int64(nil), row...)
	}
	return out
}

// CostNs implements sbmp.CostModel.
func (c *numaCost) CostNs(op sbmp.CostOp, from, to int, bytes int64) int64 {
	switch op {
	case sbmp.CostTier0Hit:
		return 5
	case sbmp.CostSplit, sbmp.CostMerge:
		return 50
	case sbmp.CostCASRetry:
		return 20
	case sbmp.CostTier2:
		return 500 + (bytes+4095)/4096*250
	}
	return c.latNs[from][to] + bytes*1000/max(c.bwMBs[from][to], 1)
}
