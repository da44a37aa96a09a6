// Package kernelbypass is the kernel-bypass canonical experiment: memory
// taken around SBMP (mlock, a GFP_ATOMIC kmalloc leak) over a grid of
// sizes and rates, against fallback_to_tier2 and the OOM kill (SPEC 1.6).
package kernelbypass

import (
	"fmt"
	"image/color"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/canon"
	"github.com/sbmpsim/sbmpsim/experiments/sweep"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/internal/figure"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Experiment returns the kernel-bypass experiment, for the catalog.
func Experiment() canon.Experiment {
	return canon.Experiment{
		Name:  "kernel-bypass",
		Title: "7. Memory taken around SBMP: mlock and GFP_ATOMIC leaks against fallback_to_tier2",
		Spec:  "SPEC 1.5, 1.6",
		Run:   run,
		Plan:  plan,
	}
}

// noLeakMBPerS stands for "no leak": a kmalloc-leak workload must grow
// at a positive rate, and 1 KiB/s leaks 30 to 60 KiB in a run, nothing
// next to the 4 GiB machine (the scenario's own comment uses it so).
const noLeakMBPerS = 0.001

// gridSpec is the experiment's grid: mlock sizes (the pinned task's rss_mb)
// by kmalloc leak rates (the driver's grow_mb_per_s), the simulated
// duration and the seeds of every cell.
type gridSpec struct {
	mlockMB    []int
	leakMBPerS []float64
	durationMs int64
	seeds      []uint64
}

// gridFor is the grid env asks for.
func gridFor(e *canon.Env) gridSpec {
	if e.Quick {
		// Quick: the scenario's own 30 s and the sizes around a node's
		// 2 GiB, where the data show the onset; 12 runs.
		return gridSpec{mlockMB: []int{1792, 2048, 2304}, leakMBPerS: []float64{noLeakMBPerS, 40, 80, 160},
			durationMs: 30000, seeds: e.Seeds(1, 1)}
	}
	return gridSpec{mlockMB: []int{1024, 1536, 1792, 2048, 2304, 2560}, leakMBPerS: []float64{noLeakMBPerS, 20, 40, 80, 160},
		durationMs: 60000, seeds: e.Seeds(1, 3)}
}

// runStats is what one run of a cell reports.
type runStats struct {
	fallbacks     float64 // fallback_to_tier2 at the end
	perS          float64 // fallbacks over the simulated seconds
	peakPerS      float64 // the largest 500 ms fallback_to_tier2 rate (the SPEC 1.5 alert's value)
	alertS        float64 // first 500 ms sample with fallback_to_tier2 > 5/s, NaN: never
	allocFailures float64 // SBMP allocations that failed outright
	kmallocFails  float64 // GFP_ATOMIC kmalloc calls that returned NULL
	oomKills      float64
	firstOOMS     float64 // NaN: none
	victims       string  // "comm@t s" of every OOM kill, in order
}

// cell is one grid point over the seeds.
type cell struct {
	mlockMB    int
	leakMBPerS float64
	runs       []runStats
}

func (c cell) mean(get func(runStats) float64) float64 {
	s := 0.0
	for _, r := range c.runs {
		s += get(r)
	}
	return s / float64(len(c.runs))
}

// meanFinite averages the non-NaN values of f; NaN if there are none.
func (c cell) meanFinite(get func(runStats) float64) (float64, int) {
	s, n := 0.0, 0
	for _, r := range c.runs {
		if v := get(r); !math.IsNaN(v) {
			s += v
			n++
		}
	}
	if n == 0 {
		return math.NaN(), 0
	}
	return s / float64(n), n
}

func run(env *canon.Env, out *canon.Out) error {
	g := gridFor(env)
	cells, err := runGrid(env, g)
	if err != nil {
		return err
	}
	out.P("The `kernel-bypass` scenario (SPEC 1.6): a 2 x 2 GiB machine, swappiness 0, no swap; an SBMP app (a churning workload on socket 0 and leaky 1 KiB sessions on socket 1), a task pinning `rss_mb` with `mlock()` on node 0, a page-cache reader, and from 2 s a driver leaking 256-byte `kmalloc(GFP_ATOMIC)` objects at `grow_mb_per_s`. Neither pinned nor slab pages can be reclaimed; once the page cache is gone Tier-1 cannot get 2 MiB blocks and small allocations fall back to Tier-2 (`fallback_to_tier2`). The grid: mlock %s MiB by leak %s MiB/s (%s MiB/s stands for no leak), %d s simulated, seeds 1-%d per cell.",
		joinInts(g.mlockMB), joinFloats(g.leakMBPerS), canon.Fixed(noLeakMBPerS, 3), g.durationMs/1000, len(g.seeds))
	gridTable(out, cells, len(g.seeds))
	if err := figures(out, g, cells); err != nil {
		return err
	}
	base, err := canon.Load("kernel-bypass")
	if err != nil {
		return err
	}
	findings(out, g, cells, base.Machine.NodeMemoryMB)
	pinned, err := canon.WorkloadIndex(base, "pinned")
	if err != nil {
		return err
	}
	leak, err := canon.WorkloadIndex(base, "driver-leak")
	if err != nil {
		return err
	}
	out.Cmd(fmt.Sprintf("sbmpsim experiment run kernel-bypass%s   # one cell, one seed: sbmpsim run kernel-bypass --set run.duration_ms=%d --set workload.%d.rss_mb=%d --set workload.%d.grow_mb_per_s=%s",
		env.QuickFlag(), g.durationMs, pinned, g.mlockMB[len(g.mlockMB)/2], leak, canon.Fixed(g.leakMBPerS[len(g.leakMBPerS)/2], 0)))
	return nil
}

// runGrid runs every cell on every seed through the sweep engine, all on
// the workers at once, and returns the cells in grid order: mlock sizes
// slowest, leak rates fastest.
func runGrid(e *canon.Env, g gridSpec) ([]cell, error) {
	p, err := gridPlan(g)
	if err != nil {
		return nil, err
	}
	runs, err := e.RunSweep(p)
	if err != nil {
		return nil, err
	}
	var cells []cell
	for _, m := range g.mlockMB {
		for _, l := range g.leakMBPerS {
			c := cell{mlockMB: m, leakMBPerS: l}
			for _, r := range runs[len(cells)*p.Seeds : (len(cells)+1)*p.Seeds] {
				c.runs = append(c.runs, statsOf(r))
			}
			cells = append(cells, c)
		}
	}
	return cells, nil
}

// plan lists run's inputs: the grid's sweep.
func plan(env *canon.Env) ([]canon.Input, error) {
	p, err := gridPlan(gridFor(env))
	if err != nil {
		return nil, err
	}
	return canon.SweepInputs(p), nil
}

// gridPlan is g as a sweep of the kernel-bypass scenario.
func gridPlan(g gridSpec) (*sweep.Plan, error) {
	base, err := canon.Load("kernel-bypass")
	if err != nil {
		return nil, err
	}
	pinned, err := canon.WorkloadIndex(base, "pinned")
	if err != nil {
		return nil, err
	}
	leak, err := canon.WorkloadIndex(base, "driver-leak")
	if err != nil {
		return nil, err
	}
	mlock := sweep.Axis{Keys: []string{fmt.Sprintf("workload.%d.rss_mb", pinned)}}
	for _, m := range g.mlockMB {
		mlock.Values = append(mlock.Values, []string{strconv.Itoa(m)})
	}
	rate := sweep.Axis{Keys: []string{fmt.Sprintf("workload.%d.grow_mb_per_s", leak)}}
	for _, l := range g.leakMBPerS {
		rate.Values = append(rate.Values, []string{strconv.FormatFloat(l, 'g', -1, 64)})
	}
	return sweep.NewGridPlan(sweep.Grid{Name: "kernel-bypass-grid", Scenario: "embedded:kernel-bypass",
		SeedFirst: g.seeds[0], Seeds: len(g.seeds), Set: []string{"run.duration_ms=" + strconv.FormatInt(g.durationMs, 10)},
		Axes: []sweep.Axis{mlock, rate}})
}

func statsOf(s world.Summary) runStats {
	r := runStats{alertS: math.NaN(), firstOOMS: canon.FirstOOMSeconds(s), allocFailures: float64(s.AllocFailures), oomKills: float64(s.OOMKills)}
	if s.SBMP != nil {
		r.fallbacks = float64(s.SBMP.Tier2Fallbacks)
		for _, a := range s.SBMP.Alerts {
			if a.Metric == "fallback_to_tier2_per_s" {
				r.peakPerS = a.Max
				if a.FirstDangerNs >= 0 {
					r.alertS = float64(a.FirstDangerNs) / 1e9
				}
			}
		}
	}
	r.perS = r.fallbacks / (float64(s.SimTimeNs) / 1e9)
	for _, k := range s.KernelWorkloads {
		if k.Kind == "kmalloc-leak" {
			r.kmallocFails += float64(k.Failures)
		}
	}
	var v []string
	for _, e := range s.OOMEvents {
		v = append(v, fmt.Sprintf("%s@%.1fs", e.VictimComm, float64(e.TimeNs)/1e9))
	}
	r.victims = strings.Join(v, " ")
	return r
}

// gridTable writes the grid as a table: means over the seeds, and seed 1's
// OOM victims.
func gridTable(out *canon.Out, cells []cell, nSeeds int) {
	var rows [][]string
	for _, c := range cells {
		alert, na := c.meanFinite(func(r runStats) float64 { return r.alertS })
		oom, no := c.meanFinite(func(r runStats) float64 { return r.firstOOMS })
		rows = append(rows, []string{
			strconv.Itoa(c.mlockMB), leakLabel(c.leakMBPerS),
			canon.Fixed(c.mean(func(r runStats) float64 { return r.fallbacks }), 0),
			canon.Fixed(c.mean(func(r runStats) float64 { return r.perS }), 1),
			canon.Fixed(c.mean(func(r runStats) float64 { return r.peakPerS }), 0),
			when(alert, na, nSeeds),
			canon.Fixed(c.mean(func(r runStats) float64 { return r.allocFailures }), 0),
			canon.Fixed(c.mean(func(r runStats) float64 { return r.kmallocFails }), 0),
			canon.Fixed(c.mean(func(r runStats) float64 { return r.oomKills }), 1),
			when(oom, no, nSeeds),
			c.runs[0].victims,
		})
	}
	caption := "Per cell, means over the seeds; times are means over the seeds where the event happened (k/n: in k of n seeds)"
	if nSeeds == 1 {
		caption = "Per cell, seed 1"
	}
	out.Table("kernel-bypass-grid", caption,
		[]string{"mlock MiB", "kmalloc leak MiB/s", "fallback_to_tier2", "per s (run mean)", "peak per s (500 ms)", "first fallback alert (s)",
			"alloc failures", "kmalloc failures", "OOM kills", "first OOM kill (s)", "OOM victims (seed 1)"}, rows)
}

func leakLabel(l float64) string {
	if l == noLeakMBPerS {
		return "none (" + canon.Fixed(l, 3) + ")"
	}
	return canon.Fixed(l, 0)
}

// when formats a mean time and in how many seeds it happened.
func when(t float64, k, n int) string {
	if k == 0 {
		return "never"
	}
	if n == 1 {
		return canon.Fixed(t, 1)
	}
	return fmt.Sprintf("%s (%d/%d)", canon.Fixed(t, 1), k, n)
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}

func joinFloats(xs []float64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = canon.Fixed(x, 3)
		s[i] = strings.TrimRight(strings.TrimRight(s[i], "0"), ".")
	}
	return strings.Join(s, ", ")
}

