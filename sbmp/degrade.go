package sbmp

import "fmt"

// Degrade episodes (SPEC 1.3, 2.6, read with hysteresis; the package doc
// says why). An episode begins when an allocation finds its Tier-0 cache
// empty and the refill finds nothing: the allocator flushes every per-CPU
// cache (SPEC 2.6) and the degrade policy decides what the allocation
// gets. While the episode lasts, a failed refill goes straight to the
// degrade policy, without a second flush. The episode ends at a refill of
// the slow path that finds slots, once both conditions of the policy's
// DegradeHysteresis hold.

// DegradeHysteresis says when a degrade episode may end: at a refill that
// found slots, once at least MinDwellNs have passed since the episode
// began and the last ExitRefills refills of the slow path (on any CPU)
// all found slots. Entering stays as SPEC 2.6 has it (Tier-0 empty and
// the refill found nothing). Both are SBMP design parameters: the seed
// says when degrade starts, not when it stops. MinDwellNs 0 with
// ExitRefills 1 is degrade without hysteresis: an episode ends at the
// first refill that finds slots.
type DegradeHysteresis struct {
	// MinDwellNs is the shortest an episode lasts, in ns. Default 1 s:
	// SPEC 1.5's fallback_to_tier2 alert is a rate per second, so an
	// episode then spans at least one of its windows, and SPEC 2.6's
	// flush (every CPU's cache, the dearest thing degrade does) happens
	// at most once a second however the refills flap.
	MinDwellNs int64
	// ExitRefills is how many refills in a row, on any CPU, must find
	// slots; a refill that finds nothing starts the count again. Default
	// 1, leaving the timing to MinDwellNs: being in an episode changes
	// no allocation's path (each still tries its refill first), it only
	// holds back the next flush, so the exit condition decides how often
	// SPEC 2.6's flush can recur, and the dwell bounds that already. A
	// longer run (say one refill per CPU of a node) would make the exit
	// hang on how refills of unrelated CPUs interleave: under a
	// workload that stays marginal the episode, once begun, would last
	// the whole run, and slots stranded in some CPUs' caches while
	// others starve, which SPEC 2.6's flush is for, would never be
	// flushed again.
	ExitRefills int
}

// DefaultDegradeHysteresis returns the defaults: 1 s of dwell, one refill
// that finds slots.
func DefaultDegradeHysteresis() DegradeHysteresis {
	return DegradeHysteresis{MinDwellNs: 1e9, ExitRefills: 1}
}

// check says what is wrong with h, if anything.
func (h DegradeHysteresis) check() error {
	switch {
	case h.MinDwellNs < 0:
		return fmt.Errorf("MinDwellNs must be >= 0, got %d", h.MinDwellNs)
	case h.ExitRefills < 1:
		return fmt.Errorf("ExitRefills must be >= 1, got %d", h.ExitRefills)
	}
	return nil
}

// DegradeHysteresisPolicy is an optional interface of a DegradePolicy:
// the hysteresis its episodes run with. A policy without it runs with
// DefaultDegradeHysteresis. The allocator reads it at New and at
// SetPolicies.
type DegradeHysteresisPolicy interface {
	Hysteresis() DegradeHysteresis
}

// hysteresisOf returns p's hysteresis, or the defaults.
func hysteresisOf(p DegradePolicy) DegradeHysteresis {
	if hp, ok := p.(DegradeHysteresisPolicy); ok {
		return hp.Hysteresis()
	}
	return DefaultDegradeHysteresis()
}

// DegradeSmallCost is what a small request (one a Tier-0 class holds)
// costs when degrade serves it from Tier-2: the degrade policies' second
// shared parameter, an SBMP design choice that SPEC 2.5 leaves open.
type DegradeSmallCost uint8

