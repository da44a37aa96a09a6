package real

import (
	"context"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// parseCase is a parser's input with the value it must give, or the
// text its error must hold.
type parseCase struct {
	name, text string
	want       int64
	err        string
}

// checkParse runs parse over the cases, and over the testdata file,
// which must parse.
func checkParse(t *testing.T, parse func(string) (int64, error), cases []parseCase, testdata string) {
	t.Helper()
	for _, tc := range cases {
		got, err := parse(tc.text)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("%s: %d, %v; want %d", tc.name, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want one with %q", tc.name, err, tc.err)
		}
	}
	b, err := os.ReadFile("testdata/" + testdata)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parse(string(b)); err != nil {
		t.Errorf("testdata/%s: %v", testdata, err)
	}
}

func TestParseStatIdleTicks(t *testing.T) {
	// The ticks and the CPUs in one value: ticks*10 + cpus.
	parse := func(text string) (int64, error) {
		idle, cpus, err := parseStatIdleTicks(text)
		return idle*10 + int64(cpus), err
	}
	cpu0 := "cpu0 1 2 3 4 5 6 7 8 9 10\n"
	checkParse(t, parse, []parseCase{
		{"idle plus iowait, one CPU", "cpu  39 0 327 1215 266 0 7 1 0 0\n" + cpu0, (1215+266)*10 + 1, ""},
		{"the cpuN lines are the CPUs", "cpu 1 2 3 4 5\n" + cpu0 + "cpu1 1 2 3 4 5\ncpu12 1 2 3 4 5\ncpufreq 1\nintr 5\n", 9*10 + 3, ""},
		{"no cpuN line", "cpu 1 2 3 4 5\nintr 5\n", 0, "no \"cpuN\" line"},
		{"an old kernel's five fields", "cpu 1 2 3 4\n" + cpu0, 0, "want \"cpu user nice system idle iowait"},
		{"not the cpu line", cpu0, 0, "want \"cpu user"},
		{"negative", "cpu 1 2 3 -4 5\n" + cpu0, 0, "idle \"-4\""},
		{"not a number", "cpu 1 2 3 4 x\n" + cpu0, 0, "iowait \"x\""},
		{"overflow", "cpu 1 2 3 9223372036854775807 9223372036854775807\n" + cpu0, 0, "overflow"},
		{"empty", "", 0, "line 1"},
	}, "stat")
	b, _ := os.ReadFile("testdata/stat")
	if _, cpus, _ := parseStatIdleTicks(string(b)); cpus != 2 {
		t.Errorf("testdata/stat (a 2-CPU host's): %d CPUs, want 2", cpus)
	}
}

func TestParsePidStatTicks(t *testing.T) {
	rest := " S 1 2 3 4 5 6 7 8 9 10 70 30 0 0 20 0 1 0 100 200 300"
	checkParse(t, parsePidStatTicks, []parseCase{
		{"utime plus stime", "42 (worker)" + rest, 100, ""},
		{"comm with spaces and parentheses", "42 (a) b (c))" + rest, 100, ""},
		{"no comm", "42 worker S 1 2", 0, "no \"(comm)\""},
		{"too short", "42 (w) S 1 2 3", 0, "4 fields after comm"},
		{"negative", "42 (w) S 1 2 3 4 5 6 7 8 9 10 -70 30", 0, "field 14 \"-70\""},
		{"not a number", "42 (w) S 1 2 3 4 5 6 7 8 9 10 70 x", 0, "field 15 \"x\""},
	}, "pid-stat")
}

func FuzzParseStatIdleTicks(f *testing.F) {
	f.Add(readTestdataF(f, "stat"))
	f.Add("cpu 1 2 3 4 5\ncpu0 1\n")
	f.Fuzz(func(t *testing.T, text string) {
		v, cpus, err := parseStatIdleTicks(text)
		if err != nil {
			return
		}
		if v < 0 || cpus < 1 {
			t.Fatalf("%d ticks, %d CPUs from %q", v, cpus, text)
		}
		// The same idle and iowait in a canonical text, with as many
		// CPUs, parse the same.
		f := strings.Fields(strings.SplitN(text, "\n", 2)[0])
		canon := "cpu 0 0 0 " + f[4] + " " + f[5] + "\n" + strings.Repeat("cpu0 0\n", cpus)
		again, againCPUs, err := parseStatIdleTicks(canon)
		if err != nil || again != v || againCPUs != cpus {
			t.Fatalf("round trip: %d, %d, %v != %d, %d", again, againCPUs, err, v, cpus)
		}
	})
}

func FuzzParsePidStatTicks(f *testing.F) {
	f.Add(readTestdataF(f, "pid-stat"))
	f.Add("1 ((x)) S 1 2 3 4 5 6 7 8 9 10 70 30")
	f.Fuzz(func(t *testing.T, text string) {
		v, err := parsePidStatTicks(text)
		if err != nil {
			return
		}
		if v < 0 {
			t.Fatalf("%d ticks from %q", v, text)
		}
		again, err := parsePidStatTicks("1 (c) S 1 2 3 4 5 6 7 8 9 10 " + strconv.FormatInt(v, 10) + " 0")
		if err != nil || again != v {
			t.Fatalf("round trip: %d, %v != %d", again, err, v)
		}
	})
}

// TestCPUMeterCountsOurs: a goroutine of this process spinning is ours:
// the meter counts it in Ours, and the host's busy time (from /proc/stat's
// idle) holds it; OthersBusy ends with its context.
func TestCPUMeterCountsOurs(t *testing.T) {
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc/stat here")
	}
	m := newCPUMeter()
	deadline := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(deadline) {
	}
	m.sample(nil)
	r := m.result()
	if r == nil {
		t.Fatal("no result")
	}
	// The spin had a CPU for most of the window unless the host is
	// crowded; /proc/stat counts in 10 ms ticks (0.02 CPUs here).
	if r.Ours < 0.2 || r.Ours > 1.1 {
		t.Errorf("ours %.2f CPUs for a 500 ms spin, want about 1", r.Ours)
	}
	if r.Busy < r.Ours-0.1 || r.Busy > float64(r.CPUs)+0.1 {
		t.Errorf("busy %.2f CPUs with ours %.2f on %d CPUs: the host's busy time must hold ours", r.Busy, r.Ours, r.CPUs)
	}
	if want := max(0, r.Busy-r.Ours); math.Abs(r.Others-want) > 1e-9 {
		t.Errorf("others %.3f, want busy less ours, %.3f", r.Others, want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := OthersBusy(ctx, time.Minute); err == nil {
		t.Error("OthersBusy with an ended context: no error")
	}
}
