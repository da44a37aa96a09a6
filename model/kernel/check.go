package kernel

import (
	"fmt"
	"slices"
)

// CheckInvariants asserts the machine's books balance and returns the
// first broken invariant, or nil: every managed page is in exactly one
// place (buddy free lists, a per-CPU list, a task's anonymous or mlocked
// pages, the page cache, or the kernel), the page-state array agrees with
// the counters, each task's RSS matches the pages it owns, swap use
// matches the tasks' swap entries, each cgroup's own charge covers its
// pages, every LRU page is on its cgroup's list on its node and every
// task page on its task's list, the zones agree with memory hotplug
// (managed pages, watermarks and per-CPU list limits as
// vm.min_free_kbytes gives them), and every buddy allocator and the
// cgroup tree keep their own invariants.
//
// It costs O(pages + list entries) and reuses one scratch buffer. It is
// for tests and `sbmpsim check`, never the allocation path.
func (m *Machine) CheckInvariants() error {
	if err := m.checkZones(); err != nil {
		return err
	}
	if err := m.checkLists(); err != nil {
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
			return fmt.Errorf("kernel: node %d: page states say %d anon %d file, counters %d %d", ni, nAnon, nFile, n.anonPages, n.filePages)
		}
		anon += nAnon
		file += nFile
		pcp += m.PCPPages(ni)
		used := nAnon + nFile + n.buddy.FreePages() + m.PCPPages(ni)
		if used > n.zone.ManagedPages {
			return fmt.Errorf("kernel: node %d: %d pages accounted, %d managed", ni, used, n.zone.ManagedPages)
		}
	}
	var managed, free int64
	for _, n := range m.nodes {
		managed += n.zone.ManagedPages
		free += n.buddy.FreePages()
	}
	if got := anon + file + mlocked + kernelPages + pcp + free; got != managed {
		return fmt.Errorf("kernel: anon %d + file %d + mlocked %d + kernel %d + pcp %d + free %d = %d, managed %d", anon, file, mlocked, kernelPages, pcp, free, got, managed)
	}
	var swap int64
	for i := range m.tasks {
		t := &m.tasks[i]
		if t.RSSAnonPages != taskPages[i] {
			return fmt.Errorf("kernel: task %d: rss %d, owns %d pages", t.PID, t.RSSAnonPages, taskPages[i])
		}
		if t.SwapEntries < 0 {
			return fmt.Errorf("kernel: task %d: %d swap entries", t.PID, t.SwapEntries)
		}
		swap += t.SwapEntries
	}
	if swap != m.swapUsed || m.swapUsed > m.cfg.SwapPages {
		return fmt.Errorf("kernel: swap used %d, tasks' entries %d, device %d", m.swapUsed, swap, m.cfg.SwapPages)
	}
	for i, path := range m.cgPaths {
		c, _ := m.cgroups.Get(path)
		if c.LocalPages != cgPages[i] && c.LocalPages != cgPages[i]+c.StockPages {
			return fmt.Errorf("kernel: cgroup %s: charged %d (stock %d), holds %d pages", path, c.LocalPages, c.StockPages, cgPages[i])
		}
	}
	return m.cgroups.CheckInvariants()
}

// checkZones asserts that each zone manages what its buddy allocator
// manages, that an offline node holds nothing and has no per-CPU pages or
// kswapd work, and that every zone's watermarks and per-CPU list limits
// are what vm.min_free_kbytes and the managed pages give.
func (m *Machine) checkZones() error {
	zones := make([]Zone, len(m.nodes))
	for ni, n := range m.nodes {
		zones[ni] = n.zone
		if n.zone.ManagedPages != n.buddy.Managed() {
			return fmt.Errorf("kernel: node %d: zone manages %d pages, buddy %d", ni, n.zone.ManagedPages, n.buddy.Managed())
		}
		if !n.offline {
			continue
		}
		if n.zone.ManagedPages != 0 || n.zone.PresentPages != 0 || m.PCPPages(ni) != 0 || n.kswapdWanted {
			return fmt.Errorf("kernel: offline node %d: managed %d present %d pcp %d kswapd %v", ni, n.zone.ManagedPages, n.zone.PresentPages, m.PCPPages(ni), n.kswapdWanted)
		}
		for i := range n.pages {
			if n.pages[i].kind != pageFree {
				return fmt.Errorf("kernel: offline node %d: pfn %d is in use (kind %d)", ni, n.zone.StartPFN+int64(i), n.pages[i].kind)
			}
		}
	}
	if err := SetupWatermarks(zones, m.cfg.MinFreeKbytes, m.cfg.WatermarkScaleFactor); err != nil {
		return err
	}
	for ni, n := range m.nodes {
		if n.zone.Wmark != zones[ni].Wmark {
			return fmt.Errorf("kernel: node %d: watermarks %+v, min_free_kbytes %d gives %+v", ni, n.zone.Wmark, m.cfg.MinFreeKbytes, zones[ni].Wmark)
		}
		if len(m.pcps) == 0 {
			continue
		}
		want := m.pagesetConfig(ni)
		for cpu := range m.pcps {
			if got := m.pcps[cpu][ni].Config(); got != want {
				return fmt.Errorf("kernel: cpu %d node %d: pcp limits %+v, want %+v", cpu, ni, got, want)
			}
		}
	}
	return nil
}