// The costs of a degraded small request.
const (
	// DegradeSmallBlock gives each degraded small request a fallback
	// block of its own from the page cache: at least 8 KiB, SPEC 2.5's
	// smallest system allocation, for an object of 64 B. It is the
	// default, the footprint cost of degrading that SPEC 1.3 describes.
	DegradeSmallBlock DegradeSmallCost = iota
	// DegradeSmallCarve carves fallback blocks (8 KiB, or one slot when
	// the class is larger) into slots of the request's class, shared by
	// the degraded requests of that class on the node, taken and given
	// back under the slow-path lock (carve.go). A block goes back to the
	// page cache when its last slot is freed.
	DegradeSmallCarve
	numDegradeSmallCosts
)

// DegradeSmallCostPolicy is an optional interface of a DegradePolicy:
// what its degraded small requests cost. A policy without it gives
// each a block (DegradeSmallBlock). The allocator reads it at New and at
// SetPolicies.
type DegradeSmallCostPolicy interface {
	SmallCost() DegradeSmallCost
}

// smallCostOf returns p's small-request cost, or the default.
func smallCostOf(p DegradePolicy) DegradeSmallCost {
	if sp, ok := p.(DegradeSmallCostPolicy); ok {
		return sp.SmallCost()
	}
	return DegradeSmallBlock
}

// WithHysteresis returns p running with hysteresis h: its Name and
// OnExhausted are p's, and so is its small-request cost.
func WithHysteresis(p DegradePolicy, h DegradeHysteresis) DegradePolicy {
	w := withSettings(p)
	w.h = h
	return w
}

// WithSmallCost returns p with degraded small requests costing c: its
// Name and OnExhausted are p's, and so is its hysteresis.
func WithSmallCost(p DegradePolicy, c DegradeSmallCost) DegradePolicy {
	w := withSettings(p)
	w.small = c
	return w
}

// degradeWith is a degrade policy with the settings all degrade policies
// share; the With functions set them one at a time.
type degradeWith struct {
	DegradePolicy
	h     DegradeHysteresis
	small DegradeSmallCost
}

// withSettings returns p as a degradeWith, with p's settings.
func withSettings(p DegradePolicy) degradeWith {
	if w, ok := p.(degradeWith); ok {
		return w
	}
	return degradeWith{DegradePolicy: p, h: hysteresisOf(p), small: smallCostOf(p)}
}

// Hysteresis implements DegradeHysteresisPolicy.
func (p degradeWith) Hysteresis() DegradeHysteresis { return p.h }

// SmallCost implements DegradeSmallCostPolicy.
func (p degradeWith) SmallCost() DegradeSmallCost { return p.small }

// checkDegradeSettings says what is wrong with p's shared settings.
func checkDegradeSettings(p DegradePolicy) error {
	if err := hysteresisOf(p).check(); err != nil {
		return fmt.Errorf("hysteresis: %w", err)
	}
	if c := smallCostOf(p); c >= numDegradeSmallCosts {
		return fmt.Errorf("small cost %d is not a DegradeSmallCost", c)
	}
	return nil
}

// degradeEpisode is the state of degrade beside Allocator.degraded, which
// says whether an episode is open.
type degradeEpisode struct {
	hyst    DegradeHysteresis
	small   DegradeSmallCost // what a degraded small request costs
	beganNs int64            // when the open episode began
	// foundInRow counts the slow path's refills that found slots since
	// the last one that found nothing (or since the episode began).
	foundInRow int
	// owedNs[k] is the cost of flushing CPU k's cache at the start of an
	// episode that CPU k has not paid yet: its next slow path pays it
	// (payFlushDebt).
	owedNs []int64
	// flushNs[k] is CPU k's share of the last flushAll's cost: emptying
	// its own cache.
	flushNs []int64
}

