package kernel

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// checkMachine asserts the machine's books balance: every managed page is
// in exactly one place (buddy free lists, a per-CPU list, a task's
// anonymous or mlocked pages, the page cache, or the kernel), the
// page-state array agrees with the counters, each task's RSS matches the
// pages it owns, swap use matches the tasks' swap entries, each cgroup's
// own charge covers its pages, every LRU page is on its cgroup's list on
// its node and every task page on its task's list (checkLists), and the
// zones agree with memory hotplug (checkZones).
func checkMachine(m *Machine) error {
	if err := checkZones(m); err != nil {
		return err
	}
	if err := checkLists(m); err != nil {
		return err
	}
	var anon, file, mlocked, kernelPages, pcp int64
	cgPages := make([]int64, len(m.cgPaths))
	taskPages := make([]int64, len(m.tasks))
	for ni, n := range m.nodes {
		if err := n.buddy.CheckInvariants(); err != nil {
			return fmt.Errorf("node %d: %w", ni, err)
		}
		var nAnon, nFile int64
		for i := range n.pages {
			p := &n.pages[i]
			switch p.kind {
			case pageAnon:
				nAnon++
				taskPages[p.owner-1]++
			case pageMlocked:
				mlocked++
				taskPages[p.owner-1]++
			case pageFile:
				nFile++
			case pageKernel:
				kernelPages++
			}
			if p.kind == pageAnon || p.kind == pageMlocked || p.kind == pageFile {
				cgPages[p.cg]++
			}
		}
		if nAnon != n.anonPages || nFile != n.filePages {
			return fmt.Errorf("node %d: page states say %d anon %d file, counters %d %d", ni, nAnon, nFile, n.anonPages, n.filePages)
		}
		anon += nAnon
		file += nFile
		pcp += m.PCPPages(ni)
		used := nAnon + nFile + n.buddy.FreePages() + m.PCPPages(ni)
		if used > n.zone.ManagedPages {
			return fmt.Errorf("node %d: %d pages accounted, %d managed", ni, used, n.zone.ManagedPages)
		}
	}
	var managed, free int64
	for _, n := range m.nodes {
		managed += n.zone.ManagedPages
		free += n.buddy.FreePages()
	}
	if got := anon + file + mlocked + kernelPages + pcp + free; got != managed {
		return fmt.Errorf("anon %d + file %d + mlocked %d + kernel %d + pcp %d + free %d = %d, managed %d", anon, file, mlocked, kernelPages, pcp, free, got, managed)
	}
	var swap int64
	for i := range m.tasks {
		t := &m.tasks[i]
		if t.RSSAnonPages != taskPages[i] {
			return fmt.Errorf("task %d: rss %d, owns %d pages", t.PID, t.RSSAnonPages, taskPages[i])
		}
		swap += t.SwapEntries
	}
	if swap != m.swapUsed || m.swapUsed > m.cfg.SwapPages {
		return fmt.Errorf("swap used %d, tasks' entries %d, device %d", m.swapUsed, swap, m.cfg.SwapPages)
	}
	for i, path := range m.cgPaths {
		c, _ := m.cgroups.Get(path)
		if c.LocalPages != cgPages[i] && c.LocalPages != cgPages[i]+c.StockPages {
			return fmt.Errorf("cgroup %s: charged %d (stock %d), holds %d pages", path, c.LocalPages, c.StockPages, cgPages[i])
		}
	}
	return m.cgroups.CheckInvariants()
}

