package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sbmpsim runs the command line in-process and returns exit code, stdout
// and stderr.
func sbmpsim(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := execute(args, &out, &errb)
	return code, out.String(), errb.String()
}

// short keeps the default scenario but shortens it, so the test runs in
// about a second even under the race detector.
var short = []string{"--set", "run.duration_ms=500"}

func TestRunIsDeterministic(t *testing.T) {
	dirA, dirB := filepath.Join(t.TempDir(), "A"), filepath.Join(t.TempDir(), "B")
	for _, dir := range []string{dirA, dirB} {
		code, _, stderr := sbmpsim(t, append([]string{"run", "--seed", "7", "--out", dir}, short...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	}
	ents, err := os.ReadDir(dirA)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if want := []string{"live.png", "live.svg", "metrics.om", "metrics.prom", "probes.csv", "scenario.toml", "summary.json", "timeseries.csv", "timing.json"}; !slices.Equal(names, want) {
		t.Errorf("files %v, want %v", names, want)
	}
	// Byte for byte: wall-clock figures are in timing.json alone.
	for _, name := range names {
		if name == "timing.json" {
			continue
		}
		a, errA := os.ReadFile(filepath.Join(dirA, name))
		b, errB := os.ReadFile(filepath.Join(dirB, name))
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs with seed 7", name)
		}
	}
	var s struct {
		Schema    string `json:"schema"`
		Seed      uint64 `json:"seed"`
		TraceHash string `json:"trace_hash"`
		Allocs    uint64 `json:"allocs"`
		Events    int64  `json:"events"`
	}
	b, _ := os.ReadFile(filepath.Join(dirA, "summary.json"))
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.Schema != "sbmpsim.summary/v2" || s.Seed != 7 || len(s.TraceHash) != 16 || s.Allocs == 0 || s.Events == 0 {
		t.Fatalf("summary = %+v", s)
	}
	// No temporary files left behind.
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left %s in the output directory", e.Name())
		}
	}
}

func TestDifferentSeedsDiffer(t *testing.T) {
	hash := func(seed string) string {
		code, out, stderr := sbmpsim(t, append([]string{"run", "--json", "--seed", seed}, short...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var s struct {
			TraceHash string `json:"trace_hash"`
		}
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatal(err)
		}
		return s.TraceHash
	}
	if hash("1") == hash("2") {
		t.Fatal("seeds 1 and 2 gave the same trace hash")
	}
}

func TestBadScenariosNameFileLineAndKey(t *testing.T) {
	tests := []struct {
		name, toml string
		want       []string
	}{
		{"unknown key", "[run]\nseed = 1\n[kernel]\nswapiness = 0\n", []string{":4:", "kernel.swapiness", "unknown"}},
		{"wrong type", "[kernel]\nswappiness = \"zero\"\n", []string{":2:", "kernel.swappiness", "integer"}},
		{"out of range", "[kernel]\n\nswappiness = 300\n", []string{":3:", "kernel.swappiness", "200"}},
		{"syntax", "[kernel\nswappiness = 1\n", []string{":1:"}},
		{"workload key", "[[workload]]\nkind = \"synthetic\"\n[[workload]]\nrate_per_s = -1\n", []string{":4:", "workload.1.rate_per_s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.toml")
			if err := os.WriteFile(path, []byte(tt.toml), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "out")
			code, _, stderr := sbmpsim(t, "run", path, "--out", out)
			if code == 0 {
				t.Fatal("exit 0 for a bad scenario")
			}
			for _, w := range append([]string{path}, tt.want...) {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not contain %q", stderr, w)
				}
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a failed run created %s", out)
			}
		})
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	tests := [][]string{
		{"run", "--set", "kernel.nope=1"},
		{"run", "--set", "kernel.swappiness"},
		{"run", "--no-such-flag"},
		{"run", "--seeds", "2", "--workers", "0"},
	}
	for _, args := range tests {
		code, _, stderr := sbmpsim(t, args...)
		if code != 2 || stderr == "" {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and a message", args, code, stderr)
		}
	}
}

func TestReplicationsIndependentOfWorkers(t *testing.T) {
	get := func(workers string) string {
		code, out, stderr := sbmpsim(t, append([]string{"run", "--json", "--seeds", "4", "--workers", workers}, short...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		return out
	}
	one, two := get("1"), get("2")
	if one != two {
		t.Fatal("replications.json differs between 1 and 2 workers")
	}
	if strings.Count(one, `"trace_hash"`) != 4 {
		t.Fatalf("want 4 runs:\n%s", one)
	}
}

func TestBenchEngine(t *testing.T) {
	code, out, stderr := sbmpsim(t, "bench", "engine", "--hold-sizes", "1000", "--holds", "20000", "--mm1-customers", "20000")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var b EngineBench
	if err := json.Unmarshal([]byte(out), &b); err != nil {
		t.Fatal(err)
	}
	if b.HoldNsPerOp["1000"] <= 0 || b.MM1CustomersPerS <= 0 || b.MM1TightCustomersPerS <= 0 || b.MM1WqMean <= 0 {
		t.Fatalf("bench = %+v", b)
	}
}

func TestScenariosCommand(t *testing.T) {
	code, out, _ := sbmpsim(t, "scenarios")
	if code != 0 || !strings.Contains(out, "oom-crisis (default)") {
		t.Fatalf("exit %d, out %q", code, out)
	}
	code, out, stderr := sbmpsim(t, "scenarios", "show", "oom-crisis", "--set", "kernel.swappiness=60")
	if code != 0 || !strings.Contains(out, "swappiness = 60") {
		t.Fatalf("exit %d, out %q, stderr %q", code, out, stderr)
	}
}

func TestStatsCommandPrintsDebugfs(t *testing.T) {
	code, out, stderr := sbmpsim(t, append([]string{"stats"}, short...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"cpu0_tier0_free: ", "cpu31_tier0_free: ", "total_free: ", "sbmp_fallback_count: "} {
		if !strings.Contains(out, want) {
			t.Errorf("stats output lacks %q:\n%s", want, out)
		}
	}
}
