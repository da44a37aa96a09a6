package goruntime

import (
	"math"

	"github.com/sbmpsim/sbmpsim/sim"
)

// startCycle begins a GC cycle at now with the STW sweep termination pause.
// The garbage of the moment is condemned: this cycle's sweep frees it.
func (p *Program) startCycle(now int64, forced bool) {
	if forced {
		p.forcePending = false
	}
	// Sweep termination finishes the last cycle's sweep inside the pause.
	finishNs := p.sweepAll(now)
	reuse := p.condemned.objs[:0]
	p.condemned = sweepList{objs: p.garbage.objs, bytes: p.garbage.bytes}
	p.garbage = list{objs: reuse}

	pause := p.cfg.SweepTermBaseNs + p.cfg.SweepTermPerPNs*int64(p.cfg.GOMAXPROCS) + finishNs
	p.cur = GCRecord{
		Forced: forced, StartNs: now, HeapBefore: p.heapLive, HeapGoal: p.goal,
		TriggerBytes: p.trigger, PauseNs: pause,
		FreedBytes: p.condemned.bytes, FreedObjects: int64(len(p.condemned.objs)),
	}
	p.ph = phaseSweepTerm
	p.stwUntil = now + pause
	p.st.GCCPUNs += pause * int64(p.cfg.GOMAXPROCS)
	p.lim.advance(now, 1)
	p.phaseID = p.eng.Schedule(now+pause, p.k.markStart, 0, 0)
}

// onMarkStart ends sweep termination and starts the concurrent mark. Its
// length depends on whether assists may help (see the package doc).
func (p *Program) onMarkStart(ev sim.Event) {
	now := ev.At
	p.lim.advance(now, 1)
	limited := p.lim.full()
	work := p.markWorkBytes()
	markCPU := float64(work) / p.cfg.MarkBytesPerNs
	procs := float64(p.cfg.GOMAXPROCS)
	markNs := p.bgMarkNs(work)
	if !limited && p.goal != noGoal {
		rate := p.allocBytesPerNs()
		runway := float64(p.goal - p.heapLive)
		if rate*markNs > runway {
			markNs = max(runway/rate, markCPU/procs)
		}
	}
	markNsInt := max(1, int64(math.Round(markNs)))
	bgCPU := min(markCPU, bgMarkFrac*procs*float64(markNsInt))
	p.cur.MarkStartNs = now
	p.cur.Limited = limited
	p.cur.MarkCPUNs = int64(math.Round(markCPU))
	p.cur.AssistNs = int64(math.Round(markCPU - bgCPU))
	p.ph = phaseMark
	p.lim.gcFrac = min(1, markCPU/(procs*float64(markNsInt)))
	p.phaseID = p.eng.Schedule(now+markNsInt, p.k.markEnd, 0, 0)
}

// onMarkEnd ends the mark and starts the STW mark termination pause.
func (p *Program) onMarkEnd(ev sim.Event) {
	now := ev.At
	p.lim.advance(now, 1)
	pause := p.cfg.MarkTermBaseNs + p.cfg.MarkTermPerPNs*int64(p.cfg.GOMAXPROCS)
	p.ph = phaseMarkTerm
	p.stwUntil = now + pause
	p.cur.MarkEndNs = now
	p.cur.HeapAtMarkEnd = p.heapLive
	p.cur.PauseNs += pause
	p.st.GCCPUNs += pause*int64(p.cfg.GOMAXPROCS) + p.cur.MarkCPUNs
	p.st.AssistNs += p.cur.AssistNs
	if p.cur.Limited {
		p.st.LimitedGCs++
	}
	p.phaseID = p.eng.Schedule(now+pause, p.k.markTermEnd, 0, 0)
}

// onMarkTermEnd ends the cycle: everything not condemned was marked. It
// sets the next goal, records and traces the cycle, and starts the sweep.
func (p *Program) onMarkTermEnd(ev sim.Event) {
	now := ev.At
	p.lim.advance(now, 0)
	p.ph = phaseOff
	p.heapMarked = p.heapAlloc - p.condemned.bytes
	p.heapLive = p.heapMarked
	p.updatePacer()

	s := &p.st
	s.NumGC++
	if p.cur.Forced {
		s.NumForcedGC++
	}
	s.PauseNs[(s.NumGC+255)%256] = p.cur.PauseNs
	s.PauseTotalNs += p.cur.PauseNs
	s.LastGCNs = now
	p.cur.Num = s.NumGC
	p.cur.EndNs = now
	p.cur.HeapMarked = p.heapMarked
	p.cur.NextGoal = p.goal
	p.cur.MappedBytes = p.heap.MappedBytes()
	p.trace(now)
	p.record()

	if p.condemned.remaining() > 0 {
		p.sweepID = p.eng.Schedule(now, p.k.sweep, 0, 0)
	} else {
		p.sweepDone(now)
	}
	// The next cycle starts on an allocation that reaches the trigger, as
	// in Go's mallocgc, so an idle program with GOGC=0 does not loop.
	if p.forcePending {
		p.startCycle(now, true)
	}
}

// record keeps the finished cycle, up to MaxGCRecords.
func (p *Program) record() {
	if len(p.records) >= p.cfg.MaxGCRecords {
		p.st.GCRecordsDropped++
		return
	}
	p.records = append(p.records, p.cur)
}

// onSweep frees one batch of condemned objects, each Free starting when
// the one before it returned, on the next CPU in turn.
func (p *Program) onSweep(ev sim.Event) {
	cpu := p.cfg.CPUs[p.sweepCPU]
	p.sweepCPU = (p.sweepCPU + 1) % len(p.cfg.CPUs)
	t := ev.At
	for i := 0; i < p.cfg.SweepBatchObjects && p.condemned.remaining() > 0; i++ {
		t += p.freeNext(t, cpu)
	}
	if p.condemned.remaining() > 0 {
		p.sweepID = p.eng.Schedule(max(t, ev.At+1), p.k.sweep, 0, 0)
		return
	}
	p.sweepDone(t)
}

// sweepAll frees every condemned object still unswept, from now, and
// returns the time it took.
func (p *Program) sweepAll(now int64) int64 {
	if p.condemned.remaining() == 0 {
		return 0
	}
	p.eng.Cancel(p.sweepID)
	cpu := p.cfg.CPUs[p.sweepCPU]
	t := now
	for p.condemned.remaining() > 0 {
		t += p.freeNext(t, cpu)
	}
	p.sweepDone(t)
	return t - now
}

// freeNext frees the next condemned object at time t and returns the cost.
// Sweeping never moves the pacer's heapLive: the condemned garbage left it
// at mark termination.
func (p *Program) freeNext(t int64, cpu int) int64 {
	o := p.condemned.objs[p.condemned.next]
	p.condemned.next++
	cost := p.heap.Free(t, cpu, o.addr, o.size)
	p.condemned.bytes -= o.size
	p.heapAlloc -= o.size
	p.st.Frees++
	p.st.FreedBytes += o.size
	p.st.SweepNs += cost
	return cost
}

// sweepDone resets the condemned list (keeping its array for reuse) and
// notes the time in the last record.
func (p *Program) sweepDone(t int64) {
	p.condemned.objs, p.condemned.next = p.condemned.objs[:0], 0
	if n := len(p.records); n > 0 && p.records[n-1].Num == p.st.NumGC {
		p.records[n-1].SweepDoneNs = t
	}
}
