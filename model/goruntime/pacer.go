package goruntime

// Pacer constants, as in Go's mgcpacer.go.
const (
	heapMinimumBytes      = 4 << 20 // goal floor at GOGC=100, scaled by GOGC/100
	triggerMinFrac        = 0.7     // trigger at least this far from marked to goal
	triggerMaxFrac        = 0.95    // and at most this far
	limitHeadroomFrac     = 0.03    // the limit goal keeps 3 % headroom
	limitHeadroomMinBytes = 1 << 20 // and at least 1 MiB
	bgMarkFrac            = 0.25    // background mark workers per P
)

// percentGoal is the GOGC goal for the current marked heap, or noGoal.
func (p *Program) percentGoal() int64 {
	if p.cfg.GOGC < 0 {
		return noGoal
	}
	g := float64(p.cfg.GOGC) / 100
	roots := p.cfg.StacksBytes + p.cfg.GlobalsBytes
	goal := p.heapMarked + int64(float64(p.heapMarked+roots)*g)
	return max(goal, int64(heapMinimumBytes*g))
}

// limitGoal is the GOMEMLIMIT goal, or noGoal without a limit. It asks the
// heap for MappedBytes, so it follows fragmentation and retained memory.
func (p *Program) limitGoal() int64 {
	if p.cfg.MemoryLimitBytes == 0 {
		return noGoal
	}
	nonHeap := p.heap.MappedBytes() - p.heapAlloc + p.cfg.StacksBytes + p.cfg.GlobalsBytes
	goal := p.cfg.MemoryLimitBytes - nonHeap
	headroom := max(int64(float64(goal)*limitHeadroomFrac), limitHeadroomMinBytes)
	if goal < 2*headroom {
		goal = headroom
	} else {
		goal -= headroom
	}
	return max(goal, p.heapMarked)
}

// allocBytesPerNs is the mutator's expected allocation rate now, leak
// included. The pacer uses the configured rates where Go measures them.
func (p *Program) allocBytesPerNs() float64 {
	r := p.cfg.AllocBytesPerS
	if p.leakGap > 0 && p.eng.Now() >= p.startNs+p.cfg.LeakFromNs {
		r += p.cfg.LeakBytesPerS
	}
	return r / 1e9
}

// markWorkBytes is what a cycle starting now would scan.
func (p *Program) markWorkBytes() int64 {
	return p.live.bytes + p.st.LeakedBytes + p.cfg.StacksBytes + p.cfg.GlobalsBytes
}

// bgMarkNs is how long background-only marking of work bytes takes.
func (p *Program) bgMarkNs(work int64) float64 {
	return float64(work) / (p.cfg.MarkBytesPerNs * bgMarkFrac * float64(p.cfg.GOMAXPROCS))
}

// updatePacer recomputes the goal and the trigger.
func (p *Program) updatePacer() {
	p.goal = min(p.percentGoal(), p.limitGoal())
	if p.goal == noGoal {
		p.trigger = noGoal
		return
	}
	headroom := float64(p.goal - p.heapMarked)
	runway := float64(p.allocBytesPerNs() * p.bgMarkNs(p.heapMarked+p.cfg.StacksBytes+p.cfg.GlobalsBytes))
	t := float64(p.goal) - runway
	t = max(t, float64(p.heapMarked)+float64(triggerMinFrac*headroom))
	t = min(t, float64(p.heapMarked)+float64(triggerMaxFrac*headroom))
	p.trigger = int64(t)
}

// maybeTrigger starts a cycle if the pacer's heap has reached the trigger.
func (p *Program) maybeTrigger(now int64) {
	if p.ph == phaseOff && p.st.Dead == Alive && p.heapLive >= p.trigger {
		p.startCycle(now, false)
	}
}

// limiter is Go's GC CPU limiter: a bucket that fills with GC CPU time and
// drains with mutator CPU time, in CPU-ns. While it is full, assists are
// off.
type limiter struct {
	capacity float64
	level    float64
	procs    int
	lastNs   int64
	gcFrac   float64 // fraction of the Ps doing GC since lastNs
}

// advance accounts for the time up to now at the current fraction, then
// switches to fraction f.
func (l *limiter) advance(now int64, f float64) {
	dt := float64(now - l.lastNs)
	l.level += float64((float64(2*l.gcFrac) - 1) * float64(l.procs) * dt)
	l.level = min(max(l.level, 0), l.capacity)
	l.lastNs, l.gcFrac = now, f
}

// full reports whether GC has used more than half the CPU for long enough
// to fill the bucket.
func (l *limiter) full() bool { return l.level >= l.capacity }
