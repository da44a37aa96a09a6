package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/sbmpsim/sbmpsim/experiments/canon"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
)

// load loads an embedded scenario cut to ms milliseconds.
func load(t *testing.T, name string, ms int) *scenario.Scenario {
	t.Helper()
	sc, err := canon.Load(name, "run.duration_ms="+strconv.Itoa(ms))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestEstimateRun: an experiment is estimated from its last run here in
// the same mode (scaled to the runs going at once), else in the other
// mode (scaled by its work), else from one calibration run shared by all
// of them; a sweep an earlier experiment runs costs nothing again.
func TestEstimateRun(t *testing.T) {
	steady := load(t, "steady", 1000) // 2 x 4 GiB, 1 s: 8 GiB-s a run
	seeds := func(n int) []uint64 {
		s := make([]uint64, n)
		for i := range s {
			s[i] = uint64(i + 1)
		}
		return s
	}
	plans := map[string][]canon.Input{
		"same":    {{Scenario: steady, Seeds: seeds(2)}},
		"other":   {{Scenario: steady, Seeds: seeds(4)}},
		"new":     {{Scenario: steady, Seeds: seeds(1)}},
		"new2":    {{Scenario: steady, Seeds: seeds(3), Sweep: "h"}},
		"readsit": {{Scenario: steady, Seeds: seeds(3), Sweep: "h"}},
	}
	var list []canon.Experiment
	for _, n := range []string{"same", "other", "new", "new2", "readsit"} {
		list = append(list, canon.Experiment{Name: n})
	}
	tm := &notebookTiming{Experiments: map[string]map[string]experimentTiming{
		"same":  {"quick": {WallS: 10, Workers: 1, CPUs: 1, WorkGiBS: 16, Finished: "2026-12-07T04:52:00Z"}, "full": {WallS: 999, Workers: 1, CPUs: 1, WorkGiBS: 16}},
		"other": {"full": {WallS: 30, Workers: 2, CPUs: 2, WorkGiBS: 64, Finished: "2026-12-01T00:00:00Z"}},
		"new":   {"quick": {WallS: 5, Workers: 1, CPUs: 1, WorkGiBS: 0}}, // simulated nothing: no basis
	}}
	calls := 0
	cal := func() (calibration, error) {
		calls++
		return calibration{wall: 2 * time.Second, simS: 1, workGiBS: 8}, nil
	}
	est, err := estimateRun(list, plans, tm, true, 1, cal)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		wall  time.Duration
		basis string
	}{
		{10 * time.Second, "its last quick run here (2026-12-07, 10 s)"},
		{30 * time.Second, "its last full run here (2026-12-01, 30 s), scaled by simulated time x machine memory"}, // 30 s on 2 at once, half the work, on 1
		{2 * time.Second, "never run here: the default scenario's 1 simulated s took 2.00 s"},
		{6 * time.Second, "never run here"},
		{0, "reads runs made before it"},
	}
	for i, w := range want {
		l := est.lines[i]
		if l.wall != w.wall || !strings.HasPrefix(l.basis, w.basis) {
			t.Errorf("%s: %v %q, want %v %q", l.name, l.wall, l.basis, w.wall, w.basis)
		}
	}
	if calls != 1 || est.total != 48*time.Second {
		t.Errorf("%d calibration runs, total %v; want 1 and 48s", calls, est.total)
	}
	var b bytes.Buffer
	est.print(&b, "run")
	if !strings.HasPrefix(b.String(), "run: 10 runs, 10s simulated, 1 at once; estimated 48s\n") {
		t.Errorf("printed:\n%s", b.String())
	}
	calls = 0
	if _, err := estimateRun(list[:2], plans, tm, true, 1, cal); err != nil || calls != 0 {
		t.Errorf("calibrated %d times (%v) with a record for every experiment", calls, err)
	}
	if _, err := estimateRun(list[2:3], plans, tm, true, 1, func() (calibration, error) { return calibration{}, errors.New("no") }); err == nil {
		t.Error("a failed calibration was not an error")
	}
}

// tinyExperiment is an experiment of one short run of steady, whose Plan
// lists that run, or, when wrongPlan is set, another one.
func tinyExperiment(name string, wrongPlan bool) canon.Experiment {
	load := func(ms string) (*scenario.Scenario, error) { return canon.Load("steady", "run.duration_ms="+ms) }
	return canon.Experiment{Name: name, Title: name, Spec: "SPEC 0",
		Run: func(env *canon.Env, out *canon.Out) error {
			sc, err := load("50")
			if err != nil {
				return err
			}
			if _, err := env.RunAll([]*scenario.Scenario{sc}); err != nil {
				return err
			}
			out.P("one run")
			out.Cmd(canon.ExperimentCommand(name, env.Quick))
			return nil
		},
		Plan: func(*canon.Env) ([]canon.Input, error) {
			ms := "50"
			if wrongPlan {
				ms = "60"
			}
			sc, err := load(ms)
			return []canon.Input{{Scenario: sc, Seeds: []uint64{1}}}, err
		},
	}
}

