package kernel

import "testing"

// TestSwapinNrPages checks __swapin_nr_pages (mm/swap_state.c) case by
// case: with no hits only a fault next to the previous one gets 2
// pages; hits + 2 round up to a power of two of at least 4; the window
// is capped at 2^page-cluster and shrinks at most by half a fault.
func TestSwapinNrPages(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		prev, offset            int64
		hits, maxPages, prevWin int
		want                    int
	}{
		{"no hits, random fault", 100, 500, 0, 8, 0, 1},
		{"no hits, next slot", 100, 101, 0, 8, 0, 2},
		{"no hits, previous slot", 100, 99, 0, 8, 0, 2},
		{"boot: 4 hits make 6, rounded to 8", 0, 500, 4, 8, 0, 8},
		{"1 hit makes 3, rounded to 4", 0, 500, 1, 8, 0, 4},
		{"2 hits make 4", 0, 500, 2, 8, 0, 4},
		{"3 hits make 5, rounded to 8", 0, 500, 3, 8, 0, 8},
		{"many hits capped by page-cluster", 0, 500, 30, 8, 0, 8},
		{"page-cluster 5 allows 32", 0, 500, 30, 32, 0, 32},
		{"no hits after a window of 8 keep 4", 100, 500, 0, 8, 8, 4},
		{"no hits after 4 keep 2", 100, 500, 0, 8, 4, 2},
		{"no hits after 2 fall to 1", 100, 500, 0, 8, 2, 1},
		{"the half of the last window wins over a small new one", 0, 500, 1, 8, 16, 8},
	} {
		if got := SwapinNrPages(tc.prev, tc.offset, tc.hits, tc.maxPages, tc.prevWin); got != tc.want {
			t.Errorf("%s: SwapinNrPages(%d, %d, %d, %d, %d) = %d, want %d", tc.name, tc.prev, tc.offset, tc.hits, tc.maxPages, tc.prevWin, got, tc.want)
		}
	}
}

// TestSwapClusterWindow checks swap_cluster_readahead's block: aligned
// to the window, never the header slot 0, never past the device.
func TestSwapClusterWindow(t *testing.T) {
	for _, tc := range []struct {
		offset           int64
		pages            int
		swapPages        int64
		wantLo, wantHigh int64
	}{
		{13, 8, 1000, 8, 15},
		{8, 8, 1000, 8, 15},
		{3, 8, 1000, 1, 7},          // slot 0 is the swap header
		{1001, 8, 1003, 1000, 1003}, // the block ends at the last slot
		{13, 1, 1000, 13, 13},
		{13, 4, 1000, 12, 15},
	} {
		lo, hi := SwapClusterWindow(tc.offset, tc.pages, tc.swapPages)
		if lo != tc.wantLo || hi != tc.wantHigh {
			t.Errorf("SwapClusterWindow(%d, %d, %d) = %d..%d, want %d..%d", tc.offset, tc.pages, tc.swapPages, lo, hi, tc.wantLo, tc.wantHigh)
		}
	}
}

