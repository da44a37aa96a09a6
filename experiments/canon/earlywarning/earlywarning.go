// Package earlywarning is the early-warning canonical experiment: whether
// the SPEC 1.5 alerts predict the OOM kill, scored over the runs of the
// load sweep (package loadsweep).
package earlywarning

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/canon"
	"github.com/sbmpsim/sbmpsim/experiments/canon/loadsweep"
	"github.com/sbmpsim/sbmpsim/experiments/stats"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/internal/figure"
	"github.com/sbmpsim/sbmpsim/sbmp"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Experiment returns the early-warning experiment, for the catalog.
func Experiment() canon.Experiment {
	return canon.Experiment{
		Name:  "early-warning",
		Title: "5. Do the SPEC 1.5 alerts predict the OOM kill?",
		Spec:  "SPEC 1.5, 3.1",
		Run:   run,
		Plan:  loadsweep.Plan,
	}
}

// signal is one predictor: a SPEC 1.5 metric, or any of them.
type signal struct {
	// Metric is the summary's alert metric; "" is "any signal".
	Metric string
	// Label names it in text and tables, with its danger threshold, and
	// Short on a figure's axis.
	Label, Short string
	// High is true when danger is a high value (the run's largest
	// sample then says how close it came).
	High bool
}

// signals are the predictors, labelled with the thresholds sbmp
// applies.
var signals = []signal{
	{"tier0_free_avg", fmt.Sprintf("tier0_free_avg < %d", sbmp.Tier0FreeAvgDanger), "tier0_free_avg", false},
	{"tier1_merge_delay_ms", fmt.Sprintf("tier1_merge_delay > %s ms", canon.Fixed(sbmp.MergeDelayDangerNs/1e6, 0)), "merge_delay", true},
	{"fallback_to_tier2_per_s", fmt.Sprintf("fallback_to_tier2 > %d/s", sbmp.FallbackRateDangerPerS), "fallback_to_tier2", true},
	{"", "any signal", "any", false},
}

// outcome is one run as the predictors see it.
type outcome struct {
	policy string
	load   float64
	// oomNs is the first OOM kill's time, -1 without one.
	oomNs int64
	// firstNs is each signal's first danger sample (-1: never), in the
	// order of signals.
	firstNs []int64
	maxes   map[string]float64
	// merges and drains are Tier-1 merges and Tier-0 drains to Tier-1:
	// without a drain no slab comes back to Tier-1 to be merged.
	merges, drains int64
	// flushes counts the degrade's flushes of every CPU cache (SPEC 2.6).
	flushes int64
}

// score is one signal's confusion table over the runs and its lead
// times. An alarm counts only if it fired strictly before the kill: one
// that fires at or after it is a miss (Late).
type score struct {
	TP, FP, FN, TN, Late int
	Precision, Recall    stats.Interval
	FalseAlarmRate       stats.Interval
	LeadS                []float64
}

func run(env *canon.Env, out *canon.Out) error {
	s, err := loadsweep.Run(env)
	if err != nil {
		return err
	}
	runs, err := outcomes(s)
	if err != nil {
		return err
	}
	var nOOM int
	for _, r := range runs {
		if r.oomNs >= 0 {
			nOOM++
		}
	}
	out.P("The runs of the load sweep of `oom-probability` (the default scenario with its `%s` sessions at load factors %s, under all %d degrade policies, seeds 1-%d): %d runs, %d of them OOM-killed within %d s. SBMP samples the SPEC 1.5 signals every 500 ms (SPEC 3.1); a signal *fires* in a run at its first sample in danger. A run where it fired before the first OOM kill and that was killed is a hit; one where it fired and no kill followed is a false alarm; a killed run where it did not fire before the kill is a miss, also when it fired at or after the kill.",
		s.Workload, loadsweep.Levels(s.Levels), len(s.Policies), len(s.Seeds), len(runs), nOOM, s.DurationMs/1000)
	scores := make([]score, len(signals))
	for i := range signals {
		if scores[i], err = scoreOf(runs, i, func(outcome) bool { return true }); err != nil {
			return err
		}
	}
	scoreTable(out, scores)
	if err := scoreFigures(out, scores, ratio(nOOM, len(runs))); err != nil {
		return err
	}
	findings(out, runs, scores)
	if err := byPolicy(out, s, runs); err != nil {
		return err
	}
	out.Cmd(s.Cmd(env, "early-warning"))
	return nil
}

