package validate

import (
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/sbmpsim/sbmpsim/experiments/stats"
	"github.com/sbmpsim/sbmpsim/internal/figure"
)

// This file draws a case's memory timelines: the scope's anonymous and
// page-cache memory over time, the real runs' median with their min-max
// band beside the simulations', and every run's first OOM kill marked
// at the memory it found. Everything is drawn in a fixed order from the
// runs, so the same runs give the same bytes.

// gridStepNs is the timelines' time step: the sampling interval of both
// sides.
const gridStepNs = sampleIntervalMs * 1_000_000

// band is one side's timeline of one column: the median over the runs at
// each grid time, and the min and max.
type band struct {
	med, lo, hi []float64
}

// bandOf resamples column col (pages) of runs on grid (ns) as MiB: at
// each time, each run's last sample at or before it.
func bandOf(runs []Observed, col string, grid []int64) band {
	var b band
	vals := make([]float64, len(runs))
	for _, t := range grid {
		for i := range runs {
			vals[i] = runs[i].series.at(col, t) / 256
		}
		slices.Sort(vals)
		med, err := stats.P50(vals)
		if err != nil {
			panic("validate: " + err.Error()) // at least one run, finite pages
		}
		b.med = append(b.med, med)
		b.lo = append(b.lo, vals[0])
		b.hi = append(b.hi, vals[len(vals)-1])
	}
	return b
}

// timeGrid is every gridStepNs from 0 to the longest run's end.
func timeGrid(sides ...[]Observed) []int64 {
	var end int64
	for _, runs := range sides {
		for _, o := range runs {
			end = max(end, o.EndNs)
		}
	}
	var grid []int64
	for t := int64(0); t <= end; t += gridStepNs {
		grid = append(grid, t)
	}
	return grid
}

// timelines is a case's figure: a panel for anon and one for file, and
// the numbers behind it as CSV rows.
func timelines(cr *CaseResult) (grid [][]*plot.Plot, header []string, rows [][]string, err error) {
	tgrid := timeGrid(cr.real, cr.sim)
	secs := make([]float64, len(tgrid))
	for i, t := range tgrid {
		secs[i] = float64(t) / 1e9
	}
	header = []string{"time_s"}
	cols := [][]float64{secs}
	var panels []*plot.Plot
	for _, p := range panelsOf(cr) {
		var series []figure.Series
		for _, side := range []struct {
			name string
			runs []Observed
		}{{"real", cr.real}, {"simulated", cr.sim}} {
			if len(side.runs) == 0 {
				series = append(series, figure.Series{}) // keeps the colours of the sides fixed
				continue
			}
			b := bandOf(side.runs, p.col, tgrid)
			series = append(series, figure.Series{Name: side.name + " (median, min-max of " + strconv.Itoa(len(side.runs)) + ")", X: secs, Y: b.med, Lo: b.lo, Hi: b.hi, Dashed: side.name == "simulated"})
			header = append(header, side.name+"_"+p.col+"_mib_median", side.name+"_"+p.col+"_mib_min", side.name+"_"+p.col+"_mib_max")
			cols = append(cols, b.med, b.lo, b.hi)
		}
		pl, err := timelinePanel(cr.Name+": "+p.title, series, cr, p.col)
		if err != nil {
			return nil, nil, nil, err
		}
		panels = append(panels, pl)
	}
	for i := range tgrid {
		row := make([]string, len(cols))
		for j, c := range cols {
			row[j] = strconv.FormatFloat(c[i], 'f', 3, 64)
		}
		rows = append(rows, row)
	}
	for _, p := range panels {
		grid = append(grid, []*plot.Plot{p})
	}
	return grid, header, rows, nil
}

// panelsOf are the columns a case's figure shows: anon and file, and
// swap when a run used any.
func panelsOf(cr *CaseResult) []struct{ col, title string } {
	out := []struct{ col, title string }{{"anon_pages", "anonymous memory"}, {"file_pages", "page cache"}}
	for _, runs := range [][]Observed{cr.real, cr.sim} {
		for _, o := range runs {
			if slices.Max(append([]float64{0}, o.series.cols["swap_used_pages"]...)) > 0 {
				return append(out, struct{ col, title string }{"swap_used_pages", "swap in use"})
			}
		}
	}
	return out
}

// timelinePanel draws one panel: the sides' bands (an empty series draws
// nothing but keeps its colour), then the kills.
func timelinePanel(title string, series []figure.Series, cr *CaseResult, col string) (*plot.Plot, error) {
	var drawn []figure.Series
	for _, s := range series {
		if s.X == nil {
			// A one-point line without a name draws nothing.
			s = figure.Series{X: []float64{0}, Y: []float64{0}}
		}
		drawn = append(drawn, s)
	}
	p, err := figure.Lines(title, "time (s)", "MiB", drawn)
	if err != nil {
		return nil, err
	}
	for i, side := range []struct {
		name  string
		runs  []Observed
		glyph draw.GlyphDrawer
	}{{"real OOM kills", cr.real, draw.TriangleGlyph{}}, {"simulated OOM kills", cr.sim, draw.CircleGlyph{}}} {
		var pts plotter.XYs
		for _, o := range side.runs {
			if len(o.Kills) == 0 {
				continue
			}
			k := o.Kills[0]
			var y float64
			switch col {
			case "anon_pages":
				y = float64(k.ScopeAnonPages) / 256
			case "file_pages":
				y = float64(k.ScopeFilePages) / 256
			default: // no figure at the kill: the last sample before it
				y = o.series.at(col, k.TimeNs) / 256
			}
			pts = append(pts, plotter.XY{X: float64(k.TimeNs) / 1e9, Y: y})
		}
		if len(pts) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: figure.Color(i), Radius: vg.Points(4), Shape: side.glyph}
		p.Add(sc)
		p.Legend.Add(side.name, sc)
	}
	p.Y.Min = 0
	p.Y.Max = max(p.Y.Max, 1)
	p.Legend.Left = true
	p.X.Tick.Marker = figure.PlainTicks{}
	return p, nil
}
