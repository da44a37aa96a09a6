package kernel

// swapClusterMax is SWAP_CLUSTER_MAX, the pages one reclaim pass aims for.
const swapClusterMaxPages = 32

// reclaimResult is what one reclaim call achieved and cost.
type reclaimResult struct {
	reclaimed int64
	scanned   int64
	costNs    int64
}

// shrinkNode reclaims up to target pages from node n the way shrink_node
// does for global reclaim: priority from DefPriority down to 0, each pass
// scanning list >> priority split by ScanCount (get_scan_count), file
// pages dropped and anonymous pages written to swap. The model has no
// active lists and no referenced bits, so every scanned page is reclaimed
// (the scan is the reclaim), and no writeback throttling.
func (m *Machine) shrinkNode(ni int, target int64) reclaimResult {
	n := m.nodes[ni]
	var res reclaimResult
	for prio := DefPriority; prio >= 0 && res.reclaimed < target; prio-- {
		free := uint64(n.buddy.FreePages())
		file, anon := uint64(n.filePages), uint64(n.anonPages)
		in := ScanInput{
			Swappiness:     m.cfg.Swappiness,
			MaySwap:        true,
			CanReclaimAnon: m.swapUsed < m.cfg.SwapPages,
			Priority:       prio,
			FileIsTiny:     FileIsTiny(file, free, uint64(n.zone.Wmark.High), anon, false, prio),
			CacheTrimMode:  CacheTrimMode(file, false, prio),
			AnonCost:       n.anonCost,
			FileCost:       n.fileCost,
			LRU:            [NumEvictableLRU]uint64{InactiveAnon: anon, InactiveFile: file},
		}
		nr, _ := ScanCount(in)
		want := target - res.reclaimed
		f := m.dropFile(ni, min(int64(nr[InactiveFile]), want))
		res.reclaimed += f
		a := m.swapOut(ni, min(int64(nr[InactiveAnon]), target-res.reclaimed))
		res.reclaimed += a
		res.scanned += f + a
		res.costNs += f*(m.cfg.Cost.ScanNsPerPage+m.cfg.Cost.DropFileNsPerPag) +
			a*(m.cfg.Cost.ScanNsPerPage+m.cfg.Cost.SwapOutNsPerPage)
		m.noteCost(n, uint64(a), uint64(f))
	}
	return res
}

// noteCost adds reclaim work to the node's cost history and ages it, as
// lru_note_cost: once the costs outgrow a quarter of the LRU, both halve.
func (m *Machine) noteCost(n *node, anon, file uint64) {
	n.anonCost += anon
	n.fileCost += file
	if n.anonCost+n.fileCost > uint64(n.anonPages+n.filePages)/4 {
		n.anonCost /= 2
		n.fileCost /= 2
	}
}

// dropFile frees up to want of node ni's oldest page-cache pages.
func (m *Machine) dropFile(ni int, want int64) int64 {
	n := m.nodes[ni]
	done := int64(0)
	for done < want {
		e, ok := n.file.pop()
		if !ok {
			break
		}
		if !n.live(e, pageFile) {
			continue
		}
		n.release(e.pfn)
		n.filePages--
		done++
	}
	m.stats.PagesReclaimedFile += done
	return done
}

// swapOut writes up to want of node ni's oldest anonymous pages to swap,
// while swap slots remain, and frees them.
func (m *Machine) swapOut(ni int, want int64) int64 {
	n := m.nodes[ni]
	done := int64(0)
	for done < want && m.swapUsed < m.cfg.SwapPages {
		e, ok := n.anon.pop()
		if !ok {
			break
		}
		if !n.live(e, pageAnon) {
			continue
		}
		t := &m.tasks[n.page(e.pfn).owner-1]
		n.release(e.pfn)
		n.anonPages--
		t.RSSAnonPages--
		t.SwapEntries++
		m.swapUsed++
		done++
	}
	m.stats.PagesSwappedOut += done
	return done
}

// reclaimablePages is zone_reclaimable_pages for node ni: file pages, and
// anonymous pages when swap has room.
func (m *Machine) reclaimablePages(ni int) int64 {
	n := m.nodes[ni]
	r := n.filePages
	if m.swapUsed < m.cfg.SwapPages {
		r += min(n.anonPages, m.cfg.SwapPages-m.swapUsed)
	}
	return r
}

// KswapdWanted reports whether node ni's kswapd has been woken (an
// allocation found the node below its low watermark) and not yet
// finished.
func (m *Machine) KswapdWanted(ni int) bool { return m.nodes[ni].kswapdWanted }

// KswapdStep runs one batch of node ni's kswapd (balance_pgdat): reclaim
// toward the high watermark. It returns the simulated time the batch took
// and whether kswapd should run again; it goes back to sleep once the
// node is above high or nothing more can be reclaimed.
func (m *Machine) KswapdStep(ni int) (costNs int64, again bool) {
	n := m.nodes[ni]
	if !n.kswapdWanted {
		return 0, false
	}
	m.stats.KswapdRuns++
	deficit := n.zone.Wmark.High - n.buddy.FreePages()
	if deficit <= 0 {
		n.kswapdWanted = false
		return 0, false
	}
	res := m.shrinkNode(ni, min(deficit, 4*swapClusterMaxPages))
	if res.reclaimed == 0 || n.buddy.FreePages() >= n.zone.Wmark.High {
		n.kswapdWanted = false
		return res.costNs, false
	}
	return max(res.costNs, 1), true
}