// outcomes flattens the sweep into the predictors' view.
func outcomes(s *loadsweep.Sweep) ([]outcome, error) {
	var runs []outcome
	for p, pol := range s.Policies {
		for l, c := range s.Cells[p] {
			for _, r := range c.Runs {
				if r.SBMP == nil {
					return nil, fmt.Errorf("early warning: %s seed %d has no SBMP summary", c.Name, r.Seed)
				}
				w := outcome{policy: pol, load: s.Levels[l], oomNs: -1, maxes: map[string]float64{}, merges: r.SBMP.Tier1Merges, drains: r.SBMP.Drains, flushes: r.SBMP.Flushes}
				if t := canon.FirstOOMSeconds(r); !math.IsNaN(t) {
					w.oomNs = r.OOMEvents[0].TimeNs
					for _, e := range r.OOMEvents {
						w.oomNs = min(w.oomNs, e.TimeNs)
					}
				}
				anyNs := int64(-1)
				for _, sig := range signals[:len(signals)-1] {
					i := slices.IndexFunc(r.SBMP.Alerts, func(a world.AlertSummary) bool { return a.Metric == sig.Metric })
					if i < 0 {
						return nil, fmt.Errorf("early warning: %s seed %d has no alert %q", c.Name, r.Seed, sig.Metric)
					}
					a := r.SBMP.Alerts[i]
					w.firstNs = append(w.firstNs, a.FirstDangerNs)
					w.maxes[sig.Metric] = a.Max
					if a.FirstDangerNs >= 0 && (anyNs < 0 || a.FirstDangerNs < anyNs) {
						anyNs = a.FirstDangerNs
					}
				}
				w.firstNs = append(w.firstNs, anyNs)
				runs = append(runs, w)
			}
		}
	}
	return runs, nil
}

// scoreOf is signal i's confusion table over the runs that keep selects.
func scoreOf(runs []outcome, i int, keep func(outcome) bool) (score, error) {
	var sc score
	for _, r := range runs {
		if !keep(r) {
			continue
		}
		fired := r.firstNs[i]
		switch {
		case r.oomNs >= 0 && fired >= 0 && fired < r.oomNs:
			sc.TP++
			sc.LeadS = append(sc.LeadS, float64(r.oomNs-fired)/1e9)
		case r.oomNs >= 0:
			sc.FN++
			if fired >= 0 {
				sc.Late++
			}
		case fired >= 0:
			sc.FP++
		default:
			sc.TN++
		}
	}
	slices.Sort(sc.LeadS)
	var err error
	if sc.Precision, err = wilson(sc.TP, sc.TP+sc.FP); err != nil {
		return sc, err
	}
	if sc.Recall, err = wilson(sc.TP, sc.TP+sc.FN); err != nil {
		return sc, err
	}
	sc.FalseAlarmRate, err = wilson(sc.FP, sc.FP+sc.TN)
	return sc, err
}

// wilson is the 95 % Wilson interval of k/n, or NaNs when n is 0
// (a signal that never fired has no precision).
func wilson(k, n int) (stats.Interval, error) {
	if n == 0 {
		return stats.Interval{Lo: math.NaN(), Hi: math.NaN()}, nil
	}
	return stats.WilsonInterval(k, n, 0.95)
}

// ratio is k/n as a share, NaN when n is 0.
func ratio(k, n int) float64 {
	if n == 0 {
		return math.NaN()
	}
	return float64(k) / float64(n)
}

// leadQuantiles are the 10th, 50th and 90th percentiles of the lead
// times, NaN without any.
func leadQuantiles(lead []float64) [3]float64 {
	q := [3]float64{math.NaN(), math.NaN(), math.NaN()}
	if v, err := stats.Quantiles(lead, []float64{0.1, 0.5, 0.9}); err == nil {
		copy(q[:], v)
	}
	return q
}

// interval formats a Wilson interval, or "n/a".
func interval(iv stats.Interval) string {
	if math.IsNaN(iv.Lo) {
		return "n/a"
	}
	return fmt.Sprintf("[%s, %s]", canon.Fixed(iv.Lo, 2), canon.Fixed(iv.Hi, 2))
}

func na(s string) string {
	if s == "" {
		return "n/a"
	}
	return s
}

