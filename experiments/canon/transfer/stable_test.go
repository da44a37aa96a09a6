package transfer

import (
	"math"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/sweep"
)

// TestStableFrom: the smallest size from which every interval overlaps
// the largest's; a gap further down does not count once the sizes above
// it agree, and a gap just below the largest means still changing.
func TestStableFrom(t *testing.T) {
	inf := math.Inf(1)
	for _, c := range []struct {
		name string
		ivs  []interval
		want int
	}{
		{"one size", []interval{{0, 1}}, 0},
		{"all overlap", []interval{{0, 0.5}, {0.4, 0.9}, {0.3, 0.6}}, 0},
		{"settles at 1", []interval{{0, 0.1}, {0.4, 0.9}, {0.5, 0.6}, {0.55, 1}}, 1},
		{"gap below the largest", []interval{{0.5, 0.6}, {0.5, 0.6}, {0.7, 0.8}}, 2},
		{"an overlap below a gap does not count", []interval{{0.5, 0.6}, {0, 0.1}, {0.5, 0.6}}, 2},
		{"unbounded above", []interval{{10, 20}, {55, inf}, {60, inf}}, 1},
		{"touching ends overlap", []interval{{0, 0.5}, {0.5, 1}}, 0},
	} {
		if got := stableFrom(c.ivs); got != c.want {
			t.Errorf("%s: stableFrom = %d, want %d", c.name, got, c.want)
		}
	}
}

// TestFirstOOMInterval: reached limits are times; an unreached lower
// limit is the follow-up, an unreached upper one +Inf.
func TestFirstOOMInterval(t *testing.T) {
	r := sweep.PointReport{FirstOOM: sweep.FirstOOM{FollowUpMaxNs: 60e9, CI95LoNs: 30e9, CI95LoReached: true, CI95HiNs: 50e9, CI95HiReached: true}}
	if got := firstOOMInterval(r); got != (interval{30, 50}) {
		t.Errorf("reached: %v", got)
	}
	r.FirstOOM.CI95HiReached = false
	if got := firstOOMInterval(r); got.Lo != 30 || !math.IsInf(got.Hi, 1) {
		t.Errorf("upper unreached: %v", got)
	}
	r.FirstOOM.CI95LoReached = false
	if got := firstOOMInterval(r); got.Lo != 60 || !math.IsInf(got.Hi, 1) {
		t.Errorf("both unreached: %v", got)
	}
}
