package kernel

import "fmt"

// This file moves a page to another frame (mm/migrate.c, Linux 6.18,
// migrate_pages for one folio): what compaction and memory offlining do
// to a movable page once they have a target.

// movePage is migrate_folio_move for the movable page at src to the
// allocated, unused frame dst (both in any node): the page's owner, slot,
// cgroup charge (mem_cgroup_migrate moves it, so no counter changes) and
// flags move with it (folio_migrate_flags: PG_active, PG_referenced,
// PG_workingset and the young bit); an anonymous or page-cache page joins
// the head of the same LRU list on dst's node (putback); the owner's slot
// (the task's mapping, the file, or the task's mlocked pages) now names
// dst; src goes back to the buddy allocator. A page of a whole huge page
// is split first (migration of a THP's base pages splits it). It counts
// pgmigrate_success.
func (m *Machine) movePage(src, dst int64) {
	fromNi, from := m.nodeOf(src)
	toNi, to := m.nodeOf(dst)
	p := from.page(src)
	if p.kind == pageAnon {
		m.splitHugePage(p)
	}
	old := *p
	switch old.kind {
	case pageAnon, pageFile:
		m.lruDel(fromNi, from.index(src))
	case pageMlocked:
	default:
		panic(fmt.Sprintf("kernel: migration of pfn %d, which is not movable (kind %d)", src, old.kind))
	}
	old = *p
	to.claim(dst, old.kind, old.owner, int(old.cg), old.vma, old.idx)
	switch old.kind {
	case pageAnon:
		to.page(dst).flags = old.flags
		m.lruAdd(toNi, to.index(dst))
		m.tasks[old.owner-1].anon.vmas[old.vma].slots[old.idx].pfn = dst
	case pageFile:
		to.page(dst).flags = old.flags
		m.lruAdd(toNi, to.index(dst))
		m.files[old.owner-1].slots[old.idx].pfn = dst
	case pageMlocked:
		m.tasks[old.owner-1].mlocked[old.idx] = dst
	}
	from.release(src)
	m.vmstat[PgmigrateSuccess]++
}
