package kernel

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// checkMachine is Machine.CheckInvariants, under the name the tests
// have always used.
func checkMachine(m *Machine) error { return m.CheckInvariants() }

// checkTracked is Machine.CheckTouched, which must find what it counts
// in agreement with the counters (the touch record complete: no resync).
func checkTracked(m *Machine) error {
	before := m.TouchStats().Resyncs
	if err := m.CheckTouched(); err != nil {
		return err
	}
	if after := m.TouchStats().Resyncs; after != before {
		return fmt.Errorf("an operation changed a region without recording it: the counts went stale (the whole walk passed)")
	}
	return nil
}

// machineSnapshot is everything observable about a machine's memory, for
// checking that an operation changed nothing.
type machineSnapshot struct {
	Zones          []Zone
	Free, PCP      []int64
	Pages          [][]pageState
	LRU            [][]lruvec
	Kswapd         []bool
	Tasks          []Task
	TaskAnon       [][]vma
	TaskMlocked    [][]int64
	Files          [][]pageSlot
	VMStat         VMStat
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
		pages := make([]pageState, n.pages.len())
		for i := range pages {
			pages[i] = n.pages.get(int32(i))
		}
		s.Pages = append(s.Pages, pages)
		s.LRU = append(s.LRU, slices.Clone(n.lru))
		s.Kswapd = append(s.Kswapd, n.kswapdWanted)
		var heads [NrOrders]int64
		for o := range heads {
			heads[o] = n.buddy.NrFree(o)
		}
		s.BuddyFreeHeads = append(s.BuddyFreeHeads, heads)
	}
	s.Tasks = m.Tasks()
	for i := range m.tasks {
		var vmas []vma
		for _, v := range m.tasks[i].anon.vmas {
			v.slots, v.thp = slices.Clone(v.slots), slices.Clone(v.thp)
			vmas = append(vmas, v)
		}
		s.TaskAnon = append(s.TaskAnon, vmas)
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
	for _, f := range m.files {
		s.Files = append(s.Files, slices.Clone(f.slots))
	}
	s.SwapUsed, s.Stats, s.MinFreeKbytes, s.VMStat = m.swap.used, m.stats, m.cfg.MinFreeKbytes, m.vmstat
	return s
}

