package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenarios"
	"github.com/sbmpsim/sbmpsim/experiments/output"
	"github.com/sbmpsim/sbmpsim/experiments/world"
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
		Use:   "run [SCENARIO.toml | NAME]",
		Short: "Run one scenario (default: the embedded " + scenarios.Default + ")",
		Long: `Run a scenario file, or an embedded scenario by name (see 'sbmpsim scenarios'),
and write summary.json, timeseries.csv and scenario.toml (the resolved scenario)
into --out, with metrics.om, metrics.prom, the figure live.png/live.svg, probes.csv
when the scenario has [[probe]] tables, and a go-runtime workload's gctrace files.
metrics.om is the whole time series in OpenMetrics with timestamps: simulated
time 0 is put at --metrics-epoch (default ` + output.DefaultMetricsEpoch + `, so runs line up
and the file is the same bytes every time; "now" puts the run where Grafana's
default time range shows it). Load it into Prometheus with
'promtool tsdb create-blocks-from openmetrics metrics.om DATA_DIR'. metrics.prom
is the end-of-run values in the Prometheus text format. With --seeds N it runs N replications (seeds S, S+1, ... from
--seed or the scenario's run.seed) on --workers goroutines and writes
replications.json; the results do not depend on the number of workers.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sc, err := loadScenario(cmd, args, f.sets, f.seed)
			if err != nil {
				return err
			}
			if f.seeds > 1 {
				return runReplications(cmd, sc, f)
			}
			return runOnce(cmd, sc, f)
		},
	}
	fl := cmd.Flags()
	fl.Uint64Var(&f.seed, "seed", 0, "master seed (overrides run.seed)")
	fl.StringArrayVar(&f.sets, "set", nil, "override a scenario key, e.g. --set kernel.swappiness=60 (repeatable)")
	fl.StringVar(&f.out, "out", "", "directory to write the run's files into")
	fl.BoolVar(&f.json, "json", false, "print summary.json to standard output")
	fl.IntVar(&f.seeds, "seeds", 1, "number of replications, with consecutive seeds")
	fl.IntVar(&f.workers, "workers", runtime.GOMAXPROCS(0), "goroutines running replications")
	addMetricsEpochFlag(fl, &f.epoch)
	return cmd
}

// loadScenario loads the named scenario (or the default), applies --set
// overrides and --seed, and validates the result.
func loadScenario(cmd *cobra.Command, args, sets []string, seed uint64) (*scenario.Scenario, error) {
	name := scenarios.Default
	if len(args) == 1 {
		name = args[0]
	}
	sc, err := scenario.Load(name)
	if err != nil {
		return nil, err
	}
	for _, s := range sets {
		if err := sc.Set(s); err != nil {
			return nil, usageError{err}
		}
	}
	if cmd.Flags().Changed("seed") {
		if err := sc.Set(fmt.Sprintf("run.seed=%d", seed)); err != nil {
			return nil, usageError{err}
		}
	}
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	return sc, nil
}

func runOnce(cmd *cobra.Command, sc *scenario.Scenario, f runFlags) error {
	epoch, err := parseMetricsEpoch(f.epoch)
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := world.Run(cmd.Context(), sc, world.Options{})
	if err != nil {
		return err
	}
	res.Summary.WallNs = time.Since(start).Nanoseconds()
	if f.out != "" {
		if err := output.WriteRun(f.out, res, output.WriteOptions{MetricsEpoch: epoch}); err != nil {
			return err
		}
	}
	if f.json {
		b, err := output.SummaryJSON(&res.Summary)
		if err != nil {
			return err
		}
		_, err = cmd.OutOrStdout().Write(b)
		return err
	}
	s := res.Summary
	fmt.Fprintf(cmd.OutOrStdout(), "%s seed=%d: %d events in %.3fs of simulated time, trace %s\n",
		s.Scenario, s.Seed, s.Events, float64(s.SimTimeNs)/1e9, s.TraceHash)
	fmt.Fprintf(cmd.OutOrStdout(), "allocs=%d frees=%d live_end=%d B peak=%d B objects_live_time_avg=%.1f oom_kills=%d (wall %.2fs)\n",
		s.Allocs, s.Frees, s.BytesRequestedLiveEnd, s.BytesRequestedPeak, s.ObjectsLiveTimeAvg, s.OOMKills, float64(s.WallNs)/1e9)
	if f.out != "" {
		fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", filepath.Join(f.out, "summary.json"))
	}
	return nil
}

// Replications is replications.json: one summary per seed, in seed order.
type Replications struct {
	Schema   string          `json:"schema"`
	Scenario string          `json:"scenario"`
	Seeds    []uint64        `json:"seeds"`
	Runs     []world.Summary `json:"runs"`
	Workers  int             `json:"wall_workers"`
	WallNs   int64           `json:"wall_ns"`
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
	runs, err := world.RunSeeds(ctx, sc, seeds, f.workers)
	if err != nil {
		return err
	}
	rep := Replications{
		Schema: "sbmpsim.replications/v1", Scenario: sc.Run.Name, Seeds: seeds, Runs: runs,
		Workers: f.workers, WallNs: time.Since(start).Nanoseconds(),
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if f.out != "" {
		if err := os.MkdirAll(f.out, 0o755); err != nil {
			return err
		}
		if err := output.WriteFileAtomic(filepath.Join(f.out, "replications.json"), b); err != nil {
			return err
		}
	}
	if f.json {
		_, err = cmd.OutOrStdout().Write(b)
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: %d replications on %d workers in %.2fs\n", sc.Run.Name, len(runs), f.workers, float64(rep.WallNs)/1e9)
	return nil
}
