package world

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/sim"
)

// Options steer one run. The zero value runs the scenario to its end,
// unchecked and unobserved.
type Options struct {
	// Observer, if set, is called after every time-series sample (every
	// [output] sample_interval_ms of simulated time, and at the end) with
	// the state of the simulation then. It runs on the simulation's
	// goroutine, must only read the Snapshot, and must not keep it past
	// the call. Observing changes nothing in the run.
	Observer func(*Snapshot)
	// StopAtNs, if positive and before the end of the scenario's
	// duration, ends the run at that simulated time: the Result is the
	// run up to then, with sim_time_ns = StopAtNs.
	StopAtNs int64
	// CheckEvery, if positive, checks every invariant after every
	// CheckEvery-th event (1: after each), before the first and after the
	// last, and fails the run with an *InvariantError at the first
	// violation. Checking only reads: the Result is the unchecked run's,
	// with Summary.InvariantChecks counting the checks made.
	CheckEvery int64
	// CheckFullEvery, with CheckEvery, makes every CheckFullEvery-th
	// check (the first and the last too) walk every structure whole;
	// the checks between check the kernel incrementally, what the events
	// touched since the last check (kernel.Machine.CheckTouched). 0 takes
	// DefaultCheckFullEvery; 1 walks every structure at every check.
	CheckFullEvery int64
	// CheckProgress, if set, is called after each check of a checked
	// run with the simulated time then and at the end of the run. It
	// runs on the simulation's goroutine; progress bars use it.
	CheckProgress func(nowNs, endNs int64)
	// CheckAtEnd, if set, checks every invariant once, on the state at
	// the end of the run (a whole-structure walk of each allocator, the
	// kernel and the run's books), and fails the run with an
	// *InvariantError if one is violated; Summary.InvariantChecks counts
	// the component checks made. It only reads: the Result is otherwise
	// the unchecked run's.
	CheckAtEnd bool
	// AtEnd, if set, is called once at the end of simulated time while
	// the whole simulation is still alive (benchmarks measure memory
	// there).
	AtEnd func()
	// AtStart, if set, is called once the run is set up, just before its
	// first event (benchmarks start their clock there, and stop it in
	// AtEnd, so that neither building the world nor summarising it is
	// timed).
	AtStart func()
	// StopAfterOps, if positive, ends the run after the first event at
	// whose end the SBMP workloads' allocations plus frees
	// (Summary.Allocs + Summary.Frees) reach StopAfterOps, or at the end
	// of the run if they never do. Synthetic and Go-program workloads do
	// one operation per event, so their runs stop at exactly StopAfterOps;
	// a trace replay's event may pass it. The Result is the run up to the
	// end of that event, with sim_time_ns its time; it is not Incomplete
	// (the caller asked for the stop). It cannot be combined with
	// CheckEvery or CheckAtEnd.
	StopAfterOps int64
	// setUp, if set, is called once the run is set up, before the first
	// event: tests break the books there.
	setUp func(*simulation)
}

// cancelCheckNs is how much simulated time runs between two looks at the
// context: cancelling takes effect within that much simulated time.
const cancelCheckNs = 10_000_000

