package stats

import (
	"fmt"
	"math"
)

// PairedBinary is the 2×2 table of paired binary outcomes, e.g. whether
// arm A and arm B each hit OOM on the same seed.
type PairedBinary struct {
	Both    int // event in A and in B
	OnlyA   int // event in A, not in B (discordant)
	OnlyB   int // event in B, not in A (discordant)
	Neither int // event in neither
}

// N returns the number of pairs in the table.
func (t PairedBinary) N() int { return t.Both + t.OnlyA + t.OnlyB + t.Neither }

// PairedBinaryTable counts paired outcomes: a[i] and b[i] are whether the
// event happened in arm A and arm B on seed i. Errors: ErrMismatch,
// ErrEmpty.
func PairedBinaryTable(a, b []bool) (PairedBinary, error) {
	if len(a) != len(b) {
		return PairedBinary{}, fmt.Errorf("paired binary table: len(a) = %d, len(b) = %d: pass one outcome per seed for each arm: %w", len(a), len(b), ErrMismatch)
	}
	if len(a) == 0 {
		return PairedBinary{}, fmt.Errorf("paired binary table: %w", ErrEmpty)
	}
	var t PairedBinary
	for i := range a {
		switch {
		case a[i] && b[i]:
			t.Both++
		case a[i]:
			t.OnlyA++
		case b[i]:
			t.OnlyB++
		default:
			t.Neither++
		}
	}
	return t, nil
}

// PairedBinaryResult compares the event probabilities of two arms on
// paired units.
type PairedBinaryResult struct {
	Table PairedBinary
	PA    float64  // (Both + OnlyA) / N, event rate in arm A
	PB    float64  // (Both + OnlyB) / N, event rate in arm B
	Diff  float64  // PA - PB = (OnlyA - OnlyB) / N
	CI    Interval // Newcombe (1998) method 10 interval for PA - PB
	Level float64  // confidence level of CI
	// P is McNemar's exact (conditional) two-sided p-value for H0: PA = PB.
	P float64
}

// ComparePairedBinary computes McNemarExact and NewcombePairedDiff for
// the table t. Errors as for NewcombePairedDiff.
func ComparePairedBinary(t PairedBinary, level float64) (PairedBinaryResult, error) {
	ci, err := NewcombePairedDiff(t, level)
	if err != nil {
		return PairedBinaryResult{}, err
	}
	n := float64(t.N())
	return PairedBinaryResult{
		Table: t,
		PA:    float64(t.Both+t.OnlyA) / n,
		PB:    float64(t.Both+t.OnlyB) / n,
		Diff:  float64(t.OnlyA-t.OnlyB) / n,
		CI:    ci,
		Level: level,
		P:     McNemarExact(t),
	}, nil
}

// McNemarExact returns the exact two-sided McNemar p-value for H0: the
// two arms have the same event probability. Only discordant pairs carry
// information; given m = OnlyA + OnlyB of them, OnlyA ~ Binomial(m, 1/2)
// under H0, so
//
//	P = min(1, 2 · Σ_{i=0..min(OnlyA, OnlyB)} C(m, i) / 2^m)
//
// (the exact conditional test; R's exact2x2::mcnemar.exact). P = 1 when
// there are no discordant pairs.
//
// References: Q. McNemar, "Note on the sampling error of the difference
// between correlated proportions or percentages", Psychometrika
// 12:153–157 (1947); M. W. Fagerland, S. Lydersen and P. Laake, "The
// McNemar test for binary matched-pairs data", BMC Med. Res. Methodol.
// 13:91 (2013).
func McNemarExact(t PairedBinary) float64 {
	return binomialHalfTwoSided(min(t.OnlyA, t.OnlyB), t.OnlyA+t.OnlyB)
}

// NewcombePairedDiff returns Newcombe's (1998) method 10 confidence
// interval for the difference of paired proportions PA - PB. With the
// Wilson intervals [l1, u1] for PA and [l2, u2] for PB (WilsonInterval on
// the margins), D = PA - PB, and the 2×2 cells a = Both, b = OnlyA,
// c = OnlyB, d = Neither:
//
//	φ = C / sqrt((a+b)(c+d)(a+c)(b+d)),  φ = 0 if the product is 0,
//	  where C = ad - bc if ad - bc <= 0, else max(ad - bc - n/2, 0)
//	Lo = D - sqrt((PA - l1)² - 2φ(PA - l1)(u2 - PB) + (u2 - PB)²)
//	Hi = D + sqrt((PB - l2)² - 2φ(PB - l2)(u1 - PA) + (u1 - PA)²)
//
// The n/2 adjustment of a positive correlation numerator is Newcombe's;
// it matches the worked example in Altman et al., "Statistics with
// Confidence", 2nd ed. (2000), ch. 6, and Fagerland, Lydersen & Laake,
// "Statistical Analysis of Contingency Tables" (2017), ch. 8.
//
// Reference: R. G. Newcombe, "Improved confidence intervals for the
// difference between binomial proportions based on paired data", Stat.
// Med. 17:2635–2650 (1998).
//
// Errors: ErrEmpty for an empty table; ErrInvalid for negative counts or
// a level outside (0, 1).
func NewcombePairedDiff(t PairedBinary, level float64) (Interval, error) {
	if t.Both < 0 || t.OnlyA < 0 || t.OnlyB < 0 || t.Neither < 0 {
		return Interval{}, fmt.Errorf("newcombe paired difference: table %+v: want counts >= 0: %w", t, ErrInvalid)
	}
	n := t.N()
	if n == 0 {
		return Interval{}, fmt.Errorf("newcombe paired difference: %w", ErrEmpty)
	}
	wa, err := WilsonInterval(t.Both+t.OnlyA, n, level)
	if err != nil {
		return Interval{}, fmt.Errorf("newcombe paired difference: %w", err)
	}
	wb, err := WilsonInterval(t.Both+t.OnlyB, n, level)
	if err != nil {
		return Interval{}, fmt.Errorf("newcombe paired difference: %w", err)
	}
	nf := float64(n)
	pa, pb := float64(t.Both+t.OnlyA)/nf, float64(t.Both+t.OnlyB)/nf
	phi := newcombePhi(t)
	diff := pa - pb
	la, ua, lb, ub := pa-wa.Lo, wa.Hi-pa, pb-wb.Lo, wb.Hi-pb
	lo := diff - math.Sqrt(math.Max(float64(la*la)-float64(2*phi*la*ub)+float64(ub*ub), 0))
	hi := diff + math.Sqrt(math.Max(float64(lb*lb)-float64(2*phi*lb*ua)+float64(ua*ua), 0))
	return Interval{Lo: math.Max(lo, -1), Hi: math.Min(hi, 1)}, nil
}

// newcombePhi returns the adjusted phi coefficient of the 2×2 table.
func newcombePhi(t PairedBinary) float64 {
	a, b, c, d := float64(t.Both), float64(t.OnlyA), float64(t.OnlyB), float64(t.Neither)
	den := (a + b) * (c + d) * (a + c) * (b + d)
	if den == 0 {
		return 0
	}
	num := float64(a*d) - float64(b*c)
	if num > 0 {
		num = math.Max(num-float64((a+b+c+d)/2), 0)
	}
	return num / math.Sqrt(den)
}
