package sbmp

import "fmt"

// This file drives each CPU's FSM (fsm.go) from what happens to the
// allocator: the sync of a refill that crossed nodes, how long the block
// it switched to serves, and the drift and fault signals that make the
// CPU migrate. The doc of FSM says what each transition means; this file
// is how the allocator observes it.

// SyncRecordBytes is the size of the shadow record a sync persists: one
// cache line, the unit a store to another node's memory moves (the
// SyncBuffer itself is 24 bytes).
const SyncRecordBytes = 64

// FSMConfig holds the design parameters of the FSM's signals. They are
// SBMP design parameters: neither the seed nor Linux fixes them, so each
// default says why it was chosen. Zero fields take the defaults of
// DefaultFSMConfig.
type FSMConfig struct {
	// DriftWindowNs is the window over which load drift is measured: a
	// CPU drifts when its traffic with Tier-1 was mostly with other
	// nodes over a whole window. Default 1 s, the shortest period at which
	// Linux's NUMA balancing reconsiders a task's preferred node
	// (sysctl_numa_balancing_scan_period_min = 1000 ms, kernel/sched/
	// fair.c; task_numa_placement runs once per scan period), so that a
	// burst of remote refills is not taken for drift. Negative: no drift
	// signal.
	DriftWindowNs int64
	// DriftRemoteShare is the share of a window's traffic that must be
	// with other nodes for the CPU to drift (strictly more). Default 0.5:
	// task_numa_placement prefers the node with the most faults, so on a
	// machine of two nodes a task drifts when the other node has more
	// than half.
	DriftRemoteShare float64
	// DriftMinSlots is the least traffic, in slots, a window must carry to
	// say anything. Default 64, one refill batch of the default
	// fixed-batch policy: a CPU that refilled less than once in a second
	// is idle, not drifting.
	DriftMinSlots int64
	// SyncTimeoutFactor bounds one sync message (a shadow persist or a
	// replica's ack): one slower than this many times its idle price
	// (the cost model's price between the two nodes when the allocator
	// was made) times out, and a link that slow is a fault signal.
	// Default 4: Intel MLC's loaded latency levels off at 1.59 times the
	// idle latency at saturation (model/numa/cost.go), so load alone
	// stays under 2; 4 leaves twice that as margin, and anything slower is
	// a fault, not load.
	SyncTimeoutFactor int64
}

// DefaultFSMConfig returns the defaults.
func DefaultFSMConfig() FSMConfig {
	return FSMConfig{DriftWindowNs: 1e9, DriftRemoteShare: 0.5, DriftMinSlots: 64, SyncTimeoutFactor: 4}
}

func (c *FSMConfig) fill() error {
	d := DefaultFSMConfig()
	if c.DriftWindowNs == 0 {
		c.DriftWindowNs = d.DriftWindowNs
	}
	if c.DriftRemoteShare == 0 {
		c.DriftRemoteShare = d.DriftRemoteShare
	}
	if c.DriftMinSlots == 0 {
		c.DriftMinSlots = d.DriftMinSlots
	}
	if c.SyncTimeoutFactor == 0 {
		c.SyncTimeoutFactor = d.SyncTimeoutFactor
	}
	switch {
	case !(c.DriftRemoteShare > 0 && c.DriftRemoteShare < 1):
		return &ConfigError{Field: "Config.FSM.DriftRemoteShare", Msg: fmt.Sprintf("must be in (0, 1), got %v", c.DriftRemoteShare)}
	case c.DriftMinSlots < 1:
		return &ConfigError{Field: "Config.FSM.DriftMinSlots", Msg: fmt.Sprintf("must be at least 1, got %d", c.DriftMinSlots)}
	case c.SyncTimeoutFactor < 1:
		return &ConfigError{Field: "Config.FSM.SyncTimeoutFactor", Msg: fmt.Sprintf("must be at least 1, got %d", c.SyncTimeoutFactor)}
	}
	return nil
}

