package sbmp

import (
	"fmt"
	"sync/atomic"
)

// Switcher is SPEC 2.4's zero-pause allocator replacement: the current
// allocator sits behind an atomic pointer; Swap installs a new one, and
// new requests go to it at once, while every allocator ever installed
// keeps serving the frees of what it handed out (frees are routed to the
// owner by address). Nothing allocated before a swap is lost or freed
// twice: an address belongs to exactly one allocator, the one whose Tier-1
// block or Tier-2 record holds it.
//
// The allocators share one page source, so their blocks never overlap.
// Like Allocator, a Switcher is driven by one goroutine per CPU; the
// atomic pointer makes Current safe to read from any of them.
type Switcher struct {
	cur   atomic.Pointer[Allocator]
	owner []*Allocator // every allocator installed, oldest first
}

// NewSwitcher starts with a.
func NewSwitcher(a *Allocator) *Switcher {
	s := &Switcher{owner: []*Allocator{a}}
	s.cur.Store(a)
	return s
}

// Current is the allocator new requests go to (CurrentAllocator).
func (s *Switcher) Current() *Allocator { return s.cur.Load() }

// Swap installs next (SwapAllocator) and returns the one it replaced. The
// old allocator's per-CPU caches are flushed back to its slabs, so its
// memory can drain as its objects are freed, and its degrade episode, if
// one is open, ends; the flush cost is returned.
func (s *Switcher) Swap(next *Allocator) (prev *Allocator, flushNs int64) {
	prev = s.cur.Swap(next)
	s.owner = append(s.owner, next)
	prev.Retire()
	return prev, prev.Flush()
}

// Alloc allocates from the current allocator.
func (s *Switcher) Alloc(cpu int, size int64) AllocResult { return s.Current().Alloc(cpu, size) }

// Free frees addr in the allocator that owns it, newest first (recent
// objects are the most common), and reports an error for an address no
// allocator owns.
func (s *Switcher) Free(cpu int, addr uint64, size int64) (int64, error) {
	for i := len(s.owner) - 1; i >= 0; i-- {
		if a := s.owner[i]; a.Owns(addr, size) {
			return a.Free(cpu, addr, size)
		}
	}
	return 0, fmt.Errorf("sbmp: free of %#x, which no allocator owns", addr)
}

// Allocators returns every allocator installed, oldest first.
func (s *Switcher) Allocators() []*Allocator { return s.owner }

// Owns reports whether addr (an allocation of size bytes) belongs to a:
// inside one of its Tier-1 blocks when size fits a Tier-0 class, or one of
// its live Tier-2 allocations.
func (a *Allocator) Owns(addr uint64, size int64) bool {
	if _, ok := a.tier2Live[addr]; ok {
		return true
	}
	if _, ok := a.mediumLive[addr]; ok {
		return true
	}
	return a.classOf(size) >= 0 && a.t1.blockOf(addr) != nil
}
