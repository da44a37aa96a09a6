package catalog

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/canon"
)

// TestPlans: every experiment lists its inputs in both modes, and the
// full mode runs at least as much as the quick one.
func TestPlans(t *testing.T) {
	for _, x := range All() {
		if x.Plan == nil {
			t.Errorf("%s has no Plan", x.Name)
			continue
		}
		var simNs [2]int64
		var runs [2]int
		for i, quick := range []bool{true, false} {
			ins, err := x.Plan(canon.NewEnv(context.Background(), quick, 1))
			if err != nil {
				t.Fatalf("%s %s: %v", x.Name, canon.Mode(quick), err)
			}
			es, err := canon.InputEntries(ins)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range es {
				runs[i] += e.Runs
				simNs[i] += int64(e.Runs) * e.SimNs
			}
		}
		if runs[0] == 0 || runs[1] < runs[0] || simNs[1] < simNs[0] {
			t.Errorf("%s: quick %d runs, %d ns; full %d runs, %d ns", x.Name, runs[0], simNs[0], runs[1], simNs[1])
		}
		t.Logf("%-16s quick %5d runs %8.0f s simulated; full %6d runs %9.0f s simulated", x.Name, runs[0], float64(simNs[0])/1e9, runs[1], float64(simNs[1])/1e9)
	}
}

// TestCommittedManifest: notebooks-out/MANIFEST.json lists every file
// under notebooks-out with its hash and size, none missing and none
// extra; it has an entry for every experiment, in a mode, whose inputs
// are what the experiment plans for that mode; the validation names the
// command that wrote it.
func TestCommittedManifest(t *testing.T) {
	problems, err := canon.CheckManifest(notebooks)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("notebooks-out/%s (rebuild the manifest: go run ./cmd/sbmpsim experiment manifest)", p)
	}
	m, err := canon.ReadManifest(notebooks)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Experiments) != len(All()) {
		t.Errorf("the manifest has %d experiments, the catalog %d", len(m.Experiments), len(All()))
	}
	for _, x := range All() {
		e := m.Experiments[x.Name]
		if e == nil {
			t.Errorf("%s: not in the manifest", x.Name)
			continue
		}
		if e.Mode != canon.ModeQuick && e.Mode != canon.ModeFull {
			t.Errorf("%s: mode %q", x.Name, e.Mode)
			continue
		}
		quick := e.Mode == canon.ModeQuick
		ins, err := x.Plan(canon.NewEnv(context.Background(), quick, 1))
		if err != nil {
			t.Fatal(err)
		}
		want, err := canon.InputEntries(ins)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(e.Inputs, want) || e.Command != canon.ExperimentCommand(x.Name, quick) {
			t.Errorf("%s: the manifest's inputs or command are not what the %s experiment plans", x.Name, e.Mode)
		}
	}
	if m.Validation == nil || !strings.HasPrefix(m.Validation.Command, "sbmpsim validate real") {
		t.Errorf("validation: %+v", m.Validation)
	}
	if m.Report == nil {
		t.Error("index.html is not in the manifest")
	}
}

// TestManifestCatchesHandEdits: in a copy of notebooks-out, a committed
// file edited by hand, removed, or a file added fails the check, which
// names it.
func TestManifestCatchesHandEdits(t *testing.T) {
	for _, c := range []struct {
		name, file string
		change     func(path string) error
		want       string
	}{
		{"one byte of a figure", "oom-crisis/oom-crisis-seed1-timeline.svg", func(p string) error {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b[len(b)/2] ^= 1
			return os.WriteFile(p, b, 0o644)
		}, "sha256 "},
		{"a CSV cell", "oom-probability/oom-probability-cells.csv", func(p string) error {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(p, append(b, ",\n"...), 0o644)
		}, "sha256 "},
		{"the report", "index.html", func(p string) error { return os.WriteFile(p, []byte("<html></html>\n"), 0o644) }, "sha256 "},
		{"the validation", "validation/cases.csv", os.Remove, "in the manifest, not on disk"},
		{"an added file", "transfer/notes.md", func(p string) error { return os.WriteFile(p, []byte("x"), 0o644) }, "on disk, not in the manifest"},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "notebooks-out")
			if err := os.CopyFS(root, os.DirFS(notebooks)); err != nil {
				t.Fatal(err)
			}
			if problems, err := canon.CheckManifest(root); err != nil || len(problems) > 0 {
				t.Fatalf("the copy does not pass before the change: %v %q", err, problems)
			}
			if err := c.change(filepath.Join(root, c.file)); err != nil {
				t.Fatal(err)
			}
			problems, err := canon.CheckManifest(root)
			if err != nil {
				t.Fatal(err)
			}
			if len(problems) != 1 || !strings.HasPrefix(problems[0], c.file+": "+c.want) {
				t.Errorf("problems %q, want one for %s", problems, c.file)
			}
		})
	}
}
