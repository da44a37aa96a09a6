// Package figure holds the plot helpers the figures of runs and of the
// canonical experiments share:
// a colour cycle, line and bar plots with intervals, a heatmap grid, a
// vertical marker and tick labels, all on gonum/plot. Out.Figure (package
// canon) renders what they build.
package figure

import (
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Color returns colour i of the tab10 cycle.
func Color(i int) color.RGBA {
	// The tab10 colour cycle; a literal here rather than a package
	// variable, so that nobody can change it under another figure.
	palette := [...]color.RGBA{
		{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255},
		{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255},
		{188, 189, 34, 255}, {23, 190, 207, 255},
	}
	return palette[i%len(palette)]
}

// Series is one line of a line plot.
type Series struct {
	Name string
	X, Y []float64
	// Lo and Hi, when set, draw a band (a confidence interval) around Y.
	Lo, Hi []float64
	Dashed bool
}

// New returns an empty plot with a grid and the legend at the top.
func New(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	return p
}

// Lines draws series as lines (with bands where given).
func Lines(title, xlabel, ylabel string, series []Series) (*plot.Plot, error) {
	p := New(title, xlabel, ylabel)
	for i, s := range series {
		c := Color(i)
		if s.Lo != nil {
			poly, err := bandOf(s)
			if err != nil {
				return nil, err
			}
			poly.Color = color.NRGBA{c.R, c.G, c.B, 50} // not premultiplied
			poly.LineStyle.Width = 0
			p.Add(poly)
		}
		pts := make(plotter.XYs, len(s.X))
		for j := range s.X {
			pts[j] = plotter.XY{X: s.X[j], Y: s.Y[j]}
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		l.Color = c
		l.Width = vg.Points(1.5)
		if s.Dashed {
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		p.Add(l)
		if s.Name != "" {
			p.Legend.Add(s.Name, l)
		}
	}
	return p, nil
}

// BarsCI draws one bar per label with an error bar for its interval.
func BarsCI(title, ylabel string, labels []string, v, lo, hi []float64) (*plot.Plot, error) {
	p := New(title, "", ylabel)
	vals := make(plotter.Values, len(v))
	copy(vals, v)
	bars, err := plotter.NewBarChart(vals, vg.Points(22))
	if err != nil {
		return nil, err
	}
	bars.Color = Color(0)
	bars.LineStyle.Width = 0
	p.Add(bars)
	errs := make(plotter.XYs, len(v))
	yerr := make(plotter.YErrors, len(v))
	for i := range v {
		errs[i] = plotter.XY{X: float64(i), Y: v[i]}
		yerr[i].Low, yerr[i].High = v[i]-lo[i], hi[i]-v[i]
	}
	eb, err := plotter.NewYErrorBars(struct {
		plotter.XYer
		plotter.YErrorer
	}{errs, yerr})
	if err != nil {
		return nil, err
	}
	eb.LineStyle.Width = vg.Points(1.2)
	p.Add(eb)
	p.NominalX(labels...)
	p.X.Tick.Label.Rotation = math.Pi / 6
	p.X.Tick.Label.XAlign = draw.XRight
	p.Legend.Top = true
	return p, nil
}

// Grid is a heatmap's grid (a plotter.GridXYZ): columns are x, rows
// are y, and Cells[x][y] the value of a cell.
type Grid struct {
	Xs, Ys []float64
	Cells  [][]float64
}

// Dims returns the number of columns and rows.
func (g Grid) Dims() (c, r int) { return len(g.Xs), len(g.Ys) }

// Z returns the value of column c, row r.
func (g Grid) Z(c, r int) float64 { return g.Cells[c][r] }

// X returns column c's x.
func (g Grid) X(c int) float64 { return g.Xs[c] }

// Y returns row r's y.
func (g Grid) Y(r int) float64 { return g.Ys[r] }

// VLine is a dashed vertical marker at x spanning the plot's y range as
// it will be drawn.
func VLine(x float64) plot.Plotter {
	return vlineMarker{x: x}
}

type vlineMarker struct{ x float64 }

// Plot draws the marker across the data area, where p puts x.
func (v vlineMarker) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	xc := trX(v.x)
	c.StrokeLine2(draw.LineStyle{Color: color.Black, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}, xc, c.Min.Y, xc, c.Max.Y)
}

// PlainTicks are plot's default ticks labelled without trailing zeros
// ("25000", not "25000.00").
type PlainTicks struct{}

// Ticks returns plot.DefaultTicks with plain labels.
func (PlainTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'f', -1, 64)
		}
	}
	return ts
}

// bandOf is the polygon of s's interval band: up along Hi, back along Lo.
func bandOf(s Series) (*plotter.Polygon, error) {
	band := make(plotter.XYs, 0, 2*len(s.X))
	for j := range s.X {
		band = append(band, plotter.XY{X: s.X[j], Y: s.Hi[j]})
	}
	for j := len(s.X) - 1; j >= 0; j-- {
		band = append(band, plotter.XY{X: s.X[j], Y: s.Lo[j]})
	}
	return plotter.NewPolygon(band)
}
