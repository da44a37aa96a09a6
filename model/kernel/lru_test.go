package kernel

import (
	"math"
	"testing"
)

// TestIntSqrt checks int_sqrt (lib/math/int_sqrt.c) against the floor
// of the square root, around perfect squares and at the ends.
func TestIntSqrt(t *testing.T) {
	for _, x := range []int64{0, 1, 2, 3, 4, 8, 9, 10, 15, 16, 17, 99, 100, 101, 10240, 102400, 1<<40 - 1, 1 << 40, math.MaxInt64} {
		got := IntSqrt(x)
		if got*got > x || (got+1)*(got+1) <= x && got+1 < 3037000500 {
			t.Errorf("IntSqrt(%d) = %d", x, got)
		}
	}
	if IntSqrt(-5) != 0 {
		t.Errorf("IntSqrt(-5) = %d", IntSqrt(-5))
	}
}

// TestInactiveIsLow checks inactive_is_low against the table in its
// comment (mm/vmscan.c): the target ratio of active to inactive pages
// for a type's total size, int_sqrt(10 * GiB), 1 below 1 GiB.
func TestInactiveIsLow(t *testing.T) {
	const gib = 1 << (30 - PageShift)
	for _, tc := range []struct {
		total int64 // pages of the type
		ratio int64
	}{
		{10 << (20 - PageShift), 1},  // 10 MB
		{100 << (20 - PageShift), 1}, // 100 MB
		{gib, 3},                     // 1 GB
		{10 * gib, 10},               // 10 GB
		{100 * gib, 31},              // 100 GB
		{1024 * gib, 101},            // 1 TB
		{10240 * gib, 320},           // 10 TB
	} {
		// inactive * ratio < active is low: find the largest inactive
		// that is still low and check it sits at total/(ratio+1).
		inactive := tc.total / (tc.ratio + 1)
		for inactive*tc.ratio >= tc.total-inactive {
			inactive--
		}
		if !InactiveIsLow(inactive, tc.total-inactive) {
			t.Errorf("%d pages, inactive %d: want low (ratio %d)", tc.total, inactive, tc.ratio)
		}
		if InactiveIsLow(inactive+1, tc.total-inactive-1) {
			t.Errorf("%d pages, inactive %d: want not low (ratio %d)", tc.total, inactive+1, tc.ratio)
		}
	}
	if InactiveIsLow(0, 0) {
		t.Error("empty lists are not low")
	}
	if !InactiveIsLow(0, 1) {
		t.Error("no inactive page with an active one is low")
	}
}

// TestCheckReferences is folio_check_references' decision table
// (mm/vmscan.c, classic LRU).
func TestCheckReferences(t *testing.T) {
	for _, tc := range []struct {
		name           string
		ptes           int
		referenced     bool
		file, exec     bool
		want           FolioRef
		referencedWant bool
	}{
		{"rmap skipped (exiting task): keep as is", -1, true, false, false, FolioRefKeep, true},
		{"anon young once: keep, mark referenced", 1, false, false, false, FolioRefKeep, true},
		{"anon young again after a keep: activate", 1, true, false, false, FolioRefActivate, true},
		{"anon young in two mappings: activate", 2, false, false, false, FolioRefActivate, true},
		{"anon not young, referenced: reclaim", 0, true, false, false, FolioRefReclaim, false},
		{"anon not young: reclaim", 0, false, false, false, FolioRefReclaim, false},
		{"unmapped file, referenced: reclaim if clean", 0, true, true, false, FolioRefReclaimClean, false},
		{"unmapped file: reclaim", 0, false, true, false, FolioRefReclaim, false},
		{"mapped file young once: keep", 1, false, true, false, FolioRefKeep, true},
		{"executable file young once: activate", 1, false, true, true, FolioRefActivate, true},
		{"executable anon young once: keep", 1, false, false, true, FolioRefKeep, true},
	} {
		got, ref := CheckReferences(tc.ptes, tc.referenced, tc.file, tc.exec)
		if got != tc.want || ref != tc.referencedWant {
			t.Errorf("%s: %v referenced=%v, want %v referenced=%v", tc.name, got, ref, tc.want, tc.referencedWant)
		}
	}
}

// TestRefaultIsRecent is workingset_test_recent's comparison
// (mm/workingset.c): for a file refault, the active file list plus,
// with swap, both anon lists; for an anon refault, both file lists plus,
// with swap, the active anon list.
func TestRefaultIsRecent(t *testing.T) {
	lists := [NumEvictableLRU]int64{InactiveAnon: 1000, ActiveAnon: 2000, InactiveFile: 300, ActiveFile: 400}
	for _, tc := range []struct {
		file, swap bool
		size       int64
	}{
		{true, false, 400},
		{true, true, 400 + 2000 + 1000},
		{false, false, 400 + 300},
		{false, true, 400 + 300 + 2000},
	} {
		s := WorkingsetSizes{LRU: lists, CanSwap: tc.swap}
		recent, size := RefaultIsRecent(uint64(tc.size), tc.file, s)
		if size != tc.size || !recent {
			t.Errorf("file=%v swap=%v: size %d recent %v, want %d true", tc.file, tc.swap, size, recent, tc.size)
		}
		if recent, _ := RefaultIsRecent(uint64(tc.size)+1, tc.file, s); recent {
			t.Errorf("file=%v swap=%v: distance %d activates", tc.file, tc.swap, tc.size+1)
		}
	}
}