// cpuFSM is what drives one CPU's FSM beyond its state: the block it
// switched to while ACTIVE, its drift window, and the migration cost it
// owes.
type cpuFSM struct {
	// While ACTIVE: the switched-to slab, its node and class, and where
	// the cache held the lowest of its slots when last observed (mark,
	// slot: cache[cls][mark] == slot), so that most observations are
	// O(1).
	slab, slot uint64
	node, cls  int
	mark       int
	// The drift window: when it began, the slots of traffic with Tier-1
	// in it, those with other nodes' memory, and whether the last whole
	// window drifted.
	winStartNs          int64
	winTotal, winRemote int64
	drifted             bool
	// owedNs is the cost of a migration run at a Tick, which the CPU's
	// next refill pays.
	owedNs int64
}

// fsmDriver is the allocator's side of the FSM's signals.
type fsmDriver struct {
	// idleSyncNs[from][to] is the price of a sync message between two
	// nodes when the allocator was made: what SyncTimeoutFactor
	// multiplies.
	idleSyncNs [][]int64
	// health is the page source's NodeHealth, or nil.
	health NodeHealth
	// retry holds the home-only step of a refill retried after a failed
	// sync.
	retry [1]RefillStep
	// returned[n] counts the slots of node n an abort sends back
	// (returnRemote's scratch).
	returned []int64
}

// initFSM prices the idle sync messages and starts the drift windows.
func (a *Allocator) initFSM(now int64) {
	nodes := a.env.Topology.NumNodes()
	a.fsmd.idleSyncNs = make([][]int64, nodes)
	for from := range nodes {
		a.fsmd.idleSyncNs[from] = make([]int64, nodes)
		for to := range nodes {
			a.fsmd.idleSyncNs[from][to] = a.env.Cost.CostNs(CostSync, from, to, SyncRecordBytes)
		}
	}
	a.fsmd.health, _ = a.env.Pages.(NodeHealth)
	a.fsmd.returned = make([]int64, nodes)
	for cpu := range a.cpus {
		a.cpus[cpu].fsmx.winStartNs = now
	}
}

// nodeOnline reports whether node's memory is online (NodeHealth).
func (a *Allocator) nodeOnline(node int) bool {
	return a.fsmd.health == nil || a.fsmd.health.NodeOnline(node)
}

// syncLimitNs is the longest one sync message from from to to may take.
func (a *Allocator) syncLimitNs(from, to int) int64 {
	return a.cfg.FSM.SyncTimeoutFactor * a.fsmd.idleSyncNs[from][to]
}

// freeBlocks is Facts.FreeBlocks of a refill of class cls that takes from
// the nodes of steps: free slabs (pending ones included) and partly used
// slabs of the class, each node counted once.
func (a *Allocator) freeBlocks(steps []RefillStep, cls int) int {
	var seen uint64
	n := 0
	for _, s := range steps {
		if s.Node < 64 {
			if seen&(1<<s.Node) != 0 {
				continue
			}
			seen |= 1 << s.Node
		}
		n += int(a.t1.freeSlabCount(s.Node)) + len(a.partial[s.Node][cls])
	}
	return n
}

