package real

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
)

// fakeHost is a host as Probe would describe this one: cgroup v1 with
// swap accounting, 24 GiB.
func fakeHost(version int) *Host {
	return &Host{MemTotalKB: 24 << 20, Root: true, Cgroup: CgroupHost{Version: version, Mount: "/nonexistent", Memsw: version == 1}}
}

func parse(t *testing.T, text string) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.Parse("x.toml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

const box = "[[kernel.cgroup]]\npath = \"/box\"\nmax_mb = 96\n\n"

func TestCompileRefusals(t *testing.T) {
	tests := []struct {
		name, text string
		version    int
		want       []string // substrings of the error, in order
	}{
		{"unconfined task", "[[workload]]\nkind = \"task\"\n", 1,
			[]string{"x.toml:1:1: workload.0.cgroup: a real run confines every process"}},
		{"cgroup without limit", "[[kernel.cgroup]]\npath = \"/free\"\n\n[[workload]]\nkind = \"task\"\ncgroup = \"/free\"\n", 1,
			[]string{"x.toml:6:1: workload.0.cgroup: cgroup \"/free\" has no memory limit"}},
		{"memory.high on v1", "[[kernel.cgroup]]\npath = \"/box\"\nmax_mb = 96\nhigh_mb = 64\n\n[[workload]]\nkind = \"task\"\ncgroup = \"/box\"\n", 1,
			[]string{"x.toml:4:1: kernel.cgroup.0.high_mb: this host's cgroup v1 has no memory.high"}},
		{"kinds", box + "[[workload]]\nkind = \"go-runtime\"\n\n[[workload]]\nkind = \"heaptrack\"\nfile = \"t.zst\"\n\n[[workload]]\nkind = \"kmalloc-leak\"\n", 1,
			[]string{"x.toml:6:1: workload.0.kind: a go-runtime", "x.toml:9:1: workload.1.kind: a real run does not replay heaptrack", "x.toml:13:1: workload.2.kind: a kmalloc-leak"}},
		{"synthetic without samplers in the implicit process", "[[workload]]\nkind = \"synthetic\"\n", 1,
			[]string{"workload.0.kind: this build cannot draw", "workload.0.process: runs in the implicit process \"sbmp-app\""}},
		{"fault", box + "[[workload]]\nkind = \"task\"\ncgroup = \"/box\"\n\n[[fault]]\nkind = \"numa-latency\"\n", 1,
			[]string{"x.toml:10:1: fault.0.kind: faults are not injected"}},
		{"too much memory", "[[kernel.cgroup]]\npath = \"/big\"\nmax_mb = 20000\n\n[[workload]]\nkind = \"task\"\ncgroup = \"/big\"\n", 1,
			[]string{"x.toml:3:1: kernel.cgroup.0.max_mb: the limits of the top cgroups add up to 20000 MiB"}},
		{"swap without memory limit on v1", "[[kernel.cgroup]]\npath = \"/box\"\nmax_mb = 96\n\n[[kernel.cgroup]]\npath = \"/box/s\"\nswap_max_mb = 8\n\n[[workload]]\nkind = \"task\"\ncgroup = \"/box/s\"\n", 1,
			[]string{"x.toml:7:1: kernel.cgroup.1.swap_max_mb: cgroup v1 limits memory and swap together"}},
		{"inner cgroup on v2", box + "[[kernel.cgroup]]\npath = \"/box/in\"\n\n[[workload]]\nkind = \"task\"\ncgroup = \"/box\"\n", 2,
			[]string{"x.toml:10:1: workload.0.cgroup: cgroup \"/box\" has child cgroups"}},
		{"long run", "[run]\nduration_ms = 700000\n\n" + box + "[[workload]]\nkind = \"task\"\ncgroup = \"/box\"\n", 1,
			[]string{"x.toml:2:1: run.duration_ms: a real run takes real time"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compile(parse(t, tt.text), fakeHost(tt.version), &Options{})
			if err == nil {
				t.Fatal("accepted")
			}
			var se *scenario.Error
			if !errors.As(err, &se) {
				t.Fatalf("%v is not a *scenario.Error", err)
			}
			msg := err.Error()
			for _, w := range tt.want {
				i := strings.Index(msg, w)
				if i < 0 {
					t.Fatalf("error %q does not contain %q", msg, w)
				}
				msg = msg[i+len(w):]
			}
		})
	}
}

func TestCompileRealTwoTasks(t *testing.T) {
	sc, err := scenario.Load("real-two-tasks")
	if err != nil {
		t.Fatal(err)
	}
	p, err := compile(sc, fakeHost(1), &Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.tasks) != 2 || p.tasks[0].simPID != 1000 || p.tasks[1].simPID != 1001 || p.tasks[1].oomScoreAdj != 500 {
		t.Fatalf("tasks %+v", p.tasks)
	}
	if len(p.cgroups) != 1 || p.cgroups[0].maxBytes != 96<<20 || !p.cgroups[0].leaf {
		t.Fatalf("cgroups %+v", p.cgroups)
	}
	if _, err := compile(sc, fakeHost(2), &Options{}); err != nil {
		t.Fatalf("cgroup v2: %v", err)
	}
}

func TestCompilePIDsAsTheSimulationGivesThem(t *testing.T) {
	text := box + `[[process]]
name = "app"
cgroup = "/box"

[[workload]]
kind = "task"
cgroup = "/box"

[[workload]]
name = "fleet"
kind = "page-cache"
cgroup = "/box"
count = 3
page_cache_mb = 8

[[workload]]
kind = "synthetic"
process = "app"
`
	samplers := func(*scenario.Scenario, int) (Samplers, error) { return Samplers{}, nil }
	p, err := compile(parse(t, text), fakeHost(1), &Options{Samplers: samplers})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tp := range p.tasks {
		got = append(got, tp.name+"="+strconv.FormatInt(tp.simPID, 10))
	}
	for _, pp := range p.procs {
		got = append(got, pp.name+"="+strconv.FormatInt(pp.simPID, 10))
	}
	want := "w0=1000 fleet-0=11024 fleet-1=11025 fleet-2=11026 app=100"
	if strings.Join(got, " ") != want {
		t.Fatalf("pids %q, want %q", strings.Join(got, " "), want)
	}
}

// TestNotAppliedCgroupVersion: a scenario's cgroup version that is not the
// host's is listed as not applied (the host charges swap its own way); the
// host's own version is not.
func TestNotAppliedCgroupVersion(t *testing.T) {
	sc, err := scenario.Load("real-two-tasks") // cgroup_version 2, the default
	if err != nil {
		t.Fatal(err)
	}
	has := func(h *Host) bool {
		for _, n := range notApplied(sc, h) {
			if n.Key == "kernel.cgroup_version" {
				return true
			}
		}
		return false
	}
	if !has(fakeHost(1)) {
		t.Error("cgroup_version 2 on a v1 host: want it listed as not applied")
	}
	if has(fakeHost(2)) {
		t.Error("cgroup_version 2 on a v2 host: listed as not applied")
	}
}
