package world

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"
)

// TestSLOColumnsAgreeWithTheSummary: the dashboard columns end where the
// summary does (OOM kills, failures, latencies, SPEC 4.1's counters), the
// per-node memory adds up to the machine-wide columns at every sample,
// counters never fall, and the latency buckets are cumulative.
func TestSLOColumnsAgreeWithTheSummary(t *testing.T) {
	skipUnderRace(t)
	for _, tc := range []struct {
		name string
		sets []string
		sbmp bool
	}{
		{"anon-fill", nil, false},                               // an OOM kill, no SBMP
		{"steady", nil, true},                                   // SBMP, one node
		{"numa-faults", []string{"run.duration_ms=4000"}, true}, // SBMP on two nodes
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Run(context.Background(), loadShort(t, tc.name, tc.sets...), Options{})
			if err != nil {
				t.Fatal(err)
			}
			ts, s := &res.Timeseries, &res.Summary
			col := func(name string) int {
				i := slices.Index(ts.Columns, name)
				if i < 0 {
					t.Fatalf("no column %q", name)
				}
				return i
			}
			last := ts.Rows[len(ts.Rows)-1]
			want := map[string]float64{
				"oom_kills": float64(s.OOMKills), "alloc_failures": float64(s.AllocFailures),
				"alloc_latency_count": float64(s.AllocLatencyNs.Count),
			}
			if tc.sbmp {
				want["fallback_count"] = float64(s.FallbackCount)
				want["alloc_stall_ns"] = float64(s.AllocStallNs)
				want["degrade_entries"] = float64(s.SBMP.DegradeEntries)
			} else if slices.Contains(ts.Columns, "fallback_count") {
				t.Error("SBMP columns in a run without SBMP")
			}
			for name, v := range want {
				if got := last[col(name)]; got != v {
					t.Errorf("%s ends at %v, the summary says %v", name, got, v)
				}
			}
			if c := s.AllocLatencyNs.Count; c > 0 {
				if got, want := last[col("alloc_latency_sum_ns")]/float64(c), s.AllocLatencyNs.MeanNs; math.Abs(got-want) > 1e-9*want {
					t.Errorf("alloc_latency_sum_ns / count = %v, the summary's mean is %v", got, want)
				}
			}
			checkNodeSums(t, ts, col)
			checkMonotone(t, ts, col)
		})
	}
}

// checkNodeSums checks that the nodes' pages add up to the machine's.
func checkNodeSums(t *testing.T, ts *Timeseries, col func(string) int) {
	t.Helper()
	for _, kind := range []string{"free", "file", "anon"} {
		var nodeCols []int
		for i, c := range ts.Columns {
			var id int
			var k string
			if n, _ := fmt.Sscanf(c, "node%d_%s", &id, &k); n == 2 && k == kind+"_pages" {
				nodeCols = append(nodeCols, i)
			}
		}
		if len(nodeCols) == 0 {
			t.Fatalf("no node%%d_%s_pages column", kind)
		}
		for _, r := range ts.Rows {
			var sum float64
			for _, i := range nodeCols {
				sum += r[i]
			}
			if sum != r[col(kind+"_pages")] {
				t.Fatalf("at %v ns the nodes' %s pages add up to %v, %s_pages is %v", r[0], kind, sum, kind, r[col(kind+"_pages")])
			}
		}
	}
}

// checkMonotone checks that the counters never fall and that each
// latency bucket holds at least the one below it and at most the count.
func checkMonotone(t *testing.T, ts *Timeseries, col func(string) int) {
	t.Helper()
	counters := []string{"oom_kills", "alloc_failures", "alloc_latency_count", "alloc_latency_sum_ns"}
	for _, b := range AllocLatencyBoundsNs() {
		counters = append(counters, AllocLatencyBucketColumn(b))
	}
	for i := 1; i < len(ts.Rows); i++ {
		for _, c := range counters {
			if ts.Rows[i][col(c)] < ts.Rows[i-1][col(c)] {
				t.Fatalf("%s falls at row %d", c, i)
			}
		}
	}
	bounds := AllocLatencyBoundsNs()
	if !slices.IsSorted(bounds) {
		t.Fatalf("latency bounds not increasing: %v", bounds)
	}
	for _, r := range ts.Rows {
		prev := 0.0
		for _, b := range bounds {
			v := r[col(AllocLatencyBucketColumn(b))]
			if v < prev || v > r[col("alloc_latency_count")] {
				t.Fatalf("at %v ns bucket le %d ns holds %v (below: %v, count %v)", r[0], b, v, prev, r[col("alloc_latency_count")])
			}
			prev = v
		}
	}
}

// TestLatencyBucketsIncludeTheirBound: a latency equal to a bound counts
// in that bound's bucket (Prometheus' le is "less or equal"), one above
// it in the next.
func TestLatencyBucketsIncludeTheirBound(t *testing.T) {
	for _, tc := range []struct {
		ns     int64
		bucket int
	}{
		{0, 0}, {10, 0}, {11, 1}, {1_200_000_000, 25}, {1_200_000_001, 26}, {10_000_000_000, 28}, {10_000_000_001, 29},
	} {
		var b latencyBuckets
		b.record(tc.ns)
		if b.counts[tc.bucket] != 1 || b.sumNs != tc.ns {
			t.Errorf("%d ns: counts %v sum %d, want bucket %d", tc.ns, b.counts, b.sumNs, tc.bucket)
		}
	}
}
