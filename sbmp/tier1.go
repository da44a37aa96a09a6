package sbmp

import (
	"fmt"
	"slices"
)

// Tier-1 (SPEC 1.2): per NUMA node, a buddy pool of 2 or 4 MiB aligned
// blocks obtained from Tier-2, split on demand into slabs (the unit a
// Tier-0 refill carves slots from) and merged lazily: a freed slab is
// queued, still allocatable as a slab, and coalesced with its buddies only
// when the merge policy says so. The delay between a slab's free and its
// merge is measured (tier1_merge_delay). A block whose slabs have all
// merged back can be returned to Tier-2.

// slabShift is log2 of the slab size: 64 KiB.
const slabShift = 16

// noBlock marks an address range that no Tier-1 block covers.
const noBlock = -1

// block is one Tier-1 block of 2^(blockShift) bytes.
type block struct {
	base uint64
	node int
	// order[i] is the slab-buddy order of the free block headed by slab i,
	// or -1 when slab i heads no free block (allocated, pending or inside
	// a larger free block).
	order []int8
	// pos[i] is the index of slab i in its node's free list of order[i].
	pos []int32
	// pendingAt[i] is when slab i was queued for merging, -1 when it is
	// not queued.
	pendingAt []int64
	freeSlabs int // slabs free or pending
	retired   bool
}

// tier1Node is one node's pool.
type tier1Node struct {
	free    [][]uint64 // free[o]: heads of free blocks of 2^o slabs
	pending []uint64   // freed slabs waiting for a merge, oldest first
	blocks  int        // blocks held from Tier-2
	// pendingLow is the fewest slabs the queue held since the last idle
	// decay (its low-water mark, as Tier-0's caches keep theirs), and
	// pendingTouched whether a slab was taken from it since then
	// (SLAB's free_touched): the idle decay's inputs (homing.go).
	pendingLow     int
	pendingTouched bool
}

// tier1 is the whole Tier-1.
type tier1 struct {
	blockShift uint // log2 of the block size in bytes
	topOrder   int  // slab-buddy order of a whole block
	nodes      []tier1Node
	blocks     []*block
	// index maps (addr >> blockShift) - indexBase to a block number,
	// noBlock for none. It starts at the lowest block seen, so real
	// pointers (0x7f...) cost no more than small addresses.
	index      []int32
	indexBase  uint64
	freeBlocks []int32 // block numbers free for reuse of the slot
	stats      *Stats
	// covered is check's scratch: which slabs are free or pending.
	covered []bool
}

func newTier1(nodes int, blockShift uint, stats *Stats) *tier1 {
	t := &tier1{blockShift: blockShift, topOrder: int(blockShift - slabShift), nodes: make([]tier1Node, nodes), stats: stats}
	for i := range t.nodes {
		t.nodes[i].free = make([][]uint64, t.topOrder+1)
	}
	return t
}

func (t *tier1) slabsPerBlock() int { return 1 << t.topOrder }

// blockOf returns the block covering addr, or nil.
func (t *tier1) blockOf(addr uint64) *block {
	i := addr>>t.blockShift - t.indexBase // wraps to huge below the base
	if i >= uint64(len(t.index)) || t.index[i] == noBlock {
		return nil
	}
	return t.blocks[t.index[i]]
}

// indexSlot returns the index position of block number n = addr >>
// blockShift, growing the index (at either end) to cover it.
func (t *tier1) indexSlot(n uint64) uint64 {
	if len(t.index) == 0 {
		t.indexBase = n
	}
	if n < t.indexBase {
		grow := t.indexBase - n
		t.index = append(make([]int32, grow, grow+uint64(len(t.index))), t.index...)
		for i := range grow {
			t.index[i] = noBlock
		}
		t.indexBase = n
	}
	for uint64(len(t.index)) <= n-t.indexBase {
		t.index = append(t.index, noBlock)
	}
	return n - t.indexBase
}

func (t *tier1) slabIndex(b *block, addr uint64) int { return int((addr - b.base) >> slabShift) }

// addBlock takes a block from Tier-2 into node's pool, all free.
func (t *tier1) addBlock(node int, base uint64) {
	n := t.slabsPerBlock()
	b := &block{base: base, node: node, order: make([]int8, n), pos: make([]int32, n), pendingAt: make([]int64, n), freeSlabs: n}
	for i := range b.order {
		b.order[i], b.pendingAt[i] = -1, -1
	}
	var num int32
	if k := len(t.freeBlocks); k > 0 {
		num = t.freeBlocks[k-1]
		t.freeBlocks = t.freeBlocks[:k-1]
		t.blocks[num] = b
	} else {
		num = int32(len(t.blocks))
		t.blocks = append(t.blocks, b)
	}
	t.index[t.indexSlot(base>>t.blockShift)] = num
	t.nodes[node].blocks++
	t.pushFree(b, 0, t.topOrder)
}

