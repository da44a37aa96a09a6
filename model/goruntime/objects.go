package goruntime

// object is one heap object: 16 bytes, no pointers, so millions of them
// cost the garbage collector of the host nothing to scan.
type object struct {
	addr uint64
	size int64
}

// ring is a FIFO of objects, oldest first. Its capacity is a power of two
// and doubles when full; it never shrinks.
type ring struct {
	buf   []object
	head  int // index of the oldest object
	n     int
	bytes int64
}

func (r *ring) push(o object) {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = o
	r.n++
	r.bytes += o.size
}

func (r *ring) grow() {
	buf := make([]object, max(16, 2*len(r.buf)))
	for i := range r.n {
		buf[i] = r.buf[(r.head+i)&(len(r.buf)-1)]
	}
	r.buf, r.head = buf, 0
}

// pop removes and returns the oldest object. The ring must not be empty.
func (r *ring) pop() object {
	if r.n == 0 {
		panic("goruntime: pop from an empty live set")
	}
	o := r.buf[r.head]
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	r.bytes -= o.size
	return o
}

// list is a set of garbage objects with their total size.
type list struct {
	objs  []object
	bytes int64
}

func (l *list) add(o object) {
	l.objs = append(l.objs, o)
	l.bytes += o.size
}

// sweepList is the garbage a cycle condemned, freed from next onwards.
type sweepList struct {
	objs  []object
	next  int
	bytes int64 // not yet freed
}

func (s *sweepList) remaining() int { return len(s.objs) - s.next }
