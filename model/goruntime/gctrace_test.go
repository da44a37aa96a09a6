package goruntime

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// TestTraceLine formats a record by hand into the line of the runtime's
// documentation example.
func TestTraceLine(t *testing.T) {
	start := int64(1_234_000_000)
	r := GCRecord{
		Num: 7, StartNs: start, MarkStartNs: start + 11_400,
		MarkEndNs: start + 11_400 + 1_200_000, EndNs: start + 11_400 + 1_200_000 + 15_000,
		MarkCPUNs: 1_400_000, AssistNs: 300_000,
		HeapBefore: 4 * mib, HeapAtMarkEnd: 4*mib + mib/2, HeapMarked: 2 * mib, HeapGoal: 5 * mib,
	}
	c := traceContext{sinceNs: start, utilPct: 2, procs: 4}
	want := "gc 7 @1.234s 2%: 0.011+1.2+0.015 ms clock, 0.045+0.30/1.1/0+0.060 ms cpu, 4->4->2 MB, 5 MB goal, 0 MB stacks, 0 MB globals, 4 P\n"
	if got := string(appendTrace(nil, r, c)); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	r.Forced = true
	c.stacksBytes, c.globalsBytes = 3*mib, mib
	want = "gc 7 @1.234s 2%: 0.011+1.2+0.015 ms clock, 0.045+0.30/1.1/0+0.060 ms cpu, 4->4->2 MB, 5 MB goal, 3 MB stacks, 1 MB globals, 4 P (forced)\n"
	if got := string(appendTrace(nil, r, c)); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestAppendMS pins the runtime's millisecond format at its edges.
func TestAppendMS(t *testing.T) {
	for _, tc := range []struct {
		ns   int64
		want string
	}{
		{0, "0"}, {999, "0"}, {1_000, "0.001"}, {11_999, "0.011"}, {99_000, "0.099"},
		{100_000, "0.10"}, {999_999, "0.99"}, {1_000_000, "1.0"}, {9_999_999, "9.9"},
		{10_000_000, "10"}, {1_234_567_890, "1234"}, {-5, "0"},
	} {
		if got := string(appendMS(nil, tc.ns)); got != tc.want {
			t.Errorf("appendMS(%d) = %q, want %q", tc.ns, got, tc.want)
		}
	}
	if got := string(appendDecimal(nil, 5, 3)); got != "0.005" {
		t.Errorf("appendDecimal(5, 3) = %q", got)
	}
}

// TestTraceGolden: the gctrace of a short run with a memory limit and a
// forced GC. Regenerate with go test -run TraceGolden -update.
func TestTraceGolden(t *testing.T) {
	cfg := steadyConfig()
	cfg.GOMAXPROCS = 4
	cfg.MemoryLimitBytes = 100 * mib
	cfg.StacksBytes = 2 * mib
	var buf traceBuffer
	cfg.GCTrace = &buf
	r := newRun(t, cfg, 42, nil)
	r.until(t, 3*sec)
	r.prog.GC()
	r.until(t, 4*sec)
	path := filepath.Join("testdata", "gctrace.golden")
	if *update {
		if err := os.WriteFile(path, []byte(buf.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if buf.String() != string(want) {
		t.Errorf("gctrace differs from %s:\n%s", path, buf.String())
	}
}