// runTiny runs experiments as 'experiment run' does, into dir.
func runTiny(t *testing.T, dir string, list ...canon.Experiment) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	cmd := &cobra.Command{}
	cmd.SetOut(&o)
	cmd.SetErr(&e)
	err = runExperiments(cmd, "all", list, list, experimentFlags{quick: true, workers: 1, out: dir})
	return o.String(), e.String(), err
}

// TestRunExperimentsWritesManifestAndTiming: a run says its estimate
// first and how long it took last, writes each experiment's manifest
// entry and its wall time (outside the manifest); running one
// experiment again keeps the other's entry; an experiment that runs
// other than it planned is an error once its outputs are written.
func TestRunExperimentsWritesManifestAndTiming(t *testing.T) {
	dir := t.TempDir()
	// A record of earlier runs, so that the estimate needs no calibration.
	timing := `{"schema": "` + timingSchema + `", "experiments": {"one": {"full": {"wall_s": 3, "workers": 1, "cpus": 1, "work_gib_s": 0.4, "finished": "2026-12-07T04:52:00Z"}}, "two": {"quick": {"wall_s": 1, "workers": 1, "cpus": 1, "work_gib_s": 0.4}}}}`
	if err := os.WriteFile(filepath.Join(dir, canon.TimingName), []byte(timing), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := runTiny(t, dir, tinyExperiment("one", false), tinyExperiment("two", false))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stderr, "sbmpsim experiment run all (quick): 2 runs, 100ms simulated, 1 at once; estimated 4s\n") || !strings.Contains(stderr, "its last full run here (2026-12-07, 3 s)") || !strings.Contains(stderr, "took ") {
		t.Errorf("stderr:\n%s", stderr)
	}
	if problems, err := canon.CheckManifest(dir); err != nil || len(problems) > 0 {
		t.Fatalf("the manifest does not match: %v %q", err, problems)
	}
	tm := readTiming(dir, os.Stderr)
	if r := tm.Experiments["one"]["quick"]; r.Runs != 1 || r.WallS <= 0 || r.WorkGiBS != 0.4 || tm.Experiments["one"]["full"].WallS != 3 {
		t.Errorf("timing of one: %+v", r)
	}
	// Again, one only: the estimate rests on its last run; two's entry stays.
	_, stderr, err = runTiny(t, dir, tinyExperiment("one", false))
	if err != nil || !strings.Contains(stderr, "its last quick run here") {
		t.Errorf("second run: %v\n%s", err, stderr)
	}
	m, err := canon.ReadManifest(dir)
	if err != nil || len(m.Experiments) != 2 || m.Experiments["two"].Runs != 1 {
		t.Fatalf("manifest after running one again: %+v %v", m, err)
	}
	_, _, err = runTiny(t, dir, tinyExperiment("one", true))
	if err == nil || !strings.Contains(err.Error(), "experiment one did not run what its Plan lists") || !strings.Contains(err.Error(), "planned, not run") {
		t.Errorf("a run other than planned: %v", err)
	}
	if problems, err := canon.CheckManifest(dir); err != nil || len(problems) > 0 {
		t.Errorf("after a run other than planned, the manifest does not match: %v %q", err, problems)
	}
}

