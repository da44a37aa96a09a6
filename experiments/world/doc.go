// Package world is the simulation: it runs a scenario's workloads through
// the real SBMP allocator (package sbmp) and the models of the machine
// (model/kernel, model/numa, model/goruntime, model/workload) on the
// discrete-event engine (package sim), and reports what happened.
//
// [Run] is the one entry point; the CLI, the A/B runner, sweeps, the
// canonical experiments and randomized checking all call it. A run can be
// cancelled through its context, observed as simulated time advances
// ([Options].Observer), stopped early ([Options].StopAtNs) and checked
// after every event ([Options].CheckEvery); none of these changes its
// result, which is a pure function of the scenario.
//
// How a run is built, bottom up:
//   - compile (compile*.go) turns the scenario into one config per side,
//     resolved and checked against the machine; no side reads the
//     scenario.
//   - The sides each own their state: the kernel model with kswapd and
//     the OOM killer (kernelside.go), the tasks and kmalloc leaks that
//     fault memory in through it (kerneltasks.go, kmalloc.go), one SBMP
//     process per heap with its allocator, page source and alerts
//     (sbmpside.go), the workloads that allocate through SBMP
//     (synthetic.go, goprogram.go, tracereplay.go), and the faults
//     (faults.go). The workloads keep their books in a ledger
//     (ledger.go).
//   - simulation.go builds the sides in a fixed order (kind numbers and
//     scheduling order are part of every trace hash), samples them into
//     the time series and shows each sample to the observer.
//   - summarize.go and check.go read the sides: the summary and the
//     invariants.
//
// Nothing here writes files: package experiments/output writes a Result.
//
// Back-pressure: every workload has a loop mode ([[workload]] loop,
// loop.go): in the closed loop (the default) a thread blocks for what its
// allocation cost, stalls included; queued and ignore are the
// alternatives. Memory stalls are summed as PSI does (psi.go).
//
// Simplifications (each changes what a run can show, and is stated where
// the mechanism lives):
//   - SBMP's placement ([sbmp] placement, sbmpPages.AllocPages): in user
//     space each block is its own anonymous mapping, populated at once
//     when SBMP gets it (a real allocator's RSS would grow as it touches
//     the block); in the kernel each block is an alloc_pages of its order.
//     Either way a free gives back exactly that block's frames.
//   - A Go program's or a trace's memory is SBMP's; a task's is a heap it
//     grows (newest pages freed first) and sweeps (touch_interval_ms).
//   - A thread's work in an instant: a synthetic request, a trace
//     operation or a task's tick takes no simulated time beyond its
//     stalls, so to PSI a thread is idle except while it stalls (a task
//     also while its tick waits on I/O or spends CPU; see psi.go).
//   - Stalls and reads within one event happen at that event's time: a
//     reader's tick of 64 page reads, each possibly a disk read, blocks
//     the reader for their sum afterwards (loop "closed"), not read by
//     read.
package world
