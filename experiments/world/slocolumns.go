package world

import (
	"fmt"
	"slices"
	"strconv"
)

// The columns of this file (documented in columns.go: kernelSLOColumnDocs,
// ledgerSLOColumnDocs, sbmpSLOColumnDocs) are the ones a monitoring
// dashboard needs beyond the totals of the other columns: SPEC 4.4's SLO
// panels, degrade episodes, OOM kills.

// allocLatencyBoundsNs are the upper bounds of the cumulative latency
// buckets of the time series (alloc_latency_le_Xns): 1-2-5 steps from
// 10 ns to 10 s, and SPEC 4.4's latency objective, 1.2 s, so that the
// share of allocations within it is exact.
var allocLatencyBoundsNs = [...]int64{
	10, 20, 50, 100, 200, 500,
	1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5,
	1e6, 2e6, 5e6, 1e7, 2e7, 5e7, 1e8, 2e8, 5e8,
	1e9, 1.2e9, 2e9, 5e9, 1e10,
}

// AllocLatencyBoundsNs returns the upper bounds, in increasing order, of
// the time series' cumulative latency buckets (alloc_latency_le_Xns).
func AllocLatencyBoundsNs() []int64 { return slices.Clone(allocLatencyBoundsNs[:]) }

// AllocLatencyBucketColumn is the time series column that counts the
// allocations that took at most boundNs.
func AllocLatencyBucketColumn(boundNs int64) string {
	return "alloc_latency_le_" + strconv.FormatInt(boundNs, 10) + "ns"
}

// NodeMemoryKinds are the kinds of memory of the per-node columns
// (nodeColumnDocs), in their order.
func NodeMemoryKinds() []string { return []string{"free", "file", "anon", "kernel"} }

// NodeMemoryColumn is the time series column of node id's pages of kind
// (one of NodeMemoryKinds).
func NodeMemoryColumn(id int, kind string) string {
	return fmt.Sprintf("node%d_%s_pages", id, kind)
}

// kernelSLOColumns are the kernel's columns of this group.
func (k *kernelSide) kernelSLOColumns() []string { return columnNames(kernelSLOColumnDocs, "") }

// appendKernelSLO appends the values of kernelSLOColumns to row.
func (k *kernelSide) appendKernelSLO(row []float64) []float64 {
	return append(row, float64(len(k.oomEvents)))
}

// ledgerSLOColumns are the books' columns of this group.
func ledgerSLOColumns() []string {
	cols := columnNames(ledgerSLOColumnDocs[:3], "")
	for _, b := range allocLatencyBoundsNs {
		cols = append(cols, AllocLatencyBucketColumn(b))
	}
	return cols
}

// latencyBuckets counts latencies by the bucket of allocLatencyBoundsNs
// they fall in (the last bucket: above every bound), not cumulatively,
// so that recording one costs one binary search.
type latencyBuckets struct {
	counts [len(allocLatencyBoundsNs) + 1]uint64
	sumNs  int64
}

// record counts one latency of ns nanoseconds.
func (b *latencyBuckets) record(ns int64) {
	i, _ := slices.BinarySearch(allocLatencyBoundsNs[:], ns)
	b.counts[i]++
	b.sumNs += ns
}

// appendLedgerSLO appends the values of ledgerSLOColumns to row.
func (l *ledger) appendLedgerSLO(row []float64) []float64 {
	b := &l.latBuckets
	var total uint64
	for _, c := range b.counts {
		total += c
	}
	row = append(row, float64(l.failures), float64(total), float64(b.sumNs))
	var cum uint64
	for i := range allocLatencyBoundsNs {
		cum += b.counts[i]
		row = append(row, float64(cum))
	}
	return row
}

// sbmpSLOColumns are SBMP's columns of this group.
var sbmpSLOColumns = columnNames(sbmpSLOColumnDocs, "")

// appendSBMPSLO appends the values of sbmpSLOColumns, summed over the
// processes, to row. A dead process's allocator stays as it was, so it
// counts as degraded only while alive.
func appendSBMPSLO(row []float64, procs []*sbmpSide) []float64 {
	var fallbacks, stallNs, entries, degraded int64
	for _, p := range procs {
		st := p.stats()
		fallbacks += st.FallbackCount
		stallNs += st.AllocStallNs
		entries += st.DegradeEntries
		if !p.dead && p.a.Degraded() {
			degraded++
		}
	}
	return append(row, float64(fallbacks), float64(stallNs), float64(entries), float64(degraded))
}
