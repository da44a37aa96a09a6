package output

import (
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/world"
)

func TestTimeseriesCSV(t *testing.T) {
	ts := world.Timeseries{Columns: []string{"time_ns", "x"}, Rows: [][]float64{{0, 0.5}, {1e8, 3}}}
	want := "time_ns,x\n0,0.5\n100000000,3\n"
	if got := string(TimeseriesCSV(&ts)); got != want {
		t.Fatalf("CSV = %q, want %q", got, want)
	}
}