// finishRefill ends the FSM cycle of a refill of class cls on cpu whose
// plan steps appended the cache's slots from index start on. Served at
// home (remoteNode < 0): ALLOCATING -> IDLE. Otherwise the slab of the
// remote slot the CPU hands out first becomes the shadow, and the sync
// runs (syncShadow): ACTIVE when it succeeds, with the switch committed;
// on failure the shadow is aborted, SYNCING -> IDLE, and the refill's
// slots from remote nodes go back to their slabs. It returns the cost and
// how many slots went back.
func (a *Allocator) finishRefill(cpu, cls, start, remoteNode int) (costNs int64, returned int) {
	st := &a.cpus[cpu]
	if remoteNode < 0 {
		a.mustStep(cpu, StateIdle, TriggerServedLocal, Facts{})
		return 0, 0
	}
	a.mustStep(cpu, StateSyncing, TriggerNeedsRemote, Facts{})
	c := st.caches[cls]
	shadow := c[a.topRemote(c, start, st.node)] &^ (1<<slabShift - 1)
	_, version := st.sync.Load()
	version, err := st.sync.BeginSync(StateSyncing, version, shadow)
	if err != nil {
		// IDLE holds no pending sync and local is 0 (checkFSMs), so
		// there is nothing a sync could collide with.
		panic(fmt.Sprintf("sbmp: cpu %d: BeginSync of %#x: %v", cpu, shadow, err))
	}
	costNs, f := a.syncShadow(st.node, remoteNode)
	if a.fsmStep(cpu, StateActive, TriggerQuorumAck, f) != nil {
		if _, _, err := st.sync.Abort(version); err != nil {
			panic(fmt.Sprintf("sbmp: cpu %d: abort of a failed sync: %v", cpu, err))
		}
		a.mustStep(cpu, StateIdle, TriggerSyncFailed, Facts{})
		returned, rc := a.returnRemote(cpu, cls, start)
		return costNs + rc, returned
	}
	// A stale version means another writer switched first: retry at the
	// current version, a bounded number of times. The allocator is driven
	// by one goroutine per CPU, so a retry is the exception and running out
	// of them a bug.
	for try := 0; ; try++ {
		_, _, err := st.sync.Commit(version)
		if err == nil {
			break
		}
		if try == 8 {
			panic(fmt.Sprintf("sbmp: cpu %d: SyncBuffer commit failed 8 times: %v", cpu, err))
		}
		costNs += a.env.Cost.CostNs(CostCASRetry, st.node, st.node, 0)
		_, version = st.sync.Load()
	}
	x := &st.fsmx
	x.slab, x.node, x.cls, x.mark = shadow, remoteNode, cls, -1
	if !a.stillServes(st) {
		panic(fmt.Sprintf("sbmp: cpu %d: switched to slab %#x, which its cache does not hold", cpu, shadow))
	}
	return costNs, 0
}

// topRemote returns the index of the topmost slot of c at or above start
// that is not of node home: the remote slot the CPU hands out first.
func (a *Allocator) topRemote(c []uint64, start, home int) int {
	for i := len(c) - 1; i >= start; i-- {
		if a.t1.blockOf(c[i]).node != home {
			return i
		}
	}
	panic("sbmp: a remote refill put no remote slot in the cache")
}

// syncShadow runs the sync of a shadow on node at for a CPU of node home:
// the shadow record is persisted at its node, then every replica (each
// node whose memory is online) acknowledges, in parallel. A message
// slower than its limit (syncLimitNs) times out, and a record cannot be
// persisted on an offline node; the CPU waits the limit either way. It
// returns the time the sync took and the facts SYNCING -> ACTIVE checks.
func (a *Allocator) syncShadow(home, at int) (costNs int64, f Facts) {
	f.PendingSync = true
	persist := a.env.Cost.CostNs(CostSync, home, at, SyncRecordBytes)
	if limit := a.syncLimitNs(home, at); !a.nodeOnline(at) || persist > limit {
		return limit, f
	}
	f.ShadowPersisted = true
	var slowest int64
	for n := range a.fsmd.idleSyncNs {
		if !a.nodeOnline(n) {
			continue // an offline node holds no Tier-1 view: not a replica
		}
		f.Replicas++
		ack, limit := a.env.Cost.CostNs(CostSync, n, home, 0), a.syncLimitNs(n, home)
		if ack > limit {
			slowest = max(slowest, limit)
			continue
		}
		f.ReplicasAcked++
		slowest = max(slowest, ack)
	}
	return persist + slowest, f
}

