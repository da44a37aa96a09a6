package world

import (
	"math"

	"github.com/sbmpsim/sbmpsim/model/workload"
	"github.com/sbmpsim/sbmpsim/sim"
)

// syntheticConfig is a [[workload]] of kind "synthetic", compiled:
// arrivals from an arrival process, sizes and lifetimes from their
// distributions, on the workload's threads.
type syntheticConfig struct {
	index int // the workload's index
	name  string
	proc  int // the index of its process
	// arrival is the arrival process; it keeps its own state (a config
	// is compiled for one run), and the workload takes it over.
	arrival *workload.Arrivals
	sizes   workload.Size
	life    workload.Lifetime
	startNs int64
	stopNs  int64 // no arrivals at or after this
	// threadCPUs[i] is the CPU thread i starts on.
	threadCPUs []int
	// Migration: one thread moves at rate 1e9/migrateGapNs per second
	// to a CPU of migrateCPUs (0: no migration).
	migrateGapNs float64
	migrateCPUs  []int
	loop         loopMode
}

// synthetic is one synthetic workload in a run. Each workload draws from
// its own named streams ("workload/NAME/..."), one per purpose, so adding
// a workload never changes another's draws, and changing one
// distribution of a workload does not change the draws of its others.
type synthetic struct {
	cfg  *syntheticConfig
	acct *account
	proc *sbmpSide
	// arrival is the arrival process, with its state.
	arrival *workload.Arrivals
	// threads[i] is the CPU thread i is on now.
	threads     []int
	arrivals    sim.Stream
	sizeRNG     sim.Stream
	lifeRNG     sim.Stream
	leakRNG     sim.Stream
	placement   sim.Stream
	migrateRNG  sim.Stream
	migrations  uint64
	leakedBytes int64
	// busyUntil[i] is when thread i is done with its current request
	// (closed and queued loops); psiEnt[i] is its PSI entity.
	busyUntil []int64
	psiEnt    []int
	// notIssued counts arrivals a blocked thread did not issue (closed);
	// queued those that waited behind it (queued).
	notIssued, queued uint64
}

// synthDriver runs the synthetic workloads. An object's free event
// carries (workload index, thread, size) as its payload, so the driver
// keeps no per-object table: a million live objects cost one pending
// event each.
type synthDriver struct {
	eng                              *sim.Engine
	psi                              *pressure
	kArrive, kRetry, kFree, kMigrate sim.Kind
	// ws holds each synthetic workload at its workload index; nil
	// elsewhere.
	ws []*synthetic
}

// Payload layout of a synthetic object's free event: A is its address, B
// packs the workload index, the owning thread and the size.
const (
	freeWorkloadShift = 48
	freeThreadShift   = 32
	freeSizeMask      = 1<<32 - 1
	freeThreadMask    = 1<<16 - 1
)

// The low 16 bits of a retry's payload: the attempt, and whether the
// object is leaked.
const (
	retryLeakBit     = 1 << 15
	retryAttemptMask = retryLeakBit - 1
)

// newSynthDriver registers the synthetic workloads' events, for a
// scenario of n workloads; add starts each workload.
func newSynthDriver(eng *sim.Engine, psi *pressure, n int) *synthDriver {
	d := &synthDriver{eng: eng, psi: psi, ws: make([]*synthetic, n)}
	d.kArrive = eng.Register("workload.arrive", d.onArrive)
	d.kRetry = eng.Register("workload.retry", d.onRetry)
	d.kFree = eng.Register("workload.free", d.onFree)
	d.kMigrate = eng.Register("workload.migrate", d.onMigrate)
	return d
}

