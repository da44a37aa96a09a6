package earlywarning

import (
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/stats"
)

// TestScore: an alarm before the kill is a hit with its lead time; one
// at or after the kill is a late miss; an alarm in a run without a kill
// is a false alarm; a signal that never fires has no precision.
func TestScore(t *testing.T) {
	runs := []outcome{
		{oomNs: 5e9, firstNs: []int64{3e9, -1}},   // hit, lead 2 s
		{oomNs: 5e9, firstNs: []int64{5e9, -1}},   // late: a miss
		{oomNs: 4e9, firstNs: []int64{-1, -1}},    // miss
		{oomNs: -1, firstNs: []int64{1e9, -1}},    // false alarm
		{oomNs: -1, firstNs: []int64{-1, -1}},     // true negative
		{oomNs: 9e9, firstNs: []int64{8.5e9, -1}}, // hit, lead 0.5 s
	}
	all := func(outcome) bool { return true }
	sc, err := scoreOf(runs, 0, all)
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
	never, err := scoreOf(runs, 1, all)
	if err != nil {
		t.Fatal(err)
	}
	if never.TP+never.FP != 0 || interval(never.Precision) != "n/a" || never.FN != 4 {
		t.Fatalf("never-firing signal %+v", never)
	}
}
