package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sbmpsim/sbmpsim/internal/buildinfo"
)

func newVersionCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the module version, VCS revision and Go version of this build",
		Long: `Print which build this is: the module version, the VCS revision and whether
the checkout had uncommitted changes (as 'go build' stamps them), and the Go
version. Every summary.json, replications.json, ab.json, sweep.json, report
and metrics file records the same, under "version".`,
		Example: `  sbmpsim version
  sbmpsim version --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := buildinfo.Current()
			if asJSON {
				b, err := json.MarshalIndent(v, "", "  ")
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", b)
				return err
			}
			rev := v.Revision
			if rev == "" {
				rev = "(none: built without VCS information)"
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "sbmpsim %s\nmodule:   %s\nversion:  %s\nrevision: %s\nmodified: %t\ngo:       %s\n",
				v, v.Module, v.Version, rev, v.Modified, v.Go)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the version as JSON")
	return cmd
}