// add starts workload c in proc, counted in acct: its streams, its first
// migration and its first arrival. psiGroups are the PSI groups its
// threads stall in.
func (d *synthDriver) add(c *syntheticConfig, proc *sbmpSide, acct *account, seeds sim.Seeds, psiGroups []int) {
	prefix := "workload/" + c.name + "/"
	s := &synthetic{
		cfg: c, acct: acct, proc: proc, arrival: c.arrival,
		threads:    append([]int(nil), c.threadCPUs...),
		arrivals:   seeds.Stream(prefix + "arrivals"),
		sizeRNG:    seeds.Stream(prefix + "sizes"),
		lifeRNG:    seeds.Stream(prefix + "lifetimes"),
		leakRNG:    seeds.Stream(prefix + "leak"),
		placement:  seeds.Stream(prefix + "placement"),
		migrateRNG: seeds.Stream(prefix + "migration"),
	}
	s.busyUntil = make([]int64, len(s.threads))
	for _, cpu := range s.threads {
		s.psiEnt = append(s.psiEnt, d.psi.entity(psiGroups, cpu, false))
	}
	d.ws[c.index] = s
	if c.migrateGapNs > 0 {
		d.eng.Schedule(c.startNs+s.nextMigration(), d.kMigrate, int64(c.index), 0)
	}
	proc.onDeath = append(proc.onDeath, acct.die)
	if first, ok := s.nextArrival(c.startNs); ok {
		d.eng.Schedule(first, d.kArrive, int64(c.index), 0)
	}
}

func (d *synthDriver) onArrive(ev sim.Event) {
	w := d.ws[ev.A]
	if w.proc.dead {
		return
	}
	if next, ok := w.nextArrival(ev.At); ok {
		d.eng.Schedule(next, d.kArrive, ev.A, 0)
	}
	th, size := w.thread(), w.size()
	if w.busyUntil[th] > ev.At {
		switch w.cfg.loop {
		case loopClosed:
			w.notIssued++ // its clients are waiting on the thread
			return
		case loopQueued:
			w.queued++
			d.eng.Schedule(w.busyUntil[th], d.kRetry, ev.At<<8|ev.A, size<<32|int64(th)<<16)
			return
		}
	}
	d.allocate(ev.At, ev.A, th, size, 0, ev.At)
}

// onRetry runs an allocation that waited (payload A: requested at << 8
// | the workload, B: size << 32 | thread << 16 | attempt, with
// retryLeakBit set for a leaked object): one the degrade policy told to
// wait (attempt > 0), or one queued behind its blocked thread (attempt
// 0), which waits again if the thread is still busy. The object is born
// late, and its wait shows in its latency.
func (d *synthDriver) onRetry(ev sim.Event) {
	wi := ev.A & 0xff
	w := d.ws[wi]
	if w.proc.dead {
		return
	}
	th, attempt := int(ev.B>>16&freeThreadMask), int(ev.B&retryLeakBit|ev.B&retryAttemptMask)
	if attempt == 0 && w.busyUntil[th] > ev.At {
		d.eng.Schedule(w.busyUntil[th], d.kRetry, ev.A, ev.B)
		return
	}
	d.allocate(ev.At, wi, th, ev.B>>32, attempt, ev.A>>8)
}

// allocate asks SBMP for one object of size bytes for workload wi on
// thread th, first requested at reqNs; attempt carries retryLeakBit for an
// object a leak fault allocates, which is never freed.
func (d *synthDriver) allocate(now, wi int64, th int, size int64, attempt int, reqNs int64) {
	w := d.ws[wi]
	leak := attempt&retryLeakBit != 0
	n := attempt & retryAttemptMask
	res := w.proc.a.AllocAttempt(w.threads[th], size, n)
	d.psi.stall(w.psiEnt[th], w.threads[th], now, w.proc.takeMemStall())
	if w.proc.dead {
		return // the allocation's own page fault got its process killed
	}
	// Only the degrade path asks for a retry, so a retried allocation
	// met the degrade condition on its first attempt.
	degraded := res.Degraded || n > 0
	if !res.OK {
		if res.RetryAfterNs > 0 && !w.proc.dead && n < retryAttemptMask {
			w.acct.retries++
			w.block(th, now+res.RetryAfterNs)
			d.eng.Schedule(now+res.RetryAfterNs, d.kRetry, reqNs<<8|wi, size<<32|int64(th)<<16|int64(attempt+1))
			return
		}
		w.block(th, now+res.CostNs)
		w.acct.fail()
		if degraded {
			w.acct.degraded(w.threads[th], false, 0)
		}
		w.acct.observe(now, w.threads[th], size, res, now-reqNs+res.CostNs, -1)
		return
	}
	w.block(th, now+res.CostNs)
	w.acct.alloc(now, size)
	w.acct.latency(now - reqNs + res.CostNs)
	if degraded {
		w.acct.degraded(w.threads[th], true, now-reqNs+res.CostNs)
	}
	w.acct.observe(now, w.threads[th], size, res, now-reqNs+res.CostNs, -1)
	if leak {
		w.leakedBytes += size
		return
	}
	if life, ok := w.lifetime(); ok {
		d.eng.Schedule(now+life, d.kFree, int64(res.Addr), wi<<freeWorkloadShift|int64(th)<<freeThreadShift|size)
	}
}

