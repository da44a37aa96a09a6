package workload

import (
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/sbmpsim/sbmpsim/sim"
)

// The statistical tests draw from fixed seeds, so they are deterministic,
// and their tolerances are derived from the sample size (k standard
// errors, or a quantile of the test statistic at a tiny p), so they would
// still pass with other seeds and still fail on a real bias. Where it is
// cheap, a power check confirms that a slightly wrong distribution fails.

// zTol is how many standard errors a sample statistic may be off.
const zTol = 5

// pTol is the p-value below which a KS or chi-square test fails.
const pTol = 1e-6

func testStream(name string) sim.Stream { return sim.NewStream(20240501, name) }

// meanSD returns the sample mean and standard deviation.
func meanSD(xs []float64) (mean, sd float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1))
}

// ksStat returns the Kolmogorov–Smirnov distance between the sample and
// cdf. It sorts xs.
func ksStat(xs []float64, cdf func(float64) float64) float64 {
	slices.Sort(xs)
	n := float64(len(xs))
	var d float64
	for i, x := range xs {
		f := cdf(x)
		d = max(d, float64(i+1)/n-f, f-float64(i)/n)
	}
	return d
}

// ksCritical is the KS distance a sample of n exceeds with probability p
// (the asymptotic Kolmogorov distribution, tail term only, which is
// accurate for p < 0.2).
func ksCritical(n int, p float64) float64 {
	return math.Sqrt(-math.Log(p/2)/2) / math.Sqrt(float64(n))
}

// chiSquare returns Pearson's statistic for observed counts against
// expected counts, and the value it exceeds with probability pTol.
func chiSquare(observed []int, expected []float64) (stat, critical float64) {
	df := -1
	for i, e := range expected {
		if e == 0 {
			continue
		}
		d := float64(observed[i]) - e
		stat += d * d / e
		df++
	}
	return stat, distuv.ChiSquared{K: float64(df)}.Quantile(1 - pTol)
}

// checkMean fails t unless |got-want| <= zTol·se + slack.
func checkMean(t *testing.T, what string, got, want, se, slack float64) {
	t.Helper()
	tol := zTol*se + slack
	t.Logf("%s: sample mean %.6g, analytic %.6g, diff %.3g = %.2f SE (tolerance %.3g)",
		what, got, want, got-want, (got-want)/se, tol)
	if math.Abs(got-want) > tol {
		t.Errorf("%s: sample mean %.6g, want %.6g ± %.3g", what, got, want, tol)
	}
}

// checkKS fails t unless the sample fits cdf by a KS test at pTol.
func checkKS(t *testing.T, what string, xs []float64, cdf func(float64) float64) {
	t.Helper()
	d, c := ksStat(xs, cdf), ksCritical(len(xs), pTol)
	t.Logf("%s: KS distance %.5f, critical %.5f (n=%d, p=%g)", what, d, c, len(xs), pTol)
	if d > c {
		t.Errorf("%s: KS distance %.5f > critical %.5f", what, d, c)
	}
}

// checkCount fails t unless a Poisson-like count is within zTol standard
// errors, given the count's variance.
func checkCount(t *testing.T, what string, got int, want, variance float64) {
	t.Helper()
	se := math.Sqrt(variance)
	t.Logf("%s: count %d, expected %.6g, diff %.2f SE", what, got, want, (float64(got)-want)/se)
	if math.Abs(float64(got)-want) > zTol*se {
		t.Errorf("%s: count %d, want %.6g ± %.3g", what, got, want, zTol*se)
	}
}
