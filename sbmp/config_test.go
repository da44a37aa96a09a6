package sbmp

import (
	"errors"
	"slices"
	"testing"
)

// TestConfigBounds: every bound of Config is where its message says,
// accepted on the edge and refused one past it.
func TestConfigBounds(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		field string // "" when the configuration is valid
	}{
		{"defaults", Config{}, ""},
		{"largest slot size, a whole slab", Config{SlotSizes: []int64{8, 1 << slabShift}}, ""},
		{"slot size past a slab", Config{SlotSizes: []int64{64, 2 << slabShift}}, "Config.SlotSizes"},
		{"slot size under 8", Config{SlotSizes: []int64{4, 64}}, "Config.SlotSizes"},
		{"slot sizes not increasing", Config{SlotSizes: []int64{64, 64}}, "Config.SlotSizes"},
		{"slot size not a power of two", Config{SlotSizes: []int64{64, 96}}, "Config.SlotSizes"},
		{"last slab selection", Config{SlabSelect: numSlabSelect - 1}, ""},
		{"unknown slab selection", Config{SlabSelect: numSlabSelect}, "Config.SlabSelect"},
		{"4 MiB blocks", Config{BlockOrder: 10}, ""},
		{"8 MiB blocks", Config{BlockOrder: 11}, "Config.BlockOrder"},
		{"smallest cache", Config{Tier0CapacitySlots: 2}, ""},
		{"cache of one", Config{Tier0CapacitySlots: 1}, "Config.Tier0CapacitySlots"},
		{"last degraded small cost", Config{Degrade: WithSmallCost(ImmediateTier2{}, numDegradeSmallCosts-1)}, ""},
		{"unknown degraded small cost", Config{Degrade: WithSmallCost(ImmediateTier2{}, numDegradeSmallCosts)}, "Config.Degrade"},
	} {
		_, err := New(newFakeEnv(2, 1, 1<<12).env(), tc.cfg)
		var ce *ConfigError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.field != "" && (!errors.As(err, &ce) || ce.Field != tc.field):
			t.Errorf("%s: got %v, want a ConfigError on %s", tc.name, err, tc.field)
		}
	}
}

