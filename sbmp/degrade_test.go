package sbmp

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// exhaustTier1 fills a one-block allocator's Tier-1 with 1 KiB objects on
// cpu until the allocation that finds it empty (the one that begins a
// degrade episode), and returns that allocation's result and the live
// objects.
func exhaustTier1(t *testing.T, a *Allocator, cpu int) (AllocResult, []uint64) {
	t.Helper()
	var live []uint64
	for range 1 << 14 {
		entries := a.stats.DegradeEntries
		r := a.Alloc(cpu, 1024)
		if r.OK {
			live = append(live, r.Addr)
		}
		if a.stats.DegradeEntries > entries {
			return r, live
		}
	}
	t.Fatal("Tier-1 never ran dry")
	return AllocResult{}, nil
}

// TestDegradeEpisodeTable walks one episode through its conditions: the
// entry, refills that find slots before the dwell, a refill that finds
// nothing, and the exit, for several hysteresis settings.
func TestDegradeEpisodeTable(t *testing.T) {
	for _, tt := range []struct {
		name string
		h    DegradeHysteresis
		// Before the dwell ends, refillsEarly refills find slots; after
		// it, one refill finds nothing, then refillsLate find slots.
		refillsEarly, refillsLate int
		exitEarly, exitLate       bool
	}{
		{"no hysteresis exits at the first refill", DegradeHysteresis{0, 1}, 1, 1, true, false},
		{"dwell holds an episode with refills enough", DegradeHysteresis{1e9, 1}, 3, 1, false, true},
		{"a failed refill restarts the count", DegradeHysteresis{1e9, 3}, 3, 2, false, false},
		{"count reached after the dwell", DegradeHysteresis{1e9, 3}, 3, 3, false, true},
		{"count without dwell", DegradeHysteresis{0, 2}, 2, 2, true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeEnv(2, 1, 1<<9+8)
			a := newTestAllocator(t, f, Config{Tier0CapacitySlots: 64, Refill: &FixedBatchRefill{Slots: 32}, Degrade: WithHysteresis(ImmediateTier2{}, tt.h)})
			_, live := exhaustTier1(t, a, 0)
			// Free 1 KiB objects on cpu 1, the first half of each slab
			// (two refills of 32 carve one slab), so that drains put
			// slots back into slabs without freeing a slab whole.
			for i, addr := range live {
				if i%64 >= 32 || i >= 64*12 {
					continue
				}
				if _, err := a.Free(1, addr, 1024); err != nil {
					t.Fatal(err)
				}
			}
			found := func(n int) {
				t.Helper()
				for range n {
					before := a.stats.Refills
					for a.stats.Refills == before {
						if r := a.Alloc(0, 1024); !r.OK || r.Degraded {
							t.Fatalf("alloc %+v: want a refill that finds slots", r)
						}
					}
				}
			}
			if !a.Degraded() {
				t.Fatal("not degraded after Tier-1 ran dry")
			}
			found(tt.refillsEarly)
			if got := a.Degraded(); got == tt.exitEarly {
				t.Fatalf("after %d refills within the dwell: degraded %v", tt.refillsEarly, got)
			}
			if !a.Degraded() {
				return
			}
			f.now += tt.h.MinDwellNs
			// 256 B: no slab of that class and no free slab: the refill
			// finds nothing, inside the episode, so no flush.
			flushes := a.stats.Flushes
			if r := a.Alloc(1, 256); !r.Degraded {
				t.Fatalf("256 B alloc %+v: want the degrade condition", r)
			}
			if a.stats.Flushes != flushes || a.stats.DegradeEntries != 1 {
				t.Fatalf("a refill that found nothing inside the episode: flushes %d -> %d, entries %d", flushes, a.stats.Flushes, a.stats.DegradeEntries)
			}
			found(tt.refillsLate)
			if got := a.Degraded(); got == tt.exitLate {
				t.Fatalf("after the dwell, a failed refill and %d that found slots: degraded %v", tt.refillsLate, got)
			}
			if s := a.Stats(); tt.exitLate && (s.DegradeExits != 1 || s.DegradedNs != tt.h.MinDwellNs) {
				t.Fatalf("exits %d, degraded %d ns; want 1 exit after %d ns", s.DegradeExits, s.DegradedNs, tt.h.MinDwellNs)
			}
		})
	}
}

