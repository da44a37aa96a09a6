package arena

import (
	"encoding/binary"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

func newTestArena(t *testing.T, cfg ArenaConfig) *Arena {
	t.Helper()
	a, err := NewArena(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Error(err)
		}
	})
	return a
}

// TestArenaNoOverlap drives the arena with random allocations and frees of
// every order and checks, for each block handed out, that it is aligned to
// its size, inside the arena, overlaps no live block, and is real memory:
// a pattern written over it is intact when it is freed.
func TestArenaNoOverlap(t *testing.T) {
	const seed = 4
	a := newTestArena(t, ArenaConfig{SizeBytes: 64 << 20, MadviseMinOrder: 8})
	rng := rand.New(rand.NewPCG(seed, 1))
	pages := make([]uint64, a.pages) // arena address of the live block covering each page, 0 for none
	type live struct {
		addr  uint64
		order int
	}
	var blocks []live
	for step := range 20000 {
		if len(blocks) > 0 && (rng.IntN(2) == 0 || step%5000 > 4000) {
			i := rng.IntN(len(blocks))
			b := blocks[i]
			blocks[i] = blocks[len(blocks)-1]
			blocks = blocks[:len(blocks)-1]
			verifyPattern(t, a.Bytes(b.addr, PageBytes<<b.order), b.addr)
			first := (b.addr - Origin) >> pageShift
			for p := first; p < first+1<<b.order; p++ {
				if pages[p] != b.addr {
					t.Fatalf("seed %d step %d: page %d of %#x is booked to %#x", seed, step, p, b.addr, pages[p])
				}
				pages[p] = 0
			}
			a.FreePages(0, b.addr, b.order)
		} else {
			order := min(rng.IntN(MaxOrder+3), MaxOrder) // larger orders are likelier, so the arena fills
			addr, node, stall, ok := a.AllocPages(0, 0, order, 0)
			if !ok {
				continue
			}
			size := uint64(PageBytes) << order
			if node != 0 || stall != 0 || addr%size != 0 || addr < Origin || addr-Origin+size > uint64(len(a.mem)) {
				t.Fatalf("seed %d step %d: order %d got %#x node %d stall %d", seed, step, order, addr, node, stall)
			}
			b := a.Bytes(addr, int(size))
			if p := uintptr(unsafe.Pointer(unsafe.SliceData(b))); p%uintptr(size) != 0 {
				t.Fatalf("seed %d step %d: block %#x is at pointer %#x, not aligned to %d", seed, step, addr, p, size)
			}
			first := (addr - Origin) >> pageShift
			for p := first; p < first+1<<order; p++ {
				if pages[p] != 0 {
					t.Fatalf("seed %d step %d: block %#x order %d overlaps live block %#x", seed, step, addr, order, pages[p])
				}
				pages[p] = addr
			}
			writePattern(b, addr)
			blocks = append(blocks, live{addr, order})
		}
		if step%1000 == 0 {
			if err := a.check(); err != nil {
				t.Fatalf("seed %d step %d: %v", seed, step, err)
			}
		}
	}
	for _, b := range blocks {
		verifyPattern(t, a.Bytes(b.addr, PageBytes<<b.order), b.addr)
		a.FreePages(0, b.addr, b.order)
	}
	if err := a.check(); err != nil {
		t.Fatal(err)
	}
	st := a.Stats()
	if st.InUseBytes != 0 || st.Allocs != st.Frees || st.Merges == 0 || st.Splits == 0 || st.MadvisedBytes == 0 || st.AllocFailures == 0 {
		t.Fatalf("after freeing everything: %+v", st)
	}
	// Everything freed coalesces back into whole top blocks.
	if got, want := len(a.free[MaxOrder]), int(a.pages>>MaxOrder); got != want {
		t.Fatalf("%d free top blocks after freeing everything, want %d", got, want)
	}
}

// patternStride spaces the words writePattern writes: at most 8 pages of a
// block get one, plus its last word. Touching every page would make the
// test spend seconds in page faults after each madvise; the test's books
// catch overlaps page by page, and heap_test checks every byte.
func patternStride(size int) int { return max(PageBytes, size/8) }

// writePattern writes id into words of block b spread over its whole
// length: an overlapping block would overwrite some with its own id.
func writePattern(b []byte, id uint64) {
	for i := 0; i < len(b); i += patternStride(len(b)) {
		binary.LittleEndian.PutUint64(b[i:], id)
	}
	binary.LittleEndian.PutUint64(b[len(b)-8:], id)
}

func verifyPattern(t *testing.T, b []byte, id uint64) {
	t.Helper()
	check := func(i int) {
		if got := binary.LittleEndian.Uint64(b[i:]); got != id {
			t.Fatalf("block %#x: word at +%d is %#x: overwritten", id, i, got)
		}
	}
	for i := 0; i < len(b); i += patternStride(len(b)) {
		check(i)
	}
	check(len(b) - 8)
}

func TestArenaExhaustsAndRecovers(t *testing.T) {
	a := newTestArena(t, ArenaConfig{SizeBytes: 4 * TopBlockBytes})
	var got []uint64
	for {
		addr, _, _, ok := a.AllocPages(0, 0, MaxOrder, 0)
		if !ok {
			break
		}
		got = append(got, addr)
	}
	if len(got) != 4 {
		t.Fatalf("4-block arena served %d top blocks", len(got))
	}
	if _, _, _, ok := a.AllocPages(0, 0, 0, 0); ok {
		t.Fatal("a full arena served a page")
	}
	a.FreePages(0, got[2], MaxOrder)
	addr, _, _, ok := a.AllocPages(0, 0, 3, 0)
	if !ok || addr != got[2] {
		t.Fatalf("after freeing %#x, order 3 got %#x %v", got[2], addr, ok)
	}
	if err := a.check(); err != nil {
		t.Fatal(err)
	}
}

