package stats

import (
	"fmt"
	"math"
)

// checkBinomial validates k successes out of n trials.
func checkBinomial(k, n int, level float64) error {
	if n == 0 {
		return fmt.Errorf("binomial interval with n = 0 trials: %w", ErrEmpty)
	}
	if n < 0 || k < 0 || k > n {
		return fmt.Errorf("binomial interval k = %d, n = %d: want 0 <= k <= n: %w", k, n, ErrInvalid)
	}
	return checkLevel(level)
}

// WilsonInterval returns the Wilson score interval for a binomial
// proportion with k successes in n trials at the given confidence level.
//
// With p = k/n and z = Φ⁻¹(1 - α/2), α = 1 - level:
//
//	centre    = (k + z²/2) / (n + z²)
//	halfWidth = z / (n + z²) · sqrt(k(n-k)/n + z²/4)
//	interval  = [centre - halfWidth, centre + halfWidth]
//
// It inverts the score test and, unlike the Wald interval, never leaves
// [0, 1] nor collapses to zero width at k = 0 or k = n. This is method 3
// of Newcombe (1998).
//
// References: E. B. Wilson, "Probable inference, the law of succession,
// and statistical inference", JASA 22:209–212 (1927); R. G. Newcombe,
// "Two-sided confidence intervals for the single proportion: comparison
// of seven methods", Stat. Med. 17:857–872 (1998).
//
// n = 0 is an error wrapping ErrEmpty (no trials carry no information);
// k outside [0, n] or level outside (0, 1) wrap ErrInvalid.
func WilsonInterval(k, n int, level float64) (Interval, error) {
	if err := checkBinomial(k, n, level); err != nil {
		return Interval{}, fmt.Errorf("wilson: %w", err)
	}
	z := zTwoSided(level)
	// Products that are added are rounded first (float64(...)), so no
	// architecture fuses them (see the package doc).
	nf, kf, z2 := float64(n), float64(k), float64(z*z)
	centre := (kf + float64(z2/2)) / (nf + z2)
	half := float64(z / (nf + z2) * math.Sqrt(kf*(nf-kf)/nf+float64(z2/4)))
	iv := Interval{Lo: centre - half, Hi: centre + half}
	// At k = 0 and k = n the limits are exactly 0 and 1 algebraically;
	// pin them so rounding cannot produce -1e-17.
	if k == 0 {
		iv.Lo = 0
	}
	if k == n {
		iv.Hi = 1
	}
	return clampUnit(iv), nil
}

// WilsonCCInterval returns the Wilson score interval with continuity
// correction (Newcombe 1998, method 4). With p = k/n, q = 1-p:
//
//	Lo = (2np + z² - 1 - z·sqrt(z² - 2 - 1/n + 4p(nq + 1))) / (2(n + z²))
//	Hi = (2np + z² + 1 + z·sqrt(z² + 2 - 1/n + 4p(nq - 1))) / (2(n + z²))
//
// with Lo = 0 when k = 0 and Hi = 1 when k = n. It is wider than
// WilsonInterval and aims at minimum rather than mean coverage. Errors as
// for WilsonInterval.
func WilsonCCInterval(k, n int, level float64) (Interval, error) {
	if err := checkBinomial(k, n, level); err != nil {
		return Interval{}, fmt.Errorf("wilson with continuity correction: %w", err)
	}
	z := zTwoSided(level)
	nf, z2 := float64(n), float64(z*z)
	p := float64(k) / nf
	q := 1 - p
	den := 2 * (nf + z2)
	np2 := float64(2 * nf * p)
	iv := Interval{Lo: 0, Hi: 1}
	if k > 0 {
		iv.Lo = (np2 + z2 - 1 - float64(z*math.Sqrt(z2-2-1/nf+float64(4*p*(float64(nf*q)+1))))) / den
	}
	if k < n {
		iv.Hi = (np2 + z2 + 1 + float64(z*math.Sqrt(z2+2-1/nf+float64(4*p*(float64(nf*q)-1))))) / den
	}
	return clampUnit(iv), nil
}

// clampUnit keeps both ends of iv inside [0, 1].
func clampUnit(iv Interval) Interval {
	iv.Lo = math.Min(math.Max(iv.Lo, 0), 1)
	iv.Hi = math.Min(math.Max(iv.Hi, 0), 1)
	return iv
}
