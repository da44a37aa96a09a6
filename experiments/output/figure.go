package output

import (
	"github.com/sbmpsim/sbmpsim/experiments/world"

	"bytes"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// figureLive draws the run's live objects and live bytes over simulated
// time, one panel each, and returns it as SVG and PNG. gonum/plot renders
// deterministically, so the same run gives the same bytes.
func figureLive(name string, seed uint64, ts *world.Timeseries) (svg, png []byte, err error) {
	col := func(c string) int {
		for i, n := range ts.Columns {
			if n == c {
				return i
			}
		}
		panic("experiments: no timeseries column " + c)
	}
	panel := func(title, ylabel string, column int, scale float64, c color.Color) (*plot.Plot, error) {
		p := plot.New()
		p.Title.Text = title
		p.X.Label.Text = "simulated time (s)"
		p.Y.Label.Text = ylabel
		pts := make(plotter.XYs, len(ts.Rows))
		for i, r := range ts.Rows {
			pts[i].X = r[0] / 1e9
			pts[i].Y = r[column] / scale
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		l.Color = c
		l.Width = vg.Points(1.5)
		p.Add(l, plotter.NewGrid())
		return p, nil
	}
	objects, err := panel(fmt.Sprintf("%s, seed %d: live objects", name, seed), "objects", col("objects_live"), 1, color.RGBA{R: 31, G: 119, B: 180, A: 255})
	if err != nil {
		return nil, nil, err
	}
	bytesLive, err := panel("requested bytes live", "MiB", col("bytes_live"), 1<<20, color.RGBA{R: 214, G: 39, B: 40, A: 255})
	if err != nil {
		return nil, nil, err
	}
	render := func(format string) ([]byte, error) {
		const w, h = 7 * vg.Inch, 5 * vg.Inch
		c, err := draw.NewFormattedCanvas(w, h, format)
		if err != nil {
			return nil, err
		}
		dc := draw.New(c)
		tiles := draw.Tiles{Rows: 2, Cols: 1, PadY: vg.Points(6), PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8)}
		cs := plot.Align([][]*plot.Plot{{objects}, {bytesLive}}, tiles, dc)
		objects.Draw(cs[0][0])
		bytesLive.Draw(cs[1][0])
		var b bytes.Buffer
		if _, err := c.WriteTo(&b); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	if svg, err = render("svg"); err != nil {
		return nil, nil, fmt.Errorf("render figure: %w", err)
	}
	if png, err = render("png"); err != nil {
		return nil, nil, fmt.Errorf("render figure: %w", err)
	}
	return svg, png, nil
}
