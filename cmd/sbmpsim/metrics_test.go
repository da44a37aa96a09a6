package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
// is cut to 3 s of simulated time.
func TestMetricsPromtool(t *testing.T) {
	promtool := slowtest.Tool(t, "promtool", "prometheus")
	var sets []string
	if os.Getenv(slowtest.Env) != "1" {
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
