package stats

import "math"

// Elementary functions that give the same bits on every architecture.
//
// The standard library's math.Exp, math.Log, math.Erfc, math.Lgamma and
// math.Pow do not: they are assembly on some architectures and Go
// compiled with fused multiply-adds on others. Measured with Go 1.26 on
// uniform random arguments, arm64 (under qemu) and amd64 disagree in the
// last bits for 58 % of math.Exp's results on [-700, 700] and 38 % of
// math.Erfc's on [-6, 6], and math.Exp on amd64 itself depends on the CPU
// (exp_amd64.s takes another path without FMA: 5 % of results differ,
// under qemu-x86_64 -cpu qemu64). The functions here are
// written in Go with every product that is added rounded first (see the
// package doc), and they reproduce what the statistics computed on amd64
// before they existed, bit for bit (TestElementaryMatchesAMD64):
//
//   - exp is exp_amd64.s's FMA path, the one every x86-64 CPU since 2013
//     takes, with math.FMA where the assembly fuses; math.FMA rounds once
//     on every architecture, in hardware or in software.
//   - log, erfc and lnFactorial are Go's own math code (from FreeBSD's
//     msun) with the products rounded. log equals amd64's assembly
//     math.Log for every normal argument; for subnormal ones the assembly
//     is wrong by up to 1 (it returns -708.9 for 4.76e-309, where the
//     logarithm is -709.94) and log is right.
//
// Go's math code carries this notice, preserved here:
//
//	Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
//
//	Developed at SunPro, a Sun Microsystems, Inc. business.
//	Permission to use, copy, modify, and distribute this
//	software is freely granted, provided that this notice
//	is preserved.

// horner evaluates the polynomial with coefficients c, highest degree
// first, at x: ((c[0]·x + c[1])·x + ...)·x + c[n-1], rounding each
// product before it is added. It performs the operations of the nested
// form c[n-1] + x*(c[n-2] + x*(...)) in the same order.
func horner(x float64, c ...float64) float64 {
	r := c[0]
	for _, ci := range c[1:] {
		r = float64(r*x) + ci
	}
	return r
}

// exp returns e**x as math.Exp does on amd64 with FMA: Shibata's method
// (SLEEF, public domain), as Go's exp_amd64.s implements it. The
// argument is reduced by k·ln 2 with k = round(x·log2 e), e**r - 1 is a
// Taylor series in r/16 squared four times, and the result is scaled by
// 2**k.
func exp(x float64) float64 {
	const (
		ln2U     = 0.69314718055966295651160180568695068359375           // upper half of ln 2
		ln2L     = 0.28235290563031577122588448175013436025525412068e-12 // lower half of ln 2
		log2e    = 1.4426950408889634073599246810018920
		overflow = 7.09782712893384e+02
	)
	switch {
	case math.IsNaN(x) || math.IsInf(x, 1):
		return x
	case x > overflow:
		return math.Inf(1)
	case x < -800: // far below the smallest subnormal; also keeps k in int32
		return 0
	}
	k := math.RoundToEven(log2e * x) // CVTSD2SL rounds to nearest even
	r := math.FMA(-k, ln2U, x)
	r = math.FMA(-k, ln2L, r)
	r *= 0.0625
	p := 2.4801587301587301587e-5
	for _, c := range [...]float64{1.9841269841269841270e-4, 1.3888888888888888889e-3, 8.3333333333333333333e-3,
		4.1666666666666666667e-2, 1.6666666666666666667e-1, 0.5, 1.0} {
		p = math.FMA(p, r, c)
	}
	r = float64(r * p)
	r = float64(r * (r + 2))
	r = float64(r * (r + 2))
	r = float64(r * (r + 2))
	r = math.FMA(r, r+2, 1)
	// Scale by 2**k as the assembly does: one multiplication, or two when
	// the result is subnormal.
	e := int(k) + 1023
	switch {
	case e >= 0x7ff:
		return math.Inf(1)
	case e > 0:
		return r * math.Float64frombits(uint64(e)<<52)
	case e < -52:
		return 0
	}
	r *= math.Float64frombits(uint64(e+0x3fe) << 52)
	return r * math.Float64frombits(1<<52)
}