func (t *tier1) pushFree(b *block, slab, order int) {
	l := &t.nodes[b.node].free[order]
	b.order[slab] = int8(order)
	b.pos[slab] = int32(len(*l))
	*l = append(*l, b.base+uint64(slab)<<slabShift)
}

func (t *tier1) removeFree(b *block, slab int) {
	order := int(b.order[slab])
	l := &t.nodes[b.node].free[order]
	i := b.pos[slab]
	last := (*l)[len(*l)-1]
	(*l)[i] = last
	if lb := t.blockOf(last); lb != nil {
		lb.pos[t.slabIndex(lb, last)] = i
	}
	*l = (*l)[:len(*l)-1]
	b.order[slab] = -1
}

// allocSlab takes one slab from node's pool: a pending slab first (the
// most recently freed, cache-warm, and it saves a merge), else the
// smallest free block, split down to a slab. It reports false when the
// node's pool is empty.
func (t *tier1) allocSlab(node int) (uint64, bool) {
	tn := &t.nodes[node]
	if k := len(tn.pending); k > 0 {
		addr := tn.pending[k-1]
		tn.pending = tn.pending[:k-1]
		tn.pendingTouched = true
		tn.pendingLow = min(tn.pendingLow, k-1)
		b := t.blockOf(addr)
		b.pendingAt[t.slabIndex(b, addr)] = -1
		b.freeSlabs--
		return addr, true
	}
	addr, _, ok := t.takeFree(node, 0)
	return addr, ok
}

// allocOrder takes a block of 2^order slabs from node's pool: for order
// 0 as allocSlab does, else the smallest free block of that order or
// above, split down. Slabs waiting to merge serve order 0 only: a larger
// order needs them merged first. It returns the splits made.
func (t *tier1) allocOrder(node, order int) (addr uint64, splits int, ok bool) {
	if order == 0 {
		before := t.stats.Tier1Splits
		addr, ok = t.allocSlab(node)
		return addr, int(t.stats.Tier1Splits - before), ok
	}
	return t.takeFree(node, order)
}

// takeFree takes the smallest free block of node of at least the order,
// split down to it, and returns the splits made.
func (t *tier1) takeFree(node, order int) (addr uint64, splits int, ok bool) {
	tn := &t.nodes[node]
	for o := order; o <= t.topOrder; o++ {
		l := tn.free[o]
		if len(l) == 0 {
			continue
		}
		addr := l[len(l)-1]
		b := t.blockOf(addr)
		s := t.slabIndex(b, addr)
		t.removeFree(b, s)
		for o > order { // split: keep the lower half, free the upper
			o--
			t.pushFree(b, s+1<<o, o)
			splits++
		}
		t.stats.Tier1Splits += int64(splits)
		b.freeSlabs -= 1 << order
		return addr, splits, true
	}
	return 0, 0, false
}

// freeSlab queues a slab for merging (lazy merge).
func (t *tier1) freeSlab(addr uint64, now int64) error {
	b := t.blockOf(addr)
	if b == nil || addr&(1<<slabShift-1) != 0 {
		return fmt.Errorf("sbmp: tier-1 free of %#x, which is no slab", addr)
	}
	s := t.slabIndex(b, addr)
	if b.pendingAt[s] >= 0 || b.order[s] >= 0 {
		return fmt.Errorf("sbmp: tier-1 double free of slab %#x", addr)
	}
	b.pendingAt[s] = now
	b.freeSlabs++
	t.nodes[b.node].pending = append(t.nodes[b.node].pending, addr)
	return nil
}

// mergeNode coalesces every pending slab of node with its free buddies,
// as far up as they go, and records each slab's merge delay. It returns
// the number of merges and the blocks that became wholly free.
func (t *tier1) mergeNode(node int, now int64) (merges int, wholeFree []*block) {
	return t.mergeOldest(node, len(t.nodes[node].pending), now, true)
}

// mergeOldest coalesces the n oldest pending slabs of node with their free
// buddies, as far up as they go; the rest stay queued. With delay, each
// merged slab's wait is recorded as a merge delay; the idle decay
// (homing.go) merges without: its slabs waited a trim interval by
// construction. It returns the number of merges and the blocks that
// became wholly free.
func (t *tier1) mergeOldest(node, n int, now int64, delay bool) (merges int, wholeFree []*block) {
	tn := &t.nodes[node]
	for _, addr := range tn.pending[:n] {
		b := t.blockOf(addr)
		s := t.slabIndex(b, addr)
		if delay {
			t.stats.noteMergeDelay(now - b.pendingAt[s])
		}
		b.pendingAt[s] = -1
		o := 0
		for o < t.topOrder {
			buddy := s ^ 1<<o
			if int(b.order[buddy]) != o {
				break
			}
			t.removeFree(b, buddy)
			s = min(s, buddy)
			o++
			merges++
		}
		t.pushFree(b, s, o)
		if o == t.topOrder {
			wholeFree = append(wholeFree, b)
		}
	}
	tn.pending = tn.pending[:copy(tn.pending, tn.pending[n:])]
	tn.pendingLow = min(tn.pendingLow, len(tn.pending))
	t.stats.Tier1Merges += int64(merges)
	return merges, wholeFree
}

