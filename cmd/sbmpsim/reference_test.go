package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/ab"
	"github.com/sbmpsim/sbmpsim/experiments/canon"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenarios"
	"github.com/sbmpsim/sbmpsim/experiments/output"
	"github.com/sbmpsim/sbmpsim/experiments/sweep"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/internal/fieldref"
	"github.com/sbmpsim/sbmpsim/model/kernel"
)

// The reference of the output files, docs/reference.md, is generated:
// TestReferenceIsCurrent regenerates it in memory and compares. After
// changing an output type, a time-series column or a metric family,
// rewrite it with
//
//	go test ./cmd/sbmpsim -run TestReference -update-reference
var updateReference = flag.Bool("update-reference", false, "rewrite docs/reference.md")

// referencePath is docs/reference.md from this package's directory.
var referencePath = filepath.Join("..", "..", "docs", "reference.md")

// jsonFiles are the JSON files the reference documents, with the type
// each is encoded from and the commands that write it. A type added
// here (timing.json's, say) is documented from its doc comments.
var jsonFiles = []struct {
	name, writtenBy string
	t               reflect.Type
}{
	{"summary.json", "`sbmpsim run --out DIR` (one per run; `--json` prints it); `sbmpsim sweep` keeps one per run as `runs/ID.json`", reflect.TypeFor[world.Summary]()},
	{"replications.json", "`sbmpsim run --seeds N --out DIR` with N > 1", reflect.TypeFor[Replications]()},
	{"ab.json", "`sbmpsim ab --out DIR`", reflect.TypeFor[ab.Report]()},
	{"sweep.json", "`sbmpsim sweep --out DIR` and `sbmpsim merge --out DIR`", reflect.TypeFor[sweep.Report]()},
	{"timing.json", "`sbmpsim run --out DIR` (also with `--seeds`): the one output file with wall-clock figures", reflect.TypeFor[output.Timing]()},
	{"MANIFEST.json", "`sbmpsim experiment run` (each experiment's entry), `sbmpsim validate real` (the validation's), `sbmpsim report` (index.html's), `sbmpsim experiment manifest` (all of it, from the files) in the notebooks directory; `sbmpsim experiment manifest --check` compares it with the files", reflect.TypeFor[canon.Manifest]()},
	{"notebooks timing.json", "`sbmpsim experiment run` in the notebooks directory, beside MANIFEST.json: each experiment's last wall time per mode, which the next run's estimate rests on; wall-clock figures, not in the manifest", reflect.TypeFor[notebookTiming]()},
	{"bench e2e JSON", "`sbmpsim bench e2e` on standard output (`sbmpsim bench all` prints it under `e2e`): wall-clock figures", reflect.TypeFor[E2EBench]()},
}

