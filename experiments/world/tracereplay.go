package world

import (
	"errors"
	"fmt"
	"io"

	"github.com/sbmpsim/sbmpsim/experiments/input/heaptrack"
	"github.com/sbmpsim/sbmpsim/sim"
)

// traceConfig is a [[workload]] of kind "heaptrack", compiled: the trace
// was read once, so that a malformed or truncated file failed the run
// before it started (the error names the file and line), and what
// heaptrack_print reports for it is known.
type traceConfig struct {
	index   int // the workload's index
	name    string
	proc    int // the index of its process
	file    string
	cpus    []int
	startNs int64
	scale   float64
	// open opens the trace for the replay; path names it in errors.
	open      func() (*heaptrack.Reader, error)
	path      string
	heaptrack HeaptrackNumbers
	loop      loopMode
	psiGroups []int
}

// traceWorkload replays a heaptrack trace through SBMP: every allocation
// of the trace is an allocation of the same size (at least 1 byte: SBMP has
// no zero-size objects, but the bytes counted are the trace's), every free
// frees one live allocation of the same allocation info (the newest; the
// trace does not say which, and the bytes are the same), at the trace's
// time stamps scaled by time_scale. heaptrack records no thread or CPU, so
// each operation runs on a CPU of the workload drawn uniformly.
//
// When the degrade policy makes an allocation wait, the program waits:
// the rest of the trace shifts later by the wait. In the closed loop (the
// default) the rest of the trace also shifts by each allocation's cost,
// stalls included; in the queued loop the trace keeps its recorded times
// and an operation waits only while the program is blocked (busyUntil).
type traceWorkload struct {
	cfg       *traceConfig
	acct      *account
	eng       *sim.Engine
	proc      *sbmpSide
	rd        *heaptrack.Reader
	placement sim.Stream
	delayNs   int64 // waits so far: later time stamps shift by this
	busyUntil int64 // queued loop: when the program is free again
	psi       *pressure
	psiEnt    int
	live      [][]uint64
	pending   heaptrack.Op // an allocation waiting to be retried
	attempt   int
	reqNs     int64 // when the pending allocation was first asked for
	hasOp     bool
	done      bool
	kStep     sim.Kind
	ops       int64
	sum       TraceSummary
}

// newTraceWorkload opens trace c for its replay in proc, counted in acct,
// and schedules its first step.
func newTraceWorkload(eng *sim.Engine, psi *pressure, c *traceConfig, proc *sbmpSide, acct *account, seeds sim.Seeds) (*traceWorkload, error) {
	rd, err := c.open()
	if err != nil {
		return nil, fmt.Errorf("workload %d (%s): %w", c.index, c.name, err)
	}
	t := &traceWorkload{
		cfg: c, acct: acct, eng: eng, proc: proc, rd: rd, psi: psi, psiEnt: psi.entity(c.psiGroups, c.cpus[0], false),
		placement: seeds.Stream("workload/" + c.name + "/placement"),
		sum:       TraceSummary{File: c.file, Heaptrack: c.heaptrack},
	}
	t.kStep = eng.Register("trace.step."+c.name, func(ev sim.Event) { t.step(ev.At) })
	proc.onDeath = append(proc.onDeath, func(now int64) {
		acct.die(now)
		t.stop()
	})
	eng.Schedule(c.startNs, t.kStep, 0, 0)
	return t, nil
}

func (t *traceWorkload) stop() {
	if !t.done {
		t.done = true
		t.sum.Command = t.rd.Command()
		t.sum.UnmatchedFrees = t.rd.Tolerated().UnmatchedFrees
		t.rd.Close()
	}
}

// block makes the program wait d from now: a degrade wait in every loop,
// an allocation's cost in the closed and queued loops.
func (t *traceWorkload) block(now, d int64) {
	if t.cfg.loop == loopQueued {
		t.busyUntil = max(t.busyUntil, now+d)
		return
	}
	t.delayNs += d
}

