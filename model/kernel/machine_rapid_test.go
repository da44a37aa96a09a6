package kernel

import (
	"fmt"
	"testing"

	"pgregory.net/rapid"
)

// checkMachine asserts the machine's books balance: every managed page is
// in exactly one place (buddy free lists, a per-CPU list, a task's
// anonymous or mlocked pages, the page cache, or the kernel), the
// page-state array agrees with the counters, each task's RSS matches the
// pages it owns, swap use matches the tasks' swap entries, and each
// cgroup's own charge covers its pages.
func checkMachine(m *Machine) error {
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

// TestMachineBooksBalance drives a small two-node machine with per-CPU
// lists, swap and cgroups through random faults, page-cache reads,
// mlocks, frees, kernel and atomic allocations, kswapd, OOM kills and
// reaps, and checks the books after every step.
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
		if err := m.AddCgroup("/c", CgroupLimits{MaxPages: 3000, HighPages: rapid.SampledFrom([]int64{0, 2500}).Draw(t, "high")}); err != nil {
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
