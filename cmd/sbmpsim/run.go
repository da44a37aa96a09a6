package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sbmpsim/sbmpsim/experiments/ab"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenarios"
	"github.com/sbmpsim/sbmpsim/experiments/output"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/internal/buildinfo"
)

type runFlags struct {
	seed    uint64
	sets    []string
	out     string
	json    bool
	seeds   int
	workers int
	epoch   string
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [SCENARIO] [--seed S] [--seeds N] [--set KEY=VALUE]... [--out DIR] [--json]",
		Short: "Run one scenario (default: the embedded " + scenarios.Default + ")",
		Long: `Run a scenario file, or an embedded scenario by name (see 'sbmpsim scenarios').
With --out DIR it writes:

  summary.json     what the run did (docs/reference.md lists every field)
  timeseries.csv   the state every output.sample_interval_ms of simulated time
  scenario.toml    the resolved scenario: 'sbmpsim run scenario.toml' replays it
  metrics.om       the time series in OpenMetrics, with timestamps
  metrics.prom     the end-of-run values in the Prometheus text format
  live.png/.svg    the timeline: memory by kind per node, tiers, OOM kills
  probes.csv       the [[probe]] records, when the scenario has probes
  gctrace-*.txt    a go-runtime workload's GC trace
  timing.json      wall-clock time: the one file that differs between runs

Every file but timing.json is the same bytes for the same scenario, seed and
build. The run ends by checking every invariant once on the final state
(summary.json's invariant_checks). A run stopped by run.max_events writes
its files with summary.json "incomplete" and exits 1.

metrics.om puts simulated time 0 at --metrics-epoch (default ` + output.DefaultMetricsEpoch + `,
so runs line up; "now" puts the run where Grafana's default time range shows
it); load it with 'promtool tsdb create-blocks-from openmetrics metrics.om DIR'.

With --seeds N it runs N replications (seeds S, S+1, ... from --seed or the
scenario's run.seed) on --workers goroutines and writes replications.json
(the aggregate: OOM probability with Wilson and Clopper-Pearson intervals,
time to first OOM, failed allocations, stall, footprint; and every run's
summary), scenario.toml and timing.json; the results do not depend on the
number of workers. On a terminal a progress bar shows the runs done.`,
		Example: `  sbmpsim run --out out/                          # the default scenario, all its files
  sbmpsim run steady --seed 7 --set kernel.swappiness=60 --json
  sbmpsim run my-scenario.toml --set workload.0.rate_per_s=5e4 --out out/
  sbmpsim run --seeds 8 --workers 2 --out reps/   # seeds 1..8, replications.json`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeScenario,
		RunE: func(cmd *cobra.Command, args []string) error {
			sc, err := loadScenario(cmd, args, f.sets, f.seed)
			if err != nil {
				return err
			}
			if err := checkSeedRange(sc.Run.Seed, f.seeds); err != nil {
				return err
			}
			if f.seeds > 1 {
				return runReplications(cmd, sc, f)
			}
			return runOnce(cmd, sc, f)
		},
	}
	fl := cmd.Flags()
	seedVar(fl, &f.seed, 0, "master seed (overrides run.seed)")
	setFlag(cmd, &f.sets, "override a scenario key, e.g. --set kernel.swappiness=60 (repeatable)")
	fl.StringVar(&f.out, "out", "", "directory to write the run's files into")
	fl.BoolVar(&f.json, "json", false, "print summary.json to standard output")
	seedsVar(fl, &f.seeds, 1, "number of replications, with consecutive seeds (at least 1)")
	fl.IntVar(&f.workers, "workers", runtime.GOMAXPROCS(0), "goroutines running replications")
	addMetricsEpochFlag(fl, &f.epoch)
	return cmd
}

