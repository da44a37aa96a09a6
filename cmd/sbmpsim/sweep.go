package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sbmpsim/sbmpsim/experiments/input/sweeps"
	"github.com/sbmpsim/sbmpsim/experiments/sweep"
)

type sweepFlags struct {
	sets    []string
	out     string
	shard   string
	workers int
	dryRun  bool
	metrics bool
	epoch   string
}

func newSweepCmd() *cobra.Command {
	var f sweepFlags
	cmd := &cobra.Command{
		Use:   "sweep SWEEP --out DIR [--shard I/N] [--workers W] [--set KEY=VALUE]...",
		Short: "Run a scenario over a grid of parameters and seeds (resumable, shardable)",
		Long: `Run SWEEP, a sweep file or an embedded sweep ('sbmpsim sweeps' lists them:
` + strings.Join(sweeps.Names(), ", ") + `): a base scenario over the cross product of the file's
axes, each point on the same seeds. --set overrides a key of the base
scenario, after the file's own set (run.seed excepted: the seeds are the
file's); the overrides are part of the sweep, so a directory resumes only
with the same ones. Every point is validated before anything runs. Each
run's summary is written to DIR/runs/ID.json as soon as it finishes; when
all runs are there, DIR/sweep.json and DIR/sweep.csv hold the aggregate per
point.

Stopped half-way (Ctrl-C, SIGTERM, a crash, a node lost), the same command
resumes: finished runs are kept, only the others are run.

--shard I/N runs only the runs whose index i has i % N == I and writes
DIR/shard-I-of-N.json when done; 'sbmpsim merge DIR... --out OUT' combines
the shards into what one unsharded sweep writes, byte for byte.

--metrics keeps each run's time series (DIR/series/ID.csv) and, when all
runs are there, writes DIR/metrics.om: every run's time series in
OpenMetrics, labelled scenario, sweep, point and seed, for 'promtool tsdb
create-blocks-from openmetrics'. It is large (megabytes per run), so it is
written only when asked, and only by an unsharded sweep.`,
		Example: `  sbmpsim sweep swap-load --dry-run                    # validate every point, list them
  sbmpsim sweep swap-load --out out/swap-load --workers 2
  sbmpsim sweep degrade-refill --set run.duration_ms=20000 --out out/dr
  sbmpsim sweep my-grid.toml --shard 0/4 --out out/shard-0`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("sweep takes one SWEEP, a sweep file or an embedded sweep name (sbmpsim sweeps), got %d arguments", len(args))}
			}
			return nil
		},
		ValidArgsFunction: completeSweep,
		RunE: func(cmd *cobra.Command, args []string) error {
			shard, err := sweep.ParseShard(f.shard)
			if err != nil {
				return usageError{fmt.Errorf("--shard: %w", err)}
			}
			if f.workers < 1 {
				return usageError{fmt.Errorf("--workers %d: need at least 1", f.workers)}
			}
			if f.out == "" && !f.dryRun {
				return usageError{errors.New("--out DIR is required: the directory the runs and the aggregate go to")}
			}
			if f.metrics && !shard.Whole() {
				return usageError{fmt.Errorf("--metrics with --shard %s: metrics.om holds every run, so it needs the whole sweep in one directory", shard)}
			}
			if _, err := parseMetricsEpoch(f.epoch); err != nil {
				return err
			}
			plan, err := loadSweep(args[0], f.sets)
			if err != nil {
				return err
			}
			if f.dryRun {
				return printSweepPlan(cmd.OutOrStdout(), plan, shard)
			}
			return runSweep(cmd, plan, shard, f)
		},
	}
	setFlag(cmd, &f.sets, "override a key of the base scenario, after the sweep file's set (repeatable)")
	fl := cmd.Flags()
	fl.StringVar(&f.out, "out", "", "directory for plan.json, runs/ and the aggregate (resumes if it holds this sweep)")
	fl.StringVar(&f.shard, "shard", "0/1", "run only shard I of N (0 <= I < N): the runs with index % N == I")
	fl.IntVar(&f.workers, "workers", runtime.GOMAXPROCS(0), "goroutines running simulations")
	fl.BoolVar(&f.dryRun, "dry-run", false, "validate the sweep and list its points and runs; run and write nothing")
	fl.BoolVar(&f.metrics, "metrics", false, "keep every run's time series and write DIR/metrics.om (OpenMetrics)")
	addMetricsEpochFlag(fl, &f.epoch)
	return cmd
}

// loadSweep loads the sweep file or embedded sweep name, adds the --set
// overrides and resolves the plan, validating every point. Every error
// is the input's, so a usage error (exit 2).
func loadSweep(name string, sets []string) (*sweep.Plan, error) {
	sf, err := sweep.Load(name)
	if err != nil {
		return nil, usageError{err}
	}
	if err := sf.AddSet(sets); err != nil {
		return nil, usageError{err}
	}
	plan, err := sweep.NewPlan(sf)
	if err != nil {
		return nil, usageError{err}
	}
	return plan, nil
}

