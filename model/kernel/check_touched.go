package kernel

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
)

// This file is the incremental form of CheckInvariants (see "Checking
// what changed" in doc.go): TrackTouched makes the machine record the
// regions of pages its operations touch, and CheckTouched checks those
// regions and the invariants that cost O(nodes, cgroups, tasks, CPUs).

// regionOrder sizes a region: a MaxOrder block (4 MiB). Nodes start and
// end on region bounds (NewMachine aligns them) and no buddy block
// crosses one, so a region's pages and blocks check on their own.
const regionOrder = MaxOrder

// touchLog is what a tracking machine touched since its last check, and
// what the regions held when last walked.
type touchLog struct {
	// dirty has a bit per region of the machine's pfns: set when an
	// operation changed a page, a buddy block or a list link in it.
	dirty []uint64
	// all makes the next check walk every region (memory hotplug).
	all bool
	// sums[node][r] is what region r of the node held when last walked,
	// and tot their sums.
	sums [][]regionSum
	tot  touchTotals
	// resyncs counts the checks whose sums disagreed with the counters
	// although the full walk then passed: a change made without a
	// record (a missing touch call).
	resyncs int
	// walked counts the regions CheckTouched walked.
	walked int64
	// owners is the scratch of one region's walk.
	owners []ownerCount
}

// mark records that pfn's region changed.
func (t *touchLog) mark(pfn int64) {
	r := pfn >> regionOrder
	t.dirty[r>>6] |= 1 << (r & 63)
}

// touch records, for CheckTouched, that page i of the node changed (its
// state, flags, links, or its owner slot's swap state). It does nothing
// unless the machine tracks what it touches.
func (n *node) touch(i int32) {
	if n.tl != nil {
		n.tl.mark(n.zone.StartPFN + int64(i))
	}
}

// touchLinks records that the LRU pages i, j and k (each unless noPage)
// changed: a page and its list neighbours.
func (n *node) touchLinks(i, j, k int32) {
	if n.tl == nil {
		return
	}
	for _, x := range [3]int32{i, j, k} {
		if x != noPage {
			n.tl.mark(n.zone.StartPFN + int64(x))
		}
	}
}

// touchPFN records that the page at pfn changed (it or its owner slot's
// swap state), unless pfn is not a page.
func (m *Machine) touchPFN(pfn int64) {
	if m.touch != nil && pfn >= 0 {
		m.touch.mark(pfn)
	}
}

// touchPFN is touch for a pfn of the node.
func (n *node) touchPFN(pfn int64) {
	if n.tl != nil {
		n.tl.mark(pfn)
	}
}

// touch records, for CheckTouched, that the block at idx changed.
func (b *Buddy) touch(idx int32) {
	if b.tl != nil {
		b.tl.mark(b.startPFN + int64(idx))
	}
}

// touchBlock records that pageblock k's type changed.
func (b *Buddy) touchBlock(k int) {
	if b.tl != nil {
		b.tl.mark((b.startPFN>>PageblockOrder + int64(k)) << PageblockOrder)
	}
}

