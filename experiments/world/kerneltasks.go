package world

import (
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/model/kernel"
	"github.com/sbmpsim/sbmpsim/sim"
)

// faultTickNs is how often a task faults in its next batch of pages, and
// a kmalloc leak allocates what is due.
const faultTickNs = 1_000_000 // 1 ms

// taskConfig is one process of a [[workload]] of kind "task", "mlock" or
// "page-cache" (count > 1 makes several), compiled.
type taskConfig struct {
	index int    // the workload's index
	kind  string // scenario.KindTask, KindMlock or KindPageCache
	pid   int64
	// name is the task's name in summaries; its comm is name cut to 15
	// bytes, as a Linux comm holds.
	name        string
	cpu, node   int // where it runs, and its preferred kernel node
	oomScoreAdj int64
	cgroup      string
	startNs     int64
	// pagesPerTick is its rate in pages per tick; the fractions carry
	// over from tick to tick (task.due).
	pagesPerTick float64
	targetPages  int64 // 0: no limit
	// fileSetPages is a page-cache reader's file set, of which reads
	// fall on the first hotPages with probability hotFraction (else
	// anywhere); pageCachePages is what any other task reads into the
	// page cache at its start.
	fileSetPages   int64
	hotPages       int64
	hotFraction    float64
	pageCachePages int64
	// touchIntervalNs is how often a task sweeps its whole memory,
	// touching each page once; 0 never touches.
	touchIntervalNs int64
	// fleet: the task is one of a count > 1 workload's tasks.
	fleet bool
	loop  loopMode
	// psiGroups are the PSI groups it stalls in.
	psiGroups []int
}

// task is one task in a run.
type task struct {
	cfg         *taskConfig
	got         int64
	dead        bool
	stallNs     int64
	failedTicks int64 // ticks that got fewer pages than asked
	// A page-cache reader reads pages of file, drawn from rng; reads,
	// misses and refaults count pages read, pages that had to come from
	// disk, and those of them the kernel found a shadow entry for.
	file                    kernel.FileID
	rng                     sim.Stream
	reads, misses, refaults int64
	// sweepLeft is what the sweep in progress has still to touch, and
	// nextSweepNs when the next one starts (touch_interval_ms after the
	// start of the last).
	sweepLeft, nextSweepNs int64
	// openNs is the open-loop time of its next tick (queued loop: the
	// ticks it missed while blocked are caught up).
	openNs int64
	// due is the pages its rate owes it so far, not yet faulted or read.
	due    float64
	psiEnt int
}

// taskDriver runs the tasks: each faults in its pages (or reads its files)
// every faultTickNs, delayed by the stalls its allocations incur.
type taskDriver struct {
	eng    *sim.Engine
	psi    *pressure
	seeds  sim.Seeds
	k      *kernelSide
	kFault sim.Kind
	tasks  []*task
}

// newTaskDriver registers the tasks' fault event; add starts each task.
func newTaskDriver(eng *sim.Engine, psi *pressure, seeds sim.Seeds) *taskDriver {
	d := &taskDriver{eng: eng, psi: psi, seeds: seeds}
	d.kFault = eng.Register("task.fault", d.onFault)
	return d
}

// add starts a task on k: the kernel learns of it, it reads its start-up
// page cache, and its first tick is scheduled.
func (d *taskDriver) add(k *kernelSide, c *taskConfig) error {
	d.k = k
	t := &task{cfg: c, openNs: c.startNs, nextSweepNs: c.startNs + c.touchIntervalNs, psiEnt: d.psi.entity(c.psiGroups, c.cpu, false)}
	comm := c.name
	if len(comm) > 15 {
		comm = comm[:15] // a Linux comm holds 15 bytes
	}
	if err := k.m.AddTask(kernel.Task{PID: c.pid, Comm: comm, OOMScoreAdj: c.oomScoreAdj, Cgroup: c.cgroup}); err != nil {
		return err
	}
	if err := k.m.PlaceTask(c.pid, c.cpu); err != nil {
		return err
	}
	d.tasks = append(d.tasks, t)
	k.onKill(c.pid, func(now int64) {
		t.dead = true
		d.psi.die(t.psiEnt, now)
	})
	if c.pageCachePages > 0 {
		if _, _, _, err := k.m.AllocFile(c.pid, c.node, c.pageCachePages); err != nil {
			return err
		}
	}
	if c.kind == scenario.KindPageCache {
		f, err := k.m.AddFile(c.fileSetPages)
		if err != nil {
			return err
		}
		t.file, t.rng = f, d.seeds.Stream("workload/"+c.name+"/reads")
	}
	d.eng.Schedule(c.startNs, d.kFault, int64(len(d.tasks)-1), 0)
	return nil
}

