package kernel

import (
	"fmt"
	"math"
)

// This file is the page cache: files whose pages are read with read(2)
// (filemap_read), so that a page is cached or not, found again by a
// later read, marked accessed on every read (folio_mark_accessed), and
// leaves a shadow entry in its slot when reclaim drops it, which a later
// miss on the same page turns into a refault (workingset_refault).
// The model's page cache is clean and unmapped: no task maps a file, no
// page is dirty, so reclaim drops pages without writeback and no PTE
// ever references one.

// FileID names a file of the machine (AddFile).
type FileID int32

// fileState is a file's page cache (its address_space's i_pages): a
// slot per page, resident or not, with the shadow entry of the page's
// last eviction. A file holds at most one shadow per page, which bounds
// what the kernel bounds with the shadow-node shrinker
// (count_shadow_nodes).
type fileState struct {
	slots  []pageSlot
	cached int64
	// own marks a task's own file (AllocFile), whose pages are read once
	// and never again: an evicted page's slot goes on recycle, and the
	// next AllocFile read reuses it, shadow dropped, so that the file
	// grows only to the most pages it had cached at once.
	own     bool
	recycle []int32
}

// evict replaces resident page idx of the file with shadow sh.
func (f *fileState) evict(idx int32, sh shadow) {
	s := &f.slots[idx]
	if s.pfn < 0 {
		panic(fmt.Sprintf("kernel: eviction of file page %d, which is not cached", idx))
	}
	s.pfn, s.sh = slotAbsent, sh
	f.cached--
	if f.own {
		f.recycle = append(f.recycle, idx)
	}
}

// nextOwnSlot returns the slot AllocFile reads next in an own file: a
// recycled one, its shadow dropped, or a new one at the end.
func (f *fileState) nextOwnSlot() (int32, error) {
	if k := len(f.recycle); k > 0 {
		idx := f.recycle[k-1]
		f.recycle = f.recycle[:k-1]
		f.slots[idx] = pageSlot{pfn: slotAbsent}
		return idx, nil
	}
	if len(f.slots) >= math.MaxInt32 {
		return 0, fmt.Errorf("kernel: AllocFile: the task's file is full")
	}
	f.slots = append(f.slots, pageSlot{pfn: slotAbsent})
	return int32(len(f.slots) - 1), nil
}

// AddFile creates a file of pages pages, none of them cached, and
// returns its id. Its pages are charged to the cgroup of the task that
// reads them in (the kernel charges a page-cache page to the memcg of
// the task whose read allocates it).
func (m *Machine) AddFile(pages int64) (FileID, error) {
	if pages < 0 || pages > math.MaxInt32 {
		return 0, fmt.Errorf("kernel: AddFile of %d pages (0..%d)", pages, math.MaxInt32)
	}
	if len(m.files) >= math.MaxInt32-1 {
		return 0, fmt.Errorf("kernel: AddFile: too many files")
	}
	m.files = append(m.files, fileState{slots: make([]pageSlot, pages)})
	for i := range m.files[len(m.files)-1].slots {
		m.files[len(m.files)-1].slots[i].pfn = slotAbsent
	}
	return FileID(len(m.files) - 1), nil
}

// FilePages returns a file's size and how many of its pages are cached.
func (m *Machine) FilePages(f FileID) (pages, cached int64, err error) {
	if f < 0 || int(f) >= len(m.files) {
		return 0, 0, fmt.Errorf("kernel: no file %d", f)
	}
	return int64(len(m.files[f].slots)), m.files[f].cached, nil
}

// FileRead is what one ReadFile did.
type FileRead struct {
	// Hit is set when the page was cached. Otherwise it was read from
	// disk, if OK.
	Hit bool
	// OK is set when the page is cached after the read: a hit, or a
	// miss whose page could be charged and allocated.
	OK bool
	// Refault is set when the miss found a shadow entry
	// (workingset_refault ran); Activated when the refault distance was
	// within the workingset, so the page went to the active list;
	// Restored when the page had been active before it was evicted.
	Refault, Activated, Restored bool
	// Node is the node holding the page (when OK).
	Node int
	// StallNs is the reader's time: reclaim for the new page, the disk
	// read of a miss and the CPU time of the read. CPUNs is the last
	// part, which PSI does not count as a stall.
	StallNs, CPUNs int64
	// OOM is the OOM kill the miss's allocation or charge invoked, if
	// any; the page is then not cached.
	OOM *OOMEvent
}

