package stats

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// BootstrapMethod selects how a bootstrap confidence interval is read off
// the bootstrap distribution.
type BootstrapMethod int

const (
	// BootstrapPercentile is Efron's percentile interval: the α/2 and
	// 1-α/2 quantiles of the bootstrap replicates.
	BootstrapPercentile BootstrapMethod = iota
	// BootstrapBCa is the bias-corrected and accelerated interval: the
	// percentile interval with quantile levels adjusted for median bias
	// (z0) and skewness (acceleration a, from the jackknife).
	BootstrapBCa
)

// String returns "percentile" or "bca".
func (m BootstrapMethod) String() string {
	switch m {
	case BootstrapPercentile:
		return "percentile"
	case BootstrapBCa:
		return "bca"
	default:
		return fmt.Sprintf("BootstrapMethod(%d)", int(m))
	}
}

// Bootstrap limits and defaults.
const (
	// DefaultBootstrapResamples is used when BootstrapOptions.Resamples
	// is 0.
	DefaultBootstrapResamples = 10_000
	// MaxBootstrapResamples bounds the work and memory of one interval
	// (8 bytes per resample); larger requests are an error, not a hang.
	MaxBootstrapResamples = 1_000_000
	// DefaultLevel is used when a Level field is 0.
	DefaultLevel = 0.95
	// bootstrapStream is the PCG stream word; the caller's seed is the
	// state word. A fixed stream keeps bootstrap draws independent of any
	// simulator stream derived from the same master seed.
	bootstrapStream = 0x5b5f_b007_57a7_5001
)

// BootstrapOptions configures PairedMeanDiff. Seed is always used as
// given (0 is a valid seed); zero Resamples and Level take the defaults.
type BootstrapOptions struct {
	Resamples int             // bootstrap replicates B; 0 means DefaultBootstrapResamples
	Seed      uint64          // PCG seed; same seed and data give the same interval
	Level     float64         // confidence level; 0 means DefaultLevel
	Method    BootstrapMethod // BootstrapPercentile (zero value) or BootstrapBCa
}

// withDefaults validates o and fills zero fields with defaults.
func (o BootstrapOptions) withDefaults() (BootstrapOptions, error) {
	if o.Resamples == 0 {
		o.Resamples = DefaultBootstrapResamples
	}
	if o.Level == 0 {
		o.Level = DefaultLevel
	}
	if o.Resamples < 1 || o.Resamples > MaxBootstrapResamples {
		return o, fmt.Errorf("bootstrap resamples %d: want 1..%d: %w", o.Resamples, MaxBootstrapResamples, ErrInvalid)
	}
	if o.Method != BootstrapPercentile && o.Method != BootstrapBCa {
		return o, fmt.Errorf("bootstrap method %v: want BootstrapPercentile or BootstrapBCa: %w", o.Method, ErrInvalid)
	}
	return o, checkLevel(o.Level)
}

// PairedDiff is the result of PairedMeanDiff. It echoes the options
// actually used (after defaults) so a report can be replayed.
type PairedDiff struct {
	N         int             // number of pairs
	MeanDiff  float64         // mean of a[i] - b[i]
	CI        Interval        // bootstrap confidence interval for the mean difference
	Level     float64         // confidence level used
	Method    BootstrapMethod // interval method used
	Resamples int             // bootstrap replicates used
	Seed      uint64          // seed used
	// Z0 and Accel are the BCa bias correction and acceleration; both 0
	// for the percentile method.
	Z0, Accel float64
}

