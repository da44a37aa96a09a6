package goruntime

import "github.com/sbmpsim/sbmpsim/sim"

// Scavenger targets, as in Go's mgcscavenge.go.
const (
	retainExtraFrac = 1.10 // keep at most 110 % of the GOGC goal
	limitRetainFrac = 0.95 // and at most 95 % of the memory limit
)

// onTick refreshes the limit-based goal (it follows MappedBytes), may
// start a cycle, and runs the scavenger.
func (p *Program) onTick(ev sim.Event) {
	if p.cfg.MemoryLimitBytes > 0 {
		p.updatePacer()
		// Strictly past the trigger: a goal pinned at the marked heap
		// must not start a cycle every tick while nothing is allocated.
		if p.heapLive > p.trigger {
			p.maybeTrigger(ev.At)
		}
	}
	p.scavenge(ev.At)
	p.tickID = p.eng.Schedule(ev.At+p.cfg.TickNs, p.k.tick, 0, 0)
}

// scavenge releases what the program retains above its target, at most
// ScavengeBytesPerS*TickNs per tick.
func (p *Program) scavenge(now int64) {
	if p.cfg.ScavengeOff {
		return
	}
	mapped := p.heap.MappedBytes()
	var excess int64
	if g := p.percentGoal(); g != noGoal {
		excess = mapped - int64(retainExtraFrac*float64(g))
	}
	if lim := p.cfg.MemoryLimitBytes; lim > 0 {
		total := mapped + p.cfg.StacksBytes + p.cfg.GlobalsBytes
		excess = max(excess, total-int64(limitRetainFrac*float64(lim)))
	}
	budget := int64(p.cfg.ScavengeBytesPerS * float64(p.cfg.TickNs) / 1e9)
	if n := min(excess, budget); n > 0 {
		released, cost := p.heap.Scavenge(now, n)
		p.st.ScavengedBytes += released
		p.st.ScavengeNs += cost
	}
}
