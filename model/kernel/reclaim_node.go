package kernel

// reclaimResult is what one reclaim call achieved and cost.
type reclaimResult struct {
	reclaimed int64
	scanned   int64
	costNs    int64
}

// shrinkNode reclaims up to target pages from node ni the way shrink_node
// does: priority from DefPriority down to 0; at each priority every
// cgroup's lruvec in scope (all of them for global reclaim, in creation
// order as mem_cgroup_iter walks them) is scanned by its list sizes >>
// priority, split by ScanCount (get_scan_count); scanned file pages are
// dropped and anonymous pages written to swap. root < 0 means global
// reclaim; otherwise only root's subtree is reclaimed (memcg reclaim,
// where swappiness 0 means file only). The model has no active lists and
// no referenced bits, so every scanned page is reclaimed, and no
// writeback throttling.
func (m *Machine) shrinkNode(ni int, target int64, root int) reclaimResult {
	n := m.nodes[ni]
	var res reclaimResult
	for prio := DefPriority; prio >= 0 && res.reclaimed < target; prio-- {
		// prepare_scan_control looks at the reclaim target as a whole.
		file, anon := uint64(n.filePages), uint64(n.anonPages)
		if root >= 0 {
			file, anon = m.subtreePages(n, root)
		}
		tiny := root < 0 && FileIsTiny(file, uint64(n.buddy.FreePages()), uint64(n.zone.Wmark.High), anon, false, prio)
		trim := CacheTrimMode(file, false, prio)
		for cg := range n.lru {
			if res.reclaimed >= target {
				break
			}
			if root >= 0 && !m.inSubtree(cg, root) {
				continue
			}
			m.shrinkLruvec(ni, cg, prio, tiny, trim, root >= 0, target, &res)
		}
	}
	return res
}

// shrinkLruvec is shrink_lruvec at one priority for one cgroup on node ni.
func (m *Machine) shrinkLruvec(ni, cg, prio int, tiny, trim, cgroupReclaim bool, target int64, res *reclaimResult) {
	v := &m.nodes[ni].lru[cg]
	in := ScanInput{
		Swappiness:     m.cfg.Swappiness,
		CgroupReclaim:  cgroupReclaim,
		MaySwap:        true,
		CanReclaimAnon: m.canSwap(cg),
		Priority:       prio,
		FileIsTiny:     tiny,
		CacheTrimMode:  trim,
		AnonCost:       v.anonCost,
		FileCost:       v.fileCost,
		LRU:            [NumEvictableLRU]uint64{InactiveAnon: uint64(v.anonPages), InactiveFile: uint64(v.filePages)},
	}
	nr, _ := ScanCount(in)
	f := m.dropFile(ni, cg, min(int64(nr[InactiveFile]), target-res.reclaimed))
	res.reclaimed += f
	a := m.swapOut(ni, cg, min(int64(nr[InactiveAnon]), target-res.reclaimed))
	res.reclaimed += a
	res.scanned += f + a
	res.costNs += f*(m.cfg.Cost.ScanNsPerPage+m.cfg.Cost.DropFileNsPerPage) +
		a*(m.cfg.Cost.ScanNsPerPage+m.cfg.Cost.SwapOutNsPerPage)
	v.noteCost(uint64(a), uint64(f))
}

// subtreePages sums the file and anon pages of root's subtree on node n.
func (m *Machine) subtreePages(n *node, root int) (file, anon uint64) {
	for cg := range n.lru {
		if m.inSubtree(cg, root) {
			file += uint64(n.lru[cg].filePages)
			anon += uint64(n.lru[cg].anonPages)
		}
	}
	return file, anon
}

// inSubtree reports whether cgroup cg is root or below it.
func (m *Machine) inSubtree(cg, root int) bool {
	if root == 0 || cg == root {
		return true
	}
	p, r := m.cgPaths[cg], m.cgPaths[root]
	return len(p) > len(r) && p[:len(r)] == r && p[len(r)] == '/'
}

// noteCost adds reclaim work to the lruvec's cost history and ages it, as
// lru_note_cost: once the costs outgrow a quarter of the LRU, both halve.
func (v *lruvec) noteCost(anon, file uint64) {
	v.anonCost += anon
	v.fileCost += file
	if v.anonCost+v.fileCost > uint64(v.anonPages+v.filePages)/4 {
		v.anonCost /= 2
		v.fileCost /= 2
	}
}

// dropFile frees up to want of cgroup cg's oldest page-cache pages on node
// ni.
func (m *Machine) dropFile(ni, cg int, want int64) int64 {
	n := m.nodes[ni]
	v := &n.lru[cg]
	done := int64(0)
	for done < want {
		e, ok := v.file.pop()
		if !ok {
			break
		}
		if !n.live(e, pageFile) {
			continue
		}
		n.release(e.pfn)
		v.filePages--
		n.filePages--
		m.uncharge(cg, 1)
		done++
	}
	m.stats.PagesReclaimedFile += done
	return done
}

// swapOut writes up to want of cgroup cg's oldest anonymous pages on node
// ni to swap, while swap slots remain, and frees them.
func (m *Machine) swapOut(ni, cg int, want int64) int64 {
	n := m.nodes[ni]
	v := &n.lru[cg]
	done := int64(0)
	for done < want && m.canSwap(cg) {
		e, ok := v.anon.pop()
		if !ok {
			break
		}
		if !n.live(e, pageAnon) {
			continue
		}
		t := &m.tasks[n.page(e.pfn).owner-1]
		n.release(e.pfn)
		v.anonPages--
		n.anonPages--
		t.RSSAnonPages--
		t.SwapEntries++
		m.swapUsed++
		m.uncharge(cg, 1)
		m.chargeSwap(cg)
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
	if !n.kswapdWanted || n.offline {
		return 0, false // asleep, or stopped with its node's memory (kswapd_stop)
	}
	m.stats.KswapdRuns++
	deficit := n.zone.Wmark.High - n.buddy.FreePages()
	if deficit <= 0 {
		n.kswapdWanted = false
		return 0, false
	}
	res := m.shrinkNode(ni, min(deficit, 4*swapClusterMax), -1)
	if res.reclaimed == 0 || n.buddy.FreePages() >= n.zone.Wmark.High {
		n.kswapdWanted = false
		return res.costNs, false
	}
	return max(res.costNs, 1), true
}
