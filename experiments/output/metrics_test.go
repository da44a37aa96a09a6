package output

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/internal/buildinfo"
)

// testSeries is a small time series with a column of each kind: plain
// gauges and counters, per-node, per-CPU and per-program columns, a
// unit conversion and the latency histogram. Its last two rows fall in
// one millisecond.
func testSeries() *world.Timeseries {
	cols := []string{"time_ns", "objects_live", "allocs", "free_pages", "node0_free_pages", "node1_anon_pages",
		"cpu3_tier0_free", "api.heap_alloc", "alloc_stall_ns", "pgscan_kswapd", "alloc_failures",
		"alloc_latency_count", "alloc_latency_sum_ns", "alloc_latency_le_10ns", "alloc_latency_le_1200000000ns"}
	return &world.Timeseries{Columns: cols, Rows: [][]float64{
		{0, 0, 0, 9, 5, 1, 7, 0, 0, 0, 0, 0, 0, 0, 0},
		{100e6, 3, 10, 8, 4, 2, 6, 4096, 1500, 2, 1, 10, 250, 4, 9},
		{200e6, 2, 12, 8, 4, 2, 5, 8192, 2000, 3, 1, 12, 300, 5, 11},
		{200.5e6, 1, 13, 8, 4, 2, 5, 8192, 2500, 3, 2, 13, 310, 5, 12},
	}}
}

func TestWriteOpenMetrics(t *testing.T) {
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	runs := []MetricsRun{
		{Labels: []Label{{"scenario", "x"}, {"seed", "3"}}, Timeseries: testSeries()},
		{Labels: []Label{{"scenario", `q"u\o`}, {"seed", "4"}}, Timeseries: testSeries()},
	}
	if err := WriteOpenMetrics(&b, runs, epoch); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	for _, want := range []string{
		"# TYPE sbmpsim_allocs counter\n",
		`sbmpsim_allocs_total{scenario="x",seed="3"} 10 1767225600.100` + "\n",
		// The sample at 200 ms gives way to the one at 200.5 ms.
		`sbmpsim_allocs_total{scenario="x",seed="3"} 13 1767225600.200` + "\n",
		"# TYPE sbmp_alloc_stall_seconds counter\n# UNIT sbmp_alloc_stall_seconds seconds\n",
		`sbmp_alloc_stall_seconds_total{scenario="x",seed="3"} 1.5e-06 1767225600.100` + "\n",
		`sbmpsim_node_memory_bytes{scenario="x",seed="3",node="0",kind="free"} 16384 1767225600.100` + "\n",
		`sbmpsim_node_memory_bytes{scenario="x",seed="3",node="1",kind="anon"} 8192 1767225600.100` + "\n",
		`sbmp_tier0_free_slots{scenario="x",seed="3",cpu="3"} 6 1767225600.100` + "\n",
		`sbmpsim_go_heap_alloc_bytes{scenario="x",seed="3",workload="api"} 4096 1767225600.100` + "\n",
		`sbmpsim_vmstat_pgscan_kswapd_total{scenario="x",seed="3"} 2 1767225600.100` + "\n",
		"# TYPE sbmpsim_alloc_latency_seconds histogram\n# UNIT sbmpsim_alloc_latency_seconds seconds\n",
		`sbmpsim_alloc_latency_seconds_bucket{scenario="x",seed="3",le="1e-08"} 4 1767225600.100` + "\n" +
			`sbmpsim_alloc_latency_seconds_bucket{scenario="x",seed="3",le="1.2"} 9 1767225600.100` + "\n" +
			`sbmpsim_alloc_latency_seconds_bucket{scenario="x",seed="3",le="+Inf"} 10 1767225600.100` + "\n" +
			`sbmpsim_alloc_latency_seconds_count{scenario="x",seed="3"} 10 1767225600.100` + "\n" +
			`sbmpsim_alloc_latency_seconds_sum{scenario="x",seed="3"} 2.5e-07 1767225600.100` + "\n",
		`sbmpsim_allocs_total{scenario="q\"u\\o",seed="4"} 10 1767225600.100` + "\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics.om lacks %q", want)
		}
	}
	if strings.Contains(text, `,seed="3"} 12 `) || strings.Contains(text, "sbmpsim_free_pages") {
		t.Error("metrics.om holds the sample that shares its millisecond with the next, or the machine-wide free_pages")
	}
	if !strings.HasSuffix(text, "\n# EOF\n") || strings.Count(text, "# EOF") != 1 {
		t.Error("metrics.om does not end with one # EOF")
	}
	checkOpenMetricsOrder(t, text)
	var again bytes.Buffer
	if err := WriteOpenMetrics(&again, runs, epoch); err != nil || again.String() != text {
		t.Error("two renderings differ")
	}
}

var sampleLine = regexp.MustCompile(`^([a-z0-9_]+)(\{.*\})? (\S+) (\d+\.\d{3})$`)

