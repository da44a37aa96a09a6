package goruntime

import (
	"errors"
	"math"
	"testing"

	"github.com/sbmpsim/sbmpsim/sim"
)

const (
	mib = int64(1) << 20
	sec = int64(1e9)
)

// steadyConfig is the test workload: a 64 MiB live heap of 32 KiB objects
// (2048 objects, so runs stay fast), 64 MiB/s of allocation, 16 Ps. A
// background mark of 64 MiB takes 64 MiB / (1 B/ns * 4 workers) = 16.8 ms,
// during which the mutator allocates 1.05 MiB = 1.6 % of the live heap:
// that is the model's bias against the GOGC formula.
func steadyConfig() Config {
	return Config{
		AllocBytesPerS: float64(64 * mib),
		Sizes:          FixedSize(32 << 10),
		LiveBytes:      64 * mib,
		GOGC:           100,
		GOMAXPROCS:     16,
		// The pacer's formulas assume the configured allocation rate:
		// the heap's costs must not slow the mutator down here
		// (TestLoopModes covers back-pressure).
		Loop: LoopIgnore,
	}
}

type run struct {
	eng  *sim.Engine
	prog *Program
	heap *fakeHeap
}

func newRun(t testing.TB, cfg Config, seed uint64, heap *fakeHeap) run {
	t.Helper()
	if heap == nil {
		heap = newFakeHeap()
	}
	eng := sim.New(sim.Limits{})
	prog, err := New(eng, cfg, heap, NewStreams(sim.Seeds{Master: seed}, "test"))
	if err != nil {
		t.Fatal(err)
	}
	prog.Start(0)
	return run{eng: eng, prog: prog, heap: heap}
}

func (r run) until(t testing.TB, ns int64) {
	t.Helper()
	if err := r.eng.RunUntil(ns); err != nil {
		t.Fatal(err)
	}
	if r.heap.err != nil {
		t.Fatal(r.heap.err)
	}
	if err := r.prog.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

// cyclesIn returns the cycles that started in [from, to).
func cyclesIn(recs []GCRecord, from, to int64) []GCRecord {
	var out []GCRecord
	for _, r := range recs {
		if r.StartNs >= from && r.StartNs < to {
			out = append(out, r)
		}
	}
	return out
}

func meanInterval(recs []GCRecord) float64 {
	if len(recs) < 2 {
		return math.Inf(1)
	}
	return float64(recs[len(recs)-1].StartNs-recs[0].StartNs) / float64(len(recs)-1)
}

// TestGOGCSteadyState checks the GOGC pacer against its analytic model:
// the heap peaks at about (1+GOGC/100)*L, and each cycle lets the mutator
// allocate about L*GOGC/100, so NumGC over T is R*T/(L*GOGC/100).
//
// Tolerance 5 % for both. Two biases pull in opposite directions: the
// trigger sits at most 95 % of the way to the goal (Go's clamp), so a cycle
// allocates up to 5 % less than L*GOGC/100; and the marked heap includes
// what was allocated during mark (1.6 % of L here), which raises the goal.
// Poisson noise over ~100-400 cycles of ~1000-4000 objects is below 0.5 %.
func TestGOGCSteadyState(t *testing.T) {
	for _, tc := range []struct {
		gogc int
	}{{50}, {100}, {200}} {
		t.Run("", func(t *testing.T) {
			cfg := steadyConfig()
			cfg.GOGC = tc.gogc
			r := newRun(t, cfg, 1, nil)
			const warmNs, spanNs = 5 * sec, 200 * sec
			r.until(t, warmNs+spanNs)
			g := float64(tc.gogc) / 100
			st := r.prog.Stats()
			peak := float64(st.PeakHeapAlloc) / ((1 + g) * float64(cfg.LiveBytes))
			n := len(cyclesIn(r.prog.GCs(), warmNs, warmNs+spanNs))
			want := cfg.AllocBytesPerS * float64(spanNs/sec) / (float64(cfg.LiveBytes) * g)
			t.Logf("GOGC=%d: peak/((1+g)L) = %.4f, NumGC in %ds = %d, formula %.1f (ratio %.4f), GC CPU %.4f",
				tc.gogc, peak, spanNs/sec, n, want, float64(n)/want, st.GCCPUFraction)
			if math.Abs(peak-1) > 0.05 {
				t.Errorf("peak HeapAlloc %.4f of (1+GOGC/100)*LiveBytes, want 1 +- 0.05", peak)
			}
			if math.Abs(float64(n)/want-1) > 0.05 {
				t.Errorf("NumGC %d, want %.1f +- 5%%", n, want)
			}
			if st.LiveSetBytes != cfg.LiveBytes {
				t.Errorf("live set %d bytes, want %d", st.LiveSetBytes, cfg.LiveBytes)
			}
		})
	}
}

// TestMemoryLimit: a limit below 2L holds the heap at the limit (less Go's
// 3 % headroom), give or take one mark phase of allocation, with more
// cycles than GOGC alone would run; GOGC=off with a limit runs on the
// limit alone.
func TestMemoryLimit(t *testing.T) {
	base := steadyConfig()
	free := newRun(t, base, 1, nil)
	free.until(t, 60*sec)
	freeGCs := free.prog.Stats().NumGC
	for _, tc := range []struct {
		name string
		gogc int
	}{{"GOGC=100", 100}, {"GOGC=off", GOGCOff}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			cfg.GOGC = tc.gogc
			cfg.MemoryLimitBytes = 96 * mib // 1.5 L
			r := newRun(t, cfg, 1, nil)
			r.until(t, 60*sec)
			st := r.prog.Stats()
			var maxMarkNs int64
			for _, rec := range r.prog.GCs() {
				maxMarkNs = max(maxMarkNs, rec.MarkEndNs-rec.MarkStartNs)
			}
			overshoot := int64(cfg.AllocBytesPerS * float64(maxMarkNs) / 1e9)
			t.Logf("%s: peak %.2f MiB (limit %d MiB, one mark = %.2f MiB), NumGC %d vs %d without limit, limited GCs %d",
				tc.name, float64(st.PeakHeapAlloc)/float64(mib), cfg.MemoryLimitBytes/mib,
				float64(overshoot)/float64(mib), st.NumGC, freeGCs, st.LimitedGCs)
			if st.PeakHeapAlloc > cfg.MemoryLimitBytes+overshoot {
				t.Errorf("peak HeapAlloc %d > limit %d + one mark's allocation %d", st.PeakHeapAlloc, cfg.MemoryLimitBytes, overshoot)
			}
			if st.PeakHeapAlloc < cfg.MemoryLimitBytes*9/10 {
				t.Errorf("peak HeapAlloc %d: the pacer should use the limit (%d)", st.PeakHeapAlloc, cfg.MemoryLimitBytes)
			}
			if st.NumGC < freeGCs*3/2 {
				t.Errorf("NumGC %d with the limit, %d without: want clearly more", st.NumGC, freeGCs)
			}
		})
	}
}