// TestNoteCost checks lru_note_cost (mm/swap.c): IO weighs
// SWAP_CLUSTER_MAX a page and rotations one, and once the costs exceed a
// quarter of the lruvec's pages both halve; the ancestors' lruvecs get
// the same cost.
func TestNoteCost(t *testing.T) {
	m := oneNode(t, 60, 0, false)
	if err := m.AddCgroup("/c", CgroupLimits{}); err != nil {
		t.Fatal(err)
	}
	v, root := &m.nodes[0].lru[1], &m.nodes[0].lru[0]
	v.hier[InactiveFile], root.hier[InactiveFile] = 400, 4000 // quarter: 100 and 1000
	m.noteCost(0, 1, false, 2, 10)                            // 2*32 + 10 = 74
	if v.anonCost != 74 || root.anonCost != 74 || v.fileCost != 0 {
		t.Fatalf("after 74: cgroup %d/%d, root %d", v.anonCost, v.fileCost, root.anonCost)
	}
	m.noteCost(0, 1, true, 1, 0) // file 32: cgroup total 106 > 100 halves
	if v.anonCost != 37 || v.fileCost != 16 || root.anonCost != 74 || root.fileCost != 32 {
		t.Fatalf("after decay: cgroup %d/%d, root %d/%d", v.anonCost, v.fileCost, root.anonCost, root.fileCost)
	}
	m.noteCost(0, 1, true, 0, 0)
	if v.fileCost != 16 {
		t.Fatal("a zero cost changed something")
	}
}

// TestCounterNames: /proc/vmstat and memory.stat names, in the kernel's
// order, and every item named.
func TestCounterNames(t *testing.T) {
	if PgscanKswapd.String() != "pgscan_kswapd" || AllocstallMovable.String() != "allocstall_movable" ||
		VMOOMKill.String() != "oom_kill" || ThpFaultFallbackCharge.String() != "thp_fault_fallback_charge" {
		t.Error("vmstat names")
	}
	seen := map[string]bool{}
	for ev := range NrVMEvents {
		if s := ev.String(); s == "" || seen[s] {
			t.Errorf("event %d name %q", ev, s)
		} else {
			seen[s] = true
		}
	}
	for s := range NrMemcgStatItems {
		if n := s.String(); n == "" || seen["memcg "+n] {
			t.Errorf("memory.stat item %d name %q", s, n)
		} else {
			seen["memcg "+n] = true
		}
	}
	if MemcgStatPgscanKswapd.String() != "pgscan_kswapd" || !MemcgStatUnevictable.InBytes() || MemcgStatWorkingsetRefaultAnon.InBytes() {
		t.Error("memory.stat names or units")
	}
}

// TestAllocstallZone: direct reclaim for GFP_HIGHUSER_MOVABLE counts
// allocstall_movable and for GFP_KERNEL allocstall_normal (gfp_zone of
// the mask, do_try_to_free_pages).
func TestAllocstallZone(t *testing.T) {
	m := oneNode(t, 60, 0, false)
	if _, _, _, err := m.AllocFile(300, 0, testNodePages/2); err != nil {
		t.Fatal(err)
	}
	for range testNodePages / 2 {
		if r, err := m.Alloc(AllocRequest{Node: 0, GFP: GFPKernel, CPU: -1}); err != nil || !r.OK {
			t.Fatal(r, err)
		}
	}
	vs := m.VMStat()
	if vs[AllocstallNormal] == 0 || vs[AllocstallMovable] != 0 {
		t.Fatalf("GFP_KERNEL: allocstall_normal %d, movable %d", vs[AllocstallNormal], vs[AllocstallMovable])
	}
	if _, _, _, err := m.AllocAnon(100, 0, 1000); err != nil {
		t.Fatal(err)
	}
	if vs2 := m.VMStat(); vs2[AllocstallMovable] == 0 || vs2[AllocstallNormal] != vs[AllocstallNormal] {
		t.Fatalf("GFP_HIGHUSER_MOVABLE: allocstall_normal %d, movable %d", vs2[AllocstallNormal], vs2[AllocstallMovable])
	}
}

// TestTHPCounters: a huge page fault that gets its block counts
// thp_fault_alloc; one that finds no free block counts
// thp_fault_fallback; one whose charge fails counts
// thp_fault_fallback_charge as well.
func TestTHPCounters(t *testing.T) {
	m := oneNode(t, 60, 0, false)
	if err := m.AddCgroup("/small", CgroupLimits{MaxPages: 100}); err != nil {
		t.Fatal(err)
	}
	if err := m.AddTask(Task{PID: 7, Comm: "small", Cgroup: "/small"}); err != nil {
		t.Fatal(err)
	}
	if _, _, ok, err := m.AllocAnonHuge(100, 0, 9); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if _, _, ok, err := m.AllocAnonHuge(7, 0, 9); ok || err != nil {
		t.Fatal(ok, err)
	}
	vs := m.VMStat()
	if vs[ThpFaultAlloc] != 1 || vs[ThpFaultFallback] != 1 || vs[ThpFaultFallbackCharge] != 1 {
		t.Fatalf("thp counters %d %d %d", vs[ThpFaultAlloc], vs[ThpFaultFallback], vs[ThpFaultFallbackCharge])
	}
	if err := m.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}
