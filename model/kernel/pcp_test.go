package kernel

import (
	"errors"
	"testing"

	"pgregory.net/rapid"
)

func TestZoneBatchsize(t *testing.T) {
	cases := []struct{ managed, want int64 }{
		{0, 0}, {3840, 0}, {65536, 15}, {131072, 31}, {262144, 63}, {524288, 63}, {772808, 63}, {1 << 30, 63},
	}
	for _, c := range cases {
		if got := ZoneBatchsize(c.managed); got != c.want {
			t.Errorf("zone_batchsize(%d pages) = %d, want %d", c.managed, got, c.want)
		}
	}
}

// TestPagesetConfigLiveHost pins zone_set_pageset_high_and_batch to the
// pagesets of the sbmpsim VM (Linux 6.18, 2 CPUs on node 0).
func TestPagesetConfigLiveHost(t *testing.T) {
	zs := zonesOf(3840, 772808, 524288)
	if err := SetupWatermarks(zs, 67584, 10); err != nil {
		t.Fatal(err)
	}
	want := []PCPConfig{{1, 30, 240}, {63, 6272, 48300}, {63, 4255, 32768}}
	for i, w := range want {
		if got := PagesetConfig(&zs[i], 2, 2, 0); got != w {
			t.Errorf("zone %s pageset %+v, want %+v", zs[i].Type, got, w)
		}
	}
	// vm.percpu_pagelist_high_fraction = 16 fixes high at managed/16/cpus.
	if got := PagesetConfig(&zs[2], 2, 2, 16); got != (PCPConfig{63, 16384, 16384}) {
		t.Errorf("high_fraction 16: %+v", got)
	}
	// A CPU-less node splits across all online CPUs.
	if got := PagesetConfig(&zs[2], 0, 4, 0); got.HighMin != 8511/4 {
		t.Errorf("CPU-less node: high_min %d, want %d", got.HighMin, 8511/4)
	}
}

