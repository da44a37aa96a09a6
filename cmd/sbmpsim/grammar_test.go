package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenarios"
)

// writeFile writes text to name in a new temporary directory and returns
// its path.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestExitCodeTable runs every error path of the exit-code table in the
// root --help (and a few that succeed): each command line's exit code,
// and a substring of what it says.
func TestExitCodeTable(t *testing.T) {
	badSyntax := writeFile(t, "syntax.toml", "[kernel\nswappiness = 1\n")
	badRange := writeFile(t, "range.toml", "[kernel]\nswappiness = 300\n")
	badSweep := writeFile(t, "grid.toml", "scenario = \"steady\"\nseeds = 1\nvaluse = 1\n")
	badPoint := writeFile(t, "point.toml", "scenario = \"steady\"\nseeds = 1\n[[axis]]\nkey = \"kernel.swappiness\"\nvalues = [0, 300]\n")
	badManifest := writeFile(t, "MANIFEST.json", "{")
	out := filepath.Join(t.TempDir(), "out")
	const unknownKey = "--set: kernel.swapiness: unknown key (did you mean kernel.swappiness?)"
	const seedRange = "--seed: want a whole number 0..9223372036854775807 (the range of run.seed), got "
	const fewSeeds = "--seeds: want a whole number of at least 1, got "
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		// 0: done.
		{"help", []string{"--help"}, 0, "Exit codes (every command):"},
		{"scenarios", []string{"scenarios"}, 0, "oom-crisis (default)"},
		{"short run", []string{"run", "steady", "--set", "run.duration_ms=100"}, 0, "steady seed=1"},
		// 1: the work failed.
		{"event limit", []string{"run", "steady", "--set", "run.max_events=50"}, 1, "stopped by its event limit run.max_events=50"},
		// 2: the invocation.
		{"unknown command", []string{"runn"}, 2, `unknown command "runn"`},
		{"unknown flag", []string{"run", "--sed", "1"}, 2, "unknown flag: --sed"},
		{"extra argument", []string{"run", "steady", "thrash"}, 2, "accepts at most 1 arg(s), received 2\n(see 'sbmpsim run --help')"},
		{"missing argument", []string{"experiment", "run"}, 2, "accepts 1 arg(s), received 0"},
		{"no sweep", []string{"sweep"}, 2, "sweep takes one SWEEP"},
		{"not a number", []string{"run", "--workers", "two"}, 2, `--workers: want a whole number, got "two"`},
		{"no workers", []string{"run", "--seeds", "2", "--workers", "0"}, 2, "--workers 0: need at least 1"},
		{"seed past 2^63-1", []string{"run", "--seed", "9223372036854775808"}, 2, seedRange + "9223372036854775808"},
		{"negative seed", []string{"run", "--seed", "-1"}, 2, seedRange + "-1"},
		{"check negative seed", []string{"check", "--seed", "-1"}, 2, seedRange + "-1"},
		{"ab seed", []string{"ab", "--seed", "x"}, 2, seedRange + "x"},
		{"stats seed", []string{"stats", "--seed", "1e3"}, 2, seedRange + "1e3"},
		{"check seeds past the end", []string{"check", "--seed", "9223372036854775807", "--seeds", "2"}, 2, "the seeds must stay within"},
		{"run seeds past the end", []string{"run", "--seed", "9223372036854775807", "--seeds", "2"}, 2, "the seeds must stay within"},
		{"run zero seeds", []string{"run", "--seeds", "0"}, 2, fewSeeds + "0"},
		{"run negative seeds", []string{"run", "--seeds", "-3"}, 2, fewSeeds + "-3"},
		{"ab zero seeds", []string{"ab", "--seeds", "0"}, 2, fewSeeds + "0"},
		{"check zero seeds", []string{"check", "--seeds", "0"}, 2, fewSeeds + "0"},
		{"bad --at", []string{"stats", "--at", "soon"}, 2, `--at: want a simulated time after 0 such as 50s`},
		{"--at past the end", []string{"stats", "steady", "--at", "6s"}, 2, "--at 6s: past the end of the run at 5s"},
		{"scenario twice", []string{"check", "steady", "--scenario", "thrash"}, 2, "the scenario is given twice"},
		{"check --set without a scenario", []string{"check", "--set", "run.duration_ms=1"}, 2, "--set applies to a SCENARIO checked"},
		// 2: the input.
		{"run unknown scenario", []string{"run", "nope"}, 2, "load scenario nope: no such file, and no embedded scenario"},
		{"ab unknown scenario", []string{"ab", "nope", "--a", "kernel.swappiness=1"}, 2, "no embedded scenario"},
		{"check unknown scenario", []string{"check", "nope"}, 2, "no embedded scenario"},
		{"stats unknown scenario", []string{"stats", "nope"}, 2, "no embedded scenario"},
		{"bench unknown scenario", []string{"bench", "e2e", "nope"}, 2, "no embedded scenario"},
		{"tui unknown scenario", []string{"tui", "nope"}, 2, "no embedded scenario"},
		{"real unknown scenario", []string{"real", "nope"}, 2, "no embedded scenario"},
		{"show unknown scenario", []string{"scenarios", "show", "nope"}, 2, "no embedded scenario"},
		{"unknown sweep", []string{"sweep", "nope", "--out", out}, 2, "no such file, and no embedded sweep"},
		{"unknown experiment", []string{"experiment", "run", "nope"}, 2, `no experiment "nope"`},
		{"experiment no workers", []string{"experiment", "run", "all", "--workers", "0"}, 2, "--workers must be at least 1, got 0"},
		{"experiment bad manifest", []string{"experiment", "run", "all", "--estimate", "--out", filepath.Dir(badManifest)}, 2, "MANIFEST.json: unexpected EOF (fix or remove it"},
		{"manifest argument", []string{"experiment", "manifest", "notebooks-out"}, 2, `unknown command "notebooks-out"`},
		{"manifest no directory", []string{"experiment", "manifest", "--out", filepath.Join(out, "none")}, 2, "not a directory of notebooks"},
		{"manifest --check without one", []string{"experiment", "manifest", "--check", "--out", filepath.Dir(badSyntax)}, 2, "no manifest; 'sbmpsim experiment manifest --out"},
		{"scenario syntax", []string{"run", badSyntax}, 2, "syntax.toml:1:"},
		{"scenario range", []string{"run", badRange}, 2, "range.toml:2:1: kernel.swappiness: must be"},
		{"check scenario range", []string{"check", badRange}, 2, "range.toml:2:1: kernel.swappiness"},
		{"stats scenario syntax", []string{"stats", badSyntax}, 2, "syntax.toml:1:"},
		{"sweep file key", []string{"sweep", badSweep, "--dry-run"}, 2, "grid.toml:3: valuse: unknown key"},
		{"sweep point range", []string{"sweep", badPoint, "--dry-run"}, 2, "point.toml:5: axis.0.values.1"},
		{"stats without SBMP", []string{"stats", "anon-fill", "--set", "run.duration_ms=10"}, 2, "no workload that allocates through SBMP"},
		// 2: a bad --set, the same error wherever a scenario is loaded.
		{"run --set", []string{"run", "--set", "kernel.swapiness=1"}, 2, unknownKey},
		{"ab --set", []string{"ab", "--set", "kernel.swapiness=1"}, 2, unknownKey},
		{"check --set", []string{"check", "steady", "--set", "kernel.swapiness=1"}, 2, unknownKey},
		{"sweep --set", []string{"sweep", "swap-load", "--dry-run", "--set", "kernel.swapiness=1"}, 2, unknownKey},
		{"bench --set", []string{"bench", "e2e", "--set", "kernel.swapiness=1"}, 2, unknownKey},
		{"bench no samples", []string{"bench", "e2e", "--count", "0"}, 2, "--count must be at least 1"},
		{"bench all --out nowhere", []string{"bench", "all", "--out", filepath.Join(out, "no", "new.txt")}, 2, "--out " + filepath.Join(out, "no", "new.txt") + ": no directory"},
		{"stats --set", []string{"stats", "--set", "kernel.swapiness=1"}, 2, unknownKey},
		{"tui --set", []string{"tui", "--set", "kernel.swapiness=1"}, 2, unknownKey},
		{"real --set", []string{"real", "--set", "kernel.swapiness=1"}, 2, unknownKey},
		{"show --set", []string{"scenarios", "show", "steady", "--set", "kernel.swapiness=1"}, 2, unknownKey},
		{"--set range", []string{"run", "--set", "kernel.swappiness=300"}, 2, "--set: kernel.swappiness: must be"},
		{"--set not an assignment", []string{"stats", "--set", "kernel.swappiness"}, 2, "is not KEY=VALUE"},
		{"sweep --set seed", []string{"sweep", "swap-load", "--dry-run", "--set", "run.seed=2"}, 2, "--set: run.seed: a sweep's seeds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := sbmpsim(t, tt.args...)
			if code != tt.code || !strings.Contains(stdout+stderr, tt.want) {
				t.Errorf("%q: exit %d, want %d with %q\nstdout %q\nstderr %q", tt.args, code, tt.code, tt.want, stdout, stderr)
			}
		})
	}
}

