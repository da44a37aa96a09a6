// Package goruntime is a workload model of a Go program: a mutator that
// allocates heap objects from an injected [Heap] (in the simulator, the SBMP
// allocator over the modelled kernel), a GOGC/GOMEMLIMIT pacer, concurrent
// mark-sweep GC cycles that free garbage back to the heap, a GC CPU limiter,
// a scavenger that returns memory to the OS, and GODEBUG=gctrace=1 output.
//
// It runs on a [sim.Engine]: every state change happens in an event handler
// registered under a name starting with "go.". Randomness comes only from
// the [Streams] the caller hands in, so the same inputs give the same run.
//
// # Mutator
//
// Objects arrive as a Poisson process: the gap before each allocation is
// exponential with mean MeanBytes/AllocBytesPerS. An object's size is drawn
// from Config.Sizes, the CPU it is allocated on uniformly from Config.CPUs.
// The arrival process is open loop: the heap's allocation cost and GC
// assists are recorded but do not slow arrivals down. Allocations that
// arrive during a stop-the-world pause wait until the pause ends.
//
// The program first builds its live set at the allocation rate: every new
// object joins the live set until it holds LiveBytes. After that each new
// object joins the live set with probability RetainFraction, pushing the
// oldest live objects out (they become garbage) until the live set fits in
// LiveBytes again; otherwise it is garbage at once. The live set therefore
// stays at LiveBytes (to within one object) whatever RetainFraction is;
// RetainFraction only sets how long live objects live (LiveBytes /
// (RetainFraction*AllocBytesPerS) on average). A leak is a second Poisson
// stream, from LeakFromNs after Start at LeakBytesPerS, of objects that are
// live for ever and push nothing out.
//
// Objects are kept as (addr, size) pairs of 16 bytes in a FIFO ring (the
// live set) and two slices (garbage since the last cycle started, and the
// garbage the current cycle is sweeping). Leaked objects are only counted:
// they are never freed, so their addresses are never needed.
//
// # Pacer
//
// After each mark phase the heap goal is
//
//	goal = marked + (marked + stacks + globals) * GOGC/100
//
// but at least 4 MiB*GOGC/100 (Go's heap minimum). With a memory limit the
// goal is the smaller of that and the limit-based goal
//
//	limit - nonHeap - headroom,  nonHeap = MappedBytes - HeapAlloc + stacks + globals
//
// with headroom = max(3 % of the goal, 1 MiB), and never below the marked
// heap (Go's floor: a goal below the live heap means GC at once). GOGC=off
// with a limit uses only the limit-based goal; GOGC=off without a limit
// never collects (except for [Program.GC]). Simplification: Go's nonHeap
// excludes free heap memory the scavenger can still return (heapFree); the
// [Heap] interface does not expose it, so it counts as non-heap here, which
// makes the limit goal conservative until the scavenger has returned it.
// The limit-based goal is recomputed at every mark termination and every
// tick (Config.TickNs), so the pacer reacts to memory pressure within a
// tick.
//
// A cycle starts when the pacer's heapLive (marked heap plus everything
// allocated since the last mark termination, as in Go: unswept garbage is
// not counted) reaches the trigger. The trigger is Go's runway trigger: the
// goal minus the bytes the mutator is expected to allocate during a
// background-only mark phase, clamped to between 70 % and 95 % of the way
// from the marked heap to the goal. The expected allocation uses the
// configured rates rather than Go's measured cons/mark ratio.
//
// # Cycle
//
// A cycle is: a stop-the-world sweep termination pause (SweepTermBaseNs +
// SweepTermPerPNs*GOMAXPROCS, plus the cost of finishing any sweep still in
// progress); a concurrent mark phase; a stop-the-world mark termination pause
// (MarkTermBaseNs + MarkTermPerPNs*GOMAXPROCS); then a background sweep.
//
// The mark phase scans the live heap at the start of the cycle plus stacks
// and globals, at MarkBytesPerNs per worker. Background marking uses 25 % of
// GOMAXPROCS (a fractional worker covers the remainder), so it takes
// work/(MarkBytesPerNs*0.25*GOMAXPROCS). If the mutator would pass the goal
// before that, mutator assists shorten the phase so that it ends when the
// heap reaches the goal, but never below work/(MarkBytesPerNs*GOMAXPROCS)
// (every P marking). The total mark CPU is work/MarkBytesPerNs either way;
// assists only compress it in time. Assists are CPU only: arrivals are not
// slowed (Go would make allocating goroutines do the mark work).
//
// Marking is snapshot-at-the-beginning, as with Go's hybrid write barrier:
// objects allocated during mark are allocated black, and objects that die
// during mark survive this cycle. So the sweep frees exactly the objects
// that were garbage when the cycle started, and marked = HeapAlloc at mark
// termination minus those. The sweeper frees them in batches of
// SweepBatchObjects, each batch on the next of Config.CPUs in turn, the next
// batch starting when the heap's Free costs of the last have elapsed; a
// cycle that starts before the sweep is done finishes it inside its sweep
// termination pause, as Go does.
//
// # GC CPU limiter
//
// As in Go, a bucket of capacity LimiterWindowNs*GOMAXPROCS CPU-ns fills
// with GC CPU time and drains with mutator CPU time, so it stays full only
// while GC uses more than 50 % of the CPU. A mark phase that starts while
// the bucket is full gets no assists: it runs background-only and takes four
// times as long as a fully assisted one, so under a memory limit the heap
// passes the goal (and the limit) instead of the program spending all its
// CPU on GC: Go's death-spiral guard. Cycles are delayed in this sense only
// (each lasts longer); Go does not skip cycles either. The bucket is updated
// at phase boundaries, with GC using all Ps in pauses, the mark fraction
// during mark, and nothing between cycles (sweep CPU is not counted, a
// simplification).
//
// GCCPUFraction is the GC CPU (pauses times GOMAXPROCS plus mark CPU) over
// GOMAXPROCS times the time since Start, like runtime.MemStats.
//
// # Scavenger
//
// Every TickNs the scavenger returns to the OS what the program holds above
// its retained target: 110 % of the heap goal (heap memory, MappedBytes)
// with GOGC on, and 95 % of the memory limit (MappedBytes + stacks +
// globals) with a limit; the larger excess wins. It releases at most
// ScavengeBytesPerS*TickNs per tick through [Heap.Scavenge] and records its
// cost. Go paces its background scavenger to about 1 % of one CPU instead of
// a byte rate, and also scavenges synchronously when the heap grows past
// the limit; neither is modelled.
//
// # Death
//
// A failed [Heap.Alloc] is Go's "fatal error: out of memory": the program
// stops. [Program.Kill] is the OOM killer. Either way the program cancels
// its pending events and forgets its objects without freeing them: the
// process is gone and the caller reclaims its memory.
//
// Not modelled: goroutine stacks growing, finalizers, runtime.GC blocking
// its caller, idle-priority mark workers, per-size-class spans, sweep
// credit paid by allocation, and the scavenger's CPU pacing.
package goruntime
