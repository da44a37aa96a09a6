package stats

import (
	"fmt"
	"math"
)

// SignTestResult is the outcome of SignTest.
type SignTestResult struct {
	Positive int     // pairs with a[i] > b[i]
	Negative int     // pairs with a[i] < b[i]
	Zero     int     // pairs with a[i] == b[i], dropped from the test
	P        float64 // exact two-sided p-value
}

// SignTest is the exact sign test of H0: P(a[i] > b[i]) = P(a[i] < b[i])
// on paired samples. Ties (a[i] == b[i]) are dropped; with m = Positive +
// Negative and k = min(Positive, Negative), under H0 the positive count is
// Binomial(m, 1/2) and
//
//	P = min(1, 2 · Σ_{i=0..k} C(m, i) / 2^m)
//
// which equals R's binom.test(k, m) two-sided p-value (the binomial with
// p = 1/2 is symmetric, so doubling the smaller tail is exact). With no
// untied pairs P = 1.
//
// Reference: W. J. Dixon and A. M. Mood, "The statistical sign test",
// JASA 41:557–566 (1946); Conover, "Practical Nonparametric Statistics",
// 3rd ed. (1999), §3.4.
//
// Errors: ErrMismatch, ErrEmpty, or ErrInvalid for non-finite values.
func SignTest(a, b []float64) (SignTestResult, error) {
	if err := checkPaired(a, b); err != nil {
		return SignTestResult{}, fmt.Errorf("sign test: %w", err)
	}
	var r SignTestResult
	for i := range a {
		switch {
		case a[i] > b[i]:
			r.Positive++
		case a[i] < b[i]:
			r.Negative++
		default:
			r.Zero++
		}
	}
	r.P = binomialHalfTwoSided(min(r.Positive, r.Negative), r.Positive+r.Negative)
	return r, nil
}

// binomialHalfTwoSided returns min(1, 2·P(X <= k)) for X ~ Binomial(m,
// 1/2) and k <= m/2; 1 when m = 0.
func binomialHalfTwoSided(k, m int) float64 {
	if m == 0 {
		return 1
	}
	return math.Min(1, 2*binomialHalfCDF(k, m))
}

// binomialHalfCDF returns P(X <= k) for X ~ Binomial(m, 1/2), summing the
// terms C(m, i)/2^m in log space (log-factorials) so that large m
// neither overflows nor underflows. Terms are added smallest first.
func binomialHalfCDF(k, m int) float64 {
	if k >= m {
		return 1
	}
	lm := lnFactorial(m)
	var p float64
	for i := 0; i <= k; i++ {
		p += exp(lm - lnFactorial(i) - lnFactorial(m-i) - float64(float64(m)*math.Ln2))
	}
	return math.Min(p, 1)
}
