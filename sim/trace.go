package sim

import (
	"fmt"
	"math/bits"
)

// traceHash folds each executed event into a 64-bit state with the round
// function of xxHash64. It is for telling runs apart, not for security: two
// runs with the same inputs and seed give the same hash, and any difference
// in the order, timing, kind or payload of events changes it with
// overwhelming probability.
type traceHash struct{ h uint64 }

const (
	prime1 = 0x9e3779b185ebca87
	prime2 = 0xc2b2ae3d27d4eb4f
)

func newTraceHash() traceHash { return traceHash{h: prime1} }

func round(acc, x uint64) uint64 {
	acc += x * prime2
	acc = bits.RotateLeft64(acc, 31)
	return acc * prime1
}

func (t *traceHash) add(ev Event) {
	h := round(t.h, uint64(ev.At))
	h = round(h, uint64(ev.Kind))
	h = round(h, uint64(ev.A))
	t.h = round(h, uint64(ev.B))
}

// String returns the hash as 16 hex digits after a final avalanche.
func (t traceHash) String() string {
	h := t.h
	h ^= h >> 33
	h *= prime2
	h ^= h >> 29
	h *= prime1
	h ^= h >> 32
	return fmt.Sprintf("%016x", h)
}
