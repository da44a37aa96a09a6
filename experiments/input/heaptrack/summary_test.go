package heaptrack

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// printedSummary holds the summary lines of heaptrack_print's output, as
// printed.
type printedSummary struct {
	runtime    string // "0.42" from "total runtime: 0.42s."
	calls      int64
	callsRate  int64
	temporary  int64
	tempRate   int64
	peak       string
	peakRSS    string
	leaked     string
	suppressed string // "" when heaptrack_print printed no such line
}

// parsePrinted extracts the summary from heaptrack_print output.
func parsePrinted(t *testing.T, out []byte) printedSummary {
	t.Helper()
	var p printedSummary
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ": ")
		if !ok {
			continue
		}
		seen[key] = true
		switch key {
		case "total runtime":
			p.runtime = strings.TrimSuffix(value, "s.")
		case "calls to allocation functions":
			p.calls, p.callsRate = parseCountAndRate(t, value)
		case "temporary memory allocations":
			p.temporary, p.tempRate = parseCountAndRate(t, value)
		case "peak heap memory consumption":
			p.peak = value
		case "peak RSS (including heaptrack overhead)":
			p.peakRSS = value
		case "total memory leaked":
			p.leaked = value
		case "suppressed leaks":
			p.suppressed = value
		}
	}
	for _, key := range []string{"total runtime", "calls to allocation functions",
		"temporary memory allocations", "peak heap memory consumption", "total memory leaked"} {
		if !seen[key] {
			t.Fatalf("heaptrack_print output has no %q line", key)
		}
	}
	return p
}

// parseCountAndRate parses "223 (74333/s)".
func parseCountAndRate(t *testing.T, value string) (int64, int64) {
	t.Helper()
	var count, rate int64
	if _, err := fmt.Sscanf(value, "%d (%d/s)", &count, &rate); err != nil {
		t.Fatalf("cannot parse %q: %v", value, err)
	}
	return count, rate
}

// expectedPrint is what heaptrack_print would print for a Summary. The
// runtime uses two decimals because heaptrack_print's earlier formatBytes
// calls leave std::fixed and precision 2 set on cout.
func expectedPrint(s Summary) printedSummary {
	perSecond := 1000.0 / float64(s.DurationMs)
	p := printedSummary{
		runtime:   strconv.FormatFloat(float64(s.DurationMs)/1000, 'f', 2, 64),
		calls:     s.Calls,
		callsRate: int64(float64(s.Calls) * perSecond),
		temporary: s.Temporary,
		tempRate:  int64(float64(s.Temporary) * perSecond),
		peak:      FormatBytes(s.PeakBytes),
		peakRSS:   FormatBytes(s.PeakRSSBytes),
		leaked:    FormatBytes(s.LeakedBytes),
	}
	if s.SuppressedBytes != 0 {
		p.suppressed = FormatBytes(s.SuppressedBytes)
	}
	return p
}

// summaryCase is a committed trace, the committed heaptrack_print output
// for it, and integers derived by hand from the trace (see
// testdata/README.md).
type summaryCase struct {
	file      string
	printFile string
	want      Summary
}

// sortWant was derived from sort.txt by a separate script (see
// testdata/README.md); heaptrack_print shows the same numbers rounded.
var sortWant = Summary{
	Calls: 223, Temporary: 51, PeakBytes: 667788, PeakTimeMs: 0,
	LeakedBytes: 12268, SuppressedBytes: 0, LiveBytes: 12268,
	DurationMs: 3, PeakRSSBytes: 4378624,
}

var summaryCases = []summaryCase{
	{
		file:      "sort.zst",
		printFile: "sort.zst.print.txt",
		want:      sortWant,
	},
	{
		file:      "sort.txt",
		printFile: "sort.zst.print.txt",
		want:      sortWant,
	},
	{
		file:      "python3-json.zst",
		printFile: "python3-json.zst.print.txt",
		want: Summary{
			Calls: 1953, Temporary: 625, PeakBytes: 1229955, PeakTimeMs: 404,
			LeakedBytes: 413044, SuppressedBytes: 3814, LiveBytes: 416858,
			DurationMs: 418, PeakRSSBytes: 12451840,
		},
	},
}

func summarizeFile(t *testing.T, path string) Summary {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s, err := Summarize(r)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSummarizeMatchesCommittedPrint(t *testing.T) {
	for _, tc := range summaryCases {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", tc.file)
			got := summarizeFile(t, path)
			if got != tc.want {
				t.Errorf("Summarize(%s) =\n%+v\nwant\n%+v", tc.file, got, tc.want)
			}
			out, err := os.ReadFile(filepath.Join("testdata", tc.printFile))
			if err != nil {
				t.Fatal(err)
			}
			if want, have := parsePrinted(t, out), expectedPrint(got); want != have {
				t.Errorf("heaptrack_print says\n%+v\nSummarize gives\n%+v", want, have)
			}
		})
	}
}

// runHeaptrackPrint runs the installed heaptrack_print on path with extra
// flags, or skips the test when it is not installed.
func runHeaptrackPrint(t *testing.T, path string, flags ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("heaptrack_print")
	if err != nil {
		t.Skip("heaptrack_print is not installed")
	}
	cmd := exec.Command(bin, append([]string{"-f", path}, flags...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("heaptrack_print -f %s: %v\n%s", path, err, stderr.Bytes())
	}
	return out
}

// comparePrinted checks a Summary against heaptrack_print output. The
// runtime is compared at the precision heaptrack_print happened to use.
func comparePrinted(t *testing.T, out []byte, got Summary) {
	t.Helper()
	want := parsePrinted(t, out)
	have := expectedPrint(got)
	if _, frac, ok := strings.Cut(want.runtime, "."); ok && len(frac) != 2 {
		have.runtime = strconv.FormatFloat(float64(got.DurationMs)/1000, 'f', len(frac), 64)
	}
	if want != have {
		t.Errorf("heaptrack_print says\n%+v\nSummarize gives\n%+v", want, have)
	}
}

func TestSummarizeMatchesLiveHeaptrackPrint(t *testing.T) {
	for _, tc := range summaryCases {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", tc.file)
			got := summarizeFile(t, path)
			comparePrinted(t, runHeaptrackPrint(t, path), got)

			// Without built-in suppressions heaptrack_print reports the
			// whole remaining heap as leaked, which checks the split.
			out := runHeaptrackPrint(t, path, "--disable-builtin-suppressions")
			if want, have := parsePrinted(t, out).leaked, FormatBytes(got.LeakedBytes+got.SuppressedBytes); want != have {
				t.Errorf("leaked without suppressions: heaptrack_print %s, Summarize %s", want, have)
			}
		})
	}
}
