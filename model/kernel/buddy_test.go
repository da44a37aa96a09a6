package kernel

import (
	"errors"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// buddyRef is the reference the rapid state machine checks the allocator
// against: which pages are managed, which are allocated, and the allocated
// blocks themselves.
type buddyRef struct {
	b       *Buddy
	start   int64
	managed []bool
	owned   []bool
	blocks  []refBlock
}

type refBlock struct {
	pfn   int64
	order int
}

// newBuddyRef draws a zone: start PFN (aligned or not), span, and managed
// segments separated by holes.
func newBuddyRef(t *rapid.T) *buddyRef {
	start := rapid.SampledFrom([]int64{0, 1, 1024, 3*1024 + 512, 4096}).Draw(t, "start")
	spanned := rapid.Int64Range(1, 5*1024).Draw(t, "spanned")
	b, err := NewBuddy(start, spanned)
	if err != nil {
		t.Fatal(err)
	}
	r := &buddyRef{b: b, start: start, managed: make([]bool, spanned), owned: make([]bool, spanned)}
	cuts := rapid.SliceOfN(rapid.Int64Range(0, spanned), 0, 4).Draw(t, "cuts")
	cuts = append(cuts, 0, spanned)
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	on := rapid.Bool().Draw(t, "first_segment_managed") || len(cuts) == 2
	for i := 0; i+1 < len(cuts); i++ {
		if on {
			r.add(t, start+cuts[i], cuts[i+1]-cuts[i])
		}
		on = !on
	}
	return r
}

func (r *buddyRef) add(t *rapid.T, pfn, n int64) {
	if err := r.b.AddRange(pfn, n); err != nil {
		t.Fatalf("AddRange(%#x, %d): %v", pfn, n, err)
	}
	for i := pfn - r.start; i < pfn-r.start+n; i++ {
		r.managed[i] = true
	}
}

// freeSet is the set of managed pages not allocated, per page index.
func (r *buddyRef) freeSet() []bool {
	f := make([]bool, len(r.managed))
	for i := range f {
		f[i] = r.managed[i] && !r.owned[i]
	}
	return f
}

// canonicalNrFree computes, without looking at the allocator, how many free
// blocks of each order a fully coalesced buddy allocator must hold for this
// set of free pages: the maximal aligned blocks of free pages.
func canonicalNrFree(start int64, free []bool) [NrOrders]int64 {
	var nr [NrOrders]int64
	for i := int64(0); i < int64(len(free)); {
		if !free[i] {
			i++
			continue
		}
		o := 0
		for o < MaxOrder && allFree(start, free, i, o+1) {
			o++
		}
		nr[o]++
		i += 1 << o
	}
	return nr
}

// allFree reports whether the aligned block of order o at index i lies in
// the span and is entirely free.
func allFree(start int64, free []bool, i int64, o int) bool {
	size := int64(1) << o
	if (start+i)&(size-1) != 0 || i+size > int64(len(free)) {
		return false
	}
	for j := i; j < i+size; j++ {
		if !free[j] {
			return false
		}
	}
	return true
}

func (r *buddyRef) allocatedPages() int64 {
	var n int64
	for _, blk := range r.blocks {
		n += 1 << blk.order
	}
	return n
}

func (r *buddyRef) check(t *rapid.T) {
	if err := r.b.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
	if got, want := r.b.FreePages()+r.allocatedPages(), r.b.Managed(); got != want {
		t.Fatalf("free %d + allocated %d != managed %d", r.b.FreePages(), r.allocatedPages(), want)
	}
	want := canonicalNrFree(r.start, r.freeSet())
	for o := 0; o <= MaxOrder; o++ {
		if r.b.NrFree(o) != want[o] {
			t.Fatalf("nr_free[%d] = %d, reference %d (all: %v)", o, r.b.NrFree(o), want[o], want)
		}
	}
}

func (r *buddyRef) take(t *rapid.T, pfn int64, order int) {
	if pfn&(1<<order-1) != 0 {
		t.Fatalf("block %#x order %d misaligned", pfn, order)
	}
	for i := pfn - r.start; i < pfn-r.start+1<<order; i++ {
		if i < 0 || i >= int64(len(r.owned)) || !r.managed[i] || r.owned[i] {
			t.Fatalf("block %#x order %d overlaps page %#x (managed %v)", pfn, order, r.start+i, i >= 0 && i < int64(len(r.managed)) && r.managed[i])
		}
		if r.b.IsFree(r.start + i) {
			t.Fatalf("allocated page %#x still free in the allocator", r.start+i)
		}
		r.owned[i] = true
	}
	r.blocks = append(r.blocks, refBlock{pfn, order})
}

func (r *buddyRef) release(k int) {
	blk := r.blocks[k]
	for i := blk.pfn - r.start; i < blk.pfn-r.start+1<<blk.order; i++ {
		r.owned[i] = false
	}
	r.blocks = slices.Delete(r.blocks, k, k+1)
}

func (r *buddyRef) alloc(t *rapid.T) {
	order := rapid.IntRange(0, MaxOrder).Draw(t, "order")
	nr := canonicalNrFree(r.start, r.freeSet())
	want := false
	for o := order; o <= MaxOrder; o++ {
		want = want || nr[o] > 0
	}
	// Any type's allocation reaches every ordinary free list through
	// its fallbacks (steal, if it cannot claim), so the answer depends
	// only on the free blocks.
	mt := rapid.SampledFrom([]Migratetype{MigrateMovable, MigrateUnmovable, MigrateReclaimable}).Draw(t, "migratetype")
	pfn, ok := r.b.Rmqueue(order, mt, 0)
	if ok != want {
		t.Fatalf("Rmqueue(%d, %s) ok=%v, reference says a block is free: %v", order, mt, ok, want)
	}
	if ok {
		r.take(t, pfn, order)
	}
}

func (r *buddyRef) free(t *rapid.T) {
	if len(r.blocks) == 0 {
		t.Skip("nothing allocated")
	}
	k := rapid.IntRange(0, len(r.blocks)-1).Draw(t, "block")
	blk := r.blocks[k]
	if err := r.b.Free(blk.pfn, blk.order); err != nil {
		t.Fatalf("Free(%#x, %d): %v", blk.pfn, blk.order, err)
	}
	r.release(k)
}

func (r *buddyRef) allocAt(t *rapid.T) {
	order := rapid.IntRange(0, MaxOrder).Draw(t, "order")
	idx := rapid.Int64Range(0, int64(len(r.managed))-1).Draw(t, "index")
	pfn := (r.start + idx) &^ (1<<order - 1)
	want := pfn >= r.start && allFree(r.start, r.freeSet(), pfn-r.start, order)
	err := r.b.AllocAt(pfn, order)
	if (err == nil) != want {
		t.Fatalf("AllocAt(%#x, %d) = %v, reference free %v", pfn, order, err, want)
	}
	if err == nil {
		r.take(t, pfn, order)
	}
}

func (r *buddyRef) split(t *rapid.T) {
	if len(r.blocks) == 0 {
		t.Skip("nothing allocated")
	}
	k := rapid.IntRange(0, len(r.blocks)-1).Draw(t, "block")
	blk := r.blocks[k]
	if err := r.b.Split(blk.pfn, blk.order); err != nil {
		t.Fatalf("Split(%#x, %d): %v", blk.pfn, blk.order, err)
	}
	r.blocks = slices.Delete(r.blocks, k, k+1)
	for i := int64(0); i < 1<<blk.order; i++ {
		r.blocks = append(r.blocks, refBlock{blk.pfn + i, 0})
	}
}

// misuse frees a free page, or an allocated block with a wrong order or
// alignment, and checks the typed error and that nothing changed.
func (r *buddyRef) misuse(t *rapid.T) {
	idx := rapid.Int64Range(0, int64(len(r.managed))-1).Draw(t, "index")
	order := rapid.IntRange(0, MaxOrder).Draw(t, "order")
	pfn := r.start + idx
	free := r.managed[idx] && !r.owned[idx]
	freeBefore := r.b.FreePages()
	err := r.b.Free(pfn, order)
	if err == nil {
		if !slices.Contains(r.blocks, refBlock{pfn, order}) {
			t.Fatalf("Free(%#x, %d) of a block never allocated succeeded", pfn, order)
		}
		r.release(slices.Index(r.blocks, refBlock{pfn, order}))
		return
	}
	var pe *PageError
	if !errors.As(err, &pe) {
		t.Fatalf("Free error %v is not a *PageError", err)
	}
	if pfn&(1<<order-1) != 0 && !errors.Is(err, ErrBadAlign) {
		t.Fatalf("misaligned Free(%#x, %d) = %v, want ErrBadAlign", pfn, order, err)
	}
	if pfn&(1<<order-1) == 0 && pfn+1<<order <= r.start+int64(len(r.managed)) && free && !errors.Is(err, ErrDoubleFree) {
		t.Fatalf("Free(%#x, %d) of a free page = %v, want ErrDoubleFree", pfn, order, err)
	}
	if r.b.FreePages() != freeBefore {
		t.Fatalf("failed Free changed free pages %d -> %d", freeBefore, r.b.FreePages())
	}
}

func (r *buddyRef) freeAll(t *rapid.T) {
	for len(r.blocks) > 0 {
		blk := r.blocks[len(r.blocks)-1]
		if err := r.b.Free(blk.pfn, blk.order); err != nil {
			t.Fatal(err)
		}
		r.release(len(r.blocks) - 1)
	}
	r.check(t)
	if r.b.FreePages() != r.b.Managed() {
		t.Fatalf("after freeing all: free %d != managed %d", r.b.FreePages(), r.b.Managed())
	}
}

// TestBuddyStateMachine drives random allocations of every ordinary
// migratetype (own lists, claims and steals), targeted allocations,
// splits, frees and misuse against the reference, checking after every
// step that no page is free twice, no blocks overlap, free + allocated =
// managed, every free block sits on its pageblock's type's list and
// nr_free matches a fully coalesced reference (free blocks of ordinary
// types merge across pageblocks of different types); after freeing
// everything, all free memory is in maximal aligned blocks.
func TestBuddyStateMachine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := newBuddyRef(t)
		t.Repeat(map[string]func(*rapid.T){
			"alloc":    r.alloc,
			"free":     r.free,
			"alloc_at": r.allocAt,
			"split":    r.split,
			"misuse":   r.misuse,
			"":         r.check,
		})
		r.freeAll(t)
	})
}