// figures draws fallback_to_tier2 and the times of the first alert and
// the first OOM kill against the leak rate, one line per mlock size, and
// the grid as a heatmap; kernel-bypass-runs.csv has every run's numbers.
func figures(out *canon.Out, g gridSpec, cells []cell) error {
	var csvRows [][]string
	for _, c := range cells {
		for i, r := range c.runs {
			csvRows = append(csvRows, []string{strconv.Itoa(c.mlockMB), canon.Fixed(c.leakMBPerS, 3), strconv.Itoa(int(g.seeds[i])), canon.Fixed(r.fallbacks, 0), canon.Fixed(r.perS, 3), canon.Fixed(r.peakPerS, 1),
				canon.Fixed(r.alertS, 3), canon.Fixed(r.allocFailures, 0), canon.Fixed(r.kmallocFails, 0), canon.Fixed(r.oomKills, 0), canon.Fixed(r.firstOOMS, 3), r.victims})
		}
	}
	out.CSV("kernel-bypass-runs", []string{"mlock_mib", "leak_mib_per_s", "seed", "fallback_to_tier2", "fallback_per_s", "fallback_peak_per_s_500ms",
		"first_fallback_alert_s", "alloc_failures", "kmalloc_failures", "oom_kills", "first_oom_s", "oom_victims"}, csvRows)

	count := figure.New("fallback_to_tier2 by the end of the run", "kmalloc GFP_ATOMIC leak (MiB/s)", "small allocations served by Tier-2")
	times := figure.New("first fallback_to_tier2 alert (solid) and first OOM kill (dashed)", "kmalloc GFP_ATOMIC leak (MiB/s)", "simulated time (s)")
	for mi, m := range g.mlockMB {
		row := cells[mi*len(g.leakMBPerS) : (mi+1)*len(g.leakMBPerS)]
		x := make([]float64, len(row))
		fb, lo, hi, alert, oom := make([]float64, len(row)), make([]float64, len(row)), make([]float64, len(row)), make([]float64, len(row)), make([]float64, len(row))
		for i, c := range row {
			x[i] = c.leakMBPerS
			fb[i] = c.mean(func(r runStats) float64 { return r.fallbacks })
			lo[i], hi[i] = math.Inf(1), math.Inf(-1)
			for _, r := range c.runs {
				lo[i], hi[i] = min(lo[i], r.fallbacks), max(hi[i], r.fallbacks)
			}
			alert[i], _ = c.meanFinite(func(r runStats) float64 { return r.alertS })
			oom[i], _ = c.meanFinite(func(r runStats) float64 { return r.firstOOMS })
		}
		name := strconv.Itoa(m) + " MiB mlocked"
		if len(g.seeds) > 1 {
			band(count, x, lo, hi, figure.Color(mi))
		}
		if err := line(count, name, x, fb, figure.Color(mi), false); err != nil {
			return err
		}
		if err := line(times, name, x, alert, figure.Color(mi), false); err != nil {
			return err
		}
		if err := line(times, "", x, oom, figure.Color(mi), true); err != nil {
			return err
		}
	}
	var xt []plot.Tick
	for _, l := range g.leakMBPerS {
		xt = append(xt, plot.Tick{Value: l, Label: canon.Fixed(l, 0)})
	}
	for _, p := range []*plot.Plot{count, times} {
		p.X.Tick.Marker = plot.ConstantTicks(xt)
		p.X.Min, p.X.Max = 0, g.leakMBPerS[len(g.leakMBPerS)-1]*1.02
		p.Y.Tick.Marker = figure.PlainTicks{}
		p.Legend.Left = true
	}
	// Room above the lines for the legend.
	count.Y.Min, count.Y.Max = 0, count.Y.Max*1.3+1
	times.Y.Min, times.Y.Max = 0, float64(g.durationMs)/1000*1.3
	caption := fmt.Sprintf("fallback_to_tier2 against the GFP_ATOMIC leak rate, one line per mlock size (%d s simulated", g.durationMs/1000)
	if len(g.seeds) > 1 {
		caption += fmt.Sprintf("; lines are means over seeds 1-%d, bands their range", len(g.seeds))
	}
	caption += "); below, when the SPEC 1.5 fallback alert first fired (> 5/s in a 500 ms sample) and when the first OOM kill came; a missing point is an event that did not happen. Numbers: `kernel-bypass-runs.csv`."
	if err := out.Figure("kernel-bypass-fallback", caption, 8*vg.Inch, 7*vg.Inch, [][]*plot.Plot{{count}, {times}}); err != nil {
		return err
	}
	heat, err := heatmap(g, cells)
	if err != nil {
		return err
	}
	return out.Figure("kernel-bypass-grid", "The grid at a glance: colour is log10(1 + fallback_to_tier2), each cell gives the count and, when there was one, the time of the first OOM kill (seed 1's victim). Numbers: `kernel-bypass-grid.csv`.",
		8*vg.Inch, 4.5*vg.Inch, [][]*plot.Plot{{heat}})
}