// TestEdgesOfTheAllocationPath: a request of no bytes fails, a refill
// never fills a cache past its capacity whatever batch the policy asks
// for, and the first idle trim comes one interval after the allocator
// was made, not at its first tick.
func TestEdgesOfTheAllocationPath(t *testing.T) {
	f := newFakeEnv(1, 1, 1<<12)
	a := newTestAllocator(t, f, Config{Tier0CapacitySlots: 128, Refill: &FixedBatchRefill{Slots: 1000}})
	if r := a.Alloc(0, 0); r.OK || a.Stats().AllocFailures != 1 {
		t.Fatalf("a request of 0 bytes: %+v, %d failures", r, a.Stats().AllocFailures)
	}
	if r := a.Alloc(0, 64); !r.OK {
		t.Fatal("64 B refused")
	}
	if got := a.Tier0Free(0, 0); got != 127 {
		t.Fatalf("a refill of 1000 into a cache of 128 left %d free slots, want 127", got)
	}
	// Trims come at 2 s, 4 s, ...: none at the first tick, none between.
	for _, tc := range []struct{ now, trims int64 }{{1e9, 0}, {2e9, 1}, {3e9, 1}, {4e9, 2}} {
		f.now = tc.now
		if err := a.Tick(); err != nil {
			t.Fatal(err)
		}
		if n := a.Stats().Trims; n != tc.trims {
			t.Fatalf("%d trims at %d ms, want %d", n, tc.now/1e6, tc.trims)
		}
	}
	if err := a.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

// stealFirst is a refill policy that steals from the home node's peers
// before taking any slab (a RefillPlan with StealPeers).
type stealFirst struct{ batch int }

func (stealFirst) Name() string { return "steal-first" }
func (p stealFirst) Plan(s RefillState, topo Topology) RefillPlan {
	return RefillPlan{Batch: p.batch, StealPeers: true, Steps: []RefillStep{{Node: s.Home, Grow: true}}}
}

// TestStealPeersTakesHalfOfEachPeerOnItsNode: a refill that steals from
// peers takes at most half of each peer's cache, only from CPUs of its
// own node, and the rest of its batch from the slabs.
func TestStealPeersTakesHalfOfEachPeerOnItsNode(t *testing.T) {
	f := newFakeEnv(3, 2, 1<<12) // CPUs 0, 1 on node 0; 2 on node 1
	a := newTestAllocator(t, f, Config{Tier0CapacitySlots: 256, Refill: stealFirst{batch: 64}})
	// CPUs 2 and 1 each end with 64 free slots: one refill of 64 (no
	// peer of theirs holds any), one allocation, freed.
	for _, cpu := range []int{2, 1} {
		r := a.Alloc(cpu, 64)
		if _, err := a.Free(cpu, r.Addr, 64); err != nil {
			t.Fatal(err)
		}
		if got := a.Tier0Free(cpu, 0); got != 64 {
			t.Fatalf("cpu %d holds %d slots, want 64", cpu, got)
		}
	}
	if r := a.Alloc(0, 64); !r.OK {
		t.Fatal("cpu 0 refused")
	}
	// CPU 0's refill of 64: 32 from CPU 1 (half of it), none from CPU 2
	// on node 1, 32 from the slabs; one of them served the allocation.
	if got := [3]int{a.Tier0Free(0, 0), a.Tier0Free(1, 0), a.Tier0Free(2, 0)}; got != [3]int{63, 32, 64} {
		t.Fatalf("free slots by CPU %v, want [63 32 64]", got)
	}
	if err := a.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

// recordingMerge merges when told to and records what it was shown.
type recordingMerge struct {
	seen  *[]MergeState
	merge bool
}

func (recordingMerge) Name() string { return "recording" }
func (p recordingMerge) ShouldMerge(s MergeState) bool {
	*p.seen = append(*p.seen, s)
	return p.merge
}

// TestMergeStateAndBlockReturn: the merge policy sees the node's queue,
// when its oldest slab was freed, and -1 for the free fraction when the
// page source does not report memory pressure; a merge that frees whole
// blocks beyond RetainBlocks gives them back as no CPU's (cpu -1); a merge
// policy set with SetPolicies replaces the old one, and nil keeps it.
func TestMergeStateAndBlockReturn(t *testing.T) {
	f := newFakeEnv(1, 1, 1<<12)
	var seen []MergeState
	a := newTestAllocator(t, f, Config{Merge: recordingMerge{seen: &seen}})
	r1 := a.Alloc(0, 1<<20) // two medium blocks of 1 MiB: one 2 MiB block
	r2 := a.Alloc(0, 1<<20)
	r3 := a.Alloc(0, 1<<20) // a second block
	if !r1.OK || !r2.OK || !r3.OK || a.t1.nodes[0].blocks != 2 {
		t.Fatalf("%+v %+v %+v, %d blocks", r1, r2, r3, a.t1.nodes[0].blocks)
	}
	f.now = 5e6
	if _, err := a.Free(0, r1.Addr, 1<<20); err != nil {
		t.Fatal(err)
	}
	last := seen[len(seen)-1]
	if last.Node != 0 || last.Pending != 16 || last.OldestPendingNs != 5e6 || last.NowNs != 5e6 || last.FreeFraction != -1 {
		t.Fatalf("merge state %+v", last)
	}
	a.SetPolicies(nil, nil, nil)
	if a.cfg.Merge.Name() != "recording" {
		t.Fatalf("SetPolicies(nil, ...) replaced the merge policy with %s", a.cfg.Merge.Name())
	}
	a.SetPolicies(recordingMerge{seen: &seen, merge: true}, nil, nil)
	f.now = 6e6
	if _, err := a.Free(0, r2.Addr, 1<<20); err != nil {
		t.Fatal(err)
	}
	// The first block merged whole; with RetainBlocks 1 and the second
	// block still in use, it stays as the one retained.
	if a.Stats().BlocksToTier2 != 0 || a.t1.nodes[0].blocks != 2 {
		t.Fatalf("%d blocks returned, %d held", a.Stats().BlocksToTier2, a.t1.nodes[0].blocks)
	}
	if _, err := a.Free(0, r3.Addr, 1<<20); err != nil {
		t.Fatal(err)
	}
	if a.Stats().BlocksToTier2 != 1 || len(f.freeCPUs) != 1 || f.freeCPUs[0] != -1 {
		t.Fatalf("%d blocks returned, by CPUs %v: want one, by -1", a.Stats().BlocksToTier2, f.freeCPUs)
	}
	if err := a.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

// TestCheckInvariantsCatchesCorruption: each kind of broken state is
// reported, whichever part of the check finds it, and the state passes
// again once restored.
func TestCheckInvariantsCatchesCorruption(t *testing.T) {
	f := newFakeEnv(2, 1, 1<<12)
	a := newTestAllocator(t, f, Config{})
	small := a.Alloc(0, 64)
	other := a.Alloc(0, 64)
	medium := a.Alloc(0, 100000) // two slabs: order 1
	if !small.OK || !other.OK || !medium.OK {
		t.Fatal("setup allocations failed")
	}
	if _, err := a.Free(0, other.Addr, 64); err != nil {
		t.Fatal(err)
	}
	a.Flush() // the cached slots go back: the slab has drained slots
	if err := a.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
	slab := a.slabs[small.Addr&^(1<<slabShift-1)]
	if slab == nil || len(slab.free) == 0 || slab.inUse != 1 {
		t.Fatalf("setup: slab %+v, want one slot out and drained ones", slab)
	}
	for _, tc := range []struct {
		name    string
		corrupt func() (restore func())
	}{
		{"allocation count", func() func() { a.stats.Tier0Allocs++; return func() { a.stats.Tier0Allocs-- } }},
		{"block count", func() func() { a.stats.BlocksFromTier2++; return func() { a.stats.BlocksFromTier2-- } }},
		{"slab class past the last", func() func() {
			c := slab.class
			slab.class = len(a.cfg.SlotSizes)
			return func() { slab.class = c }
		}},
		{"slab with no slot out", func() func() {
			in, carved := slab.inUse, slab.carved
			slab.inUse, slab.carved = 0, int32(len(slab.free))
			return func() { slab.inUse, slab.carved = in, carved }
		}},
		{"slab use miscounted", func() func() { slab.inUse++; return func() { slab.inUse-- } }},
		{"slot drained twice", func() func() {
			free, in := slab.free, slab.inUse
			slab.free, slab.inUse = append(slices.Clone(free), free[len(free)-1]), in-1
			return func() { slab.free, slab.inUse = free, in }
		}},
		{"drained slot past the carved ones", func() func() {
			free, in := slab.free, slab.inUse
			slab.free, slab.inUse = append(slices.Clone(free), uint32(slab.carved)*64), in-1
			return func() { slab.free, slab.inUse = free, in }
		}},
		{"slot cached twice", func() func() {
			c := &a.cpus[1].caches[0]
			old := *c
			*c = append(slices.Clone(old), small.Addr, small.Addr)
			return func() { *c = old }
		}},
		{"cached slot past the carved ones", func() func() {
			c := &a.cpus[1].caches[0]
			old := *c
			*c = append(slices.Clone(old), slab.addr+uint64(slab.carved)*64)
			return func() { *c = old }
		}},
		{"medium block of a whole block's order", func() func() {
			o := a.mediumLive[medium.Addr]
			a.mediumLive[medium.Addr] = int8(a.t1.topOrder)
			return func() { a.mediumLive[medium.Addr] = o }
		}},
		{"medium block misaligned for its order", func() func() {
			o := a.mediumLive[medium.Addr]
			delete(a.mediumLive, medium.Addr)
			a.mediumLive[medium.Addr+1<<slabShift] = o
			return func() { delete(a.mediumLive, medium.Addr+1<<slabShift); a.mediumLive[medium.Addr] = o }
		}},
		{"medium block over a free slab", func() func() {
			o := a.mediumLive[medium.Addr]
			a.mediumLive[medium.Addr] = o + 1
			return func() { a.mediumLive[medium.Addr] = o }
		}},
	} {
		restore := tc.corrupt()
		if err := a.CheckInvariants(); err == nil {
			t.Errorf("%s: passed", tc.name)
		}
		restore()
		if err := a.CheckInvariants(); err != nil {
			t.Fatalf("%s: restored, still fails: %v", tc.name, err)
		}
	}
}

// TestMediumSizesAndCounters: which sizes are medium (above the largest
// class, up to half a block), and what a medium allocation counts and
// costs: it leaves the fast path, a remote one is counted, and one that
// Tier-1 cannot serve is a Tier-2 fallback.
func TestMediumSizesAndCounters(t *testing.T) {
	f := newFakeEnv(2, 2, 1<<9) // one 2 MiB block in all
	a := newTestAllocator(t, f, Config{})
	for _, tc := range []struct {
		size  int64
		order int
	}{{1024, -1}, {1025, 0}, {64 << 10, 0}, {64<<10 + 1, 1}, {1 << 20, 4}, {1<<20 + 1, -1}} {
		if got := a.mediumOrder(tc.size); got != tc.order {
			t.Errorf("mediumOrder(%d) = %d, want %d", tc.size, got, tc.order)
		}
	}
	// A block grown on cpu 0's node (the fake's Tier-2 price: 10 ns and
	// 1 ns per 64 B) and split four times down to order 1: 4 splits and
	// the local refill price, 10 ns each.
	r := a.Alloc(0, 100000)
	if want := int64(10 + (2<<20)/64 + 4*10 + 10); !r.OK || r.Tier != 1 || r.CostNs != want {
		t.Fatalf("first medium allocation %+v, want Tier-1 at %d ns", r, want)
	}
	s := a.Stats()
	if s.MediumAllocs != 1 || s.MediumRemote != 0 || s.FallbackCount != 1 || s.Tier2Fallbacks != 0 {
		t.Fatalf("after a local medium allocation: %+v", s)
	}
	// cpu 1 (node 1, which cannot grow: the page source is full, a failed
	// request the fake prices at 1000 ns) is served by node 0's pool:
	// remote, no split (the order-1 buddy is free).
	r = a.Alloc(1, 100000)
	if !r.OK || r.Tier != 1 || r.CostNs != 1000+100 {
		t.Fatalf("remote medium allocation %+v, want Tier-1 at the failed growth and the 100 ns remote price", r)
	}
	if s := a.Stats(); s.MediumAllocs != 2 || s.MediumRemote != 1 || s.FallbackCount != 2 {
		t.Fatalf("after a remote medium allocation: %+v", s)
	}
	// 1 MiB: node 0's free order-4 half serves it (remote again); a
	// second finds no free order-4 block anywhere and no room to grow, and
	// Tier-2 cannot serve it either (the source is full): it fails, and is
	// no Tier-2 fallback.
	if r := a.Alloc(1, 1<<20); !r.OK || r.Tier != 1 || a.Stats().MediumRemote != 2 {
		t.Fatalf("1 MiB from node 0's free half: %+v, %+v", r, a.Stats())
	}
	if r := a.Alloc(1, 1<<20); r.OK || a.Stats().Tier2Fallbacks != 0 {
		t.Fatalf("1 MiB with no room: %+v, %d Tier-2 fallbacks", r, a.Stats().Tier2Fallbacks)
	}
	f.limit += 1 << 8 // room for 1 MiB more, not for a block
	if r := a.Alloc(1, 1<<20); !r.OK || r.Tier != 2 || a.Stats().Tier2Fallbacks != 1 {
		t.Fatalf("1 MiB with room in Tier-2 only: %+v, %d Tier-2 fallbacks", r, a.Stats().Tier2Fallbacks)
	}
	if err := a.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

// TestSLABTrimOfACacheHoldingItsShare: under SLAB's rule an untouched
// cache holding exactly its share of the capacity gives all of it, not
// half (the halving applies only to a cache holding less).
func TestSLABTrimOfACacheHoldingItsShare(t *testing.T) {
	f := newFakeEnv(1, 1, 1<<12)
	trim := IdleTrim{IntervalNs: 2e9, Fraction: 0.2}
	a := newTestAllocator(t, f, Config{Tier0CapacitySlots: 128, Refill: &FixedBatchRefill{Slots: 27}, Merge: trimmingMerge{LazyThresholdMerge{Threshold: 32}, trim}})
	if r := a.Alloc(0, 64); !r.OK || a.Tier0Free(0, 0) != 26 { // ceil(128 * 0.2) = 26
		t.Fatalf("%+v, %d cached", r, a.Tier0Free(0, 0))
	}
	for _, now := range []int64{2e9, 4e9} { // the first trim finds it touched (refilled)
		f.now = now
		if err := a.Tick(); err != nil {
			t.Fatal(err)
		}
	}
	if got := a.Stats().TrimmedSlots; got != 26 {
		t.Fatalf("trimmed %d slots, want all 26", got)
	}
}
