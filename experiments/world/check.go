package world

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/model/goruntime"
	"github.com/sbmpsim/sbmpsim/model/kernel"
	"github.com/sbmpsim/sbmpsim/sbmp"
	"github.com/sbmpsim/sbmpsim/sim"
)

// InvariantError is the first invariant a checked run found broken (or
// the panic a model raised): after which event, when, of which kind, and
// what broke. Event 0 is the state before the first event.
type InvariantError struct {
	Scenario string
	Event    int64  // events run when the check failed
	TimeNs   int64  // virtual time of that event
	Kind     string // the event's kind ("" before the first event)
	// Invariant names what was checked: "sbmp process NAME", "kernel",
	// "go program NAME", "books", or "panic".
	Invariant string
	Err       error
	// Stack is the stack of a panic, empty otherwise.
	Stack string
	// Full is set when the failing check walked every structure whole;
	// LastFullEvent is the event after which the last whole walk before
	// it passed (-1: none did). Between the two, checks saw only what
	// the events touched, so the invariant may have broken earlier.
	Full          bool
	LastFullEvent int64
	// Check counts the checks made, the failing one included.
	Check CheckStats
}

func (e *InvariantError) Error() string {
	kind := e.Kind
	if kind == "" {
		kind = "setup"
	}
	return fmt.Sprintf("run %s: event %d at t=%dns (%s): %s: %v", e.Scenario, e.Event, e.TimeNs, kind, e.Invariant, e.Err)
}

func (e *InvariantError) Unwrap() error { return e.Err }

// DefaultCheckFullEvery is Options.CheckFullEvery's default: one check in
// 100 walks every structure whole, which costs about as much as the 99
// incremental checks between (anon-fill, checked after every event).
const DefaultCheckFullEvery = 100

// CheckStats counts what a checked run's checks did.
type CheckStats struct {
	// Passes is the checks made (before the first event, after every
	// CheckEvery-th and at the end), FullWalks those that walked every
	// structure whole.
	Passes, FullWalks int64
	// Touched is what the incremental kernel checks walked and how many
	// fell back to a whole walk that passed (which the tests require to
	// be none: kernel.Machine.TouchStats).
	Touched kernel.TouchStats
}

// runChecked runs s (set up with a time limit at endNs) event by event
// with every invariant checked after every opt.CheckEvery-th event,
// before the first and after the last (opt.CheckFullEvery says which
// checks walk everything whole): the allocator of each SBMP process
// (sbmp.Allocator.CheckInvariants), the kernel machine
// (kernel.Machine.CheckInvariants), each Go program
// (goruntime.Program.CheckInvariants), and the run's own books
// (checkBooks). It returns the same Result as an unchecked run (the checks
// only read), with Summary.InvariantChecks counting the component checks
// made, or the first violation as an *InvariantError. A model's panic (the
// models panic on their own broken invariants) is returned as an
// *InvariantError too. opt.setUp, if set, is called before the first
// event; opt.AtEnd at the end of simulated time, as for Run.
func runChecked(ctx context.Context, s *simulation, endNs int64, opt Options) (res *Result, err error) {
	c := &checker{s: s, ctx: ctx, fullEvery: opt.CheckFullEvery, lastFull: -1, progress: opt.CheckProgress, endNs: endNs}
	if c.fullEvery <= 0 {
		c.fullEvery = DefaultCheckFullEvery
	}
	if c.fullEvery > 1 {
		s.kernel.m.TrackTouched()
	}
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, c.fail("panic", fmt.Errorf("%v", p))
			err.(*InvariantError).Stack = string(debug.Stack())
		}
	}()
	if opt.setUp != nil {
		opt.setUp(s)
	}
	if err := c.steps(endNs, opt.CheckEvery); err != nil {
		return nil, err
	}
	res, err = finish(s, endNs, opt.AtEnd)
	if err != nil {
		return nil, err
	}
	res.Summary.InvariantChecks = c.checks
	res.Check = c.stats
	res.Check.Touched = s.kernel.m.TouchStats()
	return res, nil
}