// TestEachCPUPaysItsOwnFlush: the flush at the start of an episode
// empties every cache at once, but each other CPU's share is charged to
// that CPU's next slow path, not to the allocation that began the
// episode; a CPU restocked by frees pays at its next slow path anyway.
func TestEachCPUPaysItsOwnFlush(t *testing.T) {
	run := func(forgive bool) (entry AllocResult, owed []int64, cpu1, cpu2Hit, cpu2Slow AllocResult) {
		f := newFakeEnv(3, 1, 1<<9+8)
		a := newTestAllocator(t, f, Config{Tier0CapacitySlots: 64, Refill: &FixedBatchRefill{Slots: 32}})
		for cpu := 1; cpu <= 2; cpu++ { // CPUs 1 and 2 cache 64 B slots
			a.Alloc(cpu, 64)
		}
		entry, live := exhaustTier1(t, a, 0)
		owed = slices.Clone(a.deg.owedNs)
		if forgive {
			clear(a.deg.owedNs)
		}
		cpu1 = a.Alloc(1, 64) // an empty cache: the slow path
		if _, err := a.Free(2, live[0], 1024); err != nil {
			t.Fatal(err)
		}
		cpu2Hit = a.Alloc(2, 1024) // the freed slot: the fast path
		cpu2Slow = a.Alloc(2, 1024)
		if a.deg.owedNs[1] != 0 || a.deg.owedNs[2] != 0 {
			t.Fatalf("after their slow paths CPUs 1 and 2 still owe %v", a.deg.owedNs)
		}
		return entry, owed, cpu1, cpu2Hit, cpu2Slow
	}
	entry, owed, cpu1, hit, slow := run(false)
	_, _, cpu1Free, hitFree, slowFree := run(true)
	// The cost model charges a flush 10 ns per class plus a ns per 64
	// bytes: CPU 1 and CPU 2 each cached 31 slots of 64 B.
	if want := []int64{0, 3*10 + 31, 3*10 + 31}; !slices.Equal(owed, want) {
		t.Fatalf("owed after the entry %v, want %v (CPU 0, which entered, owes nothing)", owed, want)
	}
	if cpu1.CostNs-cpu1Free.CostNs != owed[1] {
		t.Errorf("CPU 1's next slow path cost %d, %d without its debt: want the difference %d", cpu1.CostNs, cpu1Free.CostNs, owed[1])
	}
	if hit.Tier != 0 || hit.CostNs != hitFree.CostNs {
		t.Errorf("CPU 2's fast-path hit %+v (without debt %d): a hit pays no debt", hit, hitFree.CostNs)
	}
	if slow.CostNs-slowFree.CostNs != owed[2] {
		t.Errorf("CPU 2's next slow path cost %d, %d without its debt: want the difference %d", slow.CostNs, slowFree.CostNs, owed[2])
	}
	if !entry.OK || entry.Tier != 2 {
		t.Fatalf("entry %+v", entry)
	}
}

