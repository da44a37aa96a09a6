package sim

import (
	"errors"
	"fmt"
	"math"
)

// Kind identifies a class of events and the handler that runs them. Kinds
// are handed out by [Engine.Register] in registration order.
type Kind uint16

// Event is one event as its handler sees it.
type Event struct {
	At   int64   // virtual time in nanoseconds
	ID   EventID // the handle Schedule returned
	Kind Kind
	A, B int64 // payload, meaning defined by the handler's model
}

// EventID is a handle to a scheduled event, for Cancel. The zero EventID
// is never issued.
type EventID struct {
	at  int64
	key uint64
}

// Handler runs one event. It may schedule and cancel events; it must not
// call Step or any Run method.
type Handler func(ev Event)

// Limits bound a run. Zero fields take the defaults of [DefaultLimits].
type Limits struct {
	MaxEvents int64 // events executed, over the engine's life
	MaxTimeNs int64 // no event later than this runs
}

// DefaultLimits are generous bounds for runs that set none.
var DefaultLimits = Limits{MaxEvents: 1 << 40, MaxTimeNs: math.MaxInt64}

// ErrLimit matches every *LimitError.
var ErrLimit = errors.New("sim: run limit reached")

// LimitError reports that a run stopped at one of its limits.
type LimitError struct {
	Limit string // "events" or "time"
	Value int64  // the limit's value
	NowNs int64  // virtual time when the run stopped
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("sim: %s limit %d reached at t=%dns", e.Limit, e.Value, e.NowNs)
}

// Is makes errors.Is(err, ErrLimit) true.
func (e *LimitError) Is(target error) bool { return target == ErrLimit }

type kindInfo struct {
	name    string
	handler Handler
	probes  []func(Event)
}

// Engine is a discrete-event simulation: a clock and a queue of pending
// events. The zero value is not usable; use [New].
type Engine struct {
	now     int64
	seq     uint64
	events  int64 // executed
	pending int   // live events in the queue
	limits  Limits

	queue ladder
	// ran is the last event run. Every event runs after all events before
	// it in (at, key) order, and nothing can be scheduled before it, so
	// every pending event is after ran.
	ran entry

	// cancelled maps the keys of cancelled events to their times. Cancel
	// is rare, so the map costs nothing while it is empty. An entry stays
	// after its event is dropped from the queue, so a second Cancel says
	// false, until ran passes it and prune removes it.
	cancelled  map[uint64]int64
	pruneAtLen int

	kinds  []kindInfo
	probes int // number of registered probes, 0 makes probing free
	hash   traceHash
}

// New returns an engine at time 0 with the given limits.
func New(limits Limits) *Engine {
	if limits.MaxEvents <= 0 {
		limits.MaxEvents = DefaultLimits.MaxEvents
	}
	if limits.MaxTimeNs <= 0 {
		limits.MaxTimeNs = DefaultLimits.MaxTimeNs
	}
	return &Engine{limits: limits, hash: newTraceHash()}
}

// Register adds an event kind with its handler and returns the kind. The
// name appears in traces and errors.
func (e *Engine) Register(name string, h Handler) Kind {
	if len(e.kinds) > math.MaxUint16 {
		panic("sim: too many event kinds")
	}
	e.kinds = append(e.kinds, kindInfo{name: name, handler: h})
	return Kind(len(e.kinds) - 1)
}

// NumKinds returns the number of kinds registered so far: the kinds are
// 0 .. NumKinds()-1. A checker uses it to probe every kind.
func (e *Engine) NumKinds() int { return len(e.kinds) }

// KindName returns the name k was registered under.
func (e *Engine) KindName(k Kind) string { return e.kinds[k].name }

// Probe adds fn to the callbacks run, in order of addition, just before the
// handler of every event of kind k. With no probes, probing costs one
// predictable branch per event.
func (e *Engine) Probe(k Kind, fn func(Event)) {
	e.kinds[k].probes = append(e.kinds[k].probes, fn)
	e.probes++
}

// Now returns the virtual time in nanoseconds.
func (e *Engine) Now() int64 { return e.now }

// Events returns the number of events executed so far.
func (e *Engine) Events() int64 { return e.events }

// Pending returns the number of scheduled events not yet run or cancelled.
func (e *Engine) Pending() int { return e.pending }

// TraceHash returns the hash of the ordered stream of executed events
// (time, kind, payload), as 16 hex digits.
func (e *Engine) TraceHash() string { return e.hash.String() }

