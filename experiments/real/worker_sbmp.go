package real

import (
	"container/heap"
	"errors"
	"fmt"
	"math/bits"
	"sync"
	"time"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/model/workload"
	"github.com/sbmpsim/sbmpsim/policies"
	"github.com/sbmpsim/sbmpsim/sbmp"
	"github.com/sbmpsim/sbmpsim/sbmp/arena"
	"github.com/sbmpsim/sbmpsim/sim"
)

// Samplers are the random quantities of one synthetic workload: when
// objects arrive, how large they are and how long they live.
type Samplers struct {
	Arrivals  *workload.Arrivals
	Sizes     workload.Size
	Lifetimes workload.Lifetime
}

// SamplerFunc builds the samplers of workload index of sc as the
// simulation builds them, so that a real run draws what a simulated run
// of the same seed draws. The simulation's compile step owns that
// mapping; a real run takes it as a function rather than keeping a copy.
type SamplerFunc func(sc *scenario.Scenario, index int) (Samplers, error)

// maxBurst bounds the allocations one pass of a synthetic workload makes
// before it looks at the clock and at stop again, when it runs behind.
const maxBurst = 10000

// lateNs is how late an arrival may be handled and still count as on
// time: the timer's and the scheduler's slack. Later than that, the
// workload was blocked (loop "closed" drops the arrival, "queued" issues
// it late).
const lateNs = int64(2 * time.Millisecond)

// sbmpJob is an SBMP process: the real allocator over real memory
// (sbmp/arena's Heap, one shard per CPU the process's workloads name),
// driven in real time by its synthetic workloads, each with the
// simulation's streams ("workload/NAME/arrivals", ".../sizes",
// ".../lifetimes", ".../leak"). Each object's pages are written to when
// it is allocated, so the process's RSS is what SBMP hands out.
type sbmpJob struct {
	spec  *workerSpec
	cfgs  []sbmp.Config
	heap  *arena.Heap
	loads []*synthLoad
	// hugepage: the scenario's sbmp.madvise_hugepage, which the arena
	// honours by madvising its Tier-1 blocks MADV_HUGEPAGE.
	hugepage bool
}

// synthLoad is one synthetic workload in an SBMP process.
type synthLoad struct {
	s                           Samplers
	arrivals, sizes, life, leak sim.Stream
	startNs, stopNs             int64
	// closed: arrivals that come while the workload is blocked are not
	// issued (loop "closed"); otherwise they are issued late ("queued").
	closed bool
	mu     sync.Mutex
	sum    world.WorkloadSummary
}

func newSBMPJob(spec *workerSpec, samplers SamplerFunc) (*sbmpJob, error) {
	if samplers == nil {
		return nil, errors.New("no sampler builder: synthetic workloads cannot run")
	}
	sc, err := scenario.Parse(spec.Source, spec.Scenario)
	if err != nil {
		return nil, err
	}
	j := &sbmpJob{spec: spec, hugepage: sc.SBMP.MadviseHugepage}
	seeds := sim.Seeds{Master: sc.Run.Seed}
	for _, i := range spec.Workloads {
		if i < 0 || i >= len(sc.Workloads) {
			return nil, fmt.Errorf("no workload %d", i)
		}
		w := sc.Workloads[i]
		s, err := samplers(sc, i)
		if err != nil {
			return nil, fmt.Errorf("workload %d (%s): %w", i, w.Name, err)
		}
		prefix := "workload/" + w.Name + "/"
		l := &synthLoad{
			s: s, arrivals: seeds.Stream(prefix + "arrivals"), sizes: seeds.Stream(prefix + "sizes"),
			life: seeds.Stream(prefix + "lifetimes"), leak: seeds.Stream(prefix + "leak"),
			startNs: w.StartMs * 1e6, stopNs: spec.DurationNs, closed: w.Loop == scenario.LoopClosed,
			sum: world.WorkloadSummary{Name: w.Name, Kind: w.Kind},
		}
		if w.StopMs > 0 {
			l.stopNs = min(l.stopNs, w.StopMs*1e6)
		}
		j.loads = append(j.loads, l)
	}
	return j, j.configs(sc)
}

// configs builds each shard's allocator configuration with its own
// policy instances (policies keep state).
func (j *sbmpJob) configs(sc *scenario.Scenario) error {
	for range max(1, j.spec.Shards) {
		cfg := sbmp.Config{
			SlotSizes: sc.SBMP.SlotSizes, Tier0CapacitySlots: sc.SBMP.Tier0CapacitySlots,
			BlockOrder: bits.Len(uint(sc.SBMP.Tier1BlockKiB/4)) - 1,
		}
		var err error
		if cfg.Merge, err = policies.Merge(sc.Policy.Merge, sc.Policy.Params(policies.KindMerge)); err != nil {
			return fmt.Errorf("policy.merge: %w", err)
		}
		if cfg.Refill, err = policies.Refill(sc.Policy.Refill, sc.Policy.Params(policies.KindRefill)); err != nil {
			return fmt.Errorf("policy.refill: %w", err)
		}
		if cfg.Degrade, err = policies.Degrade(sc.Policy.Degrade, sc.Policy.Params(policies.KindDegrade)); err != nil {
			return fmt.Errorf("policy.degrade: %w", err)
		}
		j.cfgs = append(j.cfgs, cfg)
	}
	return nil
}