// cancelCheckEvents is how many events a checked run runs between two
// looks at the context.
const cancelCheckEvents = 4096

// checker runs the engine event by event and checks between events.
type checker struct {
	ctx    context.Context
	s      *simulation
	checks uint64
	probed int // kinds probed so far
	// last is the event running or last run.
	last    sim.Event
	started bool
	// perProc is checkBooks' scratch: live objects by process.
	perProc []int64
	// allocPrints and kernelPrint are the fingerprints of each process's
	// allocator and of the kernel at their last check.
	allocPrints []allocPrint
	kernelStats kernel.Stats
	kernelPrint []int64
	printBuf    []int64
	// fullEvery makes every fullEvery-th pass walk everything whole (0
	// or 1: every pass); stats counts the passes; full is set during a
	// whole pass; lastFull is the event of the last whole pass that
	// passed (-1: none); kernelTouched is set when the kernel was
	// checked incrementally since its last whole walk.
	fullEvery     int64
	stats         CheckStats
	full          bool
	lastFull      int64
	kernelTouched bool
	// progress, if set, is told the simulated time after each pass.
	progress func(nowNs, endNs int64)
	endNs    int64
}

// allocPrint is an allocator's fingerprint: its counters, which every
// operation moves, and its free bytes (which a free moves even if a bug
// kept it from counting).
type allocPrint struct {
	stats sbmp.Stats
	pc    sbmp.PageCacheStats
	free  int64
	valid bool
}

// kernelChanged reports whether the kernel's fingerprint moved since the
// last call: its counters, each node's free, file, anonymous and per-CPU
// pages and online state, swap, every task's and cgroup's pages.
func (c *checker) kernelChanged() bool {
	k := c.s.kernel
	m := k.m
	fp := c.printBuf[:0]
	for n := range k.nodes() {
		online := int64(0)
		if m.NodeOnline(n) {
			online = 1
		}
		fp = append(fp, m.NodeFreePages(n), m.NodeFilePages(n), m.NodeAnonPages(n), m.PCPPages(n), online)
	}
	fp = append(fp, m.SwapUsed(), m.Config().MinFreeKbytes)
	pids := func(pid int64) {
		t, _ := m.Task(pid)
		victim := int64(0)
		if t.OOMVictim {
			victim = 1
		}
		fp = append(fp, t.RSSAnonPages, t.SwapEntries, victim)
	}
	for _, p := range c.s.procs {
		pids(p.cfg.pid)
	}
	for _, t := range c.s.tasks.tasks {
		pids(t.cfg.pid)
	}
	for _, cg := range c.s.cfg.machine.cgroups {
		g, _ := m.Cgroup(cg.path)
		fp = append(fp, g.CurrentPages, g.SwapCurrentPages, g.LocalPages, g.StockPages)
	}
	st := m.Stats()
	changed := st != c.kernelStats || !slices.Equal(fp, c.kernelPrint) || c.kernelPrint == nil
	c.kernelStats = st
	c.printBuf, c.kernelPrint = c.kernelPrint, fp
	return changed
}

// steps runs every event up to durationNs, checking before the first,
// after every every-th and after the last; the last check walks
// everything whole.
func (c *checker) steps(durationNs, every int64) error {
	every = max(every, 1)
	eng := c.s.eng
	if err := c.pass(false); err != nil {
		return err
	}
	for {
		c.probeKinds()
		ran, err := eng.Step()
		var le *sim.LimitError
		if errors.As(err, &le) && le.Limit == "time" {
			break // the next event is after the end of the run
		}
		if err != nil {
			return fmt.Errorf("run %s: %w", c.s.cfg.name, err)
		}
		if !ran {
			break
		}
		if eng.Events()%cancelCheckEvents == 0 {
			if err := c.ctx.Err(); err != nil {
				return fmt.Errorf("run %s: %w", c.s.cfg.name, err)
			}
		}
		if eng.Events()%every == 0 {
			if err := c.pass(false); err != nil {
				return err
			}
		}
	}
	if err := eng.RunUntil(durationNs); err != nil { // runs nothing; sets the clock
		return fmt.Errorf("run %s: %w", c.s.cfg.name, err)
	}
	if eng.Events()%every != 0 || !c.full {
		return c.pass(true)
	}
	return nil
}