// onFault runs one tick of task A: an anonymous or mlocked task faults in
// its next pages; a page-cache reader reads its next pages; a task with
// touch_interval_ms sweeps its memory when a sweep is due. Direct-reclaim
// stalls delay the task's next tick; an OOM kill is recorded and its reap
// scheduled.
func (d *taskDriver) onFault(ev sim.Event) {
	t := d.tasks[ev.A]
	if t.dead {
		return
	}
	c := t.cfg
	var r tickResult
	sweeping := t.sweepLeft > 0 && c.loop != loopIgnore
	if !sweeping {
		r = d.grow(t, ev.At)
	}
	if r.err == nil && r.oom == nil && c.touchIntervalNs > 0 && c.kind != scenario.KindPageCache {
		if t.sweepLeft == 0 && ev.At >= t.nextSweepNs {
			kt, _ := d.k.m.Task(c.pid)
			t.sweepLeft = kt.RSSAnonPages + kt.SwapEntries
			t.nextSweepNs = ev.At + c.touchIntervalNs
		}
		if t.sweepLeft > 0 {
			s := d.sweep(t)
			r.stall, r.memStall, r.ioWait, r.oom, r.err = r.stall+s.stall, r.memStall+s.memStall, r.ioWait+s.ioWait, s.oom, s.err
		}
	}
	if r.err != nil {
		// The task was killed by an earlier OOM: it stops.
		t.dead = true
		return
	}
	t.stallNs += r.stall
	d.psi.tick(t.psiEnt, c.cpu, ev.At, r.memStall, r.ioWait, r.stall)
	d.k.wakeKswapd(ev.At)
	if r.oom != nil {
		d.k.recordOOM(ev.At, r.oom)
	}
	if t.dead || r.idle {
		return
	}
	// A task is paced by its tick: a stall longer than the tick delays
	// the next one (closed, queued), a shorter one is absorbed by the
	// wait for it, as a timer-paced process's is. A sweep in progress
	// goes on as soon as its last chunk is done: the task is busy.
	next := ev.At + faultTickNs
	switch {
	case c.loop == loopIgnore:
	case t.sweepLeft > 0:
		next = ev.At + max(r.stall, 1)
	default:
		next = ev.At + max(faultTickNs, r.stall)
	}
	d.eng.Schedule(next, d.kFault, ev.A, 0)
}

// tickResult is what a task's tick (or a chunk of its sweep) cost: its
// stall, the memory-stall part of it and the part waiting on I/O (the
// rest is CPU time), an OOM it met, an error (the task was killed), and
// idle: a task at its target that has nothing more to do.
type tickResult struct {
	stall, memStall, ioWait int64
	oom                     *kernel.OOMEvent
	err                     error
	idle                    bool
}

// grow is a tick's growth of task t at now: the pages its rate owes it
// are faulted in (or, for a page-cache reader, read).
func (d *taskDriver) grow(t *task, now int64) tickResult {
	k, c := d.k, t.cfg
	var r tickResult
	ticks := int64(1)
	if c.loop == loopQueued {
		// The ticks it missed while blocked are due now.
		ticks = max(1, (now-t.openNs)/faultTickNs+1)
	}
	t.openNs += ticks * faultTickNs
	t.due += float64(float64(ticks) * c.pagesPerTick)
	pages := int64(t.due)
	t.due -= float64(pages)
	if c.kind == scenario.KindPageCache {
		r.stall, r.memStall, r.ioWait, r.oom, r.err = d.readFiles(t, pages)
		return r
	}
	want := pages
	if c.targetPages > 0 {
		want = min(want, c.targetPages-t.got)
	}
	if want <= 0 {
		// At its target: it keeps ticking only to sweep.
		r.idle = c.touchIntervalNs == 0
		return r
	}
	var got int64
	if c.kind == scenario.KindMlock {
		got, r.stall, r.oom, r.err = k.m.AllocMlocked(c.pid, c.node, want)
	} else {
		got, r.stall, r.oom, r.err = k.m.AllocAnon(c.pid, c.node, want)
	}
	if got < want {
		t.failedTicks++
	}
	t.got += got
	r.memStall = r.stall
	return r
}