// returnRemote gives the slots of cpu's class cls cache from index start
// on that are not of its node back to their slabs (a failed sync's
// abort), keeping the others in order. It returns how many went back and
// the cost: one transfer per node, as the refill took them.
func (a *Allocator) returnRemote(cpu, cls, start int) (returned int, costNs int64) {
	st := &a.cpus[cpu]
	c := &st.caches[cls]
	size := a.cfg.SlotSizes[cls]
	now := a.env.Clock.Now()
	kept := start
	for _, addr := range (*c)[start:] {
		b := a.t1.blockOf(addr)
		if b.node == st.node {
			(*c)[kept] = addr
			kept++
			continue
		}
		if err := a.returnSlot(addr, cls, size, now); err != nil {
			panic(err) // the refill just took it from its slab: an allocator bug
		}
		a.fsmd.returned[b.node]++
		returned++
	}
	*c = (*c)[:kept]
	st.lowTo(cls)
	for node, n := range a.fsmd.returned {
		if n > 0 {
			costNs += a.env.Cost.CostNs(CostDrain, node, st.node, n*size)
			a.fsmd.returned[node] = 0
		}
	}
	return returned, costNs
}

// stillServes reports whether the block cpu switched to (ACTIVE) still
// serves it: its cache of the block's class holds a slot of the block. It
// keeps the mark: frees push and the fast path pops at the top of the
// cache, and slots of a remote slab freed on this CPU go home through the
// alien caches, so while cache[cls][mark] is the slot observed there, the
// slots below it are as they were and no slot of the block sits lower.
// Drains and trims shift the cache; then it looks again. With
// RemoteFreeBatch < 0 a slot of the block can come back into the cache,
// even the observed slot to the marked place with another below it, so
// Free forgets the mark then. A slab whose
// slots all came home may have merged and left Tier-1 (or joined another
// node's) since the last observation: it serves no more.
func (a *Allocator) stillServes(st *cpuState) bool {
	x := &st.fsmx
	if b := a.t1.blockOf(x.slab); b == nil || b.node != x.node {
		x.mark = -1
		return false
	}
	c := st.caches[x.cls]
	if x.mark >= 0 && x.mark < len(c) && c[x.mark] == x.slot {
		return true
	}
	for i, s := range c {
		if s&^(1<<slabShift-1) == x.slab {
			x.mark, x.slot = i, s
			return true
		}
	}
	x.mark = -1
	return false
}

// signal returns the trigger that moves an ACTIVE cpu to MIGRATING, if
// any: fault_signal when the switched block's node is offline or the
// link between it and the CPU's node is slower than a sync tolerates;
// load_drift when the CPU's last whole drift window drifted.
func (a *Allocator) signal(st *cpuState) (Trigger, bool) {
	x := &st.fsmx
	if !a.nodeOnline(x.node) || a.env.Cost.CostNs(CostSync, x.node, st.node, 0) > a.syncLimitNs(x.node, st.node) {
		return TriggerFaultSignal, true
	}
	if x.drifted {
		return TriggerLoadDrift, true
	}
	return 0, false
}

// leaveActive ends an ACTIVE cpu's state before its next refill (the FSM
// follows one refill at a time): it migrates on a signal, else the
// switched block stops serving it (sync_done). It returns the cost the
// refill pays: that migration's, and one the CPU owed.
func (a *Allocator) leaveActive(cpu int, now int64) (costNs int64) {
	st := &a.cpus[cpu]
	a.rollWindow(&st.fsmx, now)
	if st.fsm.State() == StateActive {
		if trig, ok := a.signal(st); ok {
			costNs += a.migrate(cpu, trig)
		} else {
			a.syncDone(cpu)
		}
	}
	costNs += st.fsmx.owedNs
	st.fsmx.owedNs = 0
	return costNs
}

// observeFSMs is the FSMs' part of Tick: every CPU's drift window closes
// when it is due, and every ACTIVE CPU migrates on a signal (owing the
// cost to its next refill) or returns to IDLE once its switched block no
// longer serves it.
func (a *Allocator) observeFSMs(now int64) {
	for cpu := range a.cpus {
		st := &a.cpus[cpu]
		a.rollWindow(&st.fsmx, now)
		if st.fsm.State() != StateActive {
			continue
		}
		if trig, ok := a.signal(st); ok {
			st.fsmx.owedNs += a.migrate(cpu, trig)
		} else if !a.stillServes(st) {
			a.syncDone(cpu)
		}
	}
}

