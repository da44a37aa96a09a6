package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sbmpsim/sbmpsim/experiments/world"
)

func newStatsCmd() *cobra.Command {
	var (
		seed uint64
		sets []string
	)
	cmd := &cobra.Command{
		Use:   "stats [SCENARIO.toml | NAME]",
		Short: "Run a scenario and print SBMP's state at its end in the debugfs format of SPEC 1.4 (/sys/kernel/debug/sbmp/stats)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sc, err := loadScenario(cmd, args, sets, seed)
			if err != nil {
				return err
			}
			res, err := world.Run(cmd.Context(), sc, world.Options{})
			if err != nil {
				return err
			}
			if res.Summary.SBMP == nil {
				return fmt.Errorf("scenario %s has no workload that allocates through SBMP", sc.Run.Name)
			}
			_, err = fmt.Fprint(cmd.OutOrStdout(), res.Summary.SBMP.Debugfs)
			return err
		},
	}
	cmd.Flags().Uint64Var(&seed, "seed", 0, "master seed (overrides run.seed)")
	cmd.Flags().StringArrayVar(&sets, "set", nil, "override a scenario key (repeatable)")
	return cmd
}
