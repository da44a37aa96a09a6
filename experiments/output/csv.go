package output

import (
	"bytes"
	"math"
	"strconv"

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
