package stats

import (
	"testing"
)

// R's ?wilcox.test example (Hollander & Wolfe 1973, p. 29: depression
// scale before (x) and after (y) therapy, n = 9):
// wilcox.test(x, y, paired = TRUE, alternative = "greater") prints
// V = 40, p-value = 0.01953. Two-sided p is twice that, 20/512 = 0.0390625:
// 10 of the 512 sign patterns have W+ <= 5 (hand count: sums 0..5 have
// 1, 1, 1, 2, 2, 3 subsets).
func TestWilcoxonHollanderWolfe(t *testing.T) {
	x := []float64{1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30}
	y := []float64{0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29}
	r, err := WilcoxonSignedRank(x, y)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Exact || r.Ties || r.N != 9 || r.Zeros != 0 {
		t.Errorf("result %+v: want exact, no ties, N = 9", r)
	}
	checkNear(t, "W+ (R's V)", r.WPlus, 40, 0)
	checkNear(t, "W-", r.WMinus, 5, 0)
	checkNear(t, "two-sided p", r.P, 20.0/512, 1e-15)
	// Normal approximation z is still reported: (40 - 22.5 - 0.5)/sqrt(71.25).
	checkNear(t, "z", r.Z, 17/8.440971508067067, 1e-12)

	swapped, err := WilcoxonSignedRank(y, x)
	if err != nil {
		t.Fatal(err)
	}
	checkNear(t, "swapped W+", swapped.WPlus, 5, 0)
	checkNear(t, "swapped p", swapped.P, r.P, 0)
	checkNear(t, "swapped z", swapped.Z, -r.Z, 1e-15)
}

// Small exact cases by hand: n = 5, all positive: P(W+ = 15) = 1/32, p =
// 2/32 = 0.0625 (the smallest two-sided p possible at n = 5). n = 1: p = 1.
func TestWilcoxonExactSmall(t *testing.T) {
	r, _ := WilcoxonSignedRank([]float64{1, 2, 3, 4, 5}, []float64{0, 0, 0, 0, 0})
	checkNear(t, "n=5 p", r.P, 0.0625, 1e-15)
	r, _ = WilcoxonSignedRank([]float64{1}, []float64{0})
	checkNear(t, "n=1 p", r.P, 1, 0)
}

// Ties and zeros, computed by hand with the normal approximation and
// continuity correction (R's wilcox.test(correct = TRUE) algorithm):
// d = 1, -1, 2, 2, -3, 4, 4, 4, 5, 0. The zero is dropped (N = 9);
// midranks of |d|: 1,1 → 1.5; 2,2 → 3.5; 3 → 5; 4,4,4 → 7; 5 → 9.
// W+ = 1.5 + 3.5 + 3.5 + 21 + 9 = 38.5, μ = 22.5,
// σ² = 9·10·19/24 - (6 + 6 + 24)/48 = 70.5,
// z = (38.5 - 22.5 - 0.5)/sqrt(70.5) = 1.8460231359437824,
// p = 2(1 - Φ(z)) = 0.06488884618515067.
func TestWilcoxonTiesNormal(t *testing.T) {
	a := []float64{1, -1, 2, 2, -3, 4, 4, 4, 5, 0}
	b := make([]float64, len(a))
	r, err := WilcoxonSignedRank(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if r.Exact || !r.Ties || r.N != 9 || r.Zeros != 1 {
		t.Errorf("result %+v: want normal approximation with ties, N = 9, 1 zero", r)
	}
	checkNear(t, "W+", r.WPlus, 38.5, 0)
	checkNear(t, "W-", r.WMinus, 6.5, 0)
	checkNear(t, "z", r.Z, 1.8460231359437824, 1e-12)
	checkNear(t, "p", r.P, 0.06488884618515067, 1e-12)
}

// Above WilcoxonExactMaxN the normal approximation is used. d = 1..60, all
// positive: W+ = 1830, μ = 915, σ² = 60·61·121/24 = 18452.5,
// z = 914.5/sqrt(18452.5) = 6.732185944987443, p = 1.671328569652656e-11
// (hand computed).
func TestWilcoxonLargeN(t *testing.T) {
	a := make([]float64, 60)
	for i := range a {
		a[i] = float64(i + 1)
	}
	r, err := WilcoxonSignedRank(a, make([]float64, 60))
	if err != nil {
		t.Fatal(err)
	}
	if r.Exact {
		t.Error("n = 60 used the exact distribution")
	}
	checkNear(t, "z", r.Z, 6.732185944987443, 1e-12)
	checkNear(t, "p/1e-11", r.P/1e-11, 1.671328569652656, 1e-9)

	// At n = 50 without ties the exact path is used; its p must agree with
	// the normal approximation to about two decimals.
	// Every third difference negative: distinct |d|, mixed signs.
	mixed := make([]float64, 50)
	for i := range mixed {
		mixed[i] = float64(i + 1)
		if i%3 == 0 {
			mixed[i] = -mixed[i]
		}
	}
	r, _ = WilcoxonSignedRank(mixed, make([]float64, 50))
	if !r.Exact {
		t.Error("n = 50 without ties did not use the exact distribution")
	}
	norm := 2 * min(cdfNormal(r.Z), 1-cdfNormal(r.Z))
	checkNear(t, "exact vs normal at n=50", r.P, norm, 0.01)
}

func TestWilcoxonAllZero(t *testing.T) {
	r, err := WilcoxonSignedRank([]float64{1, 2}, []float64{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if r.N != 0 || r.Zeros != 2 || r.P != 1 {
		t.Errorf("all-zero differences: %+v, want N = 0, P = 1", r)
	}
	_, err = WilcoxonSignedRank(nil, nil)
	checkErr(t, "empty", err, ErrEmpty)
}
