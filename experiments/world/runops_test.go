package world

import (
	"context"
	"reflect"
	"testing"
)

// TestStopAfterOps: a run stopped at a count of allocations plus frees
// does exactly that many (the synthetic workloads do one per event), at
// a simulated time before the end, and one whose count is never reached
// is the whole run. AtStart runs once, before AtEnd.
func TestStopAfterOps(t *testing.T) {
	sc := loadShort(t, "steady", "run.duration_ms=300")
	whole, err := Run(context.Background(), sc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	total := int64(whole.Summary.Allocs + whole.Summary.Frees)
	if total < 10_000 {
		t.Fatalf("the whole run does only %d operations", total)
	}
	for _, ops := range []int64{1, 2, 1000, 9999, total - 1} {
		var calls []string
		res, err := Run(context.Background(), sc, Options{
			StopAfterOps: ops,
			AtStart:      func() { calls = append(calls, "start") },
			AtEnd:        func() { calls = append(calls, "end") },
		})
		if err != nil {
			t.Fatal(err)
		}
		s := res.Summary
		if got := int64(s.Allocs + s.Frees); got != ops {
			t.Errorf("StopAfterOps %d: %d allocations + frees", ops, got)
		}
		if s.SimTimeNs >= whole.Summary.SimTimeNs || s.Events >= whole.Summary.Events || s.Incomplete {
			t.Errorf("StopAfterOps %d: sim_time_ns %d, %d events, incomplete %v; the whole run: %d ns, %d events",
				ops, s.SimTimeNs, s.Events, s.Incomplete, whole.Summary.SimTimeNs, whole.Summary.Events)
		}
		if !reflect.DeepEqual(calls, []string{"start", "end"}) {
			t.Errorf("StopAfterOps %d: hooks ran %q", ops, calls)
		}
	}
	for _, ops := range []int64{total, total + 1} {
		res, err := Run(context.Background(), sc, Options{StopAfterOps: ops})
		if err != nil {
			t.Fatal(err)
		}
		if ops > total && !reflect.DeepEqual(res.Summary, whole.Summary) {
			t.Errorf("StopAfterOps %d past the run's %d: the summary differs from the whole run's", ops, total)
		}
		if got := int64(res.Summary.Allocs + res.Summary.Frees); got != total {
			t.Errorf("StopAfterOps %d: %d operations, want the run's %d", ops, got, total)
		}
	}
	if _, err := Run(context.Background(), sc, Options{StopAfterOps: 10, CheckEvery: 1}); err == nil {
		t.Error("StopAfterOps with CheckEvery: no error")
	}
}
