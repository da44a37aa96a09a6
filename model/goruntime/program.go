package goruntime

import (
	"fmt"
	"math"

	"github.com/sbmpsim/sbmpsim/sim"
)

// phase is where the GC is in its cycle.
type phase uint8

const (
	phaseOff       phase = iota // no cycle; the sweeper may still be running
	phaseSweepTerm              // STW sweep termination
	phaseMark                   // concurrent mark
	phaseMarkTerm               // STW mark termination
)

// noGoal stands for "no goal" and "no trigger".
const noGoal = math.MaxInt64

// kinds are the event kinds a Program registers.
type kinds struct {
	alloc, leak, markStart, markEnd, markTermEnd, sweep, tick sim.Kind
}

// Program is one simulated Go program. Its methods must be called from the
// engine's goroutine (between events or inside handlers), never concurrently.
type Program struct {
	eng  *sim.Engine
	cfg  Config
	heap Heap
	rng  Streams
	k    kinds

	started  bool
	startNs  int64
	meanGap  float64 // ns between allocations
	leakGap  float64 // ns between leaked objects; 0: no leak
	building bool    // still building the live set

	live      ring
	garbage   list      // garbage since the current or last cycle started
	condemned sweepList // garbage the last cycle started with, being swept
	leakedN   int64

	heapAlloc, heapLive, heapMarked int64
	goal, trigger                   int64

	ph           phase
	cur          GCRecord // the cycle in progress
	stwUntil     int64
	forcePending bool
	sweepCPU     int // index into cfg.CPUs of the next sweep batch
	lim          limiter

	allocID, leakID, phaseID, sweepID, tickID sim.EventID

	st      Stats
	records []GCRecord
}

