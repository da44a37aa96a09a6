package hotswap

import (
	"context"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/canon"
	"github.com/sbmpsim/sbmpsim/experiments/world"
)

// TestLadderRunsArePrefixes checks what hot-swap's latency windows rest
// on: a run cut short at d ms is exactly the first d ms of a longer run
// of the same seed, swap included, so differences of summaries are the
// windows between their ends.
func TestLadderRunsArePrefixes(t *testing.T) {
	var res [2]*world.Result
	for i, d := range []string{"2000", "2100"} {
		sc, err := canon.Load("steady", swapFault(swapMs, "refill", "adaptive-batch"), "run.duration_ms="+d)
		if err != nil {
			t.Fatal(err)
		}
		if res[i], err = world.Run(context.Background(), sc, world.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	short, long := res[0].Summary, res[1].Summary
	at, err := allocsAt(res[1], float64(swapMs)/1e3)
	if err != nil {
		t.Fatal(err)
	}
	if uint64(at) != short.Allocs || short.AllocLatencyNs.Count != short.Allocs {
		t.Fatalf("the long run has %v allocations at %d ms, the short run %d (latency count %d)", at, swapMs, short.Allocs, short.AllocLatencyNs.Count)
	}
	w := windows(res[:])
	if len(w) != 1 || w[0].allocs != float64(long.Allocs-short.Allocs) || !(w[0].meanNs > 0) {
		t.Fatalf("window %+v from %d and %d allocations", w, short.Allocs, long.Allocs)
	}
	if short.Faults[0].SwapFlushNs != long.Faults[0].SwapFlushNs || short.Faults[0].Swapped != 1 {
		t.Fatalf("the swap differs: %+v vs %+v", short.Faults[0], long.Faults[0])
	}
}
