package vopr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenarios"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/sim"
)

// Options tune a check.
type Options struct {
	// Every checks after every Every-th event; 0 or 1: after each.
	Every int64
	// FullEvery makes every FullEvery-th check walk every structure
	// whole, the others check what the events touched
	// (world.Options.CheckFullEvery); 0 takes
	// world.DefaultCheckFullEvery.
	FullEvery int64
	// Progress, if set, is called after each check of seed i's run with
	// the simulated time then and at the end of the run, on the run's
	// goroutine (calls for different seeds may be concurrent).
	Progress func(i int, nowNs, endNs int64)
	// Shrink shrinks the scenario of a failing seed.
	Shrink bool
	// MaxShrinkRuns bounds the runs one shrink may make; 0 takes
	// DefaultMaxShrinkRuns.
	MaxShrinkRuns int
}

// DefaultMaxShrinkRuns bounds a shrink: each attempt is one checked run.
const DefaultMaxShrinkRuns = 200

// Outcome is one checked scenario.
type Outcome struct {
	Seed     uint64
	Scenario *scenario.Scenario
	Events   int64  // events run (of the whole run, or to the failure)
	Checks   uint64 // component invariant checks made
	// Check counts the checks' passes and whole walks (to the failing
	// check, of a run that broke an invariant).
	Check world.CheckStats
	// Err is the failure: an *world.InvariantError, a run error
	// (an event limit, a set-up error), or nil when every check passed.
	Err error
	// Shrunk is the smallest scenario found that fails the same way;
	// nil without a shrink.
	Shrunk *Shrunk
}

// CheckSeed generates the scenario of seed and checks it.
func CheckSeed(seed uint64, opt Options) Outcome {
	sc, err := Generate(seed)
	if err != nil {
		return Outcome{Seed: seed, Err: err}
	}
	return CheckScenario(sc, opt)
}

// CheckScenario runs sc with every invariant checked and, when it fails
// and opt.Shrink is set, shrinks it.
func CheckScenario(sc *scenario.Scenario, opt Options) Outcome {
	return checkScenario(sc, opt, nil)
}

// checkScenario is CheckScenario, telling progress (if set) how far the
// run has got.
func checkScenario(sc *scenario.Scenario, opt Options, progress func(nowNs, endNs int64)) Outcome {
	o := Outcome{Seed: sc.Run.Seed, Scenario: sc}
	res, err := world.Run(context.Background(), sc, world.Options{CheckEvery: max(opt.Every, 1), CheckFullEvery: opt.FullEvery, CheckProgress: progress})
	if err == nil {
		o.Events, o.Checks, o.Check = res.Summary.Events, res.Summary.InvariantChecks, res.Check
		return o
	}
	o.Err = err
	var ie *world.InvariantError
	if errors.As(err, &ie) {
		o.Events, o.Check = ie.Event, ie.Check
	}
	if opt.Shrink {
		sh := Shrink(sc, err, opt)
		o.Shrunk = &sh
	}
	return o
}

// CheckSeeds checks seeds on up to workers goroutines; the outcomes are
// in seed order and do not depend on workers.
func CheckSeeds(ctx context.Context, seeds []uint64, workers int, opt Options) ([]Outcome, error) {
	return sim.Replicate(ctx, len(seeds), workers, func(i int) (Outcome, error) {
		sc, err := Generate(seeds[i])
		if err != nil {
			return Outcome{Seed: seeds[i], Err: err}, nil
		}
		return checkScenario(sc, opt, opt.seedProgress(i)), nil
	})
}

// CheckScenarioSeeds checks sc once per seed (sc with run.seed set to
// each) on up to workers goroutines; the outcomes are in seed order and
// do not depend on workers.
func CheckScenarioSeeds(ctx context.Context, sc *scenario.Scenario, seeds []uint64, workers int, opt Options) ([]Outcome, error) {
	return sim.Replicate(ctx, len(seeds), workers, func(i int) (Outcome, error) {
		c := sc.Clone()
		c.Run.Seed = seeds[i]
		return checkScenario(c, opt, opt.seedProgress(i)), nil
	})
}

// seedProgress is opt.Progress for seed i, or nil.
func (opt Options) seedProgress(i int) func(nowNs, endNs int64) {
	if opt.Progress == nil {
		return nil
	}
	return func(nowNs, endNs int64) { opt.Progress(i, nowNs, endNs) }
}

// signature classifies a failure, so that shrinking keeps a change only
// when the scenario still fails the same way: the broken invariant, or
// the kind of run error.
func signature(err error) string {
	var ie *world.InvariantError
	var le *sim.LimitError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ie):
		return "invariant: " + ie.Invariant
	case errors.As(err, &le):
		return "limit: " + le.Limit
	}
	return "error"
}

// WriteData writes the data files generated scenarios name into
// dir/data/, so that a generated scenario encoded into dir runs from
// there (`sbmpsim run dir/FILE.toml`).
func WriteData(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		return err
	}
	for _, name := range []string{TraceFile, HistogramFile} {
		if err := copyData(name, filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("vopr: write %s: %w", name, err)
		}
	}
	return nil
}

func copyData(name, to string) error {
	in, err := scenarios.OpenData(name)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
