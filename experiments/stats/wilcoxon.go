package stats

import (
	"fmt"
	"math"
	"slices"
)

// WilcoxonExactMaxN is the largest number of non-zero differences for
// which WilcoxonSignedRank uses the exact null distribution (when there
// are no ties); above it, or with ties, it uses the normal approximation.
// The exact table has n(n+1)/2+1 entries, all exact in uint64 for n <= 63.
const WilcoxonExactMaxN = 50

// WilcoxonResult is the outcome of WilcoxonSignedRank.
type WilcoxonResult struct {
	N      int     // pairs with a non-zero difference (the ones ranked)
	Zeros  int     // pairs with a[i] == b[i], dropped before ranking
	WPlus  float64 // sum of the ranks of positive differences (R's V)
	WMinus float64 // sum of the ranks of negative differences
	// Z is the normal-approximation statistic with tie and continuity
	// correction. It is reported for every N > 0 (also when P is exact)
	// so reports can show an effect direction and size on one scale.
	Z     float64
	P     float64 // two-sided p-value
	Exact bool    // P comes from the exact null distribution
	Ties  bool    // some non-zero |differences| were equal (midranks used)
}

// WilcoxonSignedRank tests H0: the paired differences d[i] = a[i] - b[i]
// are symmetric about zero.
//
// Zero differences are dropped before ranking (Wilcoxon's 1945
// convention, also R's wilcox.test default), leaving N. The |d| are ranked
// 1..N with tied values given their average rank ("midranks"; ties are
// exact float64 equality). W+ is the sum of ranks of positive d.
//
// Exact (N <= WilcoxonExactMaxN and no ties): under H0 each rank is
// positive with probability 1/2 independently, so the number of sign
// patterns with W+ = w is the number of subsets of {1..N} summing to w,
// counted by dynamic programming in O(N³). P = min(1, 2·min(P(W+ <= w),
// P(W+ >= w))).
//
// Normal approximation otherwise (Hollander & Wolfe; R's wilcox.test with
// correct = TRUE):
//
//	μ = N(N+1)/4
//	σ² = N(N+1)(2N+1)/24 - Σ(t³ - t)/48   over tie groups of size t
//	z = (W+ - μ - ½·sign(W+ - μ)) / σ
//	P = 2·min(Φ(z), 1 - Φ(z))
//
// When every pair is tied (N = 0) there is nothing to test: P = 1, Z = 0.
// Unlike R, zeros do not force the normal approximation here: the exact
// distribution is applied to the N non-zero differences.
//
// References: F. Wilcoxon, "Individual comparisons by ranking methods",
// Biometrics Bulletin 1:80–83 (1945); M. Hollander and D. A. Wolfe,
// "Nonparametric Statistical Methods", Wiley (1973), §3.1.
//
// Errors: ErrMismatch, ErrEmpty, or ErrInvalid for non-finite values.
func WilcoxonSignedRank(a, b []float64) (WilcoxonResult, error) {
	if err := checkPaired(a, b); err != nil {
		return WilcoxonResult{}, fmt.Errorf("wilcoxon signed-rank: %w", err)
	}
	d := make([]float64, 0, len(a))
	for i := range a {
		if diff := a[i] - b[i]; diff != 0 {
			d = append(d, diff)
		}
	}
	r := WilcoxonResult{N: len(d), Zeros: len(a) - len(d), P: 1}
	if r.N == 0 {
		return r, nil
	}
	ranks, tieTerm := signedRanks(d)
	for i, x := range d {
		if x > 0 {
			r.WPlus += ranks[i]
		} else {
			r.WMinus += ranks[i]
		}
	}
	r.Ties = tieTerm > 0
	n := float64(r.N)
	mu := float64(n * (n + 1) / 4)
	sigma := math.Sqrt(n*(n+1)*(2*n+1)/24 - tieTerm/48)
	diff := r.WPlus - mu
	correction := 0.0
	if diff > 0 {
		correction = 0.5
	} else if diff < 0 {
		correction = -0.5
	}
	r.Z = (diff - correction) / sigma
	if r.N <= WilcoxonExactMaxN && !r.Ties {
		r.Exact = true
		r.P = wilcoxonExactP(r.N, int(r.WPlus))
		return r, nil
	}
	// 2·min(Φ(z), 1-Φ(z)) = erfc(|z|/√2). Computed with erfc directly:
	// gonum's Normal.Survival is 1 - CDF-based and loses relative
	// precision in the far tail (p ~ 1e-11).
	r.P = math.Min(1, erfc(math.Abs(r.Z)/math.Sqrt2))
	return r, nil
}

// signedRanks returns the midranks of |d| (aligned with d) and the tie
// term Σ(t³ - t) over groups of equal |d|.
func signedRanks(d []float64) (ranks []float64, tieTerm float64) {
	order := make([]int, len(d))
	for i := range order {
		order[i] = i
	}
	// Stable sort by |d| keeps the result independent of sort internals.
	slices.SortStableFunc(order, func(i, j int) int {
		return compareFloat(math.Abs(d[i]), math.Abs(d[j]))
	})
	ranks = make([]float64, len(d))
	for start := 0; start < len(order); {
		end := start + 1
		for end < len(order) && math.Abs(d[order[end]]) == math.Abs(d[order[start]]) {
			end++
		}
		// Positions start..end-1 hold ranks start+1..end; their average:
		mid := float64(start+1+end) / 2
		for _, idx := range order[start:end] {
			ranks[idx] = mid
		}
		if t := float64(end - start); t > 1 {
			tieTerm += float64(t*t*t) - t
		}
		start = end
	}
	return ranks, tieTerm
}

// wilcoxonExactP returns the exact two-sided p-value of W+ = w for n
// untied non-zero differences.
func wilcoxonExactP(n, w int) float64 {
	maxSum := n * (n + 1) / 2
	// counts[s] = number of subsets of {1..k} with sum s, built up over k.
	counts := make([]uint64, maxSum+1)
	counts[0] = 1
	for k := 1; k <= n; k++ {
		for s := k * (k + 1) / 2; s >= k; s-- {
			counts[s] += counts[s-k]
		}
	}
	var lower, upper uint64 // #{W+ <= w}, #{W+ >= w}
	for s, c := range counts {
		if s <= w {
			lower += c
		}
		if s >= w {
			upper += c
		}
	}
	total := math.Ldexp(1, n) // 2**n
	return math.Min(1, 2*float64(min(lower, upper))/total)
}

// compareFloat orders two non-NaN floats.
func compareFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	default:
		return 0
	}
}