// checkOpenMetricsOrder checks what OpenMetrics asks of the order: each
// family described once (HELP, TYPE, and UNIT when it has one, whose
// name ends the family's), its samples right after it, named by the
// family (counters' with _total), and each series' timestamps
// increasing.
func checkOpenMetricsOrder(t *testing.T, text string) {
	t.Helper()
	seen := map[string]bool{}
	lastStamp := map[string]float64{}
	var fam, typ string
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "#" {
			switch f[1] {
			case "HELP":
				if seen[f[2]] {
					t.Fatalf("line %d: family %s described twice", i+1, f[2])
				}
				seen[f[2]], fam = true, f[2]
			case "TYPE":
				typ = f[3]
			case "UNIT":
				if !strings.HasSuffix(fam, "_"+f[3]) {
					t.Errorf("line %d: unit %s is not the suffix of %s", i+1, f[3], fam)
				}
			}
			continue
		}
		if line == "# EOF" {
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("line %d: not a sample: %q", i+1, line)
		}
		suffix, ok := strings.CutPrefix(m[1], fam)
		want := map[string][]string{"counter": {"_total"}, "gauge": {""}, "histogram": {"_bucket", "_count", "_sum"}}[typ]
		found := false
		for _, w := range want {
			found = found || suffix == w
		}
		if !ok || !found {
			t.Fatalf("line %d: sample %s in family %s of type %s", i+1, m[1], fam, typ)
		}
		stamp, _ := strconv.ParseFloat(m[4], 64)
		key := m[1] + m[2]
		if prev, ok := lastStamp[key]; ok && stamp <= prev {
			t.Fatalf("line %d: timestamp %v after %v in series %s", i+1, stamp, prev, key)
		}
		lastStamp[key] = stamp
	}
}

func TestWriteOpenMetricsRefusesUnknownColumns(t *testing.T) {
	ts := &world.Timeseries{Columns: []string{"time_ns", "mystery"}, Rows: [][]float64{{0, 1}}}
	err := WriteOpenMetrics(&bytes.Buffer{}, []MetricsRun{{Timeseries: ts}}, time.Unix(0, 0))
	if err == nil || !strings.Contains(err.Error(), `"mystery"`) {
		t.Fatalf("got %v, want an error naming the column", err)
	}
}

func TestMetricsText(t *testing.T) {
	s := &world.Summary{Scenario: "x", Seed: 3, Events: 99, SimTimeNs: 2e9}
	b, err := MetricsText(s, testSeries())
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{
		"# TYPE sbmpsim_allocs_total counter\n",
		`sbmpsim_allocs_total{scenario="x",seed="3"} 13` + "\n",
		`sbmp_alloc_stall_seconds_total{scenario="x",seed="3"} 2.5e-06` + "\n",
		`sbmpsim_alloc_latency_seconds_bucket{scenario="x",seed="3",le="+Inf"} 13` + "\n",
		`sbmpsim_alloc_latency_seconds_sum{scenario="x",seed="3"} 3.1e-07` + "\n",
		`sbmpsim_simulated_events_total{scenario="x",seed="3"} 99` + "\n",
		`sbmpsim_simulated_time_seconds{scenario="x",seed="3"} 2` + "\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics.prom lacks %q", want)
		}
	}
	if strings.Contains(text, "# EOF") || regexp.MustCompile(`\} \S+ \d+\n`).MatchString(text) {
		t.Error("metrics.prom has an # EOF or timestamps")
	}
}

func TestParseMetricsEpoch(t *testing.T) {
	now := func() time.Time { return time.Date(2030, 5, 6, 7, 8, 9, 123456789, time.UTC) }
	for _, tc := range []struct {
		in, want, err string
	}{
		{DefaultMetricsEpoch, "2026-01-01T00:00:00Z", ""},
		{"2024-02-29T12:00:00.5+02:00", "2024-02-29T10:00:00.5Z", ""},
		{"now", "2030-05-06T07:08:09.123Z", ""},
		{"1969-12-31T23:59:59Z", "", "before 1970"},
		{"yesterday", "", "want an RFC 3339 time"},
		{"", "", "want an RFC 3339 time"},
	} {
		got, err := ParseMetricsEpoch(tc.in, now)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want one saying %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || got.Format(time.RFC3339Nano) != tc.want):
			t.Errorf("%q: %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

// TestMetricsNameTheBuild: both metrics files carry sbmpsim_build_info
// with the running build's version and Go version in its labels.
func TestMetricsNameTheBuild(t *testing.T) {
	s := &world.Summary{Scenario: "x", Seed: 3}
	ts := testSeries()
	prom, err := MetricsText(s, ts)
	if err != nil {
		t.Fatal(err)
	}
	var om strings.Builder
	if err := WriteOpenMetrics(&om, []MetricsRun{{RunLabels(s), ts}}, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	v := buildinfo.Current()
	for name, text := range map[string]string{"metrics.prom": string(prom), "metrics.om": om.String()} {
		want := `goversion="` + v.Go + `"`
		if !strings.Contains(text, "# TYPE sbmpsim_build_info gauge") || !strings.Contains(text, want) || !strings.Contains(text, `version="`+v.Version+`"`) {
			t.Errorf("%s lacks sbmpsim_build_info with %s:\n%s", name, want, text)
		}
	}
}
