package world

import (
	"errors"
	"fmt"
	"io"

	"github.com/sbmpsim/sbmpsim/experiments/input/heaptrack"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/sim"
)

// traceWorkload replays a heaptrack trace through SBMP: every allocation
// of the trace is an allocation of the same size (at least 1 byte: SBMP has
// no zero-size objects, but the bytes counted are the trace's), every free
// frees one live allocation of the same allocation info (the newest; the
// trace does not say which, and the bytes are the same), at the trace's
// time stamps scaled by time_scale. heaptrack records no thread or CPU, so
// each operation runs on a CPU of the workload drawn uniformly.
//
// When the degrade policy makes an allocation wait, the program waits:
// the rest of the trace shifts later by the wait.
//
// The trace is read twice: once when the run is wired, so that a
// malformed trace fails the run before anything runs (the error names the
// file and line), and once streaming during the replay.
type traceWorkload struct {
	wstats
	index     int
	proc      *sbmpSide
	path      string
	rd        *heaptrack.Reader
	cpus      []int
	placement sim.Stream
	startNs   int64
	scale     float64
	delayNs   int64 // waits so far: later time stamps shift by this
	live      [][]uint64
	pending   heaptrack.Op // an allocation waiting to be retried
	attempt   int
	hasOp     bool
	done      bool
	kStep     sim.Kind
	ops       int64
	sum       TraceSummary
}

// TraceSummary is a heaptrack workload's replay record, with heaptrack's
// own numbers for the same file beside the replay's.
type TraceSummary struct {
	File    string `json:"file"`
	Command string `json:"command"`
	Ops     int64  `json:"ops"`
	// PeakBytes is the largest sum of the trace's live allocation sizes
	// during the replay (the workload's own bytes_requested_peak).
	PeakBytes int64 `json:"peak_bytes"`
	// DelayNs is how much later than recorded the trace finished, from
	// allocations the degrade policy made wait.
	DelayNs int64 `json:"delay_ns"`
	// Finished: the whole trace was replayed within the run.
	Finished bool `json:"finished"`
	// UnmatchedFrees are "-" lines heaptrack accepts with no live
	// allocation to free; the replay skips them.
	UnmatchedFrees int64 `json:"unmatched_frees"`
	// Heaptrack is what heaptrack_print reports for the same file, for
	// comparison: the replay's allocs, peak and live bytes at the end
	// equal its calls, peak and leaked + suppressed.
	Heaptrack HeaptrackNumbers `json:"heaptrack"`
}

// HeaptrackNumbers are heaptrack_print's totals for a trace.
type HeaptrackNumbers struct {
	Calls           int64  `json:"calls"`
	PeakBytes       int64  `json:"peak_bytes"`
	LeakedBytes     int64  `json:"leaked_bytes"`
	SuppressedBytes int64  `json:"suppressed_bytes"`
	DurationMs      int64  `json:"duration_ms"`
	PeakRSSBytes    int64  `json:"peak_rss_bytes"`
	Print           string `json:"print"`
}

func (r *run) addTrace(sc *scenario.Scenario, i int, w scenario.Workload, seeds sim.Seeds, proc *sbmpSide) error {
	where := fmt.Sprintf("workload %d (%s)", i, w.Name)
	cpus, err := scenario.ParseCPUList(w.CPUs)
	if err != nil {
		return fmt.Errorf("%s: cpus: %w", where, err)
	}
	for _, c := range cpus {
		if err := r.kernel.checkCPU(c); err != nil {
			return fmt.Errorf("%s: cpus: %w", where, err)
		}
	}
	ht, err := checkTrace(sc, w.File)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	rd, path, err := openTrace(sc, w.File)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	t := &traceWorkload{
		wstats: wstats{name: w.Name}, index: i, proc: proc, path: path, rd: rd, cpus: cpus,
		placement: seeds.Stream("workload/" + w.Name + "/placement"),
		startNs:   w.StartMs * 1e6, scale: w.TimeScale,
		sum: TraceSummary{File: w.File, Heaptrack: HeaptrackNumbers{
			Calls: ht.Calls, PeakBytes: ht.PeakBytes, LeakedBytes: ht.LeakedBytes, SuppressedBytes: ht.SuppressedBytes,
			DurationMs: ht.DurationMs, PeakRSSBytes: ht.PeakRSSBytes,
			Print: fmt.Sprintf("calls to allocation functions: %d; peak heap memory consumption: %s; total memory leaked: %s; suppressed leaks: %s",
				ht.Calls, heaptrack.FormatBytes(ht.PeakBytes), heaptrack.FormatBytes(ht.LeakedBytes), heaptrack.FormatBytes(ht.SuppressedBytes)),
		}},
	}
	t.kStep = r.eng.Register("trace.step."+w.Name, func(ev sim.Event) { r.stepTrace(t, ev.At) })
	r.traces[i] = t
	r.stats[i] = &t.wstats
	proc.onDeath = append(proc.onDeath, func(now int64) {
		r.noteDeath(now, &t.wstats)
		t.stop()
	})
	r.eng.Schedule(t.startNs, t.kStep, 0, 0)
	return nil
}

