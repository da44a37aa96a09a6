package sweep

import (
	"fmt"
	"strings"
)

// Grid is a sweep given as Go values rather than as a sweep file: for
// code that builds its grid itself (the canonical experiments) and runs
// it with Simulate or Execute like any other plan. It says what a sweep
// file says, in the form NewPlan reads from one.
type Grid struct {
	// Name labels the sweep (plan.json's "sweep"); it is part of the
	// plan's hash.
	Name string
	// Scenario names the base scenario as a sweep file would:
	// "embedded:NAME" for an embedded scenario, or a path (relative
	// to the working directory); a bare name with no such file is the
	// embedded scenario of that name.
	Scenario string
	// SeedFirst and Seeds: every point runs on seeds SeedFirst ..
	// SeedFirst+Seeds-1.
	SeedFirst uint64
	Seeds     int
	// Set are overrides applied to every point before the axes', as
	// `sbmpsim run --set` takes them.
	Set []string
	// Axes span the grid, the first varying slowest. A value is the
	// text after KEY= of `--set`, one per key of its axis.
	Axes []Axis
}

// NewGridPlan checks g's shape (what the sweep file format would not let
// through: no seeds, an empty axis, run.seed as a key, a key set twice,
// more runs than MaxRuns) and resolves it with NewPlan, which validates
// every point's scenario. Errors name the sweep.
func NewGridPlan(g Grid) (*Plan, error) {
	if err := g.check(); err != nil {
		return nil, fmt.Errorf("sweep %s: %w", g.Name, err)
	}
	f := &File{Name: g.Name, Scenario: g.Scenario, Seed: g.SeedFirst, HasSeed: true, Seeds: g.Seeds,
		Set: append([]string{}, g.Set...), Axes: g.Axes}
	p, err := NewPlan(f)
	if err != nil {
		return nil, fmt.Errorf("sweep %s: %w", g.Name, err)
	}
	return p, nil
}

// check reports the first problem with g's shape.
func (g Grid) check() error {
	switch {
	case g.Name == "":
		return fmt.Errorf("no name")
	case strings.TrimSpace(g.Scenario) == "":
		return fmt.Errorf("no base scenario")
	case g.Seeds < 1 || g.Seeds > MaxSeeds:
		return fmt.Errorf("seeds %d: must be 1..%d", g.Seeds, MaxSeeds)
	case len(g.Axes) > MaxAxes:
		return fmt.Errorf("%d axes: at most %d", len(g.Axes), MaxAxes)
	}
	owner := map[string]string{}
	for i, s := range g.Set {
		k, _, ok := strings.Cut(s, "=")
		if !ok {
			return fmt.Errorf("set %q is not KEY=VALUE", s)
		}
		owner[strings.TrimSpace(k)] = fmt.Sprintf("set %d", i)
	}
	points := 1
	for i, a := range g.Axes {
		at := fmt.Sprintf("axis %d", i)
		if len(a.Keys) == 0 || len(a.Values) == 0 || len(a.Values) > MaxValuesPerAxis {
			return fmt.Errorf("%s: %d keys and %d values; want at least one key and 1..%d values", at, len(a.Keys), len(a.Values), MaxValuesPerAxis)
		}
		for _, k := range a.Keys {
			if k == "" || k == "run.seed" || strings.ContainsAny(k, "= ") {
				return fmt.Errorf("%s: key %q: want a scenario key other than run.seed (the seeds are SeedFirst and Seeds)", at, k)
			}
			if prev, dup := owner[k]; dup {
				return fmt.Errorf("%s: %s is set by %s already", at, k, prev)
			}
			owner[k] = at
		}
		for j, v := range a.Values {
			if len(v) != len(a.Keys) {
				return fmt.Errorf("%s: value %d has %d entries for %d keys", at, j, len(v), len(a.Keys))
			}
		}
		if points *= len(a.Values); points > MaxPoints {
			return fmt.Errorf("the grid has more than %d points", MaxPoints)
		}
	}
	if points*g.Seeds > MaxRuns {
		return fmt.Errorf("%d points x %d seeds: at most %d runs", points, g.Seeds, MaxRuns)
	}
	return nil
}
