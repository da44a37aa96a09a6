package kernel

import (
	"bytes"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"unsafe"
)

// This file is the incremental form of CheckInvariants (see "Checking
// what changed" in doc.go): TrackTouched makes the machine record the
// pages its operations touch, CheckTouched checks those, the buddy
// blocks whose state changed, and the invariants that cost O(nodes,
// cgroups, tasks, CPUs).

// A chunk of 1 << chunkOrder pages is what a touched page costs the next
// check: its pages are walked again. A region of 1 << regionOrder pages
// (a MaxOrder block, 4 MiB) is what a changed buddy block costs: nodes
// start and end on region bounds (NewMachine aligns them) and no buddy
// block crosses one, so a region's blocks check on their own. The buddy
// allocator records nothing (its loops are the simulation's hottest):
// the check compares each region's state bytes with a copy taken at the
// last check, at about a byte per page.
const (
	chunkOrder  = 6
	regionOrder = MaxOrder
)

// touchLog is what a tracking machine touched since its last check, and
// what the chunks and regions held when last walked.
type touchLog struct {
	// pages has a bit per chunk of the machine's pfns, set when an
	// operation changed a page's state, flags or LRU links, or its
	// owner slot's swap state.
	pages []uint64
	// state and blockMT are, per node, the buddy allocator's page states
	// and pageblock types at the last check.
	state   [][]int8
	blockMT [][]Migratetype
	// all makes the next check walk everything (memory hotplug).
	all bool
	// pageSums[node][c] is what chunk c of the node held when last
	// walked, blockSums[node][r] region r; tot their sums.
	pageSums  [][]pageSum
	blockSums [][]blockSum
	tot       touchTotals
	// stats counts the walks of CheckTouched and its fall-backs.
	stats TouchStats
	// owners is the scratch of one chunk's walk.
	owners []ownerCount
}

// TouchStats counts what the incremental checks did: the chunks of pages
// and the regions of buddy blocks they walked, and the checks whose
// counts disagreed with the machine's counters although the whole walk
// they fell back to then passed, which means an operation changed
// something without recording it (a missing touch call).
type TouchStats struct {
	Chunks, Regions int64
	Resyncs         int
}

// markPage records that pfn's page changed.
func (t *touchLog) markPage(pfn int64) {
	c := pfn >> chunkOrder
	t.pages[c>>6] |= 1 << (c & 63)
}

// touch records, for CheckTouched, that page i of the node changed (its
// state or flags). It does nothing unless the machine tracks what it
// touches.
func (n *node) touch(i int32) {
	if n.tl != nil {
		n.tl.markPage(n.zone.StartPFN + int64(i))
	}
}

// touchLinks records that the LRU pages i, j and k (each unless noPage)
// changed: a page and its list neighbours.
func (n *node) touchLinks(i, j, k int32) {
	if n.tl != nil {
		n.markLinks(i, j, k)
	}
}

// markLinks is touchLinks' record, out of line.
func (n *node) markLinks(i, j, k int32) {
	for _, x := range [3]int32{i, j, k} {
		if x != noPage {
			n.tl.markPage(n.zone.StartPFN + int64(x))
		}
	}
}

// touchPFN records that the page at pfn changed (it or its owner slot's
// swap state), unless pfn is not a page.
func (m *Machine) touchPFN(pfn int64) {
	if m.touch != nil && pfn >= 0 {
		m.touch.markPage(pfn)
	}
}

// touchPFN is touch for a pfn of the node.
func (n *node) touchPFN(pfn int64) {
	if n.tl != nil {
		n.tl.markPage(pfn)
	}
}

// ownerKind names what an ownerCount counts.
type ownerKind uint8

const (
	ownCharge      ownerKind = iota // pages charged to cgroup id (its own charge)
	ownFileStat                     // memory.stat file of cgroup id
	ownKernelStat                   // memory.stat kernel of cgroup id
	ownUnevictable                  // memory.stat unevictable of cgroup id
	ownFilePages                    // page-cache pages of file id
	ownMlocked                      // mlocked pages of task slot id
	numOwnerKinds
)

