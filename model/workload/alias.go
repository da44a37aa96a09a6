package workload

import (
	"math"
	"math/bits"

	"github.com/sbmpsim/sbmpsim/sim"
)

// aliasTable draws an index in [0, n) with probability proportional to
// the weights it was built from, in O(1) time and one Uint64 per draw
// (Vose's alias method). Building costs O(n).
//
// A draw multiplies a uniform 64-bit word by n: the high word of the
// product is the column, and the low word, uniform over the column's share
// of words to within n·2⁻⁶⁴, decides between the column and its alias. The
// bias this leaves is below n·2⁻⁶⁴ per index, far under anything a test or
// a run can see, and it saves a second draw.
type aliasTable struct {
	slots []aliasSlot
}

// aliasSlot is one column: keep it when the low word is below keep,
// otherwise take alias. A full column has keep = MaxUint64 and aliases
// itself.
type aliasSlot struct {
	keep  uint64
	alias int32
}

// newAliasTable builds the table. weights must be finite, non-negative,
// have a positive finite sum and at most math.MaxInt32 entries; the
// constructors check this before calling.
func newAliasTable(weights []float64) aliasTable {
	n := len(weights)
	var sum float64
	for _, w := range weights {
		sum += w
	}
	// scaled[i] is weight i as a multiple of the mean weight, so a column
	// holds exactly 1.
	scaled := make([]float64, n)
	small := make([]int32, 0, n)
	large := make([]int32, 0, n)
	for i, w := range weights {
		scaled[i] = w / sum * float64(n) // not w·n: that can overflow
		if scaled[i] < 1 {
			small = append(small, int32(i))
		} else {
			large = append(large, int32(i))
		}
	}
	slots := make([]aliasSlot, n)
	for len(small) > 0 && len(large) > 0 {
		s := small[len(small)-1]
		small = small[:len(small)-1]
		l := large[len(large)-1]
		slots[s] = aliasSlot{keep: fractionThreshold(scaled[s]), alias: l}
		// The large column gives what the small one lacks.
		scaled[l] -= 1 - scaled[s]
		if scaled[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	// What is left is full up to rounding error: keep it whole.
	for _, i := range append(small, large...) {
		slots[i] = aliasSlot{keep: math.MaxUint64, alias: i}
	}
	return aliasTable{slots: slots}
}

// draw returns an index with probability weight/sum.
func (t *aliasTable) draw(r *sim.Stream) int {
	hi, lo := bits.Mul64(r.Uint64(), uint64(len(t.slots)))
	s := &t.slots[hi]
	if lo < s.keep {
		return int(hi)
	}
	return int(s.alias)
}