// checkZones asserts that each zone manages what its buddy allocator
// manages, that an offline node holds nothing and has no per-CPU pages or
// kswapd work, and that every zone's watermarks and per-CPU list limits
// are what vm.min_free_kbytes and the managed pages give.
func checkZones(m *Machine) error {
	zones := make([]Zone, len(m.nodes))
	for ni, n := range m.nodes {
		zones[ni] = n.zone
		if n.zone.ManagedPages != n.buddy.Managed() {
			return fmt.Errorf("node %d: zone manages %d pages, buddy %d", ni, n.zone.ManagedPages, n.buddy.Managed())
		}
		if !n.offline {
			continue
		}
		if n.zone.ManagedPages != 0 || n.zone.PresentPages != 0 || m.PCPPages(ni) != 0 || n.kswapdWanted {
			return fmt.Errorf("offline node %d: managed %d present %d pcp %d kswapd %v", ni, n.zone.ManagedPages, n.zone.PresentPages, m.PCPPages(ni), n.kswapdWanted)
		}
		for i := range n.pages {
			if n.pages[i].kind != pageFree {
				return fmt.Errorf("offline node %d: pfn %d is in use (kind %d)", ni, n.zone.StartPFN+int64(i), n.pages[i].kind)
			}
		}
	}
	if err := SetupWatermarks(zones, m.cfg.MinFreeKbytes, m.cfg.WatermarkScaleFactor); err != nil {
		return err
	}
	for ni, n := range m.nodes {
		if n.zone.Wmark != zones[ni].Wmark {
			return fmt.Errorf("node %d: watermarks %+v, min_free_kbytes %d gives %+v", ni, n.zone.Wmark, m.cfg.MinFreeKbytes, zones[ni].Wmark)
		}
		for cpu := range m.pcps {
			if got, want := m.pcps[cpu][ni].Config(), m.pagesetConfig(ni); got != want {
				return fmt.Errorf("cpu %d node %d: pcp limits %+v, want %+v", cpu, ni, got, want)
			}
		}
	}
	return nil
}

// checkLists asserts that every anonymous and page-cache page has exactly
// one live entry on its cgroup's LRU list of its node, that every
// evictable anonymous page has exactly one live entry on its owner's
// list, every mlocked page is on its owner's mlocked list once, and that
// each lruvec's counters match its pages.
func checkLists(m *Machine) error {
	for ni, n := range m.nodes {
		lruSeen := make([]bool, len(n.pages))
		for cg := range n.lru {
			v := &n.lru[cg]
			for _, l := range []struct {
				list  *lruList
				kind  pageKind
				pages int64
			}{{&v.anon, pageAnon, v.anonPages}, {&v.file, pageFile, v.filePages}} {
				var live int64
				for _, e := range l.list.q[l.list.head:] {
					if !n.live(e, l.kind) {
						continue
					}
					i := e.pfn - n.zone.StartPFN
					if lruSeen[i] || n.pages[i].cg != int32(cg) {
						return fmt.Errorf("node %d cgroup %d: pfn %d listed twice or under another cgroup", ni, cg, e.pfn)
					}
					lruSeen[i] = true
					live++
				}
				if live != l.pages {
					return fmt.Errorf("node %d cgroup %d: %d live entries of kind %d, counter %d", ni, cg, live, l.kind, l.pages)
				}
			}
		}
		for i := range n.pages {
			if k := n.pages[i].kind; (k == pageAnon || k == pageFile) && !lruSeen[i] {
				return fmt.Errorf("node %d: pfn %d (kind %d) is on no LRU list", ni, n.zone.StartPFN+int64(i), k)
			}
		}
	}
	return checkTaskLists(m)
}

