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
	"time"

	"github.com/spf13/cobra"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/vopr"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/sim"
)

type checkFlags struct {
	seed      uint64
	seeds     int
	workers   int
	scenario  string // the scenario checked ("" for generated ones)
	sets      []string
	every     int64
	fullEvery int64
	out       string
	noShrink  bool
	maxShrink int
	meta      bool
	ops       int
}

func newCheckCmd() *cobra.Command {
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "check [SCENARIO] [--seeds N] [--seed S] [--workers W] [--every N] [--full-every N] [--set KEY=VALUE]...",
		Short: "Randomized whole-system verification: random scenarios, every invariant after every event",
		Long: `check generates a random scenario from each seed S, S+1, ..., S+N-1 (machine,
kernel settings, SBMP shape, policies, workloads of every kind, processes,
cgroups, faults) and runs it with every invariant checked after every event:
each SBMP allocator, the kernel model, each Go program and the run's own books.
A failing seed prints the command that replays it; its scenario is shrunk while
it still fails the same way and written to --out as SEED.toml, with the data
files it names, to replay with 'sbmpsim check FILE' or 'sbmpsim run FILE'.

The kernel model is walked whole at every --full-every-th check, the first and
the last; the checks between check the pages and buddy blocks the events
touched since the previous check, and the kernel's counters, for a fraction of
the cost (model/kernel's doc, "Checking what changed", says what each covers).
--full-every 1 walks everything at every check.

Given a SCENARIO (a file or an embedded name), check runs that scenario
instead, with --set applied, on seeds S..S+N-1 (S from --seed, else the
scenario's run.seed). The output does not depend on --workers; the exit
status is 1 when any seed fails. The last line gives the wall time per checked
event; on a terminal a progress bar shows how far the checks have got.

--metamorphic runs the metamorphic check instead: from each seed, one
operation sequence (allocations of every size, frees on any CPU, ticks,
flushes) on a small machine of its own, replayed on the real allocator under
every policy of each family (merge, refill, degrade), the other families at
their defaults. Every run must keep its books (no overlapping live objects,
every free accepted, invariants after every operation, every page back once
all is freed), and each run's history must equal the family default's up to
the first operation at which their policies decided differently.`,
		Example: `  sbmpsim check --seeds 100                 # 100 random scenarios, every invariant after every event
  sbmpsim check oom-crisis --every 1000     # one scenario, checked every 1000th event
  sbmpsim check steady --seeds 4 --set run.duration_ms=1000
  sbmpsim check --metamorphic --seeds 20    # every policy of each family on one sequence per seed`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeScenario,
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := scenarioArg(args, f.scenario)
			if err != nil {
				return err
			}
			f.scenario = name
			return runCheck(cmd, f)
		},
	}
	fl := cmd.Flags()
	seedVar(fl, &f.seed, 1, "first seed")
	seedsVar(fl, &f.seeds, 1, "number of seeds (at least 1)")
	fl.IntVar(&f.workers, "workers", runtime.GOMAXPROCS(0), "goroutines checking seeds")
	deprecatedScenarioFlag(cmd, &f.scenario, "sbmpsim check SCENARIO")
	setFlag(cmd, &f.sets, "override a key of the SCENARIO checked (repeatable)")
	fl.Int64Var(&f.every, "every", 1, "check after every N-th event")
	fl.Int64Var(&f.fullEvery, "full-every", world.DefaultCheckFullEvery, "walk the kernel model whole at every N-th check (1: at every check); the others check what the events touched")
	fl.StringVar(&f.out, "out", "check-out", "directory for the shrunk scenarios of failing seeds")
	fl.BoolVar(&f.noShrink, "no-shrink", false, "do not shrink failing scenarios")
	fl.IntVar(&f.maxShrink, "max-shrink-runs", vopr.DefaultMaxShrinkRuns, "bound on the runs one shrink makes")
	fl.BoolVar(&f.meta, "metamorphic", false, "run the metamorphic check of the policy families instead")
	fl.IntVar(&f.ops, "ops", vopr.DefaultMetaOps, "operations in each metamorphic sequence")
	return cmd
}

func runCheck(cmd *cobra.Command, f checkFlags) error {
	if f.workers < 1 || f.every < 1 || f.fullEvery < 1 {
		return usageError{errors.New("--workers, --every and --full-every must be at least 1")}
	}
	if len(f.sets) > 0 && f.scenario == "" {
		return usageError{errors.New("--set applies to a SCENARIO checked (sbmpsim check SCENARIO --set ...); generated scenarios take none")}
	}
	opt := vopr.Options{Every: f.every, FullEvery: f.fullEvery, Shrink: !f.noShrink, MaxShrinkRuns: f.maxShrink}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
	defer stop()
	start := time.Now()
	if f.meta {
		return runMetamorphic(ctx, cmd.OutOrStdout(), f, start)
	}
	var sc *scenario.Scenario
	first := f.seed
	if f.scenario != "" {
		var err error
		if sc, err = loadScenario(cmd, []string{f.scenario}, f.sets, f.seed); err != nil {
			return err
		}
		first = sc.Run.Seed
	}
	if err := checkSeedRange(first, f.seeds); err != nil {
		return err
	}
	seeds := make([]uint64, f.seeds)
	for i := range seeds {
		seeds[i] = first + uint64(i)
	}
	desc := "check"
	if f.scenario != "" {
		desc += " " + f.scenario
	}
	bar := newRunBar(cmd.ErrOrStderr(), desc)
	if p := newCheckProgress(bar, len(seeds)); p != nil {
		opt.Progress = p.seed
	}
	var outcomes []vopr.Outcome
	var err error
	if sc != nil {
		outcomes, err = vopr.CheckScenarioSeeds(ctx, sc, seeds, f.workers, opt)
	} else {
		outcomes, err = vopr.CheckSeeds(ctx, seeds, f.workers, opt)
	}
	bar.finish()
	if err != nil {
		return err
	}
	return reportCheck(cmd.OutOrStdout(), f, outcomes, time.Since(start))
}

