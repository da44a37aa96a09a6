package experiments

import (
	"bytes"
	"math"
	"slices"
	"strconv"
)

// Timeseries is the run sampled every [output] sample_interval_ms, written
// as timeseries.csv. Values are float64 so that rates and integers share
// one table; integers up to 2^53 are exact and print without a fraction.
type Timeseries struct {
	Columns []string
	Rows    [][]float64
}

// timeseriesColumns are the columns of today's run, time first.
var timeseriesColumns = []string{"time_ns", "objects_live", "bytes_live", "allocs", "frees"}

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

// appendNumber formats integral values without exponent or fraction and
// others as the shortest decimal that reads back as the same float64.
func appendNumber(b []byte, v float64) []byte {
	if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
		return strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// CSV returns the table as RFC 4180 CSV with a header row. The formatting
// is exact and deterministic: the shortest decimal that reads back as the
// same float64.
func (t *Timeseries) CSV() []byte {
	var b bytes.Buffer
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(c)
	}
	b.WriteByte('\n')
	var num []byte
	for _, row := range t.Rows {
		for i, v := range row {
			if i > 0 {
				b.WriteByte(',')
			}
			num = appendNumber(num[:0], v)
			b.Write(num)
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}
