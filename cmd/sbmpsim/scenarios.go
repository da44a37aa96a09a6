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
		Short: "List the embedded scenarios, one line each",
		Long: `List the scenarios embedded in the binary, which every command that takes a
SCENARIO accepts by name, each with a line that describes it: the first
sentence of the comment the scenario file opens with (shortened at its
first colon, or with "...", past 100 characters). 'sbmpsim scenarios show
NAME' prints one with every key resolved.`,
		Example: `  sbmpsim scenarios
  sbmpsim scenarios show steady --set kernel.swappiness=60`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			names := scenarios.Names()
			labels := make([]string, len(names))
			width := 0
			for i, n := range names {
				labels[i] = n
				if n == scenarios.Default {
					labels[i] += " (default)"
				}
				width = max(width, len(labels[i]))
			}
			for i, n := range names {
				fmt.Fprintf(cmd.OutOrStdout(), "%-*s  %s\n", width, labels[i], scenarios.Format().Description(n))
			}
			return nil
		},
	}
	var sets []string
	show := &cobra.Command{
		Use:   "show [SCENARIO] [--set KEY=VALUE]...",
		Short: "Print a scenario fully resolved (every key, defaults and --set overrides applied); with no argument, the defaults",
		Example: `  sbmpsim scenarios show oom-crisis
  sbmpsim scenarios show my-scenario.toml --set policy.refill=adaptive-batch
  sbmpsim scenarios show                   # every key at its default`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeScenario,
		RunE: func(cmd *cobra.Command, args []string) error {
			sc, err := showScenario(cmd, args, sets)
			if err != nil {
				return err
			}
			b, err := sc.Encode()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
	setFlag(show, &sets, "override a scenario key (repeatable)")
	cmd.AddCommand(show)
	return cmd
}

// showScenario is the scenario `scenarios show` prints: the one args
// names, loaded and validated as every command loads one, or with no
// argument the bare defaults with the overrides applied, unvalidated:
// they have no [[workload]] yet, so they are not a runnable scenario.
func showScenario(cmd *cobra.Command, args, sets []string) (*scenario.Scenario, error) {
	if len(args) > 0 {
		return loadScenario(cmd, args, sets, 0)
	}
	d := scenario.Default()
	for _, s := range sets {
		if err := d.Set(s); err != nil {
			return nil, usageError{err}
		}
	}
	return &d, nil
}