// onFree frees one object on the CPU its thread is on now, which need not
// be where it was allocated.
func (d *synthDriver) onFree(ev sim.Event) {
	w := d.ws[ev.B>>freeWorkloadShift]
	if w.proc.dead {
		return // the process died with its objects
	}
	size := ev.B & freeSizeMask
	th := int(ev.B >> freeThreadShift & freeThreadMask)
	if _, err := w.proc.free(w.threads[th], uint64(ev.A), size); err != nil {
		panic(err) // the workload frees only what SBMP gave it: a bug, loudly
	}
	w.acct.free(ev.At, size)
}

// onMigrate moves one thread of workload A to another CPU.
func (d *synthDriver) onMigrate(ev sim.Event) {
	w := d.ws[ev.A]
	if w.proc.dead {
		return
	}
	w.migrate()
	d.eng.Schedule(ev.At+w.nextMigration(), d.kMigrate, ev.A, 0)
}

// leak allocates one object that is never freed in workload wi, on a
// thread drawn from threads and of a size drawn from sizes (a leak
// fault's own streams). It reports the bytes leaked (0 when the
// allocation failed or waits to be retried) and whether it failed for
// good.
func (d *synthDriver) leak(now int64, wi int, threads, sizes *sim.Stream) (leaked int64, failed bool) {
	w := d.ws[wi]
	before, failures := w.leakedBytes, w.acct.failures
	d.allocate(now, int64(wi), threads.IntN(len(w.threads)), w.cfg.sizes.Draw(sizes), retryLeakBit, now)
	return w.leakedBytes - before, w.acct.failures != failures
}

// nextArrival returns the time of the next arrival after now, if it comes
// before the workload stops.
func (s *synthetic) nextArrival(now int64) (int64, bool) {
	at, ok := s.arrival.Next(&s.arrivals, now)
	return at, ok && at < s.cfg.stopNs
}

func (s *synthetic) size() int64 { return s.cfg.sizes.Draw(&s.sizeRNG) }

// lifetime draws the next object's lifetime; false means it is never
// freed.
func (s *synthetic) lifetime() (int64, bool) { return s.cfg.life.Draw(&s.lifeRNG, &s.leakRNG) }

// thread picks the thread that makes the next allocation, uniformly.
func (s *synthetic) thread() int { return s.placement.IntN(len(s.threads)) }

func (s *synthetic) nextMigration() int64 {
	return max(1, int64(math.Round(s.migrateRNG.Exp(s.cfg.migrateGapNs))))
}

// migrate moves one thread, chosen uniformly, to a CPU of migrateCPUs
// chosen uniformly (possibly its own).
func (s *synthetic) migrate() {
	t := s.migrateRNG.IntN(len(s.threads))
	s.threads[t] = s.cfg.migrateCPUs[s.migrateRNG.IntN(len(s.cfg.migrateCPUs))]
	s.migrations++
}

// block keeps thread th busy until until, in the loops that block.
func (s *synthetic) block(th int, until int64) {
	if s.cfg.loop != loopIgnore {
		s.busyUntil[th] = max(s.busyUntil[th], until)
	}
}

// alive reports whether workload wi's process is alive.
func (d *synthDriver) alive(wi int) bool { return !d.ws[wi].proc.dead }
