package validate

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/real"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/internal/slowtest"
)

// TestMain lets the test binary serve as the workers of the real runs
// the suite starts (a real run re-executes the running binary).
func TestMain(m *testing.M) {
	if real.IsWorker() {
		os.Exit(real.WorkerMain(samplers))
	}
	os.Exit(m.Run())
}

// samplers builds synthetic workloads' samplers as the simulation does.
func samplers(sc *scenario.Scenario, i int) (real.Samplers, error) {
	a, s, l, err := world.WorkloadSamplers(sc, i)
	return real.Samplers{Arrivals: a, Sizes: s, Lifetimes: l}, err
}

// TestSuiteOnThisHost runs every case twice for real and simulated (the
// CLI's default is 5), as CI does as root: a few minutes. It checks that
// the suite runs, not that the cases pass: misses are results, and the
// table is what the suite is for. Without root or a writable memory
// cgroup it is skipped, and says why.
func TestSuiteOnThisHost(t *testing.T) {
	slowtest.Require(t, "runs every validation case for real, twice, a few minutes")
	h, err := ReadHost(real.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if h.NotRunnable != "" {
		t.Skipf("skipped: this host cannot run real runs: %s", h.NotRunnable)
	}
	var log strings.Builder
	v, err := Run(context.Background(), Options{Runs: 2, Log: &log, Real: real.Options{Samplers: samplers}})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if len(v.Cases) != len(Cases()) {
		t.Fatalf("%d cases ran, want %d", len(v.Cases), len(Cases()))
	}
	for _, c := range v.Cases {
		t.Logf("%-24s %-7s %s", c.Name, c.Verdict, c.Reason)
		switch {
		case c.Verdict == Failed:
			t.Errorf("%s failed to run: %s", c.Name, c.Reason)
		case c.Name == "memory-high" && h.Cgroup.Version == 1 && (c.Verdict != Skipped || c.Reason != "cgroup v1 has no memory.high"):
			t.Errorf("memory-high on cgroup v1: %s (%s), want skipped: cgroup v1 has no memory.high", c.Verdict, c.Reason)
		case c.Verdict != Skipped && len(c.RealRuns) != 2:
			t.Errorf("%s: %d real runs, want 2", c.Name, len(c.RealRuns))
		}
	}
	if _, err := Out(v, "sbmpsim validate real --runs 2"); err != nil {
		t.Fatal(err)
	}
}