// ownerCount is n pages of a chunk counted for one owner.
type ownerCount struct {
	kind ownerKind
	id   int32
	n    int64
}

// pageSum is what the page walk of CheckInvariants counts in one chunk.
type pageSum struct {
	anon, file, mlocked, kernel int64 // pages by kind
	owners                      []ownerCount
}

// blockSum is what the buddy walk of CheckInvariants counts in one
// region: pages in free blocks (of them highatomic), allocated or on a
// per-CPU list, and absent; and highatomic pageblocks.
type blockSum struct {
	free, freeHA, used, absent, haBlocks int64
}

// nodeTotals sums a node's chunks and regions.
type nodeTotals struct {
	pages  pageSum // owners unused
	blocks blockSum
}

// touchTotals sums the chunks and regions: per node, and per owner.
type touchTotals struct {
	nodes  []nodeTotals
	owners [numOwnerKinds][]int64
}

// addPages adds sign times s into node ni's totals.
func (t *touchTotals) addPages(ni int, s *pageSum, sign int64) {
	n := &t.nodes[ni].pages
	n.anon += sign * s.anon
	n.file += sign * s.file
	n.mlocked += sign * s.mlocked
	n.kernel += sign * s.kernel
	for _, o := range s.owners {
		v := &t.owners[o.kind]
		if int(o.id) >= len(*v) {
			*v = append(*v, make([]int64, int(o.id)+1-len(*v))...)
		}
		(*v)[o.id] += sign * o.n
	}
}

// addBlocks adds sign times s into node ni's totals.
func (t *touchTotals) addBlocks(ni int, s *blockSum, sign int64) {
	n := &t.nodes[ni].blocks
	n.free += sign * s.free
	n.freeHA += sign * s.freeHA
	n.used += sign * s.used
	n.absent += sign * s.absent
	n.haBlocks += sign * s.haBlocks
}

// owner returns the total of owner id of kind (0 when never counted).
func (t *touchTotals) owner(kind ownerKind, id int) int64 {
	if v := t.owners[kind]; id < len(v) {
		return v[id]
	}
	return 0
}

// TrackTouched makes the machine record what its operations touch, so
// that CheckTouched can check what changed since the last check. The
// record costs a test of a nil pointer where pages and list links
// change, and nothing when tracking is off; the check keeps about 100
// bytes per 64 pages and a copy of the buddy's state (a byte a page).
func (m *Machine) TrackTouched() {
	if m.touch != nil {
		return
	}
	last := m.nodes[len(m.nodes)-1]
	end := last.zone.StartPFN + int64(last.pages.len())
	t := &touchLog{
		pages: make([]uint64, (end>>chunkOrder+63)/64), all: true,
		state: make([][]int8, len(m.nodes)), blockMT: make([][]Migratetype, len(m.nodes)),
		pageSums: make([][]pageSum, len(m.nodes)), blockSums: make([][]blockSum, len(m.nodes)),
	}
	t.tot.nodes = make([]nodeTotals, len(m.nodes))
	for ni, n := range m.nodes {
		t.pageSums[ni] = make([]pageSum, n.pages.len()>>chunkOrder)
		t.blockSums[ni] = make([]blockSum, n.pages.len()>>regionOrder)
		t.state[ni] = slices.Clone(n.buddy.state)
		t.blockMT[ni] = slices.Clone(n.buddy.blockMT)
		n.tl = t
	}
	m.touch = t
}

// touchAll makes the next check walk everything.
func (m *Machine) touchAll() {
	if m.touch != nil {
		m.touch.all = true
	}
}

// TouchStats reports what the incremental checks walked (zero without
// TrackTouched).
func (m *Machine) TouchStats() TouchStats {
	if m.touch == nil {
		return TouchStats{}
	}
	return m.touch.stats
}

