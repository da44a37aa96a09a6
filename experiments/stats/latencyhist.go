package stats

import (
	"fmt"
	"math/bits"
)

// Layout of LatencyHist buckets (log-linear, as in HdrHistogram):
// values below 2^latencySubBits each get their own bucket; above that,
// every power-of-two range [2^e, 2^(e+1)) is split into latencySubBuckets
// equal-width buckets of width 2^(e-latencySubBits). A bucket's width is
// therefore at most 2^-latencySubBits of its lower edge.
const (
	latencySubBits    = 7
	latencySubBuckets = 1 << latencySubBits // 128 buckets per octave
	// Non-negative int64 values have at most 63 significant bits, so the
	// largest exponent is 62 and the largest index is
	// (62-latencySubBits+1)*latencySubBuckets + latencySubBuckets - 1.
	latencyBucketCount = (64 - latencySubBits) * latencySubBuckets // 7296
)

// LatencyHistRelativeError bounds the relative error of
// LatencyHist.Quantile: for every q, |Quantile(q) - x| <= x ·
// LatencyHistRelativeError, where x is the exact nearest-rank q-quantile
// (QuantileNearestRank) of the recorded values. It is half the relative
// bucket width, 2^-(latencySubBits+1) = 1/256 ≈ 0.39%. Values below
// 128 ns are recorded exactly.
const LatencyHistRelativeError = 1.0 / (2 * latencySubBuckets)

// LatencyHist is a fixed-memory histogram of non-negative latencies in
// nanoseconds, for runs that record millions of samples and cannot keep
// them. It covers the whole int64 range in 7296 log-linear buckets (about
// 57 KiB), counts exactly, and answers quantiles within
// LatencyHistRelativeError. Count, min, max and the sum (hence the mean)
// are kept exactly.
//
// The zero value is an empty histogram ready to use. A LatencyHist is
// large: pass it by pointer and do not copy it. It is not safe for
// concurrent use; give each goroutine its own and Merge them.
//
// The design follows G. Tene's HdrHistogram (http://hdrhistogram.org),
// with one sub-bucket precision fixed at compile time.
type LatencyHist struct {
	counts [latencyBucketCount]uint64
	total  uint64
	// sumHi:sumLo is the exact 128-bit sum of recorded values, so the
	// mean does not depend on recording or merge order.
	sumHi, sumLo uint64
	minNs, maxNs int64
}

// Record adds one latency of ns nanoseconds. It costs O(1) and does not
// allocate. A negative latency is a bug in the caller (time went
// backwards) and panics.
func (h *LatencyHist) Record(ns int64) {
	if ns < 0 {
		panic(fmt.Sprintf("stats: LatencyHist.Record(%d): latency must be >= 0", ns))
	}
	v := uint64(ns)
	h.counts[latencyBucketIndex(v)]++
	if h.total == 0 || ns < h.minNs {
		h.minNs = ns
	}
	if h.total == 0 || ns > h.maxNs {
		h.maxNs = ns
	}
	h.total++
	var carry uint64
	h.sumLo, carry = bits.Add64(h.sumLo, v, 0)
	h.sumHi += carry
}

// Merge adds every value recorded in o to h, as if h had recorded them
// itself. o is not modified. Merging is exact: the result does not depend
// on how values were split between histograms.
func (h *LatencyHist) Merge(o *LatencyHist) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.total == 0 || o.minNs < h.minNs {
		h.minNs = o.minNs
	}
	if h.total == 0 || o.maxNs > h.maxNs {
		h.maxNs = o.maxNs
	}
	h.total += o.total
	var carry uint64
	h.sumLo, carry = bits.Add64(h.sumLo, o.sumLo, 0)
	h.sumHi += o.sumHi + carry
}

// Reset empties h for reuse without reallocating it.
func (h *LatencyHist) Reset() { *h = LatencyHist{} }

// Count returns the number of values recorded.
func (h *LatencyHist) Count() uint64 { return h.total }

// MinNs returns the smallest recorded value, exactly; 0 when empty.
func (h *LatencyHist) MinNs() int64 { return h.minNs }

// MaxNs returns the largest recorded value, exactly; 0 when empty.
func (h *LatencyHist) MaxNs() int64 { return h.maxNs }

// MeanNs returns the arithmetic mean of the recorded values, computed from
// an exact 128-bit sum; 0 when empty.
func (h *LatencyHist) MeanNs() float64 {
	if h.total == 0 {
		return 0
	}
	sum := float64(float64(h.sumHi)*(1<<64)) + float64(h.sumLo)
	return sum / float64(h.total)
}

// Quantile returns an estimate of the nearest-rank q-quantile (0 <= q <=
// 1) of the recorded values: the value of rank r = max(1, ⌈q·n⌉) in
// sorted order, as QuantileNearestRank defines it. Counts are exact, so
// the bucket holding rank r is found exactly; the estimate is that
// bucket's midpoint clamped to [MinNs, MaxNs], which is within
// LatencyHistRelativeError of the true value. Ranks 1 and n (so
// Quantile(0) and Quantile(1)) return MinNs and MaxNs exactly. It walks the buckets: O(7296).
//
// An empty histogram wraps ErrEmpty; q outside [0, 1] wraps ErrInvalid.
func (h *LatencyHist) Quantile(q float64) (int64, error) {
	if h.total == 0 {
		return 0, fmt.Errorf("latency histogram quantile: %w", ErrEmpty)
	}
	if err := checkProbability(q); err != nil {
		return 0, fmt.Errorf("latency histogram quantile: %w", err)
	}
	rank := nearestRank(q, h.total)
	// The extreme ranks are known exactly; no need to estimate them.
	if rank == 1 {
		return h.minNs, nil
	}
	if rank == h.total {
		return h.maxNs, nil
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			mid := latencyBucketMid(i)
			return min(max(mid, h.minNs), h.maxNs), nil
		}
	}
	panic("stats: LatencyHist counts sum to less than total") // invariant
}

// latencyBucketIndex maps a value to its bucket.
func latencyBucketIndex(v uint64) int {
	if v < latencySubBuckets {
		return int(v)
	}
	shift := bits.Len64(v) - 1 - latencySubBits
	mantissa := int(v>>uint(shift)) - latencySubBuckets // in [0, 128)
	return (shift+1)*latencySubBuckets + mantissa
}

// latencyBucketMid returns the midpoint of bucket i, rounded down: lo +
// (width-1)/2 for the integers lo .. lo+width-1 the bucket holds. Every
// value in the bucket is within width/2 of it, and width <= lo/128.
func latencyBucketMid(i int) int64 {
	if i < latencySubBuckets {
		return int64(i)
	}
	shift := uint(i/latencySubBuckets - 1)
	mantissa := uint64(i % latencySubBuckets)
	lo := (latencySubBuckets + mantissa) << shift
	width := uint64(1) << shift
	return int64(lo + (width-1)/2)
}
