package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// abShort is a small A/B experiment on the default scenario: two refill
// policies, 300 ms, 3 seeds.
var abShort = []string{"ab", "--set", "run.duration_ms=300", "--seeds", "3", "--workers", "2",
	"--a", "policy.refill=fixed-batch", "--b", "policy.refill=adaptive-batch"}

func TestABBadFlags(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want []string // substrings of stderr
	}{
		{"unknown key in arm b", []string{"--b", "policy.degrad=wait-refill"}, []string{"arm b", "policy.degrad", "unknown key"}},
		{"bad value in arm a", []string{"--a", "policy.degrade=bogus"}, []string{"arm a", "policy.degrade"}},
		{"bad value after a comma", []string{"--a", "policy.degrade=wait-refill,kernel.swappiness=500"}, []string{"arm a", "kernel.swappiness"}},
		{"not an assignment", []string{"--b", "policy.degrade"}, []string{"arm b", "not KEY=VALUE"}},
		{"arm sets the seed", []string{"--a", "run.seed=3"}, []string{"arm a", "run.seed", "--seed"}},
		{"same names", []string{"--a-name", "x", "--b-name", "x"}, []string{"--a-name", "--b-name"}},
		{"one seed", []string{"--seeds", "1"}, []string{"--seeds 1"}},
		{"no workers", []string{"--workers", "0"}, []string{"--workers 0"}},
		{"bad --set", []string{"--set", "kernel.swapiness=1"}, []string{"kernel.swapiness"}},
		{"unknown flag", []string{"--c", "x=1"}, []string{"unknown flag"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			args := append([]string{"ab", "--seeds", "2", "--out", dir, "--set", "run.duration_ms=100"}, c.args...)
			code, stdout, stderr := sbmpsim(t, args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr %q", code, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not mention %q", stderr, w)
				}
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("a usage error created %s", dir)
			}
		})
	}
}

func TestABWritesOutputs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := sbmpsim(t, append(abShort, "--a-name", "fixed", "--out", dir)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if stderr != "" {
		t.Errorf("stderr %q: progress must stay quiet when stderr is not a terminal", stderr)
	}
	for _, w := range []string{`A "fixed": policy.refill=fixed-batch`, "OOM runs", "alloc_latency_p99_ns", "B - A", "wrote "} {
		if !strings.Contains(stdout, w) {
			t.Errorf("table lacks %q:\n%s", w, stdout)
		}
	}
	for _, name := range []string{"ab.json", "runs.csv", "a.toml", "b.toml"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 4 {
		t.Errorf("%d files in the output directory, want 4", len(ents))
	}
	b, _ := os.ReadFile(filepath.Join(dir, "ab.json"))
	var doc struct {
		Schema string `json:"schema"`
		Arms   map[string]struct {
			Name string `json:"name"`
			Runs int    `json:"runs"`
		} `json:"arms"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "sbmpsim.ab/v1" || doc.Arms["a"].Name != "fixed" || doc.Arms["b"].Name != "b" || doc.Arms["a"].Runs != 3 {
		t.Errorf("ab.json = %+v", doc)
	}
	csv, _ := os.ReadFile(filepath.Join(dir, "runs.csv"))
	if n := strings.Count(string(csv), "\n"); n != 1+6 {
		t.Errorf("runs.csv has %d lines, want 7", n)
	}
	// The arms' scenarios replay: a.toml differs from b.toml in the
	// refill policy and runs on its own.
	aTOML, _ := os.ReadFile(filepath.Join(dir, "a.toml"))
	if !strings.Contains(string(aTOML), `refill = "fixed-batch"`) {
		t.Errorf("a.toml lacks the arm's refill policy")
	}

	// --json prints exactly ab.json; the file does not depend on workers.
	code, out, stderr := sbmpsim(t, append(abShort, "--a-name", "fixed", "--json", "--workers", "1")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if out != string(b) {
		t.Errorf("--json on 1 worker differs from ab.json written on 2")
	}
}

// TestABRunFailure: a run hitting its event limit exits 1 naming the arm
// and seed, and writes nothing.
func TestABRunFailure(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	code, _, stderr := sbmpsim(t, "ab", "--seeds", "2", "--seed", "5", "--out", dir, "--set", "run.duration_ms=300",
		"--b", "run.max_events=1000")
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", code, stderr)
	}
	for _, w := range []string{"arm b", "seed 5", "limit", "replay: sbmpsim run --set run.duration_ms=300 --set run.max_events=1000 --seed 5"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr %q does not mention %q", stderr, w)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ab.json")); !os.IsNotExist(err) {
		t.Errorf("ab.json written after a failed run")
	}
}