// newSweepsCmd is `sbmpsim sweeps`, the list of the embedded sweeps.
func newSweepsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "sweeps",
		Short: "List the embedded sweeps, one line each",
		Long: `List the sweeps embedded in the binary, which 'sbmpsim sweep' takes by name,
each with a line that describes it: the first sentence of the comment the
sweep file opens with.`,
		Example: `  sbmpsim sweeps
  sbmpsim sweep swap-load --dry-run         # one of them, its points`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			names := sweeps.Names()
			width := 0
			for _, n := range names {
				width = max(width, len(n))
			}
			for _, n := range names {
				fmt.Fprintf(cmd.OutOrStdout(), "%-*s  %s\n", width, n, sweeps.Format().Description(n))
			}
			return nil
		},
	}
}

// printSweepPlan lists the points of a validated plan.
func printSweepPlan(w io.Writer, p *sweep.Plan, shard sweep.Shard) error {
	mine := 0
	for i := range p.Runs {
		if shard.Has(i) {
			mine++
		}
	}
	fmt.Fprintf(w, "sweep %s (hash %.12s): %s, %d points x %d seeds (%d..%d) = %d runs; shard %s has %d\n",
		p.Sweep, p.Hash, p.Source, len(p.Points), p.Seeds, p.SeedFirst, p.SeedFirst+uint64(p.Seeds-1), p.Runs, shard, mine)
	for _, o := range p.Overrides {
		fmt.Fprintf(w, "  every point: %s\n", o)
	}
	for _, pt := range p.Points {
		fmt.Fprintf(w, "%s  %s\n", pt.ID, strings.Join(pt.Overrides, " "))
	}
	return nil
}

// runSweep executes the plan, showing progress on a terminal, and reports
// what it did in one line.
func runSweep(cmd *cobra.Command, plan *sweep.Plan, shard sweep.Shard, f sweepFlags) error {
	stderr := cmd.ErrOrStderr()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopSignals := cancelOnSignal(cancel, stderr)
	defer stopSignals()

	start := time.Now()
	bar := newRunBar(stderr, "sweep "+plan.Sweep)
	epoch, _ := parseMetricsEpoch(f.epoch) // checked before
	out, err := sweep.Execute(ctx, plan, sweep.Options{Dir: f.out, Shard: shard, Workers: f.workers, Progress: bar.update,
		Metrics: f.metrics, MetricsEpoch: epoch})
	bar.finish()
	wall := time.Since(start)
	if out.TempsRemoved > 0 || out.Replaced > 0 {
		fmt.Fprintf(stderr, "sbmpsim sweep: removed %d temporary files of an earlier, killed sweep and reran %d unreadable run files\n", out.TempsRemoved, out.Replaced)
	}
	var dirErr *sweep.DirError
	var failed *sweep.FailedError
	switch {
	case errors.As(err, &dirErr):
		return usageError{err}
	case errors.Is(err, sweep.ErrInterrupted):
		return fmt.Errorf("%w in %s; run the same command again to resume (finished runs are kept)", err, f.out)
	case errors.As(err, &failed):
		r := failed.Failed[0].Run
		return fmt.Errorf("%w\nreplay the first: %s\nthe other runs are in %s; once the cause is fixed, the same command runs only the failed ones", err, sweepReplay(plan, r), f.out)
	case err != nil:
		return err
	}
	label := plan.Sweep
	if !shard.Whole() {
		label += " shard " + shard.String()
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: %d runs (%d resumed, %d run) on %d workers in %.2fs (%.2f runs/s)",
		label, out.Total, out.Resumed, out.Ran, f.workers, wall.Seconds(), float64(out.Ran)/max(wall.Seconds(), 1e-9))
	if out.Aggregated {
		fmt.Fprintf(cmd.OutOrStdout(), "; wrote %s\n", filepath.Join(f.out, sweep.ReportName))
	} else {
		fmt.Fprintf(cmd.OutOrStdout(), "; wrote %s; combine the shards with 'sbmpsim merge DIR... --out OUT'\n", filepath.Join(f.out, sweep.ManifestName(shard)))
	}
	return nil
}

// cancelOnSignal calls cancel on the first SIGINT or SIGTERM and then
// restores the default handling, so that a second one ends the process
// at once (the runs under way are then lost, never half-written). The
// returned function stops watching.
func cancelOnSignal(cancel context.CancelFunc, stderr io.Writer) func() {
	sigs := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-sigs:
			signal.Stop(sigs)
			fmt.Fprintf(stderr, "\nsbmpsim sweep: %v: starting no new runs, finishing those under way (interrupt again to abandon them)\n", s)
			cancel()
		case <-done:
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}
}

// sweepReplay is the `sbmpsim run` command line that replays one run.
func sweepReplay(p *sweep.Plan, r sweep.Run) string {
	words := []string{"sbmpsim", "run", shellQuote(p.BasePath)}
	for _, o := range append(append([]string{}, p.Overrides...), p.Points[r.Point].Overrides...) {
		words = append(words, "--set", shellQuote(o))
	}
	return strings.Join(append(words, "--seed", strconv.FormatUint(r.Seed, 10)), " ")
}