// TestExperimentEstimateRunsNothing: --estimate prints the estimate and
// writes nothing.
func TestExperimentEstimateRunsNothing(t *testing.T) {
	dir := t.TempDir()
	timing := `{"schema": "` + timingSchema + `", "experiments": {"merge-and-refill": {"quick": {"wall_s": 4, "workers": 2, "cpus": 2, "work_gib_s": 960, "finished": "2026-12-07T04:52:00Z"}}}}`
	if err := os.WriteFile(filepath.Join(dir, canon.TimingName), []byte(timing), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := sbmpsim(t, "experiment", "run", "merge-and-refill", "--quick", "--estimate", "--out", dir)
	if code != 0 || stdout != "" || !strings.Contains(stderr, "merge-and-refill (quick): 72 runs") || !strings.Contains(stderr, "its last quick run here (2026-12-07, 4 s)") {
		t.Errorf("exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("--estimate wrote %d files", len(ents)-1)
	}
}

// TestExperimentManifestCommand: 'experiment manifest' rebuilds the
// manifest from the files (the mode from the README, the inputs from
// the plan); --check passes on them and names a file edited by hand or
// added, with exit 1.
func TestExperimentManifestCommand(t *testing.T) {
	dir := t.TempDir()
	exp := filepath.Join(dir, "merge-and-refill")
	if err := os.Mkdir(exp, 0o755); err != nil {
		t.Fatal(err)
	}
	readme := "# M\n\nRegenerate:\n\n```sh\nsbmpsim experiment run merge-and-refill --quick   # one arm\n```\n"
	for name, body := range map[string]string{"README.md": readme, "bars.csv": "x\n1\n"} {
		if err := os.WriteFile(filepath.Join(exp, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if code, stdout, stderr := sbmpsim(t, "experiment", "manifest", "--out", dir); code != 0 || !strings.Contains(stdout, "matches the files") {
		t.Fatalf("rebuild: exit %d\n%s%s", code, stdout, stderr)
	}
	m, err := canon.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if e := m.Experiments["merge-and-refill"]; e == nil || e.Mode != "quick" || e.Runs != 72 || len(e.Files) != 2 || m.Validation != nil || m.Report != nil {
		t.Fatalf("manifest %+v", m)
	}
	for _, c := range []struct{ name, file, want string }{
		{"edited", "merge-and-refill/bars.csv", "merge-and-refill/bars.csv: sha256 "},
		{"added", "stray/notes.txt", "stray/notes.txt: on disk, not in the manifest"},
	} {
		path := filepath.Join(dir, c.file)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("by hand\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := sbmpsim(t, "experiment", "manifest", "--check", "--out", dir)
		if code != 1 || !strings.Contains(stdout, c.want) || !strings.Contains(stderr, "does not match the files") {
			t.Errorf("%s: exit %d\nstdout %q\nstderr %q", c.name, code, stdout, stderr)
		}
	}
}

// TestFullRunRecordsQuickHashes: a full run records in its manifest
// entry the hashes of what its quick version writes, and writes only
// the full files; rebuilding the manifest keeps those hashes while the
// files are the same run's and loses them, which --check reports, once
// a file changed.
func TestFullRunRecordsQuickHashes(t *testing.T) {
	dir := t.TempDir()
	timing := `{"schema": "` + timingSchema + `", "experiments": {"one": {"full": {"wall_s": 1, "workers": 1, "cpus": 1, "work_gib_s": 0.4}}}}`
	if err := os.WriteFile(filepath.Join(dir, canon.TimingName), []byte(timing), 0o644); err != nil {
		t.Fatal(err)
	}
	x := tinyExperiment("one", false)
	cmd := &cobra.Command{}
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	if err := runExperiments(cmd, "one", []canon.Experiment{x}, []canon.Experiment{x}, experimentFlags{workers: 1, out: dir}); err != nil {
		t.Fatal(err)
	}
	m, err := canon.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := m.Experiments["one"]
	q, err := canon.RunExperiment(canon.NewEnv(context.Background(), true, 1), x)
	if err != nil {
		t.Fatal(err)
	}
	if e.Mode != canon.ModeFull || e.Quick == nil || e.Quick.Command != "sbmpsim experiment run one --quick" || canon.QuickDiff(e, q) != "" {
		t.Fatalf("entry %+v, quick %+v", e, e.Quick)
	}
	if readme, _ := os.ReadFile(filepath.Join(dir, "one", "README.md")); !strings.Contains(string(readme), "sbmpsim experiment run one\n") {
		t.Errorf("README.md is not the full run's:\n%s", readme)
	}
	if problems, err := canon.CheckManifest(dir); err != nil || len(problems) > 0 {
		t.Fatalf("check: %v %q", err, problems)
	}
	if err := rebuildManifest(dir, []canon.Experiment{x}); err != nil {
		t.Fatal(err)
	}
	if m2, err := canon.ReadManifest(dir); err != nil || !reflect.DeepEqual(m2.Experiments["one"].Quick, e.Quick) {
		t.Fatalf("the rebuild lost the quick hashes: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "one", "section.html"), []byte("<p>by hand</p>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := rebuildManifest(dir, []canon.Experiment{x}); err != nil {
		t.Fatal(err)
	}
	problems, err := canon.CheckManifest(dir)
	if err != nil || len(problems) != 1 || !strings.HasPrefix(problems[0], "one/: a full run without its quick version's hashes") {
		t.Errorf("rebuild over changed files: %v %q", err, problems)
	}
}