// New returns a program that allocates from heap on eng. It registers its
// event kinds (names "go.*") but schedules nothing until Start. cfg is
// validated and its zero fields take their defaults.
func New(eng *sim.Engine, cfg Config, heap Heap, rng Streams) (*Program, error) {
	if eng == nil {
		return nil, fmt.Errorf("goruntime: engine is nil")
	}
	if heap == nil {
		return nil, errNoHeap
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	p := &Program{eng: eng, cfg: cfg, heap: heap, rng: rng, building: cfg.LiveBytes > 0}
	p.meanGap = cfg.Sizes.MeanBytes() / cfg.AllocBytesPerS * 1e9
	if cfg.LeakBytesPerS > 0 {
		p.leakGap = cfg.Sizes.MeanBytes() / cfg.LeakBytesPerS * 1e9
	}
	p.k = kinds{
		alloc:       eng.Register("go.alloc", p.onAlloc),
		leak:        eng.Register("go.leak", p.onLeak),
		markStart:   eng.Register("go.markstart", p.onMarkStart),
		markEnd:     eng.Register("go.markend", p.onMarkEnd),
		markTermEnd: eng.Register("go.marktermend", p.onMarkTermEnd),
		sweep:       eng.Register("go.sweep", p.onSweep),
		tick:        eng.Register("go.tick", p.onTick),
	}
	p.lim = limiter{capacity: float64(cfg.LimiterWindowNs) * float64(cfg.GOMAXPROCS), procs: cfg.GOMAXPROCS}
	p.updatePacer()
	return p, nil
}

// Start schedules the program's first events at time at (>= the engine's
// now). It panics if called twice: that is a bug in the caller.
func (p *Program) Start(at int64) {
	if p.started {
		panic("goruntime: Start called twice")
	}
	p.started, p.startNs = true, at
	p.lim.lastNs = at
	p.allocID = p.eng.Schedule(at+p.gap(&p.rng.Arrivals, p.meanGap), p.k.alloc, 0, 0)
	if p.leakGap > 0 {
		p.leakID = p.eng.Schedule(at+p.cfg.LeakFromNs+p.gap(&p.rng.Leaks, p.leakGap), p.k.leak, 0, 0)
	}
	p.tickID = p.eng.Schedule(at+p.cfg.TickNs, p.k.tick, 0, 0)
}

// SetLeakRate changes the leak to bytesPerS from now on (0 stops it), as
// a leak injected by a fault: it replaces the configured leak and its
// start. Leaked bytes so far stay leaked.
func (p *Program) SetLeakRate(nowNs int64, bytesPerS float64) {
	if p.st.Dead != Alive || !p.started {
		return
	}
	p.eng.Cancel(p.leakID)
	p.leakID = sim.EventID{}
	p.cfg.LeakFromNs = nowNs - p.startNs
	p.cfg.LeakBytesPerS = bytesPerS
	p.leakGap = 0
	if bytesPerS > 0 {
		p.leakGap = p.cfg.Sizes.MeanBytes() / bytesPerS * 1e9
		p.leakID = p.eng.Schedule(nowNs+p.gap(&p.rng.Leaks, p.leakGap), p.k.leak, 0, 0)
	}
}

// gap draws an exponential gap of the given mean, at least 1 ns so that
// the program always moves the clock forward.
func (p *Program) gap(s *sim.Stream, meanNs float64) int64 {
	return max(1, int64(math.Round(s.Exp(meanNs))))
}

// Kill is the OOM killer: the program stops at once, cancels its pending
// events, and forgets its objects without freeing them (the caller reclaims
// the process's memory). Killing a dead program does nothing.
func (p *Program) Kill(nowNs int64) { p.die(nowNs, Killed) }

func (p *Program) die(nowNs int64, why Death) {
	if p.st.Dead != Alive {
		return
	}
	p.st.Dead, p.st.DeadAtNs = why, nowNs
	for _, id := range []sim.EventID{p.allocID, p.leakID, p.phaseID, p.sweepID, p.tickID} {
		p.eng.Cancel(id)
	}
	// Keep the counters (Stats stays readable) but drop the objects.
	p.live = ring{bytes: p.live.bytes, n: p.live.n}
	p.garbage.objs = nil
	p.condemned.objs, p.condemned.next = nil, 0
}

// Dead reports why the program stopped, or Alive.
func (p *Program) Dead() Death { return p.st.Dead }

// GC starts a forced cycle now, like runtime.GC but without blocking
// anyone. If a cycle is running, the forced one starts when it ends.
func (p *Program) GC() {
	if p.st.Dead != Alive || !p.started {
		return
	}
	if p.ph != phaseOff {
		p.forcePending = true
		return
	}
	p.startCycle(p.eng.Now(), true)
}

// GCs returns the completed cycles, oldest first (at most MaxGCRecords).
// The slice is a copy.
func (p *Program) GCs() []GCRecord { return append([]GCRecord(nil), p.records...) }

// Stats returns a snapshot. MappedBytes asks the heap.
func (p *Program) Stats() Stats {
	s := p.st
	s.NowNs = p.eng.Now()
	s.HeapAlloc, s.HeapLive, s.HeapMarked = p.heapAlloc, p.heapLive, p.heapMarked
	s.NextGC, s.TriggerBytes = p.goal, p.trigger
	if s.Dead == Alive {
		s.MappedBytes = p.heap.MappedBytes()
	}
	s.HeapObjects = s.Mallocs - s.Frees
	s.LiveObjects = int64(p.live.n) + p.leakedN
	s.LiveSetBytes = p.live.bytes
	s.GarbageBytes = p.heapAlloc - p.live.bytes - s.LeakedBytes
	if elapsed := s.NowNs - p.startNs; p.started && elapsed > 0 {
		s.GCCPUFraction = float64(s.GCCPUNs) / (float64(elapsed) * float64(p.cfg.GOMAXPROCS))
	}
	return s
}

// onAlloc is one mutator allocation.
func (p *Program) onAlloc(ev sim.Event) {
	if p.stwUntil > ev.At {
		p.st.AllocDelayedNs += p.stwUntil - ev.At
		p.allocID = p.eng.Schedule(p.stwUntil, p.k.alloc, 0, 0)
		return
	}
	size := p.cfg.Sizes.SampleBytes(&p.rng.Sizes)
	o, cost, ok := p.allocate(ev.At, size, &p.rng.Placement)
	if !ok {
		return
	}
	switch {
	case p.building && size <= p.cfg.LiveBytes:
		p.live.push(o)
		if p.live.bytes >= p.cfg.LiveBytes {
			p.pushOut(0)
			p.building = false
		}
	case size <= p.cfg.LiveBytes && p.rng.Fates.Float64() < p.cfg.RetainFraction:
		p.pushOut(size)
		p.live.push(o)
	default:
		p.garbage.add(o)
	}
	p.allocID = p.eng.Schedule(p.next(ev.At, cost, p.gap(&p.rng.Arrivals, p.meanGap)), p.k.alloc, 0, 0)
	p.maybeTrigger(ev.At)
}

// next is when the allocation after one made at now, which cost cost,
// comes: gap later in the open loop, shifted by the cost as cfg.Loop says.
func (p *Program) next(now, cost, gap int64) int64 {
	switch p.cfg.Loop {
	case LoopClosed:
		return now + cost + gap
	case LoopQueued:
		return max(now+gap, now+cost)
	}
	return now + gap
}

// pushOut moves the oldest live objects to the garbage until adding
// extra bytes keeps the live set within LiveBytes. Pushing out ends the
// build phase.
func (p *Program) pushOut(extra int64) {
	for p.live.n > 0 && p.live.bytes+extra > p.cfg.LiveBytes {
		p.garbage.add(p.live.pop())
		p.building = false
	}
}

// onLeak allocates one leaked object.
func (p *Program) onLeak(ev sim.Event) {
	if p.stwUntil > ev.At {
		p.st.AllocDelayedNs += p.stwUntil - ev.At
		p.leakID = p.eng.Schedule(p.stwUntil, p.k.leak, 0, 0)
		return
	}
	size := p.cfg.Sizes.SampleBytes(&p.rng.Leaks)
	_, cost, ok := p.allocate(ev.At, size, &p.rng.Leaks)
	if !ok {
		return
	}
	p.leakedN++
	p.st.LeakedBytes += size
	p.leakID = p.eng.Schedule(p.next(ev.At, cost, p.gap(&p.rng.Leaks, p.leakGap)), p.k.leak, 0, 0)
	p.maybeTrigger(ev.At)
}

// allocate gets size bytes from the heap on a CPU drawn from placement,
// and reports what it cost. A failure kills the program and reports
// false.
func (p *Program) allocate(now, size int64, placement *sim.Stream) (object, int64, bool) {
	if size <= 0 {
		panic(fmt.Sprintf("goruntime: Sizer returned %d bytes", size))
	}
	cpu := p.cfg.CPUs[placement.IntN(len(p.cfg.CPUs))]
	addr, cost, ok := p.heap.Alloc(now, cpu, size)
	if !ok {
		p.die(now, OutOfMemory)
		return object{}, cost, false
	}
	p.st.AllocNs += cost
	p.st.Mallocs++
	p.st.TotalAlloc += size
	p.heapAlloc += size
	p.heapLive += size
	p.st.PeakHeapAlloc = max(p.st.PeakHeapAlloc, p.heapAlloc)
	return object{addr: addr, size: size}, cost, true
}

// CheckInvariants reports the first broken invariant of the program's
// books, or nil. Every allocated byte is live, leaked, garbage not yet
// freed, or freed. A dead program has forgotten its objects: nil.
func (p *Program) CheckInvariants() error {
	if p.st.Dead != Alive {
		return nil
	}
	s := &p.st
	if got := s.TotalAlloc - s.FreedBytes; got != p.heapAlloc {
		return fmt.Errorf("TotalAlloc-FreedBytes = %d, HeapAlloc = %d", got, p.heapAlloc)
	}
	if got := p.live.bytes + s.LeakedBytes + p.garbage.bytes + p.condemned.bytes; got != p.heapAlloc {
		return fmt.Errorf("live %d + leaked %d + garbage %d + unswept %d = %d, HeapAlloc = %d",
			p.live.bytes, s.LeakedBytes, p.garbage.bytes, p.condemned.bytes, got, p.heapAlloc)
	}
	objs := int64(p.live.n) + p.leakedN + int64(len(p.garbage.objs)) + int64(p.condemned.remaining())
	if got := s.Mallocs - s.Frees; got != objs {
		return fmt.Errorf("Mallocs-Frees = %d, objects held = %d", got, objs)
	}
	if p.live.bytes > max(p.cfg.LiveBytes, 0) {
		return fmt.Errorf("live set %d bytes > LiveBytes %d", p.live.bytes, p.cfg.LiveBytes)
	}
	// Between cycles the pacer's heap leaves out exactly the unswept
	// garbage; during a cycle the last sweep has been finished, and the
	// new condemned set is still counted until mark termination.
	want := p.heapAlloc
	if p.ph == phaseOff {
		want -= p.condemned.bytes
	}
	if p.heapLive != want {
		return fmt.Errorf("heapLive = %d, want %d (phase %d)", p.heapLive, want, p.ph)
	}
	if (p.condemned.remaining() == 0) != (p.condemned.bytes == 0) {
		return fmt.Errorf("%d condemned objects hold %d bytes", p.condemned.remaining(), p.condemned.bytes)
	}
	return nil
}