// Run simulates sc (already validated) from its seed and returns the
// result. The result is a pure function of sc, opt.StopAtNs and
// opt.StopAfterOps: the wall
// time is the caller's to measure, and neither observing nor checking
// changes it. A run that reaches its event limit (run.max_events) fails
// with an *IncompleteError, which carries the run summarised up to where
// it stopped and matches sim.ErrLimit; a cancelled context stops the run
// with ctx.Err().
func Run(ctx context.Context, sc *scenario.Scenario, opt Options) (*Result, error) {
	cfg, err := compile(sc)
	if err != nil {
		return nil, err
	}
	endNs := cfg.durationNs
	if opt.StopAtNs > 0 && opt.StopAtNs < endNs {
		endNs = opt.StopAtNs
	}
	if opt.StopAfterOps > 0 && (opt.CheckEvery > 0 || opt.CheckAtEnd) {
		return nil, fmt.Errorf("run %s: StopAfterOps cannot be combined with invariant checks", cfg.name)
	}
	limits := sim.Limits{MaxEvents: sc.Run.MaxEvents}
	if opt.CheckEvery > 0 || opt.StopAfterOps > 0 {
		// The time limit stops stepping at the end of the run exactly
		// where RunUntil would.
		limits.MaxTimeNs = endNs
	}
	s, err := newSimulation(cfg, limits, opt.Observer)
	if err != nil {
		return nil, err
	}
	defer s.close()
	setUp := opt.setUp
	if opt.AtStart != nil {
		setUp = func(s *simulation) {
			if opt.setUp != nil {
				opt.setUp(s)
			}
			opt.AtStart()
		}
	}
	if opt.CheckEvery > 0 {
		opt.setUp = setUp
		return runChecked(ctx, s, endNs, opt)
	}
	if setUp != nil {
		setUp(s)
	}
	if opt.StopAfterOps > 0 {
		return runOps(ctx, s, endNs, opt.StopAfterOps, opt.AtEnd)
	}
	for t := int64(0); t < endNs; {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("run %s: %w", cfg.name, err)
		}
		t = min(t+cancelCheckNs, endNs)
		if err := s.eng.RunUntil(t); err != nil {
			var le *sim.LimitError
			if errors.As(err, &le) && le.Limit == "events" {
				return nil, incomplete(s, le)
			}
			return nil, fmt.Errorf("run %s: %w", cfg.name, err)
		}
	}
	res, err := finish(s, endNs, opt.AtEnd)
	if err != nil || !opt.CheckAtEnd {
		return res, err
	}
	c := &checker{s: s, ctx: ctx}
	if err := c.check(); err != nil {
		return nil, err
	}
	res.Summary.InvariantChecks = c.checks
	return res, nil
}

// IncompleteError reports a run that a limit stopped before its end.
// Result is the run summarised at the time it stopped, its summary marked
// incomplete with the limit that stopped it.
type IncompleteError struct {
	Scenario string
	Limit    *sim.LimitError
	Result   *Result
}

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("run %s: stopped by its event limit %s at %.9f s of simulated time, before the end of the run",
		e.Scenario, e.Result.Summary.StoppedBy, float64(e.Limit.NowNs)/1e9)
}

// Unwrap makes errors.Is(err, sim.ErrLimit) and errors.As(err,
// **sim.LimitError) see the limit.
func (e *IncompleteError) Unwrap() error { return e.Limit }

// incomplete summarises s at the time the limit stopped it.
func incomplete(s *simulation, le *sim.LimitError) error {
	res, err := finish(s, s.eng.Now(), nil)
	if err != nil {
		return fmt.Errorf("run %s: %w (and summarising it: %v)", s.cfg.name, le, err)
	}
	res.Summary.Incomplete = true
	res.Summary.StoppedBy = fmt.Sprintf("run.max_events=%d", le.Value)
	return &IncompleteError{Scenario: s.cfg.name, Limit: le, Result: res}
}

// RunSeeds runs sc once per seed on up to workers goroutines and returns
// the summaries in seed order, identical for any number of workers.
func RunSeeds(ctx context.Context, sc *scenario.Scenario, seeds []uint64, workers int) ([]Summary, error) {
	return RunSeedsProgress(ctx, sc, seeds, workers, nil)
}

// RunSeedsProgress is RunSeeds, calling progress (if set) after each
// finished run with the runs done and the runs to do; the calls are
// serialised, and done counts up by one from 1.
func RunSeedsProgress(ctx context.Context, sc *scenario.Scenario, seeds []uint64, workers int, progress func(done, total int)) ([]Summary, error) {
	var mu sync.Mutex
	done := 0
	return sim.Replicate(ctx, len(seeds), workers, func(i int) (Summary, error) {
		c := sc.Clone()
		c.Run.Seed = seeds[i]
		res, err := Run(ctx, c, Options{})
		if err != nil {
			return Summary{}, fmt.Errorf("seed %d: %w", seeds[i], err)
		}
		if progress != nil {
			mu.Lock()
			done++
			progress(done, len(seeds))
			mu.Unlock()
		}
		return res.Summary, nil
	})
}