// line adds a line with point markers, broken where y is NaN (an event
// that did not happen).
func line(p *plot.Plot, name string, x, y []float64, c color.RGBA, dashed bool) error {
	var seg plotter.XYs
	var legend *plotter.Line
	flush := func() error {
		if len(seg) == 0 {
			return nil
		}
		l, s, err := plotter.NewLinePoints(seg)
		if err != nil {
			return err
		}
		l.Color, l.Width = c, vg.Points(1.5)
		if dashed {
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			s.Shape = draw.BoxGlyph{}
		} else {
			s.Shape = draw.CircleGlyph{}
		}
		s.Color, s.Radius = c, vg.Points(3)
		p.Add(l, s)
		if legend == nil {
			legend = l
		}
		seg = nil
		return nil
	}
	for i := range x {
		if math.IsNaN(y[i]) {
			if err := flush(); err != nil {
				return err
			}
			continue
		}
		seg = append(seg, plotter.XY{X: x[i], Y: y[i]})
	}
	if err := flush(); err != nil {
		return err
	}
	if name != "" {
		l := &plotter.Line{LineStyle: draw.LineStyle{Color: c, Width: vg.Points(1.5)}}
		p.Legend.Add(name, l)
	}
	return nil
}

// band shades [lo, hi] around a line.
func band(p *plot.Plot, x, lo, hi []float64, c color.RGBA) {
	pts := make(plotter.XYs, 0, 2*len(x))
	for i := range x {
		pts = append(pts, plotter.XY{X: x[i], Y: hi[i]})
	}
	for i := len(x) - 1; i >= 0; i-- {
		pts = append(pts, plotter.XY{X: x[i], Y: lo[i]})
	}
	if poly, err := plotter.NewPolygon(pts); err == nil {
		poly.Color = color.NRGBA{c.R, c.G, c.B, 50} // not premultiplied
		poly.LineStyle.Width = 0
		p.Add(poly)
	}
}

