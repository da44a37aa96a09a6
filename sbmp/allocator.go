package sbmp

import (
	"fmt"
	"slices"
)

// Config sets the allocator's shape. Zero fields take the defaults of
// DefaultConfig.
type Config struct {
	// SlotSizes are the Tier-0 size classes in bytes, increasing powers of
	// two from 8 to 64 KiB (SPEC 1.2's 64 B / 256 B / 1 KiB by default).
	SlotSizes []int64
	// Tier0CapacitySlots is the most slots one CPU caches per class.
	Tier0CapacitySlots int
	// BlockOrder is the Tier-1 block size as a page order: 9 for 2 MiB,
	// 10 for 4 MiB.
	BlockOrder int
	// RetainBlocks is how many wholly free blocks a node's Tier-1 keeps
	// after a merge before returning the rest to Tier-2.
	RetainBlocks int
	// Merge, Refill and Degrade are the swappable policies; nil takes the
	// built-in defaults (lazy threshold of 32, fixed batch of 64 local
	// first, immediate Tier-2).
	Merge   MergePolicy
	Refill  RefillPolicy
	Degrade DegradePolicy
	// PageCache configures Tier-2's fallback page cache; nil takes
	// DefaultPageCacheConfig.
	PageCache *PageCacheConfig
	// SlabSelect is the order in which refills take partly used slabs
	// (default SlabFullest).
	SlabSelect SlabSelect
	// RemoteFreeBatch is how many slots of one class freed on a node
	// other than their own gather before they go home together (SLAB's
	// alien caches: alloc_alien_cache in mm/slab.c caps them at 12, the
	// default). Negative: a remote free stays in the freeing CPU's cache,
	// and is later handed out there as a local slot (what SBMP did before
	// remote frees went home; for A/B comparisons).
	RemoteFreeBatch int
	// FSM holds the design parameters of the FSM's drift and fault
	// signals (fsmdrive.go); zero fields take DefaultFSMConfig's.
	FSM FSMConfig
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{SlotSizes: []int64{64, 256, 1024}, Tier0CapacitySlots: 512, BlockOrder: 9, RetainBlocks: 1, RemoteFreeBatch: alienLimit}
}

func (c *Config) fill() error {
	d := DefaultConfig()
	if len(c.SlotSizes) == 0 {
		c.SlotSizes = d.SlotSizes
	}
	if c.Tier0CapacitySlots == 0 {
		c.Tier0CapacitySlots = d.Tier0CapacitySlots
	}
	if c.BlockOrder == 0 {
		c.BlockOrder = d.BlockOrder
	}
	if c.RetainBlocks == 0 {
		c.RetainBlocks = d.RetainBlocks
	}
	if c.RemoteFreeBatch == 0 {
		c.RemoteFreeBatch = d.RemoteFreeBatch
	}
	if err := c.FSM.fill(); err != nil {
		return err
	}
	if c.SlabSelect >= numSlabSelect {
		return &ConfigError{Field: "Config.SlabSelect", Msg: fmt.Sprintf("unknown slab selection %d", c.SlabSelect)}
	}
	for i, s := range c.SlotSizes {
		if s < 8 || s > 1<<slabShift || s&(s-1) != 0 || (i > 0 && s <= c.SlotSizes[i-1]) {
			return &ConfigError{Field: "Config.SlotSizes", Msg: fmt.Sprintf("must be increasing powers of two in 8..65536, got %v", c.SlotSizes)}
		}
	}
	if c.BlockOrder != 9 && c.BlockOrder != 10 {
		return &ConfigError{Field: "Config.BlockOrder", Msg: fmt.Sprintf("must be 9 (2 MiB) or 10 (4 MiB), got %d", c.BlockOrder)}
	}
	if c.Tier0CapacitySlots < 2 {
		return &ConfigError{Field: "Config.Tier0CapacitySlots", Msg: "must be at least 2"}
	}
	if c.Merge == nil {
		c.Merge = LazyThresholdMerge{Threshold: 32}
	}
	if c.Refill == nil {
		c.Refill = &FixedBatchRefill{Slots: 64}
	}
	if c.Degrade == nil {
		c.Degrade = ImmediateTier2{}
	}
	if err := checkDegradeSettings(c.Degrade); err != nil {
		return &ConfigError{Field: "Config.Degrade", Msg: err.Error()}
	}
	if c.PageCache == nil {
		d := DefaultPageCacheConfig()
		c.PageCache = &d
	}
	return nil
}

