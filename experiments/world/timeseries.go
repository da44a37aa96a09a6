package world

import "slices"

// Timeseries is the run sampled every [output] sample_interval_ms, written
// as timeseries.csv. Values are float64 so that rates and integers share
// one table; integers up to 2^53 are exact and print without a fraction.
type Timeseries struct {
	Columns []string
	Rows    [][]float64
}

// timeseriesColumns are the columns of today's run, time first.
var timeseriesColumns = columnNames(baseColumnDocs, "")

func newTimeseries() Timeseries { return Timeseries{Columns: slices.Clone(timeseriesColumns)} }

func (t *Timeseries) add(row ...float64) {
	if len(row) != len(t.Columns) {
		panic("experiments: timeseries row does not match its columns")
	}
	t.Rows = append(t.Rows, row)
}

func (t *Timeseries) lastTimeNs() int64 {
	if len(t.Rows) == 0 {
		return -1
	}
	return int64(t.Rows[len(t.Rows)-1][0])
}
