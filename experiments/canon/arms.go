package canon

import (
	"fmt"

	"github.com/sbmpsim/sbmpsim/experiments/ab"
	"github.com/sbmpsim/sbmpsim/experiments/stats"
	"github.com/sbmpsim/sbmpsim/experiments/world"
)

// Variant is one arm of a many-armed comparison: a name and its overrides
// of the experiment's base scenario.
type Variant struct {
	Name string
	Sets []string
}

// Arm is one variant run over the experiment's seeds, with its OOM
// probability and that probability's 95 % Wilson interval.
type Arm struct {
	Variant
	Runs []world.Summary
	// OOM counts the runs with at least one OOM kill.
	OOM int
	P   float64
	CI  stats.Interval
}

// RunVariants runs every variant of the embedded scenario base (with the
// common overrides first) over seeds and computes each one's OOM
// probability with its Wilson interval.
func (e *Env) RunVariants(base string, common []string, vs []Variant, seeds []uint64) ([]Arm, error) {
	scs, err := VariantScenarios(base, common, vs)
	if err != nil {
		return nil, err
	}
	out := make([]Arm, len(vs))
	for i, v := range vs {
		runs, err := e.RunSeeds(scs[i], seeds)
		if err != nil {
			return nil, fmt.Errorf("variant %s: %w", v.Name, err)
		}
		a := Arm{Variant: v, Runs: runs}
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

// Paired compares arm b with arm a on the same seeds with the A/B
// runner's analysis (McNemar, Newcombe, bootstrap), b - a.
func Paired(base string, a, b Arm, seeds []uint64) (*ab.Report, error) {
	exp := ab.Experiment{Scenario: base, Source: "embedded:" + base,
		A: ab.Arm{Key: "a", Name: a.Name, Overrides: a.Sets},
		B: ab.Arm{Key: "b", Name: b.Name, Overrides: b.Sets}}
	return ab.Analyze(exp, &ab.Runs{Seeds: seeds, A: a.Runs, B: b.Runs})
}
