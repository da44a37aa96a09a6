package sweep

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/world"
)

// tinySweep is 4 points x 2 seeds of the embedded steady scenario, 150 ms
// of simulated time each: eight runs take well under a second.
const tinySweep = `name = "tiny"
scenario = "steady"
seeds = 2
seed = 5
set = ["run.duration_ms=150"]

[[axis]]
key = "kernel.swappiness"
values = [0, 60]

[[axis]]
key = "workload.0.load_factor"
values = [0.5, 1.0]
`

// tinyPlan writes text as a sweep file in a temporary directory and plans
// it.
func tinyPlan(t *testing.T, text string) *Plan {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tiny.toml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlan(f)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// execute runs the plan (or one shard of it) into dir and fails the test
// on error.
func execute(t *testing.T, p *Plan, dir string, shard Shard, workers int) Outcome {
	t.Helper()
	out, err := Execute(context.Background(), p, Options{Dir: dir, Shard: shard, Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readTree returns every file under dir by slash path relative to dir.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// sameTree fails unless dirs a and b hold the same files with the same
// bytes.
func sameTree(t *testing.T, a, b string) {
	t.Helper()
	ta, tb := readTree(t, a), readTree(t, b)
	for name, da := range ta {
		db, ok := tb[name]
		switch {
		case !ok:
			t.Errorf("%s is in %s only", name, a)
		case !bytes.Equal(da, db):
			t.Errorf("%s differs between %s and %s", name, a, b)
		}
	}
	for name := range tb {
		if _, ok := ta[name]; !ok {
			t.Errorf("%s is in %s only", name, b)
		}
	}
}

func TestRunOrderAndIDs(t *testing.T) {
	p := tinyPlan(t, strings.Replace(tinySweep, "seeds = 2\nseed = 5", "seeds = 3\nseed = 8", 1))
	wantPoints := [][]string{
		{"kernel.swappiness=0", "workload.0.load_factor=0.5"},
		{"kernel.swappiness=0", "workload.0.load_factor=1.0"},
		{"kernel.swappiness=60", "workload.0.load_factor=0.5"},
		{"kernel.swappiness=60", "workload.0.load_factor=1.0"},
	}
	if len(p.Points) != len(wantPoints) || p.Runs != 12 {
		t.Fatalf("%d points, %d runs", len(p.Points), p.Runs)
	}
	for i, pt := range p.Points {
		if pt.ID != []string{"p000", "p001", "p002", "p003"}[i] || !slices.Equal(pt.Overrides, wantPoints[i]) {
			t.Errorf("point %d = %+v", i, pt)
		}
		sc := p.PointScenario(i, 99)
		if sc.Run.Seed != 99 || sc.Run.DurationMs != 150 || sc.Kernel.Swappiness != []int{0, 0, 60, 60}[i] ||
			sc.Workloads[0].LoadFactor != []float64{0.5, 1, 0.5, 1}[i] {
			t.Errorf("point %d scenario: seed %d duration %d swappiness %d load %v", i, sc.Run.Seed, sc.Run.DurationMs, sc.Kernel.Swappiness, sc.Workloads[0].LoadFactor)
		}
	}
	// Seeds 8..10: two digits, so that ids sort in run order.
	want := []string{"p000-s08", "p000-s09", "p000-s10", "p001-s08", "p001-s09", "p001-s10",
		"p002-s08", "p002-s09", "p002-s10", "p003-s08", "p003-s09", "p003-s10"}
	var ids []string
	for i := range p.Runs {
		r := p.Run(i)
		if r.Index != i || r.Point != i/3 || r.Seed != 8+uint64(i%3) {
			t.Errorf("run %d = %+v", i, r)
		}
		ids = append(ids, r.ID)
	}
	if !slices.Equal(ids, want) || !slices.IsSorted(ids) {
		t.Errorf("ids = %v", ids)
	}
	// Shards partition the runs round-robin.
	s := Shard{Index: 1, Count: 5}
	var mine []int
	for i := range p.Runs {
		if s.Has(i) {
			mine = append(mine, i)
		}
	}
	if !slices.Equal(mine, []int{1, 6, 11}) {
		t.Errorf("shard 1/5 = %v", mine)
	}
	// The plan and its hash do not depend on where the file is.
	if q := tinyPlan(t, strings.Replace(tinySweep, "seeds = 2\nseed = 5", "seeds = 3\nseed = 8", 1)); q.Hash != p.Hash {
		t.Errorf("hash %s != %s for the same sweep in another directory", q.Hash, p.Hash)
	}
	if q := tinyPlan(t, tinySweep); q.Hash == p.Hash {
		t.Error("other seeds, same hash")
	}
}

func TestParseShard(t *testing.T) {
	for _, ok := range []string{"0/1", "3/4", " 0 / 2 "} {
		if _, err := ParseShard(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "1", "4/4", "-1/2", "0/0", "a/b", "1/2/3"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestOutputsAreByteIdentical: however a
// sweep is run (workers, shards merged, interrupted and resumed, files
// lost and a temporary file left by a kill), its directory is the same,
// byte for byte.
func TestOutputsAreByteIdentical(t *testing.T) {
	p := tinyPlan(t, tinySweep)
	ref := filepath.Join(t.TempDir(), "ref")
	out := execute(t, p, ref, Shard{}, 2)
	if out.Total != 8 || out.Ran != 8 || !out.Aggregated {
		t.Fatalf("outcome %+v", out)
	}
	names := slices.Sorted(maps.Keys(readTree(t, ref)))
	if len(names) != 11 || names[0] != "plan.json" || names[1] != "runs/p000-s5.json" || names[10] != "sweep.json" {
		t.Fatalf("files %v", names)
	}
	for name, b := range readTree(t, ref) {
		if strings.HasPrefix(name, "runs/") && (bytes.Contains(b, []byte(`"wall_`)) || !bytes.Contains(b, []byte(`"source": "embedded:steady"`))) {
			t.Errorf("%s: holds a wall-clock field or source is not the plan's", name)
		}
	}

	t.Run("one worker", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "w1")
		execute(t, p, dir, Shard{}, 1)
		sameTree(t, ref, dir)
	})

	t.Run("two shards merged", func(t *testing.T) {
		s0, s1 := filepath.Join(t.TempDir(), "s0"), filepath.Join(t.TempDir(), "s1")
		o0 := execute(t, p, s0, Shard{0, 2}, 1)
		o1 := execute(t, p, s1, Shard{1, 2}, 2)
		if o0.Total != 4 || o1.Total != 4 || o0.Aggregated || o1.Aggregated {
			t.Fatalf("outcomes %+v %+v", o0, o1)
		}
		for _, d := range []string{s0, s1} {
			if _, err := os.Stat(filepath.Join(d, ReportName)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("shard %s wrote %s", d, ReportName)
			}
		}
		merged := filepath.Join(t.TempDir(), "merged")
		res, err := Merge(merged, []string{s0, s1})
		if err != nil {
			t.Fatal(err)
		}
		if res.Runs != 8 || res.Copied != 8 || res.Duplicates != 0 {
			t.Errorf("merge %+v", res)
		}
		sameTree(t, ref, merged)
		// Merging again, into one of the inputs, or the whole sweep with
		// a shard (identical duplicates) changes nothing.
		if _, err := Merge(merged, []string{s0, s1, merged}); err != nil {
			t.Fatal(err)
		}
		sameTree(t, ref, merged)
		into := filepath.Join(t.TempDir(), "into")
		if _, err := Merge(into, []string{ref, s1}); err != nil {
			t.Fatal(err)
		}
		sameTree(t, ref, into)
	})

	t.Run("three shards in one shared directory", func(t *testing.T) {
		shared := filepath.Join(t.TempDir(), "shared")
		for i := range 3 {
			execute(t, p, shared, Shard{i, 3}, 1)
		}
		merged := filepath.Join(t.TempDir(), "merged")
		if _, err := Merge(merged, []string{shared}); err != nil {
			t.Fatal(err)
		}
		sameTree(t, ref, merged)
	})

	t.Run("cancelled after k runs and resumed", func(t *testing.T) {
		for _, k := range []int{1, 3} {
			dir := filepath.Join(t.TempDir(), "cancelled")
			ctx, cancel := context.WithCancel(context.Background())
			out, err := Execute(ctx, p, Options{Dir: dir, Workers: 2, Progress: func(done, _ int) {
				if done == k {
					cancel()
				}
			}})
			cancel()
			if !errors.Is(err, ErrInterrupted) {
				t.Fatalf("k=%d: err = %v", k, err)
			}
			// The runs under way when it was cancelled finish, and no new
			// one starts: with 2 workers both may have taken a run before
			// the k-th completion was reported, so k to k+2.
			if out.Ran < k || out.Ran > k+2 || out.Aggregated {
				t.Fatalf("k=%d: outcome %+v", k, out)
			}
			if _, err := os.Stat(filepath.Join(dir, ReportName)); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("k=%d: an interrupted sweep wrote %s", k, ReportName)
			}
			again := execute(t, p, dir, Shard{}, 2)
			if again.Resumed != out.Ran || again.Ran != 8-out.Ran {
				t.Errorf("k=%d: resumed %+v after %+v", k, again, out)
			}
			sameTree(t, ref, dir)
		}
	})

	t.Run("lost runs, a stale temporary file and a torn file", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "lost")
		for name, b := range readTree(t, ref) {
			path := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range []string{"p000-s6", "p002-s5", "p003-s6"} {
			if err := os.Remove(runPath(dir, id)); err != nil {
				t.Fatal(err)
			}
		}
		// What a kill -9 during WriteFileAtomic leaves: a temporary file,
		// never the run's own name. And a torn file, which atomic writes
		// never make but a bad disk might.
		stale := filepath.Join(dir, RunsDir, ".p000-s6.json.tmp1234")
		if err := os.WriteFile(stale, []byte(`{"schema": "sbmpsim.summ`), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(runPath(dir, "p001-s5"), []byte(`{"schema": "sbmpsim.summary/v1", "se`), 0o644); err != nil {
			t.Fatal(err)
		}
		out := execute(t, p, dir, Shard{}, 2)
		if out.Resumed != 4 || out.Ran != 4 || out.TempsRemoved != 1 || out.Replaced != 1 {
			t.Errorf("outcome %+v", out)
		}
		sameTree(t, ref, dir) // the temporary file is gone too
	})
}

func TestAggregateIsAPureFunctionOfTheRuns(t *testing.T) {
	pf := &PlanFile{Schema: PlanSchema, Sweep: "s", Hash: "h", SeedFirst: 1, Seeds: 4,
		Points: []PlanPoint{{ID: "p000", Overrides: []string{"kernel.swappiness=0"}}}, Runs: 4,
		Axes: []Axis{{Keys: []string{"kernel.swappiness"}, Values: [][]string{{"0"}}}}}
	run := func(seed uint64, oomNs int64) world.Summary {
		s := world.Summary{Schema: world.SummarySchema, Seed: seed, SimTimeNs: 10e9, Allocs: 100, FallbackCount: seed,
			AllocStallNs: int64(seed) * 10, FootprintPeakBytes: 1 << 20, TraceHash: "t"}
		s.AllocLatencyNs.P99 = int64(seed) * 100
		if oomNs >= 0 {
			s.OOMKills = 2
			s.OOMEvents = []world.OOMEvent{{TimeNs: oomNs + 1}, {TimeNs: oomNs}}
		}
		return s
	}
	// Two OOMs (at 5 s and 7 s), two runs that lived the 10 s.
	runs := []world.Summary{run(1, 5e9), run(2, -1), run(3, 7e9), run(4, -1)}
	r, err := Aggregate(pf, runs)
	if err != nil {
		t.Fatal(err)
	}
	pt := r.Points[0]
	if pt.Runs != 4 || pt.OOMRuns != 2 || pt.OOMProbability != 0.5 {
		t.Errorf("oom %d/%d p=%v", pt.OOMRuns, pt.Runs, pt.OOMProbability)
	}
	// Wilson 95 % for 2/4: centre (2 + z²/2)/(4 + z²) = 0.5.
	if lo, hi := pt.OOMCI95Wilson[0], pt.OOMCI95Wilson[1]; lo < 0.15 || lo > 0.151 || hi < 0.849 || hi > 0.85 {
		t.Errorf("wilson [%v, %v]", lo, hi)
	}
	// Kaplan-Meier: S = 3/4 after 5 s, 3/4 x 2/3 = 1/2 after 7 s.
	if f := pt.FirstOOM; f.MedianNs != 7e9 || !f.MedianReached || f.FollowUpMaxNs != 10e9 {
		t.Errorf("first OOM %+v", f)
	}
	// fallback_rate: 0.01, 0.02, 0.03, 0.04.
	if d := pt.Metrics.FallbackRate; d.Mean != 0.025 || d.Median != 0.025 || d.P10 < 0.0129 || d.P10 > 0.0131 {
		t.Errorf("fallback rate %+v", d)
	}
	if d := pt.Metrics.AllocLatencyP99Ns; d.Median != 250 || d.P90 != 370 {
		t.Errorf("p99 latency %+v", d)
	}
	again, err := Aggregate(pf, runs)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := r.JSON()
	b, _ := again.JSON()
	ca, _ := r.CSV()
	cb, _ := again.CSV()
	if !bytes.Equal(a, b) || !bytes.Equal(ca, cb) {
		t.Error("the same runs gave different aggregates")
	}
	wantCSV := "p000,0,4,2,0.5,"
	if lines := strings.Split(string(ca), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[1], wantCSV) || !strings.HasPrefix(lines[0], "point,kernel.swappiness,runs,oom_runs,") {
		t.Errorf("csv:\n%s", ca)
	}
}

func TestMergeErrors(t *testing.T) {
	p := tinyPlan(t, strings.Replace(tinySweep, "values = [0.5, 1.0]", "values = [0.5]", 1)) // 2 points x 2 seeds
	s0, s1 := filepath.Join(t.TempDir(), "s0"), filepath.Join(t.TempDir(), "s1")
	execute(t, p, s0, Shard{0, 2}, 2)
	execute(t, p, s1, Shard{1, 2}, 2)
	out := filepath.Join(t.TempDir(), "out")
	wantErr := func(t *testing.T, dirs []string, want ...string) {
		t.Helper()
		_, err := Merge(out, dirs)
		if err == nil {
			t.Fatal("no error")
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q lacks %q", err, w)
			}
		}
		if _, err := os.Stat(filepath.Join(out, PlanName)); !errors.Is(err, fs.ErrNotExist) {
			t.Error("a failed merge wrote its output")
		}
	}

	t.Run("missing shard", func(t *testing.T) {
		wantErr(t, []string{s0}, "2 of 4 runs", "p000-s6 (shard 1/2)", "p001-s6 (shard 1/2)")
	})
	t.Run("missing run", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "partial")
		execute(t, p, dir, Shard{1, 2}, 2)
		if err := os.Remove(runPath(dir, "p001-s6")); err != nil {
			t.Fatal(err)
		}
		wantErr(t, []string{s0, dir}, "1 of 4 runs", "p001-s6 (shard 1/2)")
	})
	t.Run("another sweep", func(t *testing.T) {
		other := tinyPlan(t, strings.Replace(tinySweep, "seed = 5", "seed = 50", 1))
		dir := filepath.Join(t.TempDir(), "other")
		if err := claimDir(dir, &other.PlanFile); err != nil {
			t.Fatal(err)
		}
		wantErr(t, []string{s0, dir}, "with hash "+p.Hash[:12], "with hash "+other.Hash[:12], "not shards of one sweep")
	})
	t.Run("manifest of another sweep", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "forged")
		execute(t, p, dir, Shard{1, 2}, 2)
		m := filepath.Join(dir, ManifestName(Shard{1, 2}))
		b, _ := os.ReadFile(m)
		if err := os.WriteFile(m, bytes.Replace(b, []byte(p.Hash), []byte(strings.Repeat("0", 64)), 1), 0o644); err != nil {
			t.Fatal(err)
		}
		wantErr(t, []string{s0, dir}, "manifest is of sweep", "000000000000")
	})
	t.Run("conflicting copies", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "conflict")
		execute(t, p, dir, Shard{1, 2}, 2)
		path := runPath(dir, "p000-s6")
		b, _ := os.ReadFile(path)
		if err := os.WriteFile(path, bytes.Replace(b, []byte(`"allocs": `), []byte(`"allocs": 1`), 1), 0o644); err != nil {
			t.Fatal(err)
		}
		wantErr(t, []string{s0, s1, dir}, "run p000-s6 differs between")
	})
	t.Run("another build", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "build")
		execute(t, p, dir, Shard{1, 2}, 2)
		forgeVersion(t, runPath(dir, "p001-s6"))
		wantErr(t, []string{s0, dir}, "p001-s6.json: made by sbmpsim", "rev deadbeef", "runs of different builds do not mix")
	})
	t.Run("stray file", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "stray")
		execute(t, p, dir, Shard{1, 2}, 2)
		if err := os.WriteFile(filepath.Join(dir, RunsDir, "p009-s5.json"), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
		wantErr(t, []string{s0, dir}, "p009-s5.json is no run of sweep")
	})
	t.Run("not a sweep directory", func(t *testing.T) {
		wantErr(t, []string{s0, t.TempDir()}, "is not a sweep directory")
	})
}

