package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/world"
)

// TestRunSeedsWritesAggregate: run --seeds writes replications.json with
// the aggregate, the resolved scenario and timing.json; the aggregate's
// counts agree with the runs it summarises, and every file but
// timing.json is the same for 1 and 2 workers.
func TestRunSeedsWritesAggregate(t *testing.T) {
	dirs := map[string]string{}
	for _, w := range []string{"1", "2"} {
		dirs[w] = filepath.Join(t.TempDir(), "w"+w)
		code, out, stderr := sbmpsim(t, append([]string{"run", "--seeds", "4", "--seed", "3", "--workers", w, "--out", dirs[w]}, short...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if stderr != "" {
			t.Errorf("stderr %q: progress must stay quiet when stderr is not a terminal", stderr)
		}
		for _, want := range []string{"4 replications", "OOM in ", "Wilson", "Clopper-Pearson", "failed allocations", "wrote replications.json"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	}
	for _, name := range []string{"replications.json", "scenario.toml"} {
		a, _ := os.ReadFile(filepath.Join(dirs["1"], name))
		b, _ := os.ReadFile(filepath.Join(dirs["2"], name))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s: %d bytes with 1 worker, differs with 2 (or empty)", name, len(a))
		}
	}
	b, err := os.ReadFile(filepath.Join(dirs["1"], "replications.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep Replications
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	oom, failed := 0, 0.0
	for i, r := range rep.Runs {
		if r.Seed != 3+uint64(i) {
			t.Errorf("run %d has seed %d", i, r.Seed)
		}
		if r.OOMKills > 0 {
			oom++
		}
		failed += float64(r.AllocFailures)
	}
	a := rep.Aggregate
	if rep.Schema != ReplicationsSchema || a.Runs != 4 || a.OOMRuns != oom || a.OOMProbability != float64(oom)/4 ||
		a.Metrics.AllocFailures.Mean != failed/4 || a.OOMCI95Wilson[1] <= a.OOMCI95Wilson[0] || a.OOMCI95ClopperPearson[1] <= a.OOMCI95ClopperPearson[0] {
		t.Errorf("aggregate %+v from %d OOM runs, %v failed allocations", a, oom, failed)
	}
	if strings.Contains(string(b), `"wall_`) {
		t.Error("replications.json holds a wall-clock field")
	}
	tb, err := os.ReadFile(filepath.Join(dirs["2"], "timing.json"))
	if err != nil || !strings.Contains(string(tb), `"workers": 2`) {
		t.Errorf("timing.json %q, %v", tb, err)
	}
}

// TestRunStoppedByLimitWritesIncompleteSummary: a run that reaches
// run.max_events exits 1 naming the limit and still writes its files,
// the summary marked incomplete at the time it stopped.
func TestRunStoppedByLimitWritesIncompleteSummary(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	code, _, stderr := sbmpsim(t, append([]string{"run", "--out", dir, "--set", "run.max_events=5000"}, short...)...)
	if code != 1 || !strings.Contains(stderr, "run.max_events=5000") || !strings.Contains(stderr, "incomplete") {
		t.Fatalf("exit %d, stderr %q; want 1 naming the limit", code, stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s world.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if !s.Incomplete || s.StoppedBy != "run.max_events=5000" || s.Events != 5000 || s.SimTimeNs <= 0 || s.SimTimeNs >= 500e6 {
		t.Errorf("summary: incomplete %v, stopped_by %q, %d events, sim_time_ns %d", s.Incomplete, s.StoppedBy, s.Events, s.SimTimeNs)
	}
	for _, name := range []string{"timeseries.csv", "live.png", "metrics.om"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
}

// TestRunCountsInvariantChecks: run checks every invariant once on the
// final state, and says how many component checks it made.
func TestRunCountsInvariantChecks(t *testing.T) {
	code, out, stderr := sbmpsim(t, append([]string{"run", "--json"}, short...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var s world.Summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	if s.InvariantChecks < 3 { // an allocator, the kernel, the books
		t.Errorf("invariant_checks = %d", s.InvariantChecks)
	}
}
