package kernel

import "fmt"

// This file holds the LRU lists: per node and cgroup (the kernel's
// lruvec) an inactive and an active list of anonymous pages and of page
// cache (enum lru_list in include/linux/mmzone.h), the page flags reclaim
// reads (PG_referenced, PG_active, PG_workingset and the young bit of a
// mapped page's PTE), and the counters that follow the lists: the
// lruvec's list sizes, which are hierarchical as lruvec_page_state reads
// them for a memcg lruvec, and memory.stat's anon, file, active_*,
// inactive_* and unevictable lines.
//
// A list is intrusive, as struct folio's lru list_head is: each page
// holds its neighbours, so pages move between lists in O(1) and reclaim
// allocates nothing. New and rotated pages go to the head
// (lruvec_add_folio); reclaim isolates from the tail (lru_to_folio of
// isolate_lru_folios).

// pageFlags are the page flags of the LRU model.
type pageFlags uint8

const (
	// pgReferenced is PG_referenced: set by folio_mark_accessed on a
	// first access, and by folio_check_references for a page found
	// young.
	pgReferenced pageFlags = 1 << iota
	// pgActive is PG_active: the page is on its type's active list.
	pgActive
	// pgWorkingset is PG_workingset: the page was active before it was
	// deactivated (shrink_active_list), or before it was evicted and
	// refaulted back (workingset_refault). Eviction keeps it in the
	// shadow entry; a refault of such a page is a workingset restore.
	pgWorkingset
	// pgYoung is the accessed bit of the PTE that maps an anonymous
	// page: set by the access that faulted it in and by every later
	// touch, tested and cleared by folio_referenced.
	pgYoung
	// pgLRU is PG_lru: the page is on an LRU list (not isolated, not
	// free, not a kernel or mlocked page).
	pgLRU
	// pgHuge marks an anonymous page of a mapping's huge page that is
	// still whole (a THP folio the model keeps as base pages on the
	// LRU): compaction skips it as it skips a THP, and reclaim,
	// migration or munmap of one of its pages splits it first.
	pgHuge
	// pgKmem is PageMemcgKmem: a kernel page charged to its cgroup
	// (__GFP_ACCOUNT), uncharged when freed.
	pgKmem
)

// lruList is one LRU list: its youngest and oldest pages (node-relative
// indices, noPage when empty) and its length.
type lruList struct {
	head, tail int32
	n          int64
}

// lruvec is one cgroup's LRU lists on one node (struct lruvec).
type lruvec struct {
	lists [NumEvictableLRU]lruList
	// hier counts the pages on each list of this cgroup and its
	// descendants on this node: lruvec_page_state(lruvec, NR_LRU_BASE +
	// lru), which the memcg lruvec keeps hierarchically.
	hier [NumEvictableLRU]int64
	// anonCost and fileCost are the recent reclaim costs (lru_note_cost),
	// which also flow to every ancestor's lruvec.
	anonCost, fileCost uint64
	// nonresidentAge is lruvec->nonresident_age: evictions and
	// activations on this lruvec and its descendants' (see
	// ageNonresident).
	nonresidentAge uint64
	// activate counts WORKINGSET_ACTIVATE_ANON and _FILE of this cgroup
	// and its descendants on this node, and refaults is the snapshot
	// snapshot_refaults took of it when the last reclaim run ended.
	// prepare_scan_control deactivates a type whose count moved.
	activate, refaults [2]int64
	// iterNext is where the next partial walk of this lruvec's cgroup's
	// subtree starts, an index into cgPreorder (the position
	// mem_cgroup_iter keeps for reclaim on this node).
	iterNext int
}

func newLruvec() lruvec {
	v := lruvec{}
	for i := range v.lists {
		v.lists[i] = lruList{head: noPage, tail: noPage}
	}
	return v
}

// lruIndex is folio_lru_list for an evictable page: the list a page of
// kind with flags belongs on.
func lruIndex(kind pageKind, flags pageFlags) int {
	lru := InactiveAnon
	if kind == pageFile {
		lru = InactiveFile
	}
	if flags&pgActive != 0 {
		lru++
	}
	return lru
}

// isFileLRU is is_file_lru; typeOf gives the WORKINGSET_ANON / _FILE
// index of a list.
func isFileLRU(lru int) bool { return lru >= InactiveFile }