// errStale is a disagreement between the walks' counts and the machine's
// counters, which CheckTouched settles with a whole walk.
var errStale = errors.New("kernel: the touched pages' counts disagree with the counters")

// CheckTouched checks what the machine's operations touched since the
// last check, and the invariants that cost O(nodes x cgroups + tasks +
// CPUs); doc.go ("Checking what changed") says which invariants that
// covers and which only CheckInvariants does. It needs TrackTouched
// (without it, and for the first check, it is CheckInvariants). When the
// counts disagree with the machine's counters it falls back to
// CheckInvariants, so it reports no violation that CheckInvariants would
// not. Like CheckInvariants it is for tests and `sbmpsim check`.
func (m *Machine) CheckTouched() error {
	t := m.touch
	if t == nil || t.all {
		return m.CheckInvariants()
	}
	err := m.checkTouched()
	if !errors.Is(err, errStale) {
		return err
	}
	if err := m.CheckInvariants(); err != nil {
		return err
	}
	t.stats.Resyncs++
	return nil
}

// checkTouched is CheckTouched without the fall-back: a disagreement of
// the counts is errStale.
func (m *Machine) checkTouched() error {
	if err := m.checkTouchedBooks(); err != nil {
		return err
	}
	t := m.touch
	for ni, n := range m.nodes {
		first := n.zone.StartPFN
		err := forDirty(t.pages, first>>chunkOrder, len(t.pageSums[ni]), func(c int) error {
			t.stats.Chunks++
			return m.walkChunk(ni, n, c, true)
		})
		if err == nil {
			err = m.checkChangedBlocks(ni, n)
		}
		if err != nil {
			return err
		}
	}
	clear(t.pages)
	return m.compareTouched()
}

// checkChangedBlocks walks the regions of node ni whose buddy state or
// pageblock types differ from the copy of the last check, and copies
// them.
func (m *Machine) checkChangedBlocks(ni int, n *node) error {
	t := m.touch
	b := n.buddy
	const pageblocks = 1 << (regionOrder - PageblockOrder)
	for r := range t.blockSums[ni] {
		lo, hi := r<<regionOrder, (r+1)<<regionOrder
		klo, khi := r*pageblocks, (r+1)*pageblocks
		if bytes.Equal(asBytes(b.state[lo:hi]), asBytes(t.state[ni][lo:hi])) && slices.Equal(b.blockMT[klo:khi], t.blockMT[ni][klo:khi]) {
			continue
		}
		t.stats.Regions++
		if err := m.walkBlocks(ni, n, r, true); err != nil {
			return err
		}
		copy(t.state[ni][lo:hi], b.state[lo:hi])
		copy(t.blockMT[ni][klo:khi], b.blockMT[klo:khi])
	}
	return nil
}

// asBytes views page states as bytes, for bytes.Equal's speed (a
// region's 1024 states in a few dozen nanoseconds).
func asBytes(s []int8) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// forDirty calls fn(i) for each of the n units from first whose bit in
// set is set.
func forDirty(set []uint64, first int64, n int, fn func(i int) error) error {
	last := first + int64(n)
	for w := first >> 6; w<<6 < last; w++ {
		for word := set[w]; word != 0; word &= word - 1 {
			u := w<<6 + int64(bits.TrailingZeros64(word))
			if u < first || u >= last {
				continue
			}
			if err := fn(int(u - first)); err != nil {
				return err
			}
		}
	}
	return nil
}

// afterFullCheck, after CheckInvariants passed, counts every chunk and
// region again and clears the record.
func (m *Machine) afterFullCheck() error {
	t := m.touch
	if t == nil {
		return nil
	}
	for ni, n := range m.nodes {
		for c := range t.pageSums[ni] {
			if err := m.walkChunk(ni, n, c, false); err != nil {
				return err
			}
		}
		for r := range t.blockSums[ni] {
			if err := m.walkBlocks(ni, n, r, false); err != nil {
				return err
			}
		}
		copy(t.state[ni], n.buddy.state)
		copy(t.blockMT[ni], n.buddy.blockMT)
	}
	clear(t.pages)
	t.all = false
	return nil
}