// TestMachineBooksBalance drives a small two-node machine with per-CPU
// lists, swap and cgroups through random faults, mappings with and
// without huge pages under every defrag mode and their unmapping,
// page-cache reads of a task's own file and of shared files, touches of
// anonymous memory (swap-ins), mlocks, frees, kernel allocations of every
// kind (atomic, no-retry, accounted to a cgroup, costly), kswapd,
// kcompactd and proactive compaction, OOM kills and reaps, and a node's
// memory going offline and online, and checks the books after every
// step: CheckInvariants, which also walks every LRU list (each evictable
// page on exactly one, the one its flags name), every page's owner slot
// and every mapping's frames, and every free list against the
// pageblocks' types.
func TestMachineBooksBalance(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		swap := rapid.SampledFrom([]int64{0, 2048}).Draw(t, "swap")
		// With a clock, swap writes take time (writeback.go) and the
		// "advance" action moves it on.
		var now int64
		var clock func() int64
		if rapid.Bool().Draw(t, "clock") {
			clock = func() int64 { return now }
		}
		m, err := NewMachine(MachineConfig{
			NodePages: []int64{8192, 4096}, Zonelists: [][]int{{0, 1}, {1, 0}},
			Swappiness: rapid.SampledFrom([]int{0, 60, 200}).Draw(t, "swappiness"),
			SwapPages:  swap, CPUNodes: []int{0, 0, 1},
			OOMKillAllocatingTask: rapid.Bool().Draw(t, "kill_allocating"),
			Clock:                 clock,
			CgroupV1:              rapid.Bool().Draw(t, "cgroup_v1"),
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
		var files []FileID
		for _, size := range []int64{4000, 300} {
			f, err := m.AddFile(size)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		var kernelBlocks [][2]int64 // pfn, order
		mappings := map[int64][]MappingID{}
		live := func(pid int64) bool { tk, _ := m.Task(pid); return !tk.OOMVictim }
		// With the touch record, each step is checked as `sbmpsim check`
		// checks between whole walks (checkTracked).
		tracked := rapid.Bool().Draw(t, "tracked")
		if tracked {
			m.TrackTouched()
		}
		steps := 0
		t.Repeat(map[string]func(*rapid.T){
			"advance": func(t *rapid.T) {
				now += rapid.Int64Range(0, 200_000).Draw(t, "ns")
				m.EndWriteback()
			},
			"map": func(t *rapid.T) { mapStep(t, m, pids, mappings, live) },
			"fragment": func(t *rapid.T) {
				// Many one-page mappings, every other one unmapped:
				// free memory in single pages between movable ones.
				pid := rapid.SampledFrom(pids).Draw(t, "pid")
				if !live(pid) {
					t.Skip("killed")
				}
				node := rapid.IntRange(0, 1).Draw(t, "node")
				for i := range rapid.IntRange(1, 3000).Draw(t, "pages") {
					r, err := m.MapAnon(pid, node, 1, MapOptions{NoOOM: true})
					if err != nil {
						t.Fatal(err)
					}
					if !r.OK {
						break
					}
					if i%2 == 0 {
						mappings[pid] = append(mappings[pid], r.ID)
					} else if err := m.UnmapAnon(pid, r.ID); err != nil {
						t.Fatal(err)
					}
				}
			},
			"unmap": func(t *rapid.T) {
				pid := rapid.SampledFrom(pids).Draw(t, "pid")
				if tk, _ := m.Task(pid); len(mappings[pid]) == 0 || tk.NoMM {
					t.Skip("no mapping")
				}
				i := rapid.IntRange(0, len(mappings[pid])-1).Draw(t, "i")
				if err := m.UnmapAnon(pid, mappings[pid][i]); err != nil {
					t.Fatal(err)
				}
				mappings[pid] = append(mappings[pid][:i], mappings[pid][i+1:]...)
			},
			"kcompactd": func(t *rapid.T) {
				ni := rapid.IntRange(0, 1).Draw(t, "node")
				if _, again := m.KcompactdStep(ni); again || m.KcompactdWanted(ni) {
					t.Fatalf("kcompactd of node %d still wanted after its step", ni)
				}
			},
			"proactive": func(t *rapid.T) {
				m.ProactiveCompactStep(rapid.IntRange(0, 1).Draw(t, "node"))
			},
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
			"huge fault": func(t *rapid.T) {
				pid := rapid.SampledFrom(pids).Draw(t, "pid")
				if !live(pid) {
					t.Skip("killed")
				}
				before, _ := m.Task(pid)
				order := rapid.SampledFrom([]int{4, 9}).Draw(t, "order")
				served, _, ok, err := m.AllocAnonHuge(pid, rapid.IntRange(0, 1).Draw(t, "node"), order)
				if err != nil {
					t.Fatal(err)
				}
				after, _ := m.Task(pid)
				// Charging may reclaim (swap) the task's own pages in its
				// cgroup, so resident + swapped is what grows by the block.
				grew := after.RSSAnonPages + after.SwapEntries - before.RSSAnonPages - before.SwapEntries
				if want := map[bool]int64{true: 1 << order}[ok]; grew != want || served < 0 || served > 1 {
					t.Fatalf("huge fault ok=%v on node %d: resident+swapped grew by %d, want %d", ok, served, grew, want)
				}
			},
			"read": func(t *rapid.T) {
				pid := rapid.SampledFrom(pids).Draw(t, "pid")
				if !live(pid) {
					t.Skip("killed")
				}
				f := rapid.SampledFrom(files).Draw(t, "file")
				size, _, _ := m.FilePages(f)
				start := rapid.Int64Range(0, size-1).Draw(t, "start")
				count := rapid.Int64Range(1, 400).Draw(t, "count")
				node := rapid.IntRange(0, 1).Draw(t, "node")
				for i := start; i < min(size, start+count); i++ {
					r, err := m.ReadFile(pid, f, i, node)
					if err != nil {
						t.Fatal(err)
					}
					if r.Hit && (!r.OK || r.Refault || r.StallNs != r.CPUNs) || r.CPUNs > r.StallNs || r.Activated && !r.Refault || r.Restored && !r.Activated {
						t.Fatalf("read of page %d: %+v", i, r)
					}
					if !r.OK {
						break
					}
				}
			},
			"touch": func(t *rapid.T) {
				pid := rapid.SampledFrom(pids).Draw(t, "pid")
				if !live(pid) {
					t.Skip("killed")
				}
				before, _ := m.Task(pid)
				r, err := m.TouchAnon(pid, rapid.Int64Range(0, 3000).Draw(t, "pages"))
				if err != nil {
					t.Fatal(err)
				}
				after, _ := m.Task(pid)
				// workingset_refault runs for every page read, the
				// readahead's (__read_swap_cache_async) included.
				if r.SwappedIn+r.ReadaheadHits > r.Touched || r.Activated > r.Refaults || r.Restored > r.Activated ||
					r.Refaults > r.SwappedIn+r.ReadAhead || r.IOWaitNs+r.CPUNs > r.StallNs ||
					after.RSSAnonPages+after.SwapEntries != before.RSSAnonPages+before.SwapEntries {
					t.Fatalf("touch %+v: rss+swap %d -> %d", r, before.RSSAnonPages+before.SwapEntries, after.RSSAnonPages+after.SwapEntries)
				}
			},
			"free": func(t *rapid.T) {
				pid := rapid.SampledFrom(pids).Draw(t, "pid")
				if err := m.FreeAnon(pid, rapid.Int64Range(1, 3000).Draw(t, "pages")); err != nil {
					t.Fatal(err)
				}
			},
			"kernel alloc": func(t *rapid.T) {
				order := rapid.SampledFrom([]int{0, 1, 3, 4, 9, 10}).Draw(t, "order")
				gfp := rapid.SampledFrom([]GFP{GFPKernel, GFPAtomic, GFPNowait}).Draw(t, "gfp")
				flags := rapid.SampledFrom([]GFPFlags{0, GFPNoRetry, GFPRetryMayFail, GFPAccount, GFPAccount | GFPNoRetry}).Draw(t, "flags")
				req := AllocRequest{Node: rapid.IntRange(0, 1).Draw(t, "node"), Order: order, GFP: gfp, Flags: flags,
					CPU: rapid.IntRange(-1, 2).Draw(t, "cpu"), Cgroup: rapid.SampledFrom([]string{"", "/c"}).Draw(t, "cgroup")}
				r, err := m.Alloc(req)
				if err != nil {
					t.Fatal(err)
				}
				if r.OOM != nil && (order > costlyOrder || flags&GFPRetryMayFail != 0 && r.OOM.Scope == "global") {
					t.Fatalf("%+v invoked the OOM killer: %+v", req, r.OOM)
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
						delete(mappings, pid)
					}
				}
			},
			"": func(t *rapid.T) {
				steps++
				check := checkMachine
				if tracked && steps%4 != 0 {
					check = checkTracked
				}
				if err := check(m); err != nil {
					t.Fatal(err)
				}
			},
		})
	})
}