// pass runs one check, whole when it is the fullEvery-th or last.
func (c *checker) pass(last bool) error {
	c.full = last || c.fullEvery <= 1 || c.stats.Passes%c.fullEvery == 0
	c.stats.Passes++
	if c.full {
		c.stats.FullWalks++
	}
	if err := c.check(); err != nil {
		return err
	}
	if c.full {
		c.lastFull = c.s.eng.Events()
	}
	if c.progress != nil {
		c.progress(c.s.eng.Now(), c.endNs)
	}
	return nil
}

// probeKinds adds a probe, which records the event about to run, to every
// kind registered since the last call.
func (c *checker) probeKinds() {
	eng := c.s.eng
	for ; c.probed < eng.NumKinds(); c.probed++ {
		eng.Probe(sim.Kind(c.probed), c.note)
	}
}

func (c *checker) note(ev sim.Event) { c.last, c.started = ev, true }

// fail wraps err as the violation of invariant at the current event.
func (c *checker) fail(invariant string, err error) error {
	e := &InvariantError{Scenario: c.s.cfg.name, Event: c.s.eng.Events(), Invariant: invariant, Err: err,
		Full: c.full || c.fullEvery <= 1, LastFullEvent: c.lastFull, Check: c.stats}
	if c.started {
		e.TimeNs, e.Kind = c.last.At, c.s.eng.KindName(c.last.Kind)
	}
	return e
}

// check runs every invariant once and returns the first violation. The
// allocators' and the kernel's checks cost O(their state), so a component
// whose fingerprint (its counters, see allocPrint and kernelPrint) has not
// changed since its last check is not checked again: every state change
// a model makes moves a counter, and most events touch one process's
// Tier-0 and nothing else.
func (c *checker) check() error {
	s := c.s
	if len(c.allocPrints) != len(s.procs) {
		c.allocPrints = make([]allocPrint, len(s.procs))
	}
	for i, p := range s.procs {
		if p.dead {
			continue // its allocator is never used again
		}
		fp := allocPrint{stats: p.stats(), pc: p.a.PageCacheStats(), free: p.totalFreeBytes(), valid: true}
		if fp == c.allocPrints[i] {
			continue
		}
		c.allocPrints[i] = fp
		for _, a := range p.sw.Allocators() {
			c.checks++
			if err := a.CheckInvariants(); err != nil {
				return c.fail("sbmp process "+p.cfg.name, err)
			}
		}
	}
	if err := c.checkKernel(); err != nil {
		return c.fail("kernel", err)
	}
	for _, g := range s.progs {
		if g == nil {
			continue
		}
		c.checks++
		if err := g.prog.CheckInvariants(); err != nil {
			return c.fail("go program "+g.cfg.name, err)
		}
	}
	c.checks++
	if err := c.checkBooks(); err != nil {
		return c.fail("books", err)
	}
	return nil
}

// checkKernel checks the kernel machine if its fingerprint moved: whole
// on a whole pass (and on every pass of a checker without passes),
// else what the events touched. A whole pass walks the kernel whole if
// an incremental check saw it since its last whole walk, even when
// nothing moved since.
func (c *checker) checkKernel() error {
	m := c.s.kernel.m
	changed := c.kernelChanged()
	switch full := c.full || c.fullEvery <= 1; {
	case full && (changed || c.kernelTouched):
		c.checks++
		c.kernelTouched = false
		return m.CheckInvariants()
	case changed:
		c.checks++
		c.kernelTouched = true
		return m.CheckTouched()
	}
	return nil
}

