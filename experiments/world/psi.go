package world

// pressure keeps memory pressure stall information (PSI) for the machine
// and for each cgroup, as /proc/pressure/memory and a cgroup's
// memory.pressure report it (kernel/sched/psi.c): the total time in which
// at least one task of the group was stalled on memory ("some"), and the
// total time in which every non-idle task of the group was ("full").
//
// A stall is what an allocation or a page read cost its task in memory
// management: direct reclaim and compaction, memory.high throttling, a
// refault of a page from the workingset (psi_memstall_enter around the
// read, as folio_wait_bit_common does for PG_workingset). Stalls start at
// an event's time, so each group keeps its totals incrementally.
//
// Non-idle: PSI's "full" needs every task that is not idle (running, or
// stalled) to be stalled. A kernel-side task, a synthetic or trace
// workload thread does its work in an instant and then sleeps until its
// next tick or request, as a timer-paced process does (idle to PSI), so
// it is non-idle only while it stalls. A Go mutator allocates all the
// time and counts as non-idle throughout. A group with no always-running
// member is therefore fully stalled whenever some member is; one with such
// members only while all of them are stalled. What this leaves out: real
// tasks spend CPU time between stalls (a page fault, a copy out of the
// page cache), during which a stall elsewhere is "some" but not "full"; a
// real host's full time is somewhat below its some time (measured by the
// sim-to-real suite: 132 of 185 ms in cache-anon-swappiness0). For the
// same reason the machine's some is the union of its tasks' stalls,
// where Linux averages it over the CPUs weighted by each CPU's non-idle
// time (kernel/sched/psi.c, collect_percpu_times): a stall on one CPU
// while a task runs on another counts about half there. A host's some is
// therefore below the model's when a stalled task's neighbours spend CPU
// time (the suite's five stalling cases: the simulation 10-25 % above
// the host on a quiet host; one CPU kept busy by another process cut
// the host's figure by 44 %). A dead task leaves its groups.
type pressure struct {
	groups []psiGroup
	ents   []psiEntity
}

// psiGroup is one group's PSI state. someNs is accounted eagerly, to the
// end of the latest stall (someUntil); fullNs up to lastNs, with
// fullUntil the end of the current full stall as of lastNs.
type psiGroup struct {
	someNs, fullNs int64
	someUntil      int64
	lastNs         int64
	fullUntil      int64
	runners        []int // entities that are never idle
}

type psiEntity struct {
	stalledUntil int64
	groups       []int
	runner       bool
	dead         bool
}

// newPressure returns PSI state for n groups (the machine is group 0).
func newPressure(n int) *pressure { return &pressure{groups: make([]psiGroup, n)} }

// entity adds a stalling unit (a task, or a workload thread) that belongs
// to groups, and returns its id. A runner is never idle.
func (p *pressure) entity(groups []int, runner bool) int {
	id := len(p.ents)
	p.ents = append(p.ents, psiEntity{groups: groups, runner: runner})
	if runner {
		for _, g := range groups {
			p.groups[g].runners = append(p.groups[g].runners, id)
		}
	}
	return id
}

// stall records that entity e is stalled on memory from now for d ns.
func (p *pressure) stall(e int, now, d int64) {
	if d <= 0 {
		return
	}
	ent := &p.ents[e]
	end := now + d
	for _, gi := range ent.groups {
		g := &p.groups[gi]
		g.advance(now)
		g.someNs += max(0, end-max(now, g.someUntil))
		g.someUntil = max(g.someUntil, end)
	}
	ent.stalledUntil = max(ent.stalledUntil, end)
	for _, gi := range ent.groups {
		p.refresh(gi, now)
	}
}

// die takes entity e out of its groups' non-idle members at now.
func (p *pressure) die(e int, now int64) {
	ent := &p.ents[e]
	if ent.dead {
		return
	}
	ent.dead = true
	for _, gi := range ent.groups {
		p.groups[gi].advance(now)
		p.refresh(gi, now)
	}
}

// advance accounts group g's full stall up to now.
func (g *psiGroup) advance(now int64) {
	if now <= g.lastNs {
		return
	}
	if g.fullUntil > g.lastNs {
		g.fullNs += min(now, g.fullUntil) - g.lastNs
	}
	g.lastNs = now
}

// refresh recomputes until when group gi stays fully stalled, as of now.
func (p *pressure) refresh(gi int, now int64) {
	g := &p.groups[gi]
	until, live := int64(-1), 0
	for _, e := range g.runners {
		ent := &p.ents[e]
		if ent.dead {
			continue
		}
		live++
		if until < 0 || ent.stalledUntil < until {
			until = ent.stalledUntil
		}
	}
	if live == 0 {
		until = g.someUntil
	}
	g.fullUntil = max(until, now)
}

// totals returns group gi's some and full stall time up to endNs, in
// microseconds as the kernel reports them ("total=").
func (p *pressure) totals(gi int, endNs int64) (someUs, fullUs int64) {
	g := p.groups[gi]
	g.advance(endNs)
	some := g.someNs - max(0, g.someUntil-endNs)
	return some / 1000, g.fullNs / 1000
}
