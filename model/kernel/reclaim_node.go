package kernel

// This file is reclaim's outer loops (mm/vmscan.c, Linux 6.18, the
// classic two-list LRU): do_try_to_free_pages for direct and memcg
// reclaim, kswapd's batches (balance_pgdat), shrink_node with
// prepare_scan_control, and shrink_lruvec. The lists themselves are
// worked in reclaim_list.go.

// reclaimResult is what one reclaim call achieved and cost.
type reclaimResult struct {
	reclaimed int64
	scanned   int64
	costNs    int64
}

// scanControl is struct scan_control: one reclaim run's target, who runs
// it, and what prepare_scan_control decided for the current node.
type scanControl struct {
	// target is nr_to_reclaim.
	target int64
	// root is the target cgroup (sc->target_mem_cgroup; 0, the root,
	// for global reclaim) and cgroupReclaim says it is memcg reclaim.
	root          int
	cgroupReclaim bool
	kswapd        bool
	// noSwap clears sc->may_swap (cgroup v1's memsw limit).
	noSwap bool
	// movable says the allocation is movable (__GFP_MOVABLE), for
	// allocstall's zone.
	movable bool
	// freeCPU is 1 + the CPU the reclaimer runs on, whose per-CPU lists
	// take the pages it frees (shrink_folio_list -> free_unref_folios);
	// 0 frees them straight to the buddy allocator (no CPU known, or a
	// machine without per-CPU lists). See setCPU.
	freeCPU  int
	priority int
	// forceDeactivate is set on do_try_to_free_pages' retry after a run
	// that reclaimed nothing while skipping active lists.
	forceDeactivate, skippedDeactivate bool
	// Set by prepareScanControl for each node.
	mayDeactivate         [2]bool // anon, file
	cacheTrim, fileIsTiny bool
	anonCost, fileCost    uint64
	res                   reclaimResult
}

// setCPU says the reclaimer runs on cpu (-1: unknown, or not placed),
// so the pages it frees join that CPU's per-CPU lists.
func (sc *scanControl) setCPU(cpu int) { sc.freeCPU = cpu + 1 }

// doTryToFreePages is do_try_to_free_pages: at each priority from
// DEF_PRIORITY down, shrink every node of nodes once (shrink_zones),
// until the target is met; then snapshot the refaults of every node.
// A run that reclaimed nothing because it skipped deactivating the
// active lists is retried once with forced deactivation. Global reclaim
// counts an allocstall per run (by the allocation's zone, gfp_zone).
func (m *Machine) doTryToFreePages(nodes []int, sc *scanControl) {
	for {
		if !sc.cgroupReclaim {
			ev := AllocstallMovable
			if !sc.movable {
				ev = AllocstallNormal
			}
			m.vmstat[ev]++
		}
		for sc.priority = DefPriority; sc.priority >= 0; sc.priority-- {
			for _, ni := range nodes {
				if !m.nodes[ni].offline {
					m.shrinkNode(ni, sc)
				}
			}
			if sc.res.reclaimed >= sc.target {
				break
			}
		}
		for _, ni := range nodes {
			m.snapshotRefaults(ni, sc.root)
		}
		if sc.res.reclaimed > 0 || !sc.skippedDeactivate {
			return
		}
		sc.forceDeactivate, sc.skippedDeactivate = true, false
	}
}

// shrinkNode is shrink_node for one priority: prepare_scan_control, then
// shrink_node_memcgs, which walks the cgroups of the target's subtree in
// pre-order (mem_cgroup_iter) and shrinks each one's lruvec on the node.
// Direct and memcg reclaim walk partially: they resume after the cgroup
// the previous walk on this node and target stopped at, and stop once
// the target is met; kswapd walks every cgroup.
func (m *Machine) shrinkNode(ni int, sc *scanControl) {
	m.prepareScanControl(ni, sc)
	order := m.cgPreorder()
	tv := &m.nodes[ni].lru[sc.root]
	start := 0
	if !sc.kswapd {
		start = tv.iterNext
	}
	for k := start; k < len(order); k++ {
		cg := order[k]
		if !m.inSubtree(cg, sc.root) {
			continue
		}
		m.shrinkLruvec(ni, cg, sc)
		if !sc.kswapd && sc.res.reclaimed >= sc.target {
			tv.iterNext = k + 1
			return
		}
	}
	if !sc.kswapd {
		tv.iterNext = 0 // the walk reached the end: the next one starts over
	}
}