// TestSwapFull checks mem_cgroup_swap_full's cgroup v2 walk: half of
// memory.swap.max or memory.swap.high of the cgroup or any ancestor
// below the root; the root's own usage never counts.
func TestSwapFull(t *testing.T) {
	c, err := NewCgroups(1)
	if err != nil {
		t.Fatal(err)
	}
	for _, cg := range []struct {
		path   string
		limits CgroupLimits
	}{
		{"/a", CgroupLimits{SwapMaxPages: 100}},
		{"/a/b", CgroupLimits{}},
		{"/h", CgroupLimits{SwapHighPages: 10}},
		{"/free", CgroupLimits{}},
	} {
		if err := c.Create(cg.path, cg.limits); err != nil {
			t.Fatal(err)
		}
	}
	full := func(path string) bool {
		got, err := c.SwapFull(path)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	charge := func(path string, pages int64) {
		if ok, _, err := c.TryChargeSwap(path, pages); !ok || err != nil {
			t.Fatalf("swap charge %s %d: %v %v", path, pages, ok, err)
		}
	}
	charge("/a/b", 49)
	if full("/a/b") || full("/a") {
		t.Errorf("49 of 100 swap pages counted as half full")
	}
	charge("/a/b", 1)
	if !full("/a/b") || !full("/a") {
		t.Errorf("50 of /a's 100 swap pages, charged in /a/b, not half full")
	}
	charge("/h", 5)
	if !full("/h") {
		t.Errorf("5 of memory.swap.high 10 not half full")
	}
	charge("/free", 1<<20)
	if full("/free") || full("/") {
		t.Errorf("a cgroup without swap limits, or the root, counted as full")
	}
	if _, err := c.SwapFull("/nope"); err == nil {
		t.Errorf("SwapFull of a missing cgroup: no error")
	}
}

// TestVMSwapFull checks vm_swap_full on a machine: more than half of
// the swap device in use (nr_swap_pages * 2 < total_swap_pages).
func TestVMSwapFull(t *testing.T) {
	for _, tc := range []struct {
		total, used int64
		want        bool
	}{
		{1000, 500, false},
		{1000, 501, true},
		{1001, 500, false},
		{1001, 501, true},
		{0, 0, false},
	} {
		m := &Machine{cfg: MachineConfig{SwapPages: tc.total}, swap: swapDevice{used: tc.used}}
		if got := m.vmSwapFull(); got != tc.want {
			t.Errorf("vm_swap_full with %d of %d slots used = %v, want %v", tc.used, tc.total, got, tc.want)
		}
	}
}

// TestPageClusterConfig checks vm.page-cluster's default and range.
func TestPageClusterConfig(t *testing.T) {
	cfg := MachineConfig{NodePages: []int64{4096}, Zonelists: [][]int{{0}}, SwapPages: 64}
	m, err := NewMachine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if m.pageCluster != 3 || *m.Config().PageCluster != 3 {
		t.Errorf("default page-cluster %d, want 3", m.pageCluster)
	}
	for _, bad := range []int{-1, 32} {
		cfg.PageCluster = &bad
		if _, err := NewMachine(cfg); err == nil {
			t.Errorf("page-cluster %d accepted", bad)
		}
	}
}

// TestActivateFreesSwapWhenFull checks shrink_folio_list's
// activate_locked: a mapped swap-cache page that reclaim activates gives
// its slot up when swap is half full for its cgroup, and keeps it
// otherwise; a page read ahead and not mapped keeps it either way
// (folio_free_swap refuses a folio whose entry a PTE still holds).
func TestActivateFreesSwapWhenFull(t *testing.T) {
	for _, full := range []bool{false, true} {
		cluster := 2
		m, err := NewMachine(MachineConfig{NodePages: []int64{4096}, Zonelists: [][]int{{0}}, SwapPages: 4096, Swappiness: 100, PageCluster: &cluster})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.AddCgroup("/a", CgroupLimits{SwapMaxPages: 1000}); err != nil {
			t.Fatal(err)
		}
		if err := m.AddTask(Task{PID: 1, Comm: "t", Cgroup: "/a"}); err != nil {
			t.Fatal(err)
		}
		if got, _, _, err := m.AllocAnon(1, 0, 2); err != nil || got != 2 {
			t.Fatalf("AllocAnon: %d, %v", got, err)
		}
		for range 2 {
			sc := scanControl{target: 2, root: 1, cgroupReclaim: true, movable: true}
			m.doTryToFreePages(m.nodeOrder, &sc)
		}
		// One fault maps page 0 and reads page 1 ahead (slots 1..3).
		if r, err := m.TouchAnon(1, 1); err != nil || r.SwappedIn != 1 || r.ReadAhead != 1 {
			t.Fatalf("full %v: touch %+v, %v", full, r, err)
		}
		v := &m.tasks[0].anon.vmas[0]
		if v.slots[0].swp == 0 || v.slots[1].swf&swfReadahead == 0 {
			t.Fatalf("full %v: slots %+v", full, v.slots)
		}
		if full {
			// memory.swap.max written down to 4: the 2 slots in use are
			// half of it.
			if err := m.cgroups.SetSwapMax("/a", 4); err != nil {
				t.Fatal(err)
			}
		}
		// Both pages found young and referenced: activate_locked.
		var b reclaimBatch
		for idx := range 2 {
			pfn := v.slots[idx].pfn
			ni, n := m.nodeOf(pfn)
			n.page(pfn).flags |= pgYoung | pgReferenced
			m.lruDel(ni, n.index(pfn))
			m.shrinkFolio(ni, n.index(pfn), false, &scanControl{root: 1, cgroupReclaim: true}, &b)
		}
		if b.activated != 2 {
			t.Fatalf("full %v: %d activated, want 2", full, b.activated)
		}
		if v.slots[1].swp == 0 {
			t.Errorf("full %v: the read-ahead page lost its slot, but its PTE holds the entry", full)
		}
		if full != (v.slots[0].swp == 0) {
			t.Errorf("full %v: the mapped page's slot is %d after its activation", full, v.slots[0].swp)
		}
		if err := m.CheckInvariants(); err != nil {
			t.Fatal(err)
		}
	}
}