// checkBooks checks the run's own accounting against itself and the
// models: per workload, allocs - frees - lost = live objects and the
// bytes likewise; the totals are the workloads' sums; each live process's
// allocator holds exactly its workloads' live objects, and the pages it
// holds are what the kernel says its pid holds (RSS + swap) and what its
// Tier-1 blocks and Tier-2 page cache account for; a kernel task holds
// the pages it faulted in; and whoever the kernel chose as an OOM victim
// is dead in the run.
func (c *checker) checkBooks() error {
	s := c.s
	b := s.books
	var allocs, frees, failures uint64
	var objects, bytes int64
	perProc := c.perProc[:0]
	for range s.procs {
		perProc = append(perProc, 0)
	}
	c.perProc = perProc
	for i, a := range b.accounts {
		if a == nil {
			continue
		}
		if err := checkAccount(a); err != nil {
			return err
		}
		allocs, frees, failures = allocs+a.allocs, frees+a.frees, failures+a.failures
		objects, bytes = objects+a.liveObjects, bytes+a.liveBytes
		perProc[s.cfg.procOf[i]] += a.liveObjects
		if g := s.progs[i]; g != nil && !g.proc.dead {
			if err := checkGoBooks(g); err != nil {
				return err
			}
		}
	}
	if allocs != b.allocs || frees != b.frees || failures != b.failures || objects != b.liveObjects || bytes != b.liveBytes {
		return fmt.Errorf("totals: allocs %d frees %d failures %d live %d objects %d bytes; workloads sum to %d %d %d %d %d",
			b.allocs, b.frees, b.failures, b.liveObjects, b.liveBytes, allocs, frees, failures, objects, bytes)
	}
	var held int64
	for i, p := range s.procs {
		if err := c.checkProcBooks(p, perProc[i]); err != nil {
			return err
		}
		held += p.held
	}
	if held != s.fp.pages {
		return fmt.Errorf("processes hold %d pages, their footprint counts %d", held, s.fp.pages)
	}
	return c.checkTaskBooks()
}

func checkAccount(a *account) error {
	if int64(a.allocs)-int64(a.frees)-a.lostObjects != a.liveObjects || a.liveObjects < 0 {
		return fmt.Errorf("workload %s: allocs %d - frees %d - lost %d != live %d", a.name, a.allocs, a.frees, a.lostObjects, a.liveObjects)
	}
	if a.liveBytes < 0 || a.lostBytes < 0 || a.bytesAllocated-a.lostBytes-a.liveBytes < 0 {
		return fmt.Errorf("workload %s: allocated %d B - lost %d B - live %d B < 0", a.name, a.bytesAllocated, a.lostBytes, a.liveBytes)
	}
	if a.liveObjects == 0 && a.liveBytes != 0 {
		return fmt.Errorf("workload %s: %d live objects hold %d bytes", a.name, a.liveObjects, a.liveBytes)
	}
	return nil
}

// checkGoBooks checks a live Go program's heap against what the run
// counted for it.
func checkGoBooks(g *goWorkload) error {
	st := g.prog.Stats()
	if st.Dead != goruntime.Alive {
		return nil
	}
	if st.Mallocs-st.Frees != g.acct.liveObjects || st.TotalAlloc-st.FreedBytes != g.acct.liveBytes {
		return fmt.Errorf("go program %s: mallocs %d - frees %d, %d - %d B; the run counts %d live objects, %d B",
			g.cfg.name, st.Mallocs, st.Frees, st.TotalAlloc, st.FreedBytes, g.acct.liveObjects, g.acct.liveBytes)
	}
	return nil
}

