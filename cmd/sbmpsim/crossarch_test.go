package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenarios"
	"github.com/sbmpsim/sbmpsim/internal/slowtest"
)

// crossArchs are the architectures whose outputs must be identical:
// amd64, which does not fuse multiply-adds, and arm64, which does. The
// one this process is not runs under qemu-user.
var crossArchs = []string{"amd64", "arm64"}

// qemuUser names Debian qemu-user-static's emulator for a GOARCH.
var qemuUser = map[string]string{"amd64": "qemu-x86_64-static", "arm64": "qemu-aarch64-static"}

// crossSweep is a sweep whose points OOM in some seeds and not in others
// (the load is high and the runs end around the first OOM kills).
const crossSweep = `name = "crossarch"
scenario = "oom-crisis"
seeds = 4
set = ["machine.node_memory_mb=320", "run.duration_ms=5800"]

[[axis]]
key = "workload.1.load_factor"
values = [2, 2.1]

[[axis]]
key = "policy.degrade"
values = ["immediate-tier2", "fail-fast"]
`

// crossCase is one command run on every architecture; out is its output
// directory.
type crossCase struct {
	name string
	args func(out string) []string
}

func crossCases(sweepFile string) []crossCase {
	// The oom-crisis machine shrunk to 320 MiB a node, at twice the load
	// of its long-lived workload, OOMs between 5.0 and 6.4 s depending on
	// the seed: runs of 5.8 s OOM in some seeds only, so Clopper-Pearson,
	// Kaplan-Meier, McNemar/Newcombe (one discordant seed), the BCa
	// bootstrap and the sign and Wilcoxon tests (with ties, so its
	// normal approximation) all get non-trivial input.
	mixed := []string{"--set", "machine.node_memory_mb=320", "--set", "run.duration_ms=5800"}
	cases := []crossCase{
		{"ab", func(out string) []string {
			return []string{"ab", "--seeds", "4", "--a", "policy.degrade=immediate-tier2", "--b", "policy.degrade=fail-fast",
				"--set", "run.duration_ms=3000", "--out", out}
		}},
		{"ab-mixed-oom", func(out string) []string {
			return append([]string{"ab", "--seeds", "6", "--a", "workload.1.load_factor=2",
				"--b", "workload.1.load_factor=2.1,policy.degrade=fail-fast", "--out", out}, mixed...)
		}},
		{"run-seeds-mixed-oom", func(out string) []string {
			return append([]string{"run", "--seeds", "6", "--set", "workload.1.load_factor=2", "--out", out}, mixed...)
		}},
		{"sweep-mixed-oom", func(out string) []string { return []string{"sweep", sweepFile, "--out", out} }},
	}
	for _, s := range scenarios.Names() {
		cases = append(cases, crossCase{"run-" + s, func(out string) []string {
			return []string{"run", s, "--seed", "1", "--set", "run.duration_ms=3000", "--out", out}
		}})
	}
	return cases
}

// TestSameBytesOnArm64 builds sbmpsim for amd64 and arm64, runs the same
// commands with both (the foreign one under qemu-user) and compares every
// file they write byte for byte: ab.json, replications.json, sweep.json
// and sweep.csv, and of single runs summary.json, timeseries.csv, the
// metrics and the rest. Two kinds of file are left out: timing.json (wall
// clock, outside the determinism promise) and PNG figures (rasterising
// anti-aliases in floating point that arm64 fuses; the SVG drawn from the
// same numbers is compared). It also runs package stats' tests on arm64
// (TestSameBitsOnEveryArchitecture) and looks for fused multiply-adds in
// the arm64 code of the statistics and the simulation, which short runs
// may not reach: a fused clock += Exp(gap) moved one arrival of the
// default scenario's seed 1 by 1 ns at 16.5 s. About two minutes under
// qemu; .ci/run
// installs qemu-user-static and sets the slow switch, and with the switch
// on a missing qemu fails.
func TestSameBytesOnArm64(t *testing.T) {
	slowtest.Require(t, "runs sbmpsim built for arm64 under qemu-aarch64-static, about two minutes")
	runner := map[string][]string{}
	for _, arch := range crossArchs {
		if arch == runtime.GOARCH {
			runner[arch] = nil
			continue
		}
		q, err := exec.LookPath(qemuUser[arch])
		if err != nil {
			t.Fatalf("%s is not installed (apt-get install qemu-user-static)", qemuUser[arch])
		}
		runner[arch] = []string{q}
	}
	dir := t.TempDir()
	bins := map[string]string{}
	for _, arch := range crossArchs {
		bins[arch] = filepath.Join(dir, "sbmpsim-"+arch)
		crossBuild(t, arch, "build", "-o", bins[arch], ".")
	}
	sweepFile := filepath.Join(dir, "crossarch.toml")
	if err := os.WriteFile(sweepFile, []byte(crossSweep), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range crossCases(sweepFile) {
		t.Run(c.name, func(t *testing.T) {
			outs := map[string]string{}
			for _, arch := range crossArchs {
				outs[arch] = filepath.Join(dir, c.name, arch)
				args := append(append(append([]string(nil), runner[arch]...), bins[arch]), c.args(outs[arch])...)
				start := time.Now()
				if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
					t.Fatalf("%s on %s: %v\n%s", strings.Join(args, " "), arch, err, out)
				}
				t.Logf("%s: %.1f s", arch, time.Since(start).Seconds())
			}
			compareOutputs(t, outs[crossArchs[0]], outs[crossArchs[1]])
		})
	}
	t.Run("stats-tests", func(t *testing.T) {
		for _, arch := range crossArchs {
			if runner[arch] == nil {
				continue // go test ./experiments/stats ran them here
			}
			bin := filepath.Join(dir, "stats-"+arch+".test")
			crossBuild(t, arch, "test", "-c", "-o", bin, "../../experiments/stats")
			args := append(append([]string(nil), runner[arch]...), bin)
			cmd := exec.Command(args[0], args[1:]...)
			cmd.Dir = filepath.Join("..", "..", "experiments", "stats") // as go test runs it
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("package stats' tests on %s: %v\n%s", arch, err, out)
			}
		}
	})
	t.Run("no-fused-multiply-add", func(t *testing.T) {
		checkNoFusedMultiplyAdd(t, bins["arm64"])
	})
}

