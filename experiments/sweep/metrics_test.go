package sweep

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExecuteMetrics: with Metrics a sweep keeps each run's time series
// and writes metrics.om over all runs, labelled by point and seed; the run
// files are those of a sweep without it; a run whose series is missing
// is run again on resume, and metrics.om comes out the same bytes; a
// shard cannot write it.
func TestExecuteMetrics(t *testing.T) {
	p := tinyPlan(t, tinySweep)
	plain, dir := filepath.Join(t.TempDir(), "plain"), filepath.Join(t.TempDir(), "metrics")
	execute(t, p, plain, Shard{}, 2)
	out, err := Execute(context.Background(), p, Options{Dir: dir, Workers: 2, Metrics: true})
	if err != nil || out.Ran != 8 || !out.Aggregated {
		t.Fatalf("outcome %+v, %v", out, err)
	}
	om, err := os.ReadFile(filepath.Join(dir, MetricsName))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`sbmpsim_allocs_total{scenario="steady",sweep="tiny",point="p000",seed="5"} `,
		`sbmpsim_allocs_total{scenario="steady",sweep="tiny",point="p003",seed="6"} `,
	} {
		if !bytes.Contains(om, []byte(want)) {
			t.Errorf("metrics.om lacks %s", want)
		}
	}
	if !bytes.HasSuffix(om, []byte("# EOF\n")) {
		t.Error("metrics.om does not end with # EOF")
	}
	// The run files and the aggregate do not depend on Metrics.
	metricsTree, plainTree := readTree(t, dir), readTree(t, plain)
	for name, b := range plainTree {
		if !bytes.Equal(metricsTree[name], b) {
			t.Errorf("%s differs with Metrics", name)
		}
	}
	if err := os.Remove(seriesPath(dir, "p001-s6")); err != nil {
		t.Fatal(err)
	}
	out, err = Execute(context.Background(), p, Options{Dir: dir, Workers: 1, Metrics: true})
	if err != nil || out.Ran != 1 || out.Resumed != 7 {
		t.Fatalf("resume without one series: outcome %+v, %v; want 1 run and 7 resumed", out, err)
	}
	if again, _ := os.ReadFile(filepath.Join(dir, MetricsName)); !bytes.Equal(again, om) {
		t.Error("metrics.om differs after a resume")
	}
	// A sweep run without Metrics has no series: asking for them runs
	// everything again.
	out, err = Execute(context.Background(), p, Options{Dir: plain, Workers: 2, Metrics: true})
	if err != nil || out.Ran != 8 {
		t.Fatalf("metrics over a plain sweep: outcome %+v, %v; want 8 runs", out, err)
	}
	_, err = Execute(context.Background(), p, Options{Dir: t.TempDir(), Workers: 1, Metrics: true, Shard: Shard{0, 2}})
	if err == nil || !strings.Contains(err.Error(), "whole sweep") {
		t.Errorf("a shard with Metrics: %v, want an error", err)
	}
}
