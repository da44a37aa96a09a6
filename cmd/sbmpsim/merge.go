package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/sbmpsim/sbmpsim/experiments/sweep"
)

func newMergeCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "merge DIR... --out OUT",
		Short: "Combine the shard directories of a sweep into one",
		Long: `Combine the directories written by 'sbmpsim sweep --shard I/N' (or any
directories of one sweep, partial or whole) into OUT: plan.json, every run
file and the aggregate sweep.json and sweep.csv, byte-identical to what an
unsharded 'sbmpsim sweep --out OUT' writes.

The inputs must be of the same sweep (the same plan hash) and together hold
every run; a run found in several inputs must be byte-identical in all.
Errors name the missing or conflicting run ids and, when the shard manifests
tell, the shard to run again. Nothing is written unless the inputs are
complete. OUT may be new, empty, one of the inputs, or an earlier merge.`,
		Example: `  sbmpsim merge out/shard-* --out out/all
  sbmpsim merge out/shard-0 out/shard-1 --out out/shard-0   # into one of the inputs`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{errors.New("merge takes the sweep directories to combine, e.g. sbmpsim merge out/shard-* --out out/all")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageError{errors.New("--out OUT is required: the directory the merged sweep goes to")}
			}
			res, err := sweep.Merge(out, args)
			var dirErr *sweep.DirError
			if errors.As(err, &dirErr) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: merged %d runs from %d directories (%d copied, %d duplicates identical); wrote %s\n",
				res.Sweep, res.Runs, len(args), res.Copied, res.Duplicates, filepath.Join(out, sweep.ReportName))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory to write the merged sweep into")
	return cmd
}
