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
// Top is a plain slice. A bucket is a chain of small fixed-size chunks of
// contiguous entries, so filling a bucket is a store into its newest chunk
// and emptying one reads whole cache lines, with no pointer chasing per
// event: on a machine whose effective cache is a few MiB, the hold cost is
// set by how many cache lines an event touches, not by comparisons.
// All slices are kept and reused, so a queue that has reached its working
// size allocates nothing.
type ladder struct {
	chunks    []entry // chunk c is chunks[c*chunkCap : c*chunkCap+chunkLen[c]]
	chunkLen  []uint8
	chunkNext []int32 // the next older chunk of the same bucket, or of the free list
	freeChunk int32

	top            []entry // events at or after topStart, unsorted
	topMin, topMax int64
	topStart       int64

	rungs [ladderMaxRungs]rung
	nr    int // rungs in use; rungs[nr-1] is the innermost

	bottom []entry
	bhead  int // bottom[bhead:] is pending, sorted ascending

	n int // entries held, live or cancelled
}

const (
	nilChunk = -1
	chunkCap = 4
	// ladderPerBucket is the mean number of events per bucket a new rung
	// is sized for.
	ladderPerBucket = 4
	// ladderThres is the largest bucket sorted straight into bottom;
	// larger buckets are spread over a finer rung.
	ladderThres = 16
	// ladderMaxRungs bounds the recursion. A bucket that cannot be split
	// further (all at one time, or no rung left) is sorted instead.
	ladderMaxRungs = 16
	// ladderSpill is the bottom length past which inserts into bottom
	// spread it over a new rung rather than keep it sorted.
	ladderSpill = 4 * ladderThres
)

// rung is an array of equal-width time buckets starting at start; heads[i]
// is the newest chunk of bucket i and counts[i] its number of events.
type rung struct {
	heads  []int32
	counts []int32
	start  int64
	width  int64
	cur    int   // buckets before cur are consumed
	lo     int64 // start of bucket cur, saturated: the rung holds [lo, end)
	end    int64
}

// bound is the start of the first unconsumed bucket: this rung holds the
// events in [bound, end).
func (r *rung) bound() int64 { return r.lo }

// next consumes bucket cur.
func (r *rung) next() {
	r.cur++
	r.lo = satAdd(r.lo, r.width)
}

// reset prepares r to hold nb empty buckets of width from start.
func (r *rung) reset(start, width int64, nb int) {
	r.heads = slices.Grow(r.heads[:0], nb)[:nb]
	r.counts = slices.Grow(r.counts[:0], nb)[:nb]
	for i := range r.heads {
		r.heads[i] = nilChunk
		r.counts[i] = 0
	}
	r.start, r.width, r.cur, r.lo = start, width, 0, start
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

// add appends e to its bucket in r.
func (l *ladder) add(r *rung, e entry) {
	b := (e.at - r.start) / r.width
	c := r.heads[b]
	if c == nilChunk || l.chunkLen[c] == chunkCap {
		c = l.newChunk(c)
		r.heads[b] = c
	}
	l.chunks[int(c)*chunkCap+int(l.chunkLen[c])] = e
	l.chunkLen[c]++
	r.counts[b]++
}

// newChunk returns an empty chunk whose next is older.
func (l *ladder) newChunk(older int32) int32 {
	c := l.freeChunk
	if c == nilChunk || l.chunks == nil {
		c = int32(len(l.chunkLen))
		l.chunks = append(l.chunks, make([]entry, chunkCap)...)
		l.chunkLen = append(l.chunkLen, 0)
		l.chunkNext = append(l.chunkNext, nilChunk)
	} else {
		l.freeChunk = l.chunkNext[c]
	}
	l.chunkLen[c] = 0
	l.chunkNext[c] = older
	return c
}

// drain calls fn on every event of the chain starting at c and returns the
// chunks to the free list.
func (l *ladder) drain(c int32, fn func(entry)) {
	for c != nilChunk {
		base := int(c) * chunkCap
		for _, e := range l.chunks[base : base+int(l.chunkLen[c])] {
			fn(e)
		}
		next := l.chunkNext[c]
		l.chunkNext[c] = l.freeChunk
		l.freeChunk = c
		c = next
	}
}

func (l *ladder) push(e entry) {
	if l.n == 0 {
		// Empty: forget all boundaries, so the event goes into top.
		l.nr, l.bottom, l.bhead, l.topStart = 0, l.bottom[:0], 0, 0
		if l.chunks == nil {
			l.freeChunk = nilChunk
		}
	}
	l.n++
	if e.at >= l.topStart {
		if len(l.top) == 0 {
			l.topMin, l.topMax = e.at, e.at
		}
		l.topMin, l.topMax = min(l.topMin, e.at), max(l.topMax, e.at)
		l.top = append(l.top, e)
		return
	}
	for k := range l.nr {
		if r := &l.rungs[k]; e.at >= r.bound() {
			l.add(r, e)
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
		l.add(r, e)
	}
	l.bottom, l.bhead = l.bottom[:0], 0
	return true
}

// spawn adds an empty innermost rung covering [start, end) sized for
// about ladderPerBucket of count events per bucket.
func (l *ladder) spawn(start, end int64, count int) *rung {
	nb := int64(max(1, count/ladderPerBucket))
	width := (end-start)/nb + 1
	r := &l.rungs[l.nr]
	l.nr++
	r.reset(start, width, int((end-start)/width)+1)
	return r
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
			if len(l.top) == 0 {
				return false
			}
			if len(l.top) <= ladderThres {
				// Few events: sort them straight into bottom. Small
				// queues (an M/M/1 holds two events) skip the rungs.
				l.bottom = append(l.bottom[:0], l.top...)
				l.bhead = 0
				sortEntries(l.bottom)
				l.topStart = satAdd(l.topMax, 1)
				l.top = l.top[:0]
				return true
			}
			r := l.spawn(l.topMin, satAdd(l.topMax, 1), len(l.top))
			for _, e := range l.top {
				l.add(r, e)
			}
			l.topStart = r.end
			l.top = l.top[:0]
			continue
		}
		r := &l.rungs[l.nr-1]
		for r.cur < len(r.heads) && r.heads[r.cur] == nilChunk {
			r.next()
		}
		if r.cur == len(r.heads) {
			l.nr--
			continue
		}
		chain, count := r.heads[r.cur], int(r.counts[r.cur])
		bStart := r.bound()
		r.heads[r.cur] = nilChunk
		r.next()
		if count > ladderThres && r.width > 1 && l.nr < ladderMaxRungs {
			child := l.spawn(bStart, bStart+r.width, count)
			l.drain(chain, func(e entry) { l.add(child, e) })
			continue
		}
		l.bottom, l.bhead = l.bottom[:0], 0
		for c := chain; c != nilChunk; {
			base := int(c) * chunkCap
			l.bottom = append(l.bottom, l.chunks[base:base+int(l.chunkLen[c])]...)
			next := l.chunkNext[c]
			l.chunkNext[c] = l.freeChunk
			l.freeChunk = c
			c = next
		}
		sortEntries(l.bottom)
		return true
	}
}

// sortEntries sorts by (at, key). Buckets are small, so insertion sort on
// the concrete type does most of the work; large ones go to pdqsort.
func sortEntries(s []entry) {
	if len(s) > 24 {
		slices.SortFunc(s, cmpEntry)
		return
	}
	for i := 1; i < len(s); i++ {
		e := s[i]
		j := i
		for j > 0 && less(e, s[j-1]) {
			s[j] = s[j-1]
			j--
		}
		s[j] = e
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
