package catalog

import (
	"context"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/canon"
)

// TestPlans: every experiment lists its inputs in both modes, and the
// full mode runs at least as much as the quick one.
func TestPlans(t *testing.T) {
	for _, x := range All() {
		if x.Plan == nil {
			t.Errorf("%s has no Plan", x.Name)
			continue
		}
		var simNs [2]int64
		var runs [2]int
		for i, quick := range []bool{true, false} {
			ins, err := x.Plan(canon.NewEnv(context.Background(), quick, 1))
			if err != nil {
				t.Fatalf("%s %s: %v", x.Name, canon.Mode(quick), err)
			}
			es, err := canon.InputEntries(ins)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range es {
				runs[i] += e.Runs
				simNs[i] += int64(e.Runs) * e.SimNs
			}
		}
		if runs[0] == 0 || runs[1] < runs[0] || simNs[1] < simNs[0] {
			t.Errorf("%s: quick %d runs, %d ns; full %d runs, %d ns", x.Name, runs[0], simNs[0], runs[1], simNs[1])
		}
		t.Logf("%-16s quick %5d runs %8.0f s simulated; full %6d runs %9.0f s simulated", x.Name, runs[0], float64(simNs[0])/1e9, runs[1], float64(simNs[1])/1e9)
	}
}
