package canon

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/stats"
	"github.com/sbmpsim/sbmpsim/experiments/sweep"
)

// The load sweep is the grid that oom-probability and early-warning both
// read: the default scenario with the offered rate of its long-lived
// 256-byte sessions (the workload SPEC 1.3 blames) scaled by a load
// factor, under every degrade policy, over the seeds. The other
// workloads keep their rates, so the sweep moves only the pressure that
// drives the tier imbalance.

// sweepBase is the scenario the sweep scales.
const sweepBase = "oom-crisis"

// sweepWorkloadName is the workload whose load_factor the sweep sets.
const sweepWorkloadName = "long-lived-small"

// sweepPolicies are the degrade policies, the seed's first.
var sweepPolicies = []string{"immediate-tier2", "wait-refill", "steal-remote", "reclaim-first", "fail-fast"}

// sweepLevels are the load factors: from clearly safe (no run of the
// seed's settings is killed) to clearly OOM (every run is). The quick
// grid keeps three of them: a cell is 5 policies x the seeds, about 5
// CPU-seconds a seed, and the quick run must stay near a minute.
func sweepLevels(quick bool) []float64 {
	if quick {
		return []float64{0.5, 1, 2}
	}
	return []float64{0.25, 0.5, 0.75, 1, 1.5, 2}
}

// sweepSeeds is the seeds of every cell of the sweep.
func (e *Env) sweepSeeds() []uint64 { return e.Seeds(4, 100) }

// loadSweep is the sweep's outcome.
type loadSweep struct {
	// Workload is the scaled workload's name and Index its place in the
	// scenario (the N of workload.N.load_factor).
	Workload string
	Index    int
	// RatePerS is its long-run mean offered rate at load factor 1.
	RatePerS float64
	// DurationMs is the simulated time of every run.
	DurationMs int64
	Levels     []float64
	Policies   []string
	Seeds      []uint64
	// Cells[p][l] is policy p at level l over the seeds.
	Cells [][]armResult
}

// loadSweep runs the sweep through the sweep engine, every (policy,
// level, seed) as one flat batch so that the workers stay busy across
// cells. Run with the same Env, the second experiment that reads it gets
// the first one's runs (Env.RunSweep).
func (e *Env) loadSweep() (*loadSweep, error) {
	base, err := Load(sweepBase)
	if err != nil {
		return nil, err
	}
	s := &loadSweep{Workload: sweepWorkloadName, Index: -1, DurationMs: base.Run.DurationMs,
		Levels: sweepLevels(e.Quick), Policies: sweepPolicies, Seeds: e.sweepSeeds()}
	for i, w := range base.Workloads {
		if w.Name == sweepWorkloadName {
			s.Index = i
			s.RatePerS = meanRatePerS(w)
		}
	}
	if s.Index < 0 {
		return nil, fmt.Errorf("load sweep: scenario %s has no workload %q", sweepBase, sweepWorkloadName)
	}
	policy := sweep.Axis{Keys: []string{"policy.degrade"}}
	for _, pol := range s.Policies {
		policy.Values = append(policy.Values, []string{pol})
	}
	load := sweep.Axis{Keys: []string{fmt.Sprintf("workload.%d.load_factor", s.Index)}}
	for _, lf := range s.Levels {
		load.Values = append(load.Values, []string{sweepLoad(lf)})
	}
	p, err := sweep.NewGridPlan(sweep.Grid{Name: "load-sweep", Scenario: "embedded:" + sweepBase,
		SeedFirst: s.Seeds[0], Seeds: len(s.Seeds), Axes: []sweep.Axis{policy, load}})
	if err != nil {
		return nil, err
	}
	runs, err := e.RunSweep(p)
	if err != nil {
		return nil, fmt.Errorf("load sweep: %w", err)
	}
	rep, err := sweep.Aggregate(&p.PlanFile, runs)
	if err != nil {
		return nil, fmt.Errorf("load sweep: %w", err)
	}
	// Points run in grid order: the policy slowest, the level fastest.
	s.Cells = make([][]armResult, len(s.Policies))
	for i, pt := range rep.Points {
		pol, l := i/len(s.Levels), i%len(s.Levels)
		s.Cells[pol] = append(s.Cells[pol], armResult{
			variant: variant{Name: fmt.Sprintf("%s @ %s", s.Policies[pol], sweepLoad(s.Levels[l])), Sets: pt.Overrides},
			Runs:    runs[i*p.Seeds : (i+1)*p.Seeds],
			OOM:     pt.OOMRuns, P: pt.OOMProbability, CI: stats.Interval{Lo: pt.OOMCI95Wilson[0], Hi: pt.OOMCI95Wilson[1]},
		})
	}
	return s, nil
}

// meanRatePerS is a synthetic workload's long-run mean arrival rate at
// load factor 1 (for mmpp, the time-weighted mean of its two rates).
func meanRatePerS(w scenario.Workload) float64 {
	if w.Arrival == "mmpp" {
		return (w.RateLowPerS*w.LowMeanMs + w.RateHighPerS*w.HighMeanMs) / (w.LowMeanMs + w.HighMeanMs)
	}
	return w.RatePerS
}

// sweepLoad formats a load factor as short as it goes.
func sweepLoad(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// sweepCmd is the command that regenerates an experiment reading the
// sweep, with the grid in a comment.
func (e *Env) sweepCmd(name string, s *loadSweep) string {
	levels := make([]string, len(s.Levels))
	for i, l := range s.Levels {
		levels[i] = sweepLoad(l)
	}
	return fmt.Sprintf("sbmpsim experiment run %s%s   # seeds 1-%d x load factors %s of workload.%d (%s) x %d degrade policies; one cell: sbmpsim run --seeds %d --set policy.degrade=fail-fast --set workload.%d.load_factor=2 --out out/",
		name, e.QuickFlag(), len(s.Seeds), strings.Join(levels, ", "), s.Index, s.Workload, len(s.Policies), len(s.Seeds), s.Index)
}
