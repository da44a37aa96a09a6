package stats

import (
	"fmt"
	"slices"
	"testing"
)

// Wikipedia, "Percentile", worked examples on {15, 20, 35, 40, 50}:
// nearest-rank 5th, 30th, 40th, 50th and 100th percentiles are 15, 20, 20,
// 35, 50; the linear-interpolation (C = 1, numpy default) 40th percentile
// is 29.
func TestQuantileWikipediaExamples(t *testing.T) {
	xs := []float64{50, 15, 40, 20, 35} // unsorted on purpose
	orig := slices.Clone(xs)
	for _, c := range []struct{ q, want float64 }{{0.05, 15}, {0.30, 20}, {0.40, 20}, {0.50, 35}, {1, 50}} {
		got, err := QuantileNearestRank(xs, c.q)
		if err != nil {
			t.Fatal(err)
		}
		checkNear(t, fmt.Sprintf("nearest-rank q=%v", c.q), got, c.want, 0)
	}
	got, err := Quantile(xs, 0.40)
	if err != nil {
		t.Fatal(err)
	}
	checkNear(t, "linear q=0.40", got, 29, 1e-12)
	if !slices.Equal(xs, orig) {
		t.Errorf("input modified: %v", xs)
	}
}

// numpy.percentile documentation example: the 50th percentile of
// [[10, 7, 4], [3, 2, 1]] (flattened) is 3.5. The quartiles of [1, 2, 3,
// 4] by the linear rule, [1, 1.75, 2.5, 3.25, 4], are hand computed.
func TestQuantileNumpyExamples(t *testing.T) {
	got, err := P50([]float64{10, 7, 4, 3, 2, 1})
	if err != nil {
		t.Fatal(err)
	}
	checkNear(t, "median", got, 3.5, 0)
	qs, err := Quantiles([]float64{4, 3, 2, 1}, []float64{0, 0.25, 0.5, 0.75, 1})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{1, 1.75, 2.5, 3.25, 4}
	for i := range want {
		checkNear(t, fmt.Sprintf("quantile %d", i), qs[i], want[i], 1e-12)
	}
}

// On 1..1000 the linear rule gives h = 999q: p99 = 990 + 0.01 = 990.01 and
// p99.9 = 999 + 0.001 = 999.001 (hand computed).
func TestTailHelpers(t *testing.T) {
	xs := make([]float64, 1000)
	for i := range xs {
		xs[i] = float64(1000 - i)
	}
	for _, c := range []struct {
		name string
		fn   func([]float64) (float64, error)
		want float64
	}{{"P50", P50, 500.5}, {"P99", P99, 990.01}, {"P999", P999, 999.001}} {
		got, err := c.fn(xs)
		if err != nil {
			t.Fatal(err)
		}
		checkNear(t, c.name, got, c.want, 1e-9)
	}
}

// 0.07*100 rounds to 7.000000000000001 in float64; the nearest rank must
// still be 7, not 8.
func TestNearestRankRounding(t *testing.T) {
	xs := make([]float64, 100)
	for i := range xs {
		xs[i] = float64(i + 1)
	}
	for _, c := range []struct{ q, want float64 }{{0.07, 7}, {0.29, 29}, {0.57, 57}, {0.99, 99}, {0, 1}, {0.001, 1}, {0.071, 8}} {
		got, err := QuantileNearestRank(xs, c.q)
		if err != nil {
			t.Fatal(err)
		}
		checkNear(t, fmt.Sprintf("nearest-rank q=%v", c.q), got, c.want, 0)
	}
	for n := uint64(1); n <= 300; n++ {
		for r := uint64(1); r <= n; r++ {
			if got := nearestRank(float64(r)/float64(n), n); got != r {
				t.Fatalf("nearestRank(%d/%d) = %d, want %d", r, n, got, r)
			}
		}
	}
}

func TestQuantileErrors(t *testing.T) {
	_, err := Quantile(nil, 0.5)
	checkErr(t, "empty", err, ErrEmpty)
	_, err = Quantile([]float64{1}, 1.5)
	checkErr(t, "q>1", err, ErrInvalid)
	_, err = QuantileNearestRank([]float64{1}, -0.1)
	checkErr(t, "q<0", err, ErrInvalid)
	_, err = P99([]float64{1, nan()})
	checkErr(t, "NaN sample", err, ErrInvalid)
}
