package sweep

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// tinyGrid is tinySweep written as Go values.
func tinyGrid() Grid {
	return Grid{Name: "tiny", Scenario: "embedded:steady", SeedFirst: 5, Seeds: 2, Set: []string{"run.duration_ms=150"},
		Axes: []Axis{
			{Keys: []string{"kernel.swappiness"}, Values: [][]string{{"0"}, {"60"}}},
			{Keys: []string{"workload.0.load_factor"}, Values: [][]string{{"0.5"}, {"1.0"}}},
		}}
}

// TestGridPlansAsItsFile: a grid that says what a sweep file says plans
// the same sweep: the same plan.json, hash included.
func TestGridPlansAsItsFile(t *testing.T) {
	fromFile := tinyPlan(t, tinySweep)
	fromGrid, err := NewGridPlan(tinyGrid())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromGrid.PlanFile, fromFile.PlanFile) {
		t.Fatalf("grid plan\n%+v\nfile plan\n%+v", fromGrid.PlanFile, fromFile.PlanFile)
	}
}

// TestSimulateIsExecute: the summaries Simulate returns aggregate to the
// sweep.json Execute writes for the same plan, byte for byte, whatever
// the number of workers.
func TestSimulateIsExecute(t *testing.T) {
	p, err := NewGridPlan(tinyGrid())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	execute(t, p, dir, Shard{}, 2)
	want, err := os.ReadFile(filepath.Join(dir, ReportName))
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 3} {
		runs, err := Simulate(context.Background(), p, workers)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Aggregate(&p.PlanFile, runs)
		if err != nil {
			t.Fatal(err)
		}
		got, err := rep.JSON()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%d workers: the aggregate of Simulate differs from Execute's sweep.json", workers)
		}
	}
	if _, err := Simulate(context.Background(), p, 0); err == nil {
		t.Fatal("Simulate ran on 0 workers")
	}
}

// TestGridErrors: a grid of the wrong shape is refused before any
// scenario is loaded, and a value the scenario refuses is reported at its
// axis value, with the sweep's name.
func TestGridErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*Grid)
		want string
	}{
		{"no seeds", func(g *Grid) { g.Seeds = 0 }, "seeds 0"},
		{"seed key", func(g *Grid) { g.Axes[0].Keys[0] = "run.seed" }, "run.seed"},
		{"key twice", func(g *Grid) { g.Axes[1].Keys[0] = "kernel.swappiness" }, "set by axis 0"},
		{"key in set too", func(g *Grid) { g.Set = append(g.Set, "kernel.swappiness=1") }, "set by set 1"},
		{"value arity", func(g *Grid) { g.Axes[0].Values[1] = []string{"60", "1"} }, "value 1 has 2 entries"},
		{"empty axis", func(g *Grid) { g.Axes[1].Values = nil }, "axis 1"},
		{"unknown key", func(g *Grid) { g.Axes[0].Keys[0] = "kernel.swapiness" }, "axis.0"},
		{"bad value", func(g *Grid) { g.Axes[1].Values[0] = []string{"-1"} }, "axis.1.values.0"},
	} {
		g := tinyGrid()
		c.edit(&g)
		_, err := NewGridPlan(g)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "sweep tiny: ") {
			t.Errorf("%s: error %v, want one naming the sweep and %q", c.name, err, c.want)
		}
	}
}