// loadScenario loads the scenario args names (a file or an embedded
// name; with no argument the command's default: scenarios.Default unless
// its defaultScenarioKey annotation names another), applies the --set
// overrides and, when the command has --seed and it was given, the seed,
// and validates the result. Every error is the input's, so a usage error
// (exit 2): an unknown name, a file that does not parse, a bad --set, a
// value out of range.
func loadScenario(cmd *cobra.Command, args, sets []string, seed uint64) (*scenario.Scenario, error) {
	name := scenarios.Default
	if d, ok := cmd.Annotations[defaultScenarioKey]; ok {
		name = d
	}
	if len(args) == 1 {
		name = args[0]
	}
	sc, err := scenario.Load(name)
	if err != nil {
		return nil, usageError{err}
	}
	for _, s := range sets {
		if err := sc.Set(s); err != nil {
			return nil, usageError{err}
		}
	}
	if f := cmd.Flags().Lookup("seed"); f != nil && f.Changed {
		if err := sc.Set(fmt.Sprintf("run.seed=%d", seed)); err != nil {
			return nil, usageError{fmt.Errorf("--seed: %w", err)}
		}
	}
	if err := sc.Validate(); err != nil {
		return nil, usageError{err}
	}
	return sc, nil
}

func runOnce(cmd *cobra.Command, sc *scenario.Scenario, f runFlags) error {
	epoch, err := parseMetricsEpoch(f.epoch)
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := world.Run(cmd.Context(), sc, world.Options{CheckAtEnd: true})
	var inc *world.IncompleteError
	switch {
	case errors.As(err, &inc):
		res = inc.Result
	case err != nil:
		return err
	}
	wall := time.Since(start)
	var written []string
	if f.out != "" {
		if written, err = output.WriteRun(f.out, res, output.WriteOptions{MetricsEpoch: epoch}); err != nil {
			return err
		}
		t := output.Timing{Command: "run", WallNs: wall.Nanoseconds(), Workers: 1, Runs: 1}
		if err := output.WriteTiming(f.out, t); err != nil {
			return err
		}
		written = append(written, output.TimingName)
	}
	if f.json {
		b, err := output.SummaryJSON(&res.Summary)
		if err != nil {
			return err
		}
		if _, err = cmd.OutOrStdout().Write(b); err != nil {
			return err
		}
		if inc != nil {
			return inc
		}
		return nil
	}
	s := res.Summary
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "%s seed=%d: %d events in %.3fs of simulated time, trace %s\n",
		s.Scenario, s.Seed, s.Events, float64(s.SimTimeNs)/1e9, s.TraceHash)
	fmt.Fprintf(w, "allocs=%d frees=%d failed=%d live_end=%d B peak=%d B objects_live_time_avg=%.1f oom_kills=%d invariant_checks=%d (wall %.2fs)\n",
		s.Allocs, s.Frees, s.AllocFailures, s.BytesRequestedLiveEnd, s.BytesRequestedPeak, s.ObjectsLiveTimeAvg, s.OOMKills, s.InvariantChecks, wall.Seconds())
	if f.out != "" {
		fmt.Fprintf(w, "wrote %d files into %s: %s\n", len(written), f.out, strings.Join(written, ", "))
	}
	if inc != nil && f.out != "" {
		return fmt.Errorf("%w; summary.json says incomplete", inc)
	}
	if inc != nil {
		return inc
	}
	return nil
}

// ReplicationsSchema names the version of replications.json's layout. v2
// (from v1): version, scenario_file and aggregate added; wall_ns and
// wall_workers moved to timing.json, so that the file does not depend on
// --workers.
const ReplicationsSchema = "sbmpsim.replications/v2"

// Replications is replications.json: the aggregate over the seeds and one
// summary per seed, in seed order.
type Replications struct {
	// Schema names the layout of this file: "sbmpsim.replications/v2".
	Schema string `json:"schema"`
	// Version is the build that made the runs (sbmpsim version).
	Version buildinfo.Version `json:"version"`
	// Scenario is the scenario's run.name.
	Scenario string `json:"scenario"`
	// ScenarioFile is the resolved scenario, written beside
	// replications.json; `sbmpsim run scenario.toml --seed S` replays
	// seed S.
	ScenarioFile string `json:"scenario_file"`
	// Seeds are the seeds run, in order: --seed (or run.seed) and the
	// --seeds - 1 that follow it.
	Seeds []uint64 `json:"seeds"`
	// Aggregate summarises the runs: OOM probability with Wilson and
	// Clopper-Pearson 95 % intervals, time to first OOM (Kaplan-Meier,
	// runs without a kill censored at their end), failed allocations,
	// stall, latency and footprint across seeds: the same block as one
	// arm of ab.json, its scenario_file "scenario.toml".
	Aggregate ab.ArmReport `json:"aggregate"`
	// Runs are the runs' summaries, runs[i] the run of seeds[i].
	Runs []world.Summary `json:"runs"`
}

