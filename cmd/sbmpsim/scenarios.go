package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenarios"
)

func newScenariosCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scenarios",
		Short: "List the embedded scenarios",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, n := range scenarios.Names() {
				mark := ""
				if n == scenarios.Default {
					mark = " (default)"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s%s\n", n, mark)
			}
			return nil
		},
	}
	var sets []string
	show := &cobra.Command{
		Use:   "show [SCENARIO.toml | NAME]",
		Short: "Print a scenario fully resolved (every key, defaults and --set overrides applied); with no argument, the defaults",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var sc *scenario.Scenario
			if len(args) == 0 {
				d := scenario.Default()
				sc = &d
			} else {
				var err error
				if sc, err = scenario.Load(args[0]); err != nil {
					return err
				}
			}
			for _, s := range sets {
				if err := sc.Set(s); err != nil {
					return usageError{err}
				}
			}
			// With no scenario named, show the bare defaults: they have
			// no [[workload]] yet, so they are not a runnable scenario.
			if len(args) > 0 {
				if err := sc.Validate(); err != nil {
					return err
				}
			}
			b, err := sc.Encode()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
	show.Flags().StringArrayVar(&sets, "set", nil, "override a scenario key (repeatable)")
	cmd.AddCommand(show)
	return cmd
}
