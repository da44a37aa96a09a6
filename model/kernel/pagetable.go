package kernel

// Sparse per-page state. Linux keeps a struct page for every page of
// memory (64 bytes, 1.6 % of RAM), allocated at boot. A simulator that
// did the same for the model's 24-byte pageState and the buddy
// allocator's free-list links would spend about 9 MiB of its own memory
// per simulated GiB (measured: 1.7 GB resident for the default
// scenario on intel-2s at its preset 2 x 96 GiB), and could not hold a
// large machine at its own size on a small host. Linux's SPARSEMEM
// already keeps the memory map in sections that exist only where memory
// does; the model goes one step further and keeps a chunk of page state
// only where the model has written it. A page that was never claimed
// reads as a free page (pageState{prev: noPage, next: noPage}), which
// is what every page of a free block is, so the representation changes
// no behaviour: it is invisible to every operation and to the checks.
//
// Chunks are not given back when their pages are free again: the memory
// follows the most memory the run ever used, not what it uses now.

// pageChunkShift sizes a chunk of page state: 1 << pageChunkShift pages,
// one MAX_ORDER block (4 MiB of memory, 24 KiB of state).
const (
	pageChunkShift = MaxOrder
	pageChunkPages = 1 << pageChunkShift
	pageChunkMask  = pageChunkPages - 1
)

// pageChunk is the state of one chunk's pages.
type pageChunk [pageChunkPages]pageState

// pageTable is a node's per-page state, by node-relative page index, in
// chunks that exist once a page in them has been written.
type pageTable struct {
	chunks []*pageChunk
	n      int32
}

// newPageTable returns the state of pages pages, all free.
func newPageTable(pages int64) pageTable {
	return pageTable{chunks: make([]*pageChunk, (pages+pageChunkMask)>>pageChunkShift), n: int32(pages)}
}

// len is the number of pages.
func (t *pageTable) len() int { return int(t.n) }

// at returns page i's state for reading and writing, creating its chunk
// on first use.
func (t *pageTable) at(i int32) *pageState {
	c := t.chunks[i>>pageChunkShift]
	if c == nil {
		c = t.fill(i)
	}
	return &c[i&pageChunkMask]
}

// get returns a copy of page i's state, without creating its chunk: for
// walks that only read.
func (t *pageTable) get(i int32) pageState {
	if c := t.chunks[i>>pageChunkShift]; c != nil {
		return c[i&pageChunkMask]
	}
	return pageState{prev: noPage, next: noPage}
}

// fill creates the chunk of page i with every page free.
func (t *pageTable) fill(i int32) *pageChunk {
	c := new(pageChunk)
	for j := range c {
		c[j].prev, c[j].next = noPage, noPage
	}
	t.chunks[i>>pageChunkShift] = c
	return c
}
