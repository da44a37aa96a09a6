package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenarios"
	"github.com/sbmpsim/sbmpsim/internal/slowtest"
)

// TestMetricsPromtool: every embedded scenario's run writes a
// metrics.prom that `promtool check metrics` passes without a complaint
// and a metrics.om that `promtool tsdb create-blocks-from openmetrics`
// turns into blocks holding every sample of the file. With the slow
// checks on (CI) each scenario runs its default duration; otherwise each
// is cut to 3 s of simulated time (0.5 s with -short).
func TestMetricsPromtool(t *testing.T) {
	promtool := slowtest.Tool(t, "promtool", "prometheus")
	var sets []string
	switch {
	case os.Getenv(slowtest.Env) == "1":
	case testing.Short():
		sets = []string{"--set", "run.duration_ms=500"}
	default:
		sets = []string{"--set", "run.duration_ms=3000"}
	}
	for _, name := range scenarios.Names() {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if code, _, stderr := sbmpsim(t, append([]string{"run", name, "--out", dir}, sets...)...); code != 0 {
				t.Fatalf("run: exit %d: %s", code, stderr)
			}
			checkMetricsProm(t, promtool, filepath.Join(dir, "metrics.prom"))
			samples := backfill(t, promtool, filepath.Join(dir, "metrics.om"), filepath.Join(dir, "blocks"))
			t.Logf("%s: promtool backfilled %d samples", name, samples)
		})
	}
}

// checkMetricsProm runs `promtool check metrics < path` and fails on any
// complaint.
func checkMetricsProm(t *testing.T, promtool, path string) {
	t.Helper()
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = in
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("promtool check metrics < %s: %v\n%s", path, err, out)
	}
}

// blockRow is a row of promtool's table of the blocks it wrote: ULID,
// min and max time, duration, samples.
var blockRow = regexp.MustCompile(`(?m)^[0-9A-Z]{26}\s+\d+\s+\d+\s+\S+\s+(\d+)\s`)

// backfill turns the OpenMetrics file om into TSDB blocks in dir, checks
// that the blocks hold every sample line of the file, and returns their
// number.
func backfill(t *testing.T, promtool, om, dir string) (samples int) {
	t.Helper()
	out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", om, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool tsdb create-blocks-from openmetrics %s: %v\n%s", om, err, out)
	}
	for _, m := range blockRow.FindAllStringSubmatch(string(out), -1) {
		n, _ := strconv.Atoi(m[1])
		samples += n
	}
	text, err := os.ReadFile(om)
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	for _, l := range strings.Split(string(text), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			lines++
		}
	}
	if samples != lines {
		t.Fatalf("promtool's blocks hold %d samples, %s has %d sample lines:\n%s", samples, om, lines, out)
	}
	return samples
}

// TestABAndSweepMetricsPromtool: `ab --metrics` and `sweep --metrics`
// each write one metrics.om holding every run, labelled by arm or point
// and seed, which promtool turns into blocks holding every sample.
func TestABAndSweepMetricsPromtool(t *testing.T) {
	promtool := slowtest.Tool(t, "promtool", "prometheus")
	abDir, sweepDir := filepath.Join(t.TempDir(), "ab"), filepath.Join(t.TempDir(), "sweep")
	for _, tc := range []struct {
		args []string
		dir  string
		want []string
	}{
		{append(slices.Clone(abShort), "--metrics", "--out", abDir), abDir,
			[]string{`arm="a",arm_name="a",seed="1"}`, `arm="b",arm_name="b",seed="3"}`}},
		{[]string{"sweep", writeSweepFile(t, cliSweep), "--metrics", "--out", sweepDir}, sweepDir,
			[]string{`sweep="grid",point="p000",seed="1"}`, `sweep="grid",point="p001",seed="2"}`}},
	} {
		if code, _, stderr := sbmpsim(t, tc.args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, stderr)
		}
		om := filepath.Join(tc.dir, "metrics.om")
		text, err := os.ReadFile(om)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !bytes.Contains(text, []byte(w)) {
				t.Errorf("%s lacks %s", om, w)
			}
		}
		t.Logf("%s: promtool backfilled %d samples", tc.args[0], backfill(t, promtool, om, filepath.Join(t.TempDir(), "blocks")))
	}
}

// TestMetricsFlagErrors: a bad --metrics-epoch, and --metrics where it
// cannot be written, are usage errors (exit 2) naming the flag.
func TestMetricsFlagErrors(t *testing.T) {
	sweepFile := writeSweepFile(t, cliSweep)
	out := filepath.Join(t.TempDir(), "out")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "steady", "--metrics-epoch", "noon", "--out", out}, `--metrics-epoch: metrics epoch "noon": want an RFC 3339 time`},
		{[]string{"run", "steady", "--metrics-epoch", "1960-01-01T00:00:00Z"}, "before 1970"},
		{append(slices.Clone(abShort), "--metrics"), "--metrics writes metrics.om into --out DIR"},
		{append(slices.Clone(abShort), "--out", out, "--metrics-epoch", "2026-02-30T00:00:00Z"), "--metrics-epoch"},
		{[]string{"sweep", sweepFile, "--out", out, "--metrics", "--shard", "0/2"}, "--metrics with --shard 0/2"},
		{[]string{"sweep", sweepFile, "--out", out, "--metrics-epoch", "x"}, "--metrics-epoch"},
	} {
		code, _, stderr := sbmpsim(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 with %q", tc.args, code, stderr, tc.want)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Error("a usage error wrote its output directory")
	}
}
