package queueing

import (
	"math"

	"github.com/sbmpsim/sbmpsim/sim"
)

// TightMMc is the yardstick for the engine's overhead: the same M/M/c model
// as RunMMc, with the same random streams drawn in the same order, the same
// integer-nanosecond times, the same (time, scheduling order) tie rule and
// the same statistics, written as a single-purpose loop over a concrete
// binary heap with none of the engine's generality (kinds, handlers,
// cancellation, limits, trace hash). Its result equals RunMMc's field for
// field, except Events and TraceHash, which it does not compute; the
// queueing tests check that, so the two also check each other.
func TightMMc(cfg MMcConfig) MMcResult {
	type ev struct {
		at, seq  int64
		arrive   bool
		arrivedA int64 // departure: the customer's arrival time
		startB   int64 // departure: when its service started
	}
	var heap []ev
	var seq int64
	lessEv := func(x, y ev) bool { return x.at < y.at || (x.at == y.at && x.seq < y.seq) }
	push := func(e ev) {
		seq++
		e.seq = seq
		heap = append(heap, e)
		i := len(heap) - 1
		for i > 0 {
			p := (i - 1) / 2
			if !lessEv(e, heap[p]) {
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
			if c+1 < n && lessEv(heap[c+1], heap[c]) {
				c++
			}
			if !lessEv(heap[c], last) {
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
	seeds := sim.Seeds{Master: cfg.Seed}
	arrivals, services := seeds.Stream("mmc/arrivals"), seeds.Stream("mmc/services")
	draw := func(s *sim.Stream, mean float64) int64 { return int64(math.Round(s.Exp(mean))) }
	total := cfg.WarmUp + cfg.Customers
	waiting := newRing(64)
	var (
		busy, arrived, served, inSystem, arrivedM int
		measuring                                 = cfg.WarmUp == 0
		startNs, lastNs                           int64
		sumWq, sumW, area                         float64
	)
	account := func(now int64) {
		if measuring {
			area += float64(inSystem) * float64(now-lastNs)
		}
		lastNs = now
	}
	push(ev{at: draw(&arrivals, cfg.MeanArrivalNs), arrive: true})
	for len(heap) > 0 {
		e := pop()
		account(e.at)
		if e.arrive {
			inSystem++
			arrived++
			if measuring {
				arrivedM++
			}
			if busy < cfg.Servers {
				busy++
				push(ev{at: e.at + draw(&services, cfg.MeanServiceNs), arrivedA: e.at, startB: e.at})
			} else {
				waiting.push(e.at)
			}
			if arrived < total {
				push(ev{at: e.at + draw(&arrivals, cfg.MeanArrivalNs), arrive: true})
			}
			continue
		}
		inSystem--
		served++
		if served > cfg.WarmUp {
			sumWq += float64(e.startB - e.arrivedA)
			sumW += float64(e.at - e.arrivedA)
		}
		if served == cfg.WarmUp {
			measuring = true
			startNs = e.at
		}
		if served == total {
			measuring = false
		}
		if waiting.len() == 0 {
			busy--
			continue
		}
		a := waiting.pop()
		push(ev{at: e.at + draw(&services, cfg.MeanServiceNs), arrivedA: a, startB: e.at})
	}
	res := MMcResult{Customers: served - cfg.WarmUp, SpanNs: lastNs - startNs}
	if res.Customers > 0 {
		res.WqMeanNs = sumWq / float64(res.Customers)
		res.WMeanNs = sumW / float64(res.Customers)
	}
	if res.SpanNs > 0 {
		res.LTimeAvg = area / float64(res.SpanNs)
		res.ArrivalRate = float64(arrivedM) / float64(res.SpanNs)
	}
	return res
}