// scoreTable adds the table of every signal's scores.
func scoreTable(out *canon.Out, scores []score) {
	var rows, csvRows [][]string
	for i, sig := range signals {
		sc := scores[i]
		q := leadQuantiles(sc.LeadS)
		prec, rec := ratio(sc.TP, sc.TP+sc.FP), ratio(sc.TP, sc.TP+sc.FN)
		rows = append(rows, []string{sig.Label, strconv.Itoa(sc.TP + sc.FP), na(canon.Fixed(prec, 2)), interval(sc.Precision), na(canon.Fixed(rec, 2)), interval(sc.Recall),
			strconv.Itoa(sc.FP), fmt.Sprintf("%d / %d", sc.FP, sc.FP+sc.TN), strconv.Itoa(sc.Late), na(canon.Fixed(q[1], 2)), na(canon.Fixed(q[0], 2)), na(canon.Fixed(q[2], 2))})
		csvRows = append(csvRows, []string{sig.Label, strconv.Itoa(sc.TP), strconv.Itoa(sc.FP), strconv.Itoa(sc.FN), strconv.Itoa(sc.TN), strconv.Itoa(sc.Late),
			canon.Fixed(prec, 4), canon.Fixed(sc.Precision.Lo, 4), canon.Fixed(sc.Precision.Hi, 4), canon.Fixed(rec, 4), canon.Fixed(sc.Recall.Lo, 4), canon.Fixed(sc.Recall.Hi, 4),
			canon.Fixed(ratio(sc.FP, sc.FP+sc.TN), 4), canon.Fixed(sc.FalseAlarmRate.Lo, 4), canon.Fixed(sc.FalseAlarmRate.Hi, 4), canon.Fixed(q[1], 3), canon.Fixed(q[0], 3), canon.Fixed(q[2], 3)})
	}
	out.Table("early-warning-scores", "Every signal over every run of the sweep: precision = killed runs among those where it fired (before any kill), recall = runs warned before the kill among the killed, 95 % Wilson intervals; false alarms = runs where it fired and no kill followed, of the runs without a kill; late = it fired only at or after the kill (counted as misses); lead = first OOM kill minus first danger sample, over the hits, in seconds",
		[]string{"signal", "fired", "precision", "95 % CI", "recall", "95 % CI", "false alarms", "of non-OOM runs", "late", "median lead (s)", "p10", "p90"}, rows)
	out.CSV("early-warning-scores-full", []string{"signal", "hits", "false_alarms", "misses", "true_negatives", "late", "precision", "precision_lo", "precision_hi", "recall", "recall_lo", "recall_hi",
		"false_alarm_rate", "false_alarm_rate_lo", "false_alarm_rate_hi", "lead_s_p50", "lead_s_p10", "lead_s_p90"}, csvRows)
}