// beginDegrade opens an episode for an allocation on cpu and flushes
// every per-CPU cache at once (SPEC 2.6: no slot may stay cached while
// free in the pool). Each CPU pays for emptying its own cache: cpu's
// share, and the merges the flush set off, are the entering allocation's
// cost, returned; every other CPU's share is owed by that CPU, to its
// next slow path (the package doc says why).
func (a *Allocator) beginDegrade(cpu int) (costNs int64) {
	a.degraded = true
	a.stats.DegradeEntries++
	a.deg.beganNs = a.env.Clock.Now()
	a.deg.foundInRow = 0
	costNs = a.flushAll()
	for k, share := range a.deg.flushNs {
		if k != cpu {
			a.deg.owedNs[k] += share
			costNs -= share
		}
	}
	return costNs
}

// payFlushDebt returns the flush cost cpu owes and clears it; the slow
// path of cpu's allocations calls it, so the debt lands in that
// allocation's latency and in AllocStallNs.
func (a *Allocator) payFlushDebt(cpu int) int64 {
	d := a.deg.owedNs[cpu]
	a.deg.owedNs[cpu] = 0
	return d
}

// degradeRefillFound notes a refill of the slow path that found slots,
// and ends the open episode when its hysteresis allows.
func (a *Allocator) degradeRefillFound() {
	if !a.degraded {
		return
	}
	a.deg.foundInRow++
	if now := a.env.Clock.Now(); a.deg.foundInRow >= a.deg.hyst.ExitRefills && now-a.deg.beganNs >= a.deg.hyst.MinDwellNs {
		a.endDegrade(now)
	}
}

// endDegrade closes the open episode at now.
func (a *Allocator) endDegrade(now int64) {
	a.degraded = false
	a.stats.DegradeExits++
	a.stats.DegradedNs += now - a.deg.beganNs
}

// Retire tells the allocator that it takes no more allocations: it was
// swapped out (Switcher.Swap calls it) or its process died. An open
// degrade episode ends now (and counts as an exit): nothing else would
// end it, and its time in degrade would grow for ever. The allocator may
// still serve frees.
func (a *Allocator) Retire() {
	if a.degraded {
		a.endDegrade(a.env.Clock.Now())
	}
}

// degrade handles an allocation Tier-0 and Tier-1 could not serve: it
// opens a degrade episode unless one is open (degrade.go), then asks the
// degrade policy.
func (a *Allocator) degrade(cpu, cls int, size int64, costNs int64, attempt int) AllocResult {
	if !a.degraded {
		// SPEC 2.6: on entering degrade, flush every per-CPU cache back
		// to the shared pool, so that no block is cached on one CPU while
		// another starves, and merge what that frees; then retry the
		// refill once. The retry does not count towards the episode's
		// exit: it is part of the entry.
		costNs += a.beginDegrade(cpu)
		r, ok := a.retryRefill(cpu, cls, &costNs)
		if ok {
			return r
		}
	} else {
		// A refill found nothing inside the episode: no second flush, and
		// the run of refills that found slots starts again.
		a.deg.foundInRow = 0
	}
	d := a.cfg.Degrade.OnExhausted(DegradeState{CPU: cpu, Class: cls, NowNs: a.env.Clock.Now(), Attempt: attempt})
	switch d.Action {
	case DegradeWait:
		a.stats.AllocStallNs += costNs
		return AllocResult{CostNs: costNs, RetryAfterNs: max(d.WaitNs, 1)}
	case DegradeStealRemote:
		home := a.env.Topology.NodeOfCPU(cpu)
		c := &a.cpus[cpu].caches[cls]
		for _, node := range a.env.Topology.NodesByDistance(home) {
			before := len(*c)
			a.takeSlots(cpu, node, cls, a.cfg.Tier0CapacitySlots/2, false)
			if moved := len(*c) - before; moved > 0 {
				a.stats.RefillsRemote++
				return a.popRefilled(cpu, cls, costNs+a.env.Cost.CostNs(CostRefillRemote, node, home, int64(moved)*a.cfg.SlotSizes[cls]))
			}
		}
		// The refill that failed has already looked at every node's
		// slabs (what the loop above retries): what no refill reaches
		// are the slots other CPUs hold in their caches, stranded there
		// while this CPU starves (SPEC 1.3's tier imbalance). Take up to
		// half of each, nearest node first.
		for _, node := range a.env.Topology.NodesByDistance(home) {
			if moved := a.stealPeers(cpu, node, cls, a.cfg.Tier0CapacitySlots/2); moved > 0 {
				op := CostRefillLocal
				if node != home {
					op = CostRefillRemote
					a.stats.RefillsRemote++
				}
				return a.popRefilled(cpu, cls, costNs+a.env.Cost.CostNs(op, node, home, int64(moved)*a.cfg.SlotSizes[cls]))
			}
		}
	case DegradeReclaimFirst:
		costNs += a.flushAll()
		if r, ok := a.retryRefill(cpu, cls, &costNs); ok {
			return r
		}
	case DegradeFail:
		a.stats.AllocFailures++
		a.stats.AllocStallNs += costNs
		return AllocResult{CostNs: costNs}
	}
	// The slow path so far (failed refills, flushes) is stall time of this
	// allocation whatever Tier-2 answers. A small request takes a block
	// of its own, or a slot of a carved one (DegradeSmallCost).
	a.stats.AllocStallNs += costNs
	var r AllocResult
	if a.deg.small == DegradeSmallCarve {
		r = a.allocCarved(cpu, cls, size)
	} else {
		r = a.allocTier2(cpu, size, true)
	}
	if r.OK {
		a.stats.Tier2Fallbacks++
	}
	r.CostNs += costNs
	return r
}

