package canon

import (
	"math"
	"strconv"
)

// Fixed formats x with prec digits after the point, or "" for NaN (an
// empty cell in a table or CSV).
func Fixed(x float64, prec int) string {
	if math.IsNaN(x) {
		return ""
	}
	return strconv.FormatFloat(x, 'f', prec, 64)
}

// Percent formats a share as a whole percentage: 0.25 is "25 %".
func Percent(x float64) string { return strconv.FormatFloat(100*x, 'f', 0, 64) + " %" }
