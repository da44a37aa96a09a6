package kernel

// lruEntry names one life of a page: the page at pfn while its generation
// is gen. An entry whose page has since been freed or reused is stale and
// is skipped, so lists never need removal from the middle.
type lruEntry struct {
	pfn int64
	gen uint32
}

// lruList is a FIFO of entries, oldest first: the order in which the
// model's reclaim takes pages. It stands for the kernel's inactive list;
// the model keeps no active list, so every page ages at the same rate
// (a simplification: no second-chance promotion on reference).
type lruList struct {
	q    []lruEntry
	head int
}

func (l *lruList) push(e lruEntry) { l.q = append(l.q, e) }

// pop returns the oldest entry, or false when the list is empty.
func (l *lruList) pop() (lruEntry, bool) {
	if l.head == len(l.q) {
		l.q, l.head = l.q[:0], 0
		return lruEntry{}, false
	}
	e := l.q[l.head]
	l.head++
	return e, true
}

// compact drops stale entries once they outnumber the live ones, so a list
// costs O(live pages) memory.
func (l *lruList) compact(live int64, valid func(lruEntry) bool) {
	if int64(len(l.q)-l.head) <= 2*live+64 {
		return
	}
	out := l.q[:0]
	for _, e := range l.q[l.head:] {
		if valid(e) {
			out = append(out, e)
		}
	}
	l.q, l.head = out, 0
}