// walkChunk counts chunk c of node ni into the totals (replacing what it
// held when last walked) and, if verify, checks its pages.
func (m *Machine) walkChunk(ni int, n *node, c int, verify bool) error {
	t := m.touch
	s := pageSum{owners: t.owners[:0]}
	lo := int32(c << chunkOrder)
	for i := lo; i < lo+1<<chunkOrder; i++ {
		pv := n.pages.get(i)
		p := &pv
		if verify {
			if err := m.checkTouchedPage(n, i); err != nil {
				return fmt.Errorf("kernel: node %d pfn %d: %w", ni, n.zone.StartPFN+int64(i), err)
			}
		}
		s.countPage(p)
	}
	old := &t.pageSums[ni][c]
	t.tot.addPages(ni, old, -1)
	t.tot.addPages(ni, &s, 1)
	t.owners = s.owners
	old.owners = append(old.owners[:0], s.owners...)
	s.owners = old.owners
	*old = s
	return nil
}

// walkBlocks counts the buddy blocks of region r of node ni into the
// totals and, if verify, checks them.
func (m *Machine) walkBlocks(ni int, n *node, r int, verify bool) error {
	var s blockSum
	lo := int32(r << regionOrder)
	if err := n.buddy.walkRegion(lo, lo+1<<regionOrder, &s, verify); err != nil {
		return fmt.Errorf("node %d: %w", ni, err)
	}
	t := m.touch
	t.tot.addBlocks(ni, &t.blockSums[ni][r], -1)
	t.tot.addBlocks(ni, &s, 1)
	t.blockSums[ni][r] = s
	return nil
}

// countPage counts page p as the page walk of CheckInvariants does.
func (s *pageSum) countPage(p *pageState) {
	cg := int32(p.cg)
	switch p.kind {
	case pageAnon:
		s.anon++
	case pageMlocked:
		s.mlocked++
		s.own(ownMlocked, p.owner-1)
		s.own(ownUnevictable, cg)
	case pageFile:
		s.file++
		s.own(ownFilePages, p.owner-1)
		s.own(ownFileStat, cg)
	case pageKernel:
		s.kernel++
		if p.flags&pgKmem == 0 {
			return
		}
		s.own(ownKernelStat, cg)
	default:
		return
	}
	s.own(ownCharge, cg)
}

// own counts a page for owner id of kind.
func (s *pageSum) own(kind ownerKind, id int32) {
	for i := len(s.owners) - 1; i >= 0; i-- {
		if o := &s.owners[i]; o.kind == kind && o.id == id {
			o.n++
			return
		}
	}
	s.owners = append(s.owners, ownerCount{kind: kind, id: id, n: 1})
}

// walkRegion walks the blocks of the region [lo, hi) of the buddy's
// indices and counts them into s; if verify it checks each block
// (checkBlockAt: the region starts at a block, blocks tile it, a free
// block is on its pageblock's list and merged) and each free block's
// list links.
func (b *Buddy) walkRegion(lo, hi int32, s *blockSum, verify bool) error {
	for i := int64(lo); i < int64(hi); {
		size, err := b.checkBlockAt(i)
		if err != nil {
			return err
		}
		switch st := b.state[i]; {
		case st == stateAbsent:
			s.absent++
		case isFreeState(st):
			s.free += size
			if freeStateMT(st) == MigrateHighAtomic {
				s.freeHA += size
			}
			if verify {
				if err := b.checkFreeLinks(int32(i)); err != nil {
					return err
				}
			}
		default:
			s.used += size
		}
		i += size
	}
	for k := b.blockOf(b.startPFN + int64(lo)); k <= b.blockOf(b.startPFN+int64(hi)-1); k++ {
		if b.blockMT[k] == MigrateHighAtomic {
			s.haBlocks++
		}
	}
	return nil
}

