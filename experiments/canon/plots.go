package canon

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// palette is the tab10 colour cycle.
var palette = []color.RGBA{
	{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255},
	{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255},
	{188, 189, 34, 255}, {23, 190, 207, 255},
}

func colorAt(i int) color.RGBA { return palette[i%len(palette)] }

// Series is one line of a line plot.
type Series struct {
	Name string
	X, Y []float64
	// Lo and Hi, when set, draw a band (a confidence interval) around Y.
	Lo, Hi []float64
	Dashed bool
}

func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	return p
}

// linePlot draws series as lines (with bands where given).
func linePlot(title, xlabel, ylabel string, series []Series) (*plot.Plot, error) {
	p := newPlot(title, xlabel, ylabel)
	for i, s := range series {
		c := colorAt(i)
		if s.Lo != nil {
			band := make(plotter.XYs, 0, 2*len(s.X))
			for j := range s.X {
				band = append(band, plotter.XY{X: s.X[j], Y: s.Hi[j]})
			}
			for j := len(s.X) - 1; j >= 0; j-- {
				band = append(band, plotter.XY{X: s.X[j], Y: s.Lo[j]})
			}
			poly, err := plotter.NewPolygon(band)
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

// barsCI draws one bar per label with an error bar for its interval.
func barsCI(title, ylabel string, labels []string, v, lo, hi []float64) (*plot.Plot, error) {
	p := newPlot(title, "", ylabel)
	vals := make(plotter.Values, len(v))
	copy(vals, v)
	bars, err := plotter.NewBarChart(vals, vg.Points(22))
	if err != nil {
		return nil, err
	}
	bars.Color = colorAt(0)
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

// gridXYZ is a heatmap's grid: columns are x (time), rows are y (CPU).
type gridXYZ struct {
	xs, ys []float64
	z      [][]float64 // [x][y]
}

func (g gridXYZ) Dims() (c, r int)   { return len(g.xs), len(g.ys) }
func (g gridXYZ) Z(c, r int) float64 { return g.z[c][r] }
func (g gridXYZ) X(c int) float64    { return g.xs[c] }
func (g gridXYZ) Y(r int) float64    { return g.ys[r] }

// vline is a dashed vertical marker at x spanning the plot's y range as
// it will be drawn.
func vline(x float64) plot.Plotter {
	return vlineMarker{x: x}
}

type vlineMarker struct{ x float64 }

func (v vlineMarker) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	xc := trX(v.x)
	c.StrokeLine2(draw.LineStyle{Color: color.Black, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}, xc, c.Min.Y, xc, c.Max.Y)
}
