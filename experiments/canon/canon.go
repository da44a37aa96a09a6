// Package canon holds sbmpsim's canonical experiments (issue 6): each one
// is a scenario plus variants, run over seeds, written to
// notebooks-out/NAME/ as figures (PNG and SVG), CSV files of every plotted
// number, a README.md and an HTML fragment; Report assembles the
// fragments into one self-contained notebooks-out/index.html.
//
// Everything an experiment writes is a pure function of its inputs (the
// embedded scenarios, the seeds, quick or not): no wall times, no dates,
// so the committed --quick outputs regenerate byte for byte.
package canon

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/output"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/sim"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Experiment is one canonical experiment.
type Experiment struct {
	// Name is its directory under notebooks-out and its CLI name.
	Name string
	// Title is the heading of its section.
	Title string
	// Spec names the parts of SBMP-SPEC.md it stages.
	Spec string
	// Run runs it and writes its figures, tables and text into out.
	Run func(env *Env, out *Out) error
}

// Env is what an experiment runs with. Make it with NewEnv.
type Env struct {
	Ctx context.Context
	// Quick asks for the small version: fewer seeds, shorter runs; the
	// committed outputs are the quick ones.
	Quick bool
	// Workers is the number of simulations run at once.
	Workers int
	// sweeps shares sweep runs between the experiments run with this Env;
	// nil (an Env not made by NewEnv) runs every sweep afresh.
	sweeps *sweepRuns
}

// NewEnv returns the Env of one invocation: experiments run with it share
// the runs of the sweeps they have in common (see RunSweep).
func NewEnv(ctx context.Context, quick bool, workers int) *Env {
	return &Env{Ctx: ctx, Quick: quick, Workers: workers, sweeps: &sweepRuns{runs: map[string][]world.Summary{}}}
}

// Seeds returns the seeds to run: quick or full count, from 1.
func (e *Env) Seeds(quick, full int) []uint64 {
	n := full
	if e.Quick {
		n = quick
	}
	s := make([]uint64, n)
	for i := range s {
		s[i] = uint64(i + 1)
	}
	return s
}

// QuickFlag is " --quick" for quick runs, for the commands a report
// prints.
func (e *Env) QuickFlag() string {
	if e.Quick {
		return " --quick"
	}
	return ""
}

// Load returns an embedded scenario with overrides applied and
// validated.
func Load(name string, sets ...string) (*scenario.Scenario, error) {
	sc, err := scenario.Load(name)
	if err != nil {
		return nil, err
	}
	for _, s := range sets {
		if err := sc.Set(s); err != nil {
			return nil, err
		}
	}
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	return sc, nil
}

// RunSeeds runs sc once per seed and returns the summaries in seed order.
func (e *Env) RunSeeds(sc *scenario.Scenario, seeds []uint64) ([]world.Summary, error) {
	return world.RunSeeds(e.Ctx, sc, seeds, e.Workers)
}

// RunAll runs each scenario once (its own seed) on the workers and
// returns the results in order.
func (e *Env) RunAll(scs []*scenario.Scenario) ([]*world.Result, error) {
	return sim.Replicate(e.Ctx, len(scs), e.Workers, func(i int) (*world.Result, error) {
		return world.Run(e.Ctx, scs[i], world.Options{})
	})
}

// All lists the canonical experiments in the order of the issue.
func All() []Experiment {
	return []Experiment{
		oomCrisis(),
		tierBalance(),
		oomProbability(),
		mergeRefill(),
		earlyWarning(),
		hotSwap(),
		kernelBypass(),
		goGovernance(),
	}
}

// Lookup finds an experiment by name.
func Lookup(name string) (Experiment, bool) {
	for _, e := range All() {
		if e.Name == name {
			return e, true
		}
	}
	return Experiment{}, false
}

// Names lists the experiments' names.
func Names() []string {
	var n []string
	for _, e := range All() {
		n = append(n, e.Name)
	}
	return n
}

// Out collects what one experiment writes.
type Out struct {
	exp   Experiment
	md    strings.Builder
	html  strings.Builder
	files map[string][]byte
}