// readFiles is a tick of a page-cache reader: it reads pages pages of
// its file set (what its rate owes it), each on the hot set with probability
// hotFraction and uniformly on the whole set otherwise, page by page
// through the kernel's page cache (ReadFile: hits, misses read from disk,
// refaults of evicted pages). The page cache is not the task's RSS. It
// returns the stall, the part of it PSI counts as a memory stall
// (reclaim, and the read of a refaulting workingset page:
// psi_memstall_enter in folio_wait_bit_common) and the read of an
// ordinary miss, which is I/O wait.
func (d *taskDriver) readFiles(t *task, pages int64) (stall, memStall, ioWait int64, oom *kernel.OOMEvent, err error) {
	c := t.cfg
	readNs := d.k.m.Config().Cost.ReadNsPerPage
	for range pages {
		idx := int64(t.rng.IntN(int(c.hotPages)))
		if c.hotFraction < 1 && t.rng.Float64() >= c.hotFraction {
			idx = int64(t.rng.IntN(int(c.fileSetPages)))
		}
		r, err := d.k.m.ReadFile(c.pid, t.file, idx, c.node)
		if err != nil {
			return stall, memStall, ioWait, nil, err
		}
		t.reads++
		stall += r.StallNs
		memStall += r.StallNs - r.CPUNs
		if !r.Hit && r.OK {
			t.misses++
			if !r.Restored {
				memStall -= readNs
				ioWait += readNs
			}
		}
		if r.Refault {
			t.refaults++
		}
		if !r.OK {
			t.failedTicks++
			return stall, memStall, ioWait, r.OOM, nil
		}
	}
	return stall, memStall, ioWait, nil, nil
}

// sweepChunkPages is how many pages of a sweep one event touches. The
// real worker (experiments/real) writes to all its pages in one go every
// touch_interval_ms, and the time that takes is time it does not grow;
// the simulation runs the sweep as consecutive chunks, each taking what
// it stalled, so that other tasks' events interleave with a long sweep
// as they run beside it on a host. 512 pages is a huge page's worth.
const sweepChunkPages = 512

// sweep touches the next chunk of task t's sweep over its memory (its
// resident and swapped pages, counted when the sweep started): resident
// pages are marked accessed, swapped ones faulted back in (TouchAnon). It
// returns the chunk's stall and its memory-stall part: reclaim, and the
// swap read of a workingset page (swap_read_folio's psi_memstall_enter).
func (d *taskDriver) sweep(t *task) tickResult {
	n := min(t.sweepLeft, sweepChunkPages)
	r, err := d.k.m.TouchAnon(t.cfg.pid, n)
	if err != nil {
		return tickResult{err: err}
	}
	t.sweepLeft -= n
	if r.Touched < n {
		// A page could not come back (an OOM, or a charge that failed):
		// the sweep ends, and the next starts where this one stopped.
		t.sweepLeft = 0
	}
	return tickResult{stall: r.StallNs, memStall: r.StallNs - r.IOWaitNs - r.CPUNs, ioWait: r.IOWaitNs, oom: r.OOM}
}

// appendSummaries appends one line per task workload to out, a fleet
// (count > 1) summed over its tasks, in workload order.
func (d *taskDriver) appendSummaries(out []KernelWorkloadSummary) []KernelWorkloadSummary {
	first := len(out)
	at := map[int]int{} // workload index -> position in out
	for _, t := range d.tasks {
		c := t.cfg
		p, ok := at[c.index]
		if !ok {
			name := c.name
			if i := strings.LastIndexByte(name, '-'); i > 0 && c.fleet {
				name = name[:i]
			}
			out = append(out, KernelWorkloadSummary{Name: name, Kind: c.kind})
			p = len(out) - 1 - first
			at[c.index] = p
		}
		s := &out[first+p]
		s.Tasks++
		s.PagesGot += t.got
		s.StallNs += t.stallNs
		s.FailedTicks += t.failedTicks
		s.PagesRead += t.reads
		s.PagesMissed += t.misses
		s.Refaults += t.refaults
		if t.dead {
			s.Killed++
		}
	}
	return out
}
