package sweep

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sbmpsim/sbmpsim/experiments/output"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/sim"
)

// Options says where and how Execute runs a plan.
type Options struct {
	// Dir is the sweep directory (see the layout in layout.go).
	Dir string
	// Shard selects the runs to do; the zero value is all of them.
	Shard Shard
	// Workers is the number of goroutines running simulations (>= 1).
	Workers int
	// Progress, if not nil, is called once with (0, pending) before the
	// first run starts and then after each run finishes, with the number
	// of runs finished in this call and the number there are to do.
	// Calls are serialised; it must not block for long.
	Progress func(done, pending int)
	// Metrics writes each run's time series to series/ID.csv and, when
	// every run is there, metrics.om (see WriteMetrics). It needs the
	// whole sweep (no shard): metrics.om holds every run.
	Metrics bool
	// MetricsEpoch is where simulated time 0 lies in metrics.om; the
	// zero value is output.DefaultMetricsEpoch.
	MetricsEpoch time.Time
}

// Outcome is what one Execute call did.
type Outcome struct {
	// Total is the number of runs of the shard (of the sweep for the
	// whole).
	Total int
	// Resumed runs were on disk already and were kept.
	Resumed int
	// Ran runs were simulated and written by this call.
	Ran int
	// Replaced counts run files that did not read back and were run
	// again; TempsRemoved counts temporary files of an earlier, killed
	// call that were removed.
	Replaced, TempsRemoved int
	// Failed are the runs whose simulation failed, in run order.
	Failed []RunError
	// Aggregated is true when sweep.json and sweep.csv were written
	// (the whole sweep, every run present).
	Aggregated bool
}

// Done is the number of the shard's runs on disk after the call.
func (o Outcome) Done() int { return o.Resumed + o.Ran }

// ErrInterrupted is returned (wrapped) by Execute when its context was
// cancelled: no new run was started after that, the runs under way were
// finished and written, and calling Execute again resumes.
var ErrInterrupted = errors.New("sweep interrupted")

// RunError is a run whose simulation failed, such as one that reached
// its event limit. It is deterministic: running it again fails again.
type RunError struct {
	Run Run
	Err error
}

func (e *RunError) Error() string { return fmt.Sprintf("run %s: %v", e.Run.ID, e.Err) }
func (e *RunError) Unwrap() error { return e.Err }

// FailedError lists the runs of a sweep that failed. The other runs were
// written; the aggregate was not.
type FailedError struct {
	Failed []RunError
}

func (e *FailedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d runs failed", len(e.Failed))
	for i, f := range e.Failed {
		if i == 5 {
			fmt.Fprintf(&b, "\n  ... and %d more", len(e.Failed)-i)
			break
		}
		fmt.Fprintf(&b, "\n  %v", &f)
	}
	return b.String()
}

// Execute runs the plan's runs of opts.Shard that are not on disk yet in
// opts.Dir, writing each run's summary to runs/ID.json as soon as it
// finishes (atomically: a file that exists is complete). Runs already on
// disk are kept, so calling Execute again after an interruption or a
// crash redoes nothing that finished. When the whole sweep's runs are all
// there it writes the aggregate (sweep.csv, then sweep.json); a shard
// (N > 1) writes its manifest shard-I-of-N.json instead.
//
// A run's file depends only on its scenario, its seed and the build: a
// summary holds no wall-clock figure and source is the plan's, so
// directories of one sweep are byte-identical however it was run.
//
// Cancelling ctx stops new runs from starting; the runs under way finish
// and are written, and Execute returns an error wrapping ErrInterrupted.
// Runs that fail are reported together in a *FailedError after every
// other run finished.
func Execute(ctx context.Context, p *Plan, opts Options) (Outcome, error) {
	shard := opts.Shard.norm()
	if opts.Workers < 1 {
		return Outcome{}, fmt.Errorf("workers %d: need at least 1", opts.Workers)
	}
	if opts.Metrics && shard.Count > 1 {
		return Outcome{}, fmt.Errorf("metrics.om holds every run of a sweep: run the whole sweep in one directory (no shard %s) to write it", shard)
	}
	if err := claimDir(opts.Dir, &p.PlanFile); err != nil {
		return Outcome{}, err
	}
	if opts.Metrics {
		if err := os.MkdirAll(filepath.Join(opts.Dir, SeriesDir), 0o755); err != nil {
			return Outcome{}, fmt.Errorf("create sweep directory: %w", err)
		}
	}
	var out Outcome
	ids := make(map[string]bool)
	var mine []Run
	for i := range p.Runs {
		if shard.Has(i) {
			r := p.Run(i)
			mine = append(mine, r)
			ids[r.ID] = true
		}
	}
	out.Total = len(mine)
	var err error
	if out.TempsRemoved, err = removeTemps(opts.Dir, func(id string) bool { return ids[id] }); err != nil {
		return out, err
	}
	pending, err := p.pending(opts.Dir, mine, opts.Metrics, &out)
	if err != nil {
		return out, err
	}
	if len(pending) > 0 && shard.Count == 1 {
		// The aggregate is written only over every run; an old one could
		// only disagree with what is being added.
		if err := removeAggregate(opts.Dir); err != nil {
			return out, err
		}
	}
	failed, err := p.runAll(ctx, opts, pending, &out)
	out.Failed = failed
	if err != nil {
		return out, err
	}
	if len(failed) > 0 {
		return out, &FailedError{Failed: failed}
	}
	if shard.Count > 1 {
		return out, writeManifest(opts.Dir, &p.PlanFile, shard, mine)
	}
	if opts.Metrics {
		if err := WriteMetrics(opts.Dir, &p.PlanFile, output.WriteOptions{MetricsEpoch: opts.MetricsEpoch}); err != nil {
			return out, err
		}
	}
	if err := WriteAggregate(opts.Dir, &p.PlanFile); err != nil {
		return out, err
	}
	out.Aggregated = true
	return out, nil
}