// mapStep maps a region for a random task, with or without huge pages
// under a random defrag mode, and checks that the mapping is all there or
// not there at all.
func mapStep(t *rapid.T, m *Machine, pids []int64, mappings map[int64][]MappingID, live func(int64) bool) {
	pid := rapid.SampledFrom(pids).Draw(t, "pid")
	if !live(pid) {
		t.Skip("killed")
	}
	pages := rapid.SampledFrom([]int64{1, 7, HugePagePages, 2 * HugePagePages, HugePagePages + 3}).Draw(t, "pages")
	opts := MapOptions{
		Huge:     rapid.Bool().Draw(t, "huge"),
		Defrag:   THPDefrag(rapid.IntRange(0, int(THPDefragNever)).Draw(t, "defrag")),
		Madvised: rapid.Bool().Draw(t, "madvised"),
		NoOOM:    rapid.Bool().Draw(t, "no_oom"),
	}
	r, err := m.MapAnon(pid, rapid.IntRange(0, 1).Draw(t, "node"), pages, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK {
		if r.HugePages*HugePagePages+r.BasePages >= pages {
			t.Fatalf("failed map of %d pages got them all: %+v", pages, r)
		}
		return
	}
	res, sw, whole, err := m.MappingPages(pid, r.ID)
	if err != nil || res+sw != pages || whole > r.HugePages || r.HugePages*HugePagePages+r.BasePages != pages || !opts.Huge && r.HugePages > 0 {
		t.Fatalf("map of %d pages %+v: resident %d swapped %d whole %d, %v", pages, r, res, sw, whole, err)
	}
	mappings[pid] = append(mappings[pid], r.ID)
}

// offlineStep offlines node ni and checks the outcome against the state
// before: a node already offline, or the last one online, is refused; a
// refusal before migration changes nothing; success leaves the node
// empty with its movable pages moved and its page cache dropped.
func offlineStep(t *rapid.T, m *Machine, ni int) {
	before := snapshot(m)
	wasOnline, otherOnline := m.NodeOnline(ni), m.NodeOnline(1-ni)
	anon, mlocked, _ := m.nodes[ni].movableCounts()
	file := m.nodes[ni].filePages()
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