// TestLeakWithLimit: a 8 MiB/s leak under a 256 MiB limit, on 4 Ps so
// that a background-only mark (one worker) is long. Live grows at the leak
// rate; cycles come faster as it nears the limit; then the GC CPU limiter
// turns assists off and the heap passes the limit (by more than assisted
// cycles' noise) while the live heap (LiveBytes plus the leak so far) is
// still below it.
func TestLeakWithLimit(t *testing.T) {
	cfg := steadyConfig()
	cfg.GOMAXPROCS = 4
	cfg.LeakBytesPerS = float64(8 * mib)
	cfg.LeakFromNs = 5 * sec
	cfg.MemoryLimitBytes = 256 * mib
	r := newRun(t, cfg, 1, nil)
	r.until(t, 40*sec)
	st := r.prog.Stats()
	wantLeak := cfg.LeakBytesPerS * 35
	t.Logf("leaked %.1f MiB (want %.1f), NumGC %d, limited %d, peak %.1f MiB, GC CPU %.3f",
		float64(st.LeakedBytes)/float64(mib), wantLeak/float64(mib), st.NumGC, st.LimitedGCs,
		float64(st.PeakHeapAlloc)/float64(mib), st.GCCPUFraction)
	if math.Abs(float64(st.LeakedBytes)/wantLeak-1) > 0.05 {
		t.Errorf("leaked %d bytes, want %.0f +- 5%%", st.LeakedBytes, wantLeak)
	}
	recs := r.prog.GCs()
	early, late := meanInterval(cyclesIn(recs, 6*sec, 12*sec)), meanInterval(cyclesIn(recs, 24*sec, 27*sec))
	t.Logf("mean GC interval: %.1f ms at 6-12 s, %.1f ms at 24-27 s", early/1e6, late/1e6)
	if !(late < early/4) {
		t.Errorf("GC interval %.0f ns near the limit, %.0f ns before: want much shorter", late, early)
	}
	if st.LimitedGCs == 0 {
		t.Fatalf("the CPU limiter never engaged")
	}
	liveAt := func(ns int64) float64 {
		return float64(cfg.LiveBytes) + cfg.LeakBytesPerS*float64(ns-cfg.LeakFromNs)/1e9
	}
	// An assisted cycle overshoots its goal (which may be pinned at the
	// marked heap, at the limit) by at most one all-Ps mark phase of
	// allocation; passing the limit by 1.5 times that takes a
	// background-only mark, four times as long.
	allocPerNs := (cfg.AllocBytesPerS + cfg.LeakBytesPerS) / 1e9
	for _, rec := range recs {
		assisted := allocPerNs * float64(rec.MarkCPUNs) / float64(cfg.GOMAXPROCS)
		if float64(rec.HeapAtMarkEnd) <= float64(cfg.MemoryLimitBytes)+1.5*assisted {
			continue
		}
		live := liveAt(rec.MarkEndNs)
		t.Logf("first pass: cycle %d at %.3f s, live %.1f MiB, heap %.1f MiB, limited %v",
			rec.Num, float64(rec.MarkEndNs)/1e9, live/float64(mib), float64(rec.HeapAtMarkEnd)/float64(mib), rec.Limited)
		if !rec.Limited || live >= float64(cfg.MemoryLimitBytes) {
			t.Errorf("the heap first passed the limit with limited=%v and live %.0f bytes", rec.Limited, live)
		}
		return
	}
	t.Errorf("the heap never passed the limit")
}

