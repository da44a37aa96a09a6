package goruntime

// Heap is the memory the program's objects live in: in the simulator, the
// SBMP allocator over the modelled kernel. All costs are simulated
// nanoseconds the call took.
type Heap interface {
	// Alloc returns a new object of size bytes allocated on cpu. ok false
	// means the heap could not provide it: the program dies with a fatal
	// out-of-memory error. Addresses of live objects must be distinct.
	Alloc(nowNs int64, cpu int, sizeBytes int64) (addr uint64, costNs int64, ok bool)
	// Free returns an object that Alloc handed out, with the same size.
	// The sweeper calls it on one of the program's CPUs, not necessarily
	// the one that allocated the object.
	Free(nowNs int64, cpu int, addr uint64, sizeBytes int64) (costNs int64)
	// MappedBytes is the memory the program holds from the OS for its
	// heap (its RSS from the heap): live and free-but-retained memory and
	// the allocator's own overhead.
	MappedBytes() int64
	// Scavenge returns up to bytes of free retained memory to the OS and
	// reports how much it returned.
	Scavenge(nowNs int64, bytes int64) (releasedBytes int64, costNs int64)
}
