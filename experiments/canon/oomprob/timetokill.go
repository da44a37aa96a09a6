package oomprob

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/canon"
	"github.com/sbmpsim/sbmpsim/experiments/canon/loadsweep"
	"github.com/sbmpsim/sbmpsim/experiments/stats"
	"github.com/sbmpsim/sbmpsim/experiments/sweep"
	"github.com/sbmpsim/sbmpsim/internal/figure"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// bootstrapSeed seeds the paired bootstrap of the kill times; any fixed
// value makes the intervals the same bytes on every run.
const bootstrapSeed = 1

// killTime is a cell's Kaplan-Meier median time to the first OOM kill
// (a run without one censored at its end) with its Brookmeyer-Crowley
// 95 % interval, in seconds: the sweep report's FirstOOM of the cell.
type killTime struct {
	median, lo, hi stats.Bound
}

func killTimeOf(f sweep.FirstOOM) killTime {
	sec := func(ns int64, reached bool) stats.Bound {
		return stats.Bound{Value: float64(ns) / 1e9, Reached: reached}
	}
	return killTime{median: sec(f.MedianNs, f.MedianReached), lo: sec(f.CI95LoNs, f.CI95LoReached), hi: sec(f.CI95HiNs, f.CI95HiReached)}
}

// bound writes a Bound: the time, or "> T" when the curve never got there.
func bound(b stats.Bound) string {
	if b.Reached {
		return canon.Fixed(b.Value, 2)
	}
	return "> " + canon.Fixed(b.Value, 0)
}

// pairedKill is one policy's paired difference in time to the first OOM
// kill against the family's default at one load, over the seeds killed
// under both.
type pairedKill struct {
	level float64
	d     stats.PairedDiff
	ok    bool // at least two seeds killed under both
}

// pairedKillTimes compares policy p's kill times with policy 0's (the
// seed's default) at every level, seed by seed.
func pairedKillTimes(s *loadsweep.Sweep, p int) ([]pairedKill, error) {
	var out []pairedKill
	for l, lf := range s.Levels {
		base := map[uint64]float64{}
		for _, r := range s.Cells[0][l].Runs {
			if t := canon.FirstOOMSeconds(r); !math.IsNaN(t) {
				base[r.Seed] = t
			}
		}
		var a, b []float64
		for _, r := range s.Cells[p][l].Runs {
			t := canon.FirstOOMSeconds(r)
			if tb, ok := base[r.Seed]; ok && !math.IsNaN(t) {
				a, b = append(a, t), append(b, tb)
			}
		}
		pk := pairedKill{level: lf}
		if len(a) >= 2 {
			d, err := stats.PairedMeanDiff(a, b, stats.BootstrapOptions{Seed: bootstrapSeed, Method: stats.BootstrapBCa})
			if err != nil {
				return nil, fmt.Errorf("%s at load factor %s: %w", s.Policies[p], loadsweep.Level(lf), err)
			}
			pk.d, pk.ok = d, true
		}
		out = append(out, pk)
	}
	return out, nil
}

// timeToKill adds the figure, CSVs and sentences on when the first OOM
// kill comes: a policy can leave P(OOM) where it is and still move the
// kill, which is what an operator's time to react depends on.
func timeToKill(out *canon.Out, s *loadsweep.Sweep) error {
	var series []figure.Series
	var rows [][]string
	for p, pol := range s.Policies {
		fs := figure.Series{Name: pol}
		for l, c := range s.Cells[p] {
			kt := killTimeOf(s.FirstOOM[p][l])
			rows = append(rows, []string{pol, loadsweep.Level(s.Levels[l]), strconv.Itoa(c.OOM), strconv.Itoa(len(c.Runs)), bound(kt.median), bound(kt.lo), bound(kt.hi)})
			// Plot a median only where more than half the runs were
			// killed and the interval closes; elsewhere there is none.
			if kt.median.Reached && kt.lo.Reached && kt.hi.Reached {
				fs.X = append(fs.X, s.Levels[l])
				fs.Y, fs.Lo, fs.Hi = append(fs.Y, kt.median.Value), append(fs.Lo, kt.lo.Value), append(fs.Hi, kt.hi.Value)
			}
		}
		if len(fs.X) > 0 {
			series = append(series, fs)
		}
	}
	out.CSV("oom-probability-time-to-kill", []string{"policy", "load_factor", "killed_runs", "runs", "median_first_kill_s", "ci_lo_s", "ci_hi_s"}, rows)
	if len(series) > 0 {
		p, err := figure.MarkedLines("median time to the first OOM kill, 95 % Brookmeyer-Crowley bands", "load factor", "seconds", series)
		if err != nil {
			return err
		}
		p.Legend.Left = true
		if err := out.Figure("oom-probability-time-to-kill", fmt.Sprintf("Kaplan-Meier median time to the first OOM kill against the load factor, per degrade policy; a run without a kill is censored at its end (%d s). A point is drawn where more than half the runs of the cell were killed and its interval closes. Numbers in `oom-probability-time-to-kill.csv`.", s.DurationMs/1000),
			8*vg.Inch, 4*vg.Inch, [][]*plot.Plot{{p}}); err != nil {
			return err
		}
	}
	var prows [][]string
	var moved, still []string
	for p := 1; p < len(s.Policies); p++ {
		pks, err := pairedKillTimes(s, p)
		if err != nil {
			return err
		}
		for _, pk := range pks {
			if !pk.ok {
				continue
			}
			prows = append(prows, []string{s.Policies[p], s.Policies[0], loadsweep.Level(pk.level), strconv.Itoa(pk.d.N), canon.Fixed(pk.d.MeanDiff, 4), canon.Fixed(pk.d.CI.Lo, 4), canon.Fixed(pk.d.CI.Hi, 4)})
			what := fmt.Sprintf("`%s` at load factor %s: %+.3f s [%+.3f, %+.3f] over %d seeds", s.Policies[p], loadsweep.Level(pk.level), pk.d.MeanDiff, pk.d.CI.Lo, pk.d.CI.Hi, pk.d.N)
			if pk.d.CI.Lo > 0 || pk.d.CI.Hi < 0 {
				moved = append(moved, what)
			} else {
				still = append(still, fmt.Sprintf("`%s` at %s", s.Policies[p], loadsweep.Level(pk.level)))
			}
		}
	}
	out.CSV("oom-probability-kill-shift", []string{"policy", "against", "load_factor", "seeds_killed_in_both", "mean_diff_s", "bca95_lo_s", "bca95_hi_s"}, prows)
	text := fmt.Sprintf("Time to the first OOM kill, paired by seed against `%s` over the seeds killed under both (a later kill is positive; mean difference, 95 %% BCa bootstrap interval): ", s.Policies[0])
	switch {
	case len(moved) > 0:
		text += "the kill moves, with an interval that excludes zero, for " + strings.Join(moved, "; ")
	default:
		text += "no interval excludes zero"
	}
	if len(still) > 0 {
		text += fmt.Sprintf("; no shift shown for %s", strings.Join(still, ", "))
	}
	out.P("%s. Seeds killed under only one of the two policies are left out of the pairing (their difference is not observed); the cells' kill counts are in the table above. Numbers in `oom-probability-kill-shift.csv`.", text)
	return nil
}
