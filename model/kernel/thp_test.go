package kernel

import "testing"

// TestTHPGFPMask is the transparent_hugepage/defrag x MADV_HUGEPAGE
// matrix of vma_thp_gfp_mask, with what each mask makes the fault do.
func TestTHPGFPMask(t *testing.T) {
	type does struct{ direct, kswapd, noretry bool }
	for _, c := range []struct {
		defrag   THPDefrag
		madvised bool
		mask     GFPFlags
		does     does
	}{
		{THPDefragAlways, false, MaskTransHuge | GFPNoRetry, does{direct: true, noretry: true}},
		{THPDefragAlways, true, MaskTransHuge, does{direct: true}},
		{THPDefragDefer, false, MaskTransHugeLight | GFPKswapdReclaim, does{kswapd: true}},
		{THPDefragDefer, true, MaskTransHugeLight | GFPKswapdReclaim, does{kswapd: true}},
		{THPDefragDeferMadvise, false, MaskTransHugeLight | GFPKswapdReclaim, does{kswapd: true}},
		{THPDefragDeferMadvise, true, MaskTransHugeLight | GFPDirectReclaim, does{direct: true}},
		{THPDefragMadvise, false, MaskTransHugeLight, does{}},
		{THPDefragMadvise, true, MaskTransHugeLight | GFPDirectReclaim, does{direct: true}},
		{THPDefragNever, false, MaskTransHugeLight, does{}},
		{THPDefragNever, true, MaskTransHugeLight, does{}},
	} {
		got := THPGFPMask(c.defrag, c.madvised)
		if got != c.mask {
			t.Errorf("defrag %s madvised %v: mask %s, want %s", c.defrag, c.madvised, got, c.mask)
		}
		d := does{got&GFPDirectReclaim != 0, got&GFPKswapdReclaim != 0, got&GFPNoRetry != 0}
		if d != c.does || got.Migratetype() != MigrateMovable || got&GFPNoMemalloc == 0 {
			t.Errorf("defrag %s madvised %v: %+v, want %+v, movable, no reserves", c.defrag, c.madvised, d, c.does)
		}
	}
}

// TestTHPEnabled is the transparent_hugepage/enabled x MADV_HUGEPAGE
// matrix of thp_vma_allowable_orders for the PMD order.
func TestTHPEnabled(t *testing.T) {
	for _, c := range []struct {
		enabled  THPEnabledMode
		madvised bool
		want     bool
	}{
		{THPEnabledAlways, false, true}, {THPEnabledAlways, true, true},
		{THPEnabledMadvise, false, false}, {THPEnabledMadvise, true, true},
		{THPEnabledNever, false, false}, {THPEnabledNever, true, false},
	} {
		if got := THPEnabled(c.enabled, c.madvised); got != c.want {
			t.Errorf("enabled %s madvised %v: %v, want %v", c.enabled, c.madvised, got, c.want)
		}
	}
}

// TestHugeMappingFreesWholeBlock: unmapping a mapping whose huge page is
// still whole gives the buddy allocator its order-9 block back at once,
// as freeing an unsplit THP does; a mapping whose huge page reclaim (or
// anything else) split frees its pages one by one, through the per-CPU
// list, but the mapping stays one mapping throughout.
func TestHugeMappingFreesWholeBlock(t *testing.T) {
	m, err := NewMachine(MachineConfig{NodePages: []int64{8192}, Zonelists: [][]int{{0}}, CPUNodes: []int{0}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AddTask(Task{PID: 1, Comm: "t"}); err != nil {
		t.Fatal(err)
	}
	if err := m.PlaceTask(1, 0); err != nil {
		t.Fatal(err)
	}
	opts := MapOptions{Huge: true, Defrag: THPDefragAlways, Madvised: true}
	a, _ := m.MapAnon(1, 0, 2*HugePagePages, opts)
	b, _ := m.MapAnon(1, 0, HugePagePages, opts)
	if !a.OK || a.HugePages != 2 || !b.OK || b.HugePages != 1 {
		t.Fatalf("maps %+v %+v", a, b)
	}
	free9 := m.nodes[0].buddy.NrFree(HugePageOrder) + 2*m.nodes[0].buddy.NrFree(MaxOrder)
	if err := m.UnmapAnon(1, a.ID); err != nil {
		t.Fatal(err)
	}
	if got := m.nodes[0].buddy.NrFree(HugePageOrder) + 2*m.nodes[0].buddy.NrFree(MaxOrder); got != free9+2 || m.PCPPages(0) != 0 {
		t.Fatalf("order-9 blocks %d -> %d, pcp %d: the huge pages did not come back whole", free9, got, m.PCPPages(0))
	}
	v := &m.tasks[0].anon.vmas[b.ID]
	m.splitHugeChunkOf(v, 0)
	if _, _, whole, _ := m.MappingPages(1, b.ID); whole != 0 {
		t.Fatal("split huge page still whole")
	}
	if err := m.UnmapAnon(1, b.ID); err != nil {
		t.Fatal(err)
	}
	if m.PCPPages(0) == 0 {
		t.Fatal("a split huge page's pages did not go through the per-CPU list")
	}
	if err := m.UnmapAnon(1, b.ID); err == nil {
		t.Fatal("unmapped twice")
	}
	if err := m.UnmapAnon(1, 0); err == nil {
		t.Fatal("unmapped the heap")
	}
	if err := m.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}
