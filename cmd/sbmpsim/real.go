package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/real"
)

// defaultRealScenario is what `sbmpsim real` runs when no scenario is
// named: the embedded example small and confined enough for any host.
const defaultRealScenario = "real-two-tasks"

type realFlags struct {
	seed uint64
	sets []string
	out  string
	json bool
}

func newRealCmd() *cobra.Command {
	var f realFlags
	cmd := &cobra.Command{
		Use:   "real [SCENARIO] [--seed S] [--set KEY=VALUE]... [--out DIR]",
		Short: "Run a cgroup-confined scenario's workloads as real processes on this host (default: the embedded " + defaultRealScenario + ")",
		Long: `Run the task, mlock and page-cache workloads of a scenario as real processes
on this machine, each in a memory cgroup made from the scenario's
[[kernel.cgroup]] tables (under one private parent, removed at the end),
sample what the kernel reports every 50 ms, and write real.json, real.csv
and scenario.toml into --out, in the shapes of a simulated run's files.

Every workload must be in a [[kernel.cgroup]] with max_mb > 0; kinds and
settings a real run cannot honour are refused, naming the file, line and
key. It needs root. Ctrl-C stops the run early; everything it started
(processes, cgroups, files, swap) is removed before it exits.`,
		Example: `  sbmpsim real real-two-tasks --out real-out/
  sbmpsim real --set kernel.cgroup.0.max_mb=128 --seed 2 --json`,
		ValidArgsFunction: completeScenario,
		Annotations:       map[string]string{defaultScenarioKey: defaultRealScenario},
		Args: func(cmd *cobra.Command, args []string) error {
			if err := cobra.MaximumNArgs(1)(cmd, args); err != nil {
				return usageError{fmt.Errorf("%w: name one scenario, a file or an embedded name", err)}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{defaultRealScenario}
			}
			sc, err := loadScenario(cmd, args, f.sets, f.seed)
			if err != nil {
				// Every failure to load is the input's: a missing or
				// unreadable file, bad TOML, a bad key or value.
				return usageError{err}
			}
			return runReal(cmd, sc, f)
		},
	}
	fl := cmd.Flags()
	seedVar(fl, &f.seed, 0, "master seed (overrides run.seed)")
	setFlag(cmd, &f.sets, "override a scenario key, e.g. --set kernel.cgroup.0.max_mb=128 (repeatable)")
	fl.StringVar(&f.out, "out", "", "directory to write real.json, real.csv and scenario.toml into")
	fl.BoolVar(&f.json, "json", false, "print real.json to standard output")
	return cmd
}

// asUsage marks a run's refusals of the scenario (errors naming its
// file, line and key) as usage errors: exit code 2. Anything else, such
// as a host that cannot run real workloads, is the work failing: 1.
func asUsage(err error) error {
	var se *scenario.Error
	if errors.As(err, &se) {
		return usageError{err}
	}
	return err
}

// interruptible returns a context that SIGINT and SIGTERM cancel, for a
// command that starts real processes (name prefixes its messages). The
// signals stay caught until stop is called, after the clean-up: a second
// Ctrl-C must not kill this process while it removes what it made.
func interruptible(cmd *cobra.Command, name string) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(cmd.Context())
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	stderr := cmd.ErrOrStderr()
	go func() {
		n := 0
		for s := range sigs {
			if n++; n == 1 {
				fmt.Fprintf(stderr, "%s: %v: stopping; cleaning up\n", name, s)
				cancel()
			} else {
				fmt.Fprintf(stderr, "%s: %v: still cleaning up, please wait\n", name, s)
			}
		}
	}()
	return ctx, func() { signal.Stop(sigs); close(sigs); cancel() }
}

func runReal(cmd *cobra.Command, sc *scenario.Scenario, f realFlags) error {
	ctx, stop := interruptible(cmd, "sbmpsim real")
	defer stop()
	stderr := cmd.ErrOrStderr()
	res, err := real.Run(ctx, sc, real.Options{Log: stderr, Samplers: workloadSamplers})
	if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return errors.New("interrupted: nothing written; what the run started has been removed")
	}
	if err != nil {
		return asUsage(err)
	}
	if f.out != "" {
		if err := real.Write(f.out, res); err != nil {
			return err
		}
	}
	if f.json {
		b, err := real.SummaryJSON(&res.Summary)
		if err != nil {
			return err
		}
		_, err = cmd.OutOrStdout().Write(b)
		return err
	}
	s := res.Summary
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "%s seed=%d: %.2f s on Linux %s (cgroup v%d), %d samples, oom_kills=%d\n",
		s.Scenario, s.Seed, float64(s.SimTimeNs)/1e9, s.Host.KernelRelease, s.Host.Cgroup.Version, s.Samples, s.OOMKills)
	if c := s.HostCPU; c != nil {
		fmt.Fprintf(w, "  host CPUs busy: %.2f of %d, %.2f with this run, %.2f with other work (it dilutes the PSI figures)\n", c.Busy, c.CPUs, c.Ours, c.Others)
	}
	for _, e := range s.OOMEvents {
		fmt.Fprintf(w, "  OOM kill at %.3f s in %s: %s (pid %d here %d), %d points\n",
			float64(e.TimeNs)/1e9, e.Scope, e.VictimComm, e.VictimPID, e.RealPID, e.VictimPoints)
	}
	if f.out != "" {
		fmt.Fprintf(w, "wrote %s\n", filepath.Join(f.out, "real.json"))
	}
	return nil
}

// workloadSamplers builds a synthetic workload's samplers as the
// simulation does, so that a real run draws what a simulated run of the
// same seed draws.
func workloadSamplers(sc *scenario.Scenario, index int) (real.Samplers, error) {
	arr, size, life, err := world.WorkloadSamplers(sc, index)
	return real.Samplers{Arrivals: arr, Sizes: size, Lifetimes: life}, err
}
