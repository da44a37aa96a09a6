package canon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/internal/figure"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// TestOutAndReport: an experiment's files, README and HTML section, the
// escaping of text and code spans, and the report that stitches sections
// together in the order given (an experiment without outputs is listed
// as missing).
func TestOutAndReport(t *testing.T) {
	exps := []Experiment{{Name: "first", Title: "First", Spec: "SPEC 1"}, {Name: "second", Title: "Second", Spec: "SPEC 2"}}
	e := exps[0]
	o := NewOut(e)
	o.P("a <b> & `c<d>` done")
	o.Table("t", "cap", []string{"x", "y,z"}, [][]string{{"1", "a\"b"}})
	p, err := figure.Lines("title", "x", "y", []figure.Series{{Name: "s", X: []float64{0, 1}, Y: []float64{1, 2}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Figure("fig", "caption `x`", 3*vg.Inch, 2*vg.Inch, [][]*plot.Plot{{p}}); err != nil {
		t.Fatal(err)
	}
	o.Cmd("sbmpsim experiment run x")
	files := o.Files()
	for _, n := range []string{"README.md", "section.html", "t.csv", "fig.png", "fig.svg"} {
		if len(files[n]) == 0 {
			t.Fatalf("no %s", n)
		}
	}
	sec := string(files["section.html"])
	if !strings.Contains(sec, "a &lt;b&gt; &amp; <code>c&lt;d&gt;</code> done") || !strings.Contains(sec, "data:image/png;base64,") {
		t.Fatalf("section.html:\n%s", sec[:min(len(sec), 600)])
	}
	if got := string(files["t.csv"]); got != "x,\"y,z\"\n1,\"a\"\"b\"\n" {
		t.Fatalf("csv %q", got)
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, e.Name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, e.Name, "stale.png"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := o.Write(root); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, e.Name, "stale.png")); !os.IsNotExist(err) {
		t.Fatal("a file of an earlier run was left behind")
	}
	missing, err := Report(root, exps)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) != 1 || missing[0] != "second" {
		t.Fatalf("missing %v", missing)
	}
	idx, err := os.ReadFile(filepath.Join(root, "index.html"))
	if err != nil || !strings.Contains(string(idx), sec) || !strings.HasPrefix(string(idx), "<!DOCTYPE html>") {
		t.Fatalf("index.html does not hold the section: %v", err)
	}
	if _, err := Report(t.TempDir(), exps); err == nil {
		t.Fatal("a report with no outputs succeeded")
	}
}
