// Package canon holds sbmpsim's canonical experiments: each one is a
// scenario plus variants, run over seeds, written to notebooks-out/NAME/
// as figures (PNG and SVG), CSV files of every plotted number, a
// README.md and an HTML fragment; Report assembles the fragments into
// one self-contained notebooks-out/index.html.
//
// This package is the framework the experiments share: Experiment, the
// Env they run with, Out that collects what they write, Report, and the
// helpers several of them use. Each experiment is a package beneath it
// (oomcrisis, tierbalance, ...); the list of them, in report order, is
// package catalog, which the CLI reads. Figure helpers are package
// figure; the load sweep two experiments share is package loadsweep.
//
// Everything an experiment writes is a pure function of its inputs (the
// embedded scenarios, the seeds, quick or not): no wall times, no dates,
// so the committed --quick outputs regenerate byte for byte.
package canon

import (
	"context"
	"fmt"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/sim"
)

// Experiment is one canonical experiment.
type Experiment struct {
	// Name is its directory under notebooks-out and its CLI name.
	Name string
	// Title is the heading of its section.
	Title string
	// Spec names the parts of SBMP-SPEC.md it stages.
	Spec string
	// Run runs it and writes its figures, tables and text into out.
	Run func(env *Env, out *Out) error
	// Plan lists the inputs Run asks env to run (see Input), without
	// running anything: the same scenarios, seeds and stops, in any
	// order. `experiment run` estimates its time from them and checks
	// afterwards that the experiment ran exactly these.
	Plan func(env *Env) ([]Input, error)
}

// Env is what an experiment runs with. Make it with NewEnv.
type Env struct {
	Ctx context.Context
	// Quick asks for the small version: fewer seeds, shorter runs; the
	// committed outputs are the quick ones.
	Quick bool
	// Workers is the number of simulations run at once.
	Workers int
	// sweeps shares sweep runs between the experiments run with this Env;
	// nil (an Env not made by NewEnv) runs every sweep afresh.
	sweeps *sweepRuns
	// rec records the inputs of the runs asked for (RunExperiment reads
	// them); nil (an Env not made by NewEnv) records nothing.
	rec *recorder
}

// NewEnv returns the Env of one invocation: experiments run with it share
// the runs of the sweeps they have in common (see RunSweep).
func NewEnv(ctx context.Context, quick bool, workers int) *Env {
	return &Env{Ctx: ctx, Quick: quick, Workers: workers, sweeps: &sweepRuns{runs: map[string][]world.Summary{}}, rec: &recorder{}}
}

// Seeds returns the seeds to run: quick or full count, from 1.
func (e *Env) Seeds(quick, full int) []uint64 {
	n := full
	if e.Quick {
		n = quick
	}
	s := make([]uint64, n)
	for i := range s {
		s[i] = uint64(i + 1)
	}
	return s
}

// QuickFlag is " --quick" for quick runs, for the commands a report
// prints.
func (e *Env) QuickFlag() string {
	if e.Quick {
		return " --quick"
	}
	return ""
}

// Load returns an embedded scenario with overrides applied and
// validated. It asks for the embedded one by name, so that a file of
// that name in the working directory cannot stand in for it.
func Load(name string, sets ...string) (*scenario.Scenario, error) {
	sc, err := scenario.Load("embedded:" + name)
	if err != nil {
		return nil, err
	}
	for _, s := range sets {
		if err := sc.Set(s); err != nil {
			return nil, err
		}
	}
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	return sc, nil
}

// WorkloadIndex finds a workload of sc by name: the N of the
// workload.N.KEY overrides.
func WorkloadIndex(sc *scenario.Scenario, name string) (int, error) {
	for i, w := range sc.Workloads {
		if w.Name == name {
			return i, nil
		}
	}
	return 0, fmt.Errorf("scenario %s has no workload %q", sc.Source, name)
}

// RunSeeds runs sc once per seed and returns the summaries in seed order.
func (e *Env) RunSeeds(sc *scenario.Scenario, seeds []uint64) ([]world.Summary, error) {
	e.rec.add(Input{Scenario: sc, Seeds: seeds})
	return world.RunSeeds(e.Ctx, sc, seeds, e.Workers)
}

// RunAll runs each scenario once (its own seed) on the workers and
// returns the results in order.
func (e *Env) RunAll(scs []*scenario.Scenario) ([]*world.Result, error) {
	e.rec.add(ScenarioInputs(scs)...)
	return sim.Replicate(e.Ctx, len(scs), e.Workers, func(i int) (*world.Result, error) {
		return world.Run(e.Ctx, scs[i], world.Options{})
	})
}