// scoreFigures draws the lead-time CDFs and the precision, recall and
// false-alarm rate of every signal.
func scoreFigures(out *canon.Out, scores []score, baseRate float64) error {
	var series []figure.Series
	var rows [][]string
	for i, sig := range signals {
		lead := scores[i].LeadS
		if len(lead) == 0 {
			continue
		}
		// The empirical CDF as a step line from 0 at the first lead.
		x, y := []float64{lead[0]}, []float64{0}
		for j, v := range lead {
			x, y = append(x, v, v), append(y, float64(j)/float64(len(lead)), float64(j+1)/float64(len(lead)))
			rows = append(rows, []string{sig.Label, canon.Fixed(v, 3), canon.Fixed(float64(j+1)/float64(len(lead)), 4)})
		}
		series = append(series, figure.Series{Name: fmt.Sprintf("%s (%d hits)", sig.Label, len(lead)), X: x[1:], Y: y[1:], Dashed: sig.Metric == ""})
	}
	out.CSV("early-warning-lead-cdf", []string{"signal", "lead_s", "cdf"}, rows)
	if len(series) > 0 {
		cdf, err := figure.MarkedSteps("lead time of the hits: first OOM kill - first danger sample", "lead time (s)", "share of hits with lead <= x", series)
		if err != nil {
			return err
		}
		cdf.Y.Min, cdf.Y.Max = 0, 1
		cdf.X.Min = 0
		cdf.X.Tick.Marker = stepTicks{0.5}
		cdf.Legend.Left = true
		if err := out.Figure("early-warning-lead-cdf", "Empirical CDF of the warning's lead time over the runs where the signal fired before the OOM kill; signals with no hit are left out. Sampling every 500 ms puts the first danger sample at most 0.5 s after the signal crossed its threshold.",
			8*vg.Inch, 4.5*vg.Inch, [][]*plot.Plot{{cdf}}); err != nil {
			return err
		}
	}
	labels := make([]string, len(signals))
	for i, sig := range signals {
		labels[i] = sig.Short
		if scores[i].TP+scores[i].FP == 0 {
			labels[i] += " (never fired)"
		}
	}
	var panels []*plot.Plot
	for _, m := range []struct {
		title string
		get   func(score) (int, int, stats.Interval)
	}{
		{"precision", func(s score) (int, int, stats.Interval) { return s.TP, s.TP + s.FP, s.Precision }},
		{"recall", func(s score) (int, int, stats.Interval) { return s.TP, s.TP + s.FN, s.Recall }},
		{"false-alarm rate (of non-OOM runs)", func(s score) (int, int, stats.Interval) { return s.FP, s.FP + s.TN, s.FalseAlarmRate }},
	} {
		v, lo, hi := make([]float64, len(scores)), make([]float64, len(scores)), make([]float64, len(scores))
		for i, sc := range scores {
			k, n, iv := m.get(sc)
			if n > 0 {
				v[i], lo[i], hi[i] = float64(k)/float64(n), iv.Lo, iv.Hi
			}
		}
		p, err := figure.BarsCI(m.title, "share, 95 % Wilson", labels, v, lo, hi)
		if err != nil {
			return err
		}
		p.Y.Min, p.Y.Max = 0, 1.15
		if len(panels) == 0 {
			// Precision against the base rate: a signal that fires in
			// every run has exactly the share of runs killed.
			l, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: baseRate}, {X: float64(len(scores)) - 0.5, Y: baseRate}})
			if err != nil {
				return err
			}
			l.Color = figure.Color(3)
			l.Width = vg.Points(1.2)
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			p.Add(l)
			p.Legend.Add("share of runs killed", l)
			p.Legend.Left = true
		}
		panels = append(panels, p)
	}
	return out.Figure("early-warning-scores", "Precision, recall and false-alarm rate of each signal over the sweep's runs, with 95 % Wilson intervals; a signal that never fired has no bar. The dashed line is the share of runs killed: the precision of a signal that fires in every run. Numbers in `early-warning-scores.csv`.",
		10*vg.Inch, 4.5*vg.Inch, [][]*plot.Plot{panels})
}

// stepTicks marks an axis every Step.
type stepTicks struct{ Step float64 }

