package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The lines of Go's benchmark format (golang.org/design/14313-benchmark-
// format) as benchstat reads them: a configuration line is a key that
// starts in lower case, a colon and the value; a unit line names a unit
// and key=value pairs; a result line is "Benchmark", a name not starting
// in lower case, "-" GOMAXPROCS, the iterations, then value-unit pairs.
var (
	benchConfigLine = regexp.MustCompile(`^([a-z][^\s:]*): (.*)$`)
	benchUnitLine   = regexp.MustCompile(`^Unit (\S+)( [a-z]+=\S+)+$`)
	benchResultLine = regexp.MustCompile(`^Benchmark([^\sa-z]\S*)-([1-9][0-9]*)\t([1-9][0-9]*)((\t\S+ \S+)+)$`)
)

// parseBenchText reads text back strictly: every line is a comment, a
// configuration line, a unit line or a result line, and every value
// parses as a float.
func parseBenchText(text string) (*benchText, error) {
	t := &benchText{}
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if m := benchResultLine.FindStringSubmatch(line); m != nil {
			procs, _ := strconv.Atoi(m[2])
			iters, _ := strconv.ParseInt(m[3], 10, 64)
			l := benchLine{Name: m[1], Procs: procs, Iters: iters}
			for _, pair := range strings.Split(m[4][1:], "\t") {
				v, unit, _ := strings.Cut(pair, " ")
				x, err := strconv.ParseFloat(v, 64)
				if err != nil {
					return nil, fmt.Errorf("line %d: %q: %v", i+1, line, err)
				}
				l.Metrics = append(l.Metrics, benchMetric{x, unit})
			}
			t.Lines = append(t.Lines, l)
			continue
		}
		if m := benchUnitLine.FindStringSubmatch(line); m != nil {
			_, better, _ := strings.Cut(line, " better=")
			t.Units = append(t.Units, benchUnit{m[1], better})
			continue
		}
		if m := benchConfigLine.FindStringSubmatch(line); m != nil {
			t.Config = append(t.Config, benchConfig{m[1], m[2]})
			continue
		}
		if !strings.HasPrefix(line, "# ") {
			return nil, fmt.Errorf("line %d: %q is none of the format's lines", i+1, line)
		}
	}
	return t, nil
}

// metricsClose: the written values round to four significant digits.
func metricsClose(a, b []benchMetric) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Unit != b[i].Unit || math.Abs(a[i].Value-b[i].Value) > 5e-4*math.Abs(b[i].Value) {
			return false
		}
	}
	return true
}

func TestBenchTextRoundTrip(t *testing.T) {
	e2e := benchLine{"E2E/oom-crisis", 1, 8168223, []benchMetric{{917.4, "ns/op"}, {1090000.4, "ops/s"}, {11214848, "heap-B/sim-GiB"}}}
	tests := []struct {
		name  string
		in    benchText
		lines int // of the text written
	}{
		{"header only", benchText{Config: []benchConfig{{"goos", "linux"}, {"cpu", "AMD EPYC 7B13 64-Core Processor"}}}, 3},
		{"one line", benchText{Lines: []benchLine{{"Hold/pending=1000", 1, 3000000, []benchMetric{{79.51, "ns/op"}}}}}, 2},
		{"units and repeats", benchText{
			Config: []benchConfig{{"pkg", "github.com/sbmpsim/sbmpsim/cmd/sbmpsim"}},
			Units:  []benchUnit{{"ops/s", "higher"}, {"heap-B/sim-GiB", "lower"}},
			Lines:  []benchLine{e2e, e2e, {"MM1/tight", 2, 1, []benchMetric{{0.0001234, "ns/op"}, {-3, "x/s"}}}},
		}, 7},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		n, err := tt.in.WriteTo(&b)
		if err != nil || n != int64(b.Len()) {
			t.Errorf("%s: wrote %d bytes of %d: %v", tt.name, n, b.Len(), err)
			continue
		}
		if got := strings.Count(b.String(), "\n"); got != tt.lines {
			t.Errorf("%s: %d lines, want %d:\n%s", tt.name, got, tt.lines, b.String())
		}
		back, err := parseBenchText(b.String())
		if err != nil {
			t.Errorf("%s: %v\n%s", tt.name, err, b.String())
			continue
		}
		if !reflect.DeepEqual(back.Config, tt.in.Config) || !reflect.DeepEqual(back.Units, tt.in.Units) || len(back.Lines) != len(tt.in.Lines) {
			t.Errorf("%s: read back %+v\nwant %+v", tt.name, back, tt.in)
			continue
		}
		for i, l := range back.Lines {
			w := tt.in.Lines[i]
			if l.Name != w.Name || l.Procs != w.Procs || l.Iters != w.Iters || !metricsClose(l.Metrics, w.Metrics) {
				t.Errorf("%s: line %d read back %+v, want %+v", tt.name, i, l, w)
			}
		}
	}
}