func runReplications(cmd *cobra.Command, sc *scenario.Scenario, f runFlags) error {
	if f.workers < 1 {
		return usageError{fmt.Errorf("--workers %d: need at least 1", f.workers)}
	}
	seeds := make([]uint64, f.seeds)
	for i := range seeds {
		seeds[i] = sc.Run.Seed + uint64(i)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	bar := newRunBar(cmd.ErrOrStderr(), "run "+sc.Run.Name)
	runs, err := world.RunSeedsProgress(ctx, sc, seeds, f.workers, bar.update)
	bar.finish()
	if err != nil {
		return err
	}
	wall := time.Since(start)
	agg, err := ab.Describe(ab.Arm{Key: "scenario", Name: sc.Run.Name}, seeds, runs)
	if err != nil {
		return err
	}
	rep := Replications{
		Schema: ReplicationsSchema, Version: buildinfo.Current(), Scenario: sc.Run.Name,
		ScenarioFile: "scenario.toml", Seeds: seeds, Aggregate: agg, Runs: runs,
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if f.out != "" {
		if err := writeReplications(f.out, sc, b, output.Timing{Command: "run --seeds", WallNs: wall.Nanoseconds(), Workers: f.workers, Runs: len(runs)}); err != nil {
			return err
		}
	}
	if f.json {
		_, err = cmd.OutOrStdout().Write(b)
		return err
	}
	printAggregate(cmd.OutOrStdout(), sc.Run.Name, &agg, f.workers, wall)
	if f.out != "" {
		fmt.Fprintf(cmd.OutOrStdout(), "wrote %s, scenario.toml and %s into %s\n", "replications.json", output.TimingName, f.out)
	}
	return nil
}

// writeReplications writes the resolved scenario, replications.json and
// timing.json into dir, each atomically.
func writeReplications(dir string, sc *scenario.Scenario, rep []byte, t output.Timing) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	toml, err := sc.Encode()
	if err != nil {
		return err
	}
	if err := output.WriteFileAtomic(filepath.Join(dir, "scenario.toml"), toml); err != nil {
		return err
	}
	if err := output.WriteFileAtomic(filepath.Join(dir, "replications.json"), rep); err != nil {
		return err
	}
	return output.WriteTiming(dir, t)
}

// printAggregate prints the replications' outcomes: OOM probability with
// its intervals, time to first OOM, and failed allocations, stall, p99
// latency and footprint (medians across seeds).
func printAggregate(w io.Writer, name string, a *ab.ArmReport, workers int, wall time.Duration) {
	fmt.Fprintf(w, "%s: %d replications on %d workers in %.2fs\n", name, a.Runs, workers, wall.Seconds())
	fmt.Fprintf(w, "  OOM in %d of %d runs: p = %.3f, 95%% Wilson [%.3f, %.3f], Clopper-Pearson [%.3f, %.3f]\n",
		a.OOMRuns, a.Runs, a.OOMProbability, a.OOMCI95Wilson[0], a.OOMCI95Wilson[1], a.OOMCI95ClopperPearson[0], a.OOMCI95ClopperPearson[1])
	t := a.TimeToFirstOOM
	if t.MedianReached {
		fmt.Fprintf(w, "  time to first OOM: median %.3f s (Kaplan-Meier, %d runs censored)\n", float64(t.MedianNs)/1e9, t.CensoredRuns)
	} else {
		fmt.Fprintf(w, "  time to first OOM: median not reached in %.3f s (%d of %d runs had no kill)\n", float64(t.FollowUpMaxNs)/1e9, t.CensoredRuns, a.Runs)
	}
	m := &a.Metrics
	fmt.Fprintf(w, "  failed allocations: median %.0f, mean %.1f; alloc stall: median %.3f ms; p99 latency: median %.0f ns; footprint peak: median %.1f MiB\n",
		m.AllocFailures.Median, m.AllocFailures.Mean, m.AllocStallNs.Median/1e6, m.AllocLatencyP99Ns.Median, m.FootprintPeakBytes.Median/(1<<20))
}