func typeOf(lru int) int {
	if isFileLRU(lru) {
		return 1
	}
	return 0
}

// listAdd puts page i at the head of l.
func (n *node) listAdd(l *lruList, i int32) {
	p := n.pages.at(i)
	if p.flags&pgLRU != 0 {
		panic(fmt.Sprintf("kernel: node page %d added to an LRU list twice", i))
	}
	n.touchLinks(i, l.head, noPage)
	p.prev, p.next = noPage, l.head
	p.flags |= pgLRU
	if l.head != noPage {
		n.pages.at(l.head).prev = i
	} else {
		l.tail = i
	}
	l.head = i
	l.n++
}

// listAddTail puts page i at the tail of l.
func (n *node) listAddTail(l *lruList, i int32) {
	p := n.pages.at(i)
	if p.flags&pgLRU != 0 {
		panic(fmt.Sprintf("kernel: node page %d added to an LRU list twice", i))
	}
	n.touchLinks(i, l.tail, noPage)
	p.prev, p.next = l.tail, noPage
	p.flags |= pgLRU
	if l.tail != noPage {
		n.pages.at(l.tail).next = i
	} else {
		l.head = i
	}
	l.tail = i
	l.n++
}

// listDel takes page i off l.
func (n *node) listDel(l *lruList, i int32) {
	p := n.pages.at(i)
	if p.flags&pgLRU == 0 {
		panic(fmt.Sprintf("kernel: node page %d taken off an LRU list it is not on", i))
	}
	n.touchLinks(p.prev, p.next, i)
	if p.prev != noPage {
		n.pages.at(p.prev).next = p.next
	} else {
		l.head = p.next
	}
	if p.next != noPage {
		n.pages.at(p.next).prev = p.prev
	} else {
		l.tail = p.prev
	}
	p.prev, p.next = noPage, noPage
	p.flags &^= pgLRU
	l.n--
}

// lruAdd is lruvec_add_folio: page i of node ni joins the head of the
// list its kind and flags name, in its cgroup's lruvec, and the list
// sizes and memory.stat follow.
func (m *Machine) lruAdd(ni int, i int32) {
	n := m.nodes[ni]
	p := n.pages.at(i)
	lru := lruIndex(p.kind, p.flags)
	n.listAdd(&n.lru[p.cg].lists[lru], i)
	m.lruSizeMod(ni, int(p.cg), lru, 1)
}

// lruAddTail is lruvec_add_folio_tail: as lruAdd, at the tail.
func (m *Machine) lruAddTail(ni int, i int32) {
	n := m.nodes[ni]
	p := n.pages.at(i)
	lru := lruIndex(p.kind, p.flags)
	n.listAddTail(&n.lru[p.cg].lists[lru], i)
	m.lruSizeMod(ni, int(p.cg), lru, 1)
}

// lruDel is lruvec_del_folio, the inverse of lruAdd.
func (m *Machine) lruDel(ni int, i int32) {
	n := m.nodes[ni]
	p := n.pages.at(i)
	lru := lruIndex(p.kind, p.flags)
	n.listDel(&n.lru[p.cg].lists[lru], i)
	m.lruSizeMod(ni, int(p.cg), lru, -1)
}

// lruSizeMod is update_lru_size: the hierarchical list sizes of cg and
// its ancestors on node ni, and memory.stat's line for the list.
func (m *Machine) lruSizeMod(ni, cg, lru int, delta int64) {
	n := m.nodes[ni]
	for c := cg; c >= 0; c = m.cgParent[c] {
		n.lru[c].hier[lru] += delta
	}
	// memory.stat lists inactive_anon, active_anon, inactive_file and
	// active_file in enum lru_list order.
	m.cgroups.modStatIdx(int32(cg), MemcgStatInactiveAnon+MemcgStatItem(lru), delta)
}

// setActive moves page i of node ni to the head of its type's active
// (on) or inactive (off) list.
func (m *Machine) setActive(ni int, i int32, on bool) {
	m.lruDel(ni, i)
	p := m.nodes[ni].pages.at(i)
	if on {
		p.flags |= pgActive
	} else {
		p.flags &^= pgActive
	}
	m.lruAdd(ni, i)
}
