package queueing

import (
	"math"

	"github.com/sbmpsim/sbmpsim/sim"
)

// Hold is the classic hold model for timing event queues: Pending events
// are scheduled, and every event, when it runs, schedules one new event an
// exponential delay later, so the queue size stays at Pending.
type Hold struct {
	Eng    *sim.Engine
	kind   sim.Kind
	rng    sim.Stream
	meanNs float64
}

// NewHold fills an engine with pending events whose delays have mean meanNs.
func NewHold(pending int, meanNs float64, seed uint64) *Hold {
	h := &Hold{Eng: sim.New(sim.Limits{}), rng: sim.NewStream(seed, "hold"), meanNs: meanNs}
	h.kind = h.Eng.Register("hold", h.onHold)
	for range pending {
		h.Eng.Schedule(h.delay(), h.kind, 0, 0)
	}
	return h
}

func (h *Hold) delay() int64 { return int64(math.Round(h.rng.Exp(h.meanNs))) }

func (h *Hold) onHold(ev sim.Event) {
	h.Eng.Schedule(ev.At+h.delay(), h.kind, 0, 0)
}

// Run executes n hold operations.
func (h *Hold) Run(n int) error {
	for range n {
		if _, err := h.Eng.Step(); err != nil {
			return err
		}
	}
	return nil
}