// checkFreeLinks checks that the free block at idx and its list
// neighbours name each other and are blocks of one free list.
func (b *Buddy) checkFreeLinks(idx int32) error {
	s := b.state[idx]
	o := freeStateOrder(s)
	n, p := b.peekLink(idx, o)
	ok := n >= 0 && int64(n) < b.spanned && p >= 0 && int64(p) < b.spanned
	if ok {
		_, np := b.peekLink(n, o)
		pn, _ := b.peekLink(p, o)
		ok = np == idx && pn == idx && b.state[n] == s && b.state[p] == s
	}
	if !ok {
		return fmt.Errorf("buddy: free list %d %s broken at pfn %#x", o, freeStateMT(s), b.startPFN+int64(idx))
	}
	return nil
}

// checkTouchedPage checks page i of node n as CheckInvariants does, from
// the page's side: its state and flags (checkPage), its LRU links, and
// for an anonymous page its slot's swap state and swap slot, and its
// place in a whole huge page.
func (m *Machine) checkTouchedPage(n *node, i int32) error {
	pv := n.pages.get(i)
	p := &pv
	pfn := n.zone.StartPFN + int64(i)
	if n.offline && p.kind != pageFree {
		return fmt.Errorf("offline, in use (kind %d)", p.kind)
	}
	if err := m.checkPage(p, pfn); err != nil {
		return err
	}
	if p.flags&pgLRU != 0 {
		if err := n.checkLinks(i); err != nil {
			return err
		}
	}
	if p.kind != pageAnon {
		return nil
	}
	v := &m.tasks[p.owner-1].anon.vmas[p.vma]
	sl := v.slots[p.idx]
	if err := m.checkSwapFlags(sl, int(p.idx)); err != nil {
		return err
	}
	if sl.swp != 0 {
		if sl.swp < 0 || int(sl.swp) >= len(m.swap.slots) {
			return fmt.Errorf("slot %d has swap slot %d of %d", p.idx, sl.swp, len(m.swap.slots)-1)
		}
		d := m.swap.slots[sl.swp]
		if d.owner != p.owner || d.vma != p.vma || d.idx != p.idx {
			return fmt.Errorf("slot %d has swap slot %d, which names task slot %d mapping %d slot %d", p.idx, sl.swp, d.owner-1, d.vma, d.idx)
		}
		if err := m.checkSwapOwner(sl.swp, d); err != nil {
			return err
		}
	}
	return checkHugePage(v, p, pfn)
}

// checkHugePage is checkHugeChunk for one page: a page of a whole huge
// page (its mapping's chunk marked whole) is marked huge and lies at its
// place from the chunk's aligned head.
func checkHugePage(v *vma, p *pageState, pfn int64) error {
	c := int(p.idx) / HugePagePages
	if c >= len(v.thp) || !v.thp[c] {
		return nil
	}
	head := v.slots[c*HugePagePages].pfn
	if head < 0 || head&(HugePagePages-1) != 0 || pfn != head+int64(p.idx)%HugePagePages || p.flags&pgHuge == 0 {
		return fmt.Errorf("huge page %d is not %d contiguous resident pages marked huge", c, HugePagePages)
	}
	return nil
}

