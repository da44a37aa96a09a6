package workload

import (
	"math"
	"math/bits"
	"math/rand/v2"

	"github.com/sbmpsim/sbmpsim/sim"
)

// streamSource lets math/rand/v2 draw from a sim.Stream. It is a
// conversion of the stream's pointer, not a copy, so draws through it
// advance the caller's stream.
type streamSource sim.Stream

// Uint64 implements rand.Source.
func (s *streamSource) Uint64() uint64 { return (*sim.Stream)(s).Uint64() }

// normal returns a standard normal draw from r by math/rand/v2's ziggurat.
// The *rand.Rand lives on the stack (it does not escape), so unlike
// sim.Stream.Rand this allocates nothing; BenchmarkSizeLognormal checks.
func normal(r *sim.Stream) float64 {
	return rand.New((*streamSource)(r)).NormFloat64()
}

// uniformBelow returns a uniform value in [0, n), n >= 1, by Lemire's
// multiply-shift with rejection (unbiased), as sim.Stream.IntN does for
// int.
func uniformBelow(r *sim.Stream, n uint64) uint64 {
	for {
		hi, lo := bits.Mul64(r.Uint64(), n)
		if lo >= n || lo >= -n%n {
			return hi
		}
	}
}

// fractionThreshold returns the uint64 t such that a uniform 64-bit word
// is below t with probability p (to within 2⁻⁶⁴), for a Bernoulli(p) draw
// that costs one Uint64. p must be in [0, 1]; p == 1 gives MaxUint64, whose
// one missing word is the 2⁻⁶⁴.
func fractionThreshold(p float64) uint64 {
	if p >= 1 {
		return math.MaxUint64
	}
	return uint64(p * 0x1p64)
}

// normalCDF returns Φ(z), the standard normal distribution function.
func normalCDF(z float64) float64 { return float64(0.5 * math.Erfc(-z/math.Sqrt2)) }

// normalMass returns Φ(b) - Φ(a) for a <= b, computed from whichever tail
// keeps the difference free of cancellation.
func normalMass(a, b float64) float64 {
	if a > 0 {
		// Both in the upper tail: Q(a) - Q(b) with Q(z) = Φ(-z).
		return normalCDF(-a) - normalCDF(-b)
	}
	return normalCDF(b) - normalCDF(a)
}