// checkProcBooks checks one process: a dead one holds nothing; a live one
// has liveObjects in its allocator and holds what the kernel and its
// allocator say.
func (c *checker) checkProcBooks(p *sbmpSide, liveObjects int64) error {
	name, pid := p.cfg.name, p.cfg.pid
	t, ok := c.s.kernel.m.Task(pid)
	if !ok {
		return fmt.Errorf("process %s: pid %d unknown to the kernel", name, pid)
	}
	if p.dead {
		if p.held != 0 {
			return fmt.Errorf("process %s is dead but holds %d pages", name, p.held)
		}
		return nil
	}
	if t.OOMVictim {
		return fmt.Errorf("process %s (pid %d) is the kernel's OOM victim but alive in the run", name, pid)
	}
	st := p.stats() // every allocator the process has had (SPEC 2.4 swaps)
	if got := st.Tier0Allocs + st.Tier1Allocs + st.Tier2Allocs - st.Frees; got != liveObjects {
		return fmt.Errorf("process %s: its allocator has %d objects out, its workloads %d live", name, got, liveObjects)
	}
	if err := c.checkPlacementBooks(p, t); err != nil {
		return err
	}
	blockBytes := c.s.cfg.blockBytes
	var cacheBytes int64
	for _, a := range p.sw.Allocators() {
		pcs := a.PageCacheStats()
		cacheBytes += pcs.OutstandingBytes + pcs.HeldBytes
	}
	if want := p.tier1Blocks()*blockBytes + cacheBytes; p.held*4096 != want {
		return fmt.Errorf("process %s: holds %d B; Tier-1 %d blocks of %d B + page cache %d B = %d",
			name, p.held*4096, p.tier1Blocks(), blockBytes, cacheBytes, want)
	}
	return nil
}

// checkPlacementBooks checks where a live process's pages are: in user
// placement they are its memory (RSS + swap), one mapping per block; in
// kernel placement they are kernel pages, none of them its RSS.
func (c *checker) checkPlacementBooks(p *sbmpSide, t kernel.Task) error {
	name, pid := p.cfg.name, p.cfg.pid
	var blockPages int64
	for _, b := range p.blocks {
		blockPages += int64(1) << b.order
	}
	if blockPages != p.held {
		return fmt.Errorf("process %s: holds %d pages, its blocks add up to %d", name, p.held, blockPages)
	}
	if p.cfg.place.kernel {
		if t.RSSAnonPages+t.SwapEntries != 0 {
			return fmt.Errorf("process %s (pid %d): an in-kernel allocator with rss %d + swap %d", name, pid, t.RSSAnonPages, t.SwapEntries)
		}
		return nil
	}
	if got := t.RSSAnonPages + t.SwapEntries; got != p.held {
		return fmt.Errorf("process %s (pid %d): holds %d pages, the kernel says rss %d + swap %d = %d", name, pid, p.held, t.RSSAnonPages, t.SwapEntries, got)
	}
	return nil
}

// checkTaskBooks checks the kernel-side tasks: a live anonymous task
// holds (resident or swapped) the pages it faulted in, an mlock task
// holds them resident; a task is dead in the run exactly when the kernel
// made it an OOM victim.
func (c *checker) checkTaskBooks() error {
	m := c.s.kernel.m
	for _, t := range c.s.tasks.tasks {
		tc := t.cfg
		kt, ok := m.Task(tc.pid)
		if !ok {
			return fmt.Errorf("task %s: pid %d unknown to the kernel", tc.name, tc.pid)
		}
		if kt.OOMVictim != t.dead {
			return fmt.Errorf("task %s (pid %d): OOM victim %v, dead in the run %v", tc.name, tc.pid, kt.OOMVictim, t.dead)
		}
		if t.dead {
			continue
		}
		switch tc.kind {
		case scenario.KindTask:
			if kt.RSSAnonPages+kt.SwapEntries != t.got {
				return fmt.Errorf("task %s (pid %d): faulted in %d pages, the kernel says rss %d + swap %d", tc.name, tc.pid, t.got, kt.RSSAnonPages, kt.SwapEntries)
			}
		case scenario.KindMlock:
			if kt.RSSAnonPages != t.got || kt.SwapEntries != 0 {
				return fmt.Errorf("mlock task %s (pid %d): locked %d pages, the kernel says rss %d, swap %d", tc.name, tc.pid, t.got, kt.RSSAnonPages, kt.SwapEntries)
			}
		}
	}
	return nil
}
