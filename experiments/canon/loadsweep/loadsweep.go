// Package loadsweep is the load sweep that the oom-probability and
// early-warning experiments both read: the default scenario with the
// offered rate of its long-lived 256-byte sessions (the workload SPEC 1.3
// blames) scaled by a load factor, under every degrade policy, over the
// seeds. The other workloads keep their rates, so the sweep moves only
// the pressure that drives the tier imbalance.
//
// The sweep is a sweep.Grid run by the sweep engine (experiments/sweep);
// run twice with one canon.Env, it is simulated once.
package loadsweep

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/canon"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/stats"
	"github.com/sbmpsim/sbmpsim/experiments/sweep"
)

// baseScenario is the embedded scenario the sweep scales.
const baseScenario = "oom-crisis"

// workloadName is the workload whose load_factor the sweep sets.
const workloadName = "long-lived-small"

// policies are the degrade policies, the seed's first.
func policies() []string {
	return []string{"immediate-tier2", "wait-refill", "steal-remote", "reclaim-first", "fail-fast"}
}

// levels are the load factors: from clearly safe (no run of the seed's
// settings is killed) to clearly OOM (every run is). The quick grid
// keeps three of them: a cell is 5 policies x the seeds, about 5
// CPU-seconds a seed, and the quick run must stay near a minute.
func levels(quick bool) []float64 {
	if quick {
		return []float64{0.5, 1, 2}
	}
	return []float64{0.25, 0.5, 0.75, 1, 1.5, 2}
}

// Sweep is the sweep's outcome.
type Sweep struct {
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
	Cells [][]canon.Arm
	// FirstOOM[p][l] is that cell's Kaplan-Meier time to the first OOM
	// kill, as the sweep's report computes it.
	FirstOOM [][]sweep.FirstOOM
}

// Run runs the sweep with env: every (policy, level, seed) as one flat
// batch, so that the workers stay busy across cells.
func Run(env *canon.Env) (*Sweep, error) {
	s, p, err := newSweep(env)
	if err != nil {
		return nil, err
	}
	runs, err := env.RunSweep(p)
	if err != nil {
		return nil, fmt.Errorf("load sweep: %w", err)
	}
	rep, err := sweep.Aggregate(&p.PlanFile, runs)
	if err != nil {
		return nil, fmt.Errorf("load sweep: %w", err)
	}
	// Points come in grid order: the policy slowest, the level fastest.
	s.Cells = make([][]canon.Arm, len(s.Policies))
	s.FirstOOM = make([][]sweep.FirstOOM, len(s.Policies))
	for i, pt := range rep.Points {
		pol, l := i/len(s.Levels), i%len(s.Levels)
		s.FirstOOM[pol] = append(s.FirstOOM[pol], pt.FirstOOM)
		s.Cells[pol] = append(s.Cells[pol], canon.Arm{
			Variant: canon.Variant{Name: fmt.Sprintf("%s @ %s", s.Policies[pol], Level(s.Levels[l])), Sets: pt.Overrides},
			Runs:    runs[i*p.Seeds : (i+1)*p.Seeds],
			OOM:     pt.OOMRuns, P: pt.OOMProbability, CI: stats.Interval{Lo: pt.OOMCI95Wilson[0], Hi: pt.OOMCI95Wilson[1]},
		})
	}
	return s, nil
}

// Plan lists the inputs of the sweep Run runs, for the Plan of the
// experiments that read it.
func Plan(env *canon.Env) ([]canon.Input, error) {
	_, p, err := newSweep(env)
	if err != nil {
		return nil, err
	}
	return canon.SweepInputs(p), nil
}

// newSweep is the sweep env asks for, before its runs, and its plan.
func newSweep(env *canon.Env) (*Sweep, *sweep.Plan, error) {
	base, err := canon.Load(baseScenario)
	if err != nil {
		return nil, nil, err
	}
	s := &Sweep{Workload: workloadName, DurationMs: base.Run.DurationMs,
		Levels: levels(env.Quick), Policies: policies(), Seeds: env.Seeds(4, 100)}
	if s.Index, err = canon.WorkloadIndex(base, workloadName); err != nil {
		return nil, nil, fmt.Errorf("load sweep: %w", err)
	}
	s.RatePerS = meanRatePerS(base.Workloads[s.Index])
	p, err := sweep.NewGridPlan(s.grid())
	if err != nil {
		return nil, nil, err
	}
	return s, p, nil
}

// grid is the sweep as the sweep engine takes it.
func (s *Sweep) grid() sweep.Grid {
	policy := sweep.Axis{Keys: []string{"policy.degrade"}}
	for _, pol := range s.Policies {
		policy.Values = append(policy.Values, []string{pol})
	}
	load := sweep.Axis{Keys: []string{fmt.Sprintf("workload.%d.load_factor", s.Index)}}
	for _, lf := range s.Levels {
		load.Values = append(load.Values, []string{Level(lf)})
	}
	return sweep.Grid{Name: "load-sweep", Scenario: "embedded:" + baseScenario,
		SeedFirst: s.Seeds[0], Seeds: len(s.Seeds), Axes: []sweep.Axis{policy, load}}
}

// meanRatePerS is a synthetic workload's long-run mean arrival rate at
// load factor 1 (for mmpp, the time-weighted mean of its two rates).
func meanRatePerS(w scenario.Workload) float64 {
	if w.Arrival == "mmpp" {
		return (w.RateLowPerS*w.LowMeanMs + w.RateHighPerS*w.HighMeanMs) / (w.LowMeanMs + w.HighMeanMs)
	}
	return w.RatePerS
}

// Level formats a load factor as short as it goes.
func Level(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// Levels lists load factors, comma-separated.
func Levels(ls []float64) string {
	s := make([]string, len(ls))
	for i, l := range ls {
		s[i] = Level(l)
	}
	return strings.Join(s, ", ")
}

// Cmd is the command that regenerates the experiment called name, which
// reads the sweep, with the grid in a comment.
func (s *Sweep) Cmd(env *canon.Env, name string) string {
	return fmt.Sprintf("sbmpsim experiment run %s%s   # seeds 1-%d x load factors %s of workload.%d (%s) x %d degrade policies; one cell: sbmpsim run --seeds %d --set policy.degrade=fail-fast --set workload.%d.load_factor=2 --out out/",
		name, env.QuickFlag(), len(s.Seeds), Levels(s.Levels), s.Index, s.Workload, len(s.Policies), len(s.Seeds), s.Index)
}