// ReadFile has task pid read page index of file f with read(2)
// (filemap_read). A cached page is marked accessed (folio_mark_accessed:
// a first access sets PG_referenced, a second one on the inactive list
// activates the page). A miss charges the task's cgroup and allocates a
// page on prefNode's zonelist as AllocFile does (memcg reclaim, direct
// reclaim, the OOM killer), runs workingset_refault with the slot's
// shadow entry if there is one, adds the page to the active list if the
// refault activated it and to the inactive list otherwise
// (filemap_add_folio), costs a disk read (ReclaimCost.ReadNsPerPage)
// and the CPU time around it (ReadCPUNsPerPage; a hit costs ReadHitNs),
// and marks the page accessed, as the read that follows does. Page
// cache belongs to no task's RSS.
func (m *Machine) ReadFile(pid int64, f FileID, index int64, prefNode int) (FileRead, error) {
	s, ok := m.slot[pid]
	if !ok {
		return FileRead{}, fmt.Errorf("%w: %d", ErrNoTask, pid)
	}
	if m.tasks[s].killed {
		return FileRead{}, fmt.Errorf("kernel: task %d was OOM-killed", pid)
	}
	if f < 0 || int(f) >= len(m.files) {
		return FileRead{}, fmt.Errorf("kernel: ReadFile: no file %d", f)
	}
	if index < 0 || index >= int64(len(m.files[f].slots)) {
		return FileRead{}, fmt.Errorf("kernel: ReadFile: page %d of file %d, which has %d", index, f, len(m.files[f].slots))
	}
	if prefNode < 0 || prefNode >= len(m.nodes) {
		return FileRead{}, fmt.Errorf("kernel: ReadFile: node %d of %d", prefNode, len(m.nodes))
	}
	if pfn := m.files[f].slots[index].pfn; pfn >= 0 {
		ni, n := m.nodeOf(pfn)
		m.markAccessed(ni, n.index(pfn))
		hit := m.cfg.Cost.ReadHitNs
		m.spend(hit)
		return FileRead{Hit: true, OK: true, Node: ni, StallNs: hit, CPUNs: hit}, nil
	}
	return m.readMiss(s, f, int32(index), prefNode), nil
}

// readMiss reads page idx of file f into the page cache for task slot s.
func (m *Machine) readMiss(s int, f FileID, idx int32, prefNode int) FileRead {
	t := &m.tasks[s]
	var r FileRead
	charged, stall, oom := m.chargeUser(s, false)
	r.StallNs += stall
	if !charged {
		r.OOM = oom
		return r
	}
	a, err := m.Alloc(AllocRequest{PID: t.PID, Node: prefNode, GFP: GFPUser, CPU: t.cpu})
	if err != nil {
		panic("kernel: " + err.Error()) // ReadFile checked the node
	}
	r.StallNs += a.StallNs
	if !a.OK {
		m.uncharge(t.cg, 1)
		r.OOM = a.OOM
		return r
	}
	ni, n := m.nodeOf(a.PFN)
	fs := &m.files[f]
	n.claim(a.PFN, pageFile, int32(f)+1, t.cg, 0, idx)
	p := n.page(a.PFN)
	rr := m.workingsetRefault(ni, t.cg, true, fs.slots[idx].sh, &p.flags)
	fs.slots[idx] = pageSlot{pfn: a.PFN}
	fs.cached++
	m.cgroups.modStatIdx(int32(t.cg), MemcgStatFile, 1)
	i := n.index(a.PFN)
	m.lruAdd(ni, i)
	m.markAccessed(ni, i)
	r.OK, r.Node = true, ni
	r.Refault, r.Activated, r.Restored = rr.refault, rr.activate, rr.restore
	r.CPUNs = m.cfg.Cost.ReadCPUNsPerPage
	r.StallNs += m.cfg.Cost.ReadNsPerPage + r.CPUNs
	m.spend(m.cfg.Cost.ReadNsPerPage + r.CPUNs)
	return r
}

// markAccessed is folio_mark_accessed for page-cache page i of node ni:
// inactive unreferenced -> inactive referenced -> active unreferenced
// (counting pgactivate and ageing the lruvec, workingset_activation) ->
// active referenced.
func (m *Machine) markAccessed(ni int, i int32) {
	p := m.nodes[ni].pages.at(i)
	switch {
	case p.flags&pgReferenced == 0:
		p.flags |= pgReferenced
		m.nodes[ni].touch(i)
	case p.flags&pgActive == 0:
		m.setActive(ni, i, true)
		p.flags &^= pgReferenced
		m.countEvent(Pgactivate, int(p.cg), MemcgStatPgactivate, 1)
		m.ageNonresident(ni, int(p.cg), 1)
	}
}

// AllocFile reads n more pages into the page cache on behalf of task
// pid: new pages of a file of the task's own, read once (a task's
// start-up read of its binary and data). The file keeps no shadow
// entries: an evicted page's slot is reused by a later AllocFile.
// Each page is a ReadFile miss. It stops at the first page it cannot get
// and returns how many it got, the stall of the charges and allocations
// (memcg and direct reclaim) and the disk reads, and the OOM kill that
// stopped it, if any.
func (m *Machine) AllocFile(pid int64, prefNode int, n int64) (got int64, stallNs int64, oom *OOMEvent, err error) {
	s, ok := m.slot[pid]
	if !ok {
		return 0, 0, nil, fmt.Errorf("%w: %d", ErrNoTask, pid)
	}
	if m.tasks[s].ownFile < 0 {
		f, err := m.AddFile(0)
		if err != nil {
			return 0, 0, nil, err
		}
		m.tasks[s].ownFile = f
		m.files[f].own = true
	}
	f := m.tasks[s].ownFile
	for got < n {
		idx, err := m.files[f].nextOwnSlot()
		if err != nil {
			return got, stallNs, nil, err
		}
		r, err := m.ReadFile(pid, f, int64(idx), prefNode)
		if err != nil {
			return got, stallNs, nil, err
		}
		stallNs += r.StallNs
		if !r.OK {
			fs := &m.files[f]
			fs.recycle = append(fs.recycle, idx)
			return got, stallNs, r.OOM, nil
		}
		got++
	}
	return got, stallNs, nil, nil
}