// pending returns the runs of mine without a good file in dir (or, with
// series, without a time series file), counting the others as resumed.
// A file that does not read back as its run is removed and the run done
// again.
func (p *Plan) pending(dir string, mine []Run, series bool, out *Outcome) ([]Run, error) {
	var pending []Run
	for _, r := range mine {
		path := runPath(dir, r.ID)
		_, _, err := readRun(path, r)
		if err == nil && series {
			_, err = os.Stat(seriesPath(dir, r.ID))
		}
		var ve *VersionError
		switch {
		case err == nil:
			out.Resumed++
			continue
		case errors.Is(err, fs.ErrNotExist):
		case errors.As(err, &ve):
			return nil, fmt.Errorf("resume: %w", err)
		default:
			if err := os.Remove(path); err != nil {
				return nil, fmt.Errorf("remove unreadable run file: %w", err)
			}
			out.Replaced++
		}
		pending = append(pending, r)
	}
	return pending, nil
}

// runAll simulates the pending runs on opts.Workers goroutines and
// writes each one's file. It returns the runs that failed, in run order.
func (p *Plan) runAll(ctx context.Context, opts Options, pending []Run, out *Outcome) ([]RunError, error) {
	var mu sync.Mutex // guards done, out.Ran and the Progress calls
	done := 0
	if opts.Progress != nil {
		opts.Progress(0, len(pending))
	}
	errs := make([]error, len(pending))
	_, rerr := sim.Replicate(ctx, len(pending), opts.Workers, func(i int) (struct{}, error) {
		errs[i] = p.runOne(opts.Dir, pending[i], opts.Metrics)
		mu.Lock()
		defer mu.Unlock()
		done++
		if errs[i] == nil {
			out.Ran++
		}
		if opts.Progress != nil {
			opts.Progress(done, len(pending))
		}
		return struct{}{}, nil
	})
	var failed []RunError
	for i, err := range errs {
		if err != nil {
			failed = append(failed, RunError{Run: pending[i], Err: err})
		}
	}
	if rerr != nil {
		if errors.Is(rerr, context.Canceled) || errors.Is(rerr, context.DeadlineExceeded) {
			return failed, fmt.Errorf("%w: %d of %d runs done", ErrInterrupted, out.Done(), out.Total)
		}
		return failed, rerr
	}
	return failed, nil
}

// runOne simulates one run and writes its file, after its time series
// file when series is set: a run file then vouches for both.
func (p *Plan) runOne(dir string, r Run, series bool) error {
	// A run under way finishes even when the sweep is interrupted (the
	// sweep stops starting runs), so it runs without the sweep's context.
	s, ts, err := p.simulate(context.Background(), r)
	if err != nil {
		return err
	}
	if series {
		if err := output.WriteFileAtomic(seriesPath(dir, r.ID), output.TimeseriesCSV(ts)); err != nil {
			return err
		}
	}
	b, err := output.SummaryJSON(&s)
	if err != nil {
		return err
	}
	return output.WriteFileAtomic(runPath(dir, r.ID), b)
}

// simulate runs r and returns its summary as its run file holds it (no
// wall time, and the plan's source, so that it depends only on the
// point's scenario and the seed) and its time series.
func (p *Plan) simulate(ctx context.Context, r Run) (world.Summary, *world.Timeseries, error) {
	res, err := world.Run(ctx, p.PointScenario(r.Point, r.Seed), world.Options{})
	if err != nil {
		return world.Summary{}, nil, err
	}
	s := res.Summary
	s.Source = p.Source
	return s, &res.Timeseries, nil
}

// Simulate runs every run of the plan in memory on workers goroutines
// and returns the summaries in run order, each equal to the run file
// Execute would write: Aggregate over them gives the sweep.json of the
// same plan run with Execute. Nothing is written, so nothing resumes;
// for callers that use a sweep's runs in the same process. Cancelling
// ctx stops the runs under way too. The first failing run's error is
// returned, naming the run.
func Simulate(ctx context.Context, p *Plan, workers int) ([]world.Summary, error) {
	if workers < 1 {
		return nil, fmt.Errorf("workers %d: need at least 1", workers)
	}
	return sim.Replicate(ctx, p.Runs, workers, func(i int) (world.Summary, error) {
		r := p.Run(i)
		s, _, err := p.simulate(ctx, r)
		if err != nil {
			return s, &RunError{Run: r, Err: err}
		}
		return s, nil
	})
}

// removeAggregate removes sweep.json (first: it marks a whole sweep) and
// sweep.csv from dir.
func removeAggregate(dir string) error {
	for _, name := range []string{ReportName, CSVName} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove stale %s: %w", name, err)
		}
	}
	return nil
}

// writeManifest writes a finished shard's manifest.
func writeManifest(dir string, pf *PlanFile, shard Shard, mine []Run) error {
	m := Manifest{Schema: ManifestSchema, Sweep: pf.Sweep, Hash: pf.Hash, Shard: shard.Index, Shards: shard.Count, Runs: len(mine), RunIDs: []string{}}
	for _, r := range mine {
		m.RunIDs = append(m.RunIDs, r.ID)
	}
	b, err := encodeJSON(m)
	if err != nil {
		return fmt.Errorf("encode shard manifest: %w", err)
	}
	return output.WriteFileAtomic(filepath.Join(dir, ManifestName(shard)), b)
}
