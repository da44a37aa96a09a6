// Package ab runs A/B experiments: two arms of one scenario, differing
// only in a few overrides (typically a policy), each run on the same list
// of seeds so that per-seed outcomes pair up (common random numbers). It
// runs the 2N simulations on a pool of workers (Run), turns their
// summaries into ab.json's report (Analyze) and writes ab.json, runs.csv
// and each arm's resolved scenario (Write).
//
// Determinism: Run returns results in seed order whatever the number of
// workers, and Analyze is a pure function of them (its bootstrap is
// seeded from the first seed), so ab.json is byte-identical for any
// number of workers. ab.json holds no wall times.
package ab

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/sim"
)

// Limits on the size of one experiment: a typo such as --seeds 1e9 is an
// error, not a day of computing.
const (
	MinSeeds = 2 // paired statistics need at least two pairs
	MaxSeeds = 100_000
)

// Config is one experiment to run.
type Config struct {
	A, B Arm
	// Seeds are the seeds both arms run on, in report order.
	Seeds []uint64
	// Workers is the number of goroutines running simulations (>= 1).
	Workers int
	// Progress, if not nil, is called after each finished run with the
	// number of runs done and the total. Calls are serialised; it must
	// not block for long.
	Progress func(done, total int)
	// KeepTimeseries keeps every run's time series in Runs (for
	// metrics.om); they take memory, so they are dropped otherwise.
	KeepTimeseries bool
}

// Runs are the summaries of both arms, index i of each from seed
// Seeds[i], and, when Config.KeepTimeseries was set, their time series.
type Runs struct {
	Seeds            []uint64
	A, B             []world.Summary
	SeriesA, SeriesB []*world.Timeseries
}

// result is one run's part of Runs.
type result struct {
	s  world.Summary
	ts *world.Timeseries
}

// RunError is a simulation that failed, such as one that reached its
// event limit: which arm, which seed, and why.
type RunError struct {
	Arm  string // "a" or "b"
	Name string // the arm's label
	Seed uint64
	Err  error
}

func (e *RunError) Error() string {
	return fmt.Sprintf("arm %s (%q) seed %d: %v", e.Arm, e.Name, e.Seed, e.Err)
}

func (e *RunError) Unwrap() error { return e.Err }

// Seeds returns the n consecutive seeds first, first+1, ..., or an error
// if n is out of [MinSeeds, MaxSeeds] or the seeds would pass the
// largest seed a scenario can hold (2^63-1).
func Seeds(first uint64, n int) ([]uint64, error) {
	if n < MinSeeds || n > MaxSeeds {
		return nil, fmt.Errorf("--seeds %d: want %d..%d", n, MinSeeds, MaxSeeds)
	}
	if first > math.MaxInt64-uint64(n-1) {
		return nil, fmt.Errorf("seeds %d..%d+%d pass the largest seed %d", first, first, n-1, int64(math.MaxInt64))
	}
	seeds := make([]uint64, n)
	for i := range seeds {
		seeds[i] = first + uint64(i)
	}
	return seeds, nil
}

// Run simulates both arms on every seed. Job 2i is arm A on Seeds[i] and
// job 2i+1 arm B on it, all in one pool of cfg.Workers goroutines, so
// both arms progress together and no worker idles while the other arm
// has work. The first failure stops new runs from starting; the error
// returned is that of the failing run that comes first in job order
// (every earlier job was started, so this is the same for any number of
// workers), as a *RunError. A cancelled ctx returns ctx's error.
func Run(ctx context.Context, cfg Config) (*Runs, error) {
	if cfg.Workers < 1 {
		return nil, fmt.Errorf("workers %d: need at least 1", cfg.Workers)
	}
	if len(cfg.Seeds) < MinSeeds {
		return nil, fmt.Errorf("%d seeds: need at least %d", len(cfg.Seeds), MinSeeds)
	}
	// Runs under way are stopped only by the caller's ctx, not by another
	// run's failure: a failing run must finish to report its own error,
	// whatever the number of workers.
	outer := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	total := 2 * len(cfg.Seeds)
	errs := make([]error, total)
	var mu sync.Mutex
	done := 0
	arms := [2]*Arm{&cfg.A, &cfg.B}
	out, repErr := sim.Replicate(ctx, total, cfg.Workers, func(j int) (result, error) {
		arm, seed := arms[j%2], cfg.Seeds[j/2]
		sc := arm.Scenario.Clone()
		sc.Run.Seed = seed
		res, err := world.Run(outer, sc, world.Options{})
		if err != nil {
			if outer.Err() != nil && errors.Is(err, outer.Err()) {
				return result{}, nil // Replicate reports ctx's error
			}
			errs[j] = &RunError{Arm: arm.Key, Name: arm.Name, Seed: seed, Err: err}
			cancel()
			return result{}, nil
		}
		if cfg.Progress != nil {
			mu.Lock()
			done++
			cfg.Progress(done, total)
			mu.Unlock()
		}
		r := result{s: detach(res.Summary)}
		if cfg.KeepTimeseries {
			r.ts = &res.Timeseries
		}
		return r, nil
	})
	if err := firstError(errs); err != nil {
		return nil, err
	}
	if repErr != nil {
		return nil, repErr
	}
	n := len(cfg.Seeds)
	r := &Runs{Seeds: cfg.Seeds, A: make([]world.Summary, n), B: make([]world.Summary, n)}
	if cfg.KeepTimeseries {
		r.SeriesA, r.SeriesB = make([]*world.Timeseries, n), make([]*world.Timeseries, n)
	}
	for j, o := range out {
		sums, series := r.A, r.SeriesA
		if j%2 == 1 {
			sums, series = r.B, r.SeriesB
		}
		sums[j/2] = o.s
		if series != nil {
			series[j/2] = o.ts
		}
	}
	return r, nil
}

// detach returns s sharing no memory with the simulation that produced
// it. Summary.SBMP.Alerts is a slice of an array inside the run's SBMP
// process state (experiments/world/sbmpside.go), and an interior pointer keeps
// the whole object alive: the allocator, the kernel model, every page.
// Holding 2N summaries would then hold 2N simulations (about 56 MB each
// for the default scenario).
func detach(s world.Summary) world.Summary {
	if s.SBMP != nil {
		c := *s.SBMP
		c.Alerts = slices.Clone(c.Alerts)
		s.SBMP = &c
	}
	return s
}

// firstError returns the first non-nil error of errs, or nil.
func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