// NewOut starts the output of e.
func NewOut(e Experiment) *Out {
	o := &Out{exp: e, files: map[string][]byte{}}
	fmt.Fprintf(&o.md, "# %s\n\n*%s* — `%s`\n\n", e.Title, e.Spec, e.Name)
	fmt.Fprintf(&o.html, "<section id=%q>\n<h2>%s</h2>\n<p class=\"spec\">%s — <code>%s</code></p>\n",
		e.Name, html.EscapeString(e.Title), html.EscapeString(e.Spec), html.EscapeString(e.Name))
	return o
}

// P adds a paragraph. Backquoted spans become code.
func (o *Out) P(format string, args ...any) {
	text := fmt.Sprintf(format, args...)
	fmt.Fprintf(&o.md, "%s\n\n", text)
	fmt.Fprintf(&o.html, "<p>%s</p>\n", codeSpans(text))
}

// Cmd records the exact command that regenerates the experiment.
func (o *Out) Cmd(cmd string) {
	fmt.Fprintf(&o.md, "Regenerate:\n\n```sh\n%s\n```\n\n", cmd)
	fmt.Fprintf(&o.html, "<p class=\"cmd\">Regenerate: <code>%s</code></p>\n", html.EscapeString(cmd))
}

// codeSpans escapes text for HTML and turns `x` into <code>x</code>.
func codeSpans(text string) string {
	parts := strings.Split(text, "`")
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 1 && i < len(parts)-1 {
			b.WriteString("<code>" + html.EscapeString(p) + "</code>")
		} else {
			if i%2 == 1 {
				b.WriteString("`")
			}
			b.WriteString(html.EscapeString(p))
		}
	}
	return b.String()
}

// Table adds a table, written as NAME.csv too.
func (o *Out) Table(name, caption string, header []string, rows [][]string) {
	var csv bytes.Buffer
	writeCSVRow(&csv, header)
	for _, r := range rows {
		writeCSVRow(&csv, r)
	}
	o.files[name+".csv"] = csv.Bytes()
	fmt.Fprintf(&o.md, "%s (`%s.csv`):\n\n| %s |\n|%s\n", caption, name, strings.Join(header, " | "), strings.Repeat("---|", len(header)))
	for _, r := range rows {
		fmt.Fprintf(&o.md, "| %s |\n", strings.Join(r, " | "))
	}
	o.md.WriteString("\n")
	fmt.Fprintf(&o.html, "<table>\n<caption>%s (<code>%s.csv</code>)</caption>\n<tr>", html.EscapeString(caption), html.EscapeString(name))
	for _, h := range header {
		fmt.Fprintf(&o.html, "<th>%s</th>", html.EscapeString(h))
	}
	o.html.WriteString("</tr>\n")
	for _, r := range rows {
		o.html.WriteString("<tr>")
		for _, c := range r {
			fmt.Fprintf(&o.html, "<td>%s</td>", html.EscapeString(c))
		}
		o.html.WriteString("</tr>\n")
	}
	o.html.WriteString("</table>\n")
}

// CSV stores the numbers behind a figure as NAME.csv.
func (o *Out) CSV(name string, header []string, rows [][]string) {
	var csv bytes.Buffer
	writeCSVRow(&csv, header)
	for _, r := range rows {
		writeCSVRow(&csv, r)
	}
	o.files[name+".csv"] = csv.Bytes()
}

func writeCSVRow(b *bytes.Buffer, cells []string) {
	for i, c := range cells {
		if i > 0 {
			b.WriteByte(',')
		}
		if strings.ContainsAny(c, ",\"\n") {
			c = `"` + strings.ReplaceAll(c, `"`, `""`) + `"`
		}
		b.WriteString(c)
	}
	b.WriteByte('\n')
}