// TestBuddyCoalescesToMaxOrder: an aligned zone of 8 MiB blocks returns to
// exactly managed/1024 order-10 blocks after any allocation history.
func TestBuddyCoalescesToMaxOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		blocks := rapid.Int64Range(1, 4).Draw(t, "blocks")
		b, err := NewBuddy(MaxBlockPages*rapid.Int64Range(0, 3).Draw(t, "start_blocks"), blocks*MaxBlockPages)
		if err != nil {
			t.Fatal(err)
		}
		r := &buddyRef{b: b, start: b.StartPFN(), managed: make([]bool, b.Spanned()), owned: make([]bool, b.Spanned())}
		r.add(t, b.StartPFN(), b.Spanned())
		t.Repeat(map[string]func(*rapid.T){"alloc": r.alloc, "free": r.free, "split": r.split})
		r.freeAll(t)
		for o := 0; o < MaxOrder; o++ {
			if b.NrFree(o) != 0 {
				t.Fatalf("nr_free[%d] = %d after freeing all", o, b.NrFree(o))
			}
		}
		if b.NrFree(MaxOrder) != blocks {
			t.Fatalf("nr_free[%d] = %d, want %d", MaxOrder, b.NrFree(MaxOrder), blocks)
		}
	})
}

func TestBuddyExpandKeepsLowerHalf(t *testing.T) {
	b := mustBuddy(t, 0, MaxBlockPages)
	pfn, ok := b.Alloc(0)
	if !ok || pfn != 0 {
		t.Fatalf("Alloc(0) = %d, %v; want the lowest page 0", pfn, ok)
	}
	for o := 0; o < MaxOrder; o++ {
		if b.NrFree(o) != 1 {
			t.Fatalf("after splitting an order-10 block, nr_free[%d] = %d, want 1", o, b.NrFree(o))
		}
	}
	// The freshly split order-0 buddy (pfn 1) is at the head of its list.
	if next, _ := b.Alloc(0); next != 1 {
		t.Fatalf("second Alloc(0) = %d, want 1", next)
	}
}