// cpuState is one CPU's Tier-0: a stack of free slots per class, and the
// FSM and SyncBuffer that follow its refills (SPEC 2.1, 2.2).
type cpuState struct {
	caches [][]uint64
	// hitNs[cls] is the cost of a Tier-0 hit of class cls on this CPU,
	// asked of the cost model once at New: the fast path touches only the
	// CPU's own cache, so its price does not change, and the fast path
	// then makes no interface call.
	hitNs []int64
	fsm   FSM
	sync  SyncBuffer
	fsmx  cpuFSM // what drives fsm: fsmdrive.go
	// used has bit c set once this CPU has asked for class c with an
	// empty cache (its first allocation of c, unless frees stocked it
	// first): the CPUs SPEC 1.5's tier0_free_avg averages over.
	used uint32
	// low[c] is class c's low-water mark since the last trim: the fewest
	// slots the cache held (jemalloc's cache_bin low_water, kept by
	// cache_bin_low_water_adjust on every allocation). Under SLAB's trim
	// rule a trim sets it to untouched instead, and any allocation or
	// refill lowers it, which is SLAB's array_cache.touched (set in
	// ____cache_alloc and cache_alloc_refill) without a second store on
	// the fast path.
	low []int32
	// node is the CPU's memory node (the topology is fixed for a run).
	node int
}

// slabState is a slab carved into slots of one class. A slab keeps no
// per-object metadata: only how far it is carved and the offsets drained
// back into it.
type slabState struct {
	addr   uint64
	class  int // -1: not carved
	carved int32
	inUse  int32    // slots out of the slab (cached, in transit home, or live)
	free   []uint32 // offsets of drained slots
	// heapPos is the slab's position in its node's partial heap of its
	// class, -1 when it has no slot to give; key orders that heap.
	heapPos int32
	key     uint64
}

// lowTo lowers class cls's low-water mark to what the cache holds, after
// the cache shrank other than by an allocation.
func (st *cpuState) lowTo(cls int) {
	if st.low[cls] != untouched {
		st.low[cls] = min(st.low[cls], int32(len(st.caches[cls])))
	}
}

// inPartial reports whether the slab is in its partial heap.
func (s *slabState) inPartial() bool { return s.heapPos >= 0 }

// Allocator is SBMP. It is not safe for concurrent use: the simulator
// drives it from one goroutine, and the real backend shards it.
type Allocator struct {
	env     Env
	cfg     Config
	cpus    []cpuState
	t1      *tier1
	slabs   map[uint64]*slabState // by slab address
	partial [][]partialHeap       // [node][class] slabs with a slot to give
	// partialSeq counts pushes onto the partial heaps (SlabNewest's key).
	partialSeq uint64
	// alien[home][owner*classes+class] holds slots freed on node home
	// that belong to node owner, on their way home (RemoteFreeBatch).
	alien    [][][]alienSlot
	trim     IdleTrim
	nextTrim int64 // when the next idle trim is due
	fsmd     fsmDriver
	degraded bool
	stats    Stats
	// deg is the open degrade episode and its hysteresis (degrade.go).
	deg degradeEpisode
	// carve holds the fallback blocks carved for degraded small requests
	// (carve.go).
	carve carvePool
	// tier2Live maps a Tier-2 allocation's address to its size, so a
	// free finds its block without metadata in it.
	tier2Live map[uint64]int64
	// mediumLive maps a live medium allocation (a Tier-1 buddy block) to
	// its order.
	mediumLive map[uint64]int8
	// pc is Tier-2's fallback page cache (SPEC 2.5).
	pc *PageCache
	// scratch is CheckInvariants' reusable buffers.
	scratch checkScratch
}

// checkScratch holds the buffers CheckInvariants reuses from call to call,
// so that checking after every event of a long run allocates next to
// nothing. It is not state of the allocator: any call may clear it.
type checkScratch struct {
	slabs    []uint64     // carved slabs, sorted
	states   []*slabState // states[i] is slabs[i]'s
	first    []int32      // first[i]: slabs[i]'s first word in bits
	bits     []uint64     // a bit per slot: cached or drained
	cachedIn []int32      // cachedIn[i]: slots of slabs[i] cached
	listed   []bool       // listed[i]: slabs[i] has a live entry in a partial list
	carved   []int32      // carved slabs per Tier-1 block number
}

