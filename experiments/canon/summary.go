package canon

import (
	"fmt"
	"math"

	"github.com/sbmpsim/sbmpsim/experiments/world"
)

// FirstOOMSeconds is the time of a run's first OOM kill in seconds, or
// NaN.
func FirstOOMSeconds(s world.Summary) float64 {
	if len(s.OOMEvents) == 0 {
		return math.NaN()
	}
	t := s.OOMEvents[0].TimeNs
	for _, e := range s.OOMEvents {
		t = min(t, e.TimeNs)
	}
	return float64(t) / 1e9
}

// MeanOf averages get over runs, summing in run order; NaN without runs.
func MeanOf(runs []world.Summary, get func(world.Summary) float64) float64 {
	if len(runs) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, r := range runs {
		s += get(r)
	}
	return s / float64(len(runs))
}

// Column returns the index of a time series column.
func Column(ts *world.Timeseries, name string) (int, error) {
	for i, c := range ts.Columns {
		if c == name {
			return i, nil
		}
	}
	return 0, fmt.Errorf("no time series column %q", name)
}
