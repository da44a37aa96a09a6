package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sbmpsim/sbmpsim/experiments/ab"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenarios"
	"github.com/sbmpsim/sbmpsim/experiments/output"
)

type abFlags struct {
	a, b         []string
	aName, bName string
	sets         []string
	seed         uint64
	seeds        int
	workers      int
	out          string
	json         bool
	metrics      bool
	epoch        string
}

func newABCmd() *cobra.Command {
	var f abFlags
	cmd := &cobra.Command{
		Use:   "ab [SCENARIO] --a KEY=VALUE... --b KEY=VALUE... [--seeds N] [--workers W] [--set KEY=VALUE]... [--out DIR]",
		Short: "Compare two variants of a scenario (default: the embedded " + scenarios.Default + ") on the same seeds",
		Long: `Run an A/B experiment: arm A is the scenario with the --a overrides, arm B
with the --b overrides (--set applies to both). Both arms run on the same
seeds S, S+1, ..., S+N-1 (S from --seed or the scenario's run.seed), so each
seed gives a pair of runs and differences are paired (common random numbers).
All 2N runs share one pool of --workers goroutines; the results do not
depend on the number of workers.

--a and --b are repeatable and also take comma-separated lists:
  --a policy.degrade=wait-refill --a policy.degrade_wait_ms=2
  --a policy.degrade=wait-refill,policy.degrade_wait_ms=2

It prints a table (--json: ab.json) and, with --out DIR, writes ab.json,
runs.csv (one row per seed and arm) and a.toml, b.toml (each arm's resolved
scenario: 'sbmpsim run DIR/a.toml --seed S' replays one run). Every
difference is B minus A.

With --metrics, --out also gets metrics.om: every run's time series in
OpenMetrics, labelled scenario, arm (a or b), arm_name and seed, for
'promtool tsdb create-blocks-from openmetrics' and the A/B dashboard. It is
large (megabytes per run), so it is written only when asked.`,
		Example: `  sbmpsim ab --seeds 200 --a policy.degrade=immediate-tier2 --b policy.degrade=fail-fast --out ab-out/
  sbmpsim ab steady --seeds 20 --set run.duration_ms=2000 --a policy.refill=fixed-batch --b policy.refill=adaptive-batch
  sbmpsim ab --seeds 10 --a-name wait --a policy.degrade=wait-refill,policy.degrade_wait_ms=2 --b policy.degrade=fail-fast --json`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeScenario,
		RunE: func(cmd *cobra.Command, args []string) error {
			exp, seeds, err := prepareAB(cmd, args, f)
			if err != nil {
				return err
			}
			return runAB(cmd, args, exp, seeds, f)
		},
	}
	fl := cmd.Flags()
	// The shorthands -a and -b are what lets cobra complete these flags'
	// values: it takes a one-letter flag name for a shorthand.
	fl.StringArrayVarP(&f.a, "a", "a", nil, "override for arm A, KEY=VALUE[,KEY=VALUE...] (repeatable)")
	fl.StringArrayVarP(&f.b, "b", "b", nil, "override for arm B, KEY=VALUE[,KEY=VALUE...] (repeatable)")
	fl.StringVar(&f.aName, "a-name", "a", "label of arm A in reports")
	fl.StringVar(&f.bName, "b-name", "b", "label of arm B in reports")
	setFlag(cmd, &f.sets, "override a scenario key in both arms (repeatable)")
	mustComplete(cmd, "a", completeSet)
	mustComplete(cmd, "b", completeSet)
	seedVar(fl, &f.seed, 0, "first seed (default: the scenario's run.seed)")
	seedsVar(fl, &f.seeds, 100, fmt.Sprintf("number of seeds, each run in both arms (%d..%d)", ab.MinSeeds, ab.MaxSeeds))
	fl.IntVar(&f.workers, "workers", runtime.GOMAXPROCS(0), "goroutines running simulations")
	fl.StringVar(&f.out, "out", "", "directory to write ab.json, runs.csv, a.toml and b.toml into")
	fl.BoolVar(&f.json, "json", false, "print ab.json to standard output instead of the table")
	fl.BoolVar(&f.metrics, "metrics", false, "also write every run's time series to --out as metrics.om (OpenMetrics)")
	addMetricsEpochFlag(fl, &f.epoch)
	return cmd
}