// New returns an allocator over env.
func New(env Env, cfg Config) (*Allocator, error) {
	if err := env.validate(); err != nil {
		return nil, err
	}
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	nodes, ncpu := env.Topology.NumNodes(), env.Topology.NumCPUs()
	a := &Allocator{env: env, cfg: cfg, slabs: map[uint64]*slabState{}, tier2Live: map[uint64]int64{}, mediumLive: map[uint64]int8{}}
	pc, err := NewPageCache(*cfg.PageCache, env.Pages, env.Clock)
	if err != nil {
		return nil, err
	}
	a.pc = pc
	a.deg.hyst, a.deg.small = hysteresisOf(cfg.Degrade), smallCostOf(cfg.Degrade)
	a.deg.owedNs, a.deg.flushNs = make([]int64, ncpu), make([]int64, ncpu)
	a.carve.init(nodes, len(cfg.SlotSizes))
	a.t1 = newTier1(nodes, uint(cfg.BlockOrder)+12, &a.stats)
	a.cpus = make([]cpuState, ncpu)
	for i := range a.cpus {
		a.cpus[i].caches = make([][]uint64, len(cfg.SlotSizes))
		a.cpus[i].hitNs = make([]int64, len(cfg.SlotSizes))
		a.cpus[i].low = make([]int32, len(cfg.SlotSizes))
		node := env.Topology.NodeOfCPU(i)
		a.cpus[i].node = node
		for c := range a.cpus[i].caches {
			a.cpus[i].caches[c] = make([]uint64, 0, cfg.Tier0CapacitySlots)
			a.cpus[i].hitNs[c] = env.Cost.CostNs(CostTier0Hit, node, node, cfg.SlotSizes[c])
		}
	}
	a.partial = make([][]partialHeap, nodes)
	a.alien = make([][][]alienSlot, nodes)
	for n := range a.partial {
		a.partial[n] = make([]partialHeap, len(cfg.SlotSizes))
		a.alien[n] = make([][]alienSlot, nodes*len(cfg.SlotSizes))
	}
	a.setTrim(trimOf(cfg.Merge))
	a.nextTrim = env.Clock.Now() + a.trim.IntervalNs
	a.initFSM(env.Clock.Now())
	return a, nil
}

// classOf returns the smallest class holding size, or -1 when size is
// larger than every class.
func (a *Allocator) classOf(size int64) int {
	for i, s := range a.cfg.SlotSizes {
		if size <= s {
			return i
		}
	}
	return -1
}

// AllocResult is what one allocation got and cost.
type AllocResult struct {
	Addr uint64
	OK   bool
	// Degraded reports that the allocation met the degrade condition:
	// its Tier-0 cache was empty and the refill found nothing, so degrade
	// (SPEC 2.6) and the degrade policy decided what it got. SPEC 3.3's
	// SLI counts these. (Beside OK, it costs the struct no size.)
	Degraded bool
	Tier     int   // 0, 1 or 2
	CostNs   int64 // the allocation's latency, stalls included
	// RetryAfterNs, when set on a failed result, asks the caller to retry
	// the allocation (AllocAttempt with the next attempt number) after
	// this long: the degrade policy chose to wait for a refill.
	RetryAfterNs int64
}

// Alloc allocates size bytes on cpu. The fast path pops a slot from the
// CPU's Tier-0 cache; an empty cache refills a batch from Tier-1 (the
// slow path); when Tier-1 cannot serve, the degrade policy decides.
func (a *Allocator) Alloc(cpu int, size int64) AllocResult { return a.AllocAttempt(cpu, size, 0) }

// AllocAttempt is Alloc for the attempt-th retry of an allocation that was
// told to wait (AllocResult.RetryAfterNs).
func (a *Allocator) AllocAttempt(cpu int, size int64, attempt int) AllocResult {
	if size <= 0 {
		a.stats.AllocFailures++
		return AllocResult{}
	}
	cls := a.classOf(size)
	if cls < 0 {
		if o := a.mediumOrder(size); o >= 0 {
			return a.allocMedium(cpu, size, o)
		}
		return a.allocTier2(cpu, size, false)
	}
	st := &a.cpus[cpu]
	c := &st.caches[cls]
	if n := len(*c); n > 0 {
		addr := (*c)[n-1]
		*c = (*c)[:n-1]
		if int32(n-1) < st.low[cls] {
			st.low[cls] = int32(n - 1)
		}
		a.stats.Tier0Allocs++
		return AllocResult{Addr: addr, OK: true, Tier: 0, CostNs: st.hitNs[cls]}
	}
	a.stats.FallbackCount++
	// The slow path marks the class used on this CPU: a CPU that
	// allocates the class runs dry of it (caches start empty) unless
	// frees keep it stocked. Marking here keeps the fast path free of
	// the store (measured: +2 % a pair on BenchmarkAllocFree64).
	st.used |= 1 << cls
	st.low[cls] = 0 // the cache ran dry (and, for SLAB's rule, was touched)
	cost, got := a.refill(cpu, cls)
	cost += a.payFlushDebt(cpu)
	if got == 0 {
		r := a.degrade(cpu, cls, size, cost, attempt)
		r.Degraded = true
		return r
	}
	a.degradeRefillFound()
	return a.popRefilled(cpu, cls, cost)
}

