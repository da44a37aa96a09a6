package goruntime

import (
	"testing"

	"github.com/sbmpsim/sbmpsim/sim"
	"pgregory.net/rapid"
)

// TestBooksRapid is a state-machine test: random configurations, then
// random steps (run some events, force a GC, squeeze the heap's mapped
// memory, kill). After every single event the books must balance: each
// byte allocated is live, leaked, garbage not yet swept, or freed; and the
// fake heap, which checks every Free against its Alloc, agrees.
func TestBooksRapid(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		cfg := Config{
			AllocBytesPerS:    float64(rapid.Int64Range(1, 64).Draw(rt, "allocMiBps") * mib),
			LiveBytes:         rapid.Int64Range(0, 16).Draw(rt, "liveMiB") * mib,
			RetainFraction:    rapid.SampledFrom([]float64{0.01, 0.1, 0.5, 1}).Draw(rt, "retain"),
			GOGC:              rapid.SampledFrom([]int{GOGCOff, 0, 25, 100, 300}).Draw(rt, "gogc"),
			GOMAXPROCS:        rapid.IntRange(1, 8).Draw(rt, "procs"),
			SweepBatchObjects: rapid.IntRange(1, 64).Draw(rt, "sweepBatch"),
		}
		if rapid.Bool().Draw(rt, "limit") {
			cfg.MemoryLimitBytes = rapid.Int64Range(8, 64).Draw(rt, "limitMiB") * mib
		}
		if rapid.Bool().Draw(rt, "leak") {
			cfg.LeakBytesPerS = float64(rapid.Int64Range(1, 4).Draw(rt, "leakMiBps") * mib)
			cfg.LeakFromNs = rapid.Int64Range(0, 2*sec).Draw(rt, "leakFromNs")
		}
		maxKiB := rapid.Int64Range(1, 64).Draw(rt, "maxKiB")
		cfg.Sizes = SizeFunc{
			Sample: func(s *sim.Stream) int64 { return 1 + int64(s.IntN(int(maxKiB<<10))) },
			Mean:   float64(maxKiB<<10+1) / 2,
		}
		h := newFakeHeap()
		h.retain = rapid.Bool().Draw(rt, "retainFreed")
		if rapid.Bool().Draw(rt, "failing") {
			h.failAboveBytes = rapid.Int64Range(16, 128).Draw(rt, "failMiB") * mib
		}
		eng := sim.New(sim.Limits{})
		p, err := New(eng, cfg, h, NewStreams(sim.Seeds{Master: rapid.Uint64().Draw(rt, "seed")}, "rapid"))
		if err != nil {
			rt.Fatal(err)
		}
		p.Start(0)
		check := func() {
			if h.err != nil {
				rt.Fatal(h.err)
			}
			if err := p.CheckInvariants(); err != nil {
				rt.Fatalf("t=%d: %v", eng.Now(), err)
			}
			st := p.Stats()
			if st.Dead == Alive && (h.inUse != st.HeapAlloc || int64(len(h.live)) != st.HeapObjects) {
				rt.Fatalf("heap holds %d bytes in %d objects; program says %d in %d",
					h.inUse, len(h.live), st.HeapAlloc, st.HeapObjects)
			}
		}
		rt.Repeat(map[string]func(*rapid.T){
			"step": func(rt *rapid.T) {
				n := rapid.IntRange(1, 2000).Draw(rt, "events")
				for range n {
					if ran, err := eng.Step(); err != nil || !ran {
						break
					}
					check()
				}
			},
			"gc": func(*rapid.T) { p.GC() },
			"mapped": func(rt *rapid.T) {
				h.mappedExtra = rapid.Int64Range(0, 32).Draw(rt, "extraMiB") * mib
			},
			"kill": func(rt *rapid.T) {
				if rapid.IntRange(0, 20).Draw(rt, "killDie") == 0 {
					p.Kill(eng.Now())
					if eng.Pending() != 0 {
						rt.Fatalf("%d events pending after Kill", eng.Pending())
					}
				}
			},
			"": func(*rapid.T) { check() },
		})
	})
}
