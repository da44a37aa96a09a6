package catalog

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sbmpsim/sbmpsim/experiments/canon"
	"github.com/sbmpsim/sbmpsim/internal/buildinfo"
	"github.com/sbmpsim/sbmpsim/internal/slowtest"
)

// notebooks is the committed report: each experiment's output, full or
// quick as MANIFEST.json says.
const notebooks = "../../../notebooks-out"

// buildLine matches index.html's line naming the build (canon.BuildLine).
var buildLine = regexp.MustCompile(`(?m)^<p class="build">Written by sbmpsim .*</p>\n`)

// TestQuickOutputsRegenerate reruns every experiment in quick mode. For
// an experiment committed quick it compares each file with the committed
// notebooks-out, byte for byte; for one committed full it compares the
// quick files' hashes with those the full run's build recorded in
// MANIFEST.json (canon.QuickDiff). Then the report built from the
// sections with the committed index.html, and the manifest with the
// committed MANIFEST.json (but for the build that wrote it); each
// experiment must run what its Plan lists. A change to the models shows
// up here: regenerate with `go run ./cmd/sbmpsim experiment run NAME`
// (with --quick for a quick one) and commit the diff.
func TestQuickOutputsRegenerate(t *testing.T) {
	slowtest.Require(t, "reruns every experiment in quick mode, about ten minutes")
	root := t.TempDir()
	env := canon.NewEnv(context.Background(), true, 2)
	committed, err := canon.ReadManifest(notebooks)
	if err != nil {
		t.Fatal(err)
	}
	// The manifest this run would write: each experiment's entry, the
	// committed validation's, and the report's.
	manifest := &canon.Manifest{Experiments: map[string]*canon.ExperimentEntry{}}
	for _, e := range All() {
		start := time.Now()
		o, err := canon.RunExperiment(env, e)
		if err != nil {
			t.Fatalf("%s: %v", e.Name, err)
		}
		if c := committed.Experiments[e.Name]; c != nil && c.Mode == canon.ModeFull {
			// A committed full run: its quick version must write what
			// the build that ran the full run recorded, and the report
			// takes the committed (full) section.
			t.Logf("%s: %.1f s (committed full run; quick version against its recorded hashes)", e.Name, time.Since(start).Seconds())
			if d := canon.QuickDiff(c, o); d != "" {
				t.Errorf("%s: the quick version no longer writes what the committed full run's build recorded, so the full run is stale: rerun 'go run ./cmd/sbmpsim experiment run %s' (full) and commit it:\n%s", e.Name, e.Name, d)
			}
			if err := copySection(root, e.Name); err != nil {
				t.Fatal(err)
			}
			manifest.Experiments[e.Name] = c
			continue
		}
		if err := o.Write(root); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %.1f s", e.Name, time.Since(start).Seconds())
		planned, err := e.Plan(env)
		if err != nil {
			t.Fatal(err)
		}
		if d, err := canon.InputsDiff(planned, o.Inputs()); err != nil || d != "" {
			t.Errorf("%s did not run what its Plan lists: %v\n%s", e.Name, err, d)
		}
		if manifest.Experiments[e.Name], err = canon.NewExperimentEntry(o, env.Quick); err != nil {
			t.Fatal(err)
		}
		for name, data := range o.Files() {
			want, err := os.ReadFile(filepath.Join(notebooks, e.Name, name))
			if err != nil {
				t.Errorf("%s/%s: not committed: %v", e.Name, name, err)
				continue
			}
			if !bytes.Equal(data, want) {
				t.Errorf("%s/%s differs from the committed file", e.Name, name)
			}
		}
		committed, err := os.ReadDir(filepath.Join(notebooks, e.Name))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range committed {
			if _, ok := o.Files()[c.Name()]; !ok {
				t.Errorf("%s/%s is committed but no longer written", e.Name, c.Name())
			}
		}
	}
	// The validation's section is a record of real runs, not rerun
	// here: the report takes the committed one.
	if err := copySection(root, canon.ValidationSection().Name); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	if _, err := canon.Report(root, ReportSections()); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(root, "index.html"))
	want, err := os.ReadFile(filepath.Join(notebooks, "index.html"))
	// Every byte but the line naming the build that wrote the page.
	if err != nil || !bytes.Equal(buildLine.ReplaceAll(got, nil), buildLine.ReplaceAll(want, nil)) {
		t.Errorf("index.html differs from the committed one (%v)", err)
	}
	if !buildLine.Match(want) {
		t.Error("the committed index.html does not say which build wrote it")
	}
	checkManifest(t, root, manifest)
}

// copySection copies the committed section.html of the directory name
// into root/name.
func copySection(root, name string) error {
	sec, err := os.ReadFile(filepath.Join(notebooks, name, "section.html"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(root, name), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(root, name, "section.html"), sec, 0o644)
}

// checkManifest compares the manifest of the regenerated outputs under
// root (the experiments' entries in m) with the committed one, but for
// the build that wrote them.
func checkManifest(t *testing.T, root string, m *canon.Manifest) {
	t.Helper()
	committed, err := canon.ReadManifest(notebooks)
	if err != nil {
		t.Fatal(err)
	}
	m.Validation = committed.Validation // experiment run keeps it as it is
	if err := canon.WriteManifest(root, m); err != nil {
		t.Fatal(err)
	}
	got, err := canon.ReadManifest(root)
	if err != nil {
		t.Fatal(err)
	}
	for name, e := range got.Experiments {
		if !reflect.DeepEqual(e, committed.Experiments[name]) {
			t.Errorf("MANIFEST.json: %s's entry differs from the committed one", name)
		}
	}
	if !reflect.DeepEqual(got.WithoutBuild(), committed.WithoutBuild()) {
		t.Error("MANIFEST.json differs from the committed one (not counting the build that wrote it)")
	}
}

// TestReportLoadsInChromium opens the committed index.html in headless
// Chromium and checks that every image decoded (the page's load handler
// writes the count into the body). .ci/run installs Chromium; without it
// the test is skipped.
func TestReportLoadsInChromium(t *testing.T) {
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("no chromium on PATH (.ci/run installs it)")
	}
	page, err := filepath.Abs(filepath.Join(notebooks, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	imgs := strings.Count(string(src), "<img ")
	if imgs == 0 {
		t.Fatal("index.html has no images")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir="+t.TempDir(),
		"--virtual-time-budget=20000", "--dump-dom", "file://"+page)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	m := regexp.MustCompile(`data-images="(\d+)/(\d+)"`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("the page's load handler did not run; dumped %d bytes", len(out))
	}
	if string(m[1]) != string(m[2]) || string(m[2]) != strconv.Itoa(imgs) {
		t.Fatalf("images decoded %s of %s; index.html has %d", m[1], m[2], imgs)
	}
	t.Logf("chromium decoded all %s images of index.html", m[1])
}

// TestBuildLineMasked: the regeneration check masks exactly the line
// canon.BuildLine writes.
func TestBuildLineMasked(t *testing.T) {
	for _, v := range []buildinfo.Version{buildinfo.Current(), {Module: "m", Version: "v1.0.0", Revision: "0123456789abcdef", Modified: true, Go: "go1.26.8"}} {
		if l := canon.BuildLine(v); !buildLine.MatchString(l) {
			t.Errorf("%q is not masked", l)
		}
	}
}