// TestReferenceIsCurrent: docs/reference.md is what the types, their
// doc comments, the time-series column list and the metrics of real
// runs make of it, and every field is documented.
func TestReferenceIsCurrent(t *testing.T) {
	outs := referenceRuns(t)
	got, undocumented := buildReference(t, outs)
	for _, f := range undocumented {
		t.Errorf("%s has no doc comment: document it, then regenerate docs/reference.md", f)
	}
	if *updateReference {
		if err := os.MkdirAll(filepath.Dir(referencePath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(referencePath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(referencePath)
	if err != nil {
		t.Fatalf("%v (generate it: go test ./cmd/sbmpsim -run TestReference -update-reference)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("docs/reference.md is stale (%s); regenerate it: go test ./cmd/sbmpsim -run TestReference -update-reference", firstDiff(want, got))
	}
}

// firstDiff names the first line where a and b differ.
func firstDiff(a, b []byte) string {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d: committed %q, generated %q", i+1, la[i], lb[i])
		}
	}
	return fmt.Sprintf("committed %d lines, generated %d", len(la), len(lb))
}

// runOutput is what the reference reads from one real run.
type runOutput struct {
	name     string
	columns  []string
	families map[string][]fieldref.Family // by file: metrics.prom, metrics.om
}

// referenceRuns runs every embedded scenario briefly (anon-fill whole:
// it has an OOM kill within 0.4 s of wall time), and the default one
// with a column per CPU, and reads their time-series header and metric
// families.
func referenceRuns(t *testing.T) []runOutput {
	t.Helper()
	type run struct {
		name string
		args []string
	}
	var runs []run
	for _, name := range scenarios.Names() {
		args := []string{"run", name}
		if name != "anon-fill" {
			args = append(args, "--set", "run.duration_ms=300")
		}
		runs = append(runs, run{name, args})
	}
	runs = append(runs, run{scenarios.Default + " per_cpu", []string{"run", scenarios.Default, "--set", "run.duration_ms=300", "--set", "output.per_cpu=true"}})
	var outs []runOutput
	for _, r := range runs {
		dir := t.TempDir()
		code, _, stderr := sbmpsim(t, append(r.args, "--out", dir)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", strings.Join(r.args, " "), code, stderr)
		}
		csv, err := os.ReadFile(filepath.Join(dir, "timeseries.csv"))
		if err != nil {
			t.Fatal(err)
		}
		header, _, _ := strings.Cut(string(csv), "\n")
		o := runOutput{name: r.name, columns: strings.Split(header, ","), families: map[string][]fieldref.Family{}}
		for _, file := range []string{"metrics.prom", "metrics.om"} {
			text, err := os.ReadFile(filepath.Join(dir, file))
			if errors.Is(err, fs.ErrNotExist) {
				continue
			} else if err != nil {
				t.Fatal(err)
			}
			if o.families[file], err = fieldref.ParseExposition(text); err != nil {
				t.Fatalf("%s %s: %v", r.name, file, err)
			}
		}
		outs = append(outs, o)
	}
	return outs
}

// buildReference renders docs/reference.md and lists the undocumented
// fields.
func buildReference(t *testing.T, outs []runOutput) ([]byte, []string) {
	t.Helper()
	g, err := fieldref.New(".")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteString(referenceIntro)
	for _, f := range jsonFiles {
		fmt.Fprintf(&b, "- [`%s`](#%s): written by %s\n", f.name, fieldref.Anchor(f.t), f.writtenBy)
	}
	b.WriteString("- [`timeseries.csv`](#timeseries-csv): written by `sbmpsim run --out DIR`\n")
	b.WriteString("- [Metric families](#metric-families): `metrics.prom` and `metrics.om`, written by `sbmpsim run --out DIR`\n")
	b.WriteString("- [/proc/vmstat counters](#vmstat-counters): the keys of `summary.json` `vmstat` and the `{vmstat}` columns of `timeseries.csv`\n\n")
	b.WriteString(referenceConventions)
	for _, f := range jsonFiles {
		sec, err := g.JSON(f.name, f.t)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(sec)
	}
	b.WriteString(timeseriesSection(t, outs))
	b.WriteString(metricsSection(outs))
	b.WriteString(vmstatSection(t, g))
	return b.Bytes(), g.Undocumented()
}

const referenceIntro = `# Output reference

The fields of the files sbmpsim writes, generated from the Go types that
write them and from their doc comments (package ` + "`internal/fieldref`" + `), from
the time-series column list of ` + "`experiments/world`" + `, and from the metrics
of real runs of every embedded scenario. Do not edit it by hand: after a
change to an output, regenerate it with

` + "```sh\ngo test ./cmd/sbmpsim -run TestReference -update-reference\n```" + `

and a test fails while it is stale or while a field has no doc comment.

`

const referenceConventions = `## Conventions

- Names carry their unit last: ` + "`_ns`" + ` nanoseconds, ` + "`_us`" + ` microseconds, ` + "`_ms`" + `
  milliseconds, ` + "`_bytes`" + `, ` + "`_pages`" + ` (4 KiB pages), ` + "`_kib`" + `. Times are
  simulated time from the start of the run unless a field says otherwise.
- A type such as ` + "`integer (int64)`" + ` gives the JSON type and the Go type that
  writes it (its range). *optional*: the key is left out when its value is
  zero, empty or null.
- "SPEC n.m" cites a section of SBMP's design specification, which this
  repository does not ship: 1.x the allocator, its tiers, debugfs
  statistics (1.4) and alert thresholds (1.5); 2.x the degrade machinery
  (FSM, SyncBuffer, hot swap, fallback page cache); 3.x the pre-OOM
  signals, probes (3.2) and the degrade SLI (3.3); 4.x the metrics (4.1),
  span probe (4.2), GC figures (4.3) and SLO dashboard (4.4); 5.x memory
  governance of a Go service under a container limit.
- Paths such as ` + "`kernel.cgroups[].memory_stat`" + ` locate a type in its file:
  ` + "`[]`" + ` is any element of an array, ` + "`.*`" + ` any value of an object.

`

// timeseriesSection documents timeseries.csv's columns, after checking
// that every column the runs wrote has a documented pattern and that
// every pattern is in some run.
func timeseriesSection(t *testing.T, outs []runOutput) string {
	t.Helper()
	cols := world.TimeseriesColumns()
	seen := make([]bool, len(cols))
	for _, o := range outs {
		for _, name := range o.columns {
			i := slices.IndexFunc(cols, func(c world.Column) bool { return c.Match(name) })
			if i < 0 {
				t.Errorf("%s: timeseries.csv column %q matches no documented pattern (add it to world's column lists)", o.name, name)
				continue
			}
			seen[i] = true
		}
	}
	var rows [][]string
	for i, c := range cols {
		if !seen[i] {
			t.Errorf("timeseries.csv column pattern %q is in no run of an embedded scenario: remove it, or run a scenario that has it here", c.Pattern)
		}
		rows = append(rows, []string{"`" + c.Pattern + "`", c.Unit, c.When, c.Doc})
	}
	return "## `timeseries.csv`\n\n<a id=\"timeseries-csv\"></a>\n" +
		"One row per sample, one column per series, comma-separated with a header line. " +
		"Values are numbers (integers print without a fraction); counters are cumulative from the start of the run. " +
		"Columns are in this order; which ones a run has depends on its scenario.\n\n" +
		fieldref.Table([]string{"Column", "Unit", "In runs", "Description"}, rows) + "\n"
}

// metricsSection documents the metric families the runs exposed, the
// union over runs and files.
func metricsSection(outs []runOutput) string {
	type fam struct {
		fieldref.Family
		files []string
	}
	var fams []*fam
	byName := map[string]*fam{}
	for _, o := range outs {
		for _, file := range []string{"metrics.prom", "metrics.om"} {
			for _, f := range o.families[file] {
				m, ok := byName[f.Name]
				if !ok {
					m = &fam{Family: fieldref.Family{Name: f.Name, Type: f.Type, Unit: f.Unit, Help: f.Help}}
					byName[f.Name] = m
					fams = append(fams, m)
				}
				if m.Unit == "" {
					m.Unit = f.Unit
				}
				for _, l := range f.Labels {
					if !slices.Contains(m.Labels, l) {
						m.Labels = append(m.Labels, l)
					}
				}
				if !slices.Contains(m.files, file) {
					m.files = append(m.files, file)
				}
			}
		}
	}
	slices.SortFunc(fams, func(a, b *fam) int { return strings.Compare(a.Name, b.Name) })
	var rows [][]string
	for _, f := range fams {
		slices.Sort(f.Labels)
		slices.Sort(f.files)
		rows = append(rows, []string{"`" + f.Name + "`", f.Type, f.Unit, strings.Join(f.Labels, ", "), f.Help, strings.Join(f.files, ", ")})
	}
	return "## Metric families\n\n<a id=\"metric-families\"></a>\n" +
		"The families of the runs' metrics files, as prometheus/common's decoder reads them " +
		"(a counter by the name of its samples, with `_total`); labels are the union over the embedded scenarios.\n\n" +
		fieldref.Table([]string{"Family", "Type", "Unit", "Labels", "Help", "In"}, rows) + "\n"
}

// vmstatSection lists the /proc/vmstat counters the kernel model keeps,
// with the doc comments of model/kernel's VMEvent constants.
func vmstatSection(t *testing.T, g *fieldref.Generator) string {
	t.Helper()
	consts, err := g.Consts("github.com/sbmpsim/sbmpsim/model/kernel", "VMEvent")
	if err != nil {
		t.Fatal(err)
	}
	if len(consts) < int(kernel.NrVMEvents) {
		t.Fatalf("model/kernel declares %d VMEvent constants, fewer than NrVMEvents = %d", len(consts), kernel.NrVMEvents)
	}
	names := map[string]string{}
	for i := range kernel.NrVMEvents {
		names[consts[i].Name] = i.String()
	}
	// Counters documented together (one comment over a run of
	// constants) share a row.
	var rows [][]string
	for i := range kernel.NrVMEvents {
		name := "`" + i.String() + "`"
		if i > 0 && consts[i].Doc == consts[i-1].Doc {
			rows[len(rows)-1][0] += ", " + name
			continue
		}
		rows = append(rows, []string{name, fieldref.RenameIdents(consts[i].Doc, names)})
	}
	return "## /proc/vmstat counters\n\n<a id=\"vmstat-counters\"></a>\n" +
		"The counters of /proc/vmstat the kernel model keeps, by their Linux names, in /proc/vmstat's order: " +
		"the keys of `summary.json`'s `vmstat` and the `{vmstat}` columns of `timeseries.csv`. " +
		"Each description names the Linux code that counts it.\n\n" +
		fieldref.Table([]string{"Counter", "Description"}, rows) + "\n"
}
