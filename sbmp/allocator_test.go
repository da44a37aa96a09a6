package sbmp

import (
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

func newTestAllocator(t testing.TB, f *fakeEnv, cfg Config) *Allocator {
	t.Helper()
	a, err := New(f.env(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestTiersServeInOrder(t *testing.T) {
	f := newFakeEnv(4, 2, 1<<16)
	a := newTestAllocator(t, f, Config{})
	r := a.Alloc(0, 64)
	if !r.OK || r.Tier != 1 {
		t.Fatalf("first alloc: %+v, want tier 1 (a refill)", r)
	}
	r2 := a.Alloc(0, 60)
	if !r2.OK || r2.Tier != 0 || r2.Addr == r.Addr {
		t.Fatalf("second alloc: %+v, want tier 0 and a new address", r2)
	}
	if _, err := a.Free(0, r2.Addr, 60); err != nil {
		t.Fatal(err)
	}
	if r3 := a.Alloc(0, 64); r3.Addr != r2.Addr || r3.Tier != 0 {
		t.Fatalf("alloc after free: %+v, want the freed slot back from tier 0", r3)
	}
	// Above the largest class, up to half a block: a Tier-1 buddy block
	// of two slabs (128 KiB) for 100,000 B.
	med := a.Alloc(1, 100_000)
	if !med.OK || med.Tier != 1 || med.Addr%(128<<10) != 0 {
		t.Fatalf("medium alloc: %+v, want tier 1, aligned to 128 KiB", med)
	}
	if _, err := a.Free(1, med.Addr, 100_000); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Free(1, med.Addr, 100_000); err == nil {
		t.Fatal("double free of a medium block was accepted")
	}
	big := a.Alloc(1, 1<<20+1)
	if !big.OK || big.Tier != 2 {
		t.Fatalf("large alloc: %+v, want tier 2", big)
	}
	if _, err := a.Free(1, big.Addr, 1<<20+1); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Free(1, big.Addr, 1<<20+1); err == nil {
		t.Fatal("double free of a tier-2 block was accepted")
	}
	s := a.Stats()
	if s.Tier0Allocs != 2 || s.Tier1Allocs != 2 || s.MediumAllocs != 1 || s.Tier2Allocs != 1 {
		t.Fatalf("stats %+v", s)
	}
	if f.used != 1<<9 {
		t.Fatalf("page source holds %d pages, want one 2 MiB block (512)", f.used)
	}
}

func TestRemoteRefillWhenLocalNodeHasNoMemory(t *testing.T) {
	f := newFakeEnv(2, 2, 1<<9) // room for exactly one block
	a := newTestAllocator(t, f, Config{})
	if r := a.Alloc(0, 64); !r.OK { // node 0 takes the only block
		t.Fatalf("%+v", r)
	}
	r := a.Alloc(1, 64) // cpu 1 is on node 1: no block there, Tier-2 full
	if !r.OK || a.Stats().RefillsRemote != 1 {
		t.Fatalf("cpu 1: %+v, remote refills %d; want a remote refill from node 0", r, a.Stats().RefillsRemote)
	}
	if r.CostNs < 100 {
		t.Fatalf("remote refill cost %d ns, want the remote price", r.CostNs)
	}
}

func TestDegradeFlushesAndFallsBackToTier2(t *testing.T) {
	f := newFakeEnv(2, 1, 1<<9+8) // one block and a few pages
	a := newTestAllocator(t, f, Config{Tier0CapacitySlots: 64})
	// Fill the block with long-lived 64 KiB... no: 1 KiB objects.
	var live []uint64
	for {
		r := a.Alloc(0, 1024)
		if !r.OK || r.Tier == 2 {
			if r.OK {
				live = append(live, r.Addr)
			}
			break
		}
		live = append(live, r.Addr)
	}
	s := a.Stats()
	if s.DegradeEntries != 1 || s.Flushes != 1 || s.Tier2Fallbacks != 1 {
		t.Fatalf("after exhausting Tier-1: %+v; want one degrade entry with a flush and a tier-2 fallback", s)
	}
	if !a.Degraded() {
		t.Fatal("not degraded")
	}
	for _, addr := range live {
		if _, err := a.Free(0, addr, 1024); err != nil {
			t.Fatal(err)
		}
	}
}

// checkAllocatorOwned is Allocator.CheckInvariants (the allocator's own
// books) plus what only the test knows, the live objects: every byte of
// every Tier-1 block is in exactly one place (a live object, a slot in
// some CPU's cache, a drained slot, an uncarved tail of a carved slab, or
// a free or pending slab), live objects never overlap, and every live
// object outside Tier-1 is a live Tier-2 allocation.
func checkAllocatorOwned(a *Allocator, live map[uint64]int64) error {
	if err := a.CheckInvariants(); err != nil {
		return err
	}
	owner := map[uint64]string{} // slot address -> where
	claim := func(addr uint64, where string) error {
		if w, dup := owner[addr]; dup {
			return fmt.Errorf("%#x is both %s and %s", addr, w, where)
		}
		owner[addr] = where
		return nil
	}
	var liveTier1, liveTier2 int
	for addr, size := range live {
		if a.t1.blockOf(addr) == nil {
			if _, ok := a.tier2Live[addr]; !ok {
				return fmt.Errorf("live %#x (%d B) is in no block and not a tier-2 allocation", addr, size)
			}
			liveTier2++
			continue
		}
		liveTier1++
		if order, ok := a.mediumLive[addr]; ok {
			if a.mediumOrder(size) != int(order) {
				return fmt.Errorf("live medium %#x (%d B) recorded as order %d", addr, size, order)
			}
			continue
		}
		if err := claim(addr, "live"); err != nil {
			return err
		}
	}
	if liveTier2 != len(a.tier2Live) {
		return fmt.Errorf("%d live tier-2 objects, allocator tracks %d", liveTier2, len(a.tier2Live))
	}
	for cpu := range a.cpus {
		for cls, c := range a.cpus[cpu].caches {
			for _, addr := range c {
				if err := claim(addr, fmt.Sprintf("cached on cpu %d class %d", cpu, cls)); err != nil {
					return err
				}
			}
		}
	}
	for home := range a.alien {
		for i, l := range a.alien[home] {
			for _, s := range l {
				if err := claim(s.addr, fmt.Sprintf("on its way home from node %d (alien list %d)", home, i)); err != nil {
					return err
				}
			}
		}
	}
	for _, slab := range a.sortedSlabs() {
		s := a.slabs[slab]
		size := a.cfg.SlotSizes[s.class]
		for _, off := range s.free {
			if err := claim(slab+uint64(off), "drained"); err != nil {
				return err
			}
		}
		// Every carved slot is live, cached or drained.
		for i := range s.carved {
			addr := slab + uint64(i)*uint64(size)
			if _, ok := owner[addr]; !ok {
				return fmt.Errorf("slot %#x of slab %#x (class %d) is lost", addr, slab, s.class)
			}
		}
	}
	// Slots claimed must all sit in carved slabs.
	for addr, where := range owner {
		slab := addr &^ (1<<slabShift - 1)
		s := a.slabs[slab]
		if s == nil {
			return fmt.Errorf("%#x (%s) is in slab %#x, which is not carved", addr, where, slab)
		}
	}
	return nil
}

// checkAllocator is checkAllocatorOwned plus the page source's books: its
// outstanding bytes are exactly Tier-1's blocks plus the page cache's
// outstanding and held bytes.
func checkAllocator(a *Allocator, f *fakeEnv, live map[uint64]int64) error {
	if err := checkAllocatorOwned(a, live); err != nil {
		return err
	}
	var blocks int64
	for _, b := range a.t1.blocks {
		if b == nil {
			continue
		}
		blocks++
		if _, ok := f.out[b.base]; !ok {
			return fmt.Errorf("block %#x is not outstanding at the page source", b.base)
		}
	}
	var outBytes int64
	for _, order := range f.out {
		outBytes += 4096 << order
	}
	pcs := a.pc.Stats()
	if want := blocks<<a.t1.blockShift + pcs.OutstandingBytes + pcs.HeldBytes; outBytes != want {
		return fmt.Errorf("page source has %d bytes out; Tier-1 blocks %d + page cache outstanding %d + held %d = %d", outBytes, blocks<<a.t1.blockShift, pcs.OutstandingBytes, pcs.HeldBytes, want)
	}
	return nil
}

// TestAllocatorStateMachine drives random allocations and frees of random
// sizes on random CPUs, clock advances and merge ticks, node faults (a
// node offline, slow links), with a page source small enough to run dry,
// and checks checkAllocator after every step (its CheckInvariants
// includes the FSM's contracts, checkFSMs). After every Tick, every CPU
// still ACTIVE serves from the block it switched to and has no reason to
// migrate. Over all the examples, the common edges of the FSM are taken
// (TestFSMDriveStateMachine covers migrations, which need rarer
// combinations than these examples draw often).
func TestAllocatorStateMachine(t *testing.T) {
	edges := map[string]uint64{}
	defer func() {
		// -short (the race pass) runs too few examples to reach them all.
		if t.Failed() || testing.Short() {
			return
		}
		t.Logf("FSM edges over the examples: %v", edges)
		for _, c := range (&FSM{}).Counts() {
			if edges[c.Name] == 0 && c.From != StateMigrating && c.To != StateMigrating {
				t.Errorf("no example took FSM edge %s: %v", c.Name, edges)
			}
		}
	}()
	rapid.Check(t, func(t *rapid.T) {
		f := newFakeEnv(rapid.IntRange(1, 4).Draw(t, "cpus"), rapid.IntRange(1, 2).Draw(t, "nodes"), rapid.Int64Range(1<<9, 3<<9).Draw(t, "limit_pages"))
		if f.nodes > f.cpus {
			f.nodes = f.cpus
		}
		cfg := Config{
			Tier0CapacitySlots: rapid.IntRange(2, 64).Draw(t, "capacity"),
			Merge: trimmingMerge{LazyThresholdMerge{Threshold: rapid.IntRange(1, 8).Draw(t, "merge_threshold")},
				IdleTrim{IntervalNs: rapid.Int64Range(0, 3e9).Draw(t, "trim_ns"), Fraction: rapid.Float64Range(0, 1).Draw(t, "trim_fraction"), LowWater: rapid.Bool().Draw(t, "trim_low_water")}},
			Refill:          &FixedBatchRefill{Slots: rapid.IntRange(1, 32).Draw(t, "batch")},
			RemoteFreeBatch: rapid.IntRange(-1, 16).Draw(t, "remote_batch"),
			SlabSelect:      SlabSelect(rapid.IntRange(0, int(numSlabSelect)-1).Draw(t, "slab_select")),
			FSM: FSMConfig{
				// Mostly 1 ms windows, which the short ticks close one
				// at a time; batches are small here, so is the minimum.
				DriftWindowNs:     rapid.SampledFrom([]int64{-1, 1e6, 1e6, 1e6, 1e8}).Draw(t, "drift_window_ns"),
				DriftRemoteShare:  rapid.SampledFrom([]float64{0.25, 0.5, 0.75}).Draw(t, "drift_share"),
				DriftMinSlots:     rapid.Int64Range(1, 16).Draw(t, "drift_min_slots"),
				SyncTimeoutFactor: rapid.Int64Range(1, 8).Draw(t, "sync_timeout_factor"),
			},
		}
		a, err := New(f.env(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer a.FSMTransitions(edges)
		live := map[uint64]int64{}
		var order []uint64
		t.Repeat(map[string]func(*rapid.T){
			"alloc": func(t *rapid.T) {
				size := rapid.SampledFrom([]int64{1, 64, 100, 256, 1024, 5000, 70_000, 400_000}).Draw(t, "size")
				cpu := rapid.IntRange(0, f.cpus-1).Draw(t, "cpu")
				// A burst, so that Tier-1 and Tier-2 run dry within a test.
				for range rapid.IntRange(1, 400).Draw(t, "burst") {
					r := a.Alloc(cpu, size)
					if !r.OK {
						return
					}
					if _, dup := live[r.Addr]; dup {
						t.Fatalf("%#x handed out twice", r.Addr)
					}
					live[r.Addr] = size
					order = append(order, r.Addr)
				}
			},
			"free": func(t *rapid.T) {
				if len(order) == 0 {
					t.Skip("nothing live")
				}
				i := rapid.IntRange(0, len(order)-1).Draw(t, "i")
				addr := order[i]
				order = slices.Delete(order, i, i+1)
				size := live[addr]
				delete(live, addr)
				if _, err := a.Free(rapid.IntRange(0, f.cpus-1).Draw(t, "cpu"), addr, size); err != nil {
					t.Fatal(err)
				}
			},
			"free burst": func(t *rapid.T) {
				cpu := rapid.IntRange(0, f.cpus-1).Draw(t, "cpu")
				for range rapid.IntRange(1, 400).Draw(t, "burst") {
					if len(order) == 0 {
						return
					}
					i := len(order) - 1
					if rapid.Bool().Draw(t, "oldest") {
						i = 0
					}
					addr := order[i]
					order = slices.Delete(order, i, i+1)
					size := live[addr]
					delete(live, addr)
					if _, err := a.Free(cpu, addr, size); err != nil {
						t.Fatal(err)
					}
				}
			},
			"flush": func(t *rapid.T) {
				a.Flush()
			},
			"fault": func(t *rapid.T) {
				// A node goes offline or comes back; cross-node links
				// slow down (4x or 10x: within or past most timeouts)
				// or recover.
				f.offline = make([]bool, f.nodes)
				for n := range f.nodes {
					f.offline[n] = rapid.IntRange(0, 5).Draw(t, "offline") == 0
				}
				f.slow = rapid.SampledFrom([]int64{0, 0, 0, 4, 10}).Draw(t, "slow")
			},
			"scavenge": func(t *rapid.T) {
				before := f.used
				want := rapid.Int64Range(0, 8<<20).Draw(t, "bytes")
				released, _ := a.Scavenge(want)
				if got := (before - f.used) * 4096; got != released {
					t.Fatalf("Scavenge(%d) reported %d bytes released, the page source got %d back", want, released, got)
				}
			},
			"tick": func(t *rapid.T) {
				// Steps of up to 1 s, or of up to 2 ms, so that drift
				// windows of 1 ms close one at a time.
				f.now += rapid.OneOf(rapid.Int64Range(0, 1e9), rapid.Int64Range(0, 2e6)).Draw(t, "dt")
				trims := a.stats.Trims
				if err := a.Tick(); err != nil {
					t.Fatal(err)
				}
				// Tick observed every ACTIVE CPU: those still ACTIVE
				// serve from their block, and had no signal.
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
				if a.stats.Trims == trims {
					return
				}
				// A trim sends every alien cache home and restarts every
				// cache's mark.
				for home := range a.alien {
					for i, l := range a.alien[home] {
						if len(l) > 0 {
							t.Fatalf("after a trim, node %d's alien list %d holds %d slots", home, i, len(l))
						}
					}
				}
				for cpu := range a.cpus {
					st := &a.cpus[cpu]
					for cls, c := range st.caches {
						if want := a.mark(len(c)); st.low[cls] != want {
							t.Fatalf("after a trim, cpu %d class %d: mark %d, want %d (cache holds %d)", cpu, cls, st.low[cls], want, len(c))
						}
					}
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

// TestTier1IndexRebases: blocks at real-pointer addresses, arriving high
// then low, are found without a table reaching from address 0.
func TestTier1IndexRebases(t *testing.T) {
	var s Stats
	t1 := newTier1(1, 21, &s)
	high, low := uint64(0x7f12_3440_0000), uint64(0x7f12_3400_0000)
	t1.addBlock(0, high)
	t1.addBlock(0, low)
	if len(t1.index) > 64 {
		t.Fatalf("index has %d entries", len(t1.index))
	}
	for _, a := range []uint64{high, high + 5<<slabShift, low, low + 1<<20} {
		if b := t1.blockOf(a); b == nil || (a-b.base)>>21 != 0 {
			t.Fatalf("blockOf(%#x) = %v", a, b)
		}
	}
	for _, a := range []uint64{0, low - 1, high + 2<<20, 1 << 63} {
		if t1.blockOf(a) != nil {
			t.Fatalf("blockOf(%#x) found a block", a)
		}
	}
	if err := t1.check(); err != nil {
		t.Fatal(err)
	}
}

// TestScavengeReturnsWhollyFreeBlocks: after everything is freed and
// flushed, pending slabs wait for the lazy merge; Scavenge merges them
// and gives every block back, which RetainBlocks would otherwise keep.
func TestScavengeReturnsWhollyFreeBlocks(t *testing.T) {
	f := newFakeEnv(2, 1, 1<<14)
	a := newTestAllocator(t, f, Config{Merge: LazyThresholdMerge{Threshold: 1 << 30}})
	var addrs []uint64
	for range 40000 { // 40000 × 1 KiB: about 20 blocks of 2 MiB
		r := a.Alloc(0, 1024)
		if !r.OK {
			t.Fatal("alloc failed")
		}
		addrs = append(addrs, r.Addr)
	}
	for _, p := range addrs {
		if _, err := a.Free(1, p, 1024); err != nil {
			t.Fatal(err)
		}
	}
	a.Flush()
	held := f.used
	if held < 10<<9 {
		t.Fatalf("page source holds %d pages before scavenging, want at least 10 blocks", held)
	}
	released, cost := a.Scavenge(2 << 20)
	if released != 2<<20 || f.used != held-512 {
		t.Fatalf("Scavenge(2 MiB) released %d bytes, page source %d -> %d pages; want one block", released, held, f.used)
	}
	released, cost2 := a.Scavenge(0)
	if f.used != 0 || released != (held-512)*4096 {
		t.Fatalf("Scavenge(0) released %d, page source still holds %d pages", released, f.used)
	}
	if merges := a.Stats().Tier1Merges; cost != 10*merges || cost2 != 0 {
		t.Fatalf("merge cost %d then %d: want the first pass to pay for every merge (%d at 10 ns)", cost, cost2, merges)
	}
	for _, cpu := range f.freeCPUs {
		if cpu != -1 {
			t.Fatalf("a scavenged block went back to the page source as CPU %d's, want -1 (no CPU's)", cpu)
		}
	}
	if err := checkAllocator(a, f, map[uint64]int64{}); err != nil {
		t.Fatal(err)
	}
}

// TestReusedBlockAddressIsNotOfferedToItsOldNode: a block returned to the
// page source leaves stale entries on its node's partial lists; when the
// page source hands the same addresses to another node, those entries
// must not offer that node's slab to the first node as a local one (found
// by `sbmpsim check`: "node 0's partial list of class 0 offers slab ... of
// node 1").
func TestReusedBlockAddressIsNotOfferedToItsOldNode(t *testing.T) {
	f := newFakeEnv(2, 2, 1<<9) // room for one block
	a := newTestAllocator(t, f, Config{})
	check := func(step string) {
		t.Helper()
		if err := a.CheckInvariants(); err != nil {
			t.Fatalf("after %s: %v", step, err)
		}
	}
	var addrs []uint64
	for range 10 {
		r := a.Alloc(0, 64)
		if !r.OK {
			t.Fatal("cpu 0 alloc failed")
		}
		addrs = append(addrs, r.Addr)
	}
	block := a.t1.blockOf(addrs[0]).base
	for _, p := range addrs {
		if _, err := a.Free(0, p, 64); err != nil {
			t.Fatal(err)
		}
	}
	a.Flush()
	if released, _ := a.Scavenge(0); released == 0 || f.used != 0 {
		t.Fatalf("scavenge released %d bytes, page source still holds %d pages", released, f.used)
	}
	check("node 0's block went back to the page source")
	r := a.Alloc(1, 64) // cpu 1 is on node 1: it gets the same addresses
	if !r.OK || a.t1.blockOf(r.Addr).base != block || a.t1.blockOf(r.Addr).node != 1 {
		t.Fatalf("cpu 1: %+v; want a slab of block %#x, now node 1's", r, block)
	}
	check("node 1 got the block")
	before := a.Stats().RefillsRemote
	r = a.Alloc(0, 64)
	check("cpu 0 allocated again")
	if r.OK && r.Tier == 1 && a.t1.blockOf(r.Addr) != nil && a.t1.blockOf(r.Addr).node == 1 && a.Stats().RefillsRemote == before {
		t.Fatalf("cpu 0 got %#x from node 1's slab as a local refill", r.Addr)
	}
}

// A medium block freed with a size of another order, twice, or at an
// address inside it is an error, and leaves the books as they were.
func TestMediumBadFrees(t *testing.T) {
	f := newFakeEnv(1, 1, 1<<10)
	a := newTestAllocator(t, f, Config{})
	r := a.Alloc(0, 100_000)
	if !r.OK || r.Tier != 1 {
		t.Fatalf("medium alloc: %+v", r)
	}
	for _, tt := range []struct {
		addr uint64
		size int64
	}{
		{r.Addr, 65536},           // order 0, allocated as order 1
		{r.Addr, 300_000},         // order 3
		{r.Addr + 1<<16, 100_000}, // its second slab
	} {
		if _, err := a.Free(0, tt.addr, tt.size); err == nil {
			t.Errorf("Free(%#x, %d) of a 100,000 B block at %#x was accepted", tt.addr, tt.size, r.Addr)
		}
	}
	if err := a.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Free(0, r.Addr, 100_000); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Free(0, r.Addr, 100_000); err == nil {
		t.Fatal("double free accepted")
	}
	if err := a.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}
