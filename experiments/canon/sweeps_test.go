package canon

import (
	"context"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/sweep"
)

// TestRunSweepShares: an Env made by NewEnv simulates a sweep once and
// hands the same runs to every experiment asking for a plan of the same
// hash; another plan runs on its own; an Env without the cache reruns.
func TestRunSweepShares(t *testing.T) {
	plan := func(seeds int) *sweep.Plan {
		p, err := sweep.NewGridPlan(sweep.Grid{Name: "tiny", Scenario: "embedded:steady", SeedFirst: 1, Seeds: seeds,
			Set:  []string{"run.duration_ms=100"},
			Axes: []sweep.Axis{{Keys: []string{"kernel.swappiness"}, Values: [][]string{{"0"}, {"60"}}}}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	env := NewEnv(context.Background(), true, 2)
	a, err := env.RunSweep(plan(1))
	if err != nil {
		t.Fatal(err)
	}
	b, err := env.RunSweep(plan(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 2 || &a[0] != &b[0] {
		t.Fatalf("the second call of the same plan ran again (%d runs)", len(a))
	}
	c, err := env.RunSweep(plan(2))
	if err != nil {
		t.Fatal(err)
	}
	if len(c) != 4 || c[0].TraceHash != a[0].TraceHash {
		t.Fatalf("another plan: %d runs, first trace %s (want %s, the same point and seed)", len(c), c[0].TraceHash, a[0].TraceHash)
	}
	bare := &Env{Ctx: context.Background(), Workers: 1}
	d, err := bare.RunSweep(plan(1))
	if err != nil {
		t.Fatal(err)
	}
	if &d[0] == &a[0] || d[0].TraceHash != a[0].TraceHash {
		t.Fatal("an Env without a cache shared runs, or ran different ones")
	}
}
