package sweep

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/sbmpsim/sbmpsim/experiments/output"
)

// WriteMetrics writes dir/metrics.om: the time series of every run of
// the sweep (series/ID.csv) in OpenMetrics, in run order, each labelled
// scenario, sweep, point (its id in plan.json) and seed, with simulated
// time 0 at opts' epoch. A missing series file is an error naming it.
func WriteMetrics(dir string, pf *PlanFile, opts output.WriteOptions) error {
	runs := make([]output.MetricsRun, pf.Runs)
	for i := range pf.Runs {
		r := pf.Run(i)
		path := seriesPath(dir, r.ID)
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("metrics.om needs every run's time series: %w", err)
		}
		ts, err := output.ReadTimeseriesCSV(path, b)
		if err != nil {
			return err
		}
		runs[i] = output.MetricsRun{Labels: []output.Label{
			{Name: "scenario", Value: pf.Scenario}, {Name: "sweep", Value: pf.Sweep},
			{Name: "point", Value: pf.Points[r.Point].ID}, {Name: "seed", Value: strconv.FormatUint(r.Seed, 10)},
		}, Timeseries: ts}
	}
	return output.WriteAtomic(filepath.Join(dir, MetricsName), func(w io.Writer) error {
		return output.WriteOpenMetrics(w, runs, opts.Epoch())
	})
}
