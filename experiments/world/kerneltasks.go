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
	// touchDue is the part of a page a touching task owes its sweep.
	touchDue float64
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
	t := &task{cfg: c, openNs: c.startNs, psiEnt: d.psi.entity(c.psiGroups, false)}
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
// its next pages; a page-cache reader reads its next pages. Direct-reclaim
// stalls delay the task's next tick; an OOM kill is recorded and its reap
// scheduled.
func (d *taskDriver) onFault(ev sim.Event) {
	t := d.tasks[ev.A]
	if t.dead {
		return
	}
	k, c := d.k, t.cfg
	var got, stall, memStall int64
	var oom *kernel.OOMEvent
	var err error
	ticks := int64(1)
	if c.loop == loopQueued {
		// The ticks it missed while blocked are due now.
		ticks = max(1, (ev.At-t.openNs)/faultTickNs+1)
	}
	t.openNs += ticks * faultTickNs
	t.due += float64(ticks) * c.pagesPerTick
	pages := int64(t.due)
	t.due -= float64(pages)
	switch c.kind {
	case scenario.KindPageCache:
		stall, memStall, oom, err = d.readFiles(t, pages)
	default:
		want := pages
		if c.targetPages > 0 {
			want = min(want, c.targetPages-t.got)
		}
		if want <= 0 {
			return
		}
		if c.kind == scenario.KindMlock {
			got, stall, oom, err = k.m.AllocMlocked(c.pid, c.node, want)
		} else {
			got, stall, oom, err = k.m.AllocAnon(c.pid, c.node, want)
		}
		if got < want {
			t.failedTicks++
		}
		memStall = stall
		if oom == nil && err == nil && c.touchIntervalNs > 0 {
			var ts, tm int64
			ts, tm, oom, err = d.touch(t, ticks)
			stall, memStall = stall+ts, memStall+tm
		}
	}
	if err != nil {
		// The task was killed by an earlier OOM: it stops.
		t.dead = true
		return
	}
	t.got += got
	t.stallNs += stall
	d.psi.stall(t.psiEnt, ev.At, memStall)
	k.wakeKswapd(ev.At)
	if oom != nil {
		k.recordOOM(ev.At, oom)
	}
	if !t.dead {
		// A task is paced by its tick: a stall longer than the tick
		// delays the next one (closed, queued), a shorter one is
		// absorbed by the wait for it, as a timer-paced process's is.
		next := ev.At + faultTickNs
		if c.loop != loopIgnore {
			next = ev.At + max(faultTickNs, stall)
		}
		d.eng.Schedule(next, d.kFault, ev.A, 0)
	}
}

// readFiles is a tick of a page-cache reader: it reads pages pages of
// its file set (what its rate owes it), each on the hot set with probability
// hotFraction and uniformly on the whole set otherwise, page by page
// through the kernel's page cache (ReadFile: hits, misses read from disk,
// refaults of evicted pages). The page cache is not the task's RSS. It
// returns the stall and the part of it PSI counts as a memory stall:
// reclaim, and the read of a refaulting workingset page
// (psi_memstall_enter in folio_wait_bit_common), but not the read of an
// ordinary miss, which is I/O.
func (d *taskDriver) readFiles(t *task, pages int64) (stall, memStall int64, oom *kernel.OOMEvent, err error) {
	c := t.cfg
	readNs := d.k.m.Config().Cost.ReadNsPerPage
	for range pages {
		idx := int64(t.rng.IntN(int(c.hotPages)))
		if c.hotFraction < 1 && t.rng.Float64() >= c.hotFraction {
			idx = int64(t.rng.IntN(int(c.fileSetPages)))
		}
		r, err := d.k.m.ReadFile(c.pid, t.file, idx, c.node)
		if err != nil {
			return stall, memStall, nil, err
		}
		t.reads++
		stall += r.StallNs
		memStall += r.StallNs
		if !r.Hit && r.OK {
			t.misses++
			if !r.Restored {
				memStall -= readNs
			}
		}
		if r.Refault {
			t.refaults++
		}
		if !r.OK {
			t.failedTicks++
			return stall, memStall, r.OOM, nil
		}
	}
	return stall, memStall, nil, nil
}

// touch is ticks ticks of a task's sweep over its memory: it touches its
// RSS over touch_interval_ms (fractions carried over), which marks
// resident pages accessed and faults swapped ones back in (TouchAnon).
// It returns the stall and its memory-stall part: reclaim, and the swap
// read of a workingset page (swap_read_folio's psi_memstall_enter).
func (d *taskDriver) touch(t *task, ticks int64) (stall, memStall int64, oom *kernel.OOMEvent, err error) {
	c := t.cfg
	kt, _ := d.k.m.Task(c.pid)
	t.touchDue += float64(kt.RSSAnonPages+kt.SwapEntries) * float64(ticks*faultTickNs) / float64(c.touchIntervalNs)
	n := int64(t.touchDue)
	t.touchDue -= float64(n)
	if n == 0 {
		return 0, 0, nil, nil
	}
	r, err := d.k.m.TouchAnon(c.pid, n)
	if err != nil {
		return 0, 0, nil, err
	}
	return r.StallNs, r.StallNs - r.IOWaitNs, r.OOM, nil
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
