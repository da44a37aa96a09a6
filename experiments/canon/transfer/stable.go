package transfer

import (
	"math"

	"github.com/sbmpsim/sbmpsim/experiments/sweep"
)

// interval is a quantity's 95 % interval at one size; Hi is +Inf when
// the data bound it only from below.
type interval struct{ Lo, Hi float64 }

// overlaps reports whether a and b share a value.
func (a interval) overlaps(b interval) bool { return a.Lo <= b.Hi && b.Lo <= a.Hi }

// stableFrom is where a quantity stops changing with size, as this
// experiment defines it: the index of the smallest size from which the
// interval of every size up to the largest overlaps the largest size's.
// It is len(ivs)-1 when the next-largest size's interval does not
// overlap the largest's (the quantity still changes at the largest size
// run), and 0 when no size differs detectably from the largest. Overlap
// of 95 % intervals is a weak test: with few seeds the intervals are
// wide and overlap easily, so "stopped changing" means "no change this
// many seeds can show".
func stableFrom(ivs []interval) int {
	last := ivs[len(ivs)-1]
	from := len(ivs) - 1
	for i := len(ivs) - 2; i >= 0 && ivs[i].overlaps(last); i-- {
		from = i
	}
	return from
}

// wilson is a point's OOM probability interval.
func wilson(r sweep.PointReport) interval {
	return interval{r.OOMCI95Wilson[0], r.OOMCI95Wilson[1]}
}

// firstOOMInterval is a point's Brookmeyer-Crowley interval of the
// Kaplan-Meier median time to the first OOM kill, in seconds. A limit
// the curve never reached bounds the median from below by the longest
// follow-up: an unreached lower limit is that time, an unreached upper
// limit is +Inf.
func firstOOMInterval(r sweep.PointReport) interval {
	f := r.FirstOOM
	iv := interval{float64(f.CI95LoNs) / 1e9, math.Inf(1)}
	if !f.CI95LoReached {
		iv.Lo = float64(f.FollowUpMaxNs) / 1e9
	}
	if f.CI95HiReached {
		iv.Hi = float64(f.CI95HiNs) / 1e9
	}
	return iv
}
