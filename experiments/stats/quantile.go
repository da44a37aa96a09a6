package stats

import (
	"fmt"
	"math"
	"slices"
)

// Quantile returns the q-quantile (0 <= q <= 1) of xs by linear
// interpolation between order statistics: with x(1) <= ... <= x(n) and
// h = (n-1)q,
//
//	Q(q) = x(⌊h⌋+1) + (h - ⌊h⌋) · (x(⌊h⌋+2) - x(⌊h⌋+1))
//
// This is definition 7 of Hyndman & Fan, "Sample quantiles in statistical
// packages", Am. Stat. 50:361–365 (1996): the default of numpy.percentile
// (method="linear"), R's quantile() and Excel's PERCENTILE.INC. Q(0) is
// the minimum and Q(1) the maximum.
//
// xs is not modified (a copy is sorted, O(n log n)). Empty xs wraps
// ErrEmpty; NaN/Inf samples or q outside [0, 1] wrap ErrInvalid.
//
// gonum's stat.Quantile is not used here because its LinInterp kind is
// Hyndman–Fan definition 4, not the numpy default.
func Quantile(xs []float64, q float64) (float64, error) {
	qs, err := Quantiles(xs, []float64{q})
	if err != nil {
		return 0, err
	}
	return qs[0], nil
}

// Quantiles returns Quantile(xs, q) for every q in qs, sorting xs only
// once. Errors as for Quantile.
func Quantiles(xs []float64, qs []float64) ([]float64, error) {
	sorted, err := sortedCopy(xs)
	if err != nil {
		return nil, fmt.Errorf("quantiles: %w", err)
	}
	out := make([]float64, len(qs))
	for i, q := range qs {
		if err := checkProbability(q); err != nil {
			return nil, fmt.Errorf("quantiles: %w", err)
		}
		out[i] = linearQuantileSorted(sorted, q)
	}
	return out, nil
}

// QuantileNearestRank returns the nearest-rank q-quantile of xs: the
// smallest sample x(r) such that at least a fraction q of the sample is
// <= x(r), i.e. r = max(1, ⌈q·n⌉). It is always an observed value
// (Hyndman & Fan definition 1, numpy method="inverted_cdf"). It matches
// LatencyHist.Quantile's definition, so tests can compare the two.
//
// The rank is computed so that floating-point rounding of q·n cannot move
// it: for q = 0.07 and n = 100, q·n evaluates to 7.000000000000001 and a
// naive ceiling (as in gonum's stat.Empirical) would return x(8) instead
// of x(7). Errors as for Quantile.
func QuantileNearestRank(xs []float64, q float64) (float64, error) {
	sorted, err := sortedCopy(xs)
	if err != nil {
		return 0, fmt.Errorf("nearest-rank quantile: %w", err)
	}
	if err := checkProbability(q); err != nil {
		return 0, fmt.Errorf("nearest-rank quantile: %w", err)
	}
	return sorted[nearestRank(q, uint64(len(sorted)))-1], nil
}

// P50 returns the median of xs, Quantile(xs, 0.50).
func P50(xs []float64) (float64, error) { return Quantile(xs, 0.50) }

// P99 returns Quantile(xs, 0.99).
func P99(xs []float64) (float64, error) { return Quantile(xs, 0.99) }

// P999 returns Quantile(xs, 0.999).
func P999(xs []float64) (float64, error) { return Quantile(xs, 0.999) }

// nearestRank returns the 1-based rank r = max(1, ⌈q·n⌉) for n >= 1. It
// takes the smallest r whose float64 fraction r/n is >= q, correcting the
// rounding of the product q·n by at most one step either way.
func nearestRank(q float64, n uint64) uint64 {
	r := uint64(math.Ceil(q * float64(n)))
	if r > n {
		r = n
	}
	for r > 1 && float64(r-1)/float64(n) >= q {
		r--
	}
	for r < n && float64(r)/float64(n) < q {
		r++
	}
	if r < 1 {
		r = 1
	}
	return r
}

// linearQuantileSorted is Hyndman–Fan definition 7 on sorted, non-empty
// data.
func linearQuantileSorted(sorted []float64, q float64) float64 {
	h := float64(float64(len(sorted)-1) * q)
	lo := int(math.Floor(h))
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	frac := h - float64(lo)
	return sorted[lo] + float64(frac*(sorted[lo+1]-sorted[lo]))
}

// sortedCopy returns a sorted copy of xs after checking it is non-empty
// and finite.
func sortedCopy(xs []float64) ([]float64, error) {
	if len(xs) == 0 {
		return nil, fmt.Errorf("sample: %w", ErrEmpty)
	}
	if err := checkFinite("x", xs); err != nil {
		return nil, err
	}
	sorted := slices.Clone(xs)
	slices.Sort(sorted)
	return sorted, nil
}

// checkProbability rejects q outside [0, 1] (and NaN).
func checkProbability(q float64) error {
	if !(q >= 0 && q <= 1) {
		return fmt.Errorf("quantile q = %v: want a fraction in [0, 1] (0.99 for p99): %w", q, ErrInvalid)
	}
	return nil
}
