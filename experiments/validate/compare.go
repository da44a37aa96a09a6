package validate

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/stats"
)

// Verdicts of a metric and of a case.
const (
	Pass    = "pass"
	Miss    = "miss"
	Skipped = "skipped"
	// Failed is a case whose runs did not all run (an error, not a
	// result).
	Failed = "failed"
)

// Side is one metric over the runs of one side, real or simulated: the
// spread of the runs that have a value (N of Runs), or for a name the
// most common one with every name's count.
type Side struct {
	Runs   int            `json:"runs"`
	N      int            `json:"n"`
	Median *float64       `json:"median,omitempty"`
	Min    *float64       `json:"min,omitempty"`
	Max    *float64       `json:"max,omitempty"`
	Mode   string         `json:"mode,omitempty"`
	Counts map[string]int `json:"counts,omitempty"`
	// Values are the runs' values in run (seed) order, null where a run
	// has none; Texts the names of a name metric.
	Values []*float64 `json:"values,omitempty"`
	Texts  []string   `json:"texts,omitempty"`
}

// has reports whether most runs have a value.
func (s *Side) has() bool { return s.Runs > 0 && 2*s.N > s.Runs }

// sideOf summarises metric m over runs.
func sideOf(m MetricID, runs []Observed) Side {
	s := Side{Runs: len(runs)}
	if m.IsText() {
		s.Counts = map[string]int{}
		for i := range runs {
			if v := runs[i].Measure(m); v.Defined {
				s.Counts[v.Text]++
				s.Texts = append(s.Texts, v.Text)
				s.N++
			}
		}
		s.Mode = modeOf(s.Counts)
		return s
	}
	var xs []float64
	for i := range runs {
		v := runs[i].Measure(m)
		if !v.Defined {
			s.Values = append(s.Values, nil)
			continue
		}
		x := v.Num
		s.Values = append(s.Values, &x)
		xs = append(xs, x)
	}
	s.N = len(xs)
	if s.N == 0 {
		return s
	}
	slices.Sort(xs)
	med, err := stats.P50(xs)
	if err != nil {
		panic("validate: " + err.Error()) // the values are measured counts and times, finite
	}
	s.Median, s.Min, s.Max = &med, &xs[0], &xs[len(xs)-1]
	return s
}

// modeOf is the most common name, the alphabetically first on a tie (so
// that the choice does not depend on map order).
func modeOf(counts map[string]int) string {
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int {
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

// MetricResult is one metric of one case: both sides, the error of the
// simulation's median against the real median, the tolerance and the
// verdict.
type MetricResult struct {
	Metric MetricID `json:"metric"`
	Unit   string   `json:"unit,omitempty"`
	Real   *Side    `json:"real,omitempty"`
	Sim    *Side    `json:"sim,omitempty"`
	// ErrAbs is sim - real (in Unit); ErrRel is ErrAbs / |real| (absent
	// when real is 0).
	ErrAbs  *float64  `json:"error_abs,omitempty"`
	ErrRel  *float64  `json:"error_rel,omitempty"`
	Tol     Tolerance `json:"tolerance"`
	Verdict string    `json:"verdict"`
	// Reason says why a miss or a skip (and what "pass" rests on when
	// neither side has a value).
	Reason string `json:"reason,omitempty"`
	// Mechanism explains a miss once it is understood (Case.Misses).
	Mechanism string `json:"mechanism,omitempty"`
}

// compare judges one metric from both sides' runs.
func compare(k Check, realRuns, simRuns []Observed) MetricResult {
	m := k.Metric
	r, s := sideOf(m, realRuns), sideOf(m, simRuns)
	res := MetricResult{Metric: m, Unit: m.Unit(), Real: &r, Sim: &s, Tol: k.Tol}
	if m.IsText() {
		res.Verdict = Pass
		if r.Mode != s.Mode {
			res.Verdict = Miss
			res.Reason = fmt.Sprintf("real %s, simulated %s", r.Mode, s.Mode)
		}
		return res
	}
	switch {
	case !r.has() && !s.has():
		res.Verdict, res.Reason = Pass, fmt.Sprintf("neither side has one (real %d of %d runs, simulated %d of %d)", r.N, r.Runs, s.N, s.Runs)
		return res
	case r.has() != s.has():
		res.Verdict, res.Reason = Miss, fmt.Sprintf("real: %d of %d runs have one, simulated: %d of %d", r.N, r.Runs, s.N, s.Runs)
		return res
	}
	errAbs := *s.Median - *r.Median
	res.ErrAbs = &errAbs
	if *r.Median != 0 {
		errRel := errAbs / math.Abs(*r.Median)
		res.ErrRel = &errRel
	}
	res.Verdict = Miss
	if within(res.ErrRel, res.ErrAbs, k.Tol) {
		res.Verdict = Pass
	} else {
		res.Reason = "outside the tolerance"
	}
	return res
}

// within reports whether an error is inside a tolerance: the relative
// error within Rel, or the absolute one within Abs.
func within(errRel, errAbs *float64, t Tolerance) bool {
	if errRel != nil && t.Rel > 0 && math.Abs(*errRel) <= t.Rel {
		return true
	}
	return errAbs != nil && t.Abs > 0 && math.Abs(*errAbs) <= t.Abs
}

// notSimulated marks every metric of a case the simulation cannot yet
// simulate faithfully as a miss with the reason, keeping both sides'
// values for reference.
func notSimulated(res []MetricResult, reason string) {
	for i := range res {
		if res[i].Verdict == Skipped {
			continue
		}
		res[i].Verdict, res[i].Reason = Miss, "not yet simulated: "+reason
	}
}

// caseVerdict is a case's verdict from its metrics': skipped when all
// are, a miss when any misses, else a pass.
func caseVerdict(res []MetricResult) string {
	skipped, missed := 0, false
	for _, r := range res {
		switch r.Verdict {
		case Skipped:
			skipped++
		case Miss:
			missed = true
		}
	}
	switch {
	case len(res) > 0 && skipped == len(res):
		return Skipped
	case missed:
		return Miss
	}
	return Pass
}

// formatTolerance writes a tolerance as the table shows it: "10 %",
// "15 % or 16 MiB", "equal".
func formatTolerance(m MetricID, t Tolerance) string {
	var parts []string
	if t.Rel > 0 {
		parts = append(parts, fmt.Sprintf("%g %%", 100*t.Rel))
	}
	if t.Abs > 0 {
		parts = append(parts, fmt.Sprintf("%g %s", t.Abs, m.Unit()))
	}
	if len(parts) == 0 {
		return "equal"
	}
	return strings.Join(parts, " or ")
}
