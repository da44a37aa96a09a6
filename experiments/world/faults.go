package world

import (
	"errors"
	"fmt"
	"math"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/model/kernel"
	"github.com/sbmpsim/sbmpsim/policies"
	"github.com/sbmpsim/sbmpsim/sim"
)

// faultSide injects the scenario's [[fault]]s: each starts with an event
// at at_ms and, when it has a duration, ends with another.
type faultSide struct {
	r       *run
	base    *scenario.Scenario
	faults  []*fault
	kStart  sim.Kind
	kEnd    sim.Kind
	kLeak   sim.Kind
	latBase [][]int64 // the cost model's latencies and bandwidths before any fault
	bwBase  [][]int64
}

// fault is one [[fault]] in a run.
type fault struct {
	cfg     scenario.Fault
	startNs int64
	endNs   int64 // 0: the end of the run
	active  bool
	// numa-latency: the kernel nodes whose links are affected.
	inSet []bool
	// node-offline: the kernel node.
	kernelNode int
	// leak: the target workload and the fault's own streams.
	target   int
	leakGap  float64 // mean ns between leaked objects
	gaps     sim.Stream
	sizes    sim.Stream
	threads  sim.Stream
	summary  FaultSummary
	goTarget bool
}

// FaultSummary is one fault in summary.json: when it ran and what it did.
type FaultSummary struct {
	Kind    string `json:"kind"`
	StartNs int64  `json:"start_ns"`
	EndNs   int64  `json:"end_ns"` // -1: it lasted to the end of the run
	// Error is why the fault could not act (a node offline refused with
	// EBUSY, as Linux's offline_pages fails).
	Error string `json:"error,omitempty"`
	// PagesMigrated, PagesDropped and PagesIsolated are what taking a
	// node offline moved, dropped from the page cache, and took out of
	// the free lists.
	PagesMigrated int64 `json:"pages_migrated,omitempty"`
	PagesDropped  int64 `json:"pages_dropped,omitempty"`
	PagesIsolated int64 `json:"pages_isolated,omitempty"`
	// BytesLeaked is what a leak fault allocated and never freed.
	BytesLeaked int64 `json:"bytes_leaked,omitempty"`
	// LeakFailures counts leaked allocations that failed.
	LeakFailures int64 `json:"leak_failures,omitempty"`
	// Swapped counts the processes whose allocator a policy swap replaced,
	// and SwapFlushNs the cost of flushing the old allocators' per-CPU
	// caches (the only work the swap itself does; SPEC 2.4).
	Swapped     int   `json:"swapped,omitempty"`
	SwapFlushNs int64 `json:"swap_flush_ns,omitempty"`
}

func newFaultSide(sc *scenario.Scenario, r *run) (*faultSide, error) {
	if len(sc.Faults) == 0 {
		return nil, nil
	}
	f := &faultSide{r: r, base: sc}
	f.kStart = r.eng.Register("fault.start", f.onStart)
	f.kEnd = r.eng.Register("fault.end", f.onEnd)
	f.kLeak = r.eng.Register("fault.leak", f.onLeak)
	cost := r.kernel.cost
	f.latBase = cloneMatrix(cost.latNs)
	f.bwBase = cloneMatrix(cost.bwMBs)
	seeds := sim.Seeds{Master: sc.Run.Seed}
	for i, c := range sc.Faults {
		ft := &fault{cfg: c, startNs: c.AtMs * 1e6, summary: FaultSummary{Kind: c.Kind, StartNs: c.AtMs * 1e6, EndNs: -1}}
		if c.DurationMs > 0 {
			ft.endNs = ft.startNs + c.DurationMs*1e6
			ft.summary.EndNs = ft.endNs
		}
		where := fmt.Sprintf("fault %d (%s)", i, c.Kind)
		switch c.Kind {
		case scenario.FaultNUMALatency:
			ft.inSet = make([]bool, len(r.kernel.memNodeIDs))
			if c.Nodes == "" {
				for k := range ft.inSet {
					ft.inSet[k] = true
				}
			} else {
				ids, err := scenario.ParseCPUList(c.Nodes)
				if err != nil {
					return nil, fmt.Errorf("%s: nodes: %w", where, err)
				}
				for _, id := range ids {
					k := r.kernel.kernelNodeOfID(id)
					if k < 0 {
						return nil, fmt.Errorf("%s: nodes: node %d is not a node with memory on the machine", where, id)
					}
					ft.inSet[k] = true
				}
			}
		case scenario.FaultNodeOffline:
			ft.kernelNode = r.kernel.kernelNodeOfID(c.Node)
			if ft.kernelNode < 0 {
				return nil, fmt.Errorf("%s: node %d is not a node with memory on the machine", where, c.Node)
			}
		case scenario.FaultLeak:
			ft.target = -1
			for wi, w := range sc.Workloads {
				if w.Name == c.Workload {
					ft.target = wi
				}
			}
			if ft.target < 0 {
				return nil, fmt.Errorf("%s: no workload named %q", where, c.Workload)
			}
			ft.goTarget = r.goProgs[ft.target] != nil
			if !ft.goTarget {
				sy := r.synth[ft.target]
				if sy == nil {
					return nil, fmt.Errorf("%s: workload %q cannot leak", where, c.Workload)
				}
				ft.leakGap = sy.sizes.Mean() / (c.RateMBPerS * (1 << 20)) * 1e9
				name := fmt.Sprintf("fault/%d/", i)
				ft.gaps = seeds.Stream(name + "gaps")
				ft.sizes = seeds.Stream(name + "sizes")
				ft.threads = seeds.Stream(name + "threads")
			}
		}
		f.faults = append(f.faults, ft)
		r.eng.Schedule(ft.startNs, f.kStart, int64(i), 0)
		if ft.endNs > 0 {
			r.eng.Schedule(ft.endNs, f.kEnd, int64(i), 0)
		}
	}
	return f, nil
}