// seenScratch returns m's check scratch as a cleared flag per pfn of the
// machine (nodes are numbered from pfn 0 without gaps).
func (m *Machine) seenScratch() []bool {
	last := m.nodes[len(m.nodes)-1]
	n := int(last.zone.StartPFN) + len(last.pages)
	m.checkSeen = slices.Grow(m.checkSeen[:0], n)[:n]
	clear(m.checkSeen)
	return m.checkSeen
}

// checkLists asserts that every anonymous and page-cache page has exactly
// one live entry on its cgroup's LRU list of its node, that every
// evictable anonymous page has exactly one live entry on its owner's
// list, every mlocked page is on its owner's mlocked list once, and that
// each lruvec's counters match its pages.
func (m *Machine) checkLists() error {
	seen := m.seenScratch()
	for ni, n := range m.nodes {
		lruSeen := seen[n.zone.StartPFN : n.zone.StartPFN+int64(len(n.pages))]
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
						return fmt.Errorf("kernel: node %d cgroup %d: pfn %d listed twice or under another cgroup", ni, cg, e.pfn)
					}
					lruSeen[i] = true
					live++
				}
				if live != l.pages {
					return fmt.Errorf("kernel: node %d cgroup %d: %d live entries of kind %d, counter %d", ni, cg, live, l.kind, l.pages)
				}
			}
		}
		for i := range n.pages {
			if k := n.pages[i].kind; (k == pageAnon || k == pageFile) && !lruSeen[i] {
				return fmt.Errorf("kernel: node %d: pfn %d (kind %d) is on no LRU list", ni, n.zone.StartPFN+int64(i), k)
			}
		}
	}
	return m.checkTaskLists()
}

// checkTaskLists asserts that each task's anonymous and mlocked lists
// name exactly the pages it owns.
func (m *Machine) checkTaskLists() error {
	seen := m.seenScratch()
	owned := make([]int64, len(m.tasks))
	for s := range m.tasks {
		t := &m.tasks[s]
		for _, e := range t.anon {
			_, n := m.nodeOf(e.pfn)
			if !n.live(e, pageAnon) {
				continue
			}
			i := e.pfn - n.zone.StartPFN
			if seen[e.pfn] || n.pages[i].owner != int32(s+1) {
				return fmt.Errorf("kernel: task %d: anon pfn %d listed twice or owned by slot %d", t.PID, e.pfn, n.pages[i].owner-1)
			}
			seen[e.pfn] = true
			owned[s]++
		}
		for _, pfn := range t.mlocked {
			_, n := m.nodeOf(pfn)
			i := pfn - n.zone.StartPFN
			if seen[pfn] || n.pages[i].kind != pageMlocked || n.pages[i].owner != int32(s+1) {
				return fmt.Errorf("kernel: task %d: mlocked pfn %d listed twice or not its mlocked page", t.PID, pfn)
			}
			seen[pfn] = true
			owned[s]++
		}
	}
	for s := range m.tasks {
		if owned[s] != m.tasks[s].RSSAnonPages {
			return fmt.Errorf("kernel: task %d: lists name %d pages, rss %d", m.tasks[s].PID, owned[s], m.tasks[s].RSSAnonPages)
		}
	}
	return nil
}
