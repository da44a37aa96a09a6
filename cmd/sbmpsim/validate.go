package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sbmpsim/sbmpsim/experiments/canon"
	"github.com/sbmpsim/sbmpsim/experiments/canon/catalog"
	"github.com/sbmpsim/sbmpsim/experiments/real"
	"github.com/sbmpsim/sbmpsim/experiments/validate"
)

type validateFlags struct {
	out     string
	runs    int
	cases   []string
	verbose bool
}

func newValidateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "validate real [--out DIR] [--runs N] [--case NAME]... | list",
		Short: "The sim-to-real suite: real runs on this host against simulations, errors per case",
		Example: `  sbmpsim validate list
  sbmpsim validate real --runs 2 --out /tmp/v`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("unknown validate command %q: use 'validate real' or 'validate list'", args[0])}
			}
			return nil
		},
		RunE: func(*cobra.Command, []string) error {
			return usageError{errors.New("validate needs a command: 'validate real' (run the suite) or 'validate list' (its cases)")}
		},
	}
	cmd.AddCommand(newValidateRealCmd(), &cobra.Command{
		Use:     "list",
		Short:   "List the validation cases",
		Example: "  sbmpsim validate list",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, c := range validate.Cases() {
				fmt.Fprintf(cmd.OutOrStdout(), "%-24s %s\n", c.Name, c.Title)
			}
			return nil
		},
	})
	return cmd
}

func newValidateRealCmd() *cobra.Command {
	var f validateFlags
	cmd := &cobra.Command{
		Use:   "real [--out DIR] [--runs N] [--case NAME]...",
		Short: "Run the validation cases for real and simulated, and write the table, figures and validation.json",
		Long: `Run each validation case (sbmpsim validate list) --runs times for real on
this host, as 'sbmpsim real' runs a scenario (processes in a memory cgroup
the run creates and removes), one run at a time, then simulate it with the
same seeds on this host's machine and kernel settings (the [machine] and
[kernel] of 'sbmpsim import host', with the case's own swappiness, swap and
cgroups). For every metric of every case it compares the simulated median
with the real one against the tolerance written in the case, and writes
DIR/validation/: validation.json (schema sbmpsim.validation/v1), README.md
and section.html with the summary table (and summary.csv), and per case a
figure of both timelines (NAME.png, NAME.svg, NAME.csv); then it rebuilds
DIR/index.html, the report of the canonical experiments with the
validation as its last section, and records the validation's files, their
hashes and this command in DIR/MANIFEST.json.

It needs root and a writable memory cgroup; without them it says why and
exits 0, writing nothing. Real runs measure the whole host (vmstat, PSI):
run it on a quiet machine. A case takes about its scenario's length plus
set-up per run; all of them at the default 5 runs take about 10 minutes.
Ctrl-C stops the suite after the run in progress has removed what it
started; nothing is written then.

Exit codes:
  0  every case ran (or the host cannot run real runs, as said). A miss is
     a result, not a failure: it is in the table with its reason.
  1  a run failed to run (its case says "failed" and why), or interrupted.
  2  bad invocation: an unknown case, --runs below 1, an extra argument.`,
		Example: `  sbmpsim validate real                          # all cases, 5 runs each
  sbmpsim validate real --case thrash-hot-cache --runs 2 --out /tmp/v
  sbmpsim validate list`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("validate real takes no arguments (name cases with --case), got %q", args)}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return runValidate(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.out, "out", defaultNotebooks, "report directory: the validation goes to DIR/validation/, the report to DIR/index.html")
	fl.IntVar(&f.runs, "runs", validate.DefaultRuns, "real runs and simulations per case (seeds 1..N)")
	fl.StringArrayVar(&f.cases, "case", nil, "run only this case (repeatable; default: all)")
	fl.BoolVar(&f.verbose, "verbose", false, "print every real run's own steps too")
	return cmd
}

func runValidate(cmd *cobra.Command, f validateFlags) error {
	if f.runs < 1 {
		return usageError{fmt.Errorf("--runs %d: need at least 1", f.runs)}
	}
	if _, err := validate.SelectCases(f.cases); err != nil {
		return usageError{err}
	}
	ctx, stop := interruptible(cmd, "sbmpsim validate")
	defer stop()
	stderr := cmd.ErrOrStderr()
	opt := validate.Options{Runs: f.runs, Cases: f.cases, Log: stderr, Real: real.Options{Samplers: workloadSamplers}}
	if f.verbose {
		opt.Real.Log = stderr
	}
	v, err := validate.Run(ctx, opt)
	if err != nil && ctx.Err() != nil {
		return errors.New("interrupted: nothing written; what the runs started has been removed")
	}
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	if v.Skipped != "" {
		fmt.Fprintf(w, "sbmpsim validate real: skipped on this host: %s\n", v.Skipped)
		return nil
	}
	printVerdicts(w, v)
	o, err := validate.Out(v, validateCommand(f))
	if err != nil {
		return err
	}
	if err := o.Write(f.out); err != nil {
		return err
	}
	if _, err := canon.Report(f.out, reportSections()); err != nil {
		return err
	}
	err = canon.UpdateManifest(f.out, func(m *canon.Manifest) error {
		var err error
		m.Validation, err = canon.NewValidationEntry(f.out, validateCommand(f))
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s and %s\n", filepath.Join(f.out, validate.Section().Name, "validation.json"), filepath.Join(f.out, "index.html"))
	if failed := v.Failed(); len(failed) > 0 {
		return fmt.Errorf("%d case(s) failed to run: %s (see validation.json)", len(failed), strings.Join(failed, ", "))
	}
	return nil
}

// printVerdicts prints a line per case: its verdict and why.
func printVerdicts(w io.Writer, v *validate.Validation) {
	for _, c := range v.Cases {
		fmt.Fprintf(w, "%-24s %-7s %s\n", c.Name, c.Verdict, c.Reason)
	}
	fmt.Fprintf(w, "%d cases, %d runs each, %.0f s\n", len(v.Cases), v.Runs, float64(v.WallNs)/1e9)
}

// validateCommand is the command line that regenerates the validation.
func validateCommand(f validateFlags) string {
	s := "sbmpsim validate real"
	if f.runs != validate.DefaultRuns {
		s += " --runs " + strconv.Itoa(f.runs)
	}
	for _, c := range f.cases {
		s += " --case " + c
	}
	if f.out != defaultNotebooks {
		s += " --out " + f.out
	}
	return s
}

// reportSections are the report's sections in order: the canonical
// experiments, then the validation.
func reportSections() []canon.Experiment { return catalog.ReportSections() }
