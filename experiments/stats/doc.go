// Package stats holds the statistics the A/B experiment runner needs to
// compare two allocator policies run on the same seeds: intervals for a
// binomial proportion (how often an arm OOMs), sample and histogram
// quantiles (latency), paired tests and bootstrap intervals for per-seed
// differences, Kaplan–Meier survival for time to first event, and
// McNemar's test with Newcombe's interval for paired binary outcomes.
//
// The package is pure: it does no I/O, starts no goroutines and keeps no
// global state. The only randomness (the bootstrap) comes from a PCG
// generator built from a seed the caller passes in, so identical inputs
// always give bit-identical outputs.
//
// Conventions shared by every function:
//   - Paired samples a[i], b[i] come from the same seed i; differences are
//     always a[i] - b[i] ("arm A minus arm B").
//   - Confidence levels are fractions in (0, 1), e.g. 0.95.
//   - Inputs are never modified; functions that sort work on a copy.
//   - Bad input is reported as an error wrapping ErrInvalid, ErrEmpty or
//     ErrMismatch, never as NaN.
//
// # Same bits on every architecture
//
// The Go spec ("Floating-point operators") lets an implementation fuse
// x*y + z into one fused multiply-add, rounding once instead of twice,
// and says that only an explicit conversion, float64(x*y), rounds the
// product and so prevents fusion. The compiler fuses on arm64, ppc64,
// ppc64le, s390x, riscv64 and loong64, and on amd64 built with
// GOAMD64=v3. It does so on SSA values, so `h := a*b; c + h` fuses as
// well. Hence the rule for this package: every product whose value is
// added or subtracted, directly or through a variable, is written
// float64(a*b); so is a quotient by a power of two (the compiler turns
// x/2 into x*0.5), although scaling by a power of two is exact either
// way. The conversion costs nothing where the compiler would not fuse,
// so the results are the ones amd64 computed before the rule.
//
// For the same reason the package calls no math function beyond the
// exact ones (Sqrt, Floor, Ldexp, FMA, ...) and nothing of gonum: exp,
// log, erfc and the normal quantile are written here (elementary.go,
// normal.go) and give amd64's former values everywhere, and the
// Clopper-Pearson limits are computed exactly.
// TestSameBitsOnEveryArchitecture and
// TestNoArchitectureDependentFunctions hold the package to this, and
// .ci/run runs the former under qemu-aarch64-static.
package stats

import (
	"errors"
	"fmt"
	"math"
)

// Sentinel errors. Every error the package returns wraps exactly one of
// these, so callers can branch with errors.Is.
var (
	// ErrInvalid means an argument is out of its documented range
	// (a level outside (0,1), a count above its total, a NaN sample).
	ErrInvalid = errors.New("stats: invalid argument")
	// ErrEmpty means there is nothing to compute on (no trials, no
	// observations).
	ErrEmpty = errors.New("stats: no data")
	// ErrMismatch means two paired slices have different lengths.
	ErrMismatch = errors.New("stats: paired inputs differ in length")
)

// Interval is a closed interval [Lo, Hi] on the real line, used for every
// confidence interval the package returns.
type Interval struct {
	Lo float64
	Hi float64
}

// zTwoSided returns the standard normal quantile z with P(|Z| <= z) =
// level, i.e. Φ⁻¹(1 - (1-level)/2); 1.959964 for level 0.95.
func zTwoSided(level float64) float64 {
	return normalQuantile(1 - float64((1-level)/2))
}

// checkLevel rejects confidence levels outside the open interval (0, 1).
func checkLevel(level float64) error {
	if !(level > 0 && level < 1) {
		return fmt.Errorf("confidence level %v: want a fraction in (0, 1) such as 0.95: %w", level, ErrInvalid)
	}
	return nil
}

// checkFinite rejects samples containing NaN or ±Inf; name says which
// argument is at fault.
func checkFinite(name string, xs []float64) error {
	for i, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%s[%d] = %v: want a finite number: %w", name, i, x, ErrInvalid)
		}
	}
	return nil
}

// checkPaired validates two paired samples: same non-zero length and
// finite values.
func checkPaired(a, b []float64) error {
	if len(a) != len(b) {
		return fmt.Errorf("len(a) = %d, len(b) = %d: pass one value per seed for each arm: %w", len(a), len(b), ErrMismatch)
	}
	if len(a) == 0 {
		return fmt.Errorf("paired samples: %w", ErrEmpty)
	}
	if err := checkFinite("a", a); err != nil {
		return err
	}
	return checkFinite("b", b)
}