func (j *sbmpJob) setup() error {
	var err error
	j.heap, err = arena.NewHeap(arena.Options{
		Shards: len(j.cfgs), Arena: arena.ArenaConfig{SizeBytes: j.spec.ArenaBytes, Hugepage: j.hugepage},
		Config: func(i int) sbmp.Config { return j.cfgs[i] },
	})
	return err
}

func (j *sbmpJob) run(start time.Time, stop <-chan struct{}, progress func(workerMsg)) (workerMsg, error) {
	errs := make([]error, len(j.loads))
	var wg sync.WaitGroup
	for i, l := range j.loads {
		wg.Go(func() { errs[i] = l.run(j.heap, start, stop) })
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTicker(progressEvery)
	defer t.Stop()
	for {
		select {
		case <-done:
			return j.report(), errors.Join(errs...)
		case <-t.C:
			progress(j.report())
		}
	}
}

// report is the process's counters now.
func (j *sbmpJob) report() workerMsg {
	var m workerMsg
	for _, l := range j.loads {
		l.mu.Lock()
		m.Workloads = append(m.Workloads, l.sum)
		l.mu.Unlock()
	}
	for _, s := range j.heap.ShardStats() {
		m.TierAllocs.Tier0 += uint64(s.Tier0Allocs)
		m.TierAllocs.Tier1 += uint64(s.Tier1Allocs)
		m.TierAllocs.Tier2 += uint64(s.Tier2Allocs)
		m.Fallbacks += s.FallbackCount
	}
	return m
}

// due is an object and when it is freed.
type due struct {
	atNs int64
	b    []byte
}

// dueHeap orders objects by the time they are freed.
type dueHeap []due

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, k int) bool { return h[i].atNs < h[k].atNs }
func (h dueHeap) Swap(i, k int)      { h[i], h[k] = h[k], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(due)) }
func (h *dueHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// run allocates at the workload's arrivals and frees each object when
// its lifetime ends, until stop closes. Time is the wall clock since
// start; frees that are late are done at once, up to maxBurst at a time,
// and so are arrivals, unless the loop is closed and they are later than
// lateNs: those came while the workload was blocked, and are not issued.
func (l *synthLoad) run(h *arena.Heap, start time.Time, stop <-chan struct{}) error {
	var frees dueHeap
	next, more := l.s.Arrivals.Next(&l.arrivals, l.startNs)
	more = more && next < l.stopNs
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		now := int64(time.Since(start))
		for n := 0; n < maxBurst && len(frees) > 0 && frees[0].atNs <= now; n++ {
			d := heap.Pop(&frees).(due)
			if err := h.Free(d.b); err != nil {
				return err
			}
			l.freed(int64(len(d.b)))
		}
		for n := 0; n < maxBurst && more && next <= now; n++ {
			if late := now-next > lateNs; late && l.closed {
				l.count(&l.sum.RequestsNotIssued)
			} else {
				if late {
					l.count(&l.sum.RequestsQueued)
				}
				if b, life, ok := l.allocate(h); ok && life > 0 {
					heap.Push(&frees, due{atNs: next + life, b: b})
				}
			}
			next, more = l.s.Arrivals.Next(&l.arrivals, next)
			more = more && next < l.stopNs
		}
		wake := now + int64(tick)
		if more {
			wake = min(wake, next)
		}
		if len(frees) > 0 {
			wake = min(wake, frees[0].atNs)
		}
		if wake > now && !sleepUntil(start.Add(time.Duration(wake)), stop) {
			return nil
		}
	}
}

// allocate allocates one object of a drawn size and writes to each of
// its pages; life is its lifetime, 0 for an object never freed.
func (l *synthLoad) allocate(h *arena.Heap) (b []byte, life int64, ok bool) {
	size := l.s.Sizes.Draw(&l.sizes)
	b = h.Alloc(int(size))
	l.mu.Lock()
	defer l.mu.Unlock()
	if b == nil {
		l.sum.AllocFailures++
		return nil, 0, false
	}
	for off := 0; off < len(b); off += pageBytes {
		b[off] = 1
	}
	l.sum.Allocs++
	l.sum.BytesAllocated += size
	l.sum.BytesLiveEnd += size
	l.sum.ObjectsLiveEnd++
	if lifeNs, freed := l.s.Lifetimes.Draw(&l.life, &l.leak); freed {
		return b, lifeNs, true
	}
	return b, 0, true
}

// count adds one to a counter of the workload's summary.
func (l *synthLoad) count(c *uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	*c++
}

func (l *synthLoad) freed(size int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sum.Frees++
	l.sum.BytesLiveEnd -= size
	l.sum.ObjectsLiveEnd--
}
