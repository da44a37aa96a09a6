package sim

import (
	"math/bits"
	"math/rand/v2"
)

// Seeds derives independent random streams from one master seed. It is a
// value: copy it freely, it has no state of its own.
type Seeds struct {
	Master uint64
}

// Stream returns the stream named name. The same (master, name) always
// gives the same sequence, and streams with different names are
// independent, so adding draws to one component never shifts another's.
func (s Seeds) Stream(name string) Stream {
	return NewStream(s.Master, name)
}

// Stream is a PCG random stream (math/rand/v2) handed out as a value. Its
// methods take a pointer; keep the Stream in the struct of the component
// that owns it.
type Stream struct {
	pcg rand.PCG
}

// NewStream returns the stream named name under master seed master. Both
// PCG words are scrambled with splitmix64 so that neighbouring master seeds
// (1, 2, 3, ...) start far apart in the generator's state space.
func NewStream(master uint64, name string) Stream {
	id := fnv1a(name)
	hi := splitmix64(master ^ splitmix64(id))
	lo := splitmix64(hi ^ id ^ 0x9e3779b97f4a7c15)
	var s Stream
	s.pcg.Seed(hi, lo)
	return s
}

// Uint64 returns a uniformly distributed 64-bit value.
func (s *Stream) Uint64() uint64 { return s.pcg.Uint64() }

// Float64 returns a uniform value in [0, 1).
func (s *Stream) Float64() float64 {
	return float64(s.pcg.Uint64()>>11) * 0x1p-53
}

// Exp returns an exponentially distributed value with the given mean, by
// math/rand/v2's ziggurat (ExpFloat64), which measured 13 ns against 21 ns
// for inversion with a logarithm. The *rand.Rand wrapper does not escape,
// so the call allocates nothing. The product is rounded (float64) so that
// a caller's clock += Exp(gap) is not fused into one multiply-add on arm64
// (see package stats): the draw gives the same bits on every architecture.
func (s *Stream) Exp(mean float64) float64 {
	return float64(mean * rand.New(&s.pcg).ExpFloat64())
}

// IntN returns a uniform value in [0, n). It panics if n <= 0.
func (s *Stream) IntN(n int) int {
	if n <= 0 {
		panic("sim: IntN with n <= 0")
	}
	// Lemire's multiply-shift with rejection: unbiased.
	un := uint64(n)
	for {
		hi, lo := bits.Mul64(s.pcg.Uint64(), un)
		if lo >= un || lo >= -un%un {
			return int(hi)
		}
	}
}

// Rand returns a *rand.Rand drawing from this stream, for the
// distributions math/rand/v2 offers (NormFloat64, Perm, ...). Draws through
// it advance s. s must outlive the returned value.
func (s *Stream) Rand() *rand.Rand { return rand.New(&s.pcg) }

// MarshalBinary returns the stream's state, for checkpoints.
func (s *Stream) MarshalBinary() ([]byte, error) { return s.pcg.MarshalBinary() }

// UnmarshalBinary restores a state written by MarshalBinary.
func (s *Stream) UnmarshalBinary(b []byte) error { return s.pcg.UnmarshalBinary(b) }

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

func fnv1a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
