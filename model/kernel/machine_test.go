package kernel

import (
	"testing"
)

const testNodePages = 65536 // 256 MiB

// oneNode is a one-node machine of 256 MiB with the given swap settings.
func oneNode(t *testing.T, swappiness int, swapPages int64, killAllocating bool) *Machine {
	t.Helper()
	m, err := NewMachine(MachineConfig{
		NodePages: []int64{testNodePages}, Zonelists: [][]int{{0}},
		Swappiness: swappiness, SwapPages: swapPages, OOMKillAllocatingTask: killAllocating,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range []Task{
		{PID: 1, Comm: "init", Unkillable: true, Cgroup: "/"},
		{PID: 100, Comm: "eater", Cgroup: "/"},
		{PID: 200, Comm: "small", Cgroup: "/"},
		{PID: 300, Comm: "reader", Cgroup: "/"},
	} {
		if err := m.AddTask(task); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// fill has pid fault in anonymous pages until an allocation fails, and
// returns the pages it got and the OOM event that stopped it.
func fill(t *testing.T, m *Machine, pid int64, limit int64) (int64, *OOMEvent) {
	t.Helper()
	got, _, oom, err := m.AllocAnon(pid, 0, limit)
	if err != nil {
		t.Fatal(err)
	}
	return got, oom
}

// TestSwappinessZeroNoSwapOOMKillsBiggest is the model's version of the
// seed's chain (SPEC 1.3): with no swap, reclaim can only drop page
// cache; once it is gone the OOM killer runs and picks the task with the
// highest badness (vm.oom_kill_allocating_task = 0).
func TestSwappinessZeroNoSwapOOMKillsBiggest(t *testing.T) {
	m := oneNode(t, 0, 0, false)
	if got, _, _, err := m.AllocFile(300, 0, 10_000); err != nil || got != 10_000 {
		t.Fatalf("page cache: got %d, %v", got, err)
	}
	if got, oom := fill(t, m, 200, 5_000); got != 5_000 || oom != nil {
		t.Fatalf("small task got %d pages, oom %+v", got, oom)
	}
	got, oom := fill(t, m, 100, testNodePages)
	if oom == nil || oom.Action != OOMKill {
		t.Fatalf("no OOM kill after %d pages: %+v", got, oom)
	}
	if oom.VictimPID != 100 || oom.Reason != "Out of memory" {
		t.Fatalf("victim %d (%s), reason %q; want the eater, pid 100", oom.VictimPID, oom.VictimComm, oom.Reason)
	}
	if m.NodeFilePages(0) != 0 {
		t.Errorf("OOM with %d page-cache pages left: reclaim should have dropped them first", m.NodeFilePages(0))
	}
	if m.SwapUsed() != 0 {
		t.Errorf("swapped %d pages with no swap", m.SwapUsed())
	}
	if free, min := m.NodeFreePages(0), m.Zone(0).Wmark.High; free > min {
		t.Errorf("OOM with %d free pages, above the high watermark %d", free, min)
	}
	// The reaper frees the victim's memory; the small task is untouched.
	if err := m.Reap(100); err != nil {
		t.Fatal(err)
	}
	if eater, _ := m.Task(100); eater.RSSAnonPages != 0 || !eater.OOMSkip {
		t.Errorf("after reap: %+v", eater)
	}
	if small, _ := m.Task(200); small.RSSAnonPages != 5_000 {
		t.Errorf("small task lost pages: rss %d", small.RSSAnonPages)
	}
	if free := m.NodeFreePages(0); free < got/2 {
		t.Errorf("only %d pages free after reaping %d", free, got)
	}
	st := m.Stats()
	t.Logf("eater got %d pages before the OOM; %d direct reclaims stalled %.1f ms; %d file pages dropped",
		got, st.DirectReclaims, float64(st.DirectReclaimStallNs)/1e6, st.PagesReclaimedFile)
}

// TestSwapAndSwappiness60Survive: the same pressure with swap and
// swappiness 60 swaps anonymous memory out instead of killing.
func TestSwapAndSwappiness60Survive(t *testing.T) {
	m := oneNode(t, 60, 32_768, false)
	if got, _, _, err := m.AllocFile(300, 0, 10_000); err != nil || got != 10_000 {
		t.Fatalf("page cache: got %d, %v", got, err)
	}
	want := int64(testNodePages + 16_384) // more than RAM, less than RAM + swap
	got, oom := fill(t, m, 100, want)
	if oom != nil || got != want {
		t.Fatalf("got %d of %d pages, oom %+v", got, want, oom)
	}
	if m.SwapUsed() == 0 {
		t.Fatal("no page was swapped")
	}
	eater, _ := m.Task(100)
	if eater.RSSAnonPages+eater.SwapEntries != want {
		t.Fatalf("rss %d + swap %d != %d", eater.RSSAnonPages, eater.SwapEntries, want)
	}
	t.Logf("swapped %d pages; %d file pages left", m.SwapUsed(), m.NodeFilePages(0))
}

// TestSwappinessZeroSwapsWhenFileIsTiny: real Linux still swaps at
// swappiness 0 in global reclaim once page cache is nearly gone, rather
// than OOM (get_scan_count's file_is_tiny).
func TestSwappinessZeroSwapsWhenFileIsTiny(t *testing.T) {
	m := oneNode(t, 0, 32_768, false)
	want := int64(testNodePages + 8_192)
	got, oom := fill(t, m, 100, want)
	if oom != nil || got != want || m.SwapUsed() == 0 {
		t.Fatalf("got %d of %d, swap %d, oom %+v", got, want, m.SwapUsed(), oom)
	}
}

func TestOOMKillAllocatingTask(t *testing.T) {
	for _, tt := range []struct {
		killAllocating bool
		want           int64
	}{{false, 100}, {true, 200}} {
		m := oneNode(t, 0, 0, tt.killAllocating)
		if got, oom := fill(t, m, 100, 50_000); got != 50_000 || oom != nil {
			t.Fatalf("eater got %d, oom %+v", got, oom)
		}
		_, oom := fill(t, m, 200, testNodePages) // the small task allocates last
		if oom == nil || oom.VictimPID != tt.want {
			t.Errorf("oom_kill_allocating_task=%v: victim %+v, want pid %d", tt.killAllocating, oom, tt.want)
		}
	}
}

// TestAtomicReserveAndCostlyOrder: GFP_ATOMIC succeeds below the min
// watermark thanks to its reserve discount, while a normal allocation
// there would need reclaim; and an order-9 allocation (SBMP's 2 MiB
// Tier-1 refill) fails without invoking the OOM killer.
func TestAtomicReserveAndCostlyOrder(t *testing.T) {
	m := oneNode(t, 0, 0, false)
	// Bring free memory down to min+1 with nothing reclaimable.
	z := m.Zone(0)
	take := m.NodeFreePages(0) - z.Wmark.Min - 1
	if got, oom := fill(t, m, 100, take); got != take || oom != nil {
		t.Fatalf("got %d of %d, oom %+v", got, take, oom)
	}
	// At min+1 free, the min watermark still passes: no reserve used.
	if r, err := m.Alloc(AllocRequest{Node: 0, GFP: GFPAtomic}); err != nil || !r.OK {
		t.Fatalf("GFP_ATOMIC at min+1: %+v %v", r, err)
	}
	// At min free only the atomic discount (min - min/2 - min/4) admits it.
	if r, err := m.Alloc(AllocRequest{Node: 0, GFP: GFPAtomic}); err != nil || !r.OK {
		t.Fatalf("GFP_ATOMIC at min: %+v %v", r, err)
	}
	if n := m.Stats().AtomicReserveAllocations; n != 1 {
		t.Errorf("atomic reserve allocations = %d, want 1", n)
	}
	// A GFP_KERNEL page now needs reclaim, finds nothing, and ends in the
	// OOM killer.
	if r, err := m.Alloc(AllocRequest{PID: 200, Node: 0, GFP: GFPKernel}); err != nil || r.OK || r.OOM == nil {
		t.Fatalf("GFP_KERNEL below min: %+v %v; want an OOM", r, err)
	}
	if err := m.Reap(100); err != nil {
		t.Fatal(err)
	}
	var r AllocResult
	var err error
	// Leave free memory just above high: 512 more pages would take the
	// zone below min, and nothing is reclaimable.
	if got, oom := fill(t, m, 200, m.NodeFreePages(0)-z.Wmark.High-1); oom != nil {
		t.Fatalf("refill got %d, oom %+v", got, oom)
	}
	r, err = m.Alloc(AllocRequest{PID: 200, Node: 0, Order: 9, GFP: GFPKernel})
	if err != nil || r.OK || r.OOM != nil {
		t.Fatalf("order-9 with no free 2 MiB block: %+v %v; want a plain failure, no OOM", r, err)
	}
}

func TestFreeAnonReturnsPages(t *testing.T) {
	m := oneNode(t, 60, 1_000, false)
	before := m.NodeFreePages(0)
	if got, oom := fill(t, m, 100, 10_000); got != 10_000 || oom != nil {
		t.Fatal(got, oom)
	}
	if err := m.FreeAnon(100, 10_000); err != nil {
		t.Fatal(err)
	}
	if after := m.NodeFreePages(0); after != before {
		t.Fatalf("free pages %d after freeing everything, %d before", after, before)
	}
	if err := m.nodes[0].buddy.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

// TestAllocAnonMayFailNeverKills: __GFP_RETRY_MAYFAIL requests fail
// instead of invoking the OOM killer.
func TestAllocAnonMayFailNeverKills(t *testing.T) {
	m := oneNode(t, 0, 0, false)
	got, _, err := m.AllocAnonMayFail(100, 0, testNodePages)
	if err != nil || got == 0 || got >= testNodePages {
		t.Fatalf("got %d, %v", got, err)
	}
	if m.Stats().OOMKills != 0 {
		t.Fatalf("%d OOM kills", m.Stats().OOMKills)
	}
	if eater, _ := m.Task(100); eater.OOMVictim {
		t.Fatal("the task was killed")
	}
}