// retryRefill refills once more after a flush and serves from the cache.
// The refill's cost is added to *costNs whether or not it found slots.
func (a *Allocator) retryRefill(cpu, cls int, costNs *int64) (AllocResult, bool) {
	c, got := a.refill(cpu, cls)
	*costNs += c
	if got == 0 {
		return AllocResult{}, false
	}
	return a.popRefilled(cpu, cls, *costNs), true
}

// popRefilled serves an allocation from a cache just refilled.
func (a *Allocator) popRefilled(cpu, cls int, costNs int64) AllocResult {
	c := &a.cpus[cpu].caches[cls]
	addr := (*c)[len(*c)-1]
	*c = (*c)[:len(*c)-1]
	a.stats.Tier1Allocs++
	a.stats.AllocStallNs += costNs
	return AllocResult{Addr: addr, OK: true, Tier: 1, CostNs: costNs}
}

// Flush returns every CPU's cached slots to their slabs and merges what
// that frees, as entering degrade does (SPEC 2.6); reclaim-first policies
// and hot swaps call it too. It returns the modelled cost.
func (a *Allocator) Flush() int64 { return a.flushAll() }

// flushAll returns every CPU's cached slots to their slabs (SPEC 2.6).
// It returns the whole cost; each CPU's share (emptying its own cache) is
// left in a.deg.flushNs, for beginDegrade to charge to that CPU.
func (a *Allocator) flushAll() (costNs int64) {
	a.stats.Flushes++
	now := a.env.Clock.Now()
	for cpu := range a.cpus {
		before := costNs
		node := a.env.Topology.NodeOfCPU(cpu)
		for cls, c := range a.cpus[cpu].caches {
			for _, addr := range c {
				if err := a.returnSlot(addr, cls, a.cfg.SlotSizes[cls], now); err != nil {
					panic(err) // the cache held a slot its slab does not know: an allocator bug
				}
			}
			costNs += a.env.Cost.CostNs(CostFlush, node, node, int64(len(c))*a.cfg.SlotSizes[cls])
			a.cpus[cpu].caches[cls] = c[:0]
			a.cpus[cpu].lowTo(cls)
		}
		a.deg.flushNs[cpu] = costNs - before
	}
	fc, err := a.flushAliens()
	if err != nil {
		panic(err) // an alien cache held a slot its slab does not know: an allocator bug
	}
	costNs += fc
	mc, err := a.maybeMerge(now)
	if err != nil {
		panic(err)
	}
	costNs += mc
	return costNs
}