func TestArenaRejectsBadOrders(t *testing.T) {
	a := newTestArena(t, ArenaConfig{SizeBytes: TopBlockBytes})
	for _, order := range []int{-1, MaxOrder + 1} {
		if _, _, _, ok := a.AllocPages(0, 0, order, 0); ok {
			t.Errorf("order %d served", order)
		}
	}
}

// TestArenaFreePanics checks that frees the PageSource contract forbids
// panic, and leave the books as they were.
func TestArenaFreePanics(t *testing.T) {
	a := newTestArena(t, ArenaConfig{SizeBytes: TopBlockBytes})
	addr, _, _, ok := a.AllocPages(0, 0, 2, 0)
	if !ok {
		t.Fatal("alloc failed")
	}
	for _, tc := range []struct {
		name  string
		addr  uint64
		order int
	}{
		{"wrong order", addr, 3},
		{"inside the block", addr + PageBytes, 0},
		{"misaligned", addr + 1, 0},
		{"below the arena", Origin - PageBytes, 0},
		{"beyond the arena", Origin + TopBlockBytes, 0},
		{"never allocated", addr + 4*PageBytes, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("FreePages(%#x, %d) did not panic", tc.addr, tc.order)
				}
			}()
			a.FreePages(0, tc.addr, tc.order)
		})
	}
	a.FreePages(0, addr, 2)
	defer func() {
		if recover() == nil {
			t.Error("double free did not panic")
		}
	}()
	a.FreePages(0, addr, 2)
}

// TestArenaMadvise checks that a large freed block's pages go back to the
// kernel (they read zeros when handed out again) and a small one's keep
// their contents.
func TestArenaMadvise(t *testing.T) {
	a := newTestArena(t, ArenaConfig{SizeBytes: TopBlockBytes})
	for _, tc := range []struct {
		order      int
		wantZeroed bool
	}{{DefaultMadviseMinOrder, true}, {DefaultMadviseMinOrder - 1, false}} {
		addr, _, _, ok := a.AllocPages(0, 0, tc.order, 0)
		if !ok {
			t.Fatal("alloc failed")
		}
		b := a.Bytes(addr, PageBytes<<tc.order)
		writePattern(b, addr)
		a.FreePages(0, addr, tc.order)
		again, _, _, _ := a.AllocPages(0, 0, tc.order, 0)
		if again != addr {
			t.Fatalf("order %d: the freed block %#x was not reused (got %#x)", tc.order, addr, again)
		}
		zeroed := binary.LittleEndian.Uint64(b) == 0 && binary.LittleEndian.Uint64(b[len(b)-8:]) == 0
		if zeroed != tc.wantZeroed {
			t.Errorf("order %d: zeroed after free %v, want %v", tc.order, zeroed, tc.wantZeroed)
		}
		a.FreePages(0, addr, tc.order)
	}
	if got, want := a.Stats().MadvisedBytes, int64(2*PageBytes<<DefaultMadviseMinOrder); got != want { // freed twice
		t.Errorf("MadvisedBytes %d, want %d", got, want)
	}
}

func TestArenaConfigErrors(t *testing.T) {
	for _, cfg := range []ArenaConfig{
		{SizeBytes: -TopBlockBytes},
		{SizeBytes: TopBlockBytes + PageBytes},
		{SizeBytes: MaxArenaBytes + TopBlockBytes},
		{SizeBytes: TopBlockBytes, MadviseMinOrder: -1},
	} {
		if a, err := NewArena(cfg); err == nil {
			_ = a.Close()
			t.Errorf("NewArena(%+v) succeeded", cfg)
		}
	}
}

func TestArenaClose(t *testing.T) {
	a, err := NewArena(ArenaConfig{SizeBytes: TopBlockBytes})
	if err != nil {
		t.Fatal(err)
	}
	addr, _, _, ok := a.AllocPages(0, 0, 0, 0)
	if !ok {
		t.Fatal("alloc failed")
	}
	lo, hi := uint64(a.base), uint64(a.base)+uint64(len(a.mem))
	if !mapped(t, lo, hi) {
		t.Fatalf("arena [%#x, %#x) is not in /proc/self/maps before Close", lo, hi)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if mapped(t, lo, hi) {
		t.Fatalf("arena [%#x, %#x) is still in /proc/self/maps after Close", lo, hi)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, _, _, ok := a.AllocPages(0, 0, 0, 0); ok {
		t.Fatal("a closed arena served a page")
	}
	a.FreePages(0, addr, 0) // does nothing
}

// mapped reports whether any mapping in /proc/self/maps overlaps [lo, hi).
func mapped(t *testing.T, lo, hi uint64) bool {
	t.Helper()
	text, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skipf("no /proc/self/maps: %v", err)
	}
	for line := range strings.Lines(string(text)) {
		span, _, _ := strings.Cut(line, " ")
		from, to, _ := strings.Cut(span, "-")
		start, err1 := strconv.ParseUint(from, 16, 64)
		end, err2 := strconv.ParseUint(to, 16, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("bad /proc/self/maps line %q", line)
		}
		if start < hi && lo < end {
			return true
		}
	}
	return false
}