// Free frees an allocation of size bytes at addr on cpu. SBMP keeps no
// per-object header, so the caller passes the size it allocated (as
// sized delete does). A slot of the CPU's own node goes onto the CPU's
// cache, and a full cache drains half of itself back to the slabs; a slot
// of another node goes home (freeRemote).
func (a *Allocator) Free(cpu int, addr uint64, size int64) (costNs int64, err error) {
	cls := a.classOf(size)
	b := a.t1.blockOf(addr)
	if b == nil {
		return a.freeTier2(cpu, addr)
	}
	if cls < 0 {
		return a.freeMedium(cpu, addr, size)
	}
	a.stats.Frees++
	st := &a.cpus[cpu]
	cost := st.hitNs[cls]
	if b.node != st.node {
		st.noteRemoteFree() // load-drift evidence (fsmdrive.go)
		if a.cfg.RemoteFreeBatch > 0 {
			rc, err := a.freeRemote(st.node, b.node, cls, addr)
			return cost + rc, err
		}
		// The old behaviour: the slot stays in this cache. A slot of the
		// block the CPU switched to (always remote) can then come back
		// where the FSM's mark looks, even the very slot it observed:
		// forget the mark (stillServes looks again).
		if addr&^(1<<slabShift-1) == st.fsmx.slab {
			st.fsmx.mark = -1
		}
	}
	c := &st.caches[cls]
	if len(*c) == cap(*c) {
		dc, err := a.drain(cpu, cls, len(*c)/2)
		if err != nil {
			return cost, err
		}
		cost += dc
	}
	*c = append(*c, addr)
	return cost, nil
}

// refill moves a batch of slots of class cls into cpu's cache as the
// refill policy plans it: from peers' caches, from nodes' slabs, taking
// new slabs from Tier-1 and new blocks from Tier-2 into Tier-1 where the
// plan allows. It drives cpu's FSM through the refill (the doc of FSM):
// a refill that took slots from a remote node syncs, and if the sync
// fails those slots go back and an empty refill retries from the home
// node alone. It returns the cost and the number of slots moved.
func (a *Allocator) refill(cpu, cls int) (costNs int64, got int) {
	a.stats.Refills++
	st := &a.cpus[cpu]
	home := st.node
	now := a.env.Clock.Now()
	costNs = a.leaveActive(cpu, now)
	splitsBefore := a.stats.Tier1Splits
	c := &st.caches[cls]
	plan := a.cfg.Refill.Plan(RefillState{CPU: cpu, Class: cls, Home: home, Cached: len(*c), Capacity: cap(*c), NowNs: now}, a.env.Topology)
	want := min(max(plan.Batch, 1), cap(*c)-len(*c))
	size := a.cfg.SlotSizes[cls]
	if plan.StealPeers {
		moved := a.stealPeers(cpu, home, cls, want)
		got += moved
		if moved > 0 {
			costNs += a.env.Cost.CostNs(CostRefillLocal, home, home, int64(moved)*size)
		}
	}
	steps := plan.Steps
	for retried := false; ; retried = true {
		// SPEC 2.1: IDLE -> ALLOCATING when Tier-1 holds a free block the
		// plan may take; otherwise the FSM stays IDLE and the refill goes
		// on outside it (growing Tier-1 from Tier-2, or finding nothing).
		tracked := a.fsmStep(cpu, StateAllocating, TriggerAllocRequest, Facts{FreeBlocks: a.freeBlocks(steps, cls)}) == nil
		start := len(*c)
		moved, remote, remoteNode, cost := a.takeSteps(cpu, cls, steps, want-got)
		costNs += cost
		returned := 0
		if tracked {
			var sc int64
			sc, returned = a.finishRefill(cpu, cls, start, remoteNode)
			costNs += sc
		}
		got += moved - returned
		a.noteTraffic(st, now, moved-returned, remote-returned)
		if returned == 0 || got > 0 || retried {
			break
		}
		// The sync failed and took the refill's slots back: retry from
		// the home node alone, growing it if the plan would have.
		a.fsmd.retry[0] = RefillStep{Node: home}
		for _, s := range plan.Steps {
			a.fsmd.retry[0].Grow = a.fsmd.retry[0].Grow || (s.Node == home && s.Grow)
		}
		steps = a.fsmd.retry[:]
	}
	if splits := a.stats.Tier1Splits - splitsBefore; splits > 0 {
		costNs += splits * a.env.Cost.CostNs(CostSplit, home, home, 0)
	}
	return costNs, got
}

