package goruntime

// Death says why a program stopped.
type Death uint8

// The ways a program can stop.
const (
	Alive       Death = iota
	OutOfMemory       // a heap Alloc failed: Go's "fatal error: out of memory"
	Killed            // Kill was called: the OOM killer
)

func (d Death) String() string {
	switch d {
	case Alive:
		return "alive"
	case OutOfMemory:
		return "fatal error: out of memory"
	case Killed:
		return "killed"
	}
	return "unknown"
}

// Stats is a snapshot of the program, named after runtime.MemStats where
// there is a counterpart. Byte counts are in bytes, times in simulated ns.
type Stats struct {
	NowNs int64 // simulated time of the snapshot

	HeapAlloc     int64 // bytes in objects allocated and not yet freed, unswept garbage included
	PeakHeapAlloc int64 // the largest HeapAlloc so far
	HeapLive      int64 // the pacer's heap: marked at the last GC plus allocated since
	HeapMarked    int64 // marked at the last mark termination
	NextGC        int64 // heap goal; math.MaxInt64 when no GC is paced
	TriggerBytes  int64 // heapLive that starts the next cycle; math.MaxInt64 when none
	MappedBytes   int64 // the heap's MappedBytes, at the snapshot

	TotalAlloc   int64 // bytes allocated, cumulative
	FreedBytes   int64 // bytes freed by the sweeper, cumulative
	Mallocs      int64 // objects allocated, cumulative
	Frees        int64 // objects freed, cumulative
	HeapObjects  int64 // Mallocs - Frees
	LiveObjects  int64 // objects in the live set plus leaked objects
	LiveSetBytes int64 // bytes in the live set (LiveBytes when built)
	LeakedBytes  int64 // bytes leaked
	GarbageBytes int64 // garbage not yet freed: HeapAlloc - LiveSetBytes - LeakedBytes

	NumGC         int64      // completed cycles
	NumForcedGC   int64      // of which started by GC
	PauseTotalNs  int64      // stop-the-world time, cumulative
	PauseNs       [256]int64 // recent pauses (both STW phases of a cycle), at [(NumGC+255)%256]
	LastGCNs      int64      // end of the last mark termination
	GCCPUFraction float64    // GC CPU over GOMAXPROCS * time since Start
	GCCPUNs       int64      // GC CPU: pauses*GOMAXPROCS plus mark work
	AssistNs      int64      // of GCCPUNs, mark work done by mutator assists
	SweepNs       int64      // heap Free costs paid by the sweeper (not in GCCPUNs)
	LimitedGCs    int64      // cycles whose mark ran with assists off (CPU limiter full)

	AllocNs           int64 // heap Alloc costs paid by the mutator
	AllocDelayedNs    int64 // time arrivals waited for STW pauses to end
	ScavengedBytes    int64 // released to the OS by the scavenger
	ScavengeNs        int64 // heap Scavenge costs
	GCRecordsDropped  int64 // cycles past MaxGCRecords, not kept by GCs
	GCTraceWriteError bool  // a gctrace write failed; tracing stopped

	Dead     Death // Alive, or why the program stopped
	DeadAtNs int64 // when it stopped
}

// GCRecord describes one completed GC cycle, for figures.
type GCRecord struct {
	Num           int64 // 1 for the first cycle, like NumGC
	Forced        bool  // started by GC rather than the pacer
	Limited       bool  // mark ran without assists because the CPU limiter was full
	StartNs       int64 // sweep termination starts
	MarkStartNs   int64 // mark starts (sweep termination ends)
	MarkEndNs     int64 // mark termination starts
	EndNs         int64 // mark termination ends; sweep starts
	SweepDoneNs   int64 // the last condemned object was freed (perhaps inside the next sweep termination); 0: not yet
	HeapBefore    int64 // heapLive at StartNs (gctrace heap0)
	HeapAtMarkEnd int64 // heapLive at MarkEndNs (gctrace heap1)
	HeapMarked    int64 // marked heap (gctrace heap2)
	HeapGoal      int64 // the goal this cycle worked to (math.MaxInt64 for a forced cycle without one)
	NextGoal      int64 // the goal it set for the next cycle
	TriggerBytes  int64 // the trigger that started it (math.MaxInt64 for a forced cycle without one)
	PauseNs       int64 // both STW pauses
	MarkCPUNs     int64 // mark work, background and assist
	AssistNs      int64 // of MarkCPUNs, by assists
	FreedBytes    int64 // garbage condemned at StartNs and freed by this cycle's sweep
	FreedObjects  int64
	MappedBytes   int64 // the heap's MappedBytes at EndNs
}