// crossBuild runs the go command with GOARCH=arch in this package's
// directory. Both builds share the checkout, so their version blocks
// (module, VCS revision and dirty flag, Go version) are the same.
func crossBuild(t *testing.T, arch string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "GOARCH="+arch, "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOARCH=%s go %s: %v\n%s", arch, strings.Join(args, " "), err, out)
	}
}

// compareOutputs fails t for every file that differs between the trees a
// and b or is in only one of them, timing.json and *.png aside.
func compareOutputs(t *testing.T, a, b string) {
	t.Helper()
	files := func(root string) map[string][]byte {
		m := map[string][]byte{}
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || d.Name() == "timing.json" || strings.HasSuffix(d.Name(), ".png") {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			m[rel], err = os.ReadFile(p)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	fa, fb := files(a), files(b)
	if len(fa) == 0 {
		t.Fatalf("%s holds no output", a)
	}
	for name, da := range fa {
		db, ok := fb[name]
		switch {
		case !ok:
			t.Errorf("%s: written on %s only", name, crossArchs[0])
		case !bytes.Equal(da, db):
			t.Errorf("%s differs between %s and %s: %s", name, crossArchs[0], crossArchs[1], firstDifference(da, db))
		}
	}
	for name := range fb {
		if _, ok := fa[name]; !ok {
			t.Errorf("%s: written on %s only", name, crossArchs[1])
		}
	}
}

// firstDifference quotes the first line that differs between a and b.
func firstDifference(a, b []byte) string {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d: %.120q vs %.120q", i+1, la[i], lb[i])
		}
	}
	return fmt.Sprintf("%d lines vs %d", len(la), len(lb))
}

// fusedOp matches arm64's fused multiply-add instructions.
var fusedOp = regexp.MustCompile(`\bF(N?M(ADD|SUB))[SD]\b`)

// fusionFreePackages compute the numbers of ab.json, sweep.json/csv,
// replications.json and of every run (the simulation: its event times,
// hence the trace hash, and its summary).
var fusionFreePackages = []string{"experiments/stats", "experiments/ab", "experiments/sweep",
	"experiments/world", "experiments/vopr", "sim", "sbmp", "sbmp/arena", "model/kernel", "model/numa", "model/workload", "model/goruntime", "policies"}

// checkNoFusedMultiplyAdd disassembles the arm64 binary's functions of
// fusionFreePackages (with whatever the compiler inlined into them) and
// fails for every fused multiply-add not written as math.FMA: package
// stats' rule (products rounded with float64(...) before they are added)
// keeps the compiler from fusing, so one here is a product the rule
// missed.
func checkNoFusedMultiplyAdd(t *testing.T, bin string) {
	t.Helper()
	symbols := `^github\.com/sbmpsim/sbmpsim/(` + strings.Join(fusionFreePackages, "|") + `)\.`
	out, err := exec.Command("go", "tool", "objdump", "-s", symbols, bin).Output()
	if err != nil {
		t.Fatalf("go tool objdump: %v", err)
	}
	sources := map[string][]string{} // file name -> lines, of fusionFreePackages
	for _, pkg := range fusionFreePackages {
		names, _ := filepath.Glob(filepath.Join("..", "..", pkg, "*.go"))
		for _, n := range names {
			data, err := os.ReadFile(n)
			if err != nil {
				t.Fatal(err)
			}
			sources[filepath.Base(n)] = strings.Split(string(data), "\n")
		}
	}
	fused, functions := 0, 0
	var fn string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "TEXT ") {
			fn, functions = strings.Fields(line)[1], functions+1
			continue
		}
		if !fusedOp.MatchString(line) {
			continue
		}
		fused++
		pos := strings.Fields(line)[0] // file.go:line
		var n int
		file, _, _ := strings.Cut(pos, ":")
		if _, err := fmt.Sscanf(pos[len(file):], ":%d", &n); err == nil {
			if src := sources[file]; n >= 1 && n <= len(src) && strings.Contains(src[n-1], "math.FMA(") {
				continue
			}
		}
		t.Errorf("%s: fused multiply-add at %s (%s): round the product with float64(...) before adding it", fn, pos, strings.Join(strings.Fields(line)[3:], " "))
	}
	if functions < 500 {
		t.Fatalf("objdump listed only %d functions of %v", functions, fusionFreePackages)
	}
	t.Logf("%d functions, %d fused multiply-adds (math.FMA's allowed)", functions, fused)
}
