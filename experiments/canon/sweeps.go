package canon

import (
	"sync"

	"github.com/sbmpsim/sbmpsim/experiments/sweep"
	"github.com/sbmpsim/sbmpsim/experiments/world"
)

// sweepRuns keeps the runs of the sweeps one Env ran, by plan hash, so
// that experiments reading the same sweep (oom-probability and
// early-warning share the load sweep) simulate it once per invocation.
// It holds as many sweeps as the Env's experiments define.
type sweepRuns struct {
	mu   sync.Mutex // held while a sweep runs, so that it runs once
	runs map[string][]world.Summary
}

// RunSweep runs every run of p in memory on the Env's workers and
// returns the summaries in p's run order (see sweep.Simulate). An Env
// made by NewEnv returns the runs of a plan with the same hash, which
// are the same runs, without simulating them again; the slice is then
// shared, so callers must not modify it.
func (e *Env) RunSweep(p *sweep.Plan) ([]world.Summary, error) {
	e.rec.add(SweepInputs(p)...)
	if e.sweeps == nil {
		return sweep.Simulate(e.Ctx, p, e.Workers)
	}
	e.sweeps.mu.Lock()
	defer e.sweeps.mu.Unlock()
	if runs, ok := e.sweeps.runs[p.Hash]; ok {
		return runs, nil
	}
	runs, err := sweep.Simulate(e.Ctx, p, e.Workers)
	if err != nil {
		return nil, err
	}
	e.sweeps.runs[p.Hash] = runs
	return runs, nil
}
