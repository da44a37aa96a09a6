package kernel

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"pgregory.net/rapid"
)

// twoNodes is a machine of two 256 MiB nodes that fall back to each
// other, with the given swap, two CPUs on each node and three tasks: 1
// (init, unkillable), 100 and 200.
func twoNodes(t *testing.T, swapPages, minFreeKbytes int64) *Machine {
	t.Helper()
	m, err := NewMachine(MachineConfig{
		NodePages: []int64{testNodePages, testNodePages}, Zonelists: [][]int{{0, 1}, {1, 0}},
		Swappiness: 60, SwapPages: swapPages, MinFreeKbytes: minFreeKbytes, CPUNodes: []int{0, 0, 1, 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range []Task{{PID: 1, Comm: "init", Unkillable: true}, {PID: 100, Comm: "big"}, {PID: 200, Comm: "small"}} {
		if err := m.AddTask(task); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// mustFault has pid fault in n pages of kind on node and fails the test
// unless it gets them all.
func mustFault(t *testing.T, m *Machine, pid int64, node int, n int64, kind pageKind) {
	t.Helper()
	var got int64
	var oom *OOMEvent
	var err error
	switch kind {
	case pageAnon:
		got, _, oom, err = m.AllocAnon(pid, node, n)
	case pageMlocked:
		got, _, oom, err = m.AllocMlocked(pid, node, n)
	case pageFile:
		got, _, oom, err = m.AllocFile(pid, node, n)
	}
	if err != nil || got != n || oom != nil {
		t.Fatalf("task %d faulting %d pages (kind %d) on node %d: got %d, oom %+v, %v", pid, n, kind, node, got, oom, err)
	}
}

// wantWatermarks recomputes every zone's watermarks from the machine's
// min_free_kbytes and compares.
func wantWatermarks(t *testing.T, m *Machine) {
	t.Helper()
	if err := m.checkZones(); err != nil {
		t.Fatal(err)
	}
}

func TestOfflineNode(t *testing.T) {
	migrate, drop := DefaultReclaimCost().MigrateNsPerPage, DefaultReclaimCost().ScanNsPerPage+DefaultReclaimCost().DropFileNsPerPage
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T, m *Machine)
		want  OfflineResult // IsolatedFreePages is checked separately
	}{
		{"idle node", func(*testing.T, *Machine) {}, OfflineResult{Node: 1}},
		{"anon mlocked and file pages", func(t *testing.T, m *Machine) {
			mustFault(t, m, 100, 1, 3000, pageAnon)
			mustFault(t, m, 100, 1, 200, pageMlocked)
			mustFault(t, m, 200, 1, 500, pageFile)
			mustFault(t, m, 200, 0, 700, pageAnon) // stays put
		}, OfflineResult{Node: 1, MigratedAnonPages: 3000, MigratedMlockedPages: 200, DroppedFilePages: 500, StallNs: 3200*migrate + 500*drop}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := twoNodes(t, 0, 0)
			tt.setup(t, m)
			bigBefore, _ := m.Task(100)
			smallBefore, _ := m.Task(200)
			node0Anon, totalBefore, minFreeBefore := m.NodeAnonPages(0), m.TotalPages(), m.Config().MinFreeKbytes
			used1 := tt.want.MigratedAnonPages + tt.want.MigratedMlockedPages + tt.want.DroppedFilePages
			res, err := m.OfflineNode(1)
			if err != nil {
				t.Fatal(err)
			}
			wantIsolated := res.IsolatedFreePages
			if wantIsolated != testNodePages-used1 {
				t.Errorf("isolated %d free pages, want %d", wantIsolated, testNodePages-used1)
			}
			tt.want.IsolatedFreePages, tt.want.DrainedPCPPages = res.IsolatedFreePages, res.DrainedPCPPages
			if res != tt.want {
				t.Errorf("offline: %+v, want %+v", res, tt.want)
			}
			if m.NodeOnline(1) || !m.NodeOnline(0) || m.Zone(1).ManagedPages != 0 || m.NodeFreePages(1) != 0 || m.PCPPages(1) != 0 {
				t.Errorf("node 1 after offline: online %v, zone %+v, free %d, pcp %d", m.NodeOnline(1), m.Zone(1), m.NodeFreePages(1), m.PCPPages(1))
			}
			if got := m.NodeAnonPages(0); got != node0Anon+tt.want.MigratedAnonPages {
				t.Errorf("node 0 has %d anon pages, want %d", got, node0Anon+tt.want.MigratedAnonPages)
			}
			if big, _ := m.Task(100); big.RSSAnonPages != bigBefore.RSSAnonPages {
				t.Errorf("rss of the migrated task %d, was %d", big.RSSAnonPages, bigBefore.RSSAnonPages)
			}
			if small, _ := m.Task(200); small.RSSAnonPages != smallBefore.RSSAnonPages {
				t.Errorf("rss of the other task %d, was %d", small.RSSAnonPages, smallBefore.RSSAnonPages)
			}
			if got := m.TotalPages(); got != totalBefore-testNodePages {
				t.Errorf("totalram %d, want %d", got, totalBefore-testNodePages)
			}
			if got := m.Config().MinFreeKbytes; got >= minFreeBefore {
				t.Errorf("min_free_kbytes %d after losing half the memory, was %d", got, minFreeBefore)
			}
			wantWatermarks(t, m)
			if z := m.Zone(1).Wmark; z != (Watermarks{}) {
				t.Errorf("offline zone watermarks %+v, want zero", z)
			}
			if err := checkMachine(m); err != nil {
				t.Fatal(err)
			}
			// The migrated pages are the task's own: freeing them all
			// empties node 0 of its anonymous pages again.
			if err := m.FreeAnon(100, bigBefore.RSSAnonPages); err != nil {
				t.Fatal(err)
			}
			if err := checkMachine(m); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestOfflineNodeRefusedLeavesMachineUnchanged: unmovable kernel pages,
// or too little room on the other node, make offlining fail with EBUSY
// before anything moves.
func TestOfflineNodeRefusedLeavesMachineUnchanged(t *testing.T) {
	for _, tt := range []struct {
		name     string
		setup    func(t *testing.T, m *Machine)
		reason   string
		blocking int64
	}{
		{"kernel pages", func(t *testing.T, m *Machine) {
			mustFault(t, m, 100, 1, 1000, pageAnon)
			if r, err := m.Alloc(AllocRequest{Node: 1, Order: 3, GFP: GFPKernel, CPU: -1}); err != nil || !r.OK || r.Node != 1 {
				t.Fatalf("kernel allocation: %+v %v", r, err)
			}
		}, "unmovable page", 8},
		{"no room on the other node", func(t *testing.T, m *Machine) {
			// Node 0 is full of mlocked pages (unreclaimable, no swap
			// anyway) bar 2000 pages; node 1 holds 5000 movable pages.
			free0 := m.NodeFreePages(0) - 2000
			mustFault(t, m, 200, 0, free0, pageMlocked)
			mustFault(t, m, 100, 1, 5000, pageAnon)
		}, "no room to migrate", 5000 - 2000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := twoNodes(t, 0, 0)
			tt.setup(t, m)
			before := snapshot(m)
			res, err := m.OfflineNode(1)
			var oe *OfflineError
			if !errors.Is(err, ErrNodeBusy) || !errors.As(err, &oe) || oe.Reason != tt.reason || oe.Done != (OfflineResult{}) || res != (OfflineResult{}) {
				t.Fatalf("offline: %+v, %v; want EBUSY for %q", res, err, tt.reason)
			}
			want := tt.blocking
			if tt.reason == "no room to migrate" {
				want += m.Zone(0).Wmark.Min // the other node keeps its min reserve
			}
			if oe.BlockingPages != want {
				t.Errorf("blocking pages %d, want %d", oe.BlockingPages, want)
			}
			if !reflect.DeepEqual(before, snapshot(m)) {
				t.Fatal("a refused offline changed the machine")
			}
			if err := checkMachine(m); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestOfflineNodeMigrationFailsHalfway: the anonymous pages look
// swappable, but their cgroup's memory.swap.max is one page, so reclaim
// cannot make the room the estimate promised. Offlining fails
// with EBUSY after migrating what fitted; the node stays online with the
// rest, and the books balance.
func TestOfflineNodeMigrationFailsHalfway(t *testing.T) {
	m := twoNodes(t, 2*testNodePages, 0)
	if err := m.AddCgroup("/noswap", CgroupLimits{SwapMaxPages: 1}); err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int64{300, 400} {
		if err := m.AddTask(Task{PID: pid, Comm: "pinned", Cgroup: "/noswap"}); err != nil {
			t.Fatal(err)
		}
	}
	mustFault(t, m, 300, 0, m.NodeFreePages(0)-m.Zone(0).Wmark.High-1000, pageAnon)
	mustFault(t, m, 400, 1, 20_000, pageAnon)
	res, err := m.OfflineNode(1)
	var oe *OfflineError
	if !errors.As(err, &oe) || oe.Reason != "migration failed" || !errors.Is(err, ErrNodeBusy) {
		t.Fatalf("offline: %+v, %v; want a migration failure", res, err)
	}
	moved := oe.Done.MigratedAnonPages
	if moved == 0 || moved+oe.BlockingPages != 20_000 || res != oe.Done {
		t.Errorf("migrated %d, blocked %d, of 20000; result %+v", moved, oe.BlockingPages, res)
	}
	if !m.NodeOnline(1) || m.NodeAnonPages(1) != oe.BlockingPages || m.Zone(1).ManagedPages != testNodePages {
		t.Errorf("node 1 after the failure: online %v, anon %d, zone %+v", m.NodeOnline(1), m.NodeAnonPages(1), m.Zone(1))
	}
	if err := checkMachine(m); err != nil {
		t.Fatal(err)
	}
	// The node's freed pages are allocatable again, through its CPUs'
	// lists, whose limits are back.
	if err := m.PlaceTask(200, 2); err != nil {
		t.Fatal(err)
	}
	mustFault(t, m, 200, 1, 1000, pageAnon)
	if err := checkMachine(m); err != nil {
		t.Fatal(err)
	}
}

// TestAllocationsAfterOfflineAvoidTheNode: whatever they prefer, user and
// kernel allocations (through per-CPU lists or not) land on online
// nodes, and the offline node's kswapd never runs.
func TestAllocationsAfterOfflineAvoidTheNode(t *testing.T) {
	m := twoNodes(t, 0, 0)
	if err := m.PlaceTask(100, 2); err != nil { // a CPU of node 1
		t.Fatal(err)
	}
	if _, err := m.OfflineNode(1); err != nil {
		t.Fatal(err)
	}
	mustFault(t, m, 100, 1, 10_000, pageAnon)
	mustFault(t, m, 200, 1, 10_000, pageFile)
	mustFault(t, m, 200, 1, 100, pageMlocked)
	for _, req := range []AllocRequest{
		{Node: 1, GFP: GFPKernel, CPU: 2}, {Node: 1, Order: 9, GFP: GFPKernel, CPU: -1}, {Node: 1, GFP: GFPAtomic, CPU: -1},
	} {
		if r, err := m.Alloc(req); err != nil || !r.OK || r.Node != 0 {
			t.Errorf("%+v: %+v %v; want a page on node 0", req, r, err)
		}
	}
	// Push node 0 below its low watermark: kswapd wakes there only. The
	// pages on CPU 2's movable per-CPU list are served first.
	mustFault(t, m, 100, 1, m.NodeFreePages(0)+m.PCPPages(0)-m.Zone(0).Wmark.Low+10, pageAnon)
	if !m.KswapdWanted(0) || m.KswapdWanted(1) {
		t.Errorf("kswapd wanted: node 0 %v, node 1 %v", m.KswapdWanted(0), m.KswapdWanted(1))
	}
	if ns, again := m.KswapdStep(1); ns != 0 || again {
		t.Errorf("kswapd of the offline node ran: %d ns, again %v", ns, again)
	}
	if m.NodeFreePages(1) != 0 || m.NodeAnonPages(1) != 0 || m.NodeFilePages(1) != 0 {
		t.Errorf("node 1 holds pages: free %d anon %d file %d", m.NodeFreePages(1), m.NodeAnonPages(1), m.NodeFilePages(1))
	}
	if err := checkMachine(m); err != nil {
		t.Fatal(err)
	}
}

// TestOOMAfterOffline: a working set that fits in two nodes but not in
// one ends in the OOM killer once a node is offline.
func TestOOMAfterOffline(t *testing.T) {
	for _, offline := range []bool{false, true} {
		m := twoNodes(t, 0, 0)
		mustFault(t, m, 100, 1, 40_000, pageAnon)
		if offline {
			if _, err := m.OfflineNode(1); err != nil {
				t.Fatal(err)
			}
		}
		got, _, oom, err := m.AllocAnon(200, 0, 40_000)
		if err != nil {
			t.Fatal(err)
		}
		if !offline && (got != 40_000 || oom != nil) {
			t.Fatalf("both nodes online: got %d of 40000, oom %+v", got, oom)
		}
		if offline && (oom == nil || oom.Action != OOMKill || oom.VictimPID != 100) {
			t.Fatalf("one node left: got %d, oom %+v; want the OOM killer to pick pid 100", got, oom)
		}
		if err := checkMachine(m); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOnlineNodeRestores: bringing the node back frees all its pages,
// sets up its per-CPU lists and recomputes the watermarks. With
// vm.min_free_kbytes set by the user the watermarks come back exactly;
// computed, min_free_kbytes is recalculated from nr_free_buffer_pages,
// which now subtracts the high watermarks, so it ends a little lower
// than at boot, as in the kernel.
func TestOnlineNodeRestores(t *testing.T) {
	for _, minFree := range []int64{0, 8192} {
		m := twoNodes(t, 0, minFree)
		boot := [2]Zone{m.Zone(0), m.Zone(1)}
		bootMinFree := m.Config().MinFreeKbytes
		mustFault(t, m, 100, 1, 5000, pageAnon)
		mustFault(t, m, 100, 1, 5000, pageFile)
		if _, err := m.OfflineNode(1); err != nil {
			t.Fatal(err)
		}
		if minFree != 0 && m.Config().MinFreeKbytes != minFree {
			t.Errorf("user min_free_kbytes %d replaced by %d", minFree, m.Config().MinFreeKbytes)
		}
		zones := []Zone{m.Zone(0), m.Zone(1)}
		if err := m.OnlineNode(1); err != nil {
			t.Fatal(err)
		}
		if !m.NodeOnline(1) || m.NodeFreePages(1) != testNodePages || m.Zone(1).ManagedPages != testNodePages || m.Zone(1).PresentPages != testNodePages {
			t.Fatalf("node 1 after online: online %v, free %d, zone %+v", m.NodeOnline(1), m.NodeFreePages(1), m.Zone(1))
		}
		wantMinFree := minFree
		if minFree == 0 {
			zones[1].ManagedPages = testNodePages // as online_pages sees it
			wantMinFree = int64(isqrt(uint64(FreeBufferPages(zones)) * 4 * 16))
			if wantMinFree >= bootMinFree || wantMinFree < bootMinFree*95/100 {
				t.Errorf("recomputed min_free_kbytes %d, boot %d: want a little lower", wantMinFree, bootMinFree)
			}
		}
		if got := m.Config().MinFreeKbytes; got != wantMinFree {
			t.Errorf("min_free_kbytes %d after online, want %d", got, wantMinFree)
		}
		wantWatermarks(t, m)
		if minFree != 0 && (m.Zone(0) != boot[0] || m.Zone(1) != boot[1]) {
			t.Errorf("zones after online %+v %+v, at boot %+v %+v", m.Zone(0), m.Zone(1), boot[0], boot[1])
		}
		if err := m.PlaceTask(200, 3); err != nil {
			t.Fatal(err)
		}
		mustFault(t, m, 200, 1, 1000, pageAnon)
		if m.NodeAnonPages(1) != 1000 {
			t.Errorf("node 1 has %d anon pages after faulting 1000 there", m.NodeAnonPages(1))
		}
		if err := checkMachine(m); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOfflineDrainsPerCPULists: pages parked on the node's per-CPU lists
// are drained into the isolated free pages.
func TestOfflineDrainsPerCPULists(t *testing.T) {
	m := twoNodes(t, 0, 0)
	if err := m.PlaceTask(100, 2); err != nil {
		t.Fatal(err)
	}
	mustFault(t, m, 100, 1, 2000, pageAnon)
	if err := m.FreeAnon(100, 2000); err != nil {
		t.Fatal(err)
	}
	parked := m.PCPPages(1)
	if parked == 0 {
		t.Fatal("no page on node 1's per-CPU lists")
	}
	res, err := m.OfflineNode(1)
	if err != nil || res.DrainedPCPPages != parked || res.IsolatedFreePages != testNodePages || m.PCPPages(1) != 0 {
		t.Fatalf("offline: %+v, %v; %d pages were parked", res, err, parked)
	}
	for cpu := range m.pcps {
		if c := m.pcps[cpu][1].Config(); c != bootPageset() {
			t.Errorf("cpu %d: offline node's list limits %+v, want the boot pageset", cpu, c)
		}
	}
}

func TestHotplugMisuse(t *testing.T) {
	m := twoNodes(t, 0, 0)
	if _, err := m.OfflineNode(2); err == nil {
		t.Error("offline of node 2 of 2 succeeded")
	}
	if err := m.OnlineNode(-1); err == nil {
		t.Error("online of node -1 succeeded")
	}
	if err := m.OnlineNode(0); !errors.Is(err, ErrNodeOnline) {
		t.Errorf("online of an online node: %v", err)
	}
	if _, err := m.OfflineNode(0); err != nil {
		t.Fatal(err)
	}
	if _, err := m.OfflineNode(0); !errors.Is(err, ErrNodeOffline) {
		t.Errorf("second offline: %v", err)
	}
	if _, err := m.OfflineNode(1); !errors.Is(err, ErrLastNode) {
		t.Errorf("offline of the last node: %v", err)
	}
	if m.NodeOnline(5) {
		t.Error("node 5 is online")
	}
}

// TestHotplugBooksBalance is TestMachineBooksBalance narrowed to memory
// hotplug under pressure: two small nodes, no kernel pages (so offlining
// is not simply refused), and a cgroup whose memory.swap.max may be one
// page, so that migration runs out of room halfway as well as up front.
func TestHotplugBooksBalance(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m, err := NewMachine(MachineConfig{
			NodePages: []int64{2048, 2048}, Zonelists: [][]int{{0, 1}, {1, 0}},
			Swappiness: rapid.SampledFrom([]int{0, 60, 200}).Draw(t, "swappiness"),
			SwapPages:  rapid.SampledFrom([]int64{0, 1024}).Draw(t, "swap"), CPUNodes: []int{0, 1},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.AddCgroup("/ns", CgroupLimits{SwapMaxPages: rapid.SampledFrom([]int64{0, 1}).Draw(t, "swap_max")}); err != nil {
			t.Fatal(err)
		}
		pids := []int64{1, 2, 3}
		for i, pid := range pids {
			cg := "/ns"
			if i == 0 {
				cg = "/"
			}
			if err := m.AddTask(Task{PID: pid, Comm: fmt.Sprint("t", pid), Cgroup: cg}); err != nil {
				t.Fatal(err)
			}
			if rapid.Bool().Draw(t, "placed") {
				if err := m.PlaceTask(pid, i%2); err != nil {
					t.Fatal(err)
				}
			}
		}
		t.Repeat(map[string]func(*rapid.T){
			"fault": func(t *rapid.T) {
				pid := rapid.SampledFrom(pids).Draw(t, "pid")
				if tk, _ := m.Task(pid); tk.OOMVictim {
					t.Skip("killed")
				}
				n := rapid.Int64Range(1, 1500).Draw(t, "pages")
				node := rapid.IntRange(0, 1).Draw(t, "node")
				var err error
				switch rapid.IntRange(0, 2).Draw(t, "kind") {
				case 0:
					_, _, _, err = m.AllocAnon(pid, node, n)
				case 1:
					_, _, _, err = m.AllocFile(pid, node, n)
				default:
					_, _, _, err = m.AllocMlocked(pid, node, n/8+1)
				}
				if err != nil {
					t.Fatal(err)
				}
			},
			"free": func(t *rapid.T) {
				if err := m.FreeAnon(rapid.SampledFrom(pids).Draw(t, "pid"), rapid.Int64Range(1, 1500).Draw(t, "pages")); err != nil {
					t.Fatal(err)
				}
			},
			"offline": func(t *rapid.T) {
				offlineStep(t, m, rapid.IntRange(0, 1).Draw(t, "node"))
			},
			"online": func(t *rapid.T) {
				if err := m.OnlineNode(rapid.IntRange(0, 1).Draw(t, "node")); err != nil && !errors.Is(err, ErrNodeOnline) {
					t.Fatal(err)
				}
			},
			"kswapd": func(t *rapid.T) {
				m.KswapdStep(rapid.IntRange(0, 1).Draw(t, "node"))
			},
			"reap": func(t *rapid.T) {
				for _, pid := range pids {
					if tk, _ := m.Task(pid); tk.OOMVictim && !tk.OOMSkip {
						if err := m.Reap(pid); err != nil {
							t.Fatal(err)
						}
					}
				}
			},
			"": func(t *rapid.T) {
				if err := checkMachine(m); err != nil {
					t.Fatal(err)
				}
			},
		})
	})
}
