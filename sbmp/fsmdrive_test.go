package sbmp

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// remoteSetup makes two CPUs on two nodes and a page source with room
// for one block, which CPU 0 takes for node 0; CPU 1 (node 1) then
// refills from node 0: a remote refill with free blocks in Tier-1.
func remoteSetup(t *testing.T, cfg Config) (*fakeEnv, *Allocator) {
	t.Helper()
	f := newFakeEnv(2, 2, 1<<9)
	a := newTestAllocator(t, f, cfg)
	if r := a.Alloc(0, 64); !r.OK {
		t.Fatalf("cpu 0: %+v", r)
	}
	return f, a
}

func fsmCounts(a *Allocator) map[string]uint64 {
	m := map[string]uint64{}
	a.FSMTransitions(m)
	return m
}

func mustCheckFSM(t *testing.T, a *Allocator) {
	t.Helper()
	if err := a.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

// TestRemoteRefillSyncCycle: a home-empty refill that takes slots from
// another node goes IDLE -> ALLOCATING -> SYNCING -> ACTIVE, and the CPU
// stays ACTIVE, between operations, with the remote slab as its
// SyncBuffer's local, while its cache holds slots of that slab; the Tick
// after the fast path handed out the last one sees it and returns the
// CPU to IDLE, retiring local.
func TestRemoteRefillSyncCycle(t *testing.T) {
	_, a := remoteSetup(t, Config{})
	st := &a.cpus[1]
	r := a.Alloc(1, 64)
	if !r.OK || a.t1.blockOf(r.Addr).node != 0 {
		t.Fatalf("cpu 1: %+v, want a slot of node 0", r)
	}
	if st.fsm.State() != StateActive {
		t.Fatalf("after a remote refill the FSM is %v, want ACTIVE", st.fsm.State())
	}
	local, _ := st.sync.Load()
	if slab := r.Addr &^ (1<<slabShift - 1); local != slab || st.fsmx.slab != slab {
		t.Fatalf("SyncBuffer local %#x, switched %#x; want the remote slab %#x", local, st.fsmx.slab, slab)
	}
	c := fsmCounts(a)
	for _, k := range []string{"IDLE->ALLOCATING", "ALLOCATING->SYNCING", "SYNCING->ACTIVE"} {
		if c[k] != 1 {
			t.Errorf("%s = %d, want 1: %v", k, c[k], c)
		}
	}
	mustCheckFSM(t, a)
	// The rest of the batch comes from the same slab: hand it out.
	for range a.Tier0Free(1, 0) {
		if r := a.Alloc(1, 64); !r.OK || r.Tier != 0 {
			t.Fatalf("%+v", r)
		}
		mustCheckFSM(t, a)
	}
	if st.fsm.State() != StateActive {
		t.Fatalf("the fast path changed the FSM to %v", st.fsm.State())
	}
	if err := a.Tick(); err != nil {
		t.Fatal(err)
	}
	if st.fsm.State() != StateIdle || fsmCounts(a)["ACTIVE->IDLE"] != 1 {
		t.Fatalf("after the Tick: %v, %v; want IDLE by sync_done", st.fsm.State(), fsmCounts(a))
	}
	if local, _ := st.sync.Load(); local != 0 {
		t.Fatalf("IDLE with SyncBuffer local %#x", local)
	}
	mustCheckFSM(t, a)
	// The next refill switches to a slab again (the same one may serve:
	// local was retired, so it is a new switch).
	if r := a.Alloc(1, 64); !r.OK || st.fsm.State() != StateActive || fsmCounts(a)["SYNCING->ACTIVE"] != 2 {
		t.Fatalf("%+v, %v, %v", r, st.fsm.State(), fsmCounts(a))
	}
	mustCheckFSM(t, a)
}

// TestActiveEndsAtNextRefill: a refill of another class ends ACTIVE
// first (sync_done), though the switched block still has slots cached:
// the FSM follows one refill at a time.
func TestActiveEndsAtNextRefill(t *testing.T) {
	_, a := remoteSetup(t, Config{})
	a.Alloc(1, 64)
	if a.cpus[1].fsm.State() != StateActive {
		t.Fatal("not ACTIVE after a remote refill")
	}
	a.Alloc(1, 256)
	c := fsmCounts(a)
	if c["ACTIVE->IDLE"] != 1 || c["SYNCING->ACTIVE"] != 2 {
		t.Fatalf("%v", c)
	}
	mustCheckFSM(t, a)
}

// TestSyncFailsWhenShadowNodeOffline: with node 0 offline, the shadow
// cannot be persisted there: the sync fails, the remote slots go back to
// their slab, and the refill retries at home (which has nothing), so the
// allocation degrades. The CPU waited the sync's timeout.
func TestSyncFailsWhenShadowNodeOffline(t *testing.T) {
	f, a := remoteSetup(t, Config{})
	slab := a.cpus[0].caches[0][0] &^ (1<<slabShift - 1)
	inUse := a.slabs[slab].inUse
	f.offline = []bool{true, false}
	r := a.Alloc(1, 64)
	if r.OK && r.Tier != 2 {
		t.Fatalf("%+v: served from Tier-%d despite the failed sync", r, r.Tier)
	}
	if !r.Degraded {
		t.Fatalf("%+v: want a degraded allocation", r)
	}
	c := fsmCounts(a)
	if c["SYNCING->IDLE"] == 0 || c["SYNCING->ACTIVE"] != 0 || a.cpus[1].fsm.State() != StateIdle {
		t.Fatalf("%v, state %v", c, a.cpus[1].fsm.State())
	}
	// Degrade flushed cpu 0's cache too: one slot is live.
	if got := a.slabs[slab].inUse; got != 1 || inUse != 64 {
		t.Fatalf("node 0's slab has %d slots out after the abort and the flush (%d before), want the one live", got, inUse)
	}
	if n := a.Tier0Free(1, 0); n != 0 {
		t.Fatalf("cpu 1 caches %d slots of a sync that failed", n)
	}
	if limit := a.syncLimitNs(1, 0); r.CostNs < limit {
		t.Fatalf("cost %d ns, want at least the sync timeout %d", r.CostNs, limit)
	}
	mustCheckFSM(t, a)
}

// TestSyncTimesOutOnSlowLink: a NUMA latency fault (every cross-node
// message 10x its idle price, past SyncTimeoutFactor 4) makes the acks
// and the persist time out.
func TestSyncTimesOutOnSlowLink(t *testing.T) {
	f, a := remoteSetup(t, Config{})
	f.slow = 10
	a.Alloc(1, 64)
	if c := fsmCounts(a); c["SYNCING->IDLE"] == 0 || c["SYNCING->ACTIVE"] != 0 {
		t.Fatalf("%v", c)
	}
	// Slow, within the timeout: an ack at 4x its price (400 ns) and the
	// persist (401 ns) stay under the limit, 4x the idle price of a
	// 64-byte record (404 ns).
	f.slow = 4
	a.Alloc(1, 64)
	if c := fsmCounts(a); c["SYNCING->ACTIVE"] != 1 {
		t.Fatalf("a link at 4x its idle price failed the sync: %v", c)
	}
	mustCheckFSM(t, a)
}

// TestFaultSignalMigrates: a CPU ACTIVE on a node that goes offline
// migrates at the next Tick (fault_signal): its caches are flushed, and
// its next refill pays the flush.
func TestFaultSignalMigrates(t *testing.T) {
	f, a := remoteSetup(t, Config{})
	a.Alloc(1, 64)
	st := &a.cpus[1]
	if st.fsm.State() != StateActive || a.Tier0Free(1, 0) == 0 {
		t.Fatal("not ACTIVE with slots cached")
	}
	f.offline = []bool{true, false}
	if err := a.Tick(); err != nil {
		t.Fatal(err)
	}
	c := fsmCounts(a)
	if c["ACTIVE->MIGRATING"] != 1 || c["MIGRATING->IDLE"] != 1 || a.stats.FSMFaultMigrations != 1 {
		t.Fatalf("%v, fault migrations %d", c, a.stats.FSMFaultMigrations)
	}
	if a.Tier0Free(1, 0) != 0 || st.fsmx.owedNs <= 0 {
		t.Fatalf("after migrating: %d slots cached, %d ns owed", a.Tier0Free(1, 0), st.fsmx.owedNs)
	}
	mustCheckFSM(t, a)
	owed := st.fsmx.owedNs
	f.offline = nil
	r := a.Alloc(1, 64)
	if !r.OK || r.CostNs < owed || st.fsmx.owedNs != 0 {
		t.Fatalf("%+v: the refill after a migration owed %d ns paid %d, still owes %d", r, owed, r.CostNs, st.fsmx.owedNs)
	}
	mustCheckFSM(t, a)
}

// TestLoadDriftMigrates: a CPU whose refills all came from another node
// over a whole drift window drifts; ACTIVE at the next observation, it
// migrates on load_drift (which answers the drift). With drift off it
// does not.
func TestLoadDriftMigrates(t *testing.T) {
	for _, on := range []bool{true, false} {
		cfg := Config{FSM: FSMConfig{DriftWindowNs: 1e6, DriftMinSlots: 32}}
		if !on {
			cfg.FSM.DriftWindowNs = -1
		}
		f, a := remoteSetup(t, cfg)
		a.Alloc(1, 64) // 64 remote slots in the first window
		f.now += 1e6   // the window closes at the next observation
		if err := a.Tick(); err != nil {
			t.Fatal(err)
		}
		if a.cpus[1].fsmx.drifted {
			t.Fatalf("drift on %v: still drifted after the Tick", on)
		}
		c := fsmCounts(a)
		if want := map[bool]uint64{true: 1, false: 0}[on]; c["ACTIVE->MIGRATING"] != want || a.stats.FSMDriftMigrations != int64(want) {
			t.Fatalf("drift on %v: %v, drift migrations %d", on, c, a.stats.FSMDriftMigrations)
		}
		mustCheckFSM(t, a)
	}
}

// TestRemoteFreesAreDrift: a CPU that frees another node's slots (a
// thread that moved across nodes) counts them as remote traffic.
func TestRemoteFreesAreDrift(t *testing.T) {
	f, a := remoteSetup(t, Config{FSM: FSMConfig{DriftWindowNs: 1e6, DriftMinSlots: 8}})
	var addrs []uint64
	for range 20 {
		r := a.Alloc(0, 64)
		addrs = append(addrs, r.Addr)
	}
	for _, p := range addrs {
		if _, err := a.Free(1, p, 64); err != nil {
			t.Fatal(err)
		}
	}
	f.now += 1e6
	if err := a.Tick(); err != nil {
		t.Fatal(err)
	}
	if !a.cpus[1].fsmx.drifted || a.cpus[0].fsmx.drifted {
		t.Fatalf("drifted: cpu 0 %v, cpu 1 %v; want cpu 1 only", a.cpus[0].fsmx.drifted, a.cpus[1].fsmx.drifted)
	}
	mustCheckFSM(t, a)
}

// TestCheckFSMsCatchesBrokenSwitch: checkFSMs fails on an IDLE CPU whose
// SyncBuffer still holds a block, on an ACTIVE CPU whose local is not its
// switched slab, and on a mark below which a slot of the slab hides.
func TestCheckFSMsCatchesBrokenSwitch(t *testing.T) {
	_, a := remoteSetup(t, Config{})
	a.Alloc(1, 64)
	st := &a.cpus[1]
	mustCheckFSM(t, a)
	saved := st.fsmx
	st.fsmx.slab += 1 << slabShift
	if a.checkFSMs() == nil {
		t.Error("ACTIVE with local other than the switched slab passed")
	}
	st.fsmx = saved
	st.fsmx.mark, st.fsmx.slot = 1, st.caches[0][1] // slot 0 is of the slab too
	if st.caches[0][1]&^(1<<slabShift-1) == st.fsmx.slab && a.checkFSMs() == nil {
		t.Error("a mark above a slot of the switched slab passed")
	}
	st.fsmx = saved
	st.fsm.state = StateIdle
	if a.checkFSMs() == nil {
		t.Error("IDLE with a switched block passed")
	}
	st.fsm.state = StateMigrating
	if a.checkFSMs() == nil {
		t.Error("MIGRATING between operations passed")
	}
}

// TestFSMDriveStateMachine drives the FSM's paths on a small machine
// under remote pressure (two nodes, one to three blocks of memory, 64 B
// slots): allocation bursts and frees on any CPU (remote frees), short
// ticks that close 1 ms drift windows one at a time, flushes, and node
// faults. After every step the allocator's invariants hold (with the
// FSM's contracts, checkFSMs), and:
//
//   - a sync succeeds exactly when no fault stops it: under links slower
//     than the timeout no allocation takes SYNCING -> ACTIVE, and with no
//     fault none takes SYNCING -> IDLE;
//   - an allocation that refilled (any but a Tier-0 hit) pays any
//     migration its CPU owed;
//   - after a Tick every ACTIVE CPU serves from its block, with no signal.
//
// Over all the examples, both migration triggers and a failed sync
// occur.
func TestFSMDriveStateMachine(t *testing.T) {
	var drift, fault, failed uint64
	defer func() {
		t.Logf("over the examples: %d drift migrations, %d fault migrations, %d failed syncs", drift, fault, failed)
		// -short (the race pass) runs too few examples to reach them all.
		if !t.Failed() && !testing.Short() && (drift == 0 || fault == 0 || failed == 0) {
			t.Errorf("over the examples: %d drift migrations, %d fault migrations, %d failed syncs; want each", drift, fault, failed)
		}
	}()
	rapid.Check(t, func(t *rapid.T) {
		f := newFakeEnv(rapid.IntRange(2, 4).Draw(t, "cpus"), 2, rapid.Int64Range(1<<9, 3<<9).Draw(t, "limit_pages"))
		factor := rapid.Int64Range(1, 8).Draw(t, "sync_timeout_factor")
		a, err := New(f.env(), Config{
			SlotSizes:          []int64{64},
			Tier0CapacitySlots: rapid.IntRange(2, 64).Draw(t, "capacity"),
			Refill:             &FixedBatchRefill{Slots: rapid.IntRange(1, 32).Draw(t, "batch")},
			RemoteFreeBatch:    rapid.SampledFrom([]int{-1, 1, 12}).Draw(t, "remote_batch"),
			FSM: FSMConfig{
				DriftWindowNs:     1e6,
				DriftRemoteShare:  rapid.SampledFrom([]float64{0.25, 0.5}).Draw(t, "drift_share"),
				DriftMinSlots:     rapid.Int64Range(1, 8).Draw(t, "drift_min_slots"),
				SyncTimeoutFactor: factor,
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			c := fsmCounts(a)
			drift += uint64(a.stats.FSMDriftMigrations)
			fault += uint64(a.stats.FSMFaultMigrations)
			failed += c["SYNCING->IDLE"]
		}()
		live := map[uint64]int64{}
		var order []uint64
		// A sync message costs 100 x slow (+1 for the 64 B record) across
		// nodes; its idle price is 101, its limit factor x 101.
		slowFails := func() bool { return 100*max(f.slow, 1)+1 > 101*factor }
		noFault := func() bool { return f.slow <= 1 && !slices.Contains(f.offline, true) }
		t.Repeat(map[string]func(*rapid.T){
			"alloc": func(t *rapid.T) {
				cpu := rapid.IntRange(0, f.cpus-1).Draw(t, "cpu")
				before := fsmCounts(a)
				for range rapid.IntRange(1, 200).Draw(t, "burst") {
					r := a.Alloc(cpu, 64)
					if r.Tier != 0 && a.cpus[cpu].fsmx.owedNs != 0 {
						t.Fatalf("cpu %d still owes %d ns after an allocation that refilled", cpu, a.cpus[cpu].fsmx.owedNs)
					}
					if !r.OK {
						break
					}
					live[r.Addr] = 64
					order = append(order, r.Addr)
				}
				after := fsmCounts(a)
				if slowFails() && after["SYNCING->ACTIVE"] != before["SYNCING->ACTIVE"] {
					t.Fatalf("a sync succeeded across links %dx slow, timeout factor %d", f.slow, factor)
				}
				if noFault() && after["SYNCING->IDLE"] != before["SYNCING->IDLE"] {
					t.Fatal("a sync failed with no fault")
				}
			},
			"free": func(t *rapid.T) {
				cpu := rapid.IntRange(0, f.cpus-1).Draw(t, "cpu")
				for range rapid.IntRange(1, 100).Draw(t, "n") {
					if len(order) == 0 {
						return
					}
					i := rapid.IntRange(0, len(order)-1).Draw(t, "i")
					addr := order[i]
					order = append(order[:i], order[i+1:]...)
					delete(live, addr)
					if _, err := a.Free(cpu, addr, 64); err != nil {
						t.Fatal(err)
					}
				}
			},
			"tick": func(t *rapid.T) {
				f.now += rapid.Int64Range(0, 2e6).Draw(t, "dt")
				if err := a.Tick(); err != nil {
					t.Fatal(err)
				}
				for cpu := range a.cpus {
					st := &a.cpus[cpu]
					if st.fsm.State() != StateActive {
						continue
					}
					if !a.stillServes(st) {
						t.Fatalf("cpu %d ACTIVE after a Tick, its switched slab %#x serves no more", cpu, st.fsmx.slab)
					}
					if trig, ok := a.signal(st); ok {
						t.Fatalf("cpu %d ACTIVE after a Tick despite %v", cpu, trig)
					}
				}
			},
			"flush": func(t *rapid.T) { a.Flush() },
			"fault": func(t *rapid.T) {
				// Half the time the faults end.
				f.offline, f.slow = nil, 0
				if rapid.Bool().Draw(t, "faulty") {
					f.offline = []bool{rapid.IntRange(0, 3).Draw(t, "offline0") == 0, rapid.IntRange(0, 3).Draw(t, "offline1") == 0}
					f.slow = rapid.SampledFrom([]int64{0, 2, 4, 10}).Draw(t, "slow")
				}
			},
			"": func(t *rapid.T) {
				if err := checkAllocator(a, f, live); err != nil {
					t.Fatal(err)
				}
			},
		})
	})
}

// remoteFirst plans a refill from the other node first, without growing
// it, then from home, growing it.
type remoteFirst struct{}

func (remoteFirst) Name() string { return "remote-first" }
func (remoteFirst) Plan(s RefillState, topo Topology) RefillPlan {
	return RefillPlan{Batch: 64, Steps: []RefillStep{{Node: 1 - s.Home}, {Node: s.Home, Grow: true}}}
}

// TestFailedSyncRetriesFromHome: a refill whose sync fails gives the
// remote slots back and retries from the home node alone, growing it as
// the plan would have; the drift window counts only the slots the CPU
// kept, none of them remote.
func TestFailedSyncRetriesFromHome(t *testing.T) {
	f := newFakeEnv(2, 2, 1<<10) // room for two blocks
	a := newTestAllocator(t, f, Config{Refill: remoteFirst{}})
	if r := a.Alloc(0, 64); !r.OK { // node 1 holds nothing: cpu 0 grows node 0
		t.Fatalf("cpu 0: %+v", r)
	}
	blocks0 := a.t1.nodes[0].blocks
	f.offline = []bool{true, false}
	r := a.Alloc(1, 64)
	if !r.OK || r.Degraded || r.Tier != 1 {
		t.Fatalf("cpu 1: %+v, want a refilled slot after the retry from home", r)
	}
	if got := a.Tier0Free(1, 0); got != 63 {
		t.Fatalf("cpu 1 caches %d slots, want 63", got)
	}
	if a.t1.nodes[1].blocks != 1 || a.t1.nodes[0].blocks != blocks0 {
		t.Fatalf("blocks by node %d, %d: want node 1 grown once", a.t1.nodes[0].blocks, a.t1.nodes[1].blocks)
	}
	if c := fsmCounts(a); c["SYNCING->IDLE"] != 1 || c["SYNCING->ACTIVE"] != 0 {
		t.Fatalf("%v", c)
	}
	if x := a.cpus[1].fsmx; x.winTotal != 64 || x.winRemote != 0 {
		t.Fatalf("drift window %d slots, %d remote: want 64, 0", x.winTotal, x.winRemote)
	}
	mustCheckFSM(t, a)
}

// TestMarkForgottenWhenSwitchedSlotsComeBack: with remote frees kept in
// the freeing CPU's cache (RemoteFreeBatch -1), the very slot the FSM's
// mark observed can be handed out and freed back to the same place, with
// another slot of the switched slab now below it; the mark must not be
// trusted then (found by `sbmpsim check`, seed 120).
func TestMarkForgottenWhenSwitchedSlotsComeBack(t *testing.T) {
	// 1 KiB slots, 64 to a slab: cpu 0's refill of 64 carves its slab
	// whole, so cpu 1's takes another slab of node 0.
	f := newFakeEnv(2, 2, 1<<9)
	a := newTestAllocator(t, f, Config{RemoteFreeBatch: -1, SlotSizes: []int64{1024}})
	r0 := a.Alloc(0, 1024)
	if !r0.OK {
		t.Fatal("cpu 0")
	}
	live0 := r0.Addr
	var held []uint64
	for a.Tier0Free(1, 0) > 0 || len(held) == 0 {
		r := a.Alloc(1, 1024)
		if !r.OK {
			t.Fatal("cpu 1")
		}
		held = append(held, r.Addr)
	}
	st := &a.cpus[1]
	if st.fsm.State() != StateActive {
		t.Fatalf("cpu 1 is %v, want ACTIVE", st.fsm.State())
	}
	bx, by := held[len(held)-1], held[len(held)-2]
	if bx&^(1<<slabShift-1) != st.fsmx.slab || by&^(1<<slabShift-1) != st.fsmx.slab || live0&^(1<<slabShift-1) == st.fsmx.slab {
		t.Fatalf("held slots %#x %#x are not of the switched slab %#x", bx, by, st.fsmx.slab)
	}
	free := func(addr uint64) {
		t.Helper()
		if _, err := a.Free(1, addr, 1024); err != nil {
			t.Fatal(err)
		}
	}
	free(live0) // another slab's slot at the bottom of cpu 1's cache
	free(bx)
	f.now += 1e6
	if err := a.Tick(); err != nil {
		t.Fatal(err)
	}
	if st.fsmx.mark != 1 || st.fsmx.slot != bx {
		t.Fatalf("mark %d on %#x, want 1 on %#x", st.fsmx.mark, st.fsmx.slot, bx)
	}
	a.Alloc(1, 1024) // bx
	a.Alloc(1, 1024) // live0
	free(by)
	free(bx) // back where the mark looks, by below it
	mustCheckFSM(t, a)
}

// TestSwitchedSlabIsTheTopRemoteOne: a refill that took remote slots
// first and home slots after switches to the remote slab the CPU will hand
// out first, below the home slots; the plan's repeated node counts once
// in the free blocks IDLE -> ALLOCATING checks.
func TestSwitchedSlabIsTheTopRemoteOne(t *testing.T) {
	f := newFakeEnv(2, 2, 1<<10) // room for two blocks
	a := newTestAllocator(t, f, Config{Refill: &FixedBatchRefill{Slots: 1}, SlotSizes: []int64{1024}})
	for range 2048 - 32 { // node 0's block carved but for its last 32 slots
		if r := a.Alloc(0, 1024); !r.OK {
			t.Fatalf("cpu 0: %+v", r)
		}
	}
	// cpu 1's refill of 64 takes node 0's last 32 slots (remote), then 32
	// of node 1's, growing it: the home slots sit above the remote ones.
	a.cfg.Refill = remoteFirst{}
	if r := a.Alloc(1, 1024); !r.OK {
		t.Fatalf("cpu 1: %+v", r)
	}
	st := &a.cpus[1]
	c := st.caches[0]
	if len(c) != 63 || a.t1.blockOf(c[0]).node != 0 || a.t1.blockOf(c[len(c)-1]).node != 1 {
		t.Fatalf("cpu 1 caches %d slots, bottom on node %d, top on node %d: want 63, 0, 1", len(c), a.t1.blockOf(c[0]).node, a.t1.blockOf(c[len(c)-1]).node)
	}
	if st.fsm.State() != StateActive || a.t1.blockOf(st.fsmx.slab).node != 0 {
		t.Fatalf("cpu 1 %v, switched to %#x: want ACTIVE on a slab of node 0", st.fsm.State(), st.fsmx.slab)
	}
	if n := a.freeBlocks([]RefillStep{{Node: 1}, {Node: 1}}, 0); n != a.freeBlocks([]RefillStep{{Node: 1}}, 0) || n == 0 {
		t.Fatalf("a node named twice in a plan counts %d free blocks", n)
	}
	mustCheckFSM(t, a)
}
