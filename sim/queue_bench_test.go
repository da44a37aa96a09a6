package sim

import (
	"fmt"
	"math"
	"testing"
)

// holdSizes are the pending-event counts the engine is timed at.
var holdSizes = []int{1_000, 10_000, 100_000, 1_000_000}

// BenchmarkHold times the engine on the hold model: each event, when it
// runs, schedules one event an exponential delay later, so the queue stays
// at its size. One op is one hold (a Step with one Schedule inside).
func BenchmarkHold(b *testing.B) {
	for _, n := range holdSizes {
		b.Run(fmt.Sprintf("pending=%d", n), func(b *testing.B) {
			e := New(Limits{})
			s := NewStream(1, "hold")
			var k Kind
			k = e.Register("hold", func(ev Event) {
				e.Schedule(ev.At+int64(s.Exp(1e6)), k, 0, 0)
			})
			for range n {
				e.Schedule(int64(s.Exp(1e6)), k, 0, 0)
			}
			// Warm up to the steady state: every event held a few times.
			for range 4 * n {
				e.Step()
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Step(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// binaryHeap and quadHeap are the alternatives the ladder queue was
// measured against. They live here so the comparison can be rerun:
//
//	go test -run '^$' -bench 'Queue' ./sim/
type binaryHeap []entry

func (h *binaryHeap) push(e entry) {
	*h = append(*h, e)
	q := *h
	i := len(q) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !less(e, q[p]) {
			break
		}
		q[i] = q[p]
		i = p
	}
	q[i] = e
}

func (h *binaryHeap) replaceMin(e entry) {
	q := *h
	n := len(q)
	i := 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && less(q[c+1], q[c]) {
			c++
		}
		if !less(q[c], e) {
			break
		}
		q[i] = q[c]
		i = c
	}
	q[i] = e
}

// BenchmarkQueue times hold operations on the bare queues: the earliest
// entry leaves and an entry an exponential delay later arrives. The heaps
// do it with one sift-down (replaceMin), their best case.
func BenchmarkQueue(b *testing.B) {
	for _, n := range holdSizes {
		b.Run(fmt.Sprintf("binary/pending=%d", n), func(b *testing.B) {
			h, next := binaryHeap{}, holdGen()
			for range n {
				h.push(next(0))
			}
			for range 4 * n {
				h.replaceMin(next(h[0].at))
			}
			for b.Loop() {
				h.replaceMin(next(h[0].at))
			}
		})
		b.Run(fmt.Sprintf("quad/pending=%d", n), func(b *testing.B) {
			h, next := quadHeap{}, holdGen()
			for range n {
				h.push(next(0))
			}
			for range 4 * n {
				h.replaceMin(next(h[0].at))
			}
			for b.Loop() {
				h.replaceMin(next(h[0].at))
			}
		})
		b.Run(fmt.Sprintf("ladder/pending=%d", n), func(b *testing.B) {
			var l ladder
			next := holdGen()
			for range n {
				l.push(next(0))
			}
			hold := func() {
				e, _ := l.min()
				l.popMin()
				l.push(next(e.at))
			}
			for range 4 * n {
				hold()
			}
			for b.Loop() {
				hold()
			}
		})
	}
}

// holdGen returns a generator of entries an exponential delay (mean 1 ms)
// after a given time, with increasing sequence numbers.
func holdGen() func(at int64) entry {
	s := NewStream(1, "queue")
	seq := uint64(0)
	return func(at int64) entry {
		seq++
		return entry{at: at + int64(s.Exp(1e6)), key: seq << kindBits}
	}
}

// BenchmarkExp is the cost of one exponential draw, part of every hold.
func BenchmarkExp(b *testing.B) {
	s := NewStream(1, "exp")
	x := 0.0
	for b.Loop() {
		x += s.Exp(1)
	}
	if math.IsNaN(x) {
		b.Fatal("NaN")
	}
}

// quadHeap is a 4-ary min-heap of entries ordered by (at, key): half the
// levels of a binary heap, and four children share one cache line.
//
// Invariant: for every i > 0, !less(h[i], h[(i-1)/4]).
type quadHeap []entry

func (h *quadHeap) push(e entry) {
	*h = append(*h, e)
	h.up(len(*h) - 1)
}

// replaceMin overwrites the head with e and restores the order, doing one
// sift-down where popMin followed by push would do two sifts.
func (h *quadHeap) replaceMin(e entry) {
	(*h)[0] = e
	h.down(0)
}

func (h quadHeap) up(i int) {
	e := h[i]
	for i > 0 {
		p := (i - 1) >> 2
		if !less(e, h[p]) {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = e
}

func (h quadHeap) down(i int) {
	n := len(h)
	e := h[i]
	for {
		c := i<<2 + 1
		if c >= n {
			break
		}
		// Find the least of up to four children.
		m := c
		end := min(c+4, n)
		for j := c + 1; j < end; j++ {
			if less(h[j], h[m]) {
				m = j
			}
		}
		if !less(h[m], e) {
			break
		}
		h[i] = h[m]
		i = m
	}
	h[i] = e
}