// Ticks returns a labelled tick at every multiple of Step in [lo, hi].
func (t stepTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for i := math.Ceil(lo / t.Step); i*t.Step <= hi+1e-9; i++ {
		v := i * t.Step
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return ticks
}

// findings says what the scores mean, every number from them.
func findings(out *canon.Out, runs []outcome, scores []score) {
	var merges, drains int64
	for _, r := range runs {
		merges += r.merges
		drains += r.drains
	}
	var parts []string
	for i, sig := range signals {
		sc := scores[i]
		if sc.TP+sc.FP+sc.Late == 0 {
			mx := 0.0
			for _, r := range runs {
				if sig.Metric != "" {
					mx = math.Max(mx, r.maxes[sig.Metric])
				}
			}
			why := ""
			if sig.Metric == "tier1_merge_delay_ms" && merges == 0 {
				why = fmt.Sprintf(": in all %d runs together Tier-1 merged %d times, so there was no merge delay to measure", len(runs), merges)
				if drains == 0 {
					why += "; Tier-0 never drained a slot back to Tier-1, so no slab came free for Tier-1 to merge"
				}
			}
			parts = append(parts, fmt.Sprintf("`%s` never reached danger in any of the %d runs (its largest sample was %s)%s. It is useless as a predictor in this model", sig.Label, len(runs), canon.Fixed(mx, 2), why))
			continue
		}
		q := leadQuantiles(sc.LeadS)
		p := fmt.Sprintf("`%s` fired in %d runs: %d before a kill (precision %s, 95 %% CI %s) and %d without one; it warned %d of the %d killed runs (recall %s, 95 %% CI %s)",
			sig.Label, sc.TP+sc.FP, sc.TP, na(canon.Fixed(ratio(sc.TP, sc.TP+sc.FP), 2)), interval(sc.Precision), sc.FP, sc.TP, sc.TP+sc.FN, na(canon.Fixed(ratio(sc.TP, sc.TP+sc.FN), 2)), interval(sc.Recall))
		if sc.Late > 0 {
			p += fmt.Sprintf(", and fired only at or after the kill in %d", sc.Late)
		}
		if len(sc.LeadS) > 0 {
			p += fmt.Sprintf("; median lead %s s (p10 %s s, p90 %s s)", canon.Fixed(q[1], 2), canon.Fixed(q[0], 2), canon.Fixed(q[2], 2))
		}
		if sc.FP+sc.TN > 0 && sc.FP == sc.FP+sc.TN {
			p += fmt.Sprintf(". It fired in every run that was not killed too, so its precision is no better than the share of runs killed (%s)", canon.Fixed(ratio(sc.TP+sc.FN, len(runs)), 2))
		}
		if sig.Metric != "" && !sig.High {
			killed, spared := largestSamples(runs, sig.Metric)
			p += fmt.Sprintf(". Its largest 500 ms sample in any run was %s (SPEC 1.5 calls > %d safe)", canon.Fixed(slices.Max(append(killed, spared...)), 2), sbmp.Tier0FreeAvgSafe)
		}
		if sig.High {
			killed, spared := largestSamples(runs, sig.Metric)
			if len(killed) > 0 && len(spared) > 0 {
				p += fmt.Sprintf(". Its largest 500 ms sample per run had a median of %s in the killed runs and %s in the others", canon.Fixed(median(killed), 0), canon.Fixed(median(spared), 0))
			}
		}
		parts = append(parts, p)
	}
	out.P("%s.", strings.Join(parts, ". "))
	var both, earlier, same, later int
	var flushes int64
	for _, r := range runs {
		t0, fb := r.firstNs[0], r.firstNs[2]
		if t0 < 0 || fb < 0 {
			continue
		}
		both++
		flushes += r.flushes
		switch {
		case t0 < fb:
			earlier++
		case t0 == fb:
			same++
		default:
			later++
		}
	}
	if both > 0 {
		out.P("The two signals that fire are not independent: in the %d runs where both fired, `%s` first fired before `%s` in %d, at the same 500 ms sample in %d and after it in %d. Entering degrade flushes every CPU's Tier-0 cache back to the slabs (SPEC 2.6), which empties Tier-0 at once: those runs flushed %s times on average.",
			both, signals[0].Label, signals[2].Label, earlier, same, later, canon.Fixed(float64(flushes)/float64(both), 0))
	}
}

// largestSamples is a metric's largest sample per run, in the killed
// runs and in the others.
func largestSamples(runs []outcome, metric string) (killed, spared []float64) {
	for _, r := range runs {
		if r.oomNs >= 0 {
			killed = append(killed, r.maxes[metric])
		} else {
			spared = append(spared, r.maxes[metric])
		}
	}
	return killed, spared
}

// median is the median of xs (NaN when empty).
func median(xs []float64) float64 {
	m, err := stats.Quantile(xs, 0.5)
	if err != nil {
		return math.NaN()
	}
	return m
}

// byPolicy breaks "any signal" down by degrade policy and load.
func byPolicy(out *canon.Out, s *loadsweep.Sweep, runs []outcome) error {
	anyIdx := len(signals) - 1
	var rows [][]string
	for _, pol := range s.Policies {
		for _, lf := range s.Levels {
			sc, err := scoreOf(runs, anyIdx, func(r outcome) bool { return r.policy == pol && r.load == lf })
			if err != nil {
				return err
			}
			row := []string{pol, loadsweep.Level(lf), strconv.Itoa(sc.TP + sc.FN), strconv.Itoa(sc.TP), strconv.Itoa(sc.FP), strconv.Itoa(sc.FN)}
			for i := range signals[:anyIdx] {
				si, err := scoreOf(runs, i, func(r outcome) bool { return r.policy == pol && r.load == lf })
				if err != nil {
					return err
				}
				row = append(row, strconv.Itoa(si.TP+si.FP))
			}
			rows = append(rows, row)
		}
	}
	header := []string{"degrade policy", "load factor", "OOM runs", "any: hits", "any: false alarms", "any: misses"}
	for _, sig := range signals[:anyIdx] {
		header = append(header, "fired: "+sig.Metric)
	}
	out.Table("early-warning-by-cell", fmt.Sprintf("Per cell of the sweep (%d seeds each): hits, false alarms and misses of any signal, and the runs in which each signal fired in time (before any kill)", len(s.Seeds)), header, rows)
	return nil
}