// prepareScanControl is prepare_scan_control for node ni: the scan
// balance reads the target lruvec's costs; a type's active list may be
// deactivated when its inactive list is low or refaults were activated
// since the last run (a new workingset is forming); cache trim mode
// when there is inactive page cache to trim and the file list is not
// being deactivated; and, for global reclaim, file_is_tiny.
func (m *Machine) prepareScanControl(ni int, sc *scanControl) {
	n := m.nodes[ni]
	tv := &n.lru[sc.root]
	sc.anonCost, sc.fileCost = tv.anonCost, tv.fileCost
	for t := range 2 {
		inactive := InactiveAnon + 2*t
		sc.mayDeactivate[t] = sc.forceDeactivate || tv.activate[t] != tv.refaults[t] ||
			InactiveIsLow(tv.hier[inactive], tv.hier[inactive+1])
	}
	sc.cacheTrim = CacheTrimMode(uint64(tv.hier[InactiveFile]), sc.mayDeactivate[1], sc.priority)
	sc.fileIsTiny = false
	if !sc.cgroupReclaim {
		root := &n.lru[0]
		file := uint64(root.hier[InactiveFile] + root.hier[ActiveFile])
		sc.fileIsTiny = FileIsTiny(file, uint64(n.buddy.FreePages()), uint64(n.zone.Wmark.High),
			uint64(root.hier[InactiveAnon]), sc.mayDeactivate[0], sc.priority)
	}
}

// shrinkLruvec is shrink_lruvec: get_scan_count (ScanCount, with this
// lruvec's own list sizes and the target's costs) says how much of each
// list to scan, and the lists are worked in batches of SWAP_CLUSTER_MAX
// in enum lru_list order while the inactive anon, inactive file or
// active file scan lasts. Once this lruvec has given the target, the
// scan stops, except for global direct reclaim at DEF_PRIORITY, which
// scans all it was given (the kernel then trims the other type's scan in
// proportion; the model stops outright). Last, if swap exists and the
// inactive anon list is low, a batch of active anon is deactivated so
// that anon pages age even when only file pages are reclaimed.
func (m *Machine) shrinkLruvec(ni, cg int, sc *scanControl) {
	v := &m.nodes[ni].lru[cg]
	in := ScanInput{
		Swappiness:     m.cfg.Swappiness,
		CgroupReclaim:  sc.cgroupReclaim,
		MaySwap:        !sc.noSwap,
		CanReclaimAnon: m.canSwap(cg),
		Priority:       sc.priority,
		FileIsTiny:     sc.fileIsTiny,
		CacheTrimMode:  sc.cacheTrim,
		AnonCost:       sc.anonCost,
		FileCost:       sc.fileCost,
	}
	for lru := range in.LRU {
		in.LRU[lru] = uint64(v.lists[lru].n)
	}
	nr, _ := ScanCount(in)
	proportional := !sc.cgroupReclaim && !sc.kswapd && sc.priority == DefPriority
	var reclaimed int64
	for nr[InactiveAnon] > 0 || nr[ActiveFile] > 0 || nr[InactiveFile] > 0 {
		for lru := range nr {
			if nr[lru] > 0 {
				batch := min(nr[lru], swapClusterMax)
				nr[lru] -= batch
				reclaimed += m.shrinkList(ni, cg, lru, int64(batch), sc)
			}
		}
		if reclaimed >= sc.target && !proportional {
			break
		}
	}
	if m.cfg.SwapPages > 0 && InactiveIsLow(v.hier[InactiveAnon], v.hier[ActiveAnon]) {
		m.shrinkActiveList(ni, cg, ActiveAnon, swapClusterMax, sc)
	}
	if m.asyncWriteback() {
		// blk_finish_plug: the run's swap writes go to the device.
		m.submitWrites()
	}
}

