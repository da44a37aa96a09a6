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
// pages, every evictable page is on exactly one LRU list, the one its
// kind, cgroup and PG_active name, and no other page is on one, page
// flags are consistent (young only on anonymous pages, no flags off the
// LRU), every page and its owner's slot name each other, each lruvec's
// hierarchical sizes and each cgroup's memory.stat page lines equal the
// pages, the zones agree with memory hotplug (managed pages, watermarks
// and per-CPU list limits as vm.min_free_kbytes gives them), and every
// buddy allocator and the cgroup tree keep their own invariants.
//
// It costs O(pages + slots) and reuses one scratch buffer. It is for
// tests and `sbmpsim check`, never the allocation path.
func (m *Machine) CheckInvariants() error {
	if err := m.checkZones(); err != nil {
		return err
	}
	if err := m.checkLists(); err != nil {
		return err
	}
	var anon, file, mlocked, kernelPages, pcp int64
	cgStat := make([]MemcgStat, len(m.cgPaths))
	cgPages := make([]int64, len(m.cgPaths))
	taskPages := make([]int64, len(m.tasks))
	filePages := make([]int64, len(m.files))
	for ni, n := range m.nodes {
		if err := n.buddy.CheckInvariants(); err != nil {
			return fmt.Errorf("node %d: %w", ni, err)
		}
		var nAnon, nFile int64
		for i := range n.pages.len() {
			pv := n.pages.get(int32(i))
			p := &pv
			if err := m.checkPage(p, n.zone.StartPFN+int64(i)); err != nil {
				return fmt.Errorf("kernel: node %d pfn %d: %w", ni, n.zone.StartPFN+int64(i), err)
			}
			switch p.kind {
			case pageAnon:
				nAnon++
				if sl := m.tasks[p.owner-1].anon.vmas[p.vma].slots[p.idx]; sl.swf&swfUnmapped == 0 {
					taskPages[p.owner-1]++
					cgStat[p.cg][MemcgStatAnon]++
				}
			case pageMlocked:
				mlocked++
				taskPages[p.owner-1]++
				cgStat[p.cg][MemcgStatAnon]++
				cgStat[p.cg][MemcgStatUnevictable]++
			case pageFile:
				nFile++
				filePages[p.owner-1]++
				cgStat[p.cg][MemcgStatFile]++
			case pageKernel:
				kernelPages++
				if p.flags&pgKmem != 0 {
					cgStat[p.cg][MemcgStatKernel]++
				}
			}
			if p.kind == pageAnon || p.kind == pageMlocked || p.kind == pageFile || p.flags&pgKmem != 0 {
				cgPages[p.cg]++
			}
		}
		if nAnon != n.anonPages() || nFile != n.filePages() {
			return fmt.Errorf("kernel: node %d: page states say %d anon %d file, lists %d %d", ni, nAnon, nFile, n.anonPages(), n.filePages())
		}
		for cg := range n.lru {
			for lru := range NumEvictableLRU {
				cgStat[cg][MemcgStatInactiveAnon+MemcgStatItem(lru)] += n.lru[cg].lists[lru].n
			}
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
	if err := m.checkTasks(taskPages); err != nil {
		return err
	}
	for i, path := range m.cgPaths {
		c, _ := m.cgroups.Get(path)
		if c.LocalPages != cgPages[i] && c.LocalPages != cgPages[i]+c.StockPages {
			return fmt.Errorf("kernel: cgroup %s: charged %d (stock %d), holds %d pages", path, c.LocalPages, c.StockPages, cgPages[i])
		}
		for item := MemcgStatAnon; item <= MemcgStatUnevictable; item++ {
			if item == MemcgStatSwapcached {
				continue // checkSwap counts the swap cache
			}
			if c.StatLocal[item] != cgStat[i][item] {
				return fmt.Errorf("kernel: cgroup %s: memory.stat %s %d pages of its own, its pages say %d", path, item, c.StatLocal[item], cgStat[i][item])
			}
		}
	}
	if err := m.checkOwners(filePages); err != nil {
		return err
	}
	for _, check := range []func() error{m.checkSwap, m.cgroups.CheckInvariants, m.afterFullCheck} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// checkTasks asserts that each task's RSS matches the pages it owns
// (taskPages) and that its swap entries are not negative; the swap
// device's books are checkSwap's.
func (m *Machine) checkTasks(taskPages []int64) error {
	for i := range m.tasks {
		t := &m.tasks[i]
		if t.RSSAnonPages != taskPages[i] {
			return fmt.Errorf("kernel: task %d: rss %d, owns %d pages", t.PID, t.RSSAnonPages, taskPages[i])
		}
		if t.SwapEntries < 0 {
			return fmt.Errorf("kernel: task %d: %d swap entries", t.PID, t.SwapEntries)
		}
	}
	return nil
}

// checkPage asserts a page's flags fit its kind: an evictable page is on
// a list and may carry any LRU flag but young (and huge) only when
// anonymous, and its owner's slot names it; an mlocked page is named by its task's mlocked pages; a
// kernel page carries at most pgKmem; any other page is on no list and
// has no flags.
func (m *Machine) checkPage(p *pageState, pfn int64) error {
	switch p.kind {
	case pageAnon, pageFile:
		if p.flags&pgLRU == 0 {
			return fmt.Errorf("kind %d is on no LRU list", p.kind)
		}
		if p.flags&pgKmem != 0 {
			return fmt.Errorf("kind %d is marked kmem", p.kind)
		}
		var slots []pageSlot
		if p.kind == pageAnon {
			a := &m.tasks[p.owner-1].anon
			if p.vma < 0 || int(p.vma) >= len(a.vmas) || !a.vmas[p.vma].mapped {
				return fmt.Errorf("anonymous page of task %d in mapping %d, which does not exist", m.tasks[p.owner-1].PID, p.vma)
			}
			v := &a.vmas[p.vma]
			if c := int(p.idx) / HugePagePages; p.flags&pgHuge != 0 && (c >= len(v.thp) || !v.thp[c]) {
				return fmt.Errorf("page marked huge in mapping %d slot %d, whose huge page is not whole", p.vma, p.idx)
			}
			slots = v.slots
		} else {
			if p.flags&(pgYoung|pgHuge) != 0 {
				return fmt.Errorf("a page-cache page is young or huge (%#x), but no task maps page cache", p.flags)
			}
			slots = m.files[p.owner-1].slots
		}
		if p.idx < 0 || int(p.idx) >= len(slots) || slots[p.idx].pfn != pfn {
			return fmt.Errorf("kind %d of owner %d at mapping %d slot %d, which does not name it", p.kind, p.owner, p.vma, p.idx)
		}
		return nil
	case pageMlocked:
		if ml := m.tasks[p.owner-1].mlocked; p.idx < 0 || int(p.idx) >= len(ml) || ml[p.idx] != pfn {
			return fmt.Errorf("mlocked page of task %d at index %d, which does not name it", m.tasks[p.owner-1].PID, p.idx)
		}
	case pageKernel:
		if p.flags&^pgKmem != 0 {
			return fmt.Errorf("kernel page has flags %#x", p.flags)
		}
		if p.prev != noPage || p.next != noPage {
			return fmt.Errorf("kernel page has links %d %d", p.prev, p.next)
		}
		return nil
	}
	if p.flags != 0 || p.prev != noPage || p.next != noPage {
		return fmt.Errorf("kind %d has flags %#x, links %d %d", p.kind, p.flags, p.prev, p.next)
	}
	return nil
}

// checkZones asserts that each zone manages what its buddy allocator
// manages, that an offline node holds nothing and has no per-CPU pages or
// kswapd work, and that every zone's watermarks and per-CPU list limits
// are what vm.min_free_kbytes and the managed pages give.
func (m *Machine) checkZones() error {
	for ni, n := range m.nodes {
		if !n.offline {
			continue
		}
		for i := range n.pages.len() {
			if k := n.pages.get(int32(i)).kind; k != pageFree {
				return fmt.Errorf("kernel: offline node %d: pfn %d is in use (kind %d)", ni, n.zone.StartPFN+int64(i), k)
			}
		}
	}
	return m.checkZoneBooks()
}

// checkZoneBooks is checkZones but for the pages of offline nodes: what
// costs O(nodes x CPUs).
func (m *Machine) checkZoneBooks() error {
	zones := make([]Zone, len(m.nodes))
	for ni, n := range m.nodes {
		zones[ni] = n.zone
		if n.zone.ManagedPages != n.buddy.Managed() {
			return fmt.Errorf("kernel: node %d: zone manages %d pages, buddy %d", ni, n.zone.ManagedPages, n.buddy.Managed())
		}
		if !n.offline {
			continue
		}
		if n.zone.ManagedPages != 0 || n.zone.PresentPages != 0 || m.PCPPages(ni) != 0 || n.kswapdWanted || n.compact.kcompactdWanted {
			return fmt.Errorf("kernel: offline node %d: managed %d present %d pcp %d kswapd %v kcompactd %v", ni, n.zone.ManagedPages, n.zone.PresentPages, m.PCPPages(ni), n.kswapdWanted, n.compact.kcompactdWanted)
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
	n := int(last.zone.StartPFN) + last.pages.len()
	m.checkSeen = slices.Grow(m.checkSeen[:0], n)[:n]
	clear(m.checkSeen)
	return m.checkSeen
}
