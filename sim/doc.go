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
// # Limits
//
// Every run has a limit on executed events and on simulated time. Reaching
// either stops the run with a *[LimitError] (matching [ErrLimit]), never a
// hang. The queue holds at most [MaxPending] events.
package sim