// reportCheck prints one line (and its replay commands) per failing seed,
// then the summary, and writes the shrunk scenarios.
func reportCheck(w io.Writer, f checkFlags, outcomes []vopr.Outcome, wall time.Duration) error {
	var events, passes, fulls int64
	var checks uint64
	failed := 0
	for _, o := range outcomes {
		events += o.Events
		checks += o.Checks
		passes, fulls = passes+o.Check.Passes, fulls+o.Check.FullWalks
		if o.Err == nil {
			continue
		}
		failed++
		fmt.Fprintf(w, "FAIL seed %d: %v\n", o.Seed, o.Err)
		var ie *world.InvariantError
		if errors.As(o.Err, &ie) && ie.Full && ie.LastFullEvent >= 0 && ie.Event-ie.LastFullEvent > f.every {
			fmt.Fprintf(w, "  found by a whole walk; the last one passed after event %d: replay with --full-every 1 to find the event that broke it\n", ie.LastFullEvent)
		}
		if f.scenario != "" {
			fmt.Fprintf(w, "  replay: %s\n", checkReplay(f, o.Seed))
		} else {
			fmt.Fprintf(w, "  replay: sbmpsim check --seed %d\n", o.Seed)
		}
		if o.Shrunk != nil {
			path, err := writeShrunk(f.out, o)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "  shrunk in %d runs to %s: %v\n", o.Shrunk.Runs, path, o.Shrunk.Err)
			fmt.Fprintf(w, "  replay shrunk: sbmpsim check %s   (or: sbmpsim run %s)\n", shellQuote(path), shellQuote(path))
		}
	}
	secs := wall.Seconds()
	fmt.Fprintf(w, "checked %d seeds, %d failed: %d events, %d invariant checks, wall %.2fs (%.1f seeds/s, %.0f events/s, %.0f µs per checked event; %d checked events, %d full walks)\n",
		len(outcomes), failed, events, checks, secs, float64(len(outcomes))/secs, float64(events)/secs,
		secs*1e6/float64(max(passes, 1)), passes, fulls)
	if failed > 0 {
		return fmt.Errorf("%d of %d seeds failed", failed, len(outcomes))
	}
	return nil
}

// checkReplay is the command line that checks seed of f's scenario again.
func checkReplay(f checkFlags, seed uint64) string {
	words := []string{"sbmpsim", "check", shellQuote(f.scenario)}
	for _, s := range f.sets {
		words = append(words, "--set", shellQuote(s))
	}
	return strings.Join(append(words, "--seed", strconv.FormatUint(seed, 10)), " ")
}

// writeShrunk writes o's shrunk scenario as DIR/SEED.toml, with the data
// files generated scenarios name, and returns its path.
func writeShrunk(dir string, o vopr.Outcome) (string, error) {
	if err := vopr.WriteData(dir); err != nil {
		return "", err
	}
	enc, err := o.Shrunk.Scenario.Encode()
	if err != nil {
		return "", err
	}
	var ie *world.InvariantError
	msg := strings.ReplaceAll(o.Shrunk.Err.Error(), "\n", "\n#   ")
	head := fmt.Sprintf("# sbmpsim check: seed %d shrunk; it fails with:\n#   %s\n", o.Seed, msg)
	if errors.As(o.Shrunk.Err, &ie) && ie.Stack != "" {
		head += "# (a panic; replay to see its stack)\n"
	}
	path := filepath.Join(dir, fmt.Sprintf("%d.toml", o.Seed))
	return path, os.WriteFile(path, append([]byte(head), enc...), 0o644)
}

// runMetamorphic runs the metamorphic check of seeds f.seed.. on f.workers
// goroutines and prints each seed's report in seed order.
func runMetamorphic(ctx context.Context, w io.Writer, f checkFlags, start time.Time) error {
	if f.scenario != "" {
		return usageError{errors.New("--metamorphic generates its own sequences: it takes no SCENARIO")}
	}
	if f.ops < 1 || f.ops > 10_000_000 {
		return usageError{fmt.Errorf("--ops %d: want 1..10000000", f.ops)}
	}
	outs, err := sim.Replicate(ctx, f.seeds, f.workers, func(i int) (vopr.MetaOutcome, error) {
		return vopr.CheckMetamorphic(f.seed+uint64(i), vopr.MetaOptions{Ops: f.ops}), nil
	})
	if err != nil {
		return err
	}
	failed := 0
	for _, o := range outs {
		fmt.Fprint(w, o.Report())
		if o.Failed() {
			failed++
		}
	}
	fmt.Fprintf(w, "metamorphic: %d seeds of %d operations, %d failed (wall %.2fs)\n", len(outs), f.ops, failed, time.Since(start).Seconds())
	return vopr.MetaError(outs)
}