// TestScenarioIsTheArgument: check and bench e2e take the scenario as
// their argument; the old --scenario still works, with its deprecation
// note on standard error only; check runs every seed --seeds asks for.
func TestScenarioIsTheArgument(t *testing.T) {
	for _, args := range [][]string{
		{"check", "steady", "--seeds", "2", "--seed", "3"},
		{"check", "--scenario", "steady", "--seeds", "2", "--seed", "3"},
	} {
		code, stdout, stderr := sbmpsim(t, append(args, "--set", "run.duration_ms=100", "--every", "50")...)
		deprecated := slices.Contains(args, "--scenario")
		switch {
		case code != 0:
			t.Errorf("%q: exit %d: %s", args, code, stderr)
		case !strings.HasPrefix(stdout, "checked 2 seeds, 0 failed: "):
			t.Errorf("%q: stdout %q, want two seeds checked", args, stdout)
		case deprecated != strings.Contains(stderr, "--scenario has been deprecated, give the scenario as the argument: sbmpsim check SCENARIO"):
			t.Errorf("%q: stderr %q", args, stderr)
		}
	}
	code, stdout, stderr := sbmpsim(t, "bench", "e2e", "--scenario", "steady", "--set", "run.duration_ms=50", "--live-objects", "1000")
	if code != 0 || !strings.HasPrefix(stdout, "{") || !strings.Contains(stderr, "deprecated") {
		t.Errorf("bench e2e --scenario: exit %d, stdout %q, stderr %q; want JSON alone on stdout", code, stdout, stderr)
	}
}

