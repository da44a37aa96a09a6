package canon

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/stats"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/sim"
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
	Levels   []float64
	Policies []string
	Seeds    []uint64
	// Cells[p][l] is policy p at level l over the seeds.
	Cells [][]armResult
}

// sweepCache keeps finished sweeps by their grid, so that when both
// experiments run in one process the second reuses the first's runs. The
// runs are pure functions of their scenarios, so a cached sweep is the
// one a fresh run would compute.
var sweepCache struct {
	sync.Mutex
	m map[string]*loadSweep
}

// loadSweep runs the sweep, or returns the cached one of the same grid.
func (e *Env) loadSweep() (*loadSweep, error) {
	levels, seeds := sweepLevels(e.Quick), e.sweepSeeds()
	key := fmt.Sprint(sweepBase, sweepPolicies, levels, seeds)
	sweepCache.Lock()
	defer sweepCache.Unlock()
	if s, ok := sweepCache.m[key]; ok {
		return s, nil
	}
	s, err := e.runLoadSweep(levels, seeds)
	if err != nil {
		return nil, err
	}
	if sweepCache.m == nil {
		sweepCache.m = map[string]*loadSweep{}
	}
	sweepCache.m[key] = s
	return s, nil
}

// runLoadSweep runs every (policy, level, seed) as one flat batch, so
// the workers stay busy across cells.
func (e *Env) runLoadSweep(levels []float64, seeds []uint64) (*loadSweep, error) {
	base, err := Load(sweepBase)
	if err != nil {
		return nil, err
	}
	s := &loadSweep{Workload: sweepWorkloadName, Index: -1, Levels: levels, Policies: sweepPolicies, Seeds: seeds}
	for i, w := range base.Workloads {
		if w.Name == sweepWorkloadName {
			s.Index = i
			s.RatePerS = meanRatePerS(w)
		}
	}
	if s.Index < 0 {
		return nil, fmt.Errorf("load sweep: scenario %s has no workload %q", sweepBase, sweepWorkloadName)
	}
	type job struct {
		p, l int
		sc   *scenario.Scenario
	}
	var jobs []job
	s.Cells = make([][]armResult, len(sweepPolicies))
	for p, pol := range sweepPolicies {
		s.Cells[p] = make([]armResult, len(levels))
		for l, lf := range levels {
			v := variant{Name: fmt.Sprintf("%s @ %s", pol, sweepLoad(lf)), Sets: []string{
				"policy.degrade=" + pol,
				fmt.Sprintf("workload.%d.load_factor=%s", s.Index, sweepLoad(lf)),
			}}
			sc, err := Load(sweepBase, v.Sets...)
			if err != nil {
				return nil, fmt.Errorf("load sweep %s: %w", v.Name, err)
			}
			s.Cells[p][l] = armResult{variant: v, Scenario: sc}
			for _, seed := range seeds {
				c := sc.Clone()
				c.Run.Seed = seed
				jobs = append(jobs, job{p, l, c})
			}
		}
	}
	runs, err := sim.Replicate(e.Ctx, len(jobs), e.Workers, func(i int) (world.Summary, error) {
		res, err := world.Run(e.Ctx, jobs[i].sc, world.Options{})
		if err != nil {
			return world.Summary{}, fmt.Errorf("load sweep %s seed %d: %w", s.Cells[jobs[i].p][jobs[i].l].Name, jobs[i].sc.Run.Seed, err)
		}
		return res.Summary, nil
	})
	if err != nil {
		return nil, err
	}
	for i, j := range jobs {
		c := &s.Cells[j.p][j.l]
		c.Runs = append(c.Runs, runs[i])
		if runs[i].OOMKills > 0 {
			c.OOM++
		}
	}
	for p := range s.Cells {
		for l := range s.Cells[p] {
			c := &s.Cells[p][l]
			c.P = float64(c.OOM) / float64(len(c.Runs))
			if c.CI, err = stats.WilsonInterval(c.OOM, len(c.Runs), 0.95); err != nil {
				return nil, err
			}
		}
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
