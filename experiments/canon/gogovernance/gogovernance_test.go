package gogovernance

import (
	"math"
	"testing"
)

// TestTrace: gctrace lines parse into start, marked heap and goal; the
// first GC whose goal is below GOGC's (marked·2 of the cycle before, less
// gctrace's rounding) is the first one GOMEMLIMIT paced; intervals count
// only GCs started in the window.
func TestTrace(t *testing.T) {
	trace := []byte(`gc 1 @0.609s 0%: 0.018+1.9+0.031 ms clock, 0.14+0/3.9/0+0.24 ms cpu, 3->3->3 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 8 P
gc 2 @16.313s 0%: 0.018+3.9+0.031 ms clock, 0.14+0/7.8/0+0.24 ms cpu, 109->110->109 MB, 112 MB goal, 0 MB stacks, 0 MB globals, 8 P
gc 3 @20.000s 0%: 0.018+3.9+0.031 ms clock, 0.14+0/7.8/0+0.24 ms cpu, 216->217->110 MB, 217 MB goal, 0 MB stacks, 0 MB globals, 8 P
gc 4 @25.970s 0%: 0.018+7.6+0.031 ms clock, 0.14+0/15/0+0.24 ms cpu, 183->184->148 MB, 184 MB goal, 0 MB stacks, 0 MB globals, 8 P (forced)
`)
	cs, err := parseTrace(trace)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 4 || cs[1].startS != 16.313 || cs[1].markedMB != 109 || cs[3].goalMB != 184 {
		t.Fatalf("parsed %+v", cs)
	}
	if got := firstLimitGC(cs, 100); got != 25.970 {
		t.Fatalf("first limit-paced GC at %v, want 25.970 (217 MiB = 2 x 109 less rounding is GOGC's)", got)
	}
	if got := firstLimitGC(cs[:3], 100); !math.IsNaN(got) {
		t.Fatalf("first limit-paced GC at %v without one, want NaN", got)
	}
	mean, sd := intervals(cs, 16, math.Inf(1))
	if math.Abs(mean-(25.970-16.313)/2) > 1e-9 || math.IsNaN(sd) {
		t.Fatalf("intervals from 16 s: mean %v sd %v", mean, sd)
	}
	if _, err := parseTrace([]byte("not a gctrace line\n")); err == nil {
		t.Fatal("a malformed line parsed")
	}
	if _, err := parseTrace(nil); err == nil {
		t.Fatal("no trace parsed")
	}
}

// TestMeanCI: the t interval of 1, 2, 3 is 2 ± 4.303·1/√3.
func TestMeanCI(t *testing.T) {
	m, sd, lo, hi := meanCI([]float64{1, 2, 3})
	half := 4.302652729911275 / math.Sqrt(3)
	if m != 2 || sd != 1 || math.Abs(lo-(2-half)) > 1e-9 || math.Abs(hi-(2+half)) > 1e-9 {
		t.Fatalf("mean %v sd %v [%v, %v]", m, sd, lo, hi)
	}
	if m, _, lo, hi := meanCI([]float64{5}); m != 5 || lo != 5 || hi != 5 {
		t.Fatalf("one value: %v [%v, %v]", m, lo, hi)
	}
	if m, _, _, _ := meanCI(nil); !math.IsNaN(m) {
		t.Fatalf("no values: %v", m)
	}
}
