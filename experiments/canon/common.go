package canon

import (
	"fmt"
	"math"
	"strconv"

	"github.com/sbmpsim/sbmpsim/experiments/ab"
	"github.com/sbmpsim/sbmpsim/experiments/stats"
	"github.com/sbmpsim/sbmpsim/experiments/world"
)

// variant is one arm of a many-armed comparison: a name and its overrides
// of the experiment's base scenario.
type variant struct {
	Name string
	Sets []string
}

// armResult is one variant run over the experiment's seeds.
type armResult struct {
	variant
	Runs []world.Summary
	OOM  int
	P    float64
	CI   stats.Interval
}

// runVariants runs every variant of base over seeds and computes each
// one's OOM probability with its Wilson interval.
func (e *Env) runVariants(base string, common []string, vs []variant, seeds []uint64) ([]armResult, error) {
	out := make([]armResult, len(vs))
	for i, v := range vs {
		sc, err := Load(base, append(append([]string(nil), common...), v.Sets...)...)
		if err != nil {
			return nil, fmt.Errorf("variant %s: %w", v.Name, err)
		}
		runs, err := e.RunSeeds(sc, seeds)
		if err != nil {
			return nil, fmt.Errorf("variant %s: %w", v.Name, err)
		}
		a := armResult{variant: v, Runs: runs}
		for _, r := range runs {
			if r.OOMKills > 0 {
				a.OOM++
			}
		}
		a.P = float64(a.OOM) / float64(len(runs))
		if a.CI, err = stats.WilsonInterval(a.OOM, len(runs), 0.95); err != nil {
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

// paired compares arm b with arm a on the same seeds with the A/B
// runner's analysis (McNemar, Newcombe, bootstrap), b - a.
func paired(base string, a, b armResult, seeds []uint64) (*ab.Report, error) {
	exp := ab.Experiment{Scenario: base, Source: "embedded:" + base,
		A: ab.Arm{Key: "a", Name: a.Name, Overrides: a.Sets},
		B: ab.Arm{Key: "b", Name: b.Name, Overrides: b.Sets}}
	return ab.Analyze(exp, &ab.Runs{Seeds: seeds, A: a.Runs, B: b.Runs})
}

// firstOOMSeconds is the time of a run's first OOM kill in seconds, or
// NaN.
func firstOOMSeconds(s world.Summary) float64 {
	if len(s.OOMEvents) == 0 {
		return math.NaN()
	}
	t := s.OOMEvents[0].TimeNs
	for _, e := range s.OOMEvents {
		t = min(t, e.TimeNs)
	}
	return float64(t) / 1e9
}

func f(x float64, prec int) string {
	if math.IsNaN(x) {
		return ""
	}
	return strconv.FormatFloat(x, 'f', prec, 64)
}

func pct(x float64) string { return strconv.FormatFloat(100*x, 'f', 0, 64) + " %" }

func itoa(n int) string { return strconv.Itoa(n) }

// column returns the index of a time series column.
func column(ts *world.Timeseries, name string) (int, error) {
	for i, c := range ts.Columns {
		if c == name {
			return i, nil
		}
	}
	return 0, fmt.Errorf("no time series column %q", name)
}

// meanOf averages f over runs.
func meanOf(runs []world.Summary, f func(world.Summary) float64) float64 {
	if len(runs) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, r := range runs {
		s += f(r)
	}
	return s / float64(len(runs))
}
