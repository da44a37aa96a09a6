package kernel

// This file is kcompactd, the per-node compaction thread (mm/compaction.c,
// Linux 6.18): woken by kswapd when it has balanced a node for a
// high-order request (wakeup_kcompactd from kswapd_try_to_sleep), or by
// wakeup_kswapd when the node is balanced but fragmented; and, every
// HPAGE_FRAG_CHECK_INTERVAL_MSEC, proactive compaction by
// vm.compaction_proactiveness. The simulation schedules it: KcompactdStep
// when KcompactdWanted, ProactiveCompactStep every
// ProactiveCheckIntervalNs.

// wakeupKcompactd is wakeup_kcompactd for node ni: kcompactd notes the
// order and, asleep, wakes if the node is suitable for compaction at it.
func (m *Machine) wakeupKcompactd(ni, order int) {
	if order == 0 {
		return
	}
	c := &m.nodes[ni].compact
	c.kcompactdMaxOrder = max(c.kcompactdMaxOrder, order)
	if c.kcompactdWanted || !m.kcompactdNodeSuitable(ni) {
		return
	}
	c.kcompactdWanted = true
}

// kcompactdNodeSuitable is kcompactd_node_suitable:
// compaction_suit_allocation_order at the min watermark says continue.
func (m *Machine) kcompactdNodeSuitable(ni int) bool {
	c := &m.nodes[ni].compact
	return m.compactionSuitAllocationOrder(ni, c.kcompactdMaxOrder, AllocWmarkMin, false) == CompactResultContinue
}

// KcompactdWanted reports whether node ni's kcompactd has been woken and
// has work (kcompactd_work_requested for a high-order wake-up).
func (m *Machine) KcompactdWanted(ni int) bool { return m.nodes[ni].compact.kcompactdWanted }

// KcompactdStep runs node ni's kcompactd once (kcompactd_do_work):
// unless compaction of the order is deferred or not suitable, the zone
// is compacted (MIGRATE_SYNC_LIGHT, with the skip hints, for a
// GFP_KERNEL request of kcompactd_max_order); success resets the
// deferral, a run whose scanners met drains the per-CPU lists and defers
// compaction. It counts compact_daemon_wake and kcompactd's scan
// counters, and returns the simulated time the work took. kcompactd then
// sleeps until woken again: again is always false.
func (m *Machine) KcompactdStep(ni int) (costNs int64, again bool) {
	n := m.nodes[ni]
	c := &n.compact
	if !c.kcompactdWanted || n.offline {
		return 0, false
	}
	c.kcompactdWanted = false
	m.vmstat[CompactDaemonWake]++
	order := c.kcompactdMaxOrder
	c.kcompactdMaxOrder, c.proactiveSkip = 0, 0
	if c.deferral.Deferred(order) || m.compactionSuitAllocationOrder(ni, order, AllocWmarkMin, false) != CompactResultContinue {
		return 0, false
	}
	cc := compactControl{ni: ni, order: order, mt: MigrateUnmovable, flags: AllocWmarkMin, mode: migrateSyncLight}
	switch status := m.compactZone(&cc); status {
	case CompactResultSuccess:
		c.deferral.Reset(order, false)
	case CompactResultPartialSkipped, CompactResultComplete:
		m.drainAllPages()
		c.deferral.Defer(order)
	}
	m.vmstat[CompactDaemonMigrateScanned] += cc.migrateScanned
	m.vmstat[CompactDaemonFreeScanned] += cc.freeScanned
	costNs = m.compactCost(&cc)
	m.stats.KcompactdNs += costNs
	return costNs, false
}

// ProactiveCompactStep is kcompactd's timeout path, which runs every
// HPAGE_FRAG_CHECK_INTERVAL_MSEC (500 ms) on node ni: with
// vm.compaction_proactiveness set and kswapd asleep, a node whose
// fragmentation score exceeds the high mark is compacted whole
// (compact_node: MIGRATE_SYNC_LIGHT, skip hints ignored) until the score
// is down to the low mark; if the score did not fall, kcompactd sleeps
// through the next 63 checks (its timeout grows to 500 ms <<
// COMPACT_MAX_DEFER_SHIFT). It returns the simulated time the work took.
// kcompactd's own wake-ups reset the timeout (KcompactdStep).
func (m *Machine) ProactiveCompactStep(ni int) (costNs int64) {
	n := m.nodes[ni]
	c := &n.compact
	if n.offline || m.compaction.Proactiveness == 0 {
		return 0
	}
	if c.proactiveSkip > 0 {
		c.proactiveSkip--
		return 0
	}
	_, high := FragmentationScoreWmarks(m.compaction.Proactiveness, m.compaction.ProactivenessLeeway)
	prev := m.FragmentationScore(ni)
	if n.kswapdWanted || prev <= high {
		return 0 // should_proactive_compact_node
	}
	cc := compactControl{ni: ni, order: -1, mt: MigrateUnmovable, mode: migrateSyncLight, ignoreSkip: true,
		wholeZone: true, proactive: true}
	m.compactZone(&cc)
	m.vmstat[CompactDaemonMigrateScanned] += cc.migrateScanned
	m.vmstat[CompactDaemonFreeScanned] += cc.freeScanned
	if m.FragmentationScore(ni) >= prev {
		c.proactiveSkip = 1<<CompactMaxDeferShift - 1
	}
	costNs = m.compactCost(&cc)
	m.stats.KcompactdNs += costNs
	return costNs
}

// FragmentationScore is fragmentation_score_node of node ni: its zone's
// external fragmentation for the huge page order (extfrag_for_order,
// the percentage of free pages in blocks smaller than 2 MiB), weighted by
// the zone's share of the node's present pages
// (fragmentation_score_zone_weighted: score * present / (node present +
// 1), so one zone's score of s reads s - 1 for s > 0).
func (m *Machine) FragmentationScore(ni int) int {
	n := m.nodes[ni]
	if !n.zone.Populated() {
		return 0
	}
	score := int64(ExtfragForOrder(n.buddy.nrFreeArray(), HugePageOrder))
	return int(score * n.zone.PresentPages / (n.zone.PresentPages + 1))
}
