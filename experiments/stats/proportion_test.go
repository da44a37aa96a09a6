package stats

import (
	"fmt"
	"math"
	"math/big"
	"testing"
)

// Expected intervals are Newcombe (1998), "Two-sided confidence intervals
// for the single proportion: comparison of seven methods", Stat. Med.
// 17:857–872, the table of illustrative 95% intervals for 81/263, 15/148,
// 0/20 and 1/29 (four decimals): method 3 (Wilson score), method 4
// (score with continuity correction) and method 5 (Clopper–Pearson). The 0/10 and 1/10 rows of the score methods
// were computed by hand from the closed forms in the doc comments.
var newcombeTable = []struct {
	k, n              int
	wilson, wilsonCC  Interval
	clopperPearson    Interval
	hasClopperPearson bool
}{
	{81, 263, Interval{0.2553, 0.3662}, Interval{0.2535, 0.3682}, Interval{0.2527, 0.3676}, true},
	{15, 148, Interval{0.0624, 0.1605}, Interval{0.0598, 0.1644}, Interval{0.0578, 0.1617}, true},
	{0, 20, Interval{0, 0.1611}, Interval{0, 0.2005}, Interval{0, 0.1684}, true},
	{1, 29, Interval{0.0061, 0.1718}, Interval{0.0018, 0.1963}, Interval{0.0009, 0.1776}, true},
	{0, 10, Interval{0, 0.2775}, Interval{0, 0.3445}, Interval{}, false},
	{1, 10, Interval{0.0179, 0.4042}, Interval{0.0052, 0.4588}, Interval{}, false},
}

func checkInterval(t *testing.T, what string, got, want Interval, tol float64) {
	t.Helper()
	checkNear(t, what+".Lo", got.Lo, want.Lo, tol)
	checkNear(t, what+".Hi", got.Hi, want.Hi, tol)
}

func TestBinomialIntervalsNewcombe1998(t *testing.T) {
	const tol = 0.00005 // published to 4 decimals
	for _, c := range newcombeTable {
		name := fmt.Sprintf("%d/%d", c.k, c.n)
		w, err := WilsonInterval(c.k, c.n, 0.95)
		if err != nil {
			t.Fatal(err)
		}
		checkInterval(t, "wilson "+name, w, c.wilson, tol)
		wcc, err := WilsonCCInterval(c.k, c.n, 0.95)
		if err != nil {
			t.Fatal(err)
		}
		checkInterval(t, "wilsonCC "+name, wcc, c.wilsonCC, tol)
		if c.hasClopperPearson {
			cp, err := ClopperPearsonInterval(c.k, c.n, 0.95)
			if err != nil {
				t.Fatal(err)
			}
			checkInterval(t, "clopper-pearson "+name, cp, c.clopperPearson, tol)
		}
	}
}

// TestClopperPearsonEdges checks k = 0 and k = n against the closed forms
// Hi = 1 - (α/2)^(1/n) and Lo = (α/2)^(1/n) (the beta quantile reduces to
// a power when one shape parameter is 1), and symmetry k <-> n-k.
func TestClopperPearsonEdges(t *testing.T) {
	for _, n := range []int{1, 5, 29, 1000} {
		edge := 1 - math.Pow(0.025, 1/float64(n))
		iv, err := ClopperPearsonInterval(0, n, 0.95)
		if err != nil {
			t.Fatal(err)
		}
		checkInterval(t, fmt.Sprintf("CP 0/%d", n), iv, Interval{0, edge}, 1e-12)
		iv, err = ClopperPearsonInterval(n, n, 0.95)
		if err != nil {
			t.Fatal(err)
		}
		checkInterval(t, fmt.Sprintf("CP %d/%d", n, n), iv, Interval{1 - edge, 1}, 1e-12)
	}
	for k := 0; k <= 12; k++ {
		a, _ := ClopperPearsonInterval(k, 12, 0.9)
		b, _ := ClopperPearsonInterval(12-k, 12, 0.9)
		checkInterval(t, fmt.Sprintf("CP symmetry %d/12", k), a, Interval{1 - b.Hi, 1 - b.Lo}, 1e-10)
		w, _ := WilsonInterval(k, 12, 0.9)
		if !(w.Lo <= float64(k)/12 && float64(k)/12 <= w.Hi) {
			t.Errorf("wilson %d/12 = %+v does not contain p̂", k, w)
		}
	}
}

