package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/sbmpsim/sbmpsim/experiments/output"
	"github.com/sbmpsim/sbmpsim/experiments/output/dashboard"
)

func newDashboardCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "dashboard --out DIR",
		Short: "Write the Grafana dashboards (one run, A/B) as provisionable JSON",
		Long: `Write sbmpsim's Grafana dashboards into DIR: sbmpsim-run.json (one run: memory
by kind per NUMA node, SBMP's tier rates, Tier-0 free slots per CPU, degrade
episodes, SPEC 4.4's error rate and p95 latency, OOM kills as annotations) and
sbmpsim-ab.json (the same by arm, for 'ab --metrics'), with example Grafana
provisioning files under DIR/provisioning. The repository's dashboards/ is this
command's output.

To look at a run: 'sbmpsim run --out RUN', then
  promtool tsdb create-blocks-from openmetrics RUN/metrics.om DATA
  prometheus --storage.tsdb.path=DATA --config.file=/dev/null
and open the dashboard on that Prometheus. It opens on the default metrics
epoch (` + output.DefaultMetricsEpoch + `), where simulated time 0 lies.`,
		Example: `  sbmpsim dashboard --out dashboards/         # the committed, provisionable dashboards`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageError{errors.New("--out DIR is required: the directory the dashboards go to")}
			}
			files, err := dashboard.Files()
			if err != nil {
				return err
			}
			for _, f := range files {
				path := filepath.Join(out, filepath.FromSlash(f.Path))
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
				}
				if err := output.WriteFileAtomic(path, f.Data); err != nil {
					return err
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %d files to %s\n", len(files), out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory to write the dashboards and provisioning files into")
	return cmd
}
