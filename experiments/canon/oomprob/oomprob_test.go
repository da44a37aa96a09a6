package oomprob

import (
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/canon"
	"github.com/sbmpsim/sbmpsim/experiments/canon/loadsweep"
)

// TestCrossings: the 50 % crossing is interpolated between the levels
// around the first crossing, a fall back below 50 % is said, and a curve
// that never reaches 50 % says so.
func TestCrossings(t *testing.T) {
	cells := func(ps ...float64) []canon.Arm {
		out := make([]canon.Arm, len(ps))
		for i, p := range ps {
			out[i].P = p
		}
		return out
	}
	s := &loadsweep.Sweep{Levels: []float64{1, 2, 4}, Policies: []string{"a", "b", "c"},
		Cells: [][]canon.Arm{cells(0, 1, 1), cells(0.25, 0.75, 0.25), cells(0, 0.25, 0.25)}}
	got := crossings(s)
	for i, want := range []string{"`a` at load factor 1.50 ", "`b` at load factor 1.50 (P = 0.25 at 1, 0.75 at 2), though it falls back to 0.25 at 4", "`c` never (at most 0.25"} {
		if !strings.HasPrefix(got[i], want) {
			t.Errorf("crossing %d: %q, want prefix %q", i, got[i], want)
		}
	}
}