// PairedMeanDiff estimates the mean of the paired differences d[i] = a[i]
// - b[i] and a bootstrap confidence interval for it. It draws B =
// opts.Resamples resamples of the n differences with replacement and
// computes their means θ*_1..θ*_B. Quantiles of the θ* use Quantile's
// linear interpolation (Hyndman–Fan 7).
//
// Percentile method: CI = [Q(α/2), Q(1-α/2)] of the θ*.
//
// BCa method (Efron 1987; Efron & Tibshirani 1993, §14.3):
//
//	z0 = Φ⁻¹((#{θ* < θ̂} + #{θ* = θ̂}/2) / B)
//	a  = Σ(θ̄₍.₎ - θ₍ᵢ₎)³ / (6 · (Σ(θ̄₍.₎ - θ₍ᵢ₎)²)^{3/2})   (jackknife means θ₍ᵢ₎)
//	α₁ = Φ(z0 + (z0 + z_{α/2})   / (1 - a(z0 + z_{α/2})))
//	α₂ = Φ(z0 + (z0 + z_{1-α/2}) / (1 - a(z0 + z_{1-α/2})))
//	CI = [Q(α₁), Q(α₂)]
//
// Half of the ties θ* = θ̂ count towards z0 so that discrete data (many
// replicates equal to θ̂) do not bias it; with all differences equal, z0 =
// a = 0 and the interval is the single point θ̂.
//
// Randomness comes only from a PCG generator seeded with (opts.Seed, a
// fixed stream), and indices are drawn with a bounded-integer algorithm
// implemented here, so the interval is identical for identical inputs on
// every Go version and platform. Cost: O(B·n) time, O(B) memory.
//
// References: B. Efron, "Better bootstrap confidence intervals", JASA
// 82:171–185 (1987); B. Efron and R. J. Tibshirani, "An Introduction to
// the Bootstrap", Chapman & Hall (1993), chapters 13–14.
//
// Errors: ErrMismatch for different lengths, ErrEmpty for no pairs,
// ErrInvalid for non-finite values, n < 2, or bad options.
func PairedMeanDiff(a, b []float64, opts BootstrapOptions) (PairedDiff, error) {
	if err := checkPaired(a, b); err != nil {
		return PairedDiff{}, fmt.Errorf("paired mean difference: %w", err)
	}
	if len(a) < 2 {
		return PairedDiff{}, fmt.Errorf("paired mean difference with %d pair: want at least 2: %w", len(a), ErrInvalid)
	}
	o, err := opts.withDefaults()
	if err != nil {
		return PairedDiff{}, fmt.Errorf("paired mean difference: %w", err)
	}
	d := make([]float64, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	res := PairedDiff{N: len(d), MeanDiff: mean(d), Level: o.Level, Method: o.Method, Resamples: o.Resamples, Seed: o.Seed}
	reps := bootstrapMeans(d, o.Resamples, o.Seed)
	slices.Sort(reps)
	alpha := 1 - o.Level
	lo, hi := float64(alpha/2), 1-float64(alpha/2)
	if o.Method == BootstrapBCa {
		res.Z0 = biasCorrection(reps, res.MeanDiff)
		res.Accel = jackknifeAcceleration(d)
		lo = bcaLevel(res.Z0, res.Accel, lo)
		hi = bcaLevel(res.Z0, res.Accel, hi)
	}
	res.CI = Interval{Lo: linearQuantileSorted(reps, lo), Hi: linearQuantileSorted(reps, hi)}
	return res, nil
}

// bootstrapMeans returns the means of resamples resamples of d.
func bootstrapMeans(d []float64, resamples int, seed uint64) []float64 {
	pcg := rand.NewPCG(seed, bootstrapStream)
	n := uint64(len(d))
	reps := make([]float64, resamples)
	for r := range reps {
		var sum float64
		for range d {
			sum += d[boundedUint64(pcg, n)]
		}
		reps[r] = sum / float64(n)
	}
	return reps
}

// boundedUint64 returns a uniform integer in [0, n) using Lemire's
// multiply-and-reject method ("Fast random integer generation in an
// interval", ACM TOMACS 29(1), 2019). It is written out here rather than
// calling rand.Rand.IntN so that the sequence is fixed by this code, not
// by the standard library version.
func boundedUint64(src *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(src.Uint64(), n)
	if lo < n {
		threshold := -n % n
		for lo < threshold {
			hi, lo = bits.Mul64(src.Uint64(), n)
		}
	}
	return hi
}

// biasCorrection returns z0 = Φ⁻¹(p) with p the fraction of sorted
// replicates below theta, counting ties as half. p is kept within
// [1/(2B), 1-1/(2B)] so that z0 stays finite when theta lies outside the
// bootstrap distribution.
func biasCorrection(sorted []float64, theta float64) float64 {
	below, _ := slices.BinarySearch(sorted, theta)
	upto := below
	for upto < len(sorted) && sorted[upto] == theta {
		upto++
	}
	b := float64(len(sorted))
	p := (float64(below) + float64(float64(upto-below)/2)) / b
	p = math.Min(math.Max(p, 1/(2*b)), 1-1/(2*b))
	return normalQuantile(p)
}

// jackknifeAcceleration returns the BCa acceleration for the mean of d
// from the leave-one-out means; 0 when all leave-one-out means are equal.
func jackknifeAcceleration(d []float64) float64 {
	n := float64(len(d))
	var sum float64
	for _, x := range d {
		sum += x
	}
	// Leave-one-out means are (sum - x)/(n-1); their mean is sum/n.
	jackMean := sum / n
	var num, den float64
	for _, x := range d {
		u := jackMean - (sum-x)/(n-1)
		num += float64(u * u * u)
		den += float64(u * u)
	}
	if den == 0 {
		return 0
	}
	return num / (6 * pow15(den))
}

// bcaLevel maps a nominal quantile level to the BCa-adjusted one.
func bcaLevel(z0, accel, level float64) float64 {
	z := normalQuantile(level)
	w := z0 + z
	den := 1 - float64(accel*w)
	if den <= 0 {
		// Only for |a| so large the BCa expansion is meaningless; take
		// the extreme replicate on the side the level asks for.
		if level < 0.5 {
			return 0
		}
		return 1
	}
	return normalCDF(z0 + w/den)
}

// mean returns the arithmetic mean of non-empty xs.
func mean(xs []float64) float64 {
	var sum float64
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}