func TestBenchTextRefusesBadLines(t *testing.T) {
	ok := []benchMetric{{1, "ns/op"}}
	tests := []struct {
		name string
		in   benchText
		want string
	}{
		{"lower-case name", benchText{Lines: []benchLine{{"e2E", 1, 1, ok}}}, "bad name"},
		{"space in name", benchText{Lines: []benchLine{{"E2E/my run", 1, 1, ok}}}, "bad name"},
		{"no iterations", benchText{Lines: []benchLine{{"E2E", 1, 0, ok}}}, "at least 1"},
		{"no procs", benchText{Lines: []benchLine{{"E2E", 0, 1, ok}}}, "at least 1"},
		{"no metrics", benchText{Lines: []benchLine{{"E2E", 1, 1, nil}}}, "no metrics"},
		{"NaN", benchText{Lines: []benchLine{{"E2E", 1, 1, []benchMetric{{math.NaN(), "ns/op"}}}}}, "bad metric"},
		{"infinite", benchText{Lines: []benchLine{{"E2E", 1, 1, []benchMetric{{math.Inf(1), "ns/op"}}}}}, "bad metric"},
		{"space in unit", benchText{Lines: []benchLine{{"E2E", 1, 1, []benchMetric{{1, "ns op"}}}}}, "bad metric"},
		{"upper-case key", benchText{Config: []benchConfig{{"Goos", "linux"}}}, "bad configuration"},
		{"key with colon", benchText{Config: []benchConfig{{"a:b", "c"}}}, "bad configuration"},
		{"value with newline", benchText{Config: []benchConfig{{"cpu", "a\nBenchmarkX 1 1 ns/op"}}}, "bad configuration"},
		{"better sideways", benchText{Units: []benchUnit{{"ops/s", "more"}}}, "bad unit"},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		_, err := tt.in.WriteTo(&b)
		if err == nil || !strings.Contains(err.Error(), tt.want) || b.Len() != 0 {
			t.Errorf("%s: err %v, wrote %q; want an error with %q and nothing written", tt.name, err, b.String(), tt.want)
		}
	}
}

