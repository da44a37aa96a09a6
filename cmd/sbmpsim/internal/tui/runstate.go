package tui

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/sbmp"
)

// pageMiB converts pages of 4 KiB to MiB.
const pageMiB = 4096.0 / (1 << 20)

// runStatus is where a run is.
type runStatus int

const (
	runNone runStatus = iota
	runRunning
	runDone
	runStopped
	runFailed
)

func (s runStatus) String() string {
	return [...]string{"no run yet", "running", "finished", "stopped", "failed"}[s]
}

// nodeSeries is one memory node's pages by kind over the run, in MiB.
type nodeSeries struct {
	id                     int
	managed                float64
	free, file, anon, rest []float64 // rest: managed less the other three
}

// procView is one SBMP process at the latest sample.
type procView struct {
	name           string
	dead           bool
	tier0Free      []int
	fsm            []sbmp.State
	alerts         [3]sbmp.Alert
	alertsAtNs     int64
	degraded       bool
	degradeEntries int64
	fallbacks      int64
	heldMiB        float64
	failures       int64
}

// runState is what the run view shows: the samples an Observer copied out
// of one run so far, and at the end its summary. The run's goroutine
// writes it and the UI reads it, under mu.
type runState struct {
	mu         sync.Mutex
	name       string
	seed       uint64
	durationNs int64
	status     runStatus
	err        error
	started    time.Time
	wall       time.Duration

	nowNs    int64
	ts       []float64 // sample times, s
	nodes    []nodeSeries
	tierCol  [3]int // timeseries columns of tier0..2 allocations, -1 if absent
	tierPrev [3]float64
	tierRate [3][]float64 // allocations per second between samples
	procs    []procView
	oom      []world.OOMEvent
	summary  *world.Summary
}

func newRunState(name string, seed uint64, durationNs int64, now time.Time) *runState {
	return &runState{name: name, seed: seed, durationNs: durationNs, status: runRunning, started: now, tierCol: [3]int{-1, -1, -1}}
}

// observe copies what the run view needs out of one sample. It runs on
// the simulation's goroutine.
func (r *runState) observe(sn *world.Snapshot) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ts) == 0 {
		for i, name := range []string{"tier0_allocs", "tier1_allocs", "tier2_allocs"} {
			r.tierCol[i] = slices.Index(sn.Columns, name)
		}
		for _, n := range sn.Nodes {
			r.nodes = append(r.nodes, nodeSeries{id: n.ID, managed: float64(n.ManagedPages) * pageMiB})
		}
	}
	t := float64(sn.TimeNs) / 1e9
	dt := 0.0
	if len(r.ts) > 0 {
		dt = t - r.ts[len(r.ts)-1]
	}
	r.ts = append(r.ts, t)
	r.nowNs = sn.TimeNs
	for i := range r.nodes {
		if i >= len(sn.Nodes) {
			break
		}
		n, s := sn.Nodes[i], &r.nodes[i]
		free, file, anon := float64(n.FreePages)*pageMiB, float64(n.FilePages)*pageMiB, float64(n.AnonPages)*pageMiB
		s.free = append(s.free, free)
		s.file = append(s.file, file)
		s.anon = append(s.anon, anon)
		s.rest = append(s.rest, max(0, s.managed-free-file-anon))
	}
	for k, col := range r.tierCol {
		v := 0.0
		if col >= 0 {
			v = sn.Row[col]
		}
		rate := 0.0
		if dt > 0 {
			rate = (v - r.tierPrev[k]) / dt
		}
		r.tierPrev[k] = v
		r.tierRate[k] = append(r.tierRate[k], rate)
	}
	if len(r.procs) != len(sn.Processes) {
		r.procs = make([]procView, len(sn.Processes))
	}
	for i, p := range sn.Processes {
		v := &r.procs[i]
		v.name, v.dead, v.degraded = p.Name, p.Dead, p.Degraded
		v.tier0Free = append(v.tier0Free[:0], p.Tier0Free...)
		v.fsm = append(v.fsm[:0], p.FSM...)
		v.alerts, v.alertsAtNs = p.Alerts, p.AlertsAtNs
		v.degradeEntries, v.fallbacks, v.failures = p.Stats.DegradeEntries, p.Stats.Tier2Fallbacks, p.Stats.AllocFailures
		v.heldMiB = float64(p.HeldPages) * pageMiB
	}
	r.oom = append(r.oom[:0], sn.OOMEvents...)
}

// finish records how the run ended.
func (r *runState) finish(res *world.Result, err error, stopped bool, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.wall = now.Sub(r.started)
	switch {
	case stopped:
		r.status = runStopped
	case err != nil:
		r.status, r.err = runFailed, err
	default:
		r.status = runDone
		s := res.Summary
		r.summary = &s
		r.oom = slices.Clone(s.OOMEvents)
	}
}

// fail records a panic of the run as its error.
func (r *runState) fail(p any, stack []byte, now time.Time) {
	r.finish(nil, fmt.Errorf("the run panicked: %v\n%s", p, stack), false, now)
}

// oomLine is how the views print an OOM kill: the time in seconds and,
// exactly, in nanoseconds as summary.json's oom_events[].time_ns holds it.
func oomLine(e world.OOMEvent) string {
	return fmt.Sprintf("OOM kill at %.3f s (time_ns %d): %s pid %d %q, points %d",
		float64(e.TimeNs)/1e9, e.TimeNs, e.Scope, e.VictimPID, e.VictimComm, e.VictimPoints)
}
