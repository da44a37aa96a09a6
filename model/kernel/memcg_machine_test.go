package kernel

import "testing"

// cgMachine is a 256 MiB machine with cgroups /a (memory.max 32 MiB) and
// /b (no limit), and tasks: big in /b, and a1 (page cache reader) and a2 in /a.
func cgMachine(t *testing.T, swappiness int, swapPages int64) *Machine {
	t.Helper()
	m, err := NewMachine(MachineConfig{NodePages: []int64{testNodePages}, Zonelists: [][]int{{0}}, Swappiness: swappiness, SwapPages: swapPages})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		lim  CgroupLimits
	}{{"/a", CgroupLimits{MaxPages: 8192}}, {"/b", CgroupLimits{}}} {
		if err := m.AddCgroup(c.path, c.lim); err != nil {
			t.Fatal(err)
		}
	}
	for _, task := range []Task{
		{PID: 10, Comm: "big", Cgroup: "/b"},
		{PID: 20, Comm: "a1", Cgroup: "/a"},
		{PID: 30, Comm: "a2", Cgroup: "/a"},
	} {
		if err := m.AddTask(task); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// TestMemoryMaxOOMConfinedToCgroup: a charge over /a's memory.max first
// reclaims /a's own page cache, then kills inside /a, never the much
// bigger task in /b, and the machine as a whole is far from full.
func TestMemoryMaxOOMConfinedToCgroup(t *testing.T) {
	m := cgMachine(t, 0, 0)
	if got, oom := fill(t, m, 10, 30_000); got != 30_000 || oom != nil {
		t.Fatalf("big got %d, oom %+v", got, oom)
	}
	if got, _, _, err := m.AllocFile(20, 0, 2_000); err != nil || got != 2_000 {
		t.Fatalf("a1 page cache %d %v", got, err)
	}
	if got, oom := fill(t, m, 20, 1_000); got != 1_000 || oom != nil {
		t.Fatalf("a1 got %d, oom %+v", got, oom)
	}
	got, oom := fill(t, m, 30, 20_000)
	if oom == nil || oom.Action != OOMKill {
		t.Fatalf("a2 got %d pages and no memcg OOM: %+v", got, oom)
	}
	if oom.Scope != "memcg:/a" || oom.Reason != "Memory cgroup out of memory" {
		t.Errorf("scope %q reason %q", oom.Scope, oom.Reason)
	}
	if oom.VictimPID != 30 {
		t.Errorf("victim %d (%s), want a2 (pid 30), the biggest in /a", oom.VictimPID, oom.VictimComm)
	}
	if big, _ := m.Task(10); big.OOMVictim || big.RSSAnonPages != 30_000 {
		t.Errorf("the task outside /a was touched: %+v", big)
	}
	if m.Stats().PagesReclaimedFile < 2_000 {
		t.Errorf("reclaimed %d file pages; /a's page cache should go before the kill", m.Stats().PagesReclaimedFile)
	}
	a, _ := m.Cgroup("/a")
	if a.Events[MemcgOOMKill] != 1 || a.Events[MemcgMax] == 0 {
		t.Errorf("/a events %v: want one oom_kill and max events", a.Events)
	}
	if free := m.NodeFreePages(0); free < 10_000 {
		t.Errorf("the machine had only %d free pages: this should be a cgroup OOM, not a global one", free)
	}
	// Reaping the victim uncharges it.
	before, _ := m.Cgroup("/a")
	if err := m.Reap(30); err != nil {
		t.Fatal(err)
	}
	after, _ := m.Cgroup("/a")
	if after.CurrentPages >= before.CurrentPages {
		t.Errorf("/a current %d -> %d after reaping a2", before.CurrentPages, after.CurrentPages)
	}
	if err := m.cgroups.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

// TestMemoryMaxWithSwapSwapsInsideCgroup: with swap and swappiness 60
// the cgroup swaps its own pages instead of OOM.
func TestMemoryMaxWithSwapSwapsInsideCgroup(t *testing.T) {
	m := cgMachine(t, 60, 32_768)
	if got, oom := fill(t, m, 30, 12_000); got != 12_000 || oom != nil {
		t.Fatalf("a2 got %d of 12000 with swap: oom %+v", got, oom)
	}
	a2, _ := m.Task(30)
	if a2.SwapEntries == 0 || a2.RSSAnonPages > 8192 {
		t.Fatalf("a2 rss %d swap %d: want it held to /a's 8192-page limit by swapping", a2.RSSAnonPages, a2.SwapEntries)
	}
	a, _ := m.Cgroup("/a")
	if a.SwapCurrentPages != a2.SwapEntries {
		t.Errorf("/a swap.current %d, a2 swap entries %d", a.SwapCurrentPages, a2.SwapEntries)
	}
}

// TestMemoryHighThrottles: growing past memory.high with nothing to
// reclaim costs throttling stalls, and no OOM.
func TestMemoryHighThrottles(t *testing.T) {
	m, err := NewMachine(MachineConfig{NodePages: []int64{testNodePages}, Zonelists: [][]int{{0}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AddCgroup("/h", CgroupLimits{HighPages: 4096}); err != nil {
		t.Fatal(err)
	}
	if err := m.AddTask(Task{PID: 5, Comm: "grower", Cgroup: "/h"}); err != nil {
		t.Fatal(err)
	}
	got, stall, oom, err := m.AllocAnon(5, 0, 6_000)
	if err != nil || got != 6_000 || oom != nil {
		t.Fatalf("got %d, oom %+v, err %v", got, oom, err)
	}
	if stall == 0 || m.Stats().MemcgHighStallNs == 0 {
		t.Fatalf("no throttling stall past memory.high (stall %d)", stall)
	}
	h, _ := m.Cgroup("/h")
	if h.Events[MemcgHigh] == 0 {
		t.Errorf("/h high events = 0")
	}
	t.Logf("6000 pages, 46%% over memory.high: %.0f ms of throttling", float64(stall)/1e6)
}