// TestLeakNoLimit: without a limit the heap follows 2x the growing live
// heap.
func TestLeakNoLimit(t *testing.T) {
	cfg := steadyConfig()
	cfg.LeakBytesPerS = float64(8 * mib)
	r := newRun(t, cfg, 1, nil)
	r.until(t, 30*sec)
	st := r.prog.Stats()
	live := st.LiveSetBytes + st.LeakedBytes
	ratio := float64(st.NextGC) / float64(live)
	t.Logf("live %.1f MiB, goal %.1f MiB (%.3f x)", float64(live)/float64(mib), float64(st.NextGC)/float64(mib), ratio)
	if ratio < 1.9 || ratio > 2.2 {
		t.Errorf("goal/live = %.3f, want about 2", ratio)
	}
}

// TestFatalOutOfMemory: a failed Alloc stops the program and all its
// events.
func TestFatalOutOfMemory(t *testing.T) {
	cfg := steadyConfig()
	cfg.GOGC = GOGCOff
	h := newFakeHeap()
	h.failAboveBytes = 100 * mib
	r := newRun(t, cfg, 1, h)
	if err := r.eng.RunUntilIdle(); err != nil {
		t.Fatal(err)
	}
	st := r.prog.Stats()
	if st.Dead != OutOfMemory {
		t.Fatalf("Dead = %v, want %v", st.Dead, OutOfMemory)
	}
	if st.HeapAlloc > 100*mib || st.HeapAlloc < 99*mib {
		t.Errorf("HeapAlloc %d at death, want just under 100 MiB", st.HeapAlloc)
	}
	if r.eng.Pending() != 0 {
		t.Errorf("%d events pending after death", r.eng.Pending())
	}
	if got := st.Dead.String(); got != "fatal error: out of memory" {
		t.Errorf("Dead.String() = %q", got)
	}
}

// TestKill: Kill in the middle of a run cancels everything, at once.
func TestKill(t *testing.T) {
	cfg := steadyConfig()
	cfg.LeakBytesPerS = 1 << 20
	r := newRun(t, cfg, 1, nil)
	r.until(t, 3*sec+12345)
	before := r.prog.Stats()
	r.prog.Kill(r.eng.Now())
	if r.eng.Pending() != 0 {
		t.Fatalf("%d events pending after Kill", r.eng.Pending())
	}
	if err := r.eng.RunUntil(10 * sec); err != nil {
		t.Fatal(err)
	}
	after := r.prog.Stats()
	if after.Dead != Killed || after.DeadAtNs != 3*sec+12345 {
		t.Errorf("Dead %v at %d", after.Dead, after.DeadAtNs)
	}
	if after.Mallocs != before.Mallocs || after.Frees != before.Frees || r.heap.inUse != before.HeapAlloc {
		t.Errorf("activity after Kill: mallocs %d -> %d, frees %d -> %d", before.Mallocs, after.Mallocs, before.Frees, after.Frees)
	}
	r.prog.Kill(r.eng.Now()) // a second Kill does nothing
	r.prog.GC()
	if r.eng.Pending() != 0 {
		t.Errorf("GC on a dead program scheduled events")
	}
}

