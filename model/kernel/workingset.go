package kernel

// This file is workingset detection (mm/workingset.c, Linux 6.18, the
// classic two-list LRU): when reclaim evicts a page it leaves a shadow
// entry in the page's slot (the file's page cache slot, or the swap slot
// of an anonymous page) that records the eviction lruvec's
// nonresident_age; when the page faults back in, the distance that age
// has moved since is the number of evictions and activations in between,
// and a distance within the workingset size activates the refaulting
// page at once (workingset_refault, workingset_test_recent).
//
// The shadow keeps the full 64-bit age: the kernel packs it into an
// xarray value with the memcg id, node and workingset bit and, for
// machines of more than 2^36 pages, drops low bits (bucket_order), which
// the model's machines never need.

// shadow is a shadow entry (pack_shadow): the eviction lruvec's
// nonresident_age at eviction, which lruvec (the reclaim target's cgroup
// on the page's node), and whether the page was PG_workingset.
type shadow struct {
	eviction   uint64
	cg         int32
	node       int16
	workingset bool
	valid      bool
}

// pageSlot is where a page of a file or of a task's anonymous memory
// lives: a resident page (pfn >= 0), or none, with the shadow entry its
// eviction left when there is one. An anonymous page's swap slot is swp
// (0 for none: slot 0 is the swap header): a swapped-out page always
// has one, and a resident page has one while it is in the swap cache,
// with its swap-cache state in swf.
type pageSlot struct {
	pfn int64
	sh  shadow
	swp int32
	swf swapFlags
}

// Slot states besides a resident pfn.
const (
	// slotAbsent: not resident. For a file page, not cached (maybe with
	// a shadow); for an anonymous page, swapped out (with its shadow).
	slotAbsent int64 = -1
	// slotFreed: an anonymous slot the task freed (FreeAnon).
	slotFreed int64 = -2
)

// ageNonresident is workingset_age_nonresident: n evictions or
// activations on cgroup cg's lruvec of node ni age it and every
// ancestor's, since a page's LRU position counts in every group above
// it.
func (m *Machine) ageNonresident(ni, cg int, n uint64) {
	lv := m.nodes[ni].lru
	for c := cg; c >= 0; c = m.cgParent[c] {
		lv[c].nonresidentAge += n
	}
}

// workingsetEviction is workingset_eviction for a page of node ni being
// reclaimed by reclaim aimed at cgroup target (the root for global
// reclaim: mem_cgroup_lruvec(target_memcg, pgdat)): the shadow records
// the target lruvec's age, then the eviction ages it.
func (m *Machine) workingsetEviction(ni, target int, p *pageState) shadow {
	sh := shadow{eviction: m.nodes[ni].lru[target].nonresidentAge, cg: int32(target), node: int16(ni),
		workingset: p.flags&pgWorkingset != 0, valid: true}
	m.ageNonresident(ni, target, 1)
	return sh
}

// WorkingsetSizes are the eviction lruvec's list sizes that
// workingset_test_recent compares a refault distance with, and whether
// its cgroup may swap (mem_cgroup_get_nr_swap_pages > 0).
type WorkingsetSizes struct {
	LRU     [NumEvictableLRU]int64
	CanSwap bool
}

// RefaultIsRecent is the decision of workingset_test_recent: a refault
// distance (refault age minus eviction age) at most the workingset size
// activates. For a file page the workingset is the active file list,
// plus all anonymous pages when the cgroup may swap; for an anonymous
// page it is the file lists, plus the active anonymous list when the
// cgroup may swap. It returns the decision and the size.
func RefaultIsRecent(distance uint64, file bool, s WorkingsetSizes) (recent bool, workingsetSize int64) {
	size := s.LRU[ActiveFile]
	if !file {
		size += s.LRU[InactiveFile]
	}
	if s.CanSwap {
		size += s.LRU[ActiveAnon]
		if file {
			size += s.LRU[InactiveAnon]
		}
	}
	return distance <= uint64(size), size
}

// refaultResult is what workingset_refault decided for a page.
type refaultResult struct {
	refault, activate, restore bool
}

// workingsetRefault is workingset_refault for a page of type file being
// faulted back onto node ni in cgroup cg with the shadow sh: it counts
// the refault, and when the distance is recent it marks the page active
// (the caller adds it to the active list), ages cg's lruvec, counts the
// activation, and for a page that was in the workingset before eviction
// also restores PG_workingset, notes the IO cost (lru_note_cost_refault)
// and counts the restore.
func (m *Machine) workingsetRefault(ni, cg int, file bool, sh shadow, flags *pageFlags) refaultResult {
	if !sh.valid {
		return refaultResult{}
	}
	t := 0
	if file {
		t = 1
	}
	m.countEvent(WorkingsetRefaultAnon+VMEvent(t), cg, MemcgStatWorkingsetRefaultAnon+MemcgStatItem(t), 1)
	ev := &m.nodes[sh.node].lru[sh.cg]
	recent, _ := RefaultIsRecent(ev.nonresidentAge-sh.eviction, file, WorkingsetSizes{LRU: ev.hier, CanSwap: m.canSwap(int(sh.cg))})
	if !recent {
		return refaultResult{refault: true}
	}
	*flags |= pgActive
	m.ageNonresident(ni, cg, 1)
	m.countEvent(WorkingsetActivateAnon+VMEvent(t), cg, MemcgStatWorkingsetActivateAnon+MemcgStatItem(t), 1)
	for c := cg; c >= 0; c = m.cgParent[c] {
		m.nodes[ni].lru[c].activate[t]++
	}
	if !sh.workingset {
		return refaultResult{refault: true, activate: true}
	}
	*flags |= pgWorkingset
	m.noteCost(ni, cg, file, 1, 0)
	m.countEvent(WorkingsetRestoreAnon+VMEvent(t), cg, MemcgStatWorkingsetRestoreAnon+MemcgStatItem(t), 1)
	return refaultResult{refault: true, activate: true, restore: true}
}

// noteCost is lru_note_cost (lru_note_cost_unlock_irq): nrIO pages of IO
// weigh SWAP_CLUSTER_MAX each and rotations one, added to the type's cost
// of cgroup cg's lruvec on node ni and every ancestor's; a lruvec whose
// costs outgrow a quarter of its LRU pages halves both, so that recent
// costs weigh more.
func (m *Machine) noteCost(ni, cg int, file bool, nrIO, nrRotated int64) {
	cost := uint64(nrIO*swapClusterMax + nrRotated)
	if cost == 0 {
		return
	}
	for c := cg; c >= 0; c = m.cgParent[c] {
		v := &m.nodes[ni].lru[c]
		if file {
			v.fileCost += cost
		} else {
			v.anonCost += cost
		}
		size := uint64(v.hier[InactiveAnon] + v.hier[ActiveAnon] + v.hier[InactiveFile] + v.hier[ActiveFile])
		if v.fileCost+v.anonCost > size/4 {
			v.fileCost /= 2
			v.anonCost /= 2
		}
	}
}

// snapshotRefaults is snapshot_refaults at the end of a reclaim run
// aimed at cgroup target on node ni: the activations seen so far, which
// the next run's prepare_scan_control compares with.
func (m *Machine) snapshotRefaults(ni, target int) {
	v := &m.nodes[ni].lru[target]
	v.refaults = v.activate
}