func TestBenchName(t *testing.T) {
	for in, want := range map[string]string{"steady": "steady", "my run\t2": "my_run_2", "": ""} {
		if got := benchName(in); got != want {
			t.Errorf("benchName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSpreadOf(t *testing.T) {
	tests := []struct {
		in   []float64
		want Spread
	}{
		{nil, Spread{}},
		{[]float64{3}, Spread{3, 3, 3}},
		{[]float64{4, 1, 3, 2}, Spread{2.5, 1, 4}},
		{[]float64{5, 1, 9}, Spread{5, 1, 9}},
	}
	for _, tt := range tests {
		if got := spreadOf(tt.in); got != tt.want {
			t.Errorf("spreadOf(%v) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

// TestBenchE2EOps: a sample stops at exactly --ops allocations+frees, every
// sample of a scenario runs the same events, and a scenario whose run
// ends first is timed over its whole run.
func TestBenchE2EOps(t *testing.T) {
	tests := []struct {
		args   []string
		window string
		ops    uint64 // 0: less than --ops
	}{
		{[]string{"steady", "--ops", "1234"}, "the first 1234 allocations+frees", 1234},
		{[]string{"steady", "--ops", "1"}, "the first 1 allocations+frees", 1},
		{[]string{"oom-crisis", "--ops", "5000"}, "the first 5000 allocations+frees", 5000},
		{[]string{"oom-crisis", "--set", "run.duration_ms=30"}, "the whole run", 0},
		{[]string{"steady", "--ops", "1000000", "--set", "run.duration_ms=20"}, "the whole run, which ends before 1000000 allocations+frees", 0},
	}
	for _, tt := range tests {
		code, stdout, stderr := sbmpsim(t, append([]string{"bench", "e2e", "--count", "2", "--live-objects", "0"}, tt.args...)...)
		if code != 0 {
			t.Errorf("%q: exit %d: %s", tt.args, code, stderr)
			continue
		}
		var b E2EBench
		if err := json.Unmarshal([]byte(stdout), &b); err != nil {
			t.Fatalf("%q: %v\n%s", tt.args, err, stdout)
		}
		if len(b.Scenarios) != 1 || b.Count != 2 || b.Schema != "sbmpsim.bench-e2e/v2" || b.Version.Go == "" || b.LiveObjects != 0 {
			t.Fatalf("%q: %+v", tt.args, b)
		}
		s := b.Scenarios[0]
		ops := s.AllocsPlusFrees
		if s.Window != tt.window || len(s.Samples) != 2 || s.TraceHash == "" || (tt.ops != 0 && ops != tt.ops) || (tt.ops == 0 && (ops == 0 || ops >= 1000000)) {
			t.Errorf("%q: window %q, %d samples, %d allocations+frees (trace %q); want %q and %d", tt.args, s.Window, len(s.Samples), ops, s.TraceHash, tt.window, tt.ops)
		}
		if s.MachineGiB <= 0 || s.HeapBytesPerSimGiB.Median <= 0 || s.Counters == nil {
			t.Errorf("%q: machine %v GiB, heap per GiB %+v, counters %v", tt.args, s.MachineGiB, s.HeapBytesPerSimGiB, s.Counters)
		}
	}
}

// TestBenchAllWritesBenchstatInput: bench all writes one line per sample
// of every measurement, in the format benchstat reads, and the ratio of
// the default scenario to steady when both ran.
func TestBenchAllWritesBenchstatInput(t *testing.T) {
	out := filepath.Join(t.TempDir(), "new.txt")
	code, stdout, stderr := sbmpsim(t, "bench", "all", "steady", "oom-crisis", "--ops", "2000", "--count", "3",
		"--hold-sizes", "100,0", "--holds", "1000", "--mm1-customers", "1000", "--live-objects", "2000", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var all BenchAll
	if err := json.Unmarshal([]byte(stdout), &all); err != nil {
		t.Fatal(err)
	}
	if all.E2E == nil || all.Engine == nil || len(all.Engine.Samples) != 3 || all.E2E.DefaultVsSteady <= 0 {
		t.Fatalf("JSON %.500s", stdout)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	text, err := parseBenchText(string(b))
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	count := map[string]int{}
	for _, l := range text.Lines {
		count[l.Name]++
		if l.Procs != 1 {
			t.Errorf("%s: GOMAXPROCS %d, want 1", l.Name, l.Procs)
		}
		if strings.HasPrefix(l.Name, "E2E/") && (l.Iters != 2000 || l.Metrics[1].Unit != "ops/s") {
			t.Errorf("%s: %d iterations, metrics %v", l.Name, l.Iters, l.Metrics)
		}
	}
	want := map[string]int{"Hold/pending=100": 3, "MM1/engine": 3, "MM1/tight": 3, "E2E/steady": 3, "E2E/oom-crisis": 3, "LiveObject/steady": 1}
	if !reflect.DeepEqual(count, want) {
		t.Errorf("lines per benchmark %v, want %v", count, want)
	}
	keys := map[string]bool{}
	for _, c := range text.Config {
		keys[c.Key] = true
	}
	if !keys["goos"] || !keys["goarch"] || !keys["pkg"] {
		t.Errorf("configuration %v lacks goos, goarch or pkg", text.Config)
	}
}