// heatmap draws the grid: leak rate across, mlock size up, colour the
// log of the fallback count, with the count and the first OOM kill
// written in each cell.
func heatmap(g gridSpec, cells []cell) (*plot.Plot, error) {
	nx, ny := len(g.leakMBPerS), len(g.mlockMB)
	grid := figure.Grid{Xs: make([]float64, nx), Ys: make([]float64, ny), Cells: make([][]float64, nx)}
	var labels plotter.XYLabels
	for xi := range nx {
		grid.Xs[xi] = float64(xi)
		grid.Cells[xi] = make([]float64, ny)
	}
	for yi := range ny {
		grid.Ys[yi] = float64(yi)
	}
	for i, c := range cells {
		yi, xi := i/nx, i%nx
		fb := c.mean(func(r runStats) float64 { return r.fallbacks })
		grid.Cells[xi][yi] = math.Log10(1 + fb)
		text := canon.Fixed(fb, 0) + " fallbacks"
		if r := c.runs[0]; !math.IsNaN(r.firstOOMS) {
			victim, _, _ := strings.Cut(r.victims, "@")
			text += fmt.Sprintf("\nOOM %s s (%s)", canon.Fixed(r.firstOOMS, 1), victim)
		} else {
			text += "\nno OOM kill"
		}
		labels.XYs = append(labels.XYs, plotter.XY{X: float64(xi), Y: float64(yi)})
		labels.Labels = append(labels.Labels, text)
	}
	p := figure.New("fallback_to_tier2 over the grid (seed 1 for the OOM kill)", "kmalloc GFP_ATOMIC leak (MiB/s)", "mlock (MiB)")
	p.Legend.Top = false
	hm := plotter.NewHeatMap(grid, palette{n: 64})
	hm.Min = 0
	hm.Max = max(hm.Max, 1)
	p.Add(hm)
	lab, err := plotter.NewLabels(labels)
	if err != nil {
		return nil, err
	}
	for i := range lab.TextStyle {
		lab.TextStyle[i].XAlign, lab.TextStyle[i].YAlign = draw.XCenter, draw.YCenter
		lab.TextStyle[i].Font.Size = vg.Points(9)
	}
	p.Add(lab)
	var xt, yt []plot.Tick
	for xi, l := range g.leakMBPerS {
		xt = append(xt, plot.Tick{Value: float64(xi), Label: leakLabel(l)})
	}
	for yi, m := range g.mlockMB {
		yt = append(yt, plot.Tick{Value: float64(yi), Label: strconv.Itoa(m)})
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.ConstantTicks(xt), plot.ConstantTicks(yt)
	p.X.Min, p.X.Max = -0.5, float64(nx)-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(ny)-0.5
	return p, nil
}

// palette is a light sequential palette under black text.
type palette struct{ n int }

func (w palette) Colors() []color.Color {
	cs := make([]color.Color, w.n)
	for i := range cs {
		t := float64(i) / float64(w.n-1)
		cs[i] = color.RGBA{255, uint8(255 - t*(255-150)), uint8(255 - t*(255-80)), 255}
	}
	return cs
}

// findings says, from the grid, where Tier-2 fallback starts for each
// mlock size and whether the OOM kill follows it.
func findings(out *canon.Out, g gridSpec, cells []cell, nodeMB int64) {
	var onsets []string
	minFallbackMlock := -1
	var after, before, noOOM, oomNoFallback, noLeakFallback int
	for mi, m := range g.mlockMB {
		row := cells[mi*len(g.leakMBPerS) : (mi+1)*len(g.leakMBPerS)]
		onset := -1
		for i, c := range row {
			fb := c.mean(func(r runStats) float64 { return r.fallbacks })
			if c.leakMBPerS == noLeakMBPerS && fb > 0 {
				noLeakFallback++
			}
			if fb > 0 && onset < 0 {
				onset = i
			}
			if fb > 0 && minFallbackMlock < 0 {
				minFallbackMlock = m
			}
			for _, r := range c.runs {
				switch {
				case r.fallbacks == 0 && !math.IsNaN(r.firstOOMS):
					oomNoFallback++
				case math.IsNaN(r.alertS):
				case math.IsNaN(r.firstOOMS):
					noOOM++
				case r.firstOOMS > r.alertS:
					after++
				default:
					before++
				}
			}
		}
		if onset < 0 {
			onsets = append(onsets, fmt.Sprintf("with %d MiB mlocked no leak rate in the grid (up to %s MiB/s) gave a fallback", m, canon.Fixed(g.leakMBPerS[len(g.leakMBPerS)-1], 0)))
			continue
		}
		c := row[onset]
		s := fmt.Sprintf("with %d MiB mlocked fallback first appears %s", m, atRate(c.leakMBPerS))
		if onset > 0 {
			s += ", none " + atRate(row[onset-1].leakMBPerS)
		}
		s += fmt.Sprintf(" (%s fallbacks", canon.Fixed(c.mean(func(r runStats) float64 { return r.fallbacks }), 0))
		if a, n := c.meanFinite(func(r runStats) float64 { return r.alertS }); n > 0 {
			s += fmt.Sprintf(", alert at %s s", canon.Fixed(a, 1))
		}
		if r := c.runs[0]; r.victims != "" {
			s += ", seed 1's OOM kills " + r.victims
		} else {
			s += fmt.Sprintf(", no OOM kill in seed 1's %d s", g.durationMs/1000)
		}
		onsets = append(onsets, s+")")
	}
	out.P("Where Tier-2 fallback starts: %s.", strings.Join(onsets, "; "))
	if minFallbackMlock >= 0 {
		rel := "at or above"
		if int64(minFallbackMlock) < nodeMB {
			rel = "below"
		}
		out.P("The smallest mlock size in the grid with any fallback is %d MiB, %s one node's %d MiB; the pinned task takes its pages from node 0 (the node of its CPU 0) first.", minFallbackMlock, rel, nodeMB)
	}
	if noLeakFallback == 0 {
		out.P("Without the kmalloc leak no mlock size in the grid caused a single fallback: pinned memory alone leaves the page cache to reclaim, and Tier-1 keeps getting its 2 MiB blocks; the leak's unreclaimable slab pages are what exhaust them.")
	} else {
		out.P("Without the kmalloc leak %d mlock sizes in the grid already caused fallbacks.", noLeakFallback)
	}
	runs := len(cells) * len(g.seeds)
	out.P("Does the OOM follow? Of %d runs, %d raised the fallback alert and then had an OOM kill later in the run, %d had the OOM kill before the first fallback alert, %d raised the alert with no OOM kill within %d s, and %d had an OOM kill without any fallback at all. %s",
		runs, after, before, noOOM, g.durationMs/1000, oomNoFallback, firstVictims(cells))
}

// firstVictims says who the OOM killer chose first, over every run.
func firstVictims(cells []cell) string {
	first := map[string]int{}
	killed, again := 0, 0
	for _, c := range cells {
		for _, r := range c.runs {
			if r.victims != "" {
				v, _, _ := strings.Cut(r.victims, "@")
				first[v]++
				killed++
			}
			if r.oomKills > 1 {
				again++
			}
		}
	}
	if killed == 0 {
		return "No run had an OOM kill."
	}
	var parts []string
	for _, v := range slices.Sorted(maps.Keys(first)) {
		parts = append(parts, fmt.Sprintf("`%s` in %d", v, first[v]))
	}
	return fmt.Sprintf("The first victim, of the %d runs with an OOM kill: %s. The kmalloc leak's slab pages belong to no task, so no kill stops the leak: in %d runs it filled the memory a kill freed and the OOM killer struck again.", killed, strings.Join(parts, ", "), again)
}

// atRate is "at 40 MiB/s", or "without the leak".
func atRate(l float64) string {
	if l == noLeakMBPerS {
		return "without the leak"
	}
	return "at " + canon.Fixed(l, 0) + " MiB/s"
}