// syncDone moves an ACTIVE cpu to IDLE: its switched block stopped
// serving it.
func (a *Allocator) syncDone(cpu int) {
	a.retireSwitch(cpu)
	a.mustStep(cpu, StateIdle, TriggerSyncDone, Facts{})
}

// retireSwitch sets cpu's SyncBuffer's local back to 0 as the CPU leaves
// ACTIVE.
func (a *Allocator) retireSwitch(cpu int) {
	st := &a.cpus[cpu]
	_, version := st.sync.Load()
	if _, _, err := st.sync.Retire(version); err != nil {
		panic(fmt.Sprintf("sbmp: cpu %d: retiring switched slab %#x: %v", cpu, st.fsmx.slab, err))
	}
	st.fsmx.slab, st.fsmx.mark = 0, -1
}

// migrate moves an ACTIVE cpu through MIGRATING to IDLE on trig: the
// per-CPU flush of SPEC 2.6 returns its cached slots to their slabs, and
// what that frees may merge. It returns the flush's cost, which is the
// CPU's.
func (a *Allocator) migrate(cpu int, trig Trigger) (costNs int64) {
	st := &a.cpus[cpu]
	a.mustStep(cpu, StateMigrating, trig, Facts{})
	if trig == TriggerLoadDrift {
		a.stats.FSMDriftMigrations++
	} else {
		a.stats.FSMFaultMigrations++
	}
	now := a.env.Clock.Now()
	for cls, c := range st.caches {
		size := a.cfg.SlotSizes[cls]
		for _, addr := range c {
			if err := a.returnSlot(addr, cls, size, now); err != nil {
				panic(err) // the cache held a slot its slab does not know: an allocator bug
			}
		}
		costNs += a.env.Cost.CostNs(CostFlush, st.node, st.node, int64(len(c))*size)
		st.caches[cls] = c[:0]
		st.lowTo(cls)
	}
	mc, err := a.maybeMerge(now)
	if err != nil {
		panic(err)
	}
	a.retireSwitch(cpu)
	st.fsmx.drifted = false // the migration answered the drift
	a.mustStep(cpu, StateIdle, TriggerMigrationDone, Facts{})
	return costNs + mc
}

// noteTraffic counts slots a refill of cpu moved into its cache, remote
// of them from other nodes, in its drift window.
func (a *Allocator) noteTraffic(st *cpuState, now int64, slots, remote int) {
	a.rollWindow(&st.fsmx, now)
	st.fsmx.winTotal += int64(slots)
	st.fsmx.winRemote += int64(remote)
}

// noteRemoteFree counts a slot of another node freed on the CPU of st in
// its drift window (closed at the CPU's next refill or Tick).
func (st *cpuState) noteRemoteFree() {
	st.fsmx.winTotal++
	st.fsmx.winRemote++
}

// rollWindow closes x's drift window if it has ended by now: the CPU
// drifted if the window carried at least DriftMinSlots of traffic and
// more than DriftRemoteShare of it was remote. A window that ended more
// than a window ago was followed by one with no traffic, which did not
// drift. Traffic counted after a window's end but before it was closed
// counts in it (windows close at the CPU's refills and at every Tick).
func (a *Allocator) rollWindow(x *cpuFSM, now int64) {
	w := a.cfg.FSM.DriftWindowNs
	if w <= 0 || now < x.winStartNs+w {
		return
	}
	x.drifted = now < x.winStartNs+2*w && x.winTotal >= a.cfg.FSM.DriftMinSlots &&
		float64(x.winRemote) > a.cfg.FSM.DriftRemoteShare*float64(x.winTotal)
	x.winTotal, x.winRemote = 0, 0
	x.winStartNs = now - (now-x.winStartNs)%w
}

// mustStep moves cpu's FSM on a transition whose contract the allocator
// has just made true; a refusal is an allocator bug.
func (a *Allocator) mustStep(cpu int, to State, trig Trigger, f Facts) {
	if err := a.fsmStep(cpu, to, trig, f); err != nil {
		panic(fmt.Sprintf("sbmp: cpu %d: %v", cpu, err))
	}
}
