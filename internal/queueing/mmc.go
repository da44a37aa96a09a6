// Package queueing holds the classic queueing models built on the sim
// engine: M/M/c (and so M/M/1) and the hold model. The engine's tests check
// them against their analytic results, and `sbmpsim bench engine` times them.
package queueing

import (
	"math"

	"github.com/sbmpsim/sbmpsim/sim"
)

// MMcConfig describes one M/M/c run. Times are in nanoseconds.
type MMcConfig struct {
	Servers       int     // c >= 1
	MeanArrivalNs float64 // 1/lambda
	MeanServiceNs float64 // 1/mu
	Customers     int     // customers served and measured, after warm-up
	WarmUp        int     // customers served first and not measured
	Seed          uint64
}

// MMcResult is what one run measured. Waits are in nanoseconds.
type MMcResult struct {
	Customers   int     // measured customers
	Events      int64   // events the engine executed
	WqMeanNs    float64 // mean wait in queue of measured customers
	WMeanNs     float64 // mean time in system of measured customers
	LTimeAvg    float64 // time-average number in system over the measured span
	SpanNs      int64   // virtual time of the measured span
	ArrivalRate float64 // measured arrivals per ns over the measured span
	TraceHash   string
}

// mmc is the model state. Customers waiting are a FIFO ring of arrival
// times; a customer in service carries its arrival time in the event
// payload.
type mmc struct {
	cfg        MMcConfig
	eng        *sim.Engine
	arrivals   sim.Stream
	services   sim.Stream
	arrive     sim.Kind
	depart     sim.Kind
	busy       int
	waiting    ring
	arrived    int
	served     int
	measuring  bool
	startNs    int64
	arrivedM   int // arrivals during the measured span
	sumWq      float64
	sumW       float64
	inSystem   int
	lastNs     int64
	areaSystem float64 // integral of the number in system over time
}

// RunMMc runs one M/M/c queue: WarmUp+Customers customers are served, then
// arrivals stop and the result is returned.
func RunMMc(cfg MMcConfig) (MMcResult, error) {
	seeds := sim.Seeds{Master: cfg.Seed}
	m := &mmc{
		cfg:      cfg,
		eng:      sim.New(sim.Limits{}),
		arrivals: seeds.Stream("mmc/arrivals"),
		services: seeds.Stream("mmc/services"),
		waiting:  newRing(64),
	}
	m.arrive = m.eng.Register("arrive", m.onArrive)
	m.depart = m.eng.Register("depart", m.onDepart)
	m.measuring = cfg.WarmUp == 0
	m.eng.Schedule(m.draw(&m.arrivals, cfg.MeanArrivalNs), m.arrive, 0, 0)
	if err := m.eng.RunUntilIdle(); err != nil {
		return MMcResult{}, err
	}
	span := m.lastNs - m.startNs
	res := MMcResult{
		Customers: m.served - cfg.WarmUp,
		Events:    m.eng.Events(),
		SpanNs:    span,
		TraceHash: m.eng.TraceHash(),
	}
	if res.Customers > 0 {
		res.WqMeanNs = m.sumWq / float64(res.Customers)
		res.WMeanNs = m.sumW / float64(res.Customers)
	}
	if span > 0 {
		res.LTimeAvg = m.areaSystem / float64(span)
		res.ArrivalRate = float64(m.arrivedM) / float64(span)
	}
	return res, nil
}

func (m *mmc) draw(s *sim.Stream, mean float64) int64 {
	return int64(math.Round(s.Exp(mean)))
}

func (m *mmc) total() int { return m.cfg.WarmUp + m.cfg.Customers }

// account advances the time integral of the number in system. Only the
// measured span counts, and it ends with the last measured departure.
func (m *mmc) account(now int64) {
	if m.measuring {
		m.areaSystem += float64(m.inSystem) * float64(now-m.lastNs)
	}
	m.lastNs = now
}

func (m *mmc) onArrive(ev sim.Event) {
	m.account(ev.At)
	m.inSystem++
	m.arrived++
	if m.measuring {
		m.arrivedM++
	}
	if m.busy < m.cfg.Servers {
		m.busy++
		m.eng.Schedule(ev.At+m.draw(&m.services, m.cfg.MeanServiceNs), m.depart, ev.At, ev.At)
	} else {
		m.waiting.push(ev.At)
	}
	if m.arrived < m.total() {
		m.eng.Schedule(ev.At+m.draw(&m.arrivals, m.cfg.MeanArrivalNs), m.arrive, 0, 0)
	}
}

// onDepart ends a service. Payload A is the customer's arrival time, B the
// time its service started.
func (m *mmc) onDepart(ev sim.Event) {
	m.account(ev.At)
	m.inSystem--
	m.served++
	if m.served > m.cfg.WarmUp {
		m.sumWq += float64(ev.B - ev.A)
		m.sumW += float64(ev.At - ev.A)
	}
	if m.served == m.cfg.WarmUp {
		m.measuring = true
		m.startNs = ev.At
	}
	if m.served == m.total() {
		m.measuring = false
	}
	if m.waiting.len() == 0 {
		m.busy--
		return
	}
	arrivedNs := m.waiting.pop()
	m.eng.Schedule(ev.At+m.draw(&m.services, m.cfg.MeanServiceNs), m.depart, arrivedNs, ev.At)
}

// ring is a growable FIFO of int64.
type ring struct {
	buf        []int64
	head, size int
}

func newRing(n int) ring { return ring{buf: make([]int64, n)} }

func (r *ring) len() int { return r.size }

func (r *ring) push(v int64) {
	if r.size == len(r.buf) {
		nb := make([]int64, 2*len(r.buf))
		for i := range r.size {
			nb[i] = r.buf[(r.head+i)%len(r.buf)]
		}
		r.buf, r.head = nb, 0
	}
	r.buf[(r.head+r.size)%len(r.buf)] = v
	r.size++
}

func (r *ring) pop() int64 {
	v := r.buf[r.head]
	r.head = (r.head + 1) % len(r.buf)
	r.size--
	return v
}

// ErlangC returns the probability that an arrival waits in an M/M/c queue
// with offered load a = lambda/mu Erlangs (a < c), and the mean wait in
// queue Wq = C / (c*mu - lambda) in units of 1/mu.
func ErlangC(c int, a float64) (pWait, wq float64) {
	// term = a^k / k!, summed iteratively to stay finite for large c.
	term, sum := 1.0, 0.0
	for k := 0; k < c; k++ {
		sum += term
		term *= a / float64(k+1)
	}
	top := term * float64(c) / (float64(c) - a)
	pWait = top / (sum + top)
	return pWait, pWait / (float64(c) - a)
}
