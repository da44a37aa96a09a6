package heaptrack

import (
	"math"
	"strconv"
)

// FormatBytes formats a byte count exactly as heaptrack_print 1.4 does in
// its summary (formatBytes in src/analyze/print/heaptrack_print.cpp):
// divide by 1000 while the magnitude exceeds 1000, up to terabytes; whole
// bytes print as an integer with "B", larger values with two decimals and
// only the first letter of the unit ("667.79K", "12.45M"), because
// heaptrack prints *unit, a char, when no width is given.
func FormatBytes(bytes int64) string {
	const units = "BKMGT"
	v := float64(bytes)
	i := 0
	for i < len(units)-1 && math.Abs(v) > 1000 {
		v /= 1000
		i++
	}
	if i == 0 {
		return strconv.FormatInt(bytes, 10) + "B"
	}
	return strconv.FormatFloat(v, 'f', 2, 64) + units[i:i+1]
}