// Schedule adds an event of kind k at virtual time at with payload (a, b)
// and returns its handle. at must not be in the past: that is a bug in the
// model, and Schedule panics.
func (e *Engine) Schedule(at int64, k Kind, a, b int64) EventID {
	if at < e.now {
		panic(fmt.Sprintf("sim: schedule %s at %d before now %d", e.kinds[k].name, at, e.now))
	}
	if e.seq >= maxSeq {
		panic("sim: sequence space exhausted")
	}
	if e.pending >= MaxPending {
		panic(fmt.Sprintf("sim: more than %d pending events", MaxPending))
	}
	e.seq++
	key := e.seq<<kindBits | uint64(k)
	e.queue.push(entry{at: at, key: key, a: a, b: b})
	e.pending++
	return EventID{at: at, key: key}
}

// After schedules an event delay nanoseconds from now.
func (e *Engine) After(delay int64, k Kind, a, b int64) EventID {
	return e.Schedule(e.now+delay, k, a, b)
}

// Cancel removes a pending event and reports whether it was pending. id
// must come from this engine's Schedule. It is O(1): the queue entry is
// dropped when it reaches the head.
func (e *Engine) Cancel(id EventID) bool {
	if id.key == 0 || id.key>>kindBits > e.seq {
		return false
	}
	if !less(e.ran, entry{at: id.at, key: id.key}) {
		return false // it has run
	}
	if _, ok := e.cancelled[id.key]; ok {
		return false
	}
	if e.cancelled == nil {
		e.cancelled, e.pruneAtLen = map[uint64]int64{}, 64
	}
	e.cancelled[id.key] = id.at
	e.pending--
	return true
}

// prune forgets cancelled events that ran has passed: they have left the
// queue. It runs when the map has doubled since the last prune, so it
// costs O(1) per Cancel.
func (e *Engine) prune() {
	for key, at := range e.cancelled {
		if !less(e.ran, entry{at: at, key: key}) {
			delete(e.cancelled, key)
		}
	}
	e.pruneAtLen = max(64, 2*len(e.cancelled))
}

// head returns the earliest live entry, dropping cancelled entries on the
// way, and reports whether there is one.
func (e *Engine) head() (entry, bool) {
	for {
		top, ok := e.queue.min()
		if !ok || len(e.cancelled) == 0 {
			return top, ok
		}
		if _, dead := e.cancelled[top.key]; !dead {
			return top, true
		}
		e.queue.popMin()
	}
}

// Step runs the earliest pending event. It reports false when there was
// none, and a *LimitError (leaving the event pending) when running it would
// pass a limit.
func (e *Engine) Step() (bool, error) {
	top, ok := e.head()
	if !ok {
		return false, nil
	}
	if top.at > e.limits.MaxTimeNs {
		return false, &LimitError{Limit: "time", Value: e.limits.MaxTimeNs, NowNs: e.now}
	}
	if e.events >= e.limits.MaxEvents {
		return false, &LimitError{Limit: "events", Value: e.limits.MaxEvents, NowNs: e.now}
	}
	ev := Event{At: top.at, ID: EventID{at: top.at, key: top.key}, Kind: top.kind(), A: top.a, B: top.b}
	e.queue.popMin()
	e.pending--
	e.ran = top
	if len(e.cancelled) >= e.pruneAtLen && e.cancelled != nil {
		e.prune()
	}
	e.now = top.at
	e.events++
	e.hash.add(ev)

	ki := &e.kinds[ev.Kind]
	if e.probes != 0 {
		for _, p := range ki.probes {
			p(ev)
		}
	}
	ki.handler(ev)
	return true, nil
}

// RunUntil runs every event at or before t, then sets the clock to t (if t
// is later than now). It stops early with a *LimitError.
func (e *Engine) RunUntil(t int64) error {
	for {
		top, ok := e.head()
		if !ok || top.at > t {
			break
		}
		if _, err := e.Step(); err != nil {
			return err
		}
	}
	if t > e.now {
		e.now = t
	}
	return nil
}

// RunUntilIdle runs events until none is pending. A model that keeps
// scheduling forever stops at a limit with a *LimitError.
func (e *Engine) RunUntilIdle() error {
	for {
		ran, err := e.Step()
		if err != nil || !ran {
			return err
		}
	}
}