// atNs is when the trace's time stamp ms happens in the simulation.
func (t *traceWorkload) atNs(ms int64) int64 {
	return t.cfg.startNs + int64(float64(ms)*1e6*t.cfg.scale) + t.delayNs
}

// step replays operations until the trace's clock passes now, then
// schedules itself at the next time stamp.
func (t *traceWorkload) step(now int64) {
	if t.done {
		return
	}
	for {
		if !t.hasOp {
			op, err := t.rd.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					// The compile step read this file to the end: it changed
					// under the run.
					panic(fmt.Sprintf("heaptrack trace %s changed during the run: %v", t.cfg.path, err))
				}
				t.sum.Finished = true
				t.stop()
				return
			}
			t.pending, t.hasOp, t.attempt = op, true, 0
			t.ops++
		}
		op := t.pending
		switch op.Kind {
		case heaptrack.KindTime:
			at := t.atNs(op.TimeMs)
			if t.cfg.loop == loopQueued {
				t.delayNs = max(t.delayNs, now-at) // how late it runs
				at = max(at, t.busyUntil)
			}
			if at > now {
				t.hasOp = false
				t.eng.Schedule(at, t.kStep, 0, 0)
				return
			}
		case heaptrack.KindAlloc:
			size := int64(op.SizeBytes)
			if t.attempt == 0 {
				t.reqNs = now
			}
			cpu := t.cpu()
			res := t.proc.a.AllocAttempt(cpu, max(size, 1), t.attempt)
			t.psi.stall(t.psiEnt, cpu, now, t.proc.takeMemStall())
			if t.proc.dead {
				return // killed by its own page fault: the replay stopped with it
			}
			if !res.OK && res.RetryAfterNs > 0 && !t.proc.dead {
				t.acct.retries++
				t.attempt++
				t.block(now, res.RetryAfterNs)
				t.eng.Schedule(now+res.RetryAfterNs, t.kStep, 0, 0)
				return
			}
			if res.Degraded || t.attempt > 0 { // only degrade asks for a retry
				t.acct.degraded(cpu, res.OK, now-t.reqNs+res.CostNs)
			}
			t.acct.observe(now, cpu, max(size, 1), res, now-t.reqNs+res.CostNs, int32(min(op.StackDepth, 1<<30)))
			if t.cfg.loop != loopIgnore {
				t.block(now, res.CostNs)
			}
			for int(op.Info) >= len(t.live) {
				t.live = append(t.live, nil)
			}
			if !res.OK {
				t.acct.fail()
				t.live[op.Info] = append(t.live[op.Info], 0) // its free frees nothing
			} else {
				t.acct.alloc(now, size)
				t.live[op.Info] = append(t.live[op.Info], res.Addr)
				t.sum.PeakBytes = max(t.sum.PeakBytes, t.acct.liveBytes)
			}
		case heaptrack.KindFree:
			l := t.live[op.Info]
			addr := l[len(l)-1]
			t.live[op.Info] = l[:len(l)-1]
			if addr != 0 {
				size := int64(op.SizeBytes)
				if _, err := t.proc.free(t.cpu(), addr, max(size, 1)); err != nil {
					panic(err) // the replay frees only what SBMP gave it
				}
				t.acct.free(now, size)
			}
		}
		t.hasOp = false
		if t.done {
			return
		}
	}
}

// cpu draws the CPU the next operation runs on.
func (t *traceWorkload) cpu() int { return t.cfg.cpus[t.placement.IntN(len(t.cfg.cpus))] }

func (t *traceWorkload) summary() *TraceSummary {
	s := t.sum
	s.Ops = t.ops
	s.DelayNs = t.delayNs
	if !t.done {
		s.Command = t.rd.Command()
		s.UnmatchedFrees = t.rd.Tolerated().UnmatchedFrees
	}
	return &s
}
