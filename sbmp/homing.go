package sbmp

import "math"

// How slots find their way back to their slabs, so that slabs empty and
// Tier-1 can merge (SPEC 1.1's lazy merge needs freed slabs to merge):
//
//   - Remote frees go home. A slot freed on a CPU of another node than
//     its block's goes into the freeing node's alien cache for the owning
//     node and class; when RemoteFreeBatch slots have gathered they go
//     back to their slabs together, one transfer priced at the NUMA
//     distance (CostDrain from the owner to the freeing node). This is
//     SLAB's alien cache (mm/slab.c, v6.7: cache_free_alien puts an object
//     of another node in the alien cache, __drain_alien_cache returns a
//     full one to its node, alloc_alien_cache caps it at 12 objects).
//   - Caches are trimmed. Every IdleTrim.IntervalNs (SLAB's cache_reap
//     period, REAPTIMEOUT_AC: 2 s) each per-CPU cache gives slots back to
//     their slabs, oldest first, and every alien cache goes home (SLAB's
//     reap_alien). How many slots a cache gives back is one of two rules:
//   - LowWater (the default): a fraction of the cache's low-water mark,
//     the fewest slots it held since the last trim, which the fast path
//     did not need. This is jemalloc's thread-cache GC (tcache.c,
//     tcache_gc_small: it flushes low_water - (low_water >> 2), three
//     quarters, and resets the mark), whose bins, like Tier-0, are stacks
//     of fixed-size slots refilled and flushed in batches. A busy cache
//     that frees keep stocked gives back what it does not use; a cache that
//     ran dry (low water 0) keeps all it has.
//   - untouched only (SLAB's rule): a cache that neither served an
//     allocation nor was refilled since the last trim gives back a
//     fraction of its capacity, or half of what it holds when that is
//     fewer; a touched cache only loses the mark (mm/slab.c, v6.7:
//     drain_array skips a `touched` array_cache and clears the flag;
//     drain_array_locked frees (limit + 4) / 5 objects). A cache in use
//     every interval is never trimmed.
//   - Tier-1's queue of slabs waiting to merge decays by the same rule at
//     the same tick: under jemalloc's rule the given fraction of its
//     low-water mark (the oldest slabs, which no refill took in the whole
//     interval) is merged; under SLAB's, a queue no refill took a slab
//     from gives that fraction of what it holds. Lazily queued free
//     memory in Linux drains the same way when idle: SLAB's cache_reap
//     gives a fifth of an untouched node's free slabs back to the page
//     allocator (drain_freelist, n->free_touched), and the page
//     allocator's per-CPU lists decay towards their minimum every vmstat
//     interval, their pages going to the buddy lists, where they merge
//     (mm/page_alloc.c, v6.7: decay_pcp_high, called from
//     refresh_cpu_vm_stats). Without it a lazy-threshold queue shorter
//     than its threshold would never merge, however long it sat idle.
//     The slabs it merges are counted in Tier1DecayedSlabs and not in
//     tier1_merge_delay, whose alert reads abnormal NUMA latency (SPEC
//     1.5): their wait is the trim interval by construction.
//     Interval and fraction are merge-family parameters
//     (policy.merge_trim_*); the fraction's default, 0.75, is jemalloc's,
//     and SLAB's rule wants 0.2.
//
// Simplifications: SLAB's drain_freelist frees a fifth of the node's
// free_limit, a cap on free slabs that Tier-1's queue does not have, so
// the SLAB-rule decay takes the fraction of what the queue holds; and
// decay_pcp_high lowers a per-CPU high mark (by at most a fifth of it)
// where the decay here merges a share of the queue's low-water mark
// directly, as the Tier-0 trim does. SLAB keeps alien caches per node
// and per cache under a lock; SBMP's are per node and class, and one
// goroutine drives the allocator, so there is no lock to model. SLAB
// staggers each CPU's reap (start_cpu_timer); here every CPU is trimmed
// at the same tick, and the trim is background work: no allocation waits
// for it, so it adds no allocation latency (its effect is the refills it
// causes later).

// alienLimit is SLAB's alien cache size (alloc_alien_cache).
const alienLimit = 12

// alienSlot is a slot freed away from its node, on its way home.
type alienSlot struct {
	addr    uint64
	freedAt int64
}

// IdleTrim is how per-CPU caches are trimmed.
type IdleTrim struct {
	// IntervalNs is the time between trims; 0 turns trimming off.
	IntervalNs int64
	// Fraction is, with LowWater, the share of its low-water mark a cache
	// gives back; without, the share of its capacity an untouched cache
	// gives back (at most half of what it holds).
	Fraction float64
	// LowWater picks jemalloc's rule; false, SLAB's (untouched caches
	// only).
	LowWater bool
}

// DefaultIdleTrim trims every 2 s (SLAB's REAPTIMEOUT_AC) by jemalloc's
// rule: three quarters of each cache's low-water mark.
func DefaultIdleTrim() IdleTrim { return IdleTrim{IntervalNs: 2e9, Fraction: 0.75, LowWater: true} }

// lowWaterShare is what jemalloc's rule gives back of a low-water mark of
// low: the fraction of it, rounded up (tcache_gc_small keeps a quarter,
// rounded down: low - low>>2 for three quarters).
func (t IdleTrim) lowWaterShare(low int) int { return low - int(float64(low)*(1-t.Fraction)) }