// TestDegradeHysteresisStateMachine drives random allocations, frees and
// clock ticks on a small allocator with random hysteresis, a random
// degrade action and small-request cost (carved or not), and checks each step against a model of the episode:
// it begins at a refill that finds nothing outside an episode (and only
// then flushes), ends at a refill that finds slots once MinDwellNs have
// passed and ExitRefills refills in a row found slots, and never
// otherwise. Entries and exits differ by 0 or 1, DegradedNs adds up, a
// CPU owes no flush after its own slow path, and the books hold.
func TestDegradeHysteresisStateMachine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		// One block: Tier-1 runs dry within a few bursts. Small
		// caches drain often, so refills find slots again.
		f := newFakeEnv(rapid.IntRange(1, 4).Draw(t, "cpus"), 1, rapid.Int64Range(1<<9, 1<<9+32).Draw(t, "limit_pages"))
		h := DegradeHysteresis{
			MinDwellNs:  rapid.SampledFrom([]int64{0, 1e6, 5e7, 3e8}).Draw(t, "dwell_ns"),
			ExitRefills: rapid.IntRange(1, 6).Draw(t, "exit_refills"),
		}
		act := rapid.SampledFrom([]DegradeAction{DegradeTier2, DegradeFail, DegradeWait, DegradeStealRemote}).Draw(t, "action")
		small := rapid.SampledFrom([]DegradeSmallCost{DegradeSmallBlock, DegradeSmallCarve}).Draw(t, "small_cost")
		a, err := New(f.env(), Config{
			Tier0CapacitySlots: rapid.IntRange(2, 16).Draw(t, "capacity"),
			Refill:             &FixedBatchRefill{Slots: rapid.IntRange(1, 8).Draw(t, "batch")},
			Degrade:            WithSmallCost(WithHysteresis(scriptedDegrade{action: act, waitNs: 1e5}, h), small),
		})
		if err != nil {
			t.Fatal(err)
		}
		// The model.
		var (
			degraded          bool
			began, closedNs   int64
			inRow             int
			entries, exits    int64
			lastEntryNs       int64 // when the allocator last began an episode
			live              = map[uint64]int64{}
			order             []uint64
			wantFlushes       int64
			modelDegradedNsAt = func(now int64) int64 {
				if degraded {
					return closedNs + now - began
				}
				return closedNs
			}
		)
		// Start at the edge: Tier-1 all but run dry by 1 KiB objects on
		// CPU 0, so that each run spends its steps on episodes.
		for range 1<<11 - rapid.IntRange(0, 64).Draw(t, "headroom") {
			r := a.Alloc(0, 1024)
			if !r.OK || r.Degraded {
				t.Fatalf("prefill: %+v", r)
			}
			live[r.Addr] = 1024
			order = append(order, r.Addr)
		}
		t.Repeat(map[string]func(*rapid.T){
			"alloc": func(t *rapid.T) {
				size := rapid.SampledFrom([]int64{1, 64, 1024, 1024, 70_000}).Draw(t, "size")
				cpu := rapid.IntRange(0, f.cpus-1).Draw(t, "cpu")
				for range rapid.IntRange(1, 200).Draw(t, "burst") {
					refills, entriesBefore, exitsBefore := a.stats.Refills, a.stats.DegradeEntries, a.stats.DegradeExits
					r := a.Alloc(cpu, size)
					slow := a.stats.Refills > refills
					if a.stats.DegradeEntries > entriesBefore {
						lastEntryNs = f.now
					}
					if a.stats.DegradeExits > exitsBefore && f.now-lastEntryNs < h.MinDwellNs {
						t.Fatalf("an episode begun at %d ns ended at %d ns, before its %d ns dwell", lastEntryNs, f.now, h.MinDwellNs)
					}
					switch {
					case r.Degraded && !degraded:
						degraded, began, inRow = true, f.now, 0
						entries++
						wantFlushes++
					case r.Degraded:
						inRow = 0
					case slow && degraded:
						inRow++
						if inRow >= h.ExitRefills && f.now-began >= h.MinDwellNs {
							degraded = false
							exits++
							closedNs += f.now - began
						}
					}
					if slow && a.deg.owedNs[cpu] != 0 {
						t.Fatalf("cpu %d still owes %d ns of flush after its slow path", cpu, a.deg.owedNs[cpu])
					}
					if r.OK {
						if _, dup := live[r.Addr]; dup {
							t.Fatalf("%#x handed out twice", r.Addr)
						}
						live[r.Addr] = size
						order = append(order, r.Addr)
					}
				}
			},
			"free": func(t *rapid.T) {
				cpu := rapid.IntRange(0, f.cpus-1).Draw(t, "cpu")
				for range rapid.IntRange(1, 300).Draw(t, "burst") {
					if len(order) == 0 {
						return
					}
					i := rapid.IntRange(0, len(order)-1).Draw(t, "i")
					addr := order[i]
					order = slices.Delete(order, i, i+1)
					if _, err := a.Free(cpu, addr, live[addr]); err != nil {
						t.Fatal(err)
					}
					delete(live, addr)
				}
			},
			"flush": func(t *rapid.T) {
				// Slots back to the slabs, for refills to find; not an
				// episode's flush.
				a.Flush()
				wantFlushes++
			},
			"tick": func(t *rapid.T) {
				f.now += rapid.Int64Range(0, 1e8).Draw(t, "dt")
				if err := a.Tick(); err != nil {
					t.Fatal(err)
				}
			},
			"": func(t *rapid.T) {
				s := a.Stats()
				if s.DegradeEntries-s.DegradeExits != 0 && s.DegradeEntries-s.DegradeExits != 1 {
					t.Fatalf("%d entries, %d exits", s.DegradeEntries, s.DegradeExits)
				}
				if s.DegradeEntries != entries || s.DegradeExits != exits || a.Degraded() != degraded {
					t.Fatalf("entries %d exits %d degraded %v; the model (dwell %d ns, exit after %d refills) has %d %d %v",
						s.DegradeEntries, s.DegradeExits, a.Degraded(), h.MinDwellNs, h.ExitRefills, entries, exits, degraded)
				}
				if s.Flushes != wantFlushes {
					t.Fatalf("%d flushes, want %d: one per episode and one per Flush, no more", s.Flushes, wantFlushes)
				}
				if want := modelDegradedNsAt(f.now); s.DegradedNs != want {
					t.Fatalf("degraded %d ns, the model %d", s.DegradedNs, want)
				}
				if s.DegradedNs < exits*h.MinDwellNs {
					t.Fatalf("%d exits after %d ns in degrade: an exit came before the %d ns dwell", exits, s.DegradedNs, h.MinDwellNs)
				}
				if err := checkAllocator(a, f, live); err != nil {
					t.Fatal(err)
				}
			},
		})
	})
}

