package world

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/input/heaptrack"
)

// TestHeaptrackReplayMatchesHeaptrackPrint replays each committed trace
// through SBMP and checks the acceptance: allocs,
// bytes_requested_peak and bytes_requested_live_end equal heaptrack_print's
// "calls to allocation functions", "peak heap memory consumption" and
// "total memory leaked" + "suppressed leaks" for the same file, exactly and
// as heaptrack prints them (1000-based units, two decimals).
func TestHeaptrackReplayMatchesHeaptrackPrint(t *testing.T) {
	for _, name := range []string{"sort.zst", "sort.txt", "python3-json.zst"} {
		t.Run(name, func(t *testing.T) {
			path, err := filepath.Abs(filepath.Join("..", "input", "heaptrack", "testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			res := runSrc(t, `
[run]
duration_ms = 2000
[[workload]]
name = "replay"
kind = "heaptrack"
cpus = "0-3"
file = "`+path+`"
`)
			s := res.Summary
			tr := s.Workloads[0].Trace
			if tr == nil || !tr.Finished {
				t.Fatalf("trace %+v: want it replayed to the end", tr)
			}
			ht := tr.Heaptrack
			if int64(s.Allocs) != ht.Calls || s.BytesRequestedPeak != ht.PeakBytes || s.BytesRequestedLiveEnd != ht.LeakedBytes+ht.SuppressedBytes {
				t.Fatalf("replay allocs %d, peak %d, live at end %d; heaptrack %+v", s.Allocs, s.BytesRequestedPeak, s.BytesRequestedLiveEnd, ht)
			}
			// The printed lines, as heaptrack_print wrote them for the
			// committed file.
			printed, err := os.ReadFile(strings.TrimSuffix(strings.TrimSuffix(path, ".txt"), ".zst") + ".zst.print.txt")
			if err != nil {
				t.Fatal(err)
			}
			wants := []string{
				"calls to allocation functions: " + strconv.FormatUint(s.Allocs, 10) + " ",
				"peak heap memory consumption: " + heaptrack.FormatBytes(s.BytesRequestedPeak) + "\n",
				"total memory leaked: " + heaptrack.FormatBytes(s.BytesRequestedLiveEnd-ht.SuppressedBytes) + "\n",
			}
			if ht.SuppressedBytes != 0 { // heaptrack_print omits the line otherwise
				wants = append(wants, "suppressed leaks: "+heaptrack.FormatBytes(ht.SuppressedBytes)+"\n")
			}
			for _, want := range wants {
				if !strings.Contains(string(printed), want) {
					t.Errorf("heaptrack_print's output has no %q", want)
				}
			}
			t.Logf("allocs %d, peak %s, leaked %s + suppressed %s; tier allocs %+v", s.Allocs,
				heaptrack.FormatBytes(s.BytesRequestedPeak), heaptrack.FormatBytes(s.BytesRequestedLiveEnd-ht.SuppressedBytes), heaptrack.FormatBytes(ht.SuppressedBytes), s.TierAllocs)
		})
	}
}

// TestHeaptrackBadTraceNamesTheLine: a malformed trace fails the run
// before it starts, naming the file and line.
func TestHeaptrackBadTraceNamesTheLine(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.txt")
	src, err := os.ReadFile(filepath.Join("..", "input", "heaptrack", "testdata", "sort.txt"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	lines[20] = "+ zz"
	if err := os.WriteFile(bad, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = runPlain(mustParse(t, `
[[workload]]
kind = "heaptrack"
file = "`+bad+`"
`))
	if err == nil || !strings.Contains(err.Error(), bad+":21:") {
		t.Fatalf("error %v; want one naming %s:21", err, bad)
	}
	t.Log(err)
}
