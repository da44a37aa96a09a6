package canon

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
)

func TestSeedRanges(t *testing.T) {
	for _, c := range []struct {
		seeds []uint64
		want  string
	}{
		{nil, ""},
		{[]uint64{1}, "1"},
		{[]uint64{1, 2, 3, 4}, "1-4"},
		{[]uint64{3, 1, 2, 5, 5, 7, 8}, "1-3,5,7-8"},
		{[]uint64{10, 1}, "1,10"},
	} {
		if got := SeedRanges(c.seeds); got != c.want {
			t.Errorf("SeedRanges(%v) = %q, want %q", c.seeds, got, c.want)
		}
	}
}

// short loads an embedded scenario cut to 50 ms, for runs a test can
// afford.
func short(t *testing.T, name string, sets ...string) *scenario.Scenario {
	t.Helper()
	sc, err := Load(name, append([]string{"run.duration_ms=50"}, sets...)...)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestInputEntries: runs of one scenario on several seeds are one entry
// whatever the batches and their order; another scenario, another
// overrides or another stop are entries of their own, in a fixed order.
func TestInputEntries(t *testing.T) {
	steady, crisis := short(t, "steady"), short(t, "oom-crisis")
	seeded := func(sc *scenario.Scenario, seed uint64) *scenario.Scenario {
		c := sc.Clone()
		c.Run.Seed = seed
		return c
	}
	a := append(ScenarioInputs([]*scenario.Scenario{seeded(steady, 2), seeded(crisis, 1)}), Input{Scenario: steady, Seeds: []uint64{1, 3}})
	b := []Input{{Scenario: crisis, Seeds: []uint64{1}}, {Scenario: seeded(steady, 9), Seeds: []uint64{3, 2, 1}}}
	ea, err := InputEntries(a)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := InputEntries(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ea, eb) {
		t.Fatalf("the same runs in other batches:\n%+v\n%+v", ea, eb)
	}
	if len(ea) != 2 || ea[0].Scenario != "embedded:oom-crisis" || ea[1].Seeds != "1-3" || ea[1].Runs != 3 || ea[1].SimNs != 50e6 {
		t.Fatalf("entries %+v", ea)
	}
	for name, other := range map[string]Input{
		"another override": {Scenario: short(t, "steady", "kernel.swappiness=17"), Seeds: []uint64{1}},
		"a stop":           {Scenario: steady, Seeds: []uint64{1}, StopAtNs: 1},
	} {
		e, err := InputEntries(append(a, other))
		if err != nil {
			t.Fatal(err)
		}
		if len(e) != 3 {
			t.Errorf("%s: %d entries, want 3", name, len(e))
		}
	}
	if d, err := InputsDiff(a, b); err != nil || d != "" {
		t.Errorf("diff of equal inputs: %q, %v", d, err)
	}
	if d, _ := InputsDiff(a, b[:1]); !strings.Contains(d, "planned, not run: embedded:steady") {
		t.Errorf("diff %q", d)
	}
}

// tiny is an experiment of two short runs, one by RunAll and one by
// RunSeeds, whose Plan lists them.
func tiny(name string) Experiment {
	load := func() (*scenario.Scenario, *scenario.Scenario, error) {
		a, err := Load("steady", "run.duration_ms=50")
		if err != nil {
			return nil, nil, err
		}
		b, err := Load("steady", "run.duration_ms=50", "kernel.swappiness=17")
		return a, b, err
	}
	return Experiment{Name: name, Title: "Tiny " + name, Spec: "SPEC 0",
		Run: func(env *Env, out *Out) error {
			a, b, err := load()
			if err != nil {
				return err
			}
			if _, err := env.RunAll([]*scenario.Scenario{a}); err != nil {
				return err
			}
			if _, err := env.RunSeeds(b, env.Seeds(2, 3)); err != nil {
				return err
			}
			out.P("ran")
			out.CSV("numbers", []string{"x"}, [][]string{{"1"}})
			out.Cmd(ExperimentCommand(name, env.Quick))
			return nil
		},
		Plan: func(env *Env) ([]Input, error) {
			a, b, err := load()
			return []Input{{Scenario: a, Seeds: []uint64{1}}, {Scenario: b, Seeds: env.Seeds(2, 3)}}, err
		},
	}
}

// TestRunExperimentRecordsInputs: the inputs RunExperiment records are
// the runs asked for, each experiment its own, and equal the Plan.
func TestRunExperimentRecordsInputs(t *testing.T) {
	env := NewEnv(context.Background(), true, 2)
	for _, name := range []string{"one", "two"} {
		x := tiny(name)
		o, err := RunExperiment(env, x)
		if err != nil {
			t.Fatal(err)
		}
		if len(o.Inputs()) != 2 || len(o.Inputs()[1].Seeds) != 2 {
			t.Fatalf("%s: inputs %+v", name, o.Inputs())
		}
		planned, err := x.Plan(env)
		if err != nil {
			t.Fatal(err)
		}
		if d, err := InputsDiff(planned, o.Inputs()); err != nil || d != "" {
			t.Errorf("%s: plan and run differ: %s %v", name, d, err)
		}
	}
}

// notebooks writes two tiny experiments, a validation directory and the
// report into a new directory, with its manifest.
func notebooks(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	env := NewEnv(context.Background(), true, 2)
	var exps []Experiment
	for _, name := range []string{"one", "two"} {
		x := tiny(name)
		exps = append(exps, x)
		o, err := RunExperiment(env, x)
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Write(root); err != nil {
			t.Fatal(err)
		}
		e, err := NewExperimentEntry(o, env.Quick)
		if err != nil {
			t.Fatal(err)
		}
		if err := UpdateManifest(root, func(m *Manifest) error { m.Experiments[name] = e; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	v := NewOut(ValidationSection())
	v.P("real runs")
	v.Cmd("sbmpsim validate real")
	if err := v.Write(root); err != nil {
		t.Fatal(err)
	}
	if _, err := Report(root, append(exps, ValidationSection())); err != nil {
		t.Fatal(err)
	}
	err := UpdateManifest(root, func(m *Manifest) error {
		var err error
		m.Validation, err = NewValidationEntry(root, "sbmpsim validate real")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestCheckManifest: a directory as its manifest says passes; a file
// edited, removed or added, anywhere, is named.
func TestCheckManifest(t *testing.T) {
	write := func(rel, data string) func(string) error {
		return func(root string) error { return os.WriteFile(filepath.Join(root, rel), []byte(data), 0o644) }
	}
	for _, c := range []struct {
		name   string
		change func(root string) error
		want   string
	}{
		{"untouched", func(string) error { return nil }, ""},
		{"timing.json is not checked", write("timing.json", "{}"), ""},
		{"edited csv", write("one/numbers.csv", "x\n2\n"), "one/numbers.csv: sha256 "},
		{"edited report", write("index.html", "<html>"), "index.html: sha256 "},
		{"edited validation", write("validation/README.md", "by hand"), "validation/README.md: sha256 "},
		{"removed", func(root string) error { return os.Remove(filepath.Join(root, "two", "README.md")) }, "two/README.md: in the manifest, not on disk"},
		{"added", write("two/extra.png", "x"), "two/extra.png: on disk, not in the manifest"},
		{"added at the top", write("notes.txt", "x"), "notes.txt: on disk, not in the manifest"},
		{"a new directory", func(root string) error {
			if err := os.Mkdir(filepath.Join(root, "three"), 0o755); err != nil {
				return err
			}
			return write("three/README.md", "x")(root)
		}, "three/README.md: on disk, not in the manifest"},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := notebooks(t)
			if err := c.change(root); err != nil {
				t.Fatal(err)
			}
			problems, err := CheckManifest(root)
			if err != nil {
				t.Fatal(err)
			}
			if c.want == "" && len(problems) > 0 || c.want != "" && (len(problems) != 1 || !strings.HasPrefix(problems[0], c.want)) {
				t.Fatalf("problems %q, want one starting %q", problems, c.want)
			}
		})
	}
}

// TestManifestBytes: the manifest is the same bytes when rewritten;
// updating one experiment keeps the others; it records the mode, the
// inputs' totals and the report's hash without the build line.
func TestManifestBytes(t *testing.T) {
	root := notebooks(t)
	path := filepath.Join(root, ManifestName)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := UpdateManifest(root, func(*Manifest) error { return nil }); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("rewriting the manifest changed it")
	}
	m, err := ReadManifest(root)
	if err != nil {
		t.Fatal(err)
	}
	one := m.Experiments["one"]
	if len(m.Experiments) != 2 || one.Mode != ModeQuick || one.Runs != 3 || one.SimNs != 3*50e6 || one.Command != "sbmpsim experiment run one --quick" {
		t.Fatalf("manifest %+v, one %+v", m, one)
	}
	page, _ := os.ReadFile(filepath.Join(root, ReportName))
	if m.Report == nil || m.Report.SHA256WithoutBuildLine != fileEntry(WithoutBuildLine(page)).SHA256 || bytes.Equal(WithoutBuildLine(page), page) {
		t.Fatalf("report %+v", m.Report)
	}
	if m.Validation == nil || m.Validation.Command != "sbmpsim validate real" || len(m.Validation.Files) != 2 {
		t.Fatalf("validation %+v", m.Validation)
	}
	w := m.WithoutBuild()
	if w.Version != "" || w.Report.SHA256 != "" || w.Report.SHA256WithoutBuildLine == "" || m.Version == "" || m.Report.SHA256 == "" {
		t.Fatalf("WithoutBuild %+v of %+v", w, m)
	}
}

// TestEntryFromDisk: an experiment's entry rebuilt from its directory
// equals the one its run wrote: the mode from its README's command, the
// inputs from its Plan.
func TestEntryFromDisk(t *testing.T) {
	root := notebooks(t)
	m, err := ReadManifest(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"one", "two"} {
		got, err := ExperimentEntryFromDisk(root, tiny(name))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, m.Experiments[name]) {
			t.Errorf("%s from disk:\n%+v\nwritten by the run:\n%+v", name, got, m.Experiments[name])
		}
	}
	v, err := ValidationEntryFromDisk(root)
	if err != nil || !reflect.DeepEqual(v, m.Validation) {
		t.Errorf("validation from disk %+v, %v", v, err)
	}
	if err := os.WriteFile(filepath.Join(root, "one", "README.md"), []byte("no command"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ExperimentEntryFromDisk(root, tiny("one")); err == nil || !strings.Contains(err.Error(), "no \"Regenerate:\" command") {
		t.Errorf("a README without its command: %v", err)
	}
}

func TestRegenerateCommand(t *testing.T) {
	for _, c := range []struct {
		readme, want string
		ok           bool
	}{
		{"# T\n\nRegenerate:\n\n```sh\nsbmpsim experiment run x --quick   # one run: sbmpsim run\n```\n", "sbmpsim experiment run x --quick", true},
		{"Regenerate:\n\n```sh\nsbmpsim validate real --runs 2\n```\n\nmore", "sbmpsim validate real --runs 2", true},
		{"Regenerate: sbmpsim experiment run x\n", "", false},
	} {
		got, ok := RegenerateCommand([]byte(c.readme))
		if got != c.want || ok != c.ok {
			t.Errorf("RegenerateCommand(%q) = %q, %v; want %q, %v", c.readme, got, ok, c.want, c.ok)
		}
	}
}

// TestReadManifestRejects: a manifest of another schema or with unknown
// keys is an error naming the file; a missing one is os.ErrNotExist.
func TestReadManifestRejects(t *testing.T) {
	for _, c := range []struct{ name, body, want string }{
		{"schema", `{"schema": "other/v9", "experiments": {}}`, `schema "other/v9"`},
		{"unknown key", `{"schema": "` + ManifestSchema + `", "extra": 1}`, `unknown field "extra"`},
		{"not json", `{`, "unexpected EOF"},
	} {
		root := t.TempDir()
		if err := os.WriteFile(filepath.Join(root, ManifestName), []byte(c.body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadManifest(root)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), ManifestName) {
			t.Errorf("%s: %v", c.name, err)
		}
		if err := UpdateManifest(root, func(*Manifest) error { return nil }); err == nil {
			t.Errorf("%s: UpdateManifest overwrote a manifest it could not read", c.name)
		}
	}
	if _, err := ReadManifest(t.TempDir()); !os.IsNotExist(err) {
		t.Errorf("missing manifest: %v", err)
	}
}

// TestQuickDiff: a full entry's recorded quick hashes agree with a
// rerun of the quick version that writes the same files, and each file
// changed, no longer written or newly written is named; a full entry
// without them is a difference, and CheckManifest says so.
func TestQuickDiff(t *testing.T) {
	env := NewEnv(context.Background(), true, 2)
	o, err := RunExperiment(env, tiny("one"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewExperimentEntry(o, false)
	if err != nil {
		t.Fatal(err)
	}
	e.Quick = NewQuickEntry(o)
	if e.Quick.Command != "sbmpsim experiment run one --quick" || len(e.Quick.Files) != len(o.Files()) {
		t.Fatalf("quick entry %+v", e.Quick)
	}
	if d := QuickDiff(e, o); d != "" {
		t.Fatalf("the same run differs: %s", d)
	}
	for _, c := range []struct {
		name   string
		change func(q *QuickEntry)
		want   string
	}{
		{"changed", func(q *QuickEntry) { q.Files["numbers.csv"] = FileEntry{SHA256: "00", Size: 1} }, "numbers.csv: sha256 "},
		{"no longer written", func(q *QuickEntry) { q.Files["gone.png"] = FileEntry{SHA256: "00", Size: 1} }, "gone.png: recorded, no longer written"},
		{"newly written", func(q *QuickEntry) { delete(q.Files, "numbers.csv") }, "numbers.csv: written, not recorded"},
	} {
		c2 := *e
		q := *e.Quick
		q.Files = maps.Clone(e.Quick.Files)
		c.change(&q)
		c2.Quick = &q
		if d := QuickDiff(&c2, o); d != c.want && !strings.HasPrefix(d, c.want) || strings.Count(d, "\n") != 0 {
			t.Errorf("%s: %q, want one line starting %q", c.name, d, c.want)
		}
	}
	e.Quick = nil
	if d := QuickDiff(e, o); !strings.Contains(d, "no quick hashes") {
		t.Errorf("no quick hashes: %q", d)
	}

	root := notebooks(t)
	if err := UpdateManifest(root, func(m *Manifest) error {
		m.Experiments["one"].Mode = ModeFull
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	problems, err := CheckManifest(root)
	if err != nil || len(problems) != 1 || !strings.HasPrefix(problems[0], "one/: a full run without its quick version's hashes") {
		t.Fatalf("problems %q, %v", problems, err)
	}
	if err := UpdateManifest(root, func(m *Manifest) error {
		m.Experiments["one"].Quick = NewQuickEntry(o)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if problems, err := CheckManifest(root); err != nil || len(problems) != 0 {
		t.Fatalf("with its quick hashes: %q, %v", problems, err)
	}
}
