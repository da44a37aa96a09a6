package output

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/internal/figure"
)

// figureLive draws a run's timeline, the default scenario's figure for any
// scenario: memory by kind for each memory node (free, page cache,
// anonymous, kernel and other), SBMP's allocations per second by tier and
// the requested bytes live (when the run allocated through SBMP), each OOM kill a dashed
// line in every panel; legends in each panel. It returns SVG and PNG;
// gonum/plot renders deterministically, so the same run gives the same
// bytes.
func figureLive(res *world.Result) (svg, png []byte, err error) {
	ts := &res.Timeseries
	s := &res.Summary
	x := make([]float64, len(ts.Rows))
	for i, r := range ts.Rows {
		x[i] = r[0] / 1e9
	}
	var panels []*plot.Plot
	for _, node := range figureNodes(ts.Columns) {
		p, err := memoryPanel(ts, x, node, len(panels) == 0, s)
		if err != nil {
			return nil, nil, err
		}
		panels = append(panels, p)
	}
	tiers, err := tierPanels(ts, x)
	if err != nil {
		return nil, nil, err
	}
	panels = append(panels, tiers...)
	if s.Allocs > 0 || len(panels) == 0 {
		live, err := seriesPanel(ts, x, "requested bytes live", "MiB", "bytes_live", 1<<20)
		if err != nil {
			return nil, nil, err
		}
		panels = append(panels, live)
	}
	for _, e := range s.OOMEvents {
		for _, p := range panels {
			p.Add(figure.VLine(float64(e.TimeNs) / 1e9))
		}
	}
	if svg, err = renderPanels(panels, "svg"); err != nil {
		return nil, nil, fmt.Errorf("render figure: %w", err)
	}
	if png, err = renderPanels(panels, "png"); err != nil {
		return nil, nil, fmt.Errorf("render figure: %w", err)
	}
	return svg, png, nil
}

var nodeColumn = regexp.MustCompile(`^node(\d+)_free_pages$`)

// figureNodes returns the IDs of the memory nodes whose columns the time
// series has, in column order.
func figureNodes(columns []string) []int {
	var ids []int
	for _, c := range columns {
		if m := nodeColumn.FindStringSubmatch(c); m != nil {
			id, _ := strconv.Atoi(m[1])
			ids = append(ids, id)
		}
	}
	return ids
}

// memoryPanel plots node's pages by kind in MiB; the first panel's title
// names the run.
func memoryPanel(ts *world.Timeseries, x []float64, node int, first bool, s *world.Summary) (*plot.Plot, error) {
	kinds := []struct{ col, name string }{{"free", "free"}, {"file", "page cache"}, {"anon", "anonymous"}, {"kernel", "kernel and other"}}
	var series []figure.Series
	for _, k := range kinds {
		y, ok := column(ts, fmt.Sprintf("node%d_%s_pages", node, k.col), 4096.0/(1<<20))
		if !ok {
			return nil, fmt.Errorf("figure: no column node%d_%s_pages", node, k.col)
		}
		series = append(series, figure.Series{Name: k.name, X: x, Y: y})
	}
	title := fmt.Sprintf("node %d: memory by kind", node)
	if first {
		title = fmt.Sprintf("%s, seed %d: node %d memory by kind", s.Scenario, s.Seed, node)
		if len(s.OOMEvents) > 0 {
			title += " (dashed: OOM kills)"
		}
	}
	return figure.Lines(title, "simulated time (s)", "MiB", series)
}

// tierPanels plot SBMP's allocations per second by tier: Tier 0 alone,
// then Tier 1 (refills) and Tier 2 on their own scale, which Tier 0's
// rate would flatten. They return nil when the run has no SBMP process.
func tierPanels(ts *world.Timeseries, x []float64) ([]*plot.Plot, error) {
	names := []string{"tier 0", "tier 1 (refills)", "tier 2"}
	var series []figure.Series
	for i, c := range []string{"tier0_allocs", "tier1_allocs", "tier2_allocs"} {
		y, ok := column(ts, c, 1)
		if !ok {
			return nil, nil
		}
		rate := make([]float64, len(y))
		for j := 1; j < len(y); j++ {
			if dt := x[j] - x[j-1]; dt > 0 {
				rate[j] = (y[j] - y[j-1]) / dt
			}
		}
		series = append(series, figure.Series{Name: names[i], X: x, Y: rate})
	}
	t0, err := figure.Lines("SBMP Tier-0 allocations per second", "simulated time (s)", "allocations/s", series[:1])
	if err != nil {
		return nil, err
	}
	t12, err := figure.Lines("SBMP Tier-1 refills and Tier-2 allocations per second", "simulated time (s)", "per second", series[1:])
	if err != nil {
		return nil, err
	}
	return []*plot.Plot{t0, t12}, nil
}

// seriesPanel plots one column, divided by scale.
func seriesPanel(ts *world.Timeseries, x []float64, title, ylabel, col string, scale float64) (*plot.Plot, error) {
	y, ok := column(ts, col, 1/scale)
	if !ok {
		return nil, fmt.Errorf("figure: no column %s", col)
	}
	return figure.Lines(title, "simulated time (s)", ylabel, []figure.Series{{Name: col, X: x, Y: y}})
}

// column returns column c times factor, and whether it exists.
func column(ts *world.Timeseries, c string, factor float64) ([]float64, bool) {
	i := slices.Index(ts.Columns, c)
	if i < 0 {
		return nil, false
	}
	y := make([]float64, len(ts.Rows))
	for j, r := range ts.Rows {
		y[j] = r[i] * factor
	}
	return y, true
}

// renderPanels stacks the panels in a column of two-column rows (one
// column for up to three panels) and renders them in format.
func renderPanels(panels []*plot.Plot, format string) ([]byte, error) {
	cols := 1
	if len(panels) > 3 {
		cols = 2
	}
	rows := (len(panels) + cols - 1) / cols
	grid := make([][]*plot.Plot, rows)
	for i := range grid {
		grid[i] = make([]*plot.Plot, cols)
		for j := range cols {
			if k := i*cols + j; k < len(panels) {
				grid[i][j] = panels[k]
			}
		}
	}
	w, h := vg.Length(cols)*6*vg.Inch, vg.Length(rows)*2.6*vg.Inch
	c, err := draw.NewFormattedCanvas(w, h, format)
	if err != nil {
		return nil, err
	}
	dc := draw.New(c)
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(12), PadY: vg.Points(8), PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8)}
	cs := plot.Align(grid, tiles, dc)
	for i := range grid {
		for j, p := range grid[i] {
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