// TestForcedGC: GC starts a cycle at once, or after the running one.
func TestForcedGC(t *testing.T) {
	cfg := steadyConfig()
	cfg.GOGC = GOGCOff
	r := newRun(t, cfg, 1, nil)
	r.until(t, 2*sec)
	r.prog.GC()
	r.prog.GC() // during the first: queued
	r.until(t, 3*sec)
	st := r.prog.Stats()
	if st.NumGC != 2 || st.NumForcedGC != 2 {
		t.Fatalf("NumGC %d, forced %d; want 2, 2", st.NumGC, st.NumForcedGC)
	}
	recs := r.prog.GCs()
	if recs[1].StartNs != recs[0].EndNs {
		t.Errorf("queued forced cycle started at %d, first ended at %d", recs[1].StartNs, recs[0].EndNs)
	}
	if recs[0].FreedBytes == 0 || recs[0].SweepDoneNs == 0 {
		t.Errorf("first forced cycle freed %d bytes, sweep done at %d", recs[0].FreedBytes, recs[0].SweepDoneNs)
	}
}

// TestScavenger: with a heap that keeps freed memory mapped, the
// scavenger returns what exceeds 110 % of the GOGC goal (here a 200 MiB
// burst left over from before Start) and 95 % of a memory limit.
func TestScavenger(t *testing.T) {
	budget := float64(DefaultScavengeBytesPerS) * float64(DefaultTickNs) / 1e9
	for _, tc := range []struct {
		name     string
		limit    int64
		gogc     int
		retained int64
	}{
		{"GOGC", 0, 100, 200 * mib},
		{"limit", 96 * mib, GOGCOff, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := steadyConfig()
			cfg.GOGC, cfg.MemoryLimitBytes = tc.gogc, tc.limit
			h := newFakeHeap()
			h.retain, h.retained = true, tc.retained
			r := newRun(t, cfg, 1, h)
			maxMapped := int64(0)
			for ms := int64(2000); ms <= 30000; ms += 10 {
				r.until(t, ms*1e6)
				maxMapped = max(maxMapped, h.MappedBytes())
			}
			st := r.prog.Stats()
			target := float64(retainExtraFrac) * float64(r.prog.percentGoal())
			if tc.limit > 0 {
				target = limitRetainFrac * float64(tc.limit)
			}
			t.Logf("max mapped after 2 s %.1f MiB, target %.1f MiB, scavenged %.1f MiB",
				float64(maxMapped)/float64(mib), target/float64(mib), float64(st.ScavengedBytes)/float64(mib))
			if st.ScavengedBytes == 0 || st.ScavengedBytes != h.scavenged {
				t.Errorf("scavenged %d, heap saw %d", st.ScavengedBytes, h.scavenged)
			}
			// Between ticks the heap can grow by a tick's allocation.
			slack := budget + cfg.AllocBytesPerS*float64(DefaultTickNs)/1e9
			if float64(maxMapped) > target+slack {
				t.Errorf("mapped reached %d, target %.0f + slack %.0f", maxMapped, target, slack)
			}
		})
	}
	cfg := steadyConfig()
	cfg.ScavengeOff = true
	h := newFakeHeap()
	h.retain, h.retained = true, 200*mib
	r := newRun(t, cfg, 1, h)
	r.until(t, 5*sec)
	if h.scavenged != 0 {
		t.Errorf("ScavengeOff scavenged %d bytes", h.scavenged)
	}
}