// prepareAB resolves and validates both arms and the seeds before
// anything runs. Mistakes in the flags are usage errors (exit 2) that
// name the arm and the key.
func prepareAB(cmd *cobra.Command, args []string, f abFlags) (ab.Experiment, []uint64, error) {
	if f.workers < 1 {
		return ab.Experiment{}, nil, usageError{fmt.Errorf("--workers %d: need at least 1", f.workers)}
	}
	if f.metrics && f.out == "" {
		return ab.Experiment{}, nil, usageError{errors.New("--metrics writes metrics.om into --out DIR: give --out")}
	}
	if _, err := parseMetricsEpoch(f.epoch); err != nil {
		return ab.Experiment{}, nil, err
	}
	base, err := loadScenario(cmd, args, f.sets, f.seed)
	if err != nil {
		return ab.Experiment{}, nil, err
	}
	seeds, err := ab.Seeds(base.Run.Seed, f.seeds)
	if err != nil {
		return ab.Experiment{}, nil, usageError{err}
	}
	arm := func(key, name string, raw []string) (ab.Arm, error) {
		var overrides []string
		for _, r := range raw {
			parts, err := ab.SplitOverrides(r)
			if err != nil {
				return ab.Arm{}, usageError{&ab.ArmError{Key: key, Name: name, Err: fmt.Errorf("--%s: %w", key, err)}}
			}
			overrides = append(overrides, parts...)
		}
		a, err := ab.NewArm(base, key, name, overrides)
		if err != nil {
			return ab.Arm{}, usageError{err}
		}
		return a, nil
	}
	exp := ab.Experiment{Scenario: base.Run.Name, Source: base.Source, Common: f.sets}
	if exp.A, err = arm("a", f.aName, f.a); err != nil {
		return exp, nil, err
	}
	if exp.B, err = arm("b", f.bName, f.b); err != nil {
		return exp, nil, err
	}
	if err := ab.CheckNames(exp.A, exp.B); err != nil {
		return exp, nil, usageError{err}
	}
	encA, errA := exp.A.Scenario.Encode()
	encB, errB := exp.B.Scenario.Encode()
	if errA == nil && errB == nil && bytes.Equal(encA, encB) {
		fmt.Fprintln(cmd.ErrOrStderr(), "sbmpsim: note: arms a and b resolve to the same scenario (an A/A run): every difference will be 0")
	}
	return exp, seeds, nil
}

// runAB runs the experiment, then writes and prints its report. Nothing
// is written unless every run succeeded.
func runAB(cmd *cobra.Command, args []string, exp ab.Experiment, seeds []uint64, f abFlags) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	bar := newRunBar(cmd.ErrOrStderr(), "ab")
	runs, err := ab.Run(ctx, ab.Config{A: exp.A, B: exp.B, Seeds: seeds, Workers: f.workers, Progress: bar.update, KeepTimeseries: f.metrics})
	bar.finish()
	if re := (*ab.RunError)(nil); errors.As(err, &re) {
		return fmt.Errorf("%w\nreplay: %s", err, replayCommand(args, f, re))
	}
	if err != nil {
		return err
	}
	report, err := ab.Analyze(exp, runs)
	if err != nil {
		return err
	}
	wall := time.Since(start)
	if f.out != "" {
		epoch, _ := parseMetricsEpoch(f.epoch) // checked in prepareAB
		if err := ab.Write(f.out, exp, runs, report, output.WriteOptions{MetricsEpoch: epoch}); err != nil {
			return err
		}
	}
	if f.json {
		b, err := report.JSON()
		if err != nil {
			return err
		}
		_, err = cmd.OutOrStdout().Write(b)
		return err
	}
	if err := report.WriteTable(cmd.OutOrStdout()); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "\n%d runs on %d workers in %.2fs", 2*len(seeds), f.workers, wall.Seconds())
	if f.out != "" {
		fmt.Fprintf(cmd.OutOrStdout(), "; wrote %s", filepath.Join(f.out, "ab.json"))
	}
	fmt.Fprintln(cmd.OutOrStdout())
	return nil
}

// replayCommand is the `sbmpsim run` command line that replays the run
// that failed.
func replayCommand(args []string, f abFlags, re *ab.RunError) string {
	words := []string{"sbmpsim", "run"}
	words = append(words, args...)
	for _, s := range f.sets {
		words = append(words, "--set", shellQuote(s))
	}
	arm := f.a
	if re.Arm == "b" {
		arm = f.b
	}
	for _, raw := range arm {
		parts, _ := ab.SplitOverrides(raw) // already checked in prepareAB
		for _, p := range parts {
			words = append(words, "--set", shellQuote(p))
		}
	}
	return strings.Join(append(words, "--seed", strconv.FormatUint(re.Seed, 10)), " ")
}