// TestSwapEndsTheEpisode: an allocator swapped out takes no allocations,
// so nothing else would end its episode; Swap retires it, and its time in
// degrade stops growing.
func TestSwapEndsTheEpisode(t *testing.T) {
	f := newFakeEnv(2, 1, 1<<10+8)
	old := newTestAllocator(t, f, Config{})
	exhaustTier1(t, old, 0)
	f.now += 5e6
	sw := NewSwitcher(old)
	sw.Swap(newTestAllocator(t, f, Config{}))
	f.now += 7e6
	if s := old.Stats(); old.Degraded() || s.DegradeExits != 1 || s.DegradedNs != 5e6 {
		t.Fatalf("swapped out: degraded %v, exits %d, %d ns in degrade; want the episode ended after 5 ms", old.Degraded(), s.DegradeExits, s.DegradedNs)
	}
}

// TestCarveSmallSharesFallbackBlocks: degraded 64 B requests take a
// fallback block each by default and share carved ones with
// DegradeSmallCarve; carved slots free like any Tier-2 allocation, a
// block goes back to the page cache with its last slot, and a policy
// swap back to blocks leaves the carved slots freeable.
func TestCarveSmallSharesFallbackBlocks(t *testing.T) {
	const n = 200 // degraded 64 B requests: two carved blocks of 128 slots
	run := func(small DegradeSmallCost) (*Allocator, *fakeEnv, map[uint64]int64, int64) {
		f := newFakeEnv(2, 1, 1<<9+511) // Tier-1 cannot grow a second block
		a := newTestAllocator(t, f, Config{Degrade: WithSmallCost(ImmediateTier2{}, small)})
		_, ptrs := exhaustTier1(t, a, 0)
		live := map[uint64]int64{}
		for _, p := range ptrs {
			live[p] = 1024
		}
		before := f.used
		for range n {
			r := a.Alloc(0, 64)
			if !r.OK || r.Tier != 2 {
				t.Fatalf("%d: degraded 64 B alloc %+v", small, r)
			}
			live[r.Addr] = 64
		}
		if err := checkAllocator(a, f, live); err != nil {
			t.Fatal(err)
		}
		return a, f, live, f.used - before
	}
	_, _, _, blockPages := run(DegradeSmallBlock)
	a, f, live, carvePages := run(DegradeSmallCarve)
	if blockPages != 2*n || carvePages != 2*2 {
		t.Fatalf("pages for %d degraded 64 B requests: %d with a block each, %d carved; want %d and 4", n, blockPages, carvePages, 2*n)
	}
	// The 1 KiB request that began the episode has a carved block too.
	if len(a.carve.pages) != 3 {
		t.Fatalf("%d carved blocks, want 3", len(a.carve.pages))
	}
	a.SetPolicies(nil, nil, ImmediateTier2{})
	if r := a.Alloc(0, 64); !r.OK || a.carvedPage(r.Addr, 64) != nil {
		t.Fatalf("after swapping to a policy without carving, a degraded 64 B request got %+v, in a carved block", r)
	} else {
		live[r.Addr] = 64
	}
	var carved []uint64
	for addr, size := range live {
		if size == 64 && a.carvedPage(addr, size) != nil {
			carved = append(carved, addr)
		}
	}
	slices.Sort(carved)
	for i, addr := range carved {
		if _, err := a.Free(1, addr, 64); err != nil {
			t.Fatalf("free of carved %#x: %v", addr, err)
		}
		delete(live, addr)
		if _, err := a.Free(1, addr, 64); err == nil {
			t.Fatalf("double free of carved %#x accepted", addr)
		}
		if err := checkAllocator(a, f, live); err != nil {
			t.Fatalf("after %d frees: %v", i+1, err)
		}
	}
	// What stays out: the 1 KiB request's carved block and the last 64 B
	// request's block of its own.
	if len(a.carve.pages) != 1 || a.pc.Stats().OutstandingBytes != 2*carveMinBytes {
		t.Fatalf("%d carved blocks, %d bytes out of the page cache after every carved 64 B slot was freed; want 1 and %d", len(a.carve.pages), a.pc.Stats().OutstandingBytes, 2*carveMinBytes)
	}
}