// TestStatsMoment: --at shows the state at a simulated time; by default
// a run with an OOM kill shows the moment before the first one.
func TestStatsMoment(t *testing.T) {
	code, stdout, stderr := sbmpsim(t, "stats", "steady", "--at", "200ms", "--set", "run.duration_ms=500")
	if code != 0 || !strings.HasPrefix(stdout, "# sbmpsim stats: steady seed 1 at 200ms: the time --at asks for\ncpu0_tier0_free: ") {
		t.Errorf("--at 200ms: exit %d, stdout %.200q, stderr %q", code, stdout, stderr)
	}
	// Less memory brings the OOM crisis's first kill to about 4 s.
	small := []string{"stats", "--set", "machine.node_memory_mb=192", "--set", "run.duration_ms=6000"}
	code, stdout, stderr = sbmpsim(t, small...)
	if code != 0 || !strings.Contains(stdout, ": 1 ns before the first OOM kill (") || !strings.Contains(stdout, "\ncpu0_tier0_free: ") {
		t.Fatalf("default: exit %d, stdout %.300q, stderr %q", code, stdout, stderr)
	}
	_, end, _ := sbmpsim(t, append(small, "--at", "end")...)
	if !strings.HasPrefix(end, "# sbmpsim stats: oom-crisis seed 1 at 6s: the end of the run (--at end), after ") {
		t.Errorf("--at end: %.200q", end)
	}
	body := func(s string) string { _, b, _ := strings.Cut(s, "\n"); return b }
	if body(end) == body(stdout) {
		t.Error("the state before the first OOM kill is the state at the end")
	}
}

// TestListsDescribeEachEntry: scenarios and sweeps print a line each,
// its description from the file's leading comment.
func TestListsDescribeEachEntry(t *testing.T) {
	for _, tt := range []struct {
		args  []string
		lines int
		want  []string
	}{
		{[]string{"scenarios"}, len(scenarios.Names()), []string{"steady ", " Steady state: ", "\noom-crisis (default)  OOM crisis (SPEC 1.3)"}},
		{[]string{"sweeps"}, 2, []string{"swap-load       OOM probability of the OOM crisis (SPEC 1.3) over swap space and load.\n", "degrade-refill  SBMP's degrade policy"}},
	} {
		code, stdout, _ := sbmpsim(t, tt.args...)
		if n := strings.Count(stdout, "\n"); code != 0 || n != tt.lines {
			t.Errorf("%q: exit %d, %d lines, want %d:\n%s", tt.args, code, n, tt.lines, stdout)
		}
		for _, w := range tt.want {
			if !strings.Contains(stdout, w) {
				t.Errorf("%q lacks %q:\n%s", tt.args, w, stdout)
			}
		}
	}
}

// TestSweepSet: sweep --set joins the plan as an override of every point.
func TestSweepSet(t *testing.T) {
	code, stdout, stderr := sbmpsim(t, "sweep", "swap-load", "--dry-run", "--set", "run.duration_ms=100")
	if code != 0 || !strings.Contains(stdout, "  every point: run.duration_ms=100\n") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	_, plain, _ := sbmpsim(t, "sweep", "swap-load", "--dry-run")
	hash := func(s string) string { _, h, _ := strings.Cut(s, "(hash "); return h[:12] }
	if hash(plain) == hash(stdout) {
		t.Error("--set does not change the sweep's hash")
	}
}

