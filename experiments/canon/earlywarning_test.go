package canon

import (
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/stats"
)

// TestEWScore: an alarm before the kill is a hit with its lead time; one
// at or after the kill is a late miss; an alarm in a run without a kill
// is a false alarm; a signal that never fires has no precision.
func TestEWScore(t *testing.T) {
	runs := []warnRun{
		{oomNs: 5e9, firstNs: []int64{3e9, -1}},   // hit, lead 2 s
		{oomNs: 5e9, firstNs: []int64{5e9, -1}},   // late: a miss
		{oomNs: 4e9, firstNs: []int64{-1, -1}},    // miss
		{oomNs: -1, firstNs: []int64{1e9, -1}},    // false alarm
		{oomNs: -1, firstNs: []int64{-1, -1}},     // true negative
		{oomNs: 9e9, firstNs: []int64{8.5e9, -1}}, // hit, lead 0.5 s
	}
	all := func(warnRun) bool { return true }
	sc, err := ewScore(runs, 0, all)
	if err != nil {
		t.Fatal(err)
	}
	if sc.TP != 2 || sc.FN != 2 || sc.Late != 1 || sc.FP != 1 || sc.TN != 1 {
		t.Fatalf("confusion %+v", sc)
	}
	if len(sc.LeadS) != 2 || sc.LeadS[0] != 0.5 || sc.LeadS[1] != 2 {
		t.Fatalf("lead times %v, want [0.5 2] sorted", sc.LeadS)
	}
	want, _ := stats.WilsonInterval(2, 3, 0.95)
	if sc.Precision != want {
		t.Fatalf("precision %v, want Wilson(2, 3) %v", sc.Precision, want)
	}
	never, err := ewScore(runs, 1, all)
	if err != nil {
		t.Fatal(err)
	}
	if never.TP+never.FP != 0 || ewInterval(never.Precision) != "n/a" || never.FN != 4 {
		t.Fatalf("never-firing signal %+v", never)
	}
}

// TestOPCrossings: the 50 % crossing is interpolated between the levels
// around the first crossing, a fall back below 50 % is said, and a curve
// that never reaches 50 % says so.
func TestOPCrossings(t *testing.T) {
	cells := func(ps ...float64) []armResult {
		out := make([]armResult, len(ps))
		for i, p := range ps {
			out[i].P = p
		}
		return out
	}
	s := &loadSweep{Levels: []float64{1, 2, 4}, Policies: []string{"a", "b", "c"},
		Cells: [][]armResult{cells(0, 1, 1), cells(0.25, 0.75, 0.25), cells(0, 0.25, 0.25)}}
	got := opCrossings(s)
	for i, want := range []string{"`a` at load factor 1.50 ", "`b` at load factor 1.50 (P = 0.25 at 1, 0.75 at 2), though it falls back to 0.25 at 4", "`c` never (at most 0.25"} {
		if !strings.HasPrefix(got[i], want) {
			t.Errorf("crossing %d: %q, want prefix %q", i, got[i], want)
		}
	}
}
