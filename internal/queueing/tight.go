package queueing

import (
	"math"

	"github.com/sbmpsim/sbmpsim/sim"
)

// TightMM1 is the yardstick for the engine's overhead: an M/M/1 queue
// written as a single-purpose loop over a concrete binary heap of float64
// event times, with none of the engine's generality (no kinds, handlers,
// cancellation, limits or trace hash). It serves customers and returns the
// mean wait in queue in units of the mean service time (rho = 1/meanArrival
// with mu = 1).
func TightMM1(customers int, meanArrival float64, seed uint64) float64 {
	type ev struct {
		t      float64
		arrive bool
	}
	var heap []ev
	push := func(e ev) {
		heap = append(heap, e)
		i := len(heap) - 1
		for i > 0 {
			p := (i - 1) / 2
			if heap[p].t <= e.t {
				break
			}
			heap[i] = heap[p]
			i = p
		}
		heap[i] = e
	}
	pop := func() ev {
		top := heap[0]
		n := len(heap) - 1
		last := heap[n]
		heap = heap[:n]
		i := 0
		for {
			c := 2*i + 1
			if c >= n {
				break
			}
			if c+1 < n && heap[c+1].t < heap[c].t {
				c++
			}
			if last.t <= heap[c].t {
				break
			}
			heap[i] = heap[c]
			i = c
		}
		if n > 0 {
			heap[i] = last
		}
		return top
	}
	arr := sim.NewStream(seed, "tight/arrivals")
	svc := sim.NewStream(seed, "tight/services")
	var waiting ring = newRing(64)
	busy := false
	arrived, served := 0, 0
	sumWq := 0.0
	push(ev{t: arr.Exp(meanArrival), arrive: true})
	for served < customers {
		e := pop()
		if e.arrive {
			arrived++
			if arrived < customers {
				push(ev{t: e.t + arr.Exp(meanArrival), arrive: true})
			}
			if !busy {
				busy = true
				push(ev{t: e.t + svc.Exp(1)})
			} else {
				// Times are float here; the ring stores their bits.
				waiting.push(int64(math.Float64bits(e.t)))
			}
			continue
		}
		served++
		if waiting.len() == 0 {
			busy = false
			continue
		}
		at := math.Float64frombits(uint64(waiting.pop()))
		sumWq += e.t - at
		push(ev{t: e.t + svc.Exp(1)})
	}
	return sumWq / float64(customers)
}