func TestBinomialIntervalErrors(t *testing.T) {
	for _, f := range []struct {
		name string
		fn   func(k, n int, level float64) (Interval, error)
	}{{"wilson", WilsonInterval}, {"wilsonCC", WilsonCCInterval}, {"clopper-pearson", ClopperPearsonInterval}} {
		_, err := f.fn(0, 0, 0.95)
		checkErr(t, f.name+" n=0", err, ErrEmpty)
		_, err = f.fn(3, 2, 0.95)
		checkErr(t, f.name+" k>n", err, ErrInvalid)
		_, err = f.fn(-1, 2, 0.95)
		checkErr(t, f.name+" k<0", err, ErrInvalid)
		_, err = f.fn(1, 2, 1)
		checkErr(t, f.name+" level=1", err, ErrInvalid)
		_, err = f.fn(1, 2, 95)
		checkErr(t, f.name+" level=95", err, ErrInvalid)
	}
}

// exactBinomialCDF returns P(X <= k) for X ~ Binomial(n, p) in exact
// rational arithmetic.
func exactBinomialCDF(n, k int, p *big.Rat) *big.Rat {
	q := new(big.Rat).Sub(big.NewRat(1, 1), p)
	sum := new(big.Rat)
	for i := 0; i <= k; i++ {
		t := new(big.Rat).SetInt(new(big.Int).Binomial(int64(n), int64(i)))
		for range i {
			t.Mul(t, p)
		}
		for range n - i {
			t.Mul(t, q)
		}
		sum.Add(sum, t)
	}
	return sum
}

// TestClopperPearsonNearestFloat checks, in exact rational arithmetic,
// that each limit is the float64 nearest to the root of its defining
// equation: the root lies within half a unit in the last place on either
// side, so the binomial CDF at the midpoints to both neighbours straddles
// the target.
func TestClopperPearsonNearestFloat(t *testing.T) {
	mid := func(a, b float64) *big.Rat {
		m := new(big.Rat).Add(new(big.Rat).SetFloat64(a), new(big.Rat).SetFloat64(b))
		return m.Quo(m, big.NewRat(2, 1))
	}
	// straddles reports whether the root of P(X <= j; p) = target lies
	// in [mid(below, x), mid(x, above)]: the CDF falls in p.
	straddles := func(n, j int, target *big.Rat, x float64) bool {
		below, above := math.Nextafter(x, 0), math.Nextafter(x, 1)
		return exactBinomialCDF(n, j, mid(below, x)).Cmp(target) >= 0 &&
			exactBinomialCDF(n, j, mid(x, above)).Cmp(target) <= 0
	}
	for _, level := range []float64{0.95, 0.9, 0.5} {
		half := new(big.Rat).SetFloat64((1 - level) / 2)
		for _, n := range []int{1, 2, 3, 4, 7, 12, 20} {
			for k := 0; k <= n; k++ {
				iv, err := ClopperPearsonInterval(k, n, level)
				if err != nil {
					t.Fatal(err)
				}
				// Lo: P(X <= k-1) = 1 - α/2; Hi: P(X <= k) = α/2.
				if k > 0 && !straddles(n, k-1, new(big.Rat).Sub(big.NewRat(1, 1), half), iv.Lo) {
					t.Errorf("level %v, %d/%d: Lo = %v is not the float64 nearest the root", level, k, n, iv.Lo)
				}
				if k < n && !straddles(n, k, half, iv.Hi) {
					t.Errorf("level %v, %d/%d: Hi = %v is not the float64 nearest the root", level, k, n, iv.Hi)
				}
			}
		}
	}
}