// forgeVersion rewrites the run file at path as if another build had
// made it.
func forgeVersion(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	forged := bytes.Replace(b, []byte(`"version": {`), []byte(`"version": {
    "revision": "deadbeef",`), 1)
	if bytes.Equal(forged, b) {
		t.Fatal("run file has no version")
	}
	if err := os.WriteFile(path, forged, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestResumeRefusesAnotherBuildsRuns: resuming a sweep whose directory
// holds a run made by another build fails, naming the file, rather than
// mixing or silently replacing it.
func TestResumeRefusesAnotherBuildsRuns(t *testing.T) {
	p := tinyPlan(t, tinySweep)
	dir := filepath.Join(t.TempDir(), "d")
	execute(t, p, dir, Shard{}, 2)
	forgeVersion(t, runPath(dir, "p000-s5"))
	_, err := Execute(context.Background(), p, Options{Dir: dir, Workers: 2})
	if err == nil || !strings.Contains(err.Error(), "p000-s5.json: made by sbmpsim") || !strings.Contains(err.Error(), "do not mix") {
		t.Fatalf("resume: %v", err)
	}
}

func TestExecuteRefusesAnotherSweepsDirectory(t *testing.T) {
	p := tinyPlan(t, strings.Replace(tinySweep, "values = [0.5, 1.0]", "values = [0.5]", 1))
	dir := filepath.Join(t.TempDir(), "d")
	if err := claimDir(dir, &p.PlanFile); err != nil {
		t.Fatal(err)
	}
	other := tinyPlan(t, strings.Replace(tinySweep, "seeds = 2", "seeds = 3", 1))
	_, err := Execute(context.Background(), other, Options{Dir: dir, Workers: 1})
	var de *DirError
	if !errors.As(err, &de) || de.Hash != p.Hash || de.Want != other.Hash {
		t.Fatalf("err = %v", err)
	}
}

func TestFailedRunsAreReportedTogether(t *testing.T) {
	p := tinyPlan(t, strings.Replace(tinySweep, `set = ["run.duration_ms=150"]`, `set = ["run.duration_ms=150", "run.max_events=50"]`, 1))
	dir := filepath.Join(t.TempDir(), "f")
	out, err := Execute(context.Background(), p, Options{Dir: dir, Workers: 2})
	var fe *FailedError
	if !errors.As(err, &fe) || len(fe.Failed) != 8 || fe.Failed[0].Run.ID != "p000-s5" || out.Aggregated || out.Ran != 0 {
		t.Fatalf("err = %v, outcome %+v", err, out)
	}
	if !strings.Contains(err.Error(), "8 runs failed") || !strings.Contains(err.Error(), "run p000-s5:") {
		t.Errorf("error %q", err)
	}
}