// shareOf is SLAB's rule's share of n: the fraction of it, rounded up.
// The product is rounded before the sum, so that no architecture fuses
// them into one multiply-add (the same bytes on arm64).
func (t IdleTrim) shareOf(n int) int { return int(float64(float64(n)*t.Fraction) + 0.999999) }

// IdleTrimmer is an optional interface of a MergePolicy: the idle trim it
// goes with. Trimming belongs to the merge family because what it returns
// is what merging coalesces. A merge policy without it gets
// DefaultIdleTrim.
type IdleTrimmer interface {
	IdleTrim() IdleTrim
}

// untouched is the low-water mark of a cache, under SLAB's trim rule,
// that neither served nor was refilled since the last trim.
const untouched = math.MaxInt32

// setTrim takes t as the trim, and restarts the caches' marks for its
// rule.
func (a *Allocator) setTrim(t IdleTrim) {
	a.trim = t
	for cpu := range a.cpus {
		st := &a.cpus[cpu]
		for cls := range st.low {
			st.low[cls] = int32(len(st.caches[cls]))
			if !t.LowWater {
				st.low[cls] = untouched
			}
		}
	}
}

func trimOf(m MergePolicy) IdleTrim {
	if t, ok := m.(IdleTrimmer); ok {
		return t.IdleTrim()
	}
	return DefaultIdleTrim()
}

// freeRemote sends a slot of class cls, freed on node home, towards its
// owner node; a full alien cache goes home at once. It returns the cost
// the freeing operation pays.
func (a *Allocator) freeRemote(home, owner, cls int, addr uint64) (costNs int64, err error) {
	a.stats.RemoteFrees++
	l := &a.alien[home][owner*len(a.cfg.SlotSizes)+cls]
	*l = append(*l, alienSlot{addr: addr, freedAt: a.env.Clock.Now()})
	if len(*l) < a.cfg.RemoteFreeBatch {
		return 0, nil
	}
	costNs, err = a.sendHome(home, owner, cls)
	if err != nil {
		return costNs, err
	}
	mc, err := a.maybeMerge(a.env.Clock.Now())
	return costNs + mc, err
}

// sendHome returns the alien cache of (home, owner, cls) to its slabs.
func (a *Allocator) sendHome(home, owner, cls int) (costNs int64, err error) {
	l := &a.alien[home][owner*len(a.cfg.SlotSizes)+cls]
	if len(*l) == 0 {
		return 0, nil
	}
	size := a.cfg.SlotSizes[cls]
	for _, s := range *l {
		if err := a.returnSlot(s.addr, cls, size, s.freedAt); err != nil {
			return 0, err
		}
	}
	a.stats.RemoteFlushes++
	costNs = a.env.Cost.CostNs(CostDrain, owner, home, int64(len(*l))*size)
	*l = (*l)[:0]
	return costNs, nil
}

// flushAliens sends every alien cache home, without merging.
func (a *Allocator) flushAliens() (costNs int64, err error) {
	classes := len(a.cfg.SlotSizes)
	for home := range a.alien {
		for i := range a.alien[home] {
			c, err := a.sendHome(home, i/classes, i%classes)
			if err != nil {
				return costNs, err
			}
			costNs += c
		}
	}
	return costNs, nil
}

// mark is the mark a trim leaves on a cache that holds n slots.
func (a *Allocator) mark(n int) int32 {
	if a.trim.LowWater {
		return int32(n)
	}
	return untouched
}

// decayPending merges, node by node, the part of Tier-1's pending queue
// the trim rule gives back (see the doc above), oldest first, and
// returns wholly free blocks to Tier-2 as a policy merge does. It is
// background work, like the trim: no allocation waits for it.
func (a *Allocator) decayPending(now int64) {
	for node := range a.t1.nodes {
		tn := &a.t1.nodes[node]
		var n int
		if a.trim.LowWater {
			n = a.trim.lowWaterShare(min(tn.pendingLow, len(tn.pending)))
		} else if !tn.pendingTouched {
			n = a.trim.shareOf(len(tn.pending))
		}
		tn.pendingTouched = false
		if n > 0 {
			_, whole := a.t1.mergeOldest(node, n, now, false)
			a.stats.Tier1DecayedSlabs += int64(n)
			a.returnBlocks(node, whole)
		}
		tn.pendingLow = len(tn.pending)
	}
}

// trimIdle is one trim of every cache by the trim's rule; the alien
// caches go home. The caller decays Tier-1's queue and merges
// afterwards.
func (a *Allocator) trimIdle(now int64) error {
	a.stats.Trims++
	want := a.trim.shareOf(a.cfg.Tier0CapacitySlots)
	for cpu := range a.cpus {
		st := &a.cpus[cpu]
		for cls := range st.caches {
			c := &st.caches[cls]
			var n int
			if a.trim.LowWater {
				n = a.trim.lowWaterShare(int(st.low[cls]))
			} else if st.low[cls] == untouched {
				n = want
				if n > len(*c) {
					n = (len(*c) + 1) / 2
				}
			}
			st.low[cls] = a.mark(len(*c) - n)
			if n == 0 {
				continue
			}
			size := a.cfg.SlotSizes[cls]
			for _, addr := range (*c)[:n] {
				if err := a.returnSlot(addr, cls, size, now); err != nil {
					return err
				}
			}
			*c = (*c)[:copy(*c, (*c)[n:])]
			a.stats.TrimmedSlots += int64(n)
		}
	}
	_, err := a.flushAliens()
	return err
}
