package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/canon"
	"github.com/sbmpsim/sbmpsim/experiments/canon/catalog"
	"github.com/spf13/cobra"
)

// defaultNotebooks is where experiments write unless --out says otherwise.
const defaultNotebooks = "notebooks-out"

func newExperimentCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "experiment list | run NAME|all [--quick] [--workers W] [--out DIR]",
		Short: "The canonical experiments: figures, CSV and an HTML report under notebooks-out/",
		Example: `  sbmpsim experiment list
  sbmpsim experiment run all --quick       # what notebooks-out/ holds`,
	}
	cmd.AddCommand(&cobra.Command{
		Use:     "list",
		Short:   "List the canonical experiments",
		Example: "  sbmpsim experiment list",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, e := range catalog.All() {
				fmt.Fprintf(cmd.OutOrStdout(), "%-16s %s (%s)\n", e.Name, e.Title, e.Spec)
			}
			return nil
		},
	})
	var quick bool
	var workers int
	var out string
	run := &cobra.Command{
		Use:   "run NAME|all",
		Short: "Run experiments and write notebooks-out/NAME/ (and index.html)",
		Long: `Run one canonical experiment, or all of them, and write its figures (PNG and
SVG), the CSV of every plotted number, README.md and an HTML section to
DIR/NAME/; then rebuild DIR/index.html from every experiment's section.
--quick runs the small versions (fewer seeds); the committed outputs are
the quick ones, and they regenerate byte for byte.`,
		Example: `  sbmpsim experiment run all --quick
  sbmpsim experiment run oom-probability --workers 2 --out /tmp/nb`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeExperiment,
		RunE: func(cmd *cobra.Command, args []string) error {
			var list []canon.Experiment
			if args[0] == "all" {
				list = catalog.All()
			} else {
				e, ok := catalog.Lookup(args[0])
				if !ok {
					return usageError{fmt.Errorf("no experiment %q (known: all, %s)", args[0], strings.Join(catalog.Names(), ", "))}
				}
				list = []canon.Experiment{e}
			}
			if workers < 1 {
				return usageError{fmt.Errorf("--workers must be at least 1, got %d", workers)}
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			env := canon.NewEnv(ctx, quick, workers)
			for _, e := range list {
				o := canon.NewOut(e)
				if err := e.Run(env, o); err != nil {
					return fmt.Errorf("experiment %s: %w", e.Name, err)
				}
				if err := o.Write(out); err != nil {
					return fmt.Errorf("experiment %s: %w", e.Name, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: wrote %s/%s/\n", e.Name, out, e.Name)
			}
			missing, err := canon.Report(out, reportSections())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "report: %s/index.html", out)
			if len(missing) > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), " (not yet run: %s)", strings.Join(missing, ", "))
			}
			fmt.Fprintln(cmd.OutOrStdout())
			return nil
		},
	}
	run.Flags().BoolVar(&quick, "quick", false, "the small versions (fewer seeds), as committed")
	run.Flags().IntVar(&workers, "workers", runtime.GOMAXPROCS(0), "simulations run at once")
	run.Flags().StringVar(&out, "out", defaultNotebooks, "output directory")
	cmd.AddCommand(run)
	return cmd
}

func newReportCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "report [--out DIR]",
		Short: "Assemble DIR/index.html from the experiments' outputs (no rerun)",
		Example: `  sbmpsim report
  sbmpsim report --out /tmp/nb`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			missing, err := canon.Report(out, reportSections())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "report: %s/index.html", out)
			if len(missing) > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), " (not yet run: %s)", strings.Join(missing, ", "))
			}
			fmt.Fprintln(cmd.OutOrStdout())
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", defaultNotebooks, "directory holding the experiments' outputs")
	return cmd
}