// removeBlock takes a wholly free block out of the pool, to return it to
// Tier-2.
func (t *tier1) removeBlock(b *block) {
	t.removeFree(b, 0)
	i := b.base>>t.blockShift - t.indexBase
	num := t.index[i]
	t.index[i] = noBlock
	t.blocks[num] = nil
	t.freeBlocks = append(t.freeBlocks, num)
	t.nodes[b.node].blocks--
	b.retired = true
}

// freeSlabs returns the slabs free or pending on node.
func (t *tier1) freeSlabCount(node int) int64 {
	tn := &t.nodes[node]
	n := int64(len(tn.pending))
	for o, l := range tn.free {
		n += int64(len(l)) << o
	}
	return n
}

// numOf returns the block number and block covering addr, or nil.
func (t *tier1) numOf(addr uint64) (int32, *block) {
	i := addr>>t.blockShift - t.indexBase
	if i >= uint64(len(t.index)) || t.index[i] == noBlock {
		return noBlock, nil
	}
	return t.index[i], t.blocks[t.index[i]]
}

// check verifies Tier-1's books: the address index maps every block and
// only blocks, every free-list entry heads a free block of its list's
// order at the recorded position, no slab is covered twice by free blocks
// and pending slabs, each block's free count and each node's block count
// match. It leaves in t.covered, by block number times slabs per block
// plus slab index, which slabs are free or pending. It allocates only to
// grow t.covered.
func (t *tier1) check() error {
	spb := t.slabsPerBlock()
	n := len(t.blocks) * spb
	t.covered = slices.Grow(t.covered[:0], n)[:n]
	clear(t.covered)
	cover := func(num int32, b *block, from, n int, what string) error {
		c := t.covered[int(num)*spb : int(num+1)*spb]
		for i := from; i < from+n; i++ {
			if c[i] {
				return fmt.Errorf("sbmp: tier-1 slab %d of block %#x is free twice (%s)", i, b.base, what)
			}
			c[i] = true
		}
		return nil
	}
	for node := range t.nodes {
		tn := &t.nodes[node]
		for o, l := range tn.free {
			for i, addr := range l {
				num, b := t.numOf(addr)
				if b == nil || b.node != node {
					return fmt.Errorf("sbmp: tier-1 node %d free list %d holds %#x of no block of that node", node, o, addr)
				}
				s := t.slabIndex(b, addr)
				if int(b.order[s]) != o || int(b.pos[s]) != i || s&(1<<o-1) != 0 || addr&(1<<slabShift-1) != 0 {
					return fmt.Errorf("sbmp: tier-1 free head %#x: order %d pos %d, list says order %d pos %d", addr, b.order[s], b.pos[s], o, i)
				}
				if err := cover(num, b, s, 1<<o, "free"); err != nil {
					return err
				}
			}
		}
		for _, addr := range tn.pending {
			num, b := t.numOf(addr)
			if b == nil || b.node != node || addr&(1<<slabShift-1) != 0 || b.pendingAt[t.slabIndex(b, addr)] < 0 {
				return fmt.Errorf("sbmp: tier-1 pending %#x is not a slab of node %d marked pending", addr, node)
			}
			if err := cover(num, b, t.slabIndex(b, addr), 1, "pending"); err != nil {
				return err
			}
		}
	}
	return t.checkBlocks()
}

// checkBlocks checks each block against the index, its free count
// against t.covered and its marks, and each node's block count.
func (t *tier1) checkBlocks() error {
	spb := t.slabsPerBlock()
	perNode := make([]int, len(t.nodes))
	marks, pending := 0, 0
	for node := range t.nodes {
		pending += len(t.nodes[node].pending)
	}
	for num, b := range t.blocks {
		if b == nil {
			continue
		}
		if got, _ := t.numOf(b.base); got != int32(num) || b.retired || b.base&(1<<t.blockShift-1) != 0 || b.node < 0 || b.node >= len(t.nodes) {
			return fmt.Errorf("sbmp: tier-1 block %d at %#x: index says %d, retired %v, node %d", num, b.base, got, b.retired, b.node)
		}
		perNode[b.node]++
		free := 0
		for i, c := range t.covered[num*spb : (num+1)*spb] {
			if c {
				free++
			}
			if b.pendingAt[i] >= 0 {
				marks++
			}
		}
		if free != b.freeSlabs {
			return fmt.Errorf("sbmp: tier-1 block %#x: %d slabs free on the lists, counter says %d", b.base, free, b.freeSlabs)
		}
	}
	if marks != pending {
		return fmt.Errorf("sbmp: tier-1: %d slabs marked pending, %d queued", marks, pending)
	}
	for node := range t.nodes {
		if perNode[node] != t.nodes[node].blocks {
			return fmt.Errorf("sbmp: tier-1 node %d holds %d blocks, counter says %d", node, perNode[node], t.nodes[node].blocks)
		}
	}
	return nil
}