// shrinkList is shrink_list: an active list is deactivated only when
// prepare_scan_control allowed it for the type (else the run notes that
// it skipped one); an inactive list is reclaimed.
func (m *Machine) shrinkList(ni, cg, lru int, nrToScan int64, sc *scanControl) int64 {
	if lru == ActiveAnon || lru == ActiveFile {
		if sc.mayDeactivate[typeOf(lru)] {
			m.shrinkActiveList(ni, cg, lru, nrToScan, sc)
		} else {
			sc.skippedDeactivate = true
		}
		return 0
	}
	return m.shrinkInactiveList(ni, cg, lru, nrToScan, sc)
}

// inSubtree reports whether cgroup cg is root or below it.
func (m *Machine) inSubtree(cg, root int) bool {
	for c := cg; c >= 0; c = m.cgParent[c] {
		if c == root {
			return true
		}
	}
	return false
}

// cgPreorder lists the cgroups in the pre-order of the cgroup tree
// (css_next_descendant_pre, children in creation order), as
// mem_cgroup_iter walks them.
func (m *Machine) cgPreorder() []int {
	if len(m.preorder) == len(m.cgPaths) {
		return m.preorder
	}
	children := make([][]int, len(m.cgPaths))
	for c := 1; c < len(m.cgPaths); c++ {
		children[m.cgParent[c]] = append(children[m.cgParent[c]], c)
	}
	m.preorder = m.preorder[:0]
	var walk func(int)
	walk = func(c int) {
		m.preorder = append(m.preorder, c)
		for _, k := range children[c] {
			walk(k)
		}
	}
	walk(0)
	return m.preorder
}

// reclaimablePages is zone_reclaimable_pages for node ni: file pages, and
// anonymous pages when swap has room.
func (m *Machine) reclaimablePages(ni int) int64 {
	n := m.nodes[ni]
	r := n.filePages()
	if m.swap.used < m.cfg.SwapPages {
		r += min(n.anonPages(), m.cfg.SwapPages-m.swap.used)
	}
	return r
}

// KswapdWanted reports whether node ni's kswapd has been woken (an
// allocation found the node below its low watermark) and not yet
// finished.
func (m *Machine) KswapdWanted(ni int) bool { return m.nodes[ni].kswapdWanted }

// kswapdRun is balance_pgdat's state across KswapdStep batches: the
// order the run was woken for (alloc_order), the order it still
// reclaims for (sc.order, which drops to 0 once a compaction gap has been
// reclaimed), and what the run has reclaimed.
type kswapdRun struct {
	running                  bool
	allocOrder, reclaimOrder int
	reclaimed                int64
}