func TestBuddyErrors(t *testing.T) {
	b := mustBuddy(t, 0, 2*MaxBlockPages)
	pfn, _ := b.Alloc(3)
	cases := []struct {
		name  string
		pfn   int64
		order int
		want  BuddyErr
	}{
		{"misaligned", pfn + 4, 3, ErrBadAlign},
		{"wrong order", pfn, 2, ErrBadOrder},
		{"order too big", pfn, MaxOrder + 1, ErrBadOrder},
		{"free page", pfn + 8, 0, ErrDoubleFree},
		{"tail page", pfn + 1, 0, ErrNotAllocated},
		{"outside span", 2 * MaxBlockPages, 0, ErrOutOfRange},
	}
	for _, c := range cases {
		if err := b.Free(c.pfn, c.order); !errors.Is(err, c.want) {
			t.Errorf("%s: Free(%d, %d) = %v, want %v", c.name, c.pfn, c.order, err, c.want)
		}
	}
	if err := b.Free(pfn, 3); err != nil {
		t.Fatal(err)
	}
	if err := b.Free(pfn, 3); !errors.Is(err, ErrDoubleFree) {
		t.Fatalf("second Free = %v, want ErrDoubleFree", err)
	}
	if err := b.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

func TestBuddyRemoveRange(t *testing.T) {
	b := mustBuddy(t, 0, 2*MaxBlockPages)
	if err := b.AllocAt(5, 0); err != nil {
		t.Fatal(err)
	}
	if err := b.RemoveRange(0, 16); !errors.Is(err, ErrBusy) {
		t.Fatalf("RemoveRange over an allocated page = %v, want ErrBusy", err)
	}
	if err := b.RemoveRange(MaxBlockPages+3, 700); err != nil {
		t.Fatal(err)
	}
	if got, want := b.Managed(), int64(2*MaxBlockPages-700); got != want {
		t.Fatalf("managed = %d, want %d", got, want)
	}
	if err := b.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
	if err := b.AddRange(MaxBlockPages+3, 700); err != nil {
		t.Fatal(err)
	}
	if err := b.Free(5, 0); err != nil {
		t.Fatal(err)
	}
	if b.NrFree(MaxOrder) != 2 {
		t.Fatalf("after onlining back, nr_free[10] = %d, want 2", b.NrFree(MaxOrder))
	}
}

// fataler is what test helpers need of *testing.T, *testing.B and *rapid.T.
type fataler interface {
	Helper()
	Fatal(args ...any)
}

func mustBuddy(t fataler, start, pages int64) *Buddy {
	t.Helper()
	b, err := NewBuddy(start, pages)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.AddRange(start, pages); err != nil {
		t.Fatal(err)
	}
	return b
}

// BenchmarkBuddy measures one Alloc plus one Free on a 1 GiB zone, empty
// (every order-0 request splits an order-10 block and the free merges it
// back: the worst case) and half full of scattered order-0 pages.
func BenchmarkBuddy(b *testing.B) {
	for _, bc := range []struct {
		name      string
		order     int
		fragments bool
	}{{"order0", 0, false}, {"order9", 9, false}, {"order0-fragmented", 0, true}, {"order9-fragmented", 9, true}} {
		b.Run(bc.name, func(b *testing.B) {
			z := mustBuddy(b, 0, 1<<18)
			if bc.fragments {
				fragment(z)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				pfn, ok := z.Alloc(bc.order)
				if !ok {
					b.Fatal("out of memory")
				}
				if err := z.Free(pfn, bc.order); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// fragment allocates every order-0 page of the first half of the zone and
// frees every other one, leaving 1/4 of the zone as isolated free pages.
func fragment(z *Buddy) {
	for pfn := int64(0); pfn < z.Managed()/2; pfn++ {
		if err := z.AllocAt(pfn, 0); err != nil {
			panic(err)
		}
	}
	for pfn := int64(0); pfn < z.Managed()/2; pfn += 2 {
		if err := z.Free(pfn, 0); err != nil {
			panic(err)
		}
	}
}
