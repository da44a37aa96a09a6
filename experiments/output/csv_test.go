package output

import (
	"reflect"
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

func TestReadTimeseriesCSV(t *testing.T) {
	ts := testSeries()
	ts.Rows[1][2] = 0.1 + 0.2 // needs every digit to read back
	back, err := ReadTimeseriesCSV("x.csv", TimeseriesCSV(ts))
	if err != nil || !reflect.DeepEqual(back, ts) {
		t.Fatalf("read back %v, %v; want %v", back, err, ts)
	}
	for _, tc := range []struct{ in, want string }{
		{"", "x.csv: no header row"},
		{"time_ns,a\n0,1\n5\n", "x.csv:3: 1 fields, the header has 2"},
		{"time_ns,a\n0,z\n", `x.csv:2: column a: "z" is not a number`},
	} {
		if _, err := ReadTimeseriesCSV("x.csv", []byte(tc.in)); err == nil || err.Error() != tc.want {
			t.Errorf("%q: error %v, want %s", tc.in, err, tc.want)
		}
	}
}