// takeSteps takes up to n slots of class cls into cpu's cache along
// steps. It returns the slots moved, those of them from remote nodes, the
// last remote node that gave any (-1: none), and the cost.
func (a *Allocator) takeSteps(cpu, cls int, steps []RefillStep, n int) (moved, remote, remoteNode int, costNs int64) {
	c := &a.cpus[cpu].caches[cls]
	home := a.cpus[cpu].node
	size := a.cfg.SlotSizes[cls]
	remoteNode = -1
	for _, step := range steps {
		if moved >= n {
			break
		}
		before := len(*c)
		costNs += a.takeSlots(cpu, step.Node, cls, n-moved, step.Grow)
		k := len(*c) - before
		if k == 0 {
			continue
		}
		moved += k
		op := CostRefillLocal
		if step.Node != home {
			op = CostRefillRemote
			a.stats.RefillsRemote++
			remote += k
			remoteNode = step.Node
		}
		costNs += a.env.Cost.CostNs(op, step.Node, home, int64(k)*size)
	}
	return moved, remote, remoteNode, costNs
}

// fsmStep moves cpu's FSM and counts a refused transition.
func (a *Allocator) fsmStep(cpu int, to State, trig Trigger, f Facts) error {
	st := &a.cpus[cpu]
	f.PendingSync = f.PendingSync || st.sync.Pending()
	err := st.fsm.Transition(to, trig, f)
	if err != nil {
		a.stats.FSMRefused++
	}
	return err
}

// FSMTransitions adds every CPU's FSM transition counts to dst, keyed
// "FROM->TO" (summary.json's fsm_transitions).
func (a *Allocator) FSMTransitions(dst map[string]uint64) {
	for i := range a.cpus {
		a.cpus[i].fsm.AddCounts(dst)
	}
}

// stealPeers moves up to n slots of class cls from the caches of other
// CPUs on node into cpu's cache, taking half of each peer's slots at most.
func (a *Allocator) stealPeers(cpu, node, cls, n int) int {
	c := &a.cpus[cpu].caches[cls]
	moved := 0
	for peer := range a.cpus {
		if moved >= n {
			break
		}
		if peer == cpu || a.env.Topology.NodeOfCPU(peer) != node {
			continue
		}
		pc := &a.cpus[peer].caches[cls]
		k := min(len(*pc)/2, n-moved)
		*c = append(*c, (*pc)[len(*pc)-k:]...)
		*pc = (*pc)[:len(*pc)-k]
		a.cpus[peer].lowTo(cls)
		moved += k
	}
	return moved
}

// takeSlots moves up to n slots of class cls from node's slabs into cpu's
// cache, growing node's Tier-1 from Tier-2 when grow is set, and returns
// the page source's stall.
func (a *Allocator) takeSlots(cpu, node, cls, n int, grow bool) (stallNs int64) {
	c := &a.cpus[cpu].caches[cls]
	size := a.cfg.SlotSizes[cls]
	perSlab := int32(1 << slabShift / size)
	for n > 0 {
		s, ok := a.partialSlab(node, cls)
		if !ok {
			slab, ok := a.t1.allocSlab(node)
			if !ok {
				if !grow {
					return stallNs
				}
				stall, grown := a.growTier1(cpu, node)
				stallNs += stall
				if !grown {
					return stallNs
				}
				continue
			}
			s := &slabState{addr: slab, class: cls, heapPos: -1}
			a.slabs[slab] = s
			a.pushPartial(node, cls, s)
			continue
		}
		addr := s.addr
		for n > 0 && len(s.free) > 0 {
			off := s.free[len(s.free)-1]
			s.free = s.free[:len(s.free)-1]
			*c = append(*c, addr+uint64(off))
			s.inUse++
			n--
		}
		for n > 0 && s.carved < perSlab {
			*c = append(*c, addr+uint64(s.carved)*uint64(size))
			s.carved++
			s.inUse++
			n--
		}
		h := &a.partial[node][cls]
		if len(s.free) == 0 && s.carved == perSlab {
			h.remove(s)
		} else if a.cfg.SlabSelect == SlabFullest {
			s.key = slabKey(SlabFullest, s, perSlab, 0)
			h.fix(int(s.heapPos))
		}
	}
	return stallNs
}

// partialSlab returns the slab of class cls on node that the slab
// selection order puts first among those with a slot to give.
func (a *Allocator) partialSlab(node, cls int) (*slabState, bool) {
	h := a.partial[node][cls]
	if len(h) == 0 {
		return nil, false
	}
	return h[0], true
}