// TestSetPoliciesChangesTheOpenEpisode: a degrade policy swapped in while
// an episode is open brings its hysteresis to that episode.
func TestSetPoliciesChangesTheOpenEpisode(t *testing.T) {
	f := newFakeEnv(2, 1, 1<<9+8)
	a := newTestAllocator(t, f, Config{Tier0CapacitySlots: 64, Refill: &FixedBatchRefill{Slots: 32}})
	_, live := exhaustTier1(t, a, 0)
	for _, addr := range live[:128] { // cpu 1's full cache drains 64 of them
		if _, err := a.Free(1, addr, 1024); err != nil {
			t.Fatal(err)
		}
	}
	a.SetPolicies(nil, nil, WithHysteresis(ImmediateTier2{}, noHysteresis))
	if r := a.Alloc(0, 1024); !r.OK || r.Tier != 1 {
		t.Fatalf("alloc %+v: want a refill that finds slots", r)
	}
	if a.Degraded() || a.Stats().DegradeExits != 1 {
		t.Fatal("a refill found slots under a policy without hysteresis, and the episode goes on")
	}
}

// stealSetup allocates the machine's one 2 MiB block whole, carved into
// 1 KiB slots, on cpu (of node 1), and returns the slots.
func stealSetup(t *testing.T, a *Allocator, cpu int) []uint64 {
	t.Helper()
	var live []uint64
	for range 2048 {
		r := a.Alloc(cpu, 1024)
		if !r.OK {
			t.Fatalf("alloc %d on cpu %d failed", len(live), cpu)
		}
		live = append(live, r.Addr)
	}
	return live
}

