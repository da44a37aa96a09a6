package stats

import (
	"fmt"
	"math"
	"math/big"
)

// ClopperPearsonInterval returns the Clopper–Pearson "exact" interval,
// the set of p for which neither one-sided binomial test at α/2 rejects:
//
//	Lo solves P(X >= k; n, Lo) = α/2   (Lo = 0 when k = 0)
//	Hi solves P(X <= k; n, Hi) = α/2   (Hi = 1 when k = n)
//
// for X ~ Binomial(n, p) and α = 1 - level (in float64). By the
// beta–binomial identity these are the beta quantiles B⁻¹(α/2; k, n-k+1)
// and B⁻¹(1-α/2; k+1, n-k). Its coverage is at least the nominal level
// for every p, so it is conservative. Newcombe (1998) method 5.
//
// Each limit is the float64 nearest to the exact root, found by bisection
// on float64 values with the binomial tail summed in 192-bit big.Float
// arithmetic. big.Float rounds every operation as its precision says, on
// every architecture, so the limits are the same bits everywhere. A beta
// quantile computed in float64, as gonum's distuv.Beta does, is not (its
// code fuses on arm64 and calls math.Exp and math.Pow), and it is often a
// few units in the last place off. Cost: about 64 tail sums of
// min(k+1, n-k) terms per limit.
//
// Reference: C. J. Clopper and E. S. Pearson, "The use of confidence or
// fiducial limits illustrated in the case of the binomial", Biometrika
// 26:404–413 (1934). Errors as for WilsonInterval.
func ClopperPearsonInterval(k, n int, level float64) (Interval, error) {
	if err := checkBinomial(k, n, level); err != nil {
		return Interval{}, fmt.Errorf("clopper-pearson: %w", err)
	}
	half := new(big.Float).SetPrec(binomialPrec).SetFloat64((1 - level) / 2)
	iv := Interval{Lo: 0, Hi: 1}
	if k > 0 {
		// P(X >= k) = α/2  ⇔  P(X <= k-1) = 1 - α/2.
		target := new(big.Float).SetPrec(binomialPrec).Sub(bigOne, half)
		iv.Lo = binomialCDFRoot(n, k-1, target)
	}
	if k < n {
		iv.Hi = binomialCDFRoot(n, k, half)
	}
	return iv, nil
}

// binomialPrec is the precision, in bits, of the binomial tail sums: far
// more than the 53 bits of the float64 that a limit is rounded to, so the
// accumulated rounding (about n·2^-192) cannot move it.
const binomialPrec = 192

var bigOne = big.NewFloat(1)

// binomialCDFRoot returns the float64 nearest to the p in (0, 1) at which
// P(X <= k; n, p) = target, for 0 <= k < n and target in (0, 1). The CDF
// falls from 1 at p = 0 to 0 at p = 1, so bisection on the float64 values
// (ordered like their bit patterns, since all are >= 0) brackets the root
// between two neighbours; the CDF at their midpoint says which is nearer.
func binomialCDFRoot(n, k int, target *big.Float) float64 {
	cdf := newBinomialCDF(n, k)
	above := func(p *big.Float) bool { return cdf.at(p).Cmp(target) > 0 }
	lo, hi := uint64(0), math.Float64bits(1) // CDF(0) = 1 > target, CDF(1) = 0 < target
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if above(new(big.Float).SetFloat64(math.Float64frombits(mid))) {
			lo = mid
		} else {
			hi = mid
		}
	}
	a, b := math.Float64frombits(lo), math.Float64frombits(hi)
	mid := new(big.Float).SetPrec(binomialPrec).SetFloat64(a)
	mid.Add(mid, new(big.Float).SetFloat64(b)).SetMantExp(mid, -1)
	if above(mid) { // the root lies beyond the midpoint
		return b
	}
	return a
}

// binomialCDF evaluates P(X <= k) for X ~ Binomial(n, p), 0 <= k < n, at
// any p in (0, 1), to about binomialPrec bits. It holds the binomial
// coefficients of the two terms next to the cut, C(n, k) and
// C(n, k+1), which do not depend on p.
type binomialCDF struct {
	n, k           int
	cLower, cUpper *big.Float // C(n, k), C(n, k+1)
}

func newBinomialCDF(n, k int) *binomialCDF {
	c := func(i int) *big.Float {
		return new(big.Float).SetPrec(binomialPrec).SetInt(new(big.Int).Binomial(int64(n), int64(i)))
	}
	return &binomialCDF{n: n, k: k, cLower: c(k), cUpper: c(k + 1)}
}

// at returns P(X <= k) at p. The terms t_i = C(n, i)·p^i·q^(n-i) rise to
// the mode near n·p and fall beyond it. at sums the side of the cut that
// holds the smaller tail, starting next to the cut and moving away: t_k,
// t_(k-1), ... (the CDF) when the mode lies above k, otherwise t_(k+1),
// t_(k+2), ... (1 - CDF). Each term comes from the last by the ratio
// t_(i-1)/t_i = i/(n-i+1)·q/p or t_(i+1)/t_i = (n-i)/(i+1)·p/q, and the sum
// stops once a term falling away from the mode is below 2^-binomialPrec of
// it: the at most n terms left add less than n·2^-binomialPrec.
func (b *binomialCDF) at(p *big.Float) *big.Float {
	newF := func() *big.Float { return new(big.Float).SetPrec(binomialPrec) }
	p = newF().Set(p)
	q := newF().Sub(bigOne, p)
	mode := newF().Mul(p, newF().SetInt64(int64(b.n+1))) // the mode is floor((n+1)·p)
	lowerTail := mode.Cmp(newF().SetInt64(int64(b.k+1))) >= 0
	var i, step, stop int
	var term, ratio *big.Float
	if lowerTail { // i = k, k-1, ..., 0
		i, step, stop = b.k, -1, -1
		term = newF().Mul(b.cLower, newF().Mul(powBig(p, b.k), powBig(q, b.n-b.k)))
		ratio = newF().Quo(q, p)
	} else { // i = k+1, ..., n
		i, step, stop = b.k+1, 1, b.n+1
		term = newF().Mul(b.cUpper, newF().Mul(powBig(p, b.k+1), powBig(q, b.n-b.k-1)))
		ratio = newF().Quo(p, q)
	}
	sum := newF()
	num, den := newF(), newF()
	for ; i != stop; i += step {
		prev := newF().Set(term)
		sum.Add(sum, term)
		if step < 0 {
			num.SetInt64(int64(i))
			den.SetInt64(int64(b.n - i + 1))
		} else {
			num.SetInt64(int64(b.n - i))
			den.SetInt64(int64(i + 1))
		}
		term.Mul(term, ratio).Mul(term, num).Quo(term, den)
		if term.Cmp(prev) < 0 && term.MantExp(nil) < sum.MantExp(nil)-binomialPrec {
			break
		}
	}
	if lowerTail {
		return sum
	}
	return sum.Sub(bigOne, sum)
}

// powBig returns x^e for e >= 0 at x's precision, by repeated squaring.
func powBig(x *big.Float, e int) *big.Float {
	r := new(big.Float).SetPrec(x.Prec()).SetInt64(1)
	sq := new(big.Float).SetPrec(x.Prec()).Set(x)
	for ; e > 0; e >>= 1 {
		if e&1 == 1 {
			r.Mul(r, sq)
		}
		sq.Mul(sq, sq)
	}
	return r
}