func cloneMatrix(m [][]int64) [][]int64 {
	out := make([][]int64, len(m))
	for i, row := range m {
		out[i] = append([]int64(nil), row...)
	}
	return out
}

func (f *faultSide) onStart(ev sim.Event) {
	ft := f.faults[ev.A]
	ft.active = true
	switch ft.cfg.Kind {
	case scenario.FaultNUMALatency:
		f.applyLatency()
	case scenario.FaultNodeOffline:
		f.offline(ft)
	case scenario.FaultLeak:
		if ft.goTarget {
			f.r.goProgs[ft.target].setLeak(ev.At, ft.cfg.RateMBPerS*(1<<20))
			return
		}
		f.r.eng.Schedule(ev.At+f.leakGap(ft), f.kLeak, ev.A, 0)
	case scenario.FaultPolicySwap:
		f.swapPolicies(ft)
	}
}

// swapPolicies replaces the allocator of the fault's processes (every
// live one when it names none) with one running the named policies.
func (f *faultSide) swapPolicies(ft *fault) {
	p := f.base.Policy
	for _, kind := range policies.Kinds() {
		if name := ft.cfg.Policy(kind); name != "" && name != p.Name(kind) {
			p = p.With(kind, name)
		}
	}
	for _, proc := range f.r.procs {
		if proc.dead || (ft.cfg.Process != "" && ft.cfg.Process != proc.name) {
			continue
		}
		flush, err := proc.swap(p)
		if err != nil {
			panic(err) // the names were validated: a bug, loudly
		}
		ft.summary.Swapped++
		ft.summary.SwapFlushNs += flush
	}
}

func (f *faultSide) onEnd(ev sim.Event) {
	ft := f.faults[ev.A]
	ft.active = false
	switch ft.cfg.Kind {
	case scenario.FaultNUMALatency:
		f.applyLatency()
	case scenario.FaultNodeOffline:
		f.online(ft)
	case scenario.FaultLeak:
		if ft.goTarget {
			g := f.r.goProgs[ft.target]
			ft.summary.BytesLeaked = g.leakedBytes()
			g.setLeak(ev.At, 0)
		}
	}
}

func (f *faultSide) leakGap(ft *fault) int64 {
	return max(1, int64(math.Round(ft.gaps.Exp(ft.leakGap))))
}

// onLeak allocates one leaked object in the target synthetic workload.
func (f *faultSide) onLeak(ev sim.Event) {
	ft := f.faults[ev.A]
	w := f.r.synth[ft.target]
	if !ft.active || w.proc.dead {
		return
	}
	f.r.eng.Schedule(ev.At+f.leakGap(ft), f.kLeak, ev.A, 0)
	before, failed := w.leakedBytes, w.failures
	f.r.allocate(ev.At, int64(ft.target), ft.threads.IntN(len(w.threads)), w.sizes.Draw(&ft.sizes), retryLeakBit, ev.At)
	ft.summary.BytesLeaked += w.leakedBytes - before
	ft.summary.LeakFailures += int64(w.failures - failed)
}

// applyLatency sets the cost model to its base values times the factors
// of the numa-latency faults active now, on the cross-node links between
// nodes of each fault's set.
func (f *faultSide) applyLatency() {
	c := f.r.kernel.cost
	for i := range c.latNs {
		for j := range c.latNs[i] {
			lat, bw := float64(f.latBase[i][j]), float64(f.bwBase[i][j])
			for _, ft := range f.faults {
				if ft.active && ft.cfg.Kind == scenario.FaultNUMALatency && i != j && ft.inSet[i] && ft.inSet[j] {
					lat *= ft.cfg.LatencyFactor
					bw /= ft.cfg.BandwidthFactor
				}
			}
			c.latNs[i][j] = int64(math.Round(lat))
			c.bwMBs[i][j] = max(1, int64(math.Round(bw)))
		}
	}
}

func (f *faultSide) summary() []FaultSummary {
	out := make([]FaultSummary, len(f.faults))
	for i, ft := range f.faults {
		out[i] = ft.summary
		if ft.cfg.Kind == scenario.FaultLeak && ft.goTarget && ft.active {
			out[i].BytesLeaked = f.r.goProgs[ft.target].leakedBytes()
		}
	}
	return out
}

// offline takes the fault's node offline. A refusal (EBUSY) is recorded;
// the node then stays online and the fault's end does nothing.
func (f *faultSide) offline(ft *fault) {
	res, err := f.r.kernel.m.OfflineNode(ft.kernelNode)
	if err != nil {
		var oe *kernel.OfflineError
		if errors.As(err, &oe) {
			res = oe.Done
		}
		ft.summary.Error = err.Error()
	}
	ft.summary.PagesMigrated = res.MigratedAnonPages + res.MigratedMlockedPages
	ft.summary.PagesDropped = res.DroppedFilePages
	ft.summary.PagesIsolated = res.IsolatedFreePages
	f.r.kernel.stallNs += res.StallNs
	f.r.kernel.wakeKswapd(f.r.eng.Now())
}

// online brings the fault's node back, if it went offline.
func (f *faultSide) online(ft *fault) {
	if f.r.kernel.m.NodeOnline(ft.kernelNode) {
		return
	}
	if err := f.r.kernel.m.OnlineNode(ft.kernelNode); err != nil {
		panic(err) // the node was offline: a bug, loudly
	}
}