// touchLinks records that the free block at x changed, and y (unless
// noPage) and the block before y on its list: x joining the list whose
// head is y (addFree), or y leaving it with x its successor (delFree).
func (b *Buddy) touchLinks(x, y int32) {
	if b.tl == nil {
		return
	}
	b.tl.mark(b.startPFN + int64(x))
	if y != noPage {
		b.tl.mark(b.startPFN + int64(y))
		b.tl.mark(b.startPFN + int64(b.prev[y]))
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

// ownerCount is n pages of a region counted for one owner.
type ownerCount struct {
	kind ownerKind
	id   int32
	n    int64
}

// regionSum is what the page and buddy walks of CheckInvariants count in
// one region.
type regionSum struct {
	anon, file, mlocked, kernel int64 // pages by kind
	free, freeHA, used, absent  int64 // buddy pages: free (highatomic), allocated or per-CPU, absent
	haBlocks                    int64 // highatomic pageblocks
	owners                      []ownerCount
}

// touchTotals sums the regions: per node, and per owner.
type touchTotals struct {
	nodes  []regionSum // owners unused
	owners [numOwnerKinds][]int64
}

// add adds sign times s into node ni's totals.
func (t *touchTotals) add(ni int, s *regionSum, sign int64) {
	n := &t.nodes[ni]
	n.anon += sign * s.anon
	n.file += sign * s.file
	n.mlocked += sign * s.mlocked
	n.kernel += sign * s.kernel
	n.free += sign * s.free
	n.freeHA += sign * s.freeHA
	n.used += sign * s.used
	n.absent += sign * s.absent
	n.haBlocks += sign * s.haBlocks
	for _, o := range s.owners {
		v := &t.owners[o.kind]
		if int(o.id) >= len(*v) {
			*v = append(*v, make([]int64, int(o.id)+1-len(*v))...)
		}
		(*v)[o.id] += sign * o.n
	}
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
// record costs a test of a nil pointer where pages, blocks and list
// links change, and nothing when tracking is off. The first check after
// it must be CheckInvariants.
func (m *Machine) TrackTouched() {
	if m.touch != nil {
		return
	}
	last := m.nodes[len(m.nodes)-1]
	regions := (last.zone.StartPFN + int64(len(last.pages))) >> regionOrder
	t := &touchLog{dirty: make([]uint64, (regions+63)/64), all: true, sums: make([][]regionSum, len(m.nodes))}
	t.tot.nodes = make([]regionSum, len(m.nodes))
	for ni, n := range m.nodes {
		t.sums[ni] = make([]regionSum, len(n.pages)>>regionOrder)
		n.tl = t
		n.buddy.tl = t
	}
	m.touch = t
}

// touchAll makes the next check walk every region.
func (m *Machine) touchAll() {
	if m.touch != nil {
		m.touch.all = true
	}
}

// TouchStats reports how much CheckTouched walked: the regions (of
// 1 << MaxOrder pages), and the checks whose counts disagreed with the
// machine's counters although the full walk they fell back to passed,
// which means an operation changed a region without recording it.
func (m *Machine) TouchStats() (regionsWalked int64, resyncs int) {
	if m.touch == nil {
		return 0, 0
	}
	return m.touch.walked, m.touch.resyncs
}

// errStale is a disagreement between the regions' counts and the
// machine's counters, which CheckTouched settles with a full walk.
var errStale = errors.New("kernel: the touched regions' counts disagree with the counters")

// CheckTouched checks what the machine's operations touched since the
// last check, and the invariants that cost O(nodes x cgroups + tasks +
// CPUs); doc.go ("Checking what changed") says which invariants that
// covers and which only CheckInvariants does. It needs TrackTouched
// (without it, and for the first check, it is CheckInvariants). When the
// regions' counts disagree with the machine's counters it falls back to
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
	t.resyncs++
	return nil
}

// checkTouched is CheckTouched without the fall-back: a disagreement of
// the counts is errStale.
func (m *Machine) checkTouched() error {
	if err := m.checkTouchedBooks(); err != nil {
		return err
	}
	for ni := range m.nodes {
		if err := m.checkDirtyRegions(ni); err != nil {
			return err
		}
	}
	clear(m.touch.dirty)
	return m.compareTouched()
}

// afterFullCheck, after CheckInvariants passed, counts every region
// again and clears the record.
func (m *Machine) afterFullCheck() error {
	t := m.touch
	if t == nil {
		return nil
	}
	for ni, n := range m.nodes {
		for r := range t.sums[ni] {
			if err := m.walkRegion(ni, n, r, false); err != nil {
				return err
			}
		}
	}
	clear(t.dirty)
	t.all = false
	return nil
}

// checkDirtyRegions walks node ni's regions marked dirty.
func (m *Machine) checkDirtyRegions(ni int) error {
	t := m.touch
	n := m.nodes[ni]
	first := n.zone.StartPFN >> regionOrder
	last := first + int64(len(t.sums[ni]))
	for w := first >> 6; w<<6 < last; w++ {
		word := t.dirty[w]
		for word != 0 {
			r := w<<6 + int64(bits.TrailingZeros64(word))
			word &= word - 1
			if r < first || r >= last {
				continue
			}
			t.walked++
			if err := m.walkRegion(ni, n, int(r-first), true); err != nil {
				return err
			}
		}
	}
	return nil
}

// walkRegion counts region r of node ni into the totals (replacing what
// it held when last walked) and, if verify, checks its pages and blocks.
func (m *Machine) walkRegion(ni int, n *node, r int, verify bool) error {
	t := m.touch
	s := regionSum{owners: t.owners[:0]}
	lo := int32(r << regionOrder)
	hi := lo + 1<<regionOrder
	for i := lo; i < hi; i++ {
		p := &n.pages[i]
		if verify {
			if err := m.checkTouchedPage(n, i); err != nil {
				return fmt.Errorf("kernel: node %d pfn %d: %w", ni, n.zone.StartPFN+int64(i), err)
			}
		}
		s.countPage(p)
	}
	if err := n.buddy.walkRegion(lo, hi, &s, verify); err != nil {
		return fmt.Errorf("node %d: %w", ni, err)
	}
	old := &t.sums[ni][r]
	t.tot.add(ni, old, -1)
	t.tot.add(ni, &s, 1)
	t.owners = s.owners
	old.owners = append(old.owners[:0], s.owners...)
	s.owners = old.owners
	*old = s
	return nil
}

// countPage counts page p as the page walk of CheckInvariants does.
func (s *regionSum) countPage(p *pageState) {
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
func (s *regionSum) own(kind ownerKind, id int32) {
	for i := len(s.owners) - 1; i >= 0; i-- {
		if o := &s.owners[i]; o.kind == kind && o.id == id {
			o.n++
			return
		}
	}
	s.owners = append(s.owners, ownerCount{kind: kind, id: id, n: 1})
}

// walkRegion walks the blocks of the region [lo, hi) of the buddy's
// indices and counts its pages into s; if verify it checks each block
// (checkBlockAt), each free block's list links, and that the region
// starts at a block.
func (b *Buddy) walkRegion(lo, hi int32, s *regionSum, verify bool) error {
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
	n, p := b.next[idx], b.prev[idx]
	if n < 0 || int64(n) >= b.spanned || p < 0 || int64(p) >= b.spanned ||
		b.prev[n] != idx || b.next[p] != idx || b.state[n] != b.state[idx] || b.state[p] != b.state[idx] {
		s := b.state[idx]
		return fmt.Errorf("buddy: free list %d %s broken at pfn %#x", freeStateOrder(s), freeStateMT(s), b.startPFN+int64(idx))
	}
	return nil
}

// checkTouchedPage checks page i of node n as CheckInvariants does, from
// the page's side: its state and flags (checkPage), its LRU links, and
// for an anonymous page its slot's swap state and swap slot.
func (m *Machine) checkTouchedPage(n *node, i int32) error {
	p := &n.pages[i]
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
	if c := int(p.idx) / HugePagePages; p.flags&pgHuge != 0 && int(p.idx)%HugePagePages == 0 {
		return m.checkHugeChunk(v, c)
	}
	return nil
}

// checkLinks checks that LRU page i and its neighbours name each other
// and are on one list, the one the page's kind, cgroup and flags name
// (whose head or tail it is when it has no neighbour on that side).
func (n *node) checkLinks(i int32) error {
	p := &n.pages[i]
	if int(p.cg) >= len(n.lru) {
		return fmt.Errorf("on an LRU list of cgroup %d, which has none", p.cg)
	}
	lru := lruIndex(p.kind, p.flags)
	l := &n.lru[p.cg].lists[lru]
	same := func(j int32) bool {
		q := &n.pages[j]
		return q.flags&pgLRU != 0 && q.cg == p.cg && (q.kind == pageAnon || q.kind == pageFile) && lruIndex(q.kind, q.flags) == lru
	}
	inRange := func(j int32) bool { return j >= 0 && int(j) < len(n.pages) }
	switch {
	case p.prev == noPage && l.head != i, p.next == noPage && l.tail != i:
		return fmt.Errorf("page %d ends a list it does not end (list %d of cgroup %d: head %d tail %d)", i, lru, p.cg, l.head, l.tail)
	case p.prev != noPage && (!inRange(p.prev) || n.pages[p.prev].next != i || !same(p.prev)):
		return fmt.Errorf("page %d links back to %d, which does not link to it on list %d", i, p.prev, lru)
	case p.next != noPage && (!inRange(p.next) || n.pages[p.next].prev != i || !same(p.next)):
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
				!empty && (n.pages[l.head].prev != noPage || n.pages[l.tail].next != noPage) {
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

// compareTouched compares the regions' counts with the machine's
// counters; a disagreement is errStale.
func (m *Machine) compareTouched() error {
	t := &m.touch.tot
	var anon, file, mlocked, kernelPages, pcp, free, managed int64
	for ni, n := range m.nodes {
		s, b := &t.nodes[ni], n.buddy
		if s.anon != n.anonPages() || s.file != n.filePages() || s.free != b.free || s.free+s.used != b.managed ||
			s.absent != b.spanned-b.managed || s.freeHA != b.freeHighAtomic || s.haBlocks*PageblockPages != b.reservedHighAtomic {
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
