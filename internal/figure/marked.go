package figure

import (
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// dashes returns dash pattern i of a cycle that tells apart lines lying
// on top of each other.
func dashes(i int) []vg.Length {
	cycle := [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(2), vg.Points(2)}, {vg.Points(8), vg.Points(2), vg.Points(2), vg.Points(2)}, {vg.Points(3), vg.Points(5)}}
	return cycle[i%len(cycle)]
}

// MarkedLines is Lines with a marker shape and a dash pattern per
// series, so that series with equal values stay visible.
func MarkedLines(title, xlabel, ylabel string, series []Series) (*plot.Plot, error) {
	p, err := Lines(title, xlabel, ylabel, nil)
	if err != nil {
		return nil, err
	}
	glyphs := []draw.GlyphDrawer{draw.CircleGlyph{}, draw.TriangleGlyph{}, draw.SquareGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{}, draw.RingGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}}
	for i, s := range series {
		c := Color(i)
		if s.Lo != nil {
			poly, err := bandOf(s)
			if err != nil {
				return nil, err
			}
			// NRGBA: the alpha applies to the colour as given (an RGBA
			// colour is premultiplied, and 255 over an alpha of 28 is
			// not a colour).
			poly.Color = color.NRGBA{c.R, c.G, c.B, 30}
			poly.LineStyle.Width = 0
			poly.LineStyle.Color = color.Transparent
			p.Add(poly)
		}
	}
	for i, s := range series {
		c := Color(i)
		pts := make(plotter.XYs, len(s.X))
		for j := range s.X {
			pts[j] = plotter.XY{X: s.X[j], Y: s.Y[j]}
		}
		l, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		l.Color = c
		l.Width = vg.Points(1.6)
		l.Dashes = dashes(i)
		sc.Color = c
		sc.Shape = glyphs[i%len(glyphs)]
		sc.Radius = vg.Points(3.5 + 0.6*float64(len(series)-i))
		p.Add(l, sc)
		p.Legend.Add(s.Name, l, sc)
	}
	return p, nil
}

// MarkedSteps is Lines for step lines, drawn thicker first so that lines
// on top of each other stay visible.
func MarkedSteps(title, xlabel, ylabel string, series []Series) (*plot.Plot, error) {
	p, err := Lines(title, xlabel, ylabel, nil)
	if err != nil {
		return nil, err
	}
	for i, s := range series {
		pts := make(plotter.XYs, len(s.X))
		for j := range s.X {
			pts[j] = plotter.XY{X: s.X[j], Y: s.Y[j]}
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		l.Color = Color(i)
		l.Width = vg.Points(1.5 + 1.2*float64(len(series)-1-i))
		l.Dashes = dashes(i)
		p.Add(l)
		p.Legend.Add(s.Name, l)
	}
	return p, nil
}
