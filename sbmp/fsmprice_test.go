package sbmp

import "testing"

// TestRollWindow: a drift window closes at its end, not before; it
// drifted with at least DriftMinSlots of traffic of which strictly more
// than DriftRemoteShare was remote; a window closed a whole window or
// more after its end was followed by an empty one, which did not drift;
// the next window starts on the window grid; the counters restart.
func TestRollWindow(t *testing.T) {
	a := &Allocator{cfg: Config{FSM: FSMConfig{DriftWindowNs: 100, DriftMinSlots: 10, DriftRemoteShare: 0.5}}}
	for _, c := range []struct {
		name          string
		start, now    int64
		total, remote int64
		closed        bool
		drifted       bool
		nextStart     int64
	}{
		{"before its end", 30, 129, 50, 50, false, false, 30},
		{"at its end", 30, 130, 50, 50, true, true, 130},
		{"at the minimum traffic", 0, 100, 10, 6, true, true, 100},
		{"below the minimum traffic", 0, 100, 9, 9, true, false, 100},
		{"remote exactly at the share", 0, 100, 10, 5, true, false, 100},
		{"closed late, within a window", 30, 229, 50, 50, true, true, 130},
		{"closed a window late", 30, 230, 50, 50, true, false, 230},
		{"closed long after", 30, 1255, 50, 50, true, false, 1230},
	} {
		x := &cpuFSM{winStartNs: c.start, winTotal: c.total, winRemote: c.remote}
		a.rollWindow(x, c.now)
		if !c.closed {
			if x.winTotal != c.total || x.winStartNs != c.start || x.drifted {
				t.Errorf("%s: the window changed: %+v", c.name, x)
			}
			continue
		}
		if x.drifted != c.drifted || x.winStartNs != c.nextStart || x.winTotal != 0 || x.winRemote != 0 {
			t.Errorf("%s: drifted %v, next window at %d, counters %d/%d; want %v at %d, 0/0", c.name, x.drifted, x.winStartNs, x.winRemote, x.winTotal, c.drifted, c.nextStart)
		}
	}
	a.cfg.FSM.DriftWindowNs = -1
	x := &cpuFSM{winTotal: 50, winRemote: 50}
	if a.rollWindow(x, 1e12); x.drifted || x.winTotal != 50 {
		t.Errorf("drift off: %+v", x)
	}
}

// TestSyncAtItsLimit: a sync message that takes exactly its limit
// (SyncTimeoutFactor x its idle price) is in time: the persist and every
// ack succeed, and the switched link at its limit gives no fault signal;
// one nanosecond more and the sync fails.
func TestSyncAtItsLimit(t *testing.T) {
	for _, extra := range []int64{0, 1} {
		f, a := remoteSetup(t, Config{FSM: FSMConfig{SyncTimeoutFactor: 1}})
		idle := a.fsmd.idleSyncNs
		f.cost = func(op CostOp, from, to int, bytes int64) int64 {
			if op == CostSync {
				return idle[from][to] + extra
			}
			base := int64(10)
			if from != to {
				base = 100
			}
			return base + bytes/64
		}
		a.Alloc(1, 64)
		c := fsmCounts(a)
		if extra == 1 {
			if c["SYNCING->IDLE"] == 0 || c["SYNCING->ACTIVE"] != 0 {
				t.Fatalf("a message 1 ns past its limit: %v", c)
			}
			continue
		}
		if c["SYNCING->ACTIVE"] != 1 {
			t.Fatalf("messages exactly at their limit failed the sync: %v", c)
		}
		if err := a.Tick(); err != nil {
			t.Fatal(err)
		}
		if st := a.cpus[1].fsm.State(); st != StateActive || a.stats.FSMFaultMigrations != 0 {
			t.Fatalf("a link at its limit gave a fault signal: %v, %d fault migrations", st, a.stats.FSMFaultMigrations)
		}
		mustCheckFSM(t, a)
	}
}

// TestReturnRemotePrices: an aborted sync's return of remote slots
// counts every slot and costs one drain per node it returns to, priced
// for the bytes it moves; a node with nothing to return costs nothing.
func TestReturnRemotePrices(t *testing.T) {
	_, a := remoteSetup(t, Config{})
	a.Alloc(1, 64)
	st := &a.cpus[1]
	n := len(st.caches[0])
	slab := a.slabs[st.caches[0][0]&^(1<<slabShift-1)]
	inUse := slab.inUse
	if n == 0 || a.t1.blockOf(st.caches[0][0]).node != 0 {
		t.Fatalf("cpu 1 caches %d slots, want node 0's", n)
	}
	returned, cost := a.returnRemote(1, 0, 0)
	// The fake prices a cross-node operation at 100 ns + bytes/64.
	if want := int64(100 + n*64/64); returned != n || cost != want {
		t.Fatalf("returned %d slots for %d ns, want %d for %d ns", returned, cost, n, want)
	}
	if len(st.caches[0]) != 0 || slab.inUse != inUse-int32(n) {
		t.Fatalf("after the return: %d cached, slab in use %d (was %d)", len(st.caches[0]), slab.inUse, inUse)
	}
	for node, k := range a.fsmd.returned {
		if k != 0 {
			t.Errorf("scratch count of node %d left at %d", node, k)
		}
	}
}

// TestMigrationPaysItsFlush: the cost a migration leaves owed is at
// least the flush of every slot the CPU cached, priced for its bytes.
func TestMigrationPaysItsFlush(t *testing.T) {
	f, a := remoteSetup(t, Config{})
	a.Alloc(1, 64)
	a.Alloc(1, 256)
	st := &a.cpus[1]
	var flush int64
	for cls, c := range st.caches {
		flush += 10 + int64(len(c))*a.cfg.SlotSizes[cls]/64 // the fake's same-node price
	}
	f.offline = []bool{true, false}
	if err := a.Tick(); err != nil {
		t.Fatal(err)
	}
	if a.stats.FSMFaultMigrations != 1 || st.fsmx.owedNs < flush {
		t.Fatalf("%d fault migrations, %d ns owed; want 1 and at least the flush, %d ns", a.stats.FSMFaultMigrations, st.fsmx.owedNs, flush)
	}
}