// KswapdStep runs one batch of node ni's kswapd (balance_pgdat): age the
// anonymous lists (age_active_anon), then reclaim toward the high
// watermark, at most 4 * SWAP_CLUSTER_MAX pages, lowering the priority
// until the batch is met. A run woken for a high order reclaims until the
// node is balanced at that order or, since fragmentation may keep it
// from ever being, until it has reclaimed compact_gap(order) pages, then
// balances at order 0 (kswapd_shrink_node). It returns the simulated
// time the batch took and whether kswapd should run again; it goes back
// to sleep once the node is balanced or a batch reclaims nothing, and
// then snapshots the refaults as balance_pgdat does on its way out. A
// sleep at a balanced node resets compaction's skip hints
// (reset_isolation_suitable) and wakes kcompactd for the run's order
// (kswapd_try_to_sleep).
func (m *Machine) KswapdStep(ni int) (costNs int64, again bool) {
	n := m.nodes[ni]
	if !n.kswapdWanted || n.offline {
		return 0, false // asleep, or stopped with its node's memory (kswapd_stop)
	}
	m.stats.KswapdRuns++
	run := &n.kswapdRun
	if !run.running || n.kswapdOrder > run.allocOrder {
		*run = kswapdRun{running: true, allocOrder: n.kswapdOrder, reclaimOrder: n.kswapdOrder}
		m.setReclaimActive(ni, true)
	}
	deficit := n.zone.Wmark.High - n.buddy.FreePages()
	if m.kswapdBalanced(ni, run.reclaimOrder) {
		m.kswapdSleep(ni, true)
		return 0, false
	}
	target := deficit
	if run.reclaimOrder > 0 {
		target = max(deficit, CompactGap(run.reclaimOrder)-run.reclaimed)
	}
	sc := scanControl{target: min(target, 4*swapClusterMax), kswapd: true}
	sc.setCPU(n.kswapdCPU)
	m.ageActiveAnon(ni, &sc)
	for sc.priority = DefPriority; sc.priority >= 0 && sc.res.reclaimed < sc.target; sc.priority-- {
		m.shrinkNode(ni, &sc)
	}
	run.reclaimed += sc.res.reclaimed
	if run.reclaimOrder > 0 && run.reclaimed >= CompactGap(run.reclaimOrder) {
		run.reclaimOrder = 0
	}
	if sc.res.reclaimed == 0 || m.kswapdBalanced(ni, run.reclaimOrder) {
		m.kswapdSleep(ni, sc.res.reclaimed > 0)
		return sc.res.costNs, false
	}
	return max(sc.res.costNs, 1), true
}

// setReclaimActive sets or clears ZONE_RECLAIM_ACTIVE on node ni's zone,
// as balance_pgdat does around a kswapd run (set_reclaim_active,
// clear_reclaim_active): while it is set, every CPU's list of the zone
// keeps at most 4 batches before freeing to the buddy allocator
// (nr_pcp_high), so pages reclaim frees reach the free lists soon.
func (m *Machine) setReclaimActive(ni int, active bool) {
	for _, lists := range m.pcps {
		lists[ni].SetReclaimActive(active)
	}
}

// kswapdBalanced is prepare_kswapd_sleep's balance test: free pages at
// the high watermark for order 0 (the model's test since its first
// kswapd), pgdat_balanced for a higher order.
func (m *Machine) kswapdBalanced(ni, order int) bool {
	n := m.nodes[ni]
	if order == 0 {
		return n.buddy.FreePages() >= n.zone.Wmark.High
	}
	return m.pgdatBalanced(ni, order)
}

// kswapdSleep ends node ni's kswapd run (kswapd_try_to_sleep): the
// refaults are snapshotted; at a balanced node the skip hints are reset
// and kcompactd is woken for the run's order.
func (m *Machine) kswapdSleep(ni int, balanced bool) {
	n := m.nodes[ni]
	run := n.kswapdRun
	n.kswapdWanted, n.kswapdOrder, n.kswapdRun = false, 0, kswapdRun{}
	m.setReclaimActive(ni, false)
	m.snapshotRefaults(ni, 0)
	if balanced && m.kswapdBalanced(ni, run.reclaimOrder) {
		m.resetIsolationSuitable(ni)
		m.wakeupKcompactd(ni, run.allocOrder)
	}
}

// ageActiveAnon is age_active_anon: with swap (can_age_anon_pages),
// when the node's inactive anon list is low, every cgroup's lruvec on
// the node gets a batch of active anon deactivated.
func (m *Machine) ageActiveAnon(ni int, sc *scanControl) {
	root := &m.nodes[ni].lru[0]
	if m.cfg.SwapPages == 0 || !InactiveIsLow(root.hier[InactiveAnon], root.hier[ActiveAnon]) {
		return
	}
	for _, cg := range m.cgPreorder() {
		m.shrinkActiveList(ni, cg, ActiveAnon, swapClusterMax, sc)
	}
}
