package validate

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/input/host"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/real"
	"github.com/sbmpsim/sbmpsim/experiments/world"
)

// fakeHost is a two-CPU, 4 GiB host with import host's kernel keys, so
// that the cases can be built and simulated without reading this one.
func fakeHost() *Host {
	m := scenario.Machine{Nodes: 1, Sockets: []int{0}, CPUs: []string{"0-1"}, MemoryMB: []int64{4096}, Distances: [][]int{{10}}}
	return &Host{
		Host: real.Host{Machine: &m},
		Kernel: []host.KernelKey{{Key: "swappiness", Value: "60"}, {Key: "oom_kill_allocating_task", Value: "0"},
			{Key: "min_free_kbytes", Value: "67584"}, {Key: "watermark_scale_factor", Value: "10"}, {Key: "swap_mb", Value: "0"},
			{Key: "thp_enabled", Value: `"madvise"`}, {Key: "thp_defrag", Value: `"madvise"`},
			{Key: "compaction_proactiveness", Value: "20"}, {Key: "extfrag_threshold", Value: "500"}},
	}
}

// TestCasesAreWellFormed: at least 8 cases; each opens with its comment,
// builds on a host with the host's keys under its own, confines its
// workloads in a limited cgroup, and carries the acceptance
// tolerances for the metrics it has.
func TestCasesAreWellFormed(t *testing.T) {
	cases := Cases()
	if len(cases) < 8 {
		t.Errorf("%d cases, the suite needs at least 8", len(cases))
	}
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.Name] {
			t.Errorf("case %s twice", c.Name)
		}
		seen[c.Name] = true
		data, err := c.text()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, []byte("# ")) || !strings.Contains(string(data), "Why a production host sees it") ||
			!strings.Contains(string(data), "What it tests") || !strings.Contains(string(data), "Why the dynamics decide it") {
			t.Errorf("%s: the case file must open with a comment saying what it tests, why the dynamics decide it and why a production host sees it", c.Name)
		}
		sc, err := c.Scenario(fakeHost(), 3)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if sc.Run.Seed != 3 || sc.Output.SampleIntervalMs != sampleIntervalMs || sc.Machine.MemoryMB[0] != 4096 || sc.Kernel.MinFreeKbytes != 67584 {
			t.Errorf("%s: seed %d, sample interval %d, machine %+v, min_free_kbytes %d: the host's settings were not applied", c.Name, sc.Run.Seed, sc.Output.SampleIntervalMs, sc.Machine, sc.Kernel.MinFreeKbytes)
		}
		if _, err := scopeCgroup(sc); err != nil {
			t.Error(err)
		}
		checkAcceptance(t, &c)
	}
}

func checkAcceptance(t *testing.T, c *Case) {
	t.Helper()
	for _, k := range c.Checks {
		want, ok := map[MetricID]Tolerance{FirstOOM: {Rel: 0.10}, AnonAtKill: {Rel: 0.15, Abs: 16}, FileAtKill: {Rel: 0.15, Abs: 16}, Victim: {}}[k.Metric]
		if ok && k.Tol != want {
			t.Errorf("%s: %s tolerance %+v, the issue's acceptance is %+v", c.Name, k.Metric, k.Tol, want)
		}
	}
}

// TestCaseKeepsItsKernelKeys: the case's own [kernel] keys win over the
// host's; the others come from the host.
func TestCaseKeepsItsKernelKeys(t *testing.T) {
	c, _ := LookupCase("cache-anon-swappiness0")
	h := fakeHost()
	h.Kernel = append(h.Kernel, host.KernelKey{Key: "swappiness", Value: "100"})
	sc, err := c.Scenario(h, 1)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Kernel.Swappiness != 0 || sc.Kernel.WatermarkScaleFactor != 10 || sc.Kernel.THPEnabled != "madvise" {
		t.Errorf("swappiness %d (the case's is 0), watermark_scale_factor %d, thp_enabled %q", sc.Kernel.Swappiness, sc.Kernel.WatermarkScaleFactor, sc.Kernel.THPEnabled)
	}
}

func TestSelectCases(t *testing.T) {
	got, err := SelectCases([]string{"mlock", "two-tasks-adj"})
	if err != nil || len(got) != 2 || got[0].Name != "two-tasks-adj" || got[1].Name != "mlock" {
		t.Errorf("SelectCases: %v, %v; want the two in table order", got, err)
	}
	if _, err := SelectCases([]string{"mlok"}); err == nil || !strings.Contains(err.Error(), `did you mean "mlock"`) {
		t.Errorf("an unknown case: %v", err)
	}
}

// TestCasesSimulate: every case simulates (on the small fake host) and
// reduces to observations the metrics read; the same seed gives the same
// figures, byte for byte.
func TestCasesSimulate(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates every case")
	}
	v := &Validation{Schema: Schema, Host: fakeHost(), Runs: 1}
	for _, c := range Cases() {
		sc, err := c.Scenario(fakeHost(), 1)
		if err != nil {
			t.Fatal(err)
		}
		res, err := world.Run(context.Background(), sc, world.Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		scope, _ := scopeCgroup(sc)
		o, err := observeSim(res, scope)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		cr := CaseResult{Name: c.Name, sim: []Observed{o}}
		judge(&c, &cr, "no real runs in this test")
		v.Cases = append(v.Cases, cr)
	}
	a, err := Out(v, "sbmpsim validate real")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Out(v, "sbmpsim validate real")
	if err != nil {
		t.Fatal(err)
	}
	fa, fb := a.Files(), b.Files()
	for name, data := range fa {
		if !bytes.Equal(data, fb[name]) {
			t.Errorf("%s differs between two renderings of the same runs", name)
		}
	}
	if _, ok := fa["thrash-hot-cache.png"]; !ok {
		t.Errorf("no figure for thrash-hot-cache: %d files", len(fa))
	}
}