// pushPartial puts s, which has a slot to give, into its partial heap.
func (a *Allocator) pushPartial(node, cls int, s *slabState) {
	a.partialSeq++
	s.key = slabKey(a.cfg.SlabSelect, s, a.perSlab(cls), a.partialSeq)
	a.partial[node][cls].push(s)
}

// growTier1 asks Tier-2 for a block for node's Tier-1. Costly orders fail
// rather than invoke the OOM killer (REFERENCE: PAGE_ALLOC_COSTLY_ORDER),
// so the request carries PageNoRetry.
func (a *Allocator) growTier1(cpu, node int) (stallNs int64, ok bool) {
	addr, served, stall, ok := a.env.Pages.AllocPages(cpu, node, a.cfg.BlockOrder, PageNoRetry)
	if !ok {
		return stall, false
	}
	stall += a.env.Cost.CostNs(CostTier2, served, node, 4096<<a.cfg.BlockOrder)
	if served != node {
		// The block belongs to the node that served it; the caller's
		// loop finds it through that node on a later refill.
		a.t1.addBlock(served, addr)
		a.stats.BlocksFromTier2++
		return stall, false
	}
	a.t1.addBlock(node, addr)
	a.stats.BlocksFromTier2++
	return stall, true
}

// drain returns n slots of class cls from cpu's cache to their slabs; a
// slab with nothing out goes back to Tier-1, queued for a lazy merge.
func (a *Allocator) drain(cpu, cls, n int) (costNs int64, err error) {
	a.stats.Drains++
	c := &a.cpus[cpu].caches[cls]
	home := a.env.Topology.NodeOfCPU(cpu)
	size := a.cfg.SlotSizes[cls]
	now := a.env.Clock.Now()
	// The oldest slots (the bottom of the stack) go back first.
	for _, addr := range (*c)[:n] {
		if err := a.returnSlot(addr, cls, size, now); err != nil {
			return costNs, err
		}
	}
	*c = (*c)[:copy(*c, (*c)[n:])]
	a.cpus[cpu].lowTo(cls)
	costNs += a.env.Cost.CostNs(CostDrain, home, home, int64(n)*size)
	mc, err := a.maybeMerge(now)
	return costNs + mc, err
}

// returnSlot puts one slot back into its slab. freedAt is when the slot
// left SBMP's caches for good: when it was freed, for a slot that went
// home through an alien cache, else now. A slab with nothing out goes
// back to Tier-1, queued for merging as of freedAt, so that
// tier1_merge_delay includes a remote free's way home (SPEC 1.5 reads a
// long merge delay as abnormal NUMA latency).
func (a *Allocator) returnSlot(addr uint64, cls int, size int64, freedAt int64) error {
	slab := addr &^ (1<<slabShift - 1)
	s := a.slabs[slab]
	if s == nil || s.class != cls || s.inUse == 0 {
		return fmt.Errorf("sbmp: slot %#x returned to slab %#x, which does not hold class %d slots out", addr, slab, cls)
	}
	s.free = append(s.free, uint32(addr-slab))
	s.inUse--
	b := a.t1.blockOf(slab)
	if s.inUse == 0 {
		if s.inPartial() {
			a.partial[b.node][cls].remove(s)
		}
		delete(a.slabs, slab)
		return a.t1.freeSlab(slab, freedAt)
	}
	if !s.inPartial() {
		a.pushPartial(b.node, cls, s)
	} else if a.cfg.SlabSelect == SlabFullest {
		h := a.partial[b.node][cls]
		s.key = slabKey(SlabFullest, s, a.perSlab(cls), 0)
		h.fix(int(s.heapPos))
	}
	return nil
}

// perSlab is the number of slots of class cls in a slab.
func (a *Allocator) perSlab(cls int) int32 { return int32(1 << slabShift / a.cfg.SlotSizes[cls]) }

// maybeMerge asks the merge policy, node by node, whether to coalesce the
// pending slabs now; merged wholly free blocks beyond RetainBlocks go back
// to Tier-2.
func (a *Allocator) maybeMerge(now int64) (costNs int64, err error) {
	for node := range a.t1.nodes {
		tn := &a.t1.nodes[node]
		if len(tn.pending) == 0 {
			continue
		}
		first := a.t1.blockOf(tn.pending[0])
		st := MergeState{Node: node, Pending: len(tn.pending), OldestPendingNs: first.pendingAt[a.t1.slabIndex(first, tn.pending[0])], NowNs: now, FreeFraction: -1}
		if mp, ok := a.env.Pages.(MemoryPressure); ok {
			st.FreeFraction = mp.FreeFraction(node)
		}
		if !a.cfg.Merge.ShouldMerge(st) {
			continue
		}
		merges, whole := a.t1.mergeNode(node, now)
		costNs += int64(merges) * a.env.Cost.CostNs(CostMerge, node, node, 0)
		a.returnBlocks(node, whole)
	}
	return costNs, nil
}

