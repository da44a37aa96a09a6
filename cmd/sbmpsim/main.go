// Command sbmpsim runs the SBMP simulator: scenarios, A/B experiments,
// sweeps, the canonical experiments and their report, randomized checks
// and benchmarks. It is thin: it parses flags, loads scenarios, calls the
// packages under experiments/ (world runs a scenario; output, ab, sweep,
// canon and vopr build on it) and prints.
package main

import (
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

// execute runs the command line args and returns the exit code (the
// table in exitCodes). Tests call it directly.
func execute(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	// The root's hook runs once cobra has parsed the flags and checked
	// the arguments of the command named: an error before then is a bad
	// invocation. (No command has a PersistentPreRun of its own, which
	// cobra would run instead.)
	started := false
	root.PersistentPreRun = func(*cobra.Command, []string) { started = true }
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err != nil && !started && cmd != nil {
		err = fmt.Errorf("%w\n(see '%s --help')", err, cmd.CommandPath())
	}
	if err != nil {
		fmt.Fprintf(stderr, "sbmpsim: %v\n", err)
	}
	return exitCode(err, started)
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "sbmpsim",
		Short: "Deterministic simulator of the SBMP tiered per-CPU allocator on a modelled machine",
		Long: `sbmpsim runs the SBMP allocator against a modelled multi-socket machine in
deterministic virtual time: same scenario and seed, same bytes out.

A scenario is always the argument (SCENARIO): a scenario file, or the name
of one embedded in the binary ('sbmpsim scenarios' lists them); commands
that load one take --set KEY=VALUE (any scenario key, repeatable) and, where
they run one seed or a range, --seed S and --seeds N.

` + exitCodes,
		Example: `  sbmpsim run --out out/                      # the default scenario (the OOM crisis of SPEC 1.3)
  sbmpsim run steady --seed 7 --set kernel.swappiness=60 --json
  sbmpsim scenarios                           # the embedded scenarios, one line each
  source <(sbmpsim completion bash)           # completion of commands, names and --set keys`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(newRunCmd(), newABCmd(), newBenchCmd(), newScenariosCmd(), newPoliciesCmd(), newImportCmd(), newStatsCmd(), newSweepCmd(), newSweepsCmd(), newMergeCmd(), newExperimentCmd(), newReportCmd(), newCheckCmd(), newRealCmd(), newValidateCmd(), newTUICmd(), newVersionCmd(), newDashboardCmd())
	addBuiltinExamples(root)
	return root
}
