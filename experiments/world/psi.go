package world

import "slices"

// pressure keeps memory pressure stall information (PSI) for the machine
// and for each cgroup, as /proc/pressure/memory and a cgroup's
// memory.pressure report it (kernel/sched/psi.c): the total time in which
// at least one task of the group was stalled on memory ("some"), and the
// total time in which every running task of the group was ("full").
//
// A stall is what an allocation or a page read cost its task in memory
// management: direct reclaim and compaction, memory.high throttling, a
// refault of a page from the workingset (psi_memstall_enter around the
// read, as folio_wait_bit_common does for PG_workingset).
//
// Per CPU, as Linux keeps it. Each group keeps, for every CPU one of its
// members runs on, the time in which some member there was stalled, the
// time in which every member there that was running was stalled (full:
// psi.c's test_state, PSI_MEM_FULL; a member waiting on I/O neither
// stalls nor runs), and the CPU's non-idle time (a member running,
// waiting on I/O or stalled: PSI_NONIDLE). At each collection the group's
// totals grow by the CPUs' times averaged with each CPU weighted by its
// non-idle time in whole jiffies (collect_percpu_times: nsecs_to_jiffies
// truncates, so a CPU busy for less than a jiffy since the last
// collection does not count). A stall on one CPU while a member runs on
// another therefore counts about half. Collections happen where Linux's
// do: at every read of the totals (psi_show; the time series' samples
// read the machine's, as the real suite reads /proc/pressure/memory every
// sample) and every PSI_FREQ, 2*HZ+1 jiffies, while the group is active
// (psi_avgs_work; here on a fixed grid from the start). HZ is 250
// (psiHZ).
//
// What a member's time is. A kernel-side task's tick is its memory stall,
// then its I/O wait, then its CPU time (the rest of what the tick took),
// laid end to end from the tick's start; between ticks it sleeps, as a
// timer-paced process does. A synthetic or trace workload thread does its
// work in an instant and is non-idle only while it stalls. A Go
// program's mutator allocates all the time: it runs on each of its CPUs
// throughout (one member per CPU). A member that migrates takes its
// future stalls to its new CPU.
//
// What it leaves out: kernel threads (kswapd, kcompactd, the I/O
// completion work) are in the machine's group on the host and add
// non-idle time to the CPUs they run on, which dilutes the machine's
// figures; here they are not members. Tasks that are not the scenario's
// (the real suite's sampler, other work on a host) are not either. A
// dead member leaves its groups at its death.
type pressure struct {
	groups  []psiGroup
	ents    []psiEntity
	scratch []int64 // state-change times, reused by advance
}

// psiHZ is the kernel's tick rate (CONFIG_HZ), which sets a jiffy: the
// unit in which collect_percpu_times weighs each CPU's non-idle time.
// 250 is this project's host kernel's (6.18, /proc/config.gz: CONFIG_HZ=250)
// and the x86 default of the major distributions.
const psiHZ = 250

// psiJiffyNs is one jiffy; psiFreqNs is PSI_FREQ (2*HZ+1 jiffies), the
// period of psi_avgs_work's collections.
const (
	psiJiffyNs = 1_000_000_000 / psiHZ
	psiFreqNs  = (2*psiHZ + 1) * psiJiffyNs
)

// psiGroup is one group's PSI state: the totals collected so far, the
// time of the latest collection and the next periodic one, and its CPUs.
type psiGroup struct {
	someNs, fullNs int64
	collectedNs    int64
	nextAvgNs      int64
	cpus           []psiCPU
}

// psiCPU is a group's state on one CPU: its members there, and what they
// did since the group's last collection, accounted up to lastNs.
type psiCPU struct {
	cpu                 int
	ents                []int
	lastNs              int64
	some, full, nonidle int64
}

// psiEntity is a member: a task, a workload thread, a Go program's
// mutator on one CPU. Its latest tick is a stall up to stallEnd, then
// I/O wait up to ioEnd, then CPU time up to busyEnd. slots[i] is its CPU
// slot in groups[i].
type psiEntity struct {
	stallEnd, ioEnd, busyEnd int64
	groups, slots            []int
	cpu                      int
	runner, dead             bool
}

// newPressure returns PSI state for n groups (the machine is group 0).
func newPressure(n int) *pressure {
	p := &pressure{groups: make([]psiGroup, n)}
	for i := range p.groups {
		p.groups[i].nextAvgNs = psiFreqNs
	}
	return p
}

// entity adds a member that belongs to groups and runs on cpu, and
// returns its id. A runner is never idle.
func (p *pressure) entity(groups []int, cpu int, runner bool) int {
	id := len(p.ents)
	p.ents = append(p.ents, psiEntity{groups: groups, slots: make([]int, len(groups)), cpu: cpu, runner: runner})
	for i, gi := range groups {
		p.ents[id].slots[i] = p.join(gi, cpu, id, p.groups[gi].collectedNs)
	}
	return id
}

// join puts entity e on group gi's slot for cpu from now, and returns
// the slot. The slot's members are accounted up to now first, so that
// what e did before does not count there.
func (p *pressure) join(gi, cpu, e int, now int64) int {
	g := &p.groups[gi]
	for s := range g.cpus {
		if c := &g.cpus[s]; c.cpu == cpu {
			p.advance(c, now)
			c.ents = append(c.ents, e)
			return s
		}
	}
	g.cpus = append(g.cpus, psiCPU{cpu: cpu, ents: []int{e}, lastNs: max(now, g.collectedNs)})
	return len(g.cpus) - 1
}