// checkTrace reads the whole trace once, so that a malformed or truncated
// file fails the run before it starts, and returns what heaptrack_print
// reports for it.
func checkTrace(sc *scenario.Scenario, file string) (heaptrack.Summary, error) {
	rd, _, err := openTrace(sc, file)
	if err != nil {
		return heaptrack.Summary{}, err
	}
	defer rd.Close()
	return heaptrack.Summarize(rd)
}

// openTrace opens a trace file the scenario names; closing the Reader
// closes the file.
func openTrace(sc *scenario.Scenario, file string) (*heaptrack.Reader, string, error) {
	f, path, err := openScenarioFile(sc, file)
	if err != nil {
		return nil, path, err
	}
	rd, err := heaptrack.NewReadCloser(f, path)
	return rd, path, err
}

func (t *traceWorkload) stop() {
	if !t.done {
		t.done = true
		t.sum.Command = t.rd.Command()
		t.sum.UnmatchedFrees = t.rd.Tolerated().UnmatchedFrees
		t.rd.Close()
	}
}

// atNs is when the trace's time stamp ms happens in the simulation.
func (t *traceWorkload) atNs(ms int64) int64 {
	return t.startNs + int64(float64(ms)*1e6*t.scale) + t.delayNs
}

// stepTrace replays operations until the trace's clock passes now, then
// schedules itself at the next time stamp.
func (r *run) stepTrace(t *traceWorkload, now int64) {
	if t.done {
		return
	}
	for {
		if !t.hasOp {
			op, err := t.rd.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					// checkTrace read this file to the end: it changed
					// under the run.
					panic(fmt.Sprintf("heaptrack trace %s changed during the run: %v", t.path, err))
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
			if at := t.atNs(op.TimeMs); at > now {
				t.hasOp = false
				r.eng.Schedule(at, t.kStep, 0, 0)
				return
			}
		case heaptrack.KindAlloc:
			size := int64(op.SizeBytes)
			res := t.proc.a.AllocAttempt(t.cpu(), max(size, 1), t.attempt)
			if !res.OK && res.RetryAfterNs > 0 && !t.proc.dead {
				t.retries++
				t.attempt++
				t.delayNs += res.RetryAfterNs
				r.eng.Schedule(now+res.RetryAfterNs, t.kStep, 0, 0)
				return
			}
			for int(op.Info) >= len(t.live) {
				t.live = append(t.live, nil)
			}
			if !res.OK {
				r.noteFailure(&t.wstats)
				t.live[op.Info] = append(t.live[op.Info], 0) // its free frees nothing
			} else {
				r.noteAlloc(now, &t.wstats, size)
				t.live[op.Info] = append(t.live[op.Info], res.Addr)
				t.sum.PeakBytes = max(t.sum.PeakBytes, t.liveBytes)
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
				r.noteFree(now, &t.wstats, size)
			}
		}
		t.hasOp = false
		if t.done {
			return
		}
	}
}

// cpu draws the CPU the next operation runs on.
func (t *traceWorkload) cpu() int { return t.cpus[t.placement.IntN(len(t.cpus))] }

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