// TestCompletion asks cobra's hidden __complete command what a shell
// would offer.
func TestCompletion(t *testing.T) {
	tests := []struct {
		args []string
		want []string // candidates, as printed (name, tab, description)
		not  []string
	}{
		{[]string{"run", ""}, []string{"oom-crisis\tOOM crisis (SPEC 1.3)", "steady\t"}, nil},
		{[]string{"check", "st"}, []string{"steady\t"}, []string{"oom-crisis\t"}},
		{[]string{"stats", "x", ""}, nil, []string{"steady"}},
		{[]string{"sweep", ""}, []string{"swap-load\tOOM probability", "degrade-refill\t"}, []string{"steady"}},
		{[]string{"experiment", "run", ""}, []string{"all\t", "oom-probability\t3. OOM probability"}, nil},
		{[]string{"run", "--set", "kernel.swap"}, []string{"kernel.swappiness=\n", "kernel.swap_mb=\n"}, []string{"kernel.oom"}},
		{[]string{"run", "--set", "policy.merge="}, []string{"policy.merge=lazy-threshold\n", "policy.merge=eager\n"}, []string{"policy.refill="}},
		{[]string{"run", "--set", "policy.refill_b"}, []string{"policy.refill_batch=\n"}, nil},
		{[]string{"run", "steady", "--set", "workload.0.k"}, []string{"workload.0.kind=\n"}, nil},
		{[]string{"run", "steady", "--set", "workload.1"}, nil, []string{"workload.1"}},
		{[]string{"run", "--set", "workload.0.kind=t"}, []string{"workload.0.kind=task\n"}, nil},
		{[]string{"ab", "--b", "policy.refill=fixed-batch,policy.degrade=f"}, []string{"policy.refill=fixed-batch,policy.degrade=fail-fast\n"}, nil},
		{[]string{"sweep", "swap-load", "--set", "run.dur"}, []string{"run.duration_ms=\n"}, nil},
		{[]string{"bench", "e2e", "--set", "machine.pre"}, []string{"machine.preset=\n"}, nil},
		{[]string{"tui", "--set", "machine.preset="}, []string{"machine.preset=intel-2s\n"}, nil},
	}
	for _, tt := range tests {
		code, stdout, stderr := sbmpsim(t, append([]string{cobra.ShellCompRequestCmd}, tt.args...)...)
		if code != 0 {
			t.Errorf("%q: exit %d: %s", tt.args, code, stderr)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(stdout, w) {
				t.Errorf("%q: candidates lack %q:\n%s", tt.args, w, stdout)
			}
		}
		for _, w := range tt.not {
			if strings.Contains(stdout, w) {
				t.Errorf("%q: candidates offer %q:\n%s", tt.args, w, stdout)
			}
		}
	}
}

// TestEveryCommandHasExamples: every command's --help has examples, and
// each example parses: the command exists, its flags and their values
// are accepted, its arguments are as many as it takes, and a scenario
// named by name is embedded.
func TestEveryCommandHasExamples(t *testing.T) {
	var walk func(c *cobra.Command)
	count := 0
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if !sub.Hidden {
				walk(sub)
			}
		}
		if c.Example == "" {
			t.Errorf("%s has no examples", c.CommandPath())
			return
		}
		for _, line := range strings.Split(c.Example, "\n") {
			count++
			checkExample(t, c.CommandPath(), line)
		}
	}
	walk(newRoot(nil, nil))
	if count < 40 {
		t.Errorf("%d examples in all; expected more", count)
	}
}

// checkExample parses the sbmpsim command line in an example line.
func checkExample(t *testing.T, path, line string) {
	t.Helper()
	_, cmdline, ok := strings.Cut(line, "sbmpsim ")
	if !ok {
		t.Errorf("%s: example %q does not run sbmpsim", path, line)
		return
	}
	if i := strings.IndexAny(cmdline, "#|>)"); i >= 0 {
		cmdline = cmdline[:i] // a comment, or the shell around it
	}
	words := strings.Fields(strings.ReplaceAll(cmdline, `"`, ""))
	root := newRoot(nil, nil)
	c, rest, err := root.Find(words)
	if err != nil || c == root {
		t.Errorf("%s: example %q: no such command (%v)", path, line, err)
		return
	}
	if err := c.ParseFlags(rest); err != nil {
		t.Errorf("%s: example %q: %v", path, line, err)
		return
	}
	args := c.Flags().Args()
	if err := c.ValidateArgs(args); err != nil {
		t.Errorf("%s: example %q: %v", path, line, err)
	}
	if strings.Contains(c.Use, "[SCENARIO]") && len(args) > 0 && !strings.HasSuffix(args[0], ".toml") && !scenarios.Has(args[0]) {
		t.Errorf("%s: example %q names no embedded scenario", path, line)
	}
}
