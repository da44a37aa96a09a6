package sim

import (
	"math"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestLadderMatchesSortedReference pushes and pops entries whose times
// come from distributions chosen to reach every path of the ladder: ties
// (no split possible), bursts into bottom (spill), wide spreads (deep
// rungs), times near MaxInt64 (saturation) and draining to empty.
func TestLadderMatchesSortedReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var l ladder
		var ref []entry
		now := int64(0)
		seq := uint64(0)
		delay := rapid.OneOf(
			rapid.Int64Range(0, 0),
			rapid.Int64Range(0, 3),
			rapid.Int64Range(0, 1000),
			rapid.Int64Range(0, 1<<40),
			rapid.Int64Range(math.MaxInt64/2, math.MaxInt64/2+5),
		)
		push := func(t *rapid.T) {
			d := delay.Draw(t, "delay")
			at := now + d
			if at < now { // overflowed: clamp to the largest time
				at = math.MaxInt64
			}
			e := entry{at: at, key: seq << kindBits}
			seq++
			l.push(e)
			i, _ := slices.BinarySearchFunc(ref, e, cmpEntry)
			ref = slices.Insert(ref, i, e)
		}
		t.Repeat(map[string]func(*rapid.T){
			"push": push,
			"burst": func(t *rapid.T) {
				for range rapid.IntRange(1, 300).Draw(t, "n") {
					push(t)
				}
			},
			"pop": func(t *rapid.T) {
				e, ok := l.min()
				if ok != (len(ref) > 0) {
					t.Fatalf("min ok = %v with %d in reference", ok, len(ref))
				}
				if !ok {
					return
				}
				if e != ref[0] {
					t.Fatalf("min = %+v, reference %+v", e, ref[0])
				}
				l.popMin()
				ref = ref[1:]
				now = e.at
			},
			"": func(t *rapid.T) {
				if l.len() != len(ref) {
					t.Fatalf("len = %d, reference %d", l.len(), len(ref))
				}
			},
		})
	})
}

// TestLadderHoldAllocatesNothing checks the steady state of the hold model
// allocates no memory once the queue has reached its working size.
func TestLadderHoldAllocatesNothing(t *testing.T) {
	var l ladder
	next := holdGen()
	for range 10_000 {
		l.push(next(0))
	}
	hold := func() {
		e, _ := l.min()
		l.popMin()
		l.push(next(e.at))
	}
	for range 200_000 {
		hold()
	}
	if a := testing.AllocsPerRun(100_000, hold); a != 0 {
		t.Fatalf("%v allocations per hold", a)
	}
}

// TestLadderBoundNearMaxInt64 is the case rapid found: a rung whose bucket
// boundaries pass MaxInt64 must saturate, not wrap to negative and swallow
// earlier events into a consumed bucket.
func TestLadderBoundNearMaxInt64(t *testing.T) {
	const x = math.MaxInt64 / 2
	var l ladder
	seq := uint64(0)
	push := func(at int64) {
		seq++
		l.push(entry{at: at, key: seq << kindBits})
	}
	pop := func() int64 {
		e, ok := l.min()
		if !ok {
			t.Fatal("empty")
		}
		l.popMin()
		return e.at
	}
	push(x)
	pop()
	push(x)
	push(2 * x)
	if got := pop(); got != x {
		t.Fatalf("popped %d, want %d", got, int64(x))
	}
	push(x)
	if got := pop(); got != x {
		t.Fatalf("popped %d, want %d", got, int64(x))
	}
}
