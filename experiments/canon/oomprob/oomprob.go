// Package oomprob is the oom-probability canonical experiment: the OOM
// probability against offered load under each degrade policy, read off
// the load sweep (package loadsweep).
package oomprob

import (
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/canon"
	"github.com/sbmpsim/sbmpsim/experiments/canon/loadsweep"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/internal/figure"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Experiment returns the oom-probability experiment, for the catalog.
func Experiment() canon.Experiment {
	return canon.Experiment{
		Name:  "oom-probability",
		Title: "3. OOM probability against offered load, per degrade policy",
		Spec:  "SPEC 1.3, 2.1",
		Run:   run,
		Plan:  loadsweep.Plan,
	}
}

func run(env *canon.Env, out *canon.Out) error {
	s, err := loadsweep.Run(env)
	if err != nil {
		return err
	}
	out.P("The default scenario with the offered rate of its `%s` workload (256-byte sessions that are never freed, %s allocations/s on average at load factor 1) multiplied by `workload.%d.load_factor`, under each degrade policy; everything else as in the seed's settings. %d seeds per cell; an OOM is any OOM kill within the run's %d s.",
		s.Workload, canon.Fixed(s.RatePerS, 0), s.Index, len(s.Seeds), s.DurationMs/1000)
	if err := probabilityFigure(out, s); err != nil {
		return err
	}
	cellTable(out, s)
	out.P("Where each curve crosses 50 %% (linear interpolation between the two load factors around the first crossing): %s.", strings.Join(crossings(s), "; "))
	if same := sameOutcomes(s); len(same) > 0 {
		out.P("%s.", strings.Join(same, "; "))
	}
	out.P("Which policies' 95 %% Wilson intervals separate (one interval entirely below the other): %s.", strings.Join(separations(out, s), "; "))
	out.P("What each policy trades for its OOM kills, summed over all %d load factors: %s.", len(s.Levels), strings.Join(trades(s), "; "))
	if err := timeToKill(out, s); err != nil {
		return err
	}
	out.Cmd(s.Cmd(env, "oom-probability"))
	return nil
}

// probabilityFigure draws P(OOM) with Wilson bands, and the failed
// allocations and Tier-2 fallbacks per run, against the load factor.
func probabilityFigure(out *canon.Out, s *loadsweep.Sweep) error {
	var pS, failS, fbS []figure.Series
	var rows [][]string
	for p, pol := range s.Policies {
		ps := figure.Series{Name: pol, X: s.Levels}
		fs := figure.Series{Name: pol, X: s.Levels}
		bs := figure.Series{Name: pol, X: s.Levels}
		for l, c := range s.Cells[p] {
			ps.Y, ps.Lo, ps.Hi = append(ps.Y, c.P), append(ps.Lo, c.CI.Lo), append(ps.Hi, c.CI.Hi)
			fails := canon.MeanOf(c.Runs, func(r world.Summary) float64 { return float64(r.AllocFailures) })
			fb := canon.MeanOf(c.Runs, func(r world.Summary) float64 { return float64(r.SBMP.Tier2Fallbacks) })
			fs.Y = append(fs.Y, fails/1e3)
			bs.Y = append(bs.Y, fb/1e3)
			rows = append(rows, []string{pol, loadsweep.Level(s.Levels[l]), canon.Fixed(s.RatePerS*s.Levels[l], 0), strconv.Itoa(c.OOM), strconv.Itoa(len(c.Runs)), canon.Fixed(c.P, 4), canon.Fixed(c.CI.Lo, 4), canon.Fixed(c.CI.Hi, 4),
				canon.Fixed(fails, 1), canon.Fixed(fb, 1), canon.Fixed(canon.MeanOf(c.Runs, objectsLost), 1)})
		}
		pS, failS, fbS = append(pS, ps), append(failS, fs), append(fbS, bs)
	}
	xl := fmt.Sprintf("load factor of %s (1 = %s allocations/s)", s.Workload, canon.Fixed(s.RatePerS, 0))
	pp, err := figure.MarkedLines(fmt.Sprintf("P(OOM kill), %d seeds per point, 95 %% Wilson bands", len(s.Seeds)), xl, "probability", pS)
	if err != nil {
		return err
	}
	pp.Y.Min, pp.Y.Max = 0, 1
	pp.Legend.Left = true
	half, err := plotter.NewLine(plotter.XYs{{X: s.Levels[0], Y: 0.5}, {X: s.Levels[len(s.Levels)-1], Y: 0.5}})
	if err != nil {
		return err
	}
	half.Color = color.Gray{Y: 90}
	half.Width = vg.Points(0.8)
	half.Dashes = []vg.Length{vg.Points(2), vg.Points(3)}
	pp.Add(half)
	xl = "load factor"
	fp, err := figure.MarkedLines("failed allocations per run", xl, "thousands", failS)
	if err != nil {
		return err
	}
	bp, err := figure.MarkedLines("fallback_to_tier2 per run", xl, "thousands", fbS)
	if err != nil {
		return err
	}
	// Room above the lines for the legend.
	for _, p := range []*plot.Plot{fp, bp} {
		p.Y.Min, p.Y.Max = 0, 1.45*p.Y.Max
		p.Legend.Left = true
	}
	out.CSV("oom-probability-vs-load", []string{"policy", "load_factor", "offered_per_s", "oom_runs", "runs", "p_oom", "wilson_lo", "wilson_hi", "mean_alloc_failures", "mean_fallback_to_tier2", "mean_objects_lost"}, rows)
	if err := out.Figure("oom-probability-vs-load", "Probability that a run is OOM-killed against the offered session load, one line per degrade policy, with 95 % Wilson bands; markers and dashes tell overlapping lines apart. Numbers in `oom-probability-vs-load.csv`.",
		8*vg.Inch, 5*vg.Inch, [][]*plot.Plot{{pp}}); err != nil {
		return err
	}
	return out.Figure("oom-probability-trades", "What each policy does instead of (or on the way to) an OOM kill, means per run: allocations it fails, and small allocations it serves from whole Tier-2 pages. Numbers in `oom-probability-vs-load.csv`.",
		8*vg.Inch, 3.5*vg.Inch, [][]*plot.Plot{{fp, bp}})
}

// objectsLost is the SBMP objects that died with their process.
func objectsLost(r world.Summary) float64 {
	n := 0.0
	for _, w := range r.Workloads {
		n += float64(w.ObjectsLost)
	}
	return n
}

// cellTable adds the cell-by-cell table.
func cellTable(out *canon.Out, s *loadsweep.Sweep) {
	var rows [][]string
	for p, pol := range s.Policies {
		for l, c := range s.Cells[p] {
			rows = append(rows, []string{pol, loadsweep.Level(s.Levels[l]), fmt.Sprintf("%d / %d", c.OOM, len(c.Runs)), canon.Fixed(c.P, 2),
				fmt.Sprintf("[%s, %s]", canon.Fixed(c.CI.Lo, 2), canon.Fixed(c.CI.Hi, 2)),
				canon.Fixed(canon.MeanOf(c.Runs, func(r world.Summary) float64 { return float64(r.AllocFailures) }), 0),
				canon.Fixed(canon.MeanOf(c.Runs, func(r world.Summary) float64 { return float64(r.SBMP.Tier2Fallbacks) }), 0),
				canon.Fixed(canon.MeanOf(c.Runs, objectsLost), 0)})
		}
	}
	out.Table("oom-probability-cells", fmt.Sprintf("Seeds 1-%d per cell; failures, fallbacks and objects lost with a killed process are means per run", len(s.Seeds)),
		[]string{"degrade policy", "load factor", "OOM runs", "P(OOM)", "95 % Wilson", "alloc failures", "fallback_to_tier2", "objects lost"}, rows)
}

// crossings says where each policy's curve first crosses 50 %.
func crossings(s *loadsweep.Sweep) []string {
	var out []string
	for p, pol := range s.Policies {
		cells := s.Cells[p]
		x, found := 0.0, false
		for l := range cells {
			if cells[l].P < 0.5 {
				continue
			}
			if l == 0 {
				out = append(out, fmt.Sprintf("`%s` is at %s already at the lowest load factor, %s", pol, canon.Fixed(cells[0].P, 2), loadsweep.Level(s.Levels[0])))
			} else {
				x0, x1, p0, p1 := s.Levels[l-1], s.Levels[l], cells[l-1].P, cells[l].P
				x = x0 + (0.5-p0)/(p1-p0)*(x1-x0)
				out = append(out, fmt.Sprintf("`%s` at load factor %s (P = %s at %s, %s at %s)", pol, canon.Fixed(x, 2), canon.Fixed(p0, 2), loadsweep.Level(x0), canon.Fixed(p1, 2), loadsweep.Level(x1)))
			}
			found = true
			for k := l + 1; k < len(cells); k++ {
				if cells[k].P < 0.5 {
					out[len(out)-1] += fmt.Sprintf(", though it falls back to %s at %s", canon.Fixed(cells[k].P, 2), loadsweep.Level(s.Levels[k]))
					break
				}
			}
			break
		}
		if !found {
			hi := 0.0
			for _, c := range cells {
				hi = math.Max(hi, c.P)
			}
			out = append(out, fmt.Sprintf("`%s` never (at most %s, up to load factor %s)", pol, canon.Fixed(hi, 2), loadsweep.Level(s.Levels[len(s.Levels)-1])))
		}
	}
	return out
}

// sameOutcomes names the policies whose runs end exactly as the seed's
// policy's do (same OOM kills at the same times on every seed and load).
func sameOutcomes(s *loadsweep.Sweep) []string {
	var same, sameCount []string
	for p := 1; p < len(s.Policies); p++ {
		identical, counts := true, true
		for l := range s.Levels {
			a, b := s.Cells[0][l], s.Cells[p][l]
			counts = counts && a.OOM == b.OOM
			for i := range a.Runs {
				ta, tb := canon.FirstOOMSeconds(a.Runs[i]), canon.FirstOOMSeconds(b.Runs[i])
				identical = identical && (ta == tb || math.IsNaN(ta) && math.IsNaN(tb))
			}
		}
		switch {
		case identical:
			same = append(same, "`"+s.Policies[p]+"`")
		case counts:
			sameCount = append(sameCount, "`"+s.Policies[p]+"`")
		}
	}
	var out []string
	if len(same) > 0 {
		verb := "ends"
		if len(same) > 1 {
			verb = "end"
		}
		out = append(out, fmt.Sprintf("%s %s every run exactly as `%s` does: the same runs are killed, at the same simulated times", strings.Join(same, " and "), verb, s.Policies[0]))
	}
	if len(sameCount) > 0 {
		verb := "has"
		if len(sameCount) > 1 {
			verb = "have"
		}
		out = append(out, fmt.Sprintf("%s %s the same number of OOM runs as `%s` at every load factor, though not the same kill times", strings.Join(sameCount, " and "), verb, s.Policies[0]))
	}
	return out
}

// separations lists, per load factor, the pairs of policies whose Wilson
// intervals do not overlap, and writes them as a CSV.
func separations(out *canon.Out, s *loadsweep.Sweep) []string {
	var text []string
	var rows [][]string
	var none []string
	for l, lf := range s.Levels {
		var parts []string
		for a := range s.Policies {
			var above []string
			for b := range s.Policies {
				ca, cb := s.Cells[a][l], s.Cells[b][l]
				if ca.CI.Hi < cb.CI.Lo {
					above = append(above, "`"+s.Policies[b]+"`")
					rows = append(rows, []string{loadsweep.Level(lf), s.Policies[a], s.Policies[b], canon.Fixed(ca.CI.Hi, 4), canon.Fixed(cb.CI.Lo, 4)})
				}
			}
			if len(above) > 0 {
				parts = append(parts, fmt.Sprintf("`%s` (%d/%d) below %s", s.Policies[a], s.Cells[a][l].OOM, len(s.Cells[a][l].Runs), strings.Join(above, ", ")))
			}
		}
		if len(parts) == 0 {
			none = append(none, loadsweep.Level(lf))
			continue
		}
		text = append(text, fmt.Sprintf("at load factor %s, %s", loadsweep.Level(lf), strings.Join(parts, ", ")))
	}
	if len(none) > 0 {
		text = append(text, fmt.Sprintf("at load factor %s no two intervals separate", strings.Join(none, ", ")))
	}
	out.CSV("oom-probability-separations", []string{"load_factor", "lower_policy", "higher_policy", "lower_wilson_hi", "higher_wilson_lo"}, rows)
	return text
}

// trades sums, per policy, the OOM runs against the allocations failed
// and the objects lost with killed processes.
func trades(s *loadsweep.Sweep) []string {
	var out []string
	for p, pol := range s.Policies {
		var runs, oom int
		var fails, lost, allocs, fb float64
		for _, c := range s.Cells[p] {
			runs += len(c.Runs)
			oom += c.OOM
			for _, r := range c.Runs {
				fails += float64(r.AllocFailures)
				allocs += float64(r.Allocs)
				lost += objectsLost(r)
				fb += float64(r.SBMP.Tier2Fallbacks)
			}
		}
		share := 0.0
		if allocs+fails > 0 {
			share = fails / (allocs + fails)
		}
		out = append(out, fmt.Sprintf("`%s` %d OOM runs of %d, %s failed allocations per run (%s %% of requests), %s fallbacks to Tier-2 and %s objects lost with a killed process per run",
			pol, oom, runs, canon.Fixed(fails/float64(runs), 1), canon.Fixed(100*share, 2), canon.Fixed(fb/float64(runs), 0), canon.Fixed(lost/float64(runs), 0)))
	}
	return out
}