// stall records that entity e, on cpu, is stalled on memory from now
// for d ns, and otherwise idle.
func (p *pressure) stall(e, cpu int, now, d int64) {
	if d <= 0 {
		return
	}
	p.tick(e, cpu, now, d, 0, d)
}

// tick records entity e's work from now on cpu: stalled for mem ns, then
// waiting on I/O for io ns, then running up to total ns.
func (p *pressure) tick(e, cpu int, now, mem, io, total int64) {
	if total <= 0 {
		return
	}
	ent := &p.ents[e]
	if ent.dead {
		return
	}
	p.catchUp(e, now)
	if cpu != ent.cpu {
		p.move(e, cpu, now)
	}
	ent.stallEnd = max(ent.stallEnd, now+mem)
	ent.ioEnd = max(ent.ioEnd, now+mem+io)
	ent.busyEnd = max(ent.busyEnd, now+total)
}

// die takes entity e out of its groups at now.
func (p *pressure) die(e int, now int64) {
	ent := &p.ents[e]
	if ent.dead {
		return
	}
	p.catchUp(e, now)
	ent.dead = true
	ent.stallEnd = min(ent.stallEnd, now)
	ent.ioEnd = min(ent.ioEnd, now)
	ent.busyEnd = min(ent.busyEnd, now)
}

// catchUp brings entity e's groups up to now before its state changes:
// their periodic collections due by now, and its CPUs' times.
func (p *pressure) catchUp(e int, now int64) {
	ent := &p.ents[e]
	for i, gi := range ent.groups {
		p.collectDue(gi, now)
		p.advance(&p.groups[gi].cpus[ent.slots[i]], now)
	}
}

// move takes entity e to cpu at now in each of its groups (a migrated
// thread); its groups are accounted up to now.
func (p *pressure) move(e, cpu int, now int64) {
	ent := &p.ents[e]
	for i, gi := range ent.groups {
		c := &p.groups[gi].cpus[ent.slots[i]]
		if j := slices.Index(c.ents, e); j >= 0 {
			c.ents = slices.Delete(c.ents, j, j+1)
		}
		ent.slots[i] = p.join(gi, cpu, e, now)
	}
	ent.cpu = cpu
}

// advance accounts CPU slot c's some, full and non-idle time up to t.
// Its members' states change only at the ends of their latest ticks.
func (p *pressure) advance(c *psiCPU, t int64) {
	if t <= c.lastNs {
		return
	}
	b := p.scratch[:0]
	for _, e := range c.ents {
		ent := &p.ents[e]
		for _, x := range [3]int64{ent.stallEnd, ent.ioEnd, ent.busyEnd} {
			if x > c.lastNs && x < t {
				b = append(b, x)
			}
		}
	}
	b = append(b, t)
	slices.Sort(b)
	p.scratch = b
	from := c.lastNs
	for _, to := range b {
		if to <= from {
			continue
		}
		some, full, nonidle := p.state(c, from)
		d := to - from
		if some {
			c.some += d
		}
		if full {
			c.full += d
		}
		if nonidle {
			c.nonidle += d
		}
		from = to
	}
	c.lastNs = t
}

// state is CPU slot c's PSI state just after at: a member stalled
// (some), no member running without being stalled (full, with some), a
// member not idle.
func (p *pressure) state(c *psiCPU, at int64) (some, full, nonidle bool) {
	running := false
	for _, e := range c.ents {
		ent := &p.ents[e]
		switch {
		case ent.stallEnd > at:
			some = true
		case ent.ioEnd > at:
			nonidle = true
		case ent.busyEnd > at || (ent.runner && !ent.dead):
			running = true
		}
	}
	return some, some && !running, some || running || nonidle
}

// collectDue runs group gi's periodic collections due by now.
func (p *pressure) collectDue(gi int, now int64) {
	g := &p.groups[gi]
	for g.nextAvgNs <= now {
		at := g.nextAvgNs
		g.nextAvgNs += psiFreqNs
		p.collect(gi, at)
	}
}

// collect folds group gi's per-CPU times since its last collection into
// its totals at t (collect_percpu_times): each CPU's some and full time
// weighted by its non-idle jiffies.
func (p *pressure) collect(gi int, t int64) {
	g := &p.groups[gi]
	if t <= g.collectedNs {
		return
	}
	var some, full, weight uint64
	for s := range g.cpus {
		c := &g.cpus[s]
		p.advance(c, t)
		w := uint64(c.nonidle / psiJiffyNs)
		weight += w
		some += uint64(c.some) * w
		full += uint64(c.full) * w
		c.some, c.full, c.nonidle = 0, 0, 0
	}
	weight = max(weight, 1)
	g.someNs += int64(some / weight)
	g.fullNs += int64(full / weight)
	g.collectedNs = t
}

// totals reads group gi's some and full stall time at now, in
// microseconds as the kernel reports them ("total="): a read collects
// first (psi_show).
func (p *pressure) totals(gi int, now int64) (someUs, fullUs int64) {
	p.collectDue(gi, now)
	p.collect(gi, now)
	g := &p.groups[gi]
	return g.someNs / 1000, g.fullNs / 1000
}
