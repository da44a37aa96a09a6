package transfer

import (
	"reflect"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/canon"
	"github.com/sbmpsim/sbmpsim/experiments/sweep"
)

// TestSweepFilePlansTheGrid: the sweep file written for a size plans
// the sweep the experiment runs, hash included, with and without common
// overrides.
func TestSweepFilePlansTheGrid(t *testing.T) {
	for i, common := range [][]string{nil, {"run.duration_ms=1500"}} {
		sc, err := canon.Load(baseScenario, common...)
		if err != nil {
			t.Fatal(err)
		}
		k := []float64{64, 0.5}[i]
		sets, err := Scale(sc, k)
		if err != nil {
			t.Fatal(err)
		}
		g := grid(4096, common, sets, 3)
		want, err := sweep.NewGridPlan(g)
		if err != nil {
			t.Fatal(err)
		}
		text := sweepFile(g, "test")
		f, err := sweep.Parse("transfer-4096mib.toml", text)
		if err != nil {
			t.Fatalf("%v\n%s", err, text)
		}
		got, err := sweep.NewPlan(f)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.PlanFile, want.PlanFile) {
			t.Errorf("the file plans\n%+v\nthe grid\n%+v\nfile:\n%s", got.PlanFile, want.PlanFile, text)
		}
	}
}
