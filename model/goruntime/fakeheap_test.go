package goruntime

import "fmt"

// fakeHeap hands out unique addresses and counts bytes. It checks that
// every Free matches a live Alloc. In retain mode freed memory stays mapped
// until scavenged or reused, like a real allocator's page cache.
type fakeHeap struct {
	next           uint64
	inUse          int64
	retained       int64 // freed, still mapped (retain mode)
	retain         bool
	failAboveBytes int64 // Alloc fails past this many bytes in use; 0: never
	mappedExtra    int64 // added to MappedBytes
	allocCostNs    int64
	freeCostNs     int64
	scavenged      int64
	live           map[uint64]int64
	err            error // first contract violation
}

func newFakeHeap() *fakeHeap {
	return &fakeHeap{next: 1 << 20, live: map[uint64]int64{}, allocCostNs: 20, freeCostNs: 10}
}

func (h *fakeHeap) Alloc(_ int64, cpu int, size int64) (uint64, int64, bool) {
	if h.failAboveBytes > 0 && h.inUse+size > h.failAboveBytes {
		return 0, 0, false
	}
	if cpu < 0 {
		h.fail(fmt.Errorf("alloc on cpu %d", cpu))
	}
	addr := h.next
	h.next += uint64(size)
	h.inUse += size
	h.retained -= min(h.retained, size)
	h.live[addr] = size
	return addr, h.allocCostNs, true
}

func (h *fakeHeap) Free(_ int64, _ int, addr uint64, size int64) int64 {
	got, ok := h.live[addr]
	switch {
	case !ok:
		h.fail(fmt.Errorf("free of %#x: not live", addr))
	case got != size:
		h.fail(fmt.Errorf("free of %#x with size %d, allocated %d", addr, size, got))
	}
	delete(h.live, addr)
	h.inUse -= size
	if h.retain {
		h.retained += size
	}
	return h.freeCostNs
}

func (h *fakeHeap) MappedBytes() int64 { return h.inUse + h.retained + h.mappedExtra }

func (h *fakeHeap) Scavenge(_ int64, bytes int64) (int64, int64) {
	n := min(bytes, h.retained)
	h.retained -= n
	h.scavenged += n
	return n, n / 4096 * 100
}

func (h *fakeHeap) fail(err error) {
	if h.err == nil {
		h.err = err
	}
}
