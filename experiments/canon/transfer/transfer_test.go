package transfer

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/canon"
)

// short makes the experiment cheap for a test: 1.5 s runs.
var short = []string{"run.duration_ms=1500"}

// TestRunShort runs the quick experiment on 1.5 s runs: it writes its
// figure, tables and text, it runs what its plan lists, and the same
// again with another number of workers gives the same bytes.
func TestRunShort(t *testing.T) {
	x := Experiment()
	x.Run = func(env *canon.Env, out *canon.Out) error { return runWith(env, out, short) }
	files := func(workers int) map[string][]byte {
		env := canon.NewEnv(context.Background(), true, workers)
		o, err := canon.RunExperiment(env, x)
		if err != nil {
			t.Fatal(err)
		}
		planned, err := planWith(env, short)
		if err != nil {
			t.Fatal(err)
		}
		if d, err := canon.InputsDiff(planned, o.Inputs()); err != nil || d != "" {
			t.Fatalf("the plan is not what ran: %v\n%s", err, d)
		}
		return o.Files()
	}
	a := files(1)
	for _, n := range []string{"README.md", "section.html", "transfer.csv", "transfer.png", "transfer.svg", "transfer-points.csv", "transfer-kernel-sizes.csv"} {
		if len(a[n]) == 0 {
			t.Errorf("no %s", n)
		}
	}
	csv := string(a["transfer.csv"])
	if lines := strings.Count(csv, "\n"); lines != 1+quickSizes {
		t.Errorf("transfer.csv has %d lines, want a header and %d sizes:\n%s", lines, quickSizes, csv)
	}
	for _, want := range []string{"\n512,1,12,", "\n1024,2,6,", "\n2048,4,3,"} {
		if !strings.Contains(csv, want) {
			t.Errorf("transfer.csv has no row starting %q:\n%s", want, csv)
		}
	}
	if testing.Short() {
		return
	}
	b := files(2)
	for n := range a {
		if !bytes.Equal(a[n], b[n]) {
			t.Errorf("%s differs between 1 and 2 workers", n)
		}
	}
}

// TestSizesAndSeeds: powers of two from the base to the largest node,
// the first three when quick; seeds fall as 1/k down to the floor.
func TestSizesAndSeeds(t *testing.T) {
	if got := nodeSizesMiB(false, 512, 32768); len(got) != 7 || got[0] != 512 || got[6] != 32768 {
		t.Errorf("full sizes %v", got)
	}
	if got := nodeSizesMiB(true, 512, 32768); len(got) != 3 || got[2] != 2048 {
		t.Errorf("quick sizes %v", got)
	}
	if got := nodeSizesMiB(true, 512, 1024); len(got) != 2 {
		t.Errorf("quick sizes below the largest node %v", got)
	}
	for _, c := range []struct {
		quick bool
		k     float64
		want  int
	}{{false, 1, 100}, {false, 4, 25}, {false, 8, 20}, {false, 64, 20}, {true, 1, 12}, {true, 2, 6}, {true, 4, 3}, {true, 8, 3}} {
		if got := seedsAt(c.quick, c.k); got != c.want {
			t.Errorf("seedsAt(%v, %v) = %d, want %d", c.quick, c.k, got, c.want)
		}
	}
}