// TestStealRemoteTakesOtherCPUsCaches: inside a degrade episode, with
// every slab carved and Tier-2 full, the slots another node's CPU holds
// in its cache are what steal-remote finds and immediate Tier-2 does not
// (it fails).
func TestStealRemoteTakesOtherCPUsCaches(t *testing.T) {
	for _, tt := range []struct {
		action DegradeAction
		wantOK bool
	}{{DegradeTier2, false}, {DegradeStealRemote, true}} {
		f := newFakeEnv(2, 2, 1<<9) // one 2 MiB block, then Tier-2 is full
		a := newTestAllocator(t, f, Config{Degrade: WithHysteresis(scriptedDegrade{action: tt.action}, DegradeHysteresis{MinDwellNs: 1e15, ExitRefills: 1 << 30})})
		if a.cpus[1].node != 1 {
			t.Fatalf("cpu 1 is on node %d", a.cpus[1].node)
		}
		live := stealSetup(t, a, 1)
		if r := a.Alloc(0, 1024); r.OK || a.Stats().DegradeEntries != 1 {
			t.Fatalf("%v: cpu 0's first alloc %+v, %d episodes: want a failure that begins an episode", tt.action, r, a.Stats().DegradeEntries)
		}
		for _, addr := range live[:100] { // into cpu 1's cache: they are its node's
			if _, err := a.Free(1, addr, 1024); err != nil {
				t.Fatal(err)
			}
		}
		r := a.Alloc(0, 1024)
		if r.OK != tt.wantOK {
			t.Errorf("%v: cpu 0's alloc inside the episode: %+v, want ok %v", tt.action, r, tt.wantOK)
		}
		if want := map[bool]int{true: 50, false: 100}[tt.wantOK]; a.Tier0Free(1, 2) != want {
			t.Errorf("%v: cpu 1 caches %d slots, want %d", tt.action, a.Tier0Free(1, 2), want)
		}
		if err := a.CheckInvariants(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStealRemoteTakesAtMostHalfACache: steal-remote's take from other
// CPUs' caches stops at half a cache's capacity in all, however many
// peers could give more.
func TestStealRemoteTakesAtMostHalfACache(t *testing.T) {
	f := newFakeEnv(4, 2, 1<<9) // cpus 0, 1 on node 0; 2, 3 on node 1; one 2 MiB block
	a := newTestAllocator(t, f, Config{Degrade: WithHysteresis(scriptedDegrade{action: DegradeStealRemote}, DegradeHysteresis{MinDwellNs: 1e15, ExitRefills: 1 << 30})})
	live := stealSetup(t, a, 2)
	if r := a.Alloc(0, 1024); r.OK || a.Stats().DegradeEntries != 1 {
		t.Fatalf("cpu 0's first alloc %+v, %d episodes: want a failure that begins an episode (its flush finds the caches empty)", r, a.Stats().DegradeEntries)
	}
	for i, addr := range live[:800] { // 400 into each of cpu 2's and cpu 3's caches
		if _, err := a.Free(2+i%2, addr, 1024); err != nil {
			t.Fatal(err)
		}
	}
	r := a.Alloc(0, 1024)
	if !r.OK {
		t.Fatalf("cpu 0 inside the episode: %+v, want a slot stolen from node 1's caches", r)
	}
	// Half a cache of 512 is 256: 200 from cpu 2 (half of it), 56 from
	// cpu 3; one of them served the allocation.
	if got := [3]int{a.Tier0Free(0, 2), a.Tier0Free(2, 2), a.Tier0Free(3, 2)}; got != [3]int{255, 200, 344} {
		t.Fatalf("free slots of cpus 0, 2, 3: %v, want [255 200 344]", got)
	}
	if err := a.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}
