package world

import (
	"strconv"
	"strings"
	"testing"
)

// TestGoRuntimePacer: at GOGC=100 with a steady live heap, the heap peaks
// near twice the live heap, and in steady state a GC runs every
// live·GOGC/100 bytes allocated (the 5 %).
func TestGoRuntimePacer(t *testing.T) {
	long(t)
	for _, gogc := range []int{100, 50} {
		t.Run("gogc="+itoa(gogc), func(t *testing.T) {
			res := runSrc(t, `
[run]
duration_ms = 100000
[output]
sample_interval_ms = 1000
[[workload]]
name = "api"
kind = "go-runtime"
cpus = "0-7"
alloc_mb_per_s = 64
live_mb = 64
size_bytes = 1024
gogc = `+itoa(gogc)+`
`)
			g := res.Summary.Workloads[0].GoRuntime
			live := 64.0 * (1 << 20)
			within(t, "heap peak / ((1+GOGC/100) live)", float64(g.HeapAllocPeak)/((1+float64(gogc)/100)*live), 1, 0.05)
			// NumGC over the steady window 20 s .. 100 s.
			col := columnIndex(t, &res.Timeseries, "api.num_gc")
			gcs := res.Timeseries.Rows[100][col] - res.Timeseries.Rows[20][col]
			want := 64.0 * 80 / (64 * float64(gogc) / 100)
			within(t, "GCs in 80 s of steady state", gcs, want, 0.05*want)
			if g.Died != "alive" || res.Summary.OOMKills != 0 {
				t.Fatalf("program %+v", g)
			}
		})
	}
}

func columnIndex(t *testing.T, ts *Timeseries, name string) int {
	t.Helper()
	for i, c := range ts.Columns {
		if c == name {
			return i
		}
	}
	t.Fatalf("no column %q in %v", name, ts.Columns)
	return -1
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestLeakChaos is SPEC 5.3 at an eighth of the size: a Go program in a
// container (memory.max) leaks; without GOMEMLIMIT its heap goal stays at
// twice the live heap and the container is OOM-killed when twice the live
// heap reaches the limit; with a memory target the GC holds the heap at
// the target (collecting ever more often) until the live heap itself
// approaches the container's limit, so the kill comes much later.
func TestLeakChaos(t *testing.T) {
	long(t)
	const src = `
[run]
duration_ms = 400000
[[kernel.cgroup]]
path = "/container"
max_mb = 512
[[process]]
name = "api"
cgroup = "/container"
[[workload]]
name = "api"
kind = "go-runtime"
process = "api"
cpus = "0-7"
alloc_mb_per_s = 6.25
live_mb = 128
size_bytes = 1024
[[fault]]
kind = "leak"
workload = "api"
at_ms = 10000
rate_mb_per_s = 1.25
`
	without := runSrc(t, src).Summary
	with := runSrc(t, strings.Replace(src, "size_bytes = 1024", "size_bytes = 1024\ngomemlimit_mb = 192", 1)).Summary
	for _, s := range []Summary{without, with} {
		if s.OOMKills != 1 || s.OOMEvents[0].Scope != "memcg:/container" || s.OOMEvents[0].VictimComm != "api" {
			t.Fatalf("oom events %+v: want the container's OOM kill of api", s.OOMEvents)
		}
	}
	tw, tl := float64(without.OOMEvents[0].TimeNs)/1e9, float64(with.OOMEvents[0].TimeNs)/1e9
	gw, gl := without.Workloads[0].GoRuntime, with.Workloads[0].GoRuntime
	t.Logf("OOM kill at %.1f s without GOMEMLIMIT (%d GCs), %.1f s with (%d GCs, %d limited, GC CPU %.2f)", tw, gw.NumGC, tl, gl.NumGC, gl.LimitedGCs, gl.GCCPUFraction)
	// Without a limit the heap goal is 2 x live: the container can be
	// killed once 2 (128 + 1.25 (t - 10)) MiB nears 512 MiB, t = 112 s,
	// sooner with SBMP's overhead; it is killed at the first heap peak
	// past that, and a GC cycle then takes live/alloc rate, about 40 s,
	// so the peak comes up to two cycles later.
	if tw < 70 || tw > 200 {
		t.Errorf("OOM at %.1f s without GOMEMLIMIT; want it between 70 s and 200 s", tw)
	}
	// With it the live heap must itself near 512 MiB: t = 10 + 307 s
	// at most.
	if tl < 1.5*tw || tl > 320 {
		t.Errorf("OOM at %.1f s with GOMEMLIMIT; want much later than %.1f s, and before live reaches the limit (317 s)", tl, tw)
	}
	if gl.NumGC < 3*gw.NumGC || gl.LimitedGCs == 0 {
		t.Errorf("GCs %d with the limit (limited %d), %d without: want many more, some CPU-limited", gl.NumGC, gl.LimitedGCs, gw.NumGC)
	}
}