// checkTaskLists asserts that each task's anonymous and mlocked lists
// name exactly the pages it owns.
func checkTaskLists(m *Machine) error {
	seen := make([][]bool, len(m.nodes))
	for ni, n := range m.nodes {
		seen[ni] = make([]bool, len(n.pages))
	}
	owned := make([]int64, len(m.tasks))
	for s := range m.tasks {
		t := &m.tasks[s]
		for _, e := range t.anon {
			ni, n := m.nodeOf(e.pfn)
			if !n.live(e, pageAnon) {
				continue
			}
			i := e.pfn - n.zone.StartPFN
			if seen[ni][i] || n.pages[i].owner != int32(s+1) {
				return fmt.Errorf("task %d: anon pfn %d listed twice or owned by slot %d", t.PID, e.pfn, n.pages[i].owner-1)
			}
			seen[ni][i] = true
			owned[s]++
		}
		for _, pfn := range t.mlocked {
			ni, n := m.nodeOf(pfn)
			i := pfn - n.zone.StartPFN
			if seen[ni][i] || n.pages[i].kind != pageMlocked || n.pages[i].owner != int32(s+1) {
				return fmt.Errorf("task %d: mlocked pfn %d listed twice or not its mlocked page", t.PID, pfn)
			}
			seen[ni][i] = true
			owned[s]++
		}
	}
	for s := range m.tasks {
		if owned[s] != m.tasks[s].RSSAnonPages {
			return fmt.Errorf("task %d: lists name %d pages, rss %d", m.tasks[s].PID, owned[s], m.tasks[s].RSSAnonPages)
		}
	}
	return nil
}

// machineSnapshot is everything observable about a machine's memory, for
// checking that an operation changed nothing.
type machineSnapshot struct {
	Zones          []Zone
	Free, PCP      []int64
	Pages          [][]pageState
	LRUCounts      [][][2]int64
	Kswapd         []bool
	Tasks          []Task
	TaskAnon       [][]lruEntry
	TaskMlocked    [][]int64
	Cgroups        []Cgroup
	SwapUsed       int64
	Stats          Stats
	MinFreeKbytes  int64
	PCPConfigs     []PCPConfig
	BuddyFreeHeads [][NrOrders]int64
}

func snapshot(m *Machine) machineSnapshot {
	var s machineSnapshot
	for ni, n := range m.nodes {
		s.Zones = append(s.Zones, n.zone)
		s.Free = append(s.Free, n.buddy.FreePages())
		s.PCP = append(s.PCP, m.PCPPages(ni))
		s.Pages = append(s.Pages, slices.Clone(n.pages))
		var counts [][2]int64
		for _, v := range n.lru {
			counts = append(counts, [2]int64{v.anonPages, v.filePages})
		}
		s.LRUCounts = append(s.LRUCounts, counts)
		s.Kswapd = append(s.Kswapd, n.kswapdWanted)
		var heads [NrOrders]int64
		for o := range heads {
			heads[o] = n.buddy.NrFree(o)
		}
		s.BuddyFreeHeads = append(s.BuddyFreeHeads, heads)
	}
	s.Tasks = m.Tasks()
	for i := range m.tasks {
		s.TaskAnon = append(s.TaskAnon, slices.Clone(m.tasks[i].anon))
		s.TaskMlocked = append(s.TaskMlocked, slices.Clone(m.tasks[i].mlocked))
	}
	for _, p := range m.cgPaths {
		c, _ := m.Cgroup(p)
		s.Cgroups = append(s.Cgroups, c)
	}
	for _, lists := range m.pcps {
		for _, p := range lists {
			s.PCPConfigs = append(s.PCPConfigs, p.Config())
		}
	}
	s.SwapUsed, s.Stats, s.MinFreeKbytes = m.swapUsed, m.stats, m.cfg.MinFreeKbytes
	return s
}