// returnBlocks gives wholly free blocks beyond RetainBlocks back to Tier-2.
func (a *Allocator) returnBlocks(node int, whole []*block) {
	keep := a.cfg.RetainBlocks
	// Wholly free blocks are the free heads of the top order.
	total := int64(len(a.t1.nodes[node].free[a.t1.topOrder]))
	for _, b := range whole {
		if total <= int64(keep) {
			return
		}
		a.retireBlock(b)
		a.env.Pages.FreePages(-1, b.base, a.cfg.BlockOrder)
		a.stats.BlocksToTier2++
		total--
	}
}

// retireBlock takes a wholly free block out of Tier-1, to return it to
// Tier-2. None of its slabs is in a partial heap: a slab leaves its heap
// when its last slot comes back.
func (a *Allocator) retireBlock(b *block) {
	a.t1.removeBlock(b)
}

// Scavenge returns free memory to the page source, as a Go runtime's
// scavenger or a madvise(MADV_DONTNEED) pass over free heap would: it
// coalesces every pending Tier-1 slab now, whatever the merge policy
// says, returns wholly free Tier-1 blocks (RetainBlocks does not hold them
// back), then drains the page cache, stopping once at least maxBytes went
// back (maxBytes <= 0: all it can). Slots in the per-CPU caches stay: they
// are the fast path's, and a slab with a cached slot is not free. It
// returns the bytes released and the cost of the merges.
func (a *Allocator) Scavenge(maxBytes int64) (released, costNs int64) {
	now := a.env.Clock.Now()
	blockBytes := int64(1) << (a.cfg.BlockOrder + pageShift)
	enough := func() bool { return maxBytes > 0 && released >= maxBytes }
	for node := range a.t1.nodes {
		if enough() {
			break
		}
		merges, _ := a.t1.mergeNode(node, now)
		costNs += int64(merges) * a.env.Cost.CostNs(CostMerge, node, node, 0)
		top := &a.t1.nodes[node].free[a.t1.topOrder]
		for len(*top) > 0 && !enough() {
			b := a.t1.blockOf((*top)[len(*top)-1])
			a.retireBlock(b)
			a.env.Pages.FreePages(-1, b.base, a.cfg.BlockOrder)
			a.stats.BlocksToTier2++
			released += blockBytes
		}
	}
	if !enough() {
		released += a.pc.Drain(0)
	}
	return released, costNs
}

// Tick lets time-based merge policies act without a free to trigger them,
// trims the caches and decays Tier-1's merge queue when a trim is due,
// evicts idle page-cache entries, and observes every CPU's FSM (drift
// windows, the end of ACTIVE, migrations: fsmdrive.go); the simulator
// calls it periodically.
func (a *Allocator) Tick() error {
	now := a.env.Clock.Now()
	a.pc.EvictIdle(0, now)
	trimmed := false
	if a.trim.IntervalNs > 0 && now >= a.nextTrim {
		a.nextTrim = now + a.trim.IntervalNs
		if err := a.trimIdle(now); err != nil {
			return err
		}
		trimmed = true
	}
	if _, err := a.maybeMerge(now); err != nil { // background work: nobody waits for it
		return err
	}
	if trimmed { // the policy first; the decay takes what it left
		a.decayPending(now)
	}
	a.observeFSMs(now) // last, so that it sees what the trim left
	return nil
}

// allocTier2 serves size bytes from Tier-2: the fallback page cache for
// requests up to 32 KiB, the page source for larger ones (SPEC 2.5). Large
// requests always come here; small ones only when degraded, and each then
// takes at least 8 KiB: the footprint cost of degrading that SPEC 1.3
// describes.
func (a *Allocator) allocTier2(cpu int, size int64, degraded bool) AllocResult {
	addr, cost, ok := a.pageCacheAlloc(cpu, a.env.Topology.NodeOfCPU(cpu), size)
	if !ok {
		return AllocResult{CostNs: cost}
	}
	if !degraded {
		a.stats.FallbackCount++
	}
	a.stats.Tier2Allocs++
	a.tier2Live[addr] = size
	return AllocResult{Addr: addr, OK: true, Tier: 2, CostNs: cost}
}

