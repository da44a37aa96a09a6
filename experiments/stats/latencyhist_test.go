package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// logUniformNs draws latencies spread over 1 ns .. ~2^50 ns so every
// octave of the histogram is exercised.
func logUniformNs(r *rand.Rand, n int) []int64 {
	vs := make([]int64, n)
	for i := range vs {
		vs[i] = int64(math.Exp2(r.Float64() * 50))
	}
	return vs
}

// TestLatencyHistErrorBound checks the documented guarantee: every
// quantile is within LatencyHistRelativeError of the exact nearest-rank
// quantile of the same values.
func TestLatencyHistErrorBound(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 7, 100, 1000, 50_000} {
		vs := logUniformNs(r, n)
		var h LatencyHist
		xs := make([]float64, n)
		for i, v := range vs {
			h.Record(v)
			xs[i] = float64(v)
		}
		for _, q := range []float64{0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 0.9999, 1} {
			got, err := h.Quantile(q)
			if err != nil {
				t.Fatal(err)
			}
			exact, err := QuantileNearestRank(xs, q)
			if err != nil {
				t.Fatal(err)
			}
			if rel := math.Abs(float64(got)-exact) / exact; rel > LatencyHistRelativeError {
				t.Errorf("n=%d q=%v: hist %d, exact %v, relative error %.3g > bound %.3g", n, q, got, exact, rel, LatencyHistRelativeError)
			}
		}
	}
}

// TestLatencyHistExtremes checks exact min/max (q = 0, 1), exact small
// values, the int64 maximum and an exact 128-bit mean.
func TestLatencyHistExtremes(t *testing.T) {
	var h LatencyHist
	for v := int64(0); v < 128; v++ {
		h.Record(v)
	}
	for v := int64(0); v < 128; v++ {
		got, _ := h.Quantile(float64(v+1) / 128)
		if got != v {
			t.Errorf("small values: quantile of rank %d = %d, want %d (exact below 128)", v+1, got, v)
		}
	}
	h.Reset()
	h.Record(math.MaxInt64)
	h.Record(math.MaxInt64)
	h.Record(3)
	if lo, _ := h.Quantile(0); lo != 3 {
		t.Errorf("Quantile(0) = %d, want 3", lo)
	}
	if hi, _ := h.Quantile(1); hi != math.MaxInt64 {
		t.Errorf("Quantile(1) = %d, want MaxInt64", hi)
	}
	// (2·(2^63-1) + 3)/3 = (2^64 + 1)/3; the 128-bit sum keeps it exact.
	checkNear(t, "mean across 64-bit overflow", h.MeanNs(), (math.Exp2(64)+1)/3, 1)
	if h.Count() != 3 || h.MinNs() != 3 || h.MaxNs() != math.MaxInt64 {
		t.Errorf("count/min/max = %d/%d/%d", h.Count(), h.MinNs(), h.MaxNs())
	}
}

// TestLatencyHistBuckets checks the bucket layout around every power of
// two: indexes are monotone, each value lies in its bucket, and each
// bucket's midpoint is within the relative error bound of its values.
func TestLatencyHistBuckets(t *testing.T) {
	var vs []uint64
	for e := 0; e < 63; e++ {
		base := uint64(1) << e
		vs = append(vs, base-1, base, base+1, base+base/2, 2*base-1)
	}
	slices.Sort(vs)
	vs = slices.Compact(vs)
	prev := -1
	for _, v := range vs {
		i := latencyBucketIndex(v)
		if i < prev || i >= latencyBucketCount {
			t.Fatalf("index(%d) = %d after %d (count %d)", v, i, prev, latencyBucketCount)
		}
		prev = i
		mid := float64(latencyBucketMid(i))
		if rel := math.Abs(mid-float64(v)) / math.Max(float64(v), 1); rel > LatencyHistRelativeError {
			t.Fatalf("value %d: bucket %d midpoint %v, relative error %.3g", v, i, mid, rel)
		}
	}
	if got := latencyBucketIndex(math.MaxInt64); got != latencyBucketCount-1 {
		t.Errorf("index(MaxInt64) = %d, want last bucket %d", got, latencyBucketCount-1)
	}
}

// TestLatencyHistMerge checks that merging shards equals recording
// everything in one histogram, whatever the split.
func TestLatencyHistMerge(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	vs := logUniformNs(r, 10_000)
	var all, a, b, empty LatencyHist
	for i, v := range vs {
		all.Record(v)
		if i%3 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
	}
	var merged LatencyHist
	merged.Merge(&empty)
	merged.Merge(&b)
	merged.Merge(&a)
	merged.Merge(&empty)
	if merged != all {
		t.Fatalf("merged histogram differs from direct recording: count %d vs %d, mean %v vs %v", merged.Count(), all.Count(), merged.MeanNs(), all.MeanNs())
	}
}

func TestLatencyHistErrors(t *testing.T) {
	var h LatencyHist
	_, err := h.Quantile(0.5)
	checkErr(t, "empty", err, ErrEmpty)
	h.Record(10)
	_, err = h.Quantile(1.01)
	checkErr(t, "q>1", err, ErrInvalid)
	defer func() {
		if recover() == nil {
			t.Error("Record(-1) did not panic")
		}
	}()
	h.Record(-1)
}

func BenchmarkLatencyHistRecord(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	vs := logUniformNs(r, 4096)
	h := new(LatencyHist)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		h.Record(vs[i&4095])
	}
	if h.Count() == 0 {
		b.Fatal("nothing recorded")
	}
}

func BenchmarkLatencyHistQuantile(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	h := new(LatencyHist)
	for _, v := range logUniformNs(r, 1_000_000) {
		h.Record(v)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Quantile(0.999); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleLatencyHist() {
	var h LatencyHist
	for ns := int64(1); ns <= 1000; ns++ {
		h.Record(ns * 1000) // 1 µs .. 1 ms
	}
	p50, _ := h.Quantile(0.50)
	p99, _ := h.Quantile(0.99)
	fmt.Println(h.Count(), p50, p99)
	// Output: 1000 500735 989183
}