// checkLinks checks that LRU page i and its neighbours name each other
// and are on one list, the one the page's kind, cgroup and flags name
// (whose head or tail it is when it has no neighbour on that side).
func (n *node) checkLinks(i int32) error {
	p := n.pages.get(i)
	if int(p.cg) >= len(n.lru) {
		return fmt.Errorf("on an LRU list of cgroup %d, which has none", p.cg)
	}
	lru := lruIndex(p.kind, p.flags)
	l := &n.lru[p.cg].lists[lru]
	same := func(j int32) bool {
		q := n.pages.get(j)
		return q.flags&pgLRU != 0 && q.cg == p.cg && (q.kind == pageAnon || q.kind == pageFile) && lruIndex(q.kind, q.flags) == lru
	}
	inRange := func(j int32) bool { return j >= 0 && int(j) < n.pages.len() }
	switch {
	case p.prev == noPage && l.head != i, p.next == noPage && l.tail != i:
		return fmt.Errorf("page %d ends a list it does not end (list %d of cgroup %d: head %d tail %d)", i, lru, p.cg, l.head, l.tail)
	case p.prev != noPage && (!inRange(p.prev) || n.pages.get(p.prev).next != i || !same(p.prev)):
		return fmt.Errorf("page %d links back to %d, which does not link to it on list %d", i, p.prev, lru)
	case p.next != noPage && (!inRange(p.next) || n.pages.get(p.next).prev != i || !same(p.next)):
		return fmt.Errorf("page %d links on to %d, which does not link back on list %d", i, p.next, lru)
	}
	return nil
}

// checkTouchedBooks checks what costs O(nodes x cgroups + tasks + CPUs):
// the zones (checkZoneBooks), each LRU list's ends and counts against
// the hierarchical sizes and memory.stat, each free list's head, the
// tasks' counters, the swap device's header and the cgroup tree.
func (m *Machine) checkTouchedBooks() error {
	if err := m.checkZoneBooks(); err != nil {
		return err
	}
	lruStat := make([][NumEvictableLRU]int64, len(m.cgPaths))
	for ni, n := range m.nodes {
		if err := m.checkListBooks(ni, lruStat); err != nil {
			return err
		}
		if err := n.buddy.checkHeads(); err != nil {
			return fmt.Errorf("node %d: %w", ni, err)
		}
	}
	for cg := range m.cgPaths {
		for lru := range NumEvictableLRU {
			if got := m.cgroups.cgs[cg].statLocal[MemcgStatInactiveAnon+MemcgStatItem(lru)]; got != lruStat[cg][lru] {
				return fmt.Errorf("kernel: cgroup %s: memory.stat %s %d pages of its own, its lists hold %d", m.cgPaths[cg], MemcgStatInactiveAnon+MemcgStatItem(lru), got, lruStat[cg][lru])
			}
		}
	}
	for i := range m.tasks {
		if t := &m.tasks[i]; t.SwapEntries < 0 {
			return fmt.Errorf("kernel: task %d: %d swap entries", t.PID, t.SwapEntries)
		}
	}
	d := &m.swap
	if int64(len(d.slots)) != m.cfg.SwapPages+1 || d.slots[0] != (swapSlot{}) || d.next < 1 || int(d.next) > max(len(d.slots)-1, 1) {
		return fmt.Errorf("kernel: swap device of %d slots for %d pages, header %+v, scan at %d", len(d.slots), m.cfg.SwapPages, d.slots[0], d.next)
	}
	return m.cgroups.CheckInvariants()
}

// checkListBooks checks node ni's LRU lists without walking them: each
// list's ends and count agree, and the hierarchical sizes are the sums
// of the subtree's counts; it adds the counts to lruStat.
func (m *Machine) checkListBooks(ni int, lruStat [][NumEvictableLRU]int64) error {
	n := m.nodes[ni]
	hier := make([][NumEvictableLRU]int64, len(n.lru))
	for cg := range n.lru {
		for lru := range NumEvictableLRU {
			l := &n.lru[cg].lists[lru]
			empty := l.head == noPage
			if l.n < 0 || empty != (l.tail == noPage) || empty != (l.n == 0) ||
				!empty && (n.pages.get(l.head).prev != noPage || n.pages.get(l.tail).next != noPage) {
				return fmt.Errorf("kernel: node %d cgroup %s list %d: head %d tail %d, %d pages", ni, m.cgPaths[cg], lru, l.head, l.tail, l.n)
			}
			lruStat[cg][lru] += l.n
			for c := cg; c >= 0; c = m.cgParent[c] {
				hier[c][lru] += l.n
			}
		}
	}
	for cg := range n.lru {
		if hier[cg] != n.lru[cg].hier {
			return fmt.Errorf("kernel: node %d cgroup %s: hierarchical list sizes %v, lists say %v", ni, m.cgPaths[cg], n.lru[cg].hier, hier[cg])
		}
	}
	return nil
}

