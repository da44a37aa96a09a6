package sim

import (
	"math"
	"slices"
)

// ladder is the pending-event queue: a ladder queue (Tang, Goh and Thng,
// "Ladder Queue: An O(1) Priority Queue Structure for Large-Scale Discrete
// Event Simulation", ACM TOMACS 15(3), 2005), kept because it beat a binary
// and a 4-ary heap at every size from 1e3 to 1e6 pending events (see
// queue_bench_test.go for the measurement).
//
// Events live in one of three places, ordered by time:
//   - bottom: a short sorted run holding the earliest events;
//   - rungs: arrays of time buckets, unsorted within a bucket; rung i+1
//     subdivides one bucket of rung i, so inner rungs cover earlier times;
//   - top: an unsorted bag of events at or after topStart.
//
// An insert appends to top or to one bucket (O(1)), or, for the few events
// earlier than every bucket, goes into bottom by a short insertion. When
// bottom runs dry, the next non-empty bucket of the innermost rung is either
// sorted into bottom (when small) or spread over a new, finer rung; when the
// rungs run dry, top is spread over a new rung. Every event is thus moved a
// small constant number of times on average, which is what makes the hold
// cost flat in the queue size.
//
// Ordering is by (at, key) everywhere an order is kept, so events with equal
// times leave in scheduling order (their keys carry the sequence number).
// Top and the buckets are singly linked lists threaded through one node
// pool, so an insert touches a 4-byte bucket head and a recently freed
// node, and moving a bucket to a finer rung relinks nodes without copying.
// All slices are kept and reused, so a queue that has reached its working
// size allocates nothing.
type ladder struct {
	nodes    []lnode
	freeNode int32 // head of the free-node list, nilNode if empty

	top            int32 // list of events at or after topStart
	topLen         int
	topMin, topMax int64
	topStart       int64

	rungs [ladderMaxRungs]rung
	nr    int // rungs in use; rungs[nr-1] is the innermost

	bottom []entry
	bhead  int // bottom[bhead:] is pending, sorted ascending

	n int // entries held, live or cancelled
}

// lnode is one entry in top or in a bucket.
type lnode struct {
	e    entry
	next int32
}

const (
	nilNode = -1
	// ladderThres is the largest bucket sorted straight into bottom;
	// larger buckets are spread over a finer rung.
	ladderThres = 48
	// ladderMaxRungs bounds the recursion. A bucket that cannot be split
	// further (all at one time, or no rung left) is sorted instead.
	ladderMaxRungs = 16
	// ladderSpill is the bottom length past which inserts into bottom
	// spread it over a new rung rather than keep it sorted.
	ladderSpill = 4 * ladderThres
)

// rung is an array of equal-width time buckets starting at start; heads[i]
// is the list of bucket i and counts[i] its length.
type rung struct {
	heads  []int32
	counts []int32
	start  int64
	width  int64
	cur    int // buckets before cur are consumed
	end    int64
}

// bound is the start of the first unconsumed bucket: this rung holds the
// events in [bound, end).
func (r *rung) bound() int64 { return r.start + int64(r.cur)*r.width }

// reset prepares r to hold nb empty buckets of width from start.
func (r *rung) reset(start, width int64, nb int) {
	r.heads = slices.Grow(r.heads[:0], nb)[:nb]
	r.counts = slices.Grow(r.counts[:0], nb)[:nb]
	for i := range r.heads {
		r.heads[i] = nilNode
		r.counts[i] = 0
	}
	r.start, r.width, r.cur = start, width, 0
	r.end = satAdd(start, satMul(width, int64(nb)))
}

func satMul(a, b int64) int64 {
	if a != 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}

func satAdd(a, b int64) int64 {
	if b > math.MaxInt64-a {
		return math.MaxInt64
	}
	return a + b
}

func (l *ladder) len() int { return l.n }

// newNode returns a node holding e, from the free list when it can.
func (l *ladder) newNode(e entry) int32 {
	if l.nodes == nil {
		l.freeNode, l.top = nilNode, nilNode
	}
	i := l.freeNode
	if i == nilNode {
		l.nodes = append(l.nodes, lnode{e: e})
		return int32(len(l.nodes) - 1)
	}
	l.freeNode = l.nodes[i].next
	l.nodes[i].e = e
	return i
}

// link puts node i into bucket b of rung r.
func (l *ladder) link(r *rung, i int32) {
	b := (l.nodes[i].e.at - r.start) / r.width
	l.nodes[i].next = r.heads[b]
	r.heads[b] = i
	r.counts[b]++
}