// TestDeterminism: one seed, one run; another seed, another run.
func TestDeterminism(t *testing.T) {
	cfg := steadyConfig()
	cfg.LeakBytesPerS = float64(4 * mib)
	cfg.MemoryLimitBytes = 160 * mib
	cfg.Sizes = SizeFunc{Sample: func(s *sim.Stream) int64 { return 1024 + int64(s.IntN(63*1024)) }, Mean: 1024 + 63*1024/2.0 - 0.5}
	do := func(seed uint64) (Stats, []GCRecord, string) {
		var buf traceBuffer
		c := cfg
		c.GCTrace = &buf
		r := newRun(t, c, seed, nil)
		r.until(t, 20*sec)
		return r.prog.Stats(), r.prog.GCs(), buf.String()
	}
	s1, g1, t1 := do(7)
	s2, g2, t2 := do(7)
	s3, _, t3 := do(8)
	if s1 != s2 || t1 != t2 || len(g1) != len(g2) {
		t.Fatalf("same seed, different runs")
	}
	for i := range g1 {
		if g1[i] != g2[i] {
			t.Fatalf("cycle %d differs", i)
		}
	}
	if s1 == s3 || t1 == t3 {
		t.Errorf("seeds 7 and 8 gave identical runs")
	}
	if len(t1) == 0 {
		t.Errorf("no gctrace output")
	}
}

// TestConfigErrors: each invalid field is named in the error.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		field string
		edit  func(*Config)
	}{
		{"AllocBytesPerS", func(c *Config) { c.AllocBytesPerS = 0 }},
		{"AllocBytesPerS", func(c *Config) { c.AllocBytesPerS = math.NaN() }},
		{"LiveBytes", func(c *Config) { c.LiveBytes = -1 }},
		{"RetainFraction", func(c *Config) { c.RetainFraction = 1.5 }},
		{"GOGC", func(c *Config) { c.GOGC = -2 }},
		{"MemoryLimitBytes", func(c *Config) { c.MemoryLimitBytes = -1 }},
		{"LeakBytesPerS", func(c *Config) { c.LeakBytesPerS = -1 }},
		{"LeakFromNs", func(c *Config) { c.LeakFromNs = -1 }},
		{"GOMAXPROCS", func(c *Config) { c.GOMAXPROCS = -1 }},
		{"CPUs", func(c *Config) { c.CPUs = []int{0, -3} }},
		{"MarkBytesPerNs", func(c *Config) { c.MarkBytesPerNs = -1 }},
		{"TickNs", func(c *Config) { c.TickNs = -1 }},
		{"Sizes", func(c *Config) { c.Sizes = FixedSize(0) }},
	} {
		cfg := DefaultConfig()
		tc.edit(&cfg)
		_, err := New(sim.New(sim.Limits{}), cfg, newFakeHeap(), Streams{})
		if err == nil || !containsWord(err.Error(), tc.field) {
			t.Errorf("%s: error %v does not name the field", tc.field, err)
		}
	}
	if _, err := New(sim.New(sim.Limits{}), DefaultConfig(), nil, Streams{}); !errors.Is(err, errNoHeap) {
		t.Errorf("nil heap: %v", err)
	}
	if _, err := New(sim.New(sim.Limits{}), DefaultConfig(), newFakeHeap(), Streams{}); err != nil {
		t.Errorf("DefaultConfig: %v", err)
	}
}

// TestLoopModes: an allocation's cost delays the mutator's next one in
// the closed loop (so it allocates less), never in the ignore loop, and
// in the queued loop only when the cost exceeds the gap to the next.
func TestLoopModes(t *testing.T) {
	count := func(loop Loop, costNs int64) int64 {
		cfg := steadyConfig()
		cfg.Loop = loop
		h := newFakeHeap()
		h.allocCostNs = costNs
		r := newRun(t, cfg, 1, h)
		r.until(t, 2*sec)
		return r.prog.Stats().Mallocs
	}
	// 64 MiB/s of 32 KiB objects: a mean gap of 488 us.
	open := count(LoopIgnore, 100_000)
	closed := count(LoopClosed, 100_000)
	queued := count(LoopQueued, 100_000)
	// Closed: each allocation takes gap + 100 us, so about
	// 488/(488+100) of the open count.
	if want := float64(open) * 488.28 / 588.28; math.Abs(float64(closed)/want-1) > 0.05 {
		t.Errorf("closed loop made %d allocations, want about %.0f (open %d)", closed, want, open)
	}
	// Queued: only gaps shorter than the cost are stretched, so it lies
	// between the two.
	if !(closed < queued && queued < open) {
		t.Errorf("allocations: closed %d, queued %d, open %d; want closed < queued < open", closed, queued, open)
	}
	if cheap := count(LoopClosed, 0); cheap != count(LoopIgnore, 0) {
		t.Errorf("with free allocations the closed loop made %d, the open one %d", cheap, count(LoopIgnore, 0))
	}
}
