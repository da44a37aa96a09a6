package ab

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/output"
	"github.com/sbmpsim/sbmpsim/sim"
)

// smallExperiment is the default scenario cut to 300 ms, with two refill
// policies as the arms (they differ within 300 ms; the degrade policies
// only part ways later in the crisis).
func smallExperiment(t *testing.T, sets ...string) Experiment {
	t.Helper()
	base, err := scenario.Load("oom-crisis")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range append([]string{"run.duration_ms=300"}, sets...) {
		if err := base.Set(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := base.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := NewArm(base, "a", "fixed", []string{"policy.refill=fixed-batch"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewArm(base, "b", "adaptive", []string{"policy.refill=adaptive-batch"})
	if err != nil {
		t.Fatal(err)
	}
	return Experiment{Scenario: base.Run.Name, Source: base.Source, A: a, B: b}
}

// TestDeterministicAcrossWorkers: the same experiment on 1 and 2 workers
// gives byte-identical ab.json, runs.csv and metrics.om.
func TestDeterministicAcrossWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 24 simulations")
	}
	exp := smallExperiment(t)
	seeds, err := Seeds(1, 6)
	if err != nil {
		t.Fatal(err)
	}
	var outs [2][]byte
	var csvs, oms [2][]byte
	for i, workers := range []int{1, 2} {
		calls := 0
		runs, err := Run(context.Background(), Config{A: exp.A, B: exp.B, Seeds: seeds, Workers: workers,
			Progress: func(done, total int) { calls++; _ = done; _ = total }, KeepTimeseries: true})
		if err != nil {
			t.Fatal(err)
		}
		if calls != 12 {
			t.Errorf("progress called %d times, want 12", calls)
		}
		for k, s := range seeds {
			if runs.A[k].Seed != s || runs.B[k].Seed != s || runs.A[k].Allocs == 0 {
				t.Fatalf("run %d: seeds %d/%d, want %d", k, runs.A[k].Seed, runs.B[k].Seed, s)
			}
		}
		rep, err := Analyze(exp, runs)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Arms.A.RunsDigest == rep.Arms.B.RunsDigest {
			t.Error("both arms ran the same simulations; the test needs arms that differ")
		}
		if outs[i], err = rep.JSON(); err != nil {
			t.Fatal(err)
		}
		csvs[i] = RunsCSV(runs)
		dir := filepath.Join(t.TempDir(), "out")
		if err := Write(dir, exp, runs, rep, output.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		onDisk, err := os.ReadFile(filepath.Join(dir, "ab.json"))
		if err != nil || !bytes.Equal(onDisk, outs[i]) {
			t.Errorf("ab.json on disk differs from Report.JSON (%v)", err)
		}
		if oms[i], err = os.ReadFile(filepath.Join(dir, "metrics.om")); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`sbmpsim_allocs_total{scenario="oom-crisis",arm="a",arm_name="fixed",seed="1"} `, `{scenario="oom-crisis",arm="b",arm_name="adaptive",seed="6"} `} {
			if !bytes.Contains(oms[i], []byte(want)) {
				t.Errorf("metrics.om lacks %s", want)
			}
		}
		// Written again without the time series, the directory loses
		// its metrics.om rather than keep one of another experiment.
		plain := *runs
		plain.SeriesA, plain.SeriesB = nil, nil
		if err := Write(dir, exp, &plain, rep, output.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, "metrics.om")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("metrics.om outlives an experiment written without it: %v", err)
		}
	}
	if !bytes.Equal(oms[0], oms[1]) {
		t.Error("metrics.om differs between 1 and 2 workers")
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Errorf("ab.json differs between 1 and 2 workers:\n%s\n---\n%s", outs[0], outs[1])
	}
	if !bytes.Equal(csvs[0], csvs[1]) {
		t.Errorf("runs.csv differs between 1 and 2 workers")
	}
}

// TestRunFailureNamesArmAndSeed: a run that hits its event limit fails
// the experiment with the arm and seed, the same error for any number of
// workers.
func TestRunFailureNamesArmAndSeed(t *testing.T) {
	exp := smallExperiment(t, "run.max_events=1000")
	seeds, _ := Seeds(7, 3)
	var msgs []string
	for _, workers := range []int{1, 2} {
		_, err := Run(context.Background(), Config{A: exp.A, B: exp.B, Seeds: seeds, Workers: workers})
		var re *RunError
		if !errors.As(err, &re) || re.Arm != "a" || re.Seed != 7 || !errors.Is(err, sim.ErrLimit) {
			t.Fatalf("workers %d: err = %v, want arm a seed 7 at its event limit", workers, err)
		}
		msgs = append(msgs, err.Error())
	}
	if msgs[0] != msgs[1] {
		t.Errorf("errors differ: %q vs %q", msgs[0], msgs[1])
	}
}

func TestSeeds(t *testing.T) {
	s, err := Seeds(5, 3)
	if err != nil || len(s) != 3 || s[0] != 5 || s[2] != 7 {
		t.Errorf("Seeds(5, 3) = %v, %v", s, err)
	}
	for _, n := range []int{0, 1, MaxSeeds + 1} {
		if _, err := Seeds(1, n); err == nil {
			t.Errorf("Seeds(1, %d): no error", n)
		}
	}
	if _, err := Seeds(1<<63-2, 3); err == nil {
		t.Error("no error for seeds past 2^63-1")
	}
}

// TestRunKeepsNoSimulation: the summaries Run returns must not keep their
// simulations alive (each holds the kernel model's per-page state, about
// 56 MB for the default machine); 2N of them would not fit in memory.
func TestRunKeepsNoSimulation(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 4 simulations")
	}
	exp := smallExperiment(t)
	seeds, _ := Seeds(1, 2)
	runs, err := Run(context.Background(), Config{A: exp.A, B: exp.B, Seeds: seeds, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.HeapAlloc > 64<<20 {
		t.Errorf("%d MB of heap live holding 4 summaries: a summary keeps its simulation alive", ms.HeapAlloc>>20)
	}
	runtime.KeepAlive(runs)
}