// checkHeads checks that each free list's head is a free block of the
// list's order and type.
func (b *Buddy) checkHeads() error {
	for o := range NrOrders {
		for mt := range NrMigratetypes {
			if h := b.head[o][mt]; h != noPage && (h < 0 || int64(h) >= b.spanned || b.state[h] != freeState(o, mt)) {
				return fmt.Errorf("buddy: free list %d %s broken at its head %d", o, mt, h)
			}
		}
	}
	return nil
}

// compareTouched compares the chunks' and regions' counts with the machine's
// counters; a disagreement is errStale.
func (m *Machine) compareTouched() error {
	t := &m.touch.tot
	var anon, file, mlocked, kernelPages, pcp, free, managed int64
	for ni, n := range m.nodes {
		s, f, b := &t.nodes[ni].pages, &t.nodes[ni].blocks, n.buddy
		if s.anon != n.anonPages() || s.file != n.filePages() || f.free != b.free || f.free+f.used != b.managed ||
			f.absent != b.spanned-b.managed || f.freeHA != b.freeHighAtomic || f.haBlocks*PageblockPages != b.reservedHighAtomic {
			return fmt.Errorf("%w: node %d", errStale, ni)
		}
		if s.anon+s.file+b.free+m.PCPPages(ni) > n.zone.ManagedPages {
			return fmt.Errorf("%w: node %d", errStale, ni)
		}
		anon, file, mlocked, kernelPages = anon+s.anon, file+s.file, mlocked+s.mlocked, kernelPages+s.kernel
		pcp, free, managed = pcp+m.PCPPages(ni), free+b.free, managed+n.zone.ManagedPages
	}
	if anon+file+mlocked+kernelPages+pcp+free != managed {
		return fmt.Errorf("%w: pages by kind", errStale)
	}
	for i := range m.cgPaths {
		c := &m.cgroups.cgs[i]
		charged := t.owner(ownCharge, i)
		if c.localPages != charged && c.localPages != charged+m.cgroups.stockPages(int32(i)) ||
			c.statLocal[MemcgStatFile] != t.owner(ownFileStat, i) || c.statLocal[MemcgStatKernel] != t.owner(ownKernelStat, i) ||
			c.statLocal[MemcgStatUnevictable] != t.owner(ownUnevictable, i) {
			return fmt.Errorf("%w: cgroup %s", errStale, m.cgPaths[i])
		}
	}
	for f := range m.files {
		if m.files[f].cached != t.owner(ownFilePages, f) {
			return fmt.Errorf("%w: file %d", errStale, f)
		}
	}
	for s := range m.tasks {
		if int64(len(m.tasks[s].mlocked)) != t.owner(ownMlocked, s) {
			return fmt.Errorf("%w: task slot %d", errStale, s)
		}
	}
	// Owners the machine no longer has (none: tasks, files and cgroups
	// are never removed) would show as a stale count here.
	return m.staleOwners()
}

// staleOwners reports counts left for owners beyond the machine's.
func (m *Machine) staleOwners() error {
	t := &m.touch.tot
	lens := [numOwnerKinds]int{len(m.cgPaths), len(m.cgPaths), len(m.cgPaths), len(m.cgPaths), len(m.files), len(m.tasks)}
	for k, v := range t.owners {
		if len(v) > lens[k] && slices.ContainsFunc(v[lens[k]:], func(n int64) bool { return n != 0 }) {
			return fmt.Errorf("%w: owners of kind %d", errStale, k)
		}
	}
	return nil
}