// TestMachineBooksBalance drives a small two-node machine with per-CPU
// lists, swap and cgroups through random faults, page-cache reads,
// mlocks, frees, kernel and atomic allocations, kswapd, OOM kills and
// reaps, and a node's memory going offline and online, and checks the
// books after every step.
func TestMachineBooksBalance(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		swap := rapid.SampledFrom([]int64{0, 2048}).Draw(t, "swap")
		m, err := NewMachine(MachineConfig{
			NodePages: []int64{8192, 4096}, Zonelists: [][]int{{0, 1}, {1, 0}},
			Swappiness: rapid.SampledFrom([]int{0, 60, 200}).Draw(t, "swappiness"),
			SwapPages:  swap, CPUNodes: []int{0, 0, 1},
			OOMKillAllocatingTask: rapid.Bool().Draw(t, "kill_allocating"),
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.AddCgroup("/c", CgroupLimits{
			MaxPages: 3000, HighPages: rapid.SampledFrom([]int64{0, 2500}).Draw(t, "high"),
			// A small memory.swap.max makes the other node's room for
			// migration smaller than swap suggests, so offlining can
			// fail halfway.
			SwapMaxPages: rapid.SampledFrom([]int64{0, 64}).Draw(t, "swap_max"),
		}); err != nil {
			t.Fatal(err)
		}
		pids := []int64{1, 2, 3, 4}
		for i, pid := range pids {
			cg := "/"
			if i >= 2 {
				cg = "/c"
			}
			if err := m.AddTask(Task{PID: pid, Comm: fmt.Sprint("t", pid), Cgroup: cg, OOMScoreAdj: int64(i * 100)}); err != nil {
				t.Fatal(err)
			}
			if i%2 == 0 {
				if err := m.PlaceTask(pid, i%3); err != nil {
					t.Fatal(err)
				}
			}
		}
		var kernelBlocks [][2]int64 // pfn, order
		live := func(pid int64) bool { tk, _ := m.Task(pid); return !tk.OOMVictim }
		t.Repeat(map[string]func(*rapid.T){
			"fault": func(t *rapid.T) {
				pid := rapid.SampledFrom(pids).Draw(t, "pid")
				if !live(pid) {
					t.Skip("killed")
				}
				n := rapid.Int64Range(1, 3000).Draw(t, "pages")
				kind := rapid.IntRange(0, 2).Draw(t, "kind")
				node := rapid.IntRange(0, 1).Draw(t, "node")
				var err error
				switch kind {
				case 0:
					_, _, _, err = m.AllocAnon(pid, node, n)
				case 1:
					_, _, _, err = m.AllocFile(pid, node, n)
				default:
					_, _, _, err = m.AllocMlocked(pid, node, n/10+1)
				}
				if err != nil {
					t.Fatal(err)
				}
			},
			"free": func(t *rapid.T) {
				pid := rapid.SampledFrom(pids).Draw(t, "pid")
				if err := m.FreeAnon(pid, rapid.Int64Range(1, 3000).Draw(t, "pages")); err != nil {
					t.Fatal(err)
				}
			},
			"kernel alloc": func(t *rapid.T) {
				order := rapid.SampledFrom([]int{0, 3, 9}).Draw(t, "order")
				gfp := rapid.SampledFrom([]GFP{GFPKernel, GFPAtomic}).Draw(t, "gfp")
				r, err := m.Alloc(AllocRequest{Node: rapid.IntRange(0, 1).Draw(t, "node"), Order: order, GFP: gfp, CPU: -1})
				if err != nil {
					t.Fatal(err)
				}
				if r.OK {
					kernelBlocks = append(kernelBlocks, [2]int64{r.PFN, int64(order)})
				}
			},
			"kernel free": func(t *rapid.T) {
				if len(kernelBlocks) == 0 {
					t.Skip("none")
				}
				i := rapid.IntRange(0, len(kernelBlocks)-1).Draw(t, "i")
				b := kernelBlocks[i]
				kernelBlocks = append(kernelBlocks[:i], kernelBlocks[i+1:]...)
				if err := m.FreeKernel(b[0], int(b[1])); err != nil {
					t.Fatal(err)
				}
			},
			"kswapd": func(t *rapid.T) {
				m.KswapdStep(rapid.IntRange(0, 1).Draw(t, "node"))
			},
			"offline": func(t *rapid.T) {
				offlineStep(t, m, rapid.IntRange(0, 1).Draw(t, "node"))
			},
			"online": func(t *rapid.T) {
				ni := rapid.IntRange(0, 1).Draw(t, "node")
				wasOnline := m.NodeOnline(ni)
				err := m.OnlineNode(ni)
				if wasOnline != errors.Is(err, ErrNodeOnline) || (!wasOnline && err != nil) || !m.NodeOnline(ni) {
					t.Fatalf("online node %d (online before: %v): %v", ni, wasOnline, err)
				}
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

// offlineStep offlines node ni and checks the outcome against the state
// before: a node already offline, or the last one online, is refused; a
// refusal before migration changes nothing; success leaves the node
// empty with its movable pages moved and its page cache dropped.
func offlineStep(t *rapid.T, m *Machine, ni int) {
	before := snapshot(m)
	wasOnline, otherOnline := m.NodeOnline(ni), m.NodeOnline(1-ni)
	anon, mlocked, _ := m.nodes[ni].movableCounts()
	file := m.nodes[ni].filePages
	res, err := m.OfflineNode(ni)
	var oe *OfflineError
	switch {
	case !wasOnline:
		if !errors.Is(err, ErrNodeOffline) {
			t.Fatalf("offline of offline node %d: %v", ni, err)
		}
	case !otherOnline:
		if !errors.Is(err, ErrLastNode) {
			t.Fatalf("offline of the last online node %d: %v", ni, err)
		}
	case errors.As(err, &oe):
		if !errors.Is(err, ErrNodeBusy) || !m.NodeOnline(ni) || oe.BlockingPages <= 0 {
			t.Fatalf("failed offline of node %d: %v, online %v", ni, err, m.NodeOnline(ni))
		}
		if oe.Reason != "migration failed" && !reflect.DeepEqual(before, snapshot(m)) {
			t.Fatalf("offline of node %d refused (%v) but the machine changed", ni, err)
		}
	case err != nil:
		t.Fatalf("offline node %d: %v", ni, err)
	default:
		if m.NodeOnline(ni) || res.MigratedAnonPages != anon || res.MigratedMlockedPages != mlocked || res.DroppedFilePages != file {
			t.Fatalf("offline node %d: %+v; had %d anon %d mlocked %d file", ni, res, anon, mlocked, file)
		}
	}
	if err != nil && oe == nil && !reflect.DeepEqual(before, snapshot(m)) {
		t.Fatalf("offline of node %d refused (%v) but the machine changed", ni, err)
	}
}

// TestPerCPUListsHoldFreesAndDrainBeforeOOM: a placed task's frees land on
// its CPU's list, and the lists are drained before the OOM killer runs.
func TestPerCPUListsHoldFreesAndDrainBeforeOOM(t *testing.T) {
	m, err := NewMachine(MachineConfig{NodePages: []int64{testNodePages}, Zonelists: [][]int{{0}}, CPUNodes: []int{0, 0}})
	if err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int64{1, 2} {
		if err := m.AddTask(Task{PID: pid, Comm: fmt.Sprint("t", pid), Cgroup: "/"}); err != nil {
			t.Fatal(err)
		}
		if err := m.PlaceTask(pid, int(pid-1)); err != nil {
			t.Fatal(err)
		}
	}
	if got, oom := fill(t, m, 1, 1000); got != 1000 || oom != nil {
		t.Fatal(got, oom)
	}
	if err := m.FreeAnon(1, 100); err != nil {
		t.Fatal(err)
	}
	if m.PCPPages(0) == 0 {
		t.Fatal("frees of a placed task did not reach its per-CPU list")
	}
	_, oom := fill(t, m, 2, testNodePages)
	if oom == nil {
		t.Fatal("no OOM")
	}
	if n := m.PCPPages(0); n > m.pcps[0][0].Config().Batch+m.pcps[1][0].Config().Batch {
		t.Errorf("%d pages on per-CPU lists at OOM: drain_all_pages should have emptied them", n)
	}
	if err := checkMachine(m); err != nil {
		t.Fatal(err)
	}
}
