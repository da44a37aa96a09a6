package output

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/world"
)

// appendNumber formats integral values without exponent or fraction and
// others as the shortest decimal that reads back as the same float64.
func appendNumber(b []byte, v float64) []byte {
	if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
		return strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// TimeseriesCSV returns the table as RFC 4180 CSV with a header row. The formatting
// is exact and deterministic: the shortest decimal that reads back as the
// same float64.
func TimeseriesCSV(t *world.Timeseries) []byte {
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

// ReadTimeseriesCSV reads back what TimeseriesCSV wrote: a header row of
// column names, then rows of as many numbers. name names the file in
// errors.
func ReadTimeseriesCSV(name string, data []byte) (*world.Timeseries, error) {
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) == 0 || lines[0] == "" {
		return nil, fmt.Errorf("%s: no header row", name)
	}
	ts := &world.Timeseries{Columns: strings.Split(lines[0], ",")}
	for i, line := range lines[1:] {
		fields := strings.Split(line, ",")
		if len(fields) != len(ts.Columns) {
			return nil, fmt.Errorf("%s:%d: %d fields, the header has %d", name, i+2, len(fields), len(ts.Columns))
		}
		row := make([]float64, len(fields))
		for j, f := range fields {
			v, err := strconv.ParseFloat(f, 64)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: column %s: %q is not a number", name, i+2, ts.Columns[j], f)
			}
			row[j] = v
		}
		ts.Rows = append(ts.Rows, row)
	}
	return ts, nil
}