// Figure renders plots (a grid, rows of columns) as NAME.png and
// NAME.svg and adds them with a caption. The numbers behind it go in a
// CSV via CSV.
func (o *Out) Figure(name, caption string, width, height vg.Length, grid [][]*plot.Plot) error {
	render := func(format string) ([]byte, error) {
		c, err := draw.NewFormattedCanvas(width, height, format)
		if err != nil {
			return nil, err
		}
		dc := draw.New(c)
		tiles := draw.Tiles{Rows: len(grid), Cols: len(grid[0]), PadX: vg.Points(10), PadY: vg.Points(10),
			PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(10)}
		cs := plot.Align(grid, tiles, dc)
		for i, row := range grid {
			for j, p := range row {
				if p != nil {
					p.Draw(cs[i][j])
				}
			}
		}
		var b bytes.Buffer
		if _, err := c.WriteTo(&b); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	png, err := render("png")
	if err != nil {
		return fmt.Errorf("figure %s: %w", name, err)
	}
	svg, err := render("svg")
	if err != nil {
		return fmt.Errorf("figure %s: %w", name, err)
	}
	o.files[name+".png"] = png
	o.files[name+".svg"] = svg
	fmt.Fprintf(&o.md, "![%s](%s.png)\n\n*%s* ([SVG](%s.svg))\n\n", name, name, caption, name)
	fmt.Fprintf(&o.html, "<figure><img alt=%q src=\"data:image/png;base64,%s\"><figcaption>%s <a href=\"%s/%s.svg\">SVG</a></figcaption></figure>\n",
		name, base64.StdEncoding.EncodeToString(png), codeSpans(caption), o.exp.Name, name)
	return nil
}

// Files returns everything the experiment writes, by file name, including
// README.md and section.html.
func (o *Out) Files() map[string][]byte {
	files := make(map[string][]byte, len(o.files)+2)
	for k, v := range o.files {
		files[k] = v
	}
	files["README.md"] = []byte(o.md.String())
	files["section.html"] = []byte(o.html.String() + "</section>\n")
	return files
}

// Write writes the experiment's files into root/NAME, replacing what an
// earlier run left there. Every file goes through a temporary name.
func (o *Out) Write(root string) error {
	dir := filepath.Join(root, o.exp.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := o.Files()
	old, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range old {
		if _, keep := files[e.Name()]; !keep && !e.IsDir() {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := output.WriteFileAtomic(filepath.Join(dir, n), files[n]); err != nil {
			return err
		}
	}
	return nil
}

// Report assembles root/index.html from the section.html of every
// experiment found under root, in the order of All: one self-contained
// page (figures inline). It reports which experiments had no outputs.
func Report(root string) (missing []string, err error) {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>sbmpsim: canonical experiments</title>
<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45;color:#222}
section{border-top:1px solid #ccc;margin-top:2rem}
figure{margin:1rem 0}img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.9rem;color:#444}
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}
td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:right}
caption{text-align:left;font-size:.9rem;color:#444}
code{background:#f4f4f4;padding:0 .2rem}
.spec{color:#666}.cmd{font-size:.9rem}
</style></head><body>
<h1>sbmpsim: canonical experiments</h1>
<p>Each section is one experiment of issue 6: the figures, the numbers behind them (CSV beside each in its directory) and the command that regenerates it. Every number comes from the simulator; the same command and seeds give the same bytes.</p>
<ul>
`)
	var sections []string
	for _, e := range All() {
		sec, err := os.ReadFile(filepath.Join(root, e.Name, "section.html"))
		if err != nil {
			if os.IsNotExist(err) {
				missing = append(missing, e.Name)
				continue
			}
			return nil, err
		}
		fmt.Fprintf(&b, "<li><a href=\"#%s\">%s</a> (%s)</li>\n", e.Name, html.EscapeString(e.Title), html.EscapeString(e.Spec))
		sections = append(sections, string(sec))
	}
	b.WriteString("</ul>\n")
	b.WriteString(strings.Join(sections, "\n"))
	// For headless checks: once loaded, the body says how many of its
	// images decoded (TestReportLoadsInChromium reads it).
	b.WriteString(`<script>
window.addEventListener("load", function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) { if (imgs[i].complete && imgs[i].naturalWidth > 0) { ok++; } }
  document.body.setAttribute("data-images", ok + "/" + imgs.length);
});
</script>
`)
	b.WriteString("</body></html>\n")
	if len(sections) == 0 {
		return missing, fmt.Errorf("report: no experiment outputs under %s; run `sbmpsim experiment run all` first", root)
	}
	return missing, output.WriteFileAtomic(filepath.Join(root, "index.html"), []byte(b.String()))
}

// sortedKeys returns m's keys sorted.
func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	slices.Sort(k)
	return k
}