func (l *ladder) push(e entry) {
	if l.n == 0 {
		// Empty: forget all boundaries, so the event goes into top.
		l.nr, l.bottom, l.bhead, l.topStart = 0, l.bottom[:0], 0, 0
	}
	l.n++
	if e.at >= l.topStart {
		i := l.newNode(e)
		if l.topLen == 0 {
			l.topMin, l.topMax = e.at, e.at
		}
		l.topMin, l.topMax = min(l.topMin, e.at), max(l.topMax, e.at)
		l.nodes[i].next = l.top
		l.top = i
		l.topLen++
		return
	}
	for k := range l.nr {
		if r := &l.rungs[k]; e.at >= r.bound() {
			l.link(r, l.newNode(e))
			return
		}
	}
	l.insertBottom(e)
}

// insertBottom puts e into its place in the sorted bottom. Most inserts
// land at or near the end, so the search runs backwards.
func (l *ladder) insertBottom(e entry) {
	if len(l.bottom)-l.bhead >= ladderSpill && l.nr < ladderMaxRungs && l.spillBottom() {
		l.n-- // push counts e again
		l.push(e)
		return
	}
	if l.bhead > 0 && len(l.bottom) == cap(l.bottom) {
		l.bottom = l.bottom[:copy(l.bottom, l.bottom[l.bhead:])]
		l.bhead = 0
	}
	i := len(l.bottom)
	l.bottom = append(l.bottom, e)
	for i > l.bhead && less(e, l.bottom[i-1]) {
		l.bottom[i] = l.bottom[i-1]
		i--
	}
	l.bottom[i] = e
}

// spillBottom spreads an overgrown bottom over a new innermost rung that
// ends where bottom's range ends. It reports false when the range is a
// single nanosecond and cannot be split.
func (l *ladder) spillBottom() bool {
	end := l.topStart
	if l.nr > 0 {
		end = l.rungs[l.nr-1].bound()
	}
	start := l.bottom[l.bhead].at
	if end-start <= 1 {
		return false
	}
	r := l.spawn(start, end, len(l.bottom)-l.bhead)
	for _, e := range l.bottom[l.bhead:] {
		l.link(r, l.newNode(e))
	}
	l.bottom, l.bhead = l.bottom[:0], 0
	return true
}

// spawn adds an empty innermost rung covering [start, end) sized for
// about one of count events per bucket.
func (l *ladder) spawn(start, end int64, count int) *rung {
	width := (end-start)/int64(count) + 1
	nb := int((end-start)/width) + 1
	r := &l.rungs[l.nr]
	l.nr++
	r.reset(start, width, nb)
	return r
}

// relink moves every node of list into the buckets of r.
func (l *ladder) relink(r *rung, list int32) {
	for list != nilNode {
		next := l.nodes[list].next
		l.link(r, list)
		list = next
	}
}

// min returns the earliest entry without removing it.
func (l *ladder) min() (entry, bool) {
	if l.bhead == len(l.bottom) && !l.refill() {
		return entry{}, false
	}
	return l.bottom[l.bhead], true
}

// popMin removes the entry min returned.
func (l *ladder) popMin() {
	l.bhead++
	l.n--
}

// refill moves the next events into the empty bottom and reports whether
// there were any.
func (l *ladder) refill() bool {
	for {
		if l.nr == 0 {
			if l.topLen == 0 {
				return false
			}
			r := l.spawn(l.topMin, satAdd(l.topMax, 1), l.topLen)
			l.relink(r, l.top)
			l.topStart = r.end
			l.top, l.topLen = nilNode, 0
			continue
		}
		r := &l.rungs[l.nr-1]
		for r.cur < len(r.heads) && r.heads[r.cur] == nilNode {
			r.cur++
		}
		if r.cur == len(r.heads) {
			l.nr--
			continue
		}
		list, count := r.heads[r.cur], int(r.counts[r.cur])
		bStart := r.bound()
		r.heads[r.cur] = nilNode
		r.cur++
		if count > ladderThres && r.width > 1 && l.nr < ladderMaxRungs {
			l.relink(l.spawn(bStart, bStart+r.width, count), list)
			continue
		}
		l.bottom, l.bhead = l.bottom[:0], 0
		for list != nilNode {
			n := &l.nodes[list]
			l.bottom = append(l.bottom, n.e)
			next := n.next
			n.next = l.freeNode
			l.freeNode = list
			list = next
		}
		slices.SortFunc(l.bottom, cmpEntry)
		return true
	}
}

func cmpEntry(a, b entry) int {
	switch {
	case less(a, b):
		return -1
	case less(b, a):
		return 1
	}
	return 0
}