// log returns the natural logarithm of x, as Go's math.log computes it
// (FreeBSD's e_log.c): x = 2**k·(1+f), log(1+f) from s = f/(2+f).
func log(x float64) float64 {
	const (
		ln2Hi = 6.93147180369123816490e-01 // 3fe62e42 fee00000
		ln2Lo = 1.90821492927058770002e-10 // 3dea39ef 35793c76
		l1    = 6.666666666666735130e-01   // 3FE55555 55555593
		l2    = 3.999999999940941908e-01   // 3FD99999 9997FA04
		l3    = 2.857142874366239149e-01   // 3FD24924 94229359
		l4    = 2.222219843214978396e-01   // 3FCC71C5 1D8E78AF
		l5    = 1.818357216161805012e-01   // 3FC74664 96CB03DE
		l6    = 1.531383769920937332e-01   // 3FC39A09 D078C69F
		l7    = 1.479819860511658591e-01   // 3FC2F112 DF3E5244
	)
	switch {
	case math.IsNaN(x) || math.IsInf(x, 1):
		return x
	case x < 0:
		return math.NaN()
	case x == 0:
		return math.Inf(-1)
	}
	f1, ki := math.Frexp(x)
	if f1 < math.Sqrt2/2 {
		f1 *= 2
		ki--
	}
	f := f1 - 1
	k := float64(ki)
	s := f / (2 + f)
	s2 := s * s
	s4 := s2 * s2
	t1 := float64(s2 * horner(s4, l7, l5, l3, l1))
	t2 := float64(s4 * horner(s4, l6, l4, l2))
	R := t1 + t2
	hfsq := float64(0.5 * f * f)
	return float64(k*ln2Hi) - ((hfsq - (float64(s*(hfsq+R)) + float64(k*ln2Lo))) - f)
}

// pow15 returns x**1.5 for finite x > 0 as math.Pow(x, 1.5) computes it:
// e**(0.5·log x) times the mantissa of x, scaled by its exponent.
func pow15(x float64) float64 {
	if x == 1 {
		return 1
	}
	a, e := math.Frexp(x)
	return math.Ldexp(exp(0.5*log(x))*a, e)
}

// lnFactorial returns log(n!) for 0 <= n < 2**53 as math.Lgamma(n+1)
// computes it (FreeBSD's e_lgamma_r.c, whose integer arguments take only
// two of its branches): log((n)·(n-1)···2) exactly formed below 8, and
// Stirling's series with a minimax correction from 8 on.
func lnFactorial(n int) float64 {
	x := float64(n) + 1
	switch {
	case n < 0:
		panic("stats: lnFactorial of a negative number")
	case x <= 2:
		return 0
	case x < 8:
		z := 1.0
		for i := 2; i <= n; i++ {
			z *= float64(i)
		}
		return log(z)
	}
	const (
		w0 = 4.18938533204672725052e-01  // 0x3FDACFE390C97D69
		w1 = 8.33333333333329678849e-02  // 0x3FB555555555553B
		w2 = -2.77777777728775536470e-03 // 0xBF66C16C16B02E5C
		w3 = 7.93650558643019558500e-04  // 0x3F4A019F98CF38B6
		w4 = -5.95187557450339963135e-04 // 0xBF4380CB8C0FE741
		w5 = 8.36339918996282139126e-04  // 0x3F4B67BA4CDAD5D1
		w6 = -1.63092934096575273989e-03 // 0xBF5AB89D0B9E43E4
	)
	t := log(x)
	z := 1 / x
	y := z * z
	w := w0 + float64(z*horner(y, w6, w5, w4, w3, w2, w1))
	return float64((x-0.5)*(t-1)) + w
}