func newTestPCP(t testing.TB, pages int64, cfg PCPConfig) (*Buddy, *PCP) {
	t.Helper()
	b := mustBuddy(t, 0, pages)
	p, err := NewPCP(b, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b, p
}

// TestPCPRefillDoubles: the first refill takes one batch; refills without
// frees in between double it (alloc_factor), capped a batch below high.
func TestPCPRefillDoubles(t *testing.T) {
	b, p := newTestPCP(t, 4*MaxBlockPages, PCPConfig{Batch: 63, HighMin: 400, HighMax: 400})
	for _, want := range []int64{63, 126, 252, 337} {
		before := b.FreePages()
		for p.Count() > 0 {
			p.Alloc()
		}
		if _, ok := p.Alloc(); !ok {
			t.Fatal("alloc failed")
		}
		if got := before - b.FreePages(); got != want {
			t.Fatalf("refill took %d pages, want %d", got, want)
		}
	}
}

// TestPCPFreeDrainsAtHigh: frees collect on the list until it holds high
// pages, then at least a batch goes back to the buddy allocator.
func TestPCPFreeDrainsAtHigh(t *testing.T) {
	cfg := PCPConfig{Batch: 8, HighMin: 32, HighMax: 32}
	b, p := newTestPCP(t, MaxBlockPages, cfg)
	var pfns []int64
	for range 100 {
		pfn, _ := b.Alloc(0)
		pfns = append(pfns, pfn)
	}
	for i, pfn := range pfns[:31] {
		if err := p.Free(pfn); err != nil {
			t.Fatal(err)
		}
		if p.Count() != int64(i+1) {
			t.Fatalf("after %d frees count %d", i+1, p.Count())
		}
	}
	freeBefore := b.FreePages()
	if err := p.Free(pfns[31]); err != nil {
		t.Fatal(err)
	}
	// free_count reached 32: nr_pcp_free = clamp(32, 8, 32-8) = 24.
	if p.Count() != 8 || b.FreePages() != freeBefore+24 {
		t.Fatalf("at high: count %d, returned %d; want 8 and 24", p.Count(), b.FreePages()-freeBefore)
	}
	// LIFO: the last page freed is the first allocated.
	if pfn, _ := p.Alloc(); pfn != pfns[31] {
		t.Fatalf("Alloc after Free = %d, want the hot page %d", pfn, pfns[31])
	}
	if err := p.Free(pfns[31]); err != nil {
		t.Fatal(err)
	}
	if err := p.Free(pfns[31]); !errors.Is(err, ErrDoubleFree) {
		t.Fatalf("second free into the pcp list = %v, want ErrDoubleFree", err)
	}
	if err := b.Free(pfns[31], 0); !errors.Is(err, ErrDoubleFree) {
		t.Fatalf("buddy free of a pcp page = %v, want ErrDoubleFree", err)
	}
}

func TestPCPReclaimActiveAndDisabled(t *testing.T) {
	b, p := newTestPCP(t, MaxBlockPages, PCPConfig{Batch: 8, HighMin: 320, HighMax: 320})
	p.SetReclaimActive(true)
	for range 40 {
		pfn, _ := b.Alloc(0)
		if err := p.Free(pfn); err != nil {
			t.Fatal(err)
		}
		if p.Count() >= 32 {
			t.Fatalf("reclaim active: count %d reached 4 * batch", p.Count())
		}
	}
	// A boot pageset (high 0 < batch 1) passes every page straight through.
	b2, boot := newTestPCP(t, 64, PCPConfig{Batch: 1})
	pfn, ok := boot.Alloc()
	if !ok || b2.FreePages() != 63 || boot.Count() != 0 {
		t.Fatalf("boot pageset alloc: ok %v free %d count %d", ok, b2.FreePages(), boot.Count())
	}
	if err := boot.Free(pfn); err != nil || boot.Count() != 0 || b2.FreePages() != 64 {
		t.Fatalf("boot pageset free: %v, count %d, free %d", err, boot.Count(), b2.FreePages())
	}
	if _, err := NewPCP(b2, PCPConfig{Batch: 8, HighMin: 16, HighMax: 16}); err == nil {
		t.Fatal("high between batch and 4 * batch accepted")
	}
}

// TestPCPStateMachine: random allocations and frees through two CPUs'
// lists and the buddy allocator directly; pages never get lost or handed
// out twice, and after drain_all_pages all memory is back and coalesced.
func TestPCPStateMachine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := mustBuddy(t, 0, 2*MaxBlockPages)
		cfg := PCPConfig{Batch: 15, HighMin: 60, HighMax: 60}
		pcps := []*PCP{pcpOrDie(NewPCP(b, cfg)), pcpOrDie(NewPCP(b, cfg))}
		owned := map[int64]bool{}
		var held []int64
		t.Repeat(map[string]func(*rapid.T){
			"alloc": func(t *rapid.T) {
				p := pcps[rapid.IntRange(0, 1).Draw(t, "cpu")]
				pfn, ok := p.Alloc()
				if !ok {
					t.Skip("empty")
				}
				if owned[pfn] {
					t.Fatalf("pfn %d handed out twice", pfn)
				}
				owned[pfn] = true
				held = append(held, pfn)
			},
			"free": func(t *rapid.T) {
				if len(held) == 0 {
					t.Skip("nothing held")
				}
				k := rapid.IntRange(0, len(held)-1).Draw(t, "page")
				if err := pcps[rapid.IntRange(0, 1).Draw(t, "cpu")].Free(held[k]); err != nil {
					t.Fatal(err)
				}
				delete(owned, held[k])
				held = append(held[:k], held[k+1:]...)
			},
			"": func(t *rapid.T) {
				if got := b.FreePages() + pcps[0].Count() + pcps[1].Count() + int64(len(held)); got != b.Managed() {
					t.Fatalf("free %d + pcp %d + %d + held %d != managed %d",
						b.FreePages(), pcps[0].Count(), pcps[1].Count(), len(held), b.Managed())
				}
				if err := b.CheckInvariants(); err != nil {
					t.Fatal(err)
				}
			},
		})
		for _, pfn := range held {
			if err := pcps[0].Free(pfn); err != nil {
				t.Fatal(err)
			}
		}
		DrainAllPages(pcps)
		if b.FreePages() != b.Managed() || b.NrFree(MaxOrder) != 2 {
			t.Fatalf("after drain_all_pages: free %d of %d, nr_free[10] %d", b.FreePages(), b.Managed(), b.NrFree(MaxOrder))
		}
	})
}

func pcpOrDie(v *PCP, err error) *PCP {
	if err != nil {
		panic(err)
	}
	return v
}

// TestPCPSetConfigKeepsPages: new limits keep the listed pages in their
// order, growing the ring when needed, and refuse invalid limits.
func TestPCPSetConfigKeepsPages(t *testing.T) {
	b, p := newTestPCP(t, 4*MaxBlockPages, PCPConfig{Batch: 2, HighMin: 8, HighMax: 8})
	for range 3 { // wrap the ring's start around
		pfn, ok := p.Alloc()
		if !ok {
			t.Fatal("alloc")
		}
		if err := p.Free(pfn); err != nil {
			t.Fatal(err)
		}
	}
	for range 5 {
		pfn, _ := b.Alloc(0)
		if err := p.Free(pfn); err != nil {
			t.Fatal(err)
		}
	}
	want := make([]int64, 0, p.Count())
	for range p.Count() {
		pfn, _ := p.Alloc()
		want = append(want, pfn)
	}
	for i := len(want) - 1; i >= 0; i-- {
		if err := p.Free(want[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.setConfig(PCPConfig{Batch: 63, HighMin: 4000, HighMax: 4000}); err != nil {
		t.Fatal(err)
	}
	if p.High() != 4000 || len(p.lists[MigrateMovable].ring) < 4001 || len(want) != 7 {
		t.Fatalf("high %d, ring %d, %d pages listed", p.High(), len(p.lists[MigrateMovable].ring), len(want))
	}
	for i, w := range want {
		if pfn, ok := p.Alloc(); !ok || pfn != w {
			t.Fatalf("page %d after set config: %d, want %d", i, pfn, w)
		}
	}
	if err := p.setConfig(PCPConfig{Batch: 8, HighMin: 16, HighMax: 16}); err == nil {
		t.Fatal("high between batch and 4 * batch accepted")
	}
	if err := b.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}
