// Command sbmpsim runs the SBMP simulator: scenarios, A/B experiments,
// sweeps, the canonical experiments and their report, randomized checks
// and benchmarks. It is thin: it parses flags, loads scenarios, calls the
// packages under experiments/ (world runs a scenario; output, ab, sweep,
// canon and vopr build on it) and prints.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/sbmpsim/sbmpsim/experiments/real"
)

func main() {
	// `sbmpsim real` runs its workloads as this binary started again as
	// a worker (experiments/real): such a process does only that.
	if real.IsWorker() {
		os.Exit(real.WorkerMain(workloadSamplers))
	}
	// sbmpsim is a batch simulator whose heap (queues, page state) is
	// small next to the machine: trading memory for less GC work measured
	// 1.5x -> 2.0x speed-up of replications on two workers. GOGC in the
	// environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	os.Exit(execute(os.Args[1:], os.Stdout, os.Stderr))
}

// execute runs the command line args and returns the exit code. Tests call
// it directly.
func execute(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "sbmpsim: %v\n", err)
	if errors.As(err, &usageError{}) {
		return 2
	}
	return 1
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "sbmpsim",
		Short: "Deterministic simulator of the SBMP tiered per-CPU allocator on a modelled machine",
		Long: `sbmpsim runs the SBMP allocator against a modelled multi-socket machine in
deterministic virtual time: same scenario and seed, same bytes out.

Run the default scenario (the OOM crisis of SPEC 1.3):  sbmpsim run --out out/`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newRunCmd(), newABCmd(), newBenchCmd(), newScenariosCmd(), newPoliciesCmd(), newImportCmd(), newStatsCmd(), newSweepCmd(), newMergeCmd(), newExperimentCmd(), newReportCmd(), newCheckCmd(), newRealCmd(), newValidateCmd(), newTUICmd(), newDashboardCmd())
	return root
}
