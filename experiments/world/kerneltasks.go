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
	pagesPerTic int64
	targetPages int64 // 0: no limit
	// fileSetPages is a page-cache reader's file set; pageCachePages is
	// what any other task reads into the page cache at its start.
	fileSetPages   int64
	pageCachePages int64
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
	// A page-cache reader keeps reading its file set; cached is how many
	// of its pages it believes are in the page cache (reclaim takes its
	// share, see attributeFileReclaim). reads and misses count pages read
	// and pages that had to be read from disk.
	cached        float64
	missDue       float64
	reads, misses int64
	// openNs is the open-loop time of its next tick (queued loop: the
	// ticks it missed while blocked are caught up).
	openNs int64
	psiEnt int
}

// taskDriver runs the tasks: each faults in its pages (or reads its files)
// every faultTickNs, delayed by the stalls its allocations incur.
type taskDriver struct {
	eng    *sim.Engine
	psi    *pressure
	k      *kernelSide
	kFault sim.Kind
	tasks  []*task
	// fileSeen is the page cache's size after the last page-cache
	// reader's tick: a drop since then is reclaim.
	fileSeen int64
}

// newTaskDriver registers the tasks' fault event; add starts each task.
func newTaskDriver(eng *sim.Engine, psi *pressure) *taskDriver {
	d := &taskDriver{eng: eng, psi: psi}
	d.kFault = eng.Register("task.fault", d.onFault)
	return d
}

// add starts a task on k: the kernel learns of it, it reads its start-up
// page cache, and its first tick is scheduled.
func (d *taskDriver) add(k *kernelSide, c *taskConfig) error {
	d.k = k
	t := &task{cfg: c, openNs: c.startNs, psiEnt: d.psi.entity(c.psiGroups, true)}
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
	// A reader's first tick compares the page cache with its size at the
	// end of the set-up, which only tasks change.
	d.fileSeen = k.totalFilePages()
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
	var got, stall int64
	var oom *kernel.OOMEvent
	var err error
	ticks := int64(1)
	if c.loop == loopQueued {
		// The ticks it missed while blocked are due now.
		ticks = max(1, (ev.At-t.openNs)/faultTickNs+1)
	}
	t.openNs += ticks * faultTickNs
	switch c.kind {
	case scenario.KindPageCache:
		stall, oom, err = d.readFiles(t, ticks)
	default:
		want := ticks * c.pagesPerTic
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
	}
	if err != nil {
		// The task was killed by an earlier OOM: it stops.
		t.dead = true
		return
	}
	t.got += got
	t.stallNs += stall
	d.psi.stall(t.psiEnt, ev.At, stall)
	k.wakeKswapd(ev.At)
	if oom != nil {
		k.recordOOM(ev.At, oom)
	}
	if !t.dead {
		next := ev.At + faultTickNs
		if c.loop != loopIgnore {
			next += stall // the task was blocked for its stall
		}
		d.eng.Schedule(next, d.kFault, ev.A, 0)
	}
}

// readFiles is one tick of a page-cache reader: it reads pagesPerTic pages
// of its file set at uniformly random places, so the share that hits the
// page cache is cached/fileSetPages; the misses (their expected number,
// carried over in fractions) are read into the page cache (AllocFile).
// Which of its pages reclaim took is not tracked page by page:
// attributeFileReclaim charges each reader its share of the page cache's
// shrinkage. The page cache is not the task's RSS.
func (d *taskDriver) readFiles(t *task, ticks int64) (stall int64, oom *kernel.OOMEvent, err error) {
	d.attributeFileReclaim()
	c := t.cfg
	reads := ticks * c.pagesPerTic
	hit := min(1, t.cached/float64(c.fileSetPages))
	t.missDue += float64(reads) * (1 - hit)
	miss := int64(t.missDue)
	t.missDue -= float64(miss)
	t.reads += reads
	if miss > 0 {
		var got int64
		got, stall, oom, err = d.k.m.AllocFile(c.pid, c.node, miss)
		t.misses += got
		t.cached += float64(got)
		if got < miss {
			t.failedTicks++
		}
	}
	d.fileSeen = d.k.totalFilePages()
	return stall, oom, err
}

// attributeFileReclaim charges the page cache's shrinkage since the last
// reader tick to the readers in proportion to their cached pages (the
// rest of the page cache, such as files tasks read at start, takes its
// own share).
func (d *taskDriver) attributeFileReclaim() {
	now := d.k.totalFilePages()
	dropped := d.fileSeen - now
	if dropped <= 0 || d.fileSeen == 0 {
		d.fileSeen = now
		return
	}
	keep := float64(now) / float64(d.fileSeen)
	for _, t := range d.tasks {
		if t.cfg.kind == scenario.KindPageCache {
			t.cached *= keep
		}
	}
	d.fileSeen = now
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
		if t.dead {
			s.Killed++
		}
	}
	return out
}