// pageCacheAlloc takes bytes from Tier-2's page cache for node and
// returns the address and what it cost: the page source's stall (counted
// as alloc stall) and, on a miss, the Tier-2 allocation. A failure is
// counted in AllocFailures.
func (a *Allocator) pageCacheAlloc(cpu, node int, bytes int64) (addr uint64, cost int64, ok bool) {
	g, ok := a.pc.Alloc(cpu, node, bytes, 0)
	cost = g.StallNs
	if !g.Hit {
		served := g.ServedNode
		if served < 0 {
			served = node
		}
		cost += a.env.Cost.CostNs(CostTier2, served, node, g.SizeBytes())
	}
	a.stats.AllocStallNs += g.StallNs
	if !ok {
		a.stats.AllocFailures++
		return 0, cost, false
	}
	return g.Addr, cost, true
}

func (a *Allocator) freeTier2(cpu int, addr uint64) (int64, error) {
	size, ok := a.tier2Live[addr]
	if !ok {
		return 0, fmt.Errorf("sbmp: free of %#x, which SBMP did not allocate (or freed twice)", addr)
	}
	if p := a.carvedPage(addr, size); p != nil {
		return a.freeCarved(cpu, p, addr)
	}
	if err := a.pc.Free(cpu, addr, size); err != nil {
		return 0, err
	}
	delete(a.tier2Live, addr)
	a.stats.Frees++
	node := a.env.Topology.NodeOfCPU(cpu)
	return a.env.Cost.CostNs(CostTier2, node, node, size), nil
}

// PageCacheStats returns Tier-2's page cache counters.
func (a *Allocator) PageCacheStats() PageCacheStats { return a.pc.Stats() }

// SetPolicies swaps the allocator's policies between operations (SPEC
// 2.4 for policies); nil keeps a policy as it is. A degrade policy whose
// shared settings are invalid (DegradeHysteresis, DegradeSmallCost) is a
// programming error and panics; New reports it as a ConfigError.
func (a *Allocator) SetPolicies(m MergePolicy, r RefillPolicy, d DegradePolicy) {
	if m != nil {
		a.cfg.Merge = m
		a.setTrim(trimOf(m))
	}
	if r != nil {
		a.cfg.Refill = r
	}
	if d != nil {
		if err := checkDegradeSettings(d); err != nil {
			panic(fmt.Sprintf("sbmp: SetPolicies: degrade policy %s: %v", d.Name(), err))
		}
		// An open episode keeps its start and runs on under the new
		// hysteresis; carved fallback blocks stay until their slots are
		// freed.
		a.cfg.Degrade, a.deg.hyst, a.deg.small = d, hysteresisOf(d), smallCostOf(d)
	}
}

// Stats returns the counters. DegradedNs includes the open degrade
// episode up to now.
func (a *Allocator) Stats() Stats {
	s := a.stats
	if a.degraded {
		s.DegradedNs += a.env.Clock.Now() - a.deg.beganNs
	}
	return s
}

// Tier0Free is the number of free slots of class cls in cpu's cache
// (cpuN_tier0_free of SPEC 1.4 for class 0).
func (a *Allocator) Tier0Free(cpu, cls int) int { return len(a.cpus[cpu].caches[cls]) }

// DegradePolicy is the name of the degrade policy in effect.
func (a *Allocator) DegradePolicy() string { return a.cfg.Degrade.Name() }

// CPUState is the state of cpu's refill FSM (SPEC 2.1).
func (a *Allocator) CPUState(cpu int) State { return a.cpus[cpu].fsm.State() }

// Tier1Blocks is the number of blocks Tier-1 holds from Tier-2.
func (a *Allocator) Tier1Blocks() int64 {
	var n int64
	for i := range a.t1.nodes {
		n += int64(a.t1.nodes[i].blocks)
	}
	return n
}

// TotalFreeBytes is total_free of SPEC 1.4: free bytes in the Tier-0
// caches and in Tier-1 slabs (free or pending), not counting free slots
// inside partly used slabs.
func (a *Allocator) TotalFreeBytes() int64 {
	var n int64
	for cpu := range a.cpus {
		for cls, c := range a.cpus[cpu].caches {
			n += int64(len(c)) * a.cfg.SlotSizes[cls]
		}
	}
	for node := range a.t1.nodes {
		n += a.t1.freeSlabCount(node) << slabShift
	}
	return n
}

// Degraded reports whether a degrade episode is open.
func (a *Allocator) Degraded() bool { return a.degraded }

// sortedSlabs lists the carved slabs in address order, for checks.
func (a *Allocator) sortedSlabs() []uint64 {
	out := make([]uint64, 0, len(a.slabs))
	for addr := range a.slabs {
		out = append(out, addr)
	}
	slices.Sort(out)
	return out
}
