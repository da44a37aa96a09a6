// Package sim is the discrete-event engine of sbmpsim: a virtual clock in
// integer nanoseconds, a pending-event queue, named random streams derived
// from one master seed, a hash over the executed event stream, probes, hard
// run limits, and a runner for independent replications.
//
// It knows nothing of memory. Models register a [Handler] per event [Kind]
// and schedule events carrying two int64 payload words; they keep their own
// state in their own tables and use the payload as an index into them.
//
// # Ordering
//
// Events run in (time, seq) order, where seq is a counter assigned when the
// event is scheduled. Two events at the same time therefore run in the order
// they were scheduled (FIFO), whatever the queue's internal layout, and a run
// is a pure function of its inputs and master seed.
//
// # Costs
//
//   - Schedule: O(1) amortized, no allocation once the queue has grown.
//   - Cancel: O(1); the cancelled entry is dropped lazily when it reaches the
//     head of the queue.
//   - Step: O(1) amortized. The queue is a ladder queue (see ladder.go); a
//     binary and a 4-ary heap were measured against it and lost at every
//     size from 1e3 to 1e6 pending events.
//
// A queue entry is 32 bytes, its payload inside. A 16-byte entry (time,
// and the sequence number packed with a slot of a side arena holding the
// payload, slots reused last freed first) was measured against it on
// 2026-12 (issue 14), the same seed and trace hash, old and new test
// binaries run in turn, 10 runs each, on the 2-core VM at load 3-4 (each
// median within ±20-70 %): hold at 1e5 pending events 102-119 ns with
// the 32-byte entry against 144-183 ns (+40 % to +54 %, p <= 0.016); at
// 1e6, +43 % to +61 %; at 1e3, no difference. Loading the payloads of a
// bucket all at once when it is sorted into bottom (so their misses
// overlap) left it +11 % (not significant) to +48 % at 1e5, and bench e2e
// steady 6 % slower (6 runs of each, every one slower). Halving the bytes
// the ladder moves saves less than the arena costs: the payload is read
// when its event runs, a random access into an arena as large as the
// pending set.
//
// # Limits
//
// Every run has a limit on executed events and on simulated time. Reaching
// either stops the run with a *[LimitError] (matching [ErrLimit]), never a
// hang. The queue holds at most [MaxPending] events.
package sim
