package world

import (
	"errors"
	"math"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/model/kernel"
	"github.com/sbmpsim/sbmpsim/sim"
)

// faultConfig is one [[fault]], compiled: its kind, its window and what
// it acts on, resolved to the run's nodes, workloads and policies.
type faultConfig struct {
	index   int
	kind    string // scenario.FaultNUMALatency, FaultNodeOffline, FaultLeak or FaultPolicySwap
	startNs int64
	endNs   int64 // 0: the end of the run
	// numa-latency: the kernel nodes whose links are affected, and by
	// how much.
	inSet           []bool
	latencyFactor   float64
	bandwidthFactor float64
	// node-offline: the kernel node.
	kernelNode int
	// leak: the target workload (a Go program or a synthetic workload),
	// its rate, and for a synthetic target the mean gap between leaked
	// objects.
	target      int
	goTarget    bool
	bytesPerS   float64
	leakGapNs   float64
	streamsName string // prefix of the fault's own streams
	// policy-swap: the process it swaps (all when empty) and the
	// policies it installs.
	process string
	swapTo  policySet
}

// fault is one fault in a run.
type fault struct {
	cfg     *faultConfig
	active  bool
	gaps    sim.Stream
	sizes   sim.Stream
	threads sim.Stream
	summary FaultSummary
}

// faultSide injects the scenario's faults: each starts with an event at
// its start and, when it has a duration, ends with another.
type faultSide struct {
	eng    *sim.Engine
	kernel *kernelSide
	cost   *numaCost
	procs  []*sbmpSide
	synth  *synthDriver
	progs  []*goWorkload // by workload index
	faults []*fault
	kStart sim.Kind
	kEnd   sim.Kind
	kLeak  sim.Kind
}

// newFaultSide registers the faults' events and schedules every fault's
// start and end.
func newFaultSide(eng *sim.Engine, cfgs []faultConfig, kernel *kernelSide, cost *numaCost, procs []*sbmpSide, synth *synthDriver, progs []*goWorkload, seeds sim.Seeds) *faultSide {
	f := &faultSide{eng: eng, kernel: kernel, cost: cost, procs: procs, synth: synth, progs: progs}
	f.kStart = eng.Register("fault.start", f.onStart)
	f.kEnd = eng.Register("fault.end", f.onEnd)
	f.kLeak = eng.Register("fault.leak", f.onLeak)
	for i := range cfgs {
		c := &cfgs[i]
		ft := &fault{cfg: c, summary: FaultSummary{Kind: c.kind, StartNs: c.startNs, EndNs: -1}}
		if c.endNs > 0 {
			ft.summary.EndNs = c.endNs
		}
		if c.kind == scenario.FaultLeak && !c.goTarget {
			ft.gaps = seeds.Stream(c.streamsName + "gaps")
			ft.sizes = seeds.Stream(c.streamsName + "sizes")
			ft.threads = seeds.Stream(c.streamsName + "threads")
		}
		f.faults = append(f.faults, ft)
		eng.Schedule(c.startNs, f.kStart, int64(i), 0)
		if c.endNs > 0 {
			eng.Schedule(c.endNs, f.kEnd, int64(i), 0)
		}
	}
	return f
}

func (f *faultSide) onStart(ev sim.Event) {
	ft := f.faults[ev.A]
	ft.active = true
	c := ft.cfg
	switch c.kind {
	case scenario.FaultNUMALatency:
		f.applyLatency()
	case scenario.FaultNodeOffline:
		f.offline(ft)
	case scenario.FaultLeak:
		if c.goTarget {
			f.progs[c.target].setLeak(ev.At, c.bytesPerS)
			return
		}
		f.eng.Schedule(ev.At+f.leakGap(ft), f.kLeak, ev.A, 0)
	case scenario.FaultPolicySwap:
		f.swapPolicies(ft)
	}
}

// swapPolicies replaces the allocator of the fault's processes (every
// live one when it names none) with one running the fault's policies.
func (f *faultSide) swapPolicies(ft *fault) {
	for _, proc := range f.procs {
		if proc.dead || (ft.cfg.process != "" && ft.cfg.process != proc.cfg.name) {
			continue
		}
		flush, err := proc.swap(ft.cfg.swapTo)
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
	c := ft.cfg
	switch c.kind {
	case scenario.FaultNUMALatency:
		f.applyLatency()
	case scenario.FaultNodeOffline:
		f.online(ft)
	case scenario.FaultLeak:
		if c.goTarget {
			g := f.progs[c.target]
			ft.summary.BytesLeaked = g.leakedBytes()
			g.setLeak(ev.At, 0)
		}
	}
}

func (f *faultSide) leakGap(ft *fault) int64 {
	return max(1, int64(math.Round(ft.gaps.Exp(ft.cfg.leakGapNs))))
}

// onLeak allocates one leaked object in the target synthetic workload.
func (f *faultSide) onLeak(ev sim.Event) {
	ft := f.faults[ev.A]
	if !ft.active || !f.synth.alive(ft.cfg.target) {
		return
	}
	f.eng.Schedule(ev.At+f.leakGap(ft), f.kLeak, ev.A, 0)
	leaked, failed := f.synth.leak(ev.At, ft.cfg.target, &ft.threads, &ft.sizes)
	ft.summary.BytesLeaked += leaked
	if failed {
		ft.summary.LeakFailures++
	}
}

// applyLatency sets the cost model to its base values times the factors
// of the numa-latency faults active now, on the cross-node links between
// nodes of each fault's set.
func (f *faultSide) applyLatency() {
	c := f.cost
	for i := range c.latNs {
		for j := range c.latNs[i] {
			lat, bw := float64(c.baseLatNs[i][j]), float64(c.baseBwMBs[i][j])
			for _, ft := range f.faults {
				fc := ft.cfg
				if ft.active && fc.kind == scenario.FaultNUMALatency && i != j && fc.inSet[i] && fc.inSet[j] {
					lat *= fc.latencyFactor
					bw /= fc.bandwidthFactor
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
		if c := ft.cfg; c.kind == scenario.FaultLeak && c.goTarget && ft.active {
			out[i].BytesLeaked = f.progs[c.target].leakedBytes()
		}
	}
	return out
}

// offline takes the fault's node offline. A refusal (EBUSY) is recorded;
// the node then stays online and the fault's end does nothing.
func (f *faultSide) offline(ft *fault) {
	res, err := f.kernel.m.OfflineNode(ft.cfg.kernelNode)
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
	f.kernel.wakeKswapd(f.eng.Now())
}

// online brings the fault's node back, if it went offline.
func (f *faultSide) online(ft *fault) {
	if f.kernel.m.NodeOnline(ft.cfg.kernelNode) {
		return
	}
	if err := f.kernel.m.OnlineNode(ft.cfg.kernelNode); err != nil {
		panic(err) // the node was offline: a bug, loudly
	}
}
