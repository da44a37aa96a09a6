package transfer

import (
	"fmt"
	"math"

	"github.com/sbmpsim/sbmpsim/experiments/canon"
	"github.com/sbmpsim/sbmpsim/internal/figure"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// transferFigure draws, against the node size on a log axis, the OOM
// probability and the median time to the first OOM kill with their
// intervals, and beside them what the allocator fails instead: failed
// allocations and Tier-2 fallbacks per run, divided by k so that a
// result that carries over is a flat line.
func transferFigure(out *canon.Out, pts []*point, durationMs int64) error {
	x := make([]float64, len(pts))
	var p, pLo, pHi, t, tLo, tHi, fails, fbs []float64
	follow := float64(durationMs) / 1e3
	for i, pt := range pts {
		x[i] = float64(pt.NodeMiB)
		r := pt.Report
		p, pLo, pHi = append(p, r.OOMProbability), append(pLo, r.OOMCI95Wilson[0]), append(pHi, r.OOMCI95Wilson[1])
		// An unreached median or limit is drawn at the end of the run:
		// the data say only that it is later.
		iv := firstOOMInterval(r)
		t = append(t, float64(r.FirstOOM.MedianNs)/1e9)
		tLo, tHi = append(tLo, iv.Lo), append(tHi, math.Min(iv.Hi, follow))
		fails = append(fails, pt.mean(failures)/pt.K)
		fbs = append(fbs, pt.mean(fallbacks)/pt.K/1e3)
	}
	xl := "memory per node (log scale)"
	pp, err := figure.MarkedLines("P(OOM kill), 95 % Wilson band", xl, "probability", []figure.Series{{X: x, Y: p, Lo: pLo, Hi: pHi}})
	if err != nil {
		return err
	}
	pp.Y.Min, pp.Y.Max = 0, 1
	tp, err := figure.MarkedLines("time to first OOM kill: Kaplan-Meier median, 95 % band", xl, "seconds", []figure.Series{{X: x, Y: t, Lo: tLo, Hi: tHi}})
	if err != nil {
		return err
	}
	tp.Y.Min, tp.Y.Max = 0, follow
	fp, err := figure.MarkedLines("failed allocations per run / k, mean over seeds", xl, "allocations", []figure.Series{{X: x, Y: fails}})
	if err != nil {
		return err
	}
	bp, err := figure.MarkedLines("fallback_to_tier2 per run / k, mean over seeds", xl, "thousands", []figure.Series{{X: x, Y: fbs}})
	if err != nil {
		return err
	}
	for _, pl := range []*plot.Plot{pp, tp, fp, bp} {
		logSizes(pl, pts)
		// One line a plot: its title says what it is.
		pl.Legend = plot.NewLegend()
	}
	for _, pl := range []*plot.Plot{fp, bp} {
		pl.Y.Min, pl.Y.Max = 0, max(1.1*pl.Y.Max, 1)
	}
	return out.Figure("transfer", fmt.Sprintf("The default scenario with every memory size and rate multiplied by k = node memory / %s, against the node size: the probability of an OOM kill within the %d s run and the median time to the first one (a median or limit not reached is drawn at the run's end), and what the allocator fails instead, per run and divided by k. Numbers in `transfer.csv`.",
		sizeLabel(pts[0].NodeMiB), durationMs/1000), 9*vg.Inch, 7*vg.Inch, [][]*plot.Plot{{pp, tp}, {fp, bp}})
}

// logSizes puts pl's x axis on a log scale with a tick at every node
// size, a little wider than the sizes so that the end markers show.
func logSizes(pl *plot.Plot, pts []*point) {
	pl.X.Scale = plot.LogScale{}
	var ticks plot.ConstantTicks
	for _, p := range pts {
		ticks = append(ticks, plot.Tick{Value: float64(p.NodeMiB), Label: sizeLabel(p.NodeMiB)})
	}
	pl.X.Tick.Marker = ticks
	pl.X.Min, pl.X.Max = float64(pts[0].NodeMiB)/1.2, float64(pts[len(pts)-1].NodeMiB)*1.2
}
