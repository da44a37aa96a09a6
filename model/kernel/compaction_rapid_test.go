package kernel

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestCompactionBooksBalance drives a machine kept fragmented (one-page
// mappings with every other one unmapped, kernel pages freed at random,
// page cache between them) through huge page faults under every defrag
// mode, costly kernel allocations, kswapd, kcompactd and proactive
// compaction, and checks after every step that the books balance
// (CheckInvariants: every page where its owner says, every free block on
// its pageblock type's list, every mapping's frames its own), that
// compaction moved only movable pages (kernel pages stay where they were
// allocated), and that the compaction counters only grow consistently.
func TestCompactionBooksBalance(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		sys := DefaultCompactionSysctls()
		sys.Proactiveness = rapid.SampledFrom([]int{0, 20, 90}).Draw(t, "proactiveness")
		sys.ExtfragThreshold = rapid.SampledFrom([]int{0, 500, 1000}).Draw(t, "extfrag_threshold")
		sys.UnevictableAllowed = rapid.Bool().Draw(t, "unevictable")
		m, err := NewMachine(MachineConfig{NodePages: []int64{16384}, Zonelists: [][]int{{0}}, CPUNodes: []int{0, 0},
			SwapPages: rapid.SampledFrom([]int64{0, 4096}).Draw(t, "swap"), Swappiness: 60, Compaction: &sys})
		if err != nil {
			t.Fatal(err)
		}
		for pid := int64(1); pid <= 2; pid++ {
			if err := m.AddTask(Task{PID: pid, Comm: fmt.Sprint("t", pid)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := m.PlaceTask(1, 0); err != nil {
			t.Fatal(err)
		}
		f, err := m.AddFile(3000)
		if err != nil {
			t.Fatal(err)
		}
		h := &compactionHarness{m: m, file: f, kernel: map[int64]int{}}
		h.setup(t)
		t.Repeat(map[string]func(*rapid.T){
			"fragment": h.fragment,
			"unmap":    h.unmap,
			"read":     h.read,
			"mlock": func(t *rapid.T) {
				if tk, _ := m.Task(2); tk.OOMVictim || tk.RSSAnonPages > 512 {
					t.Skip("killed, or enough mlocked")
				}
				if _, _, _, err := m.AllocMlocked(2, 0, rapid.Int64Range(1, 64).Draw(t, "pages")); err != nil {
					t.Fatal(err)
				}
			},
			"thp":         h.thp,
			"kernel":      h.kernelAlloc,
			"kernel free": h.kernelFree,
			"kswapd": func(t *rapid.T) {
				for again := true; again; {
					_, again = m.KswapdStep(0)
				}
			},
			"kcompactd": func(t *rapid.T) { m.KcompactdStep(0) },
			"proactive": func(t *rapid.T) { m.ProactiveCompactStep(0) },
			"":          h.check,
		})
	})
}

// compactionHarness is TestCompactionBooksBalance's state: the mappings
// and the kernel blocks (pfn -> order) it holds.
type compactionHarness struct {
	m        *Machine
	file     FileID
	mappings []MappingID
	kernel   map[int64]int
	last     VMStat
}

// setup fragments the machine before the random steps: most of memory in
// one-page mappings with every other one unmapped, and, if drawn, a
// kernel page every few pages, so that no 2 MiB block is free.
func (h *compactionHarness) setup(t *rapid.T) {
	every := rapid.SampledFrom([]int{0, 7, 61}).Draw(t, "kernel_every")
	for i := range 15000 {
		if every > 0 && i%every == 0 {
			r, err := h.m.Alloc(AllocRequest{GFP: GFPKernel, CPU: -1, NoOOM: true})
			if err != nil || !r.OK {
				t.Fatalf("setup kernel page %d: %+v %v", i, r, err)
			}
			h.kernel[r.PFN] = 0
			continue
		}
		r, err := h.m.MapAnon(1, 0, 1, MapOptions{NoOOM: true})
		if err != nil || !r.OK {
			t.Fatalf("setup page %d: %+v %v", i, r, err)
		}
		h.mappings = append(h.mappings, r.ID)
	}
	var kept []MappingID
	for i, id := range h.mappings {
		if i%2 == 0 {
			kept = append(kept, id)
		} else if err := h.m.UnmapAnon(1, id); err != nil {
			t.Fatal(err)
		}
	}
	h.mappings = kept
}

// alive skips the step when task pid was OOM-killed.
func (h *compactionHarness) alive(t *rapid.T, pid int64) {
	if tk, _ := h.m.Task(pid); tk.OOMVictim {
		t.Skip("killed")
	}
}

func (h *compactionHarness) fragment(t *rapid.T) {
	h.alive(t, 1)
	for i := range rapid.IntRange(1, 4000).Draw(t, "pages") {
		r, err := h.m.MapAnon(1, 0, 1, MapOptions{NoOOM: true})
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK {
			return
		}
		if i%2 == 0 {
			h.mappings = append(h.mappings, r.ID)
		} else if err := h.m.UnmapAnon(1, r.ID); err != nil {
			t.Fatal(err)
		}
	}
}

func (h *compactionHarness) unmap(t *rapid.T) {
	h.alive(t, 1)
	n := rapid.IntRange(0, len(h.mappings)).Draw(t, "count")
	for range n {
		i := rapid.IntRange(0, len(h.mappings)-1).Draw(t, "i")
		if err := h.m.UnmapAnon(1, h.mappings[i]); err != nil {
			t.Fatal(err)
		}
		h.mappings = append(h.mappings[:i], h.mappings[i+1:]...)
	}
}

func (h *compactionHarness) read(t *rapid.T) {
	h.alive(t, 2)
	start := rapid.Int64Range(0, 2999).Draw(t, "start")
	for i := start; i < min(3000, start+rapid.Int64Range(1, 1500).Draw(t, "count")); i++ {
		if r, err := h.m.ReadFile(2, h.file, i, 0); err != nil || !r.OK {
			return
		}
	}
}

func (h *compactionHarness) thp(t *rapid.T) {
	h.alive(t, 1)
	opts := MapOptions{Huge: true, Defrag: THPDefrag(rapid.IntRange(0, int(THPDefragNever)).Draw(t, "defrag")),
		Madvised: rapid.Bool().Draw(t, "madvised"), NoOOM: true}
	r, err := h.m.MapAnon(1, 0, HugePagePages*rapid.Int64Range(1, 2).Draw(t, "huge"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.OK {
		h.mappings = append(h.mappings, r.ID)
	}
}

func (h *compactionHarness) kernelAlloc(t *rapid.T) {
	order := rapid.SampledFrom([]int{0, 0, 0, 2, 9, 10}).Draw(t, "order")
	req := AllocRequest{Order: order, GFP: rapid.SampledFrom([]GFP{GFPKernel, GFPAtomic}).Draw(t, "gfp"),
		Flags: rapid.SampledFrom([]GFPFlags{0, GFPNoRetry, GFPRetryMayFail}).Draw(t, "flags"), CPU: rapid.IntRange(-1, 1).Draw(t, "cpu"), NoOOM: true}
	for range rapid.IntRange(1, 300).Draw(t, "times") {
		if h.kernelPages() > 4096 {
			return // leave the machine room to stay fragmented rather than full
		}
		r, err := h.m.Alloc(req)
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK {
			return
		}
		h.kernel[r.PFN] = order
	}
}

// kernelPages counts the pages of the kernel blocks held.
func (h *compactionHarness) kernelPages() int64 {
	var n int64
	for _, order := range h.kernel {
		n += 1 << order
	}
	return n
}

func (h *compactionHarness) kernelFree(t *rapid.T) {
	for _, pfn := range slices.Sorted(maps.Keys(h.kernel)) {
		order := h.kernel[pfn]
		if rapid.Bool().Draw(t, "free") {
			if err := h.m.FreeKernel(pfn, order); err != nil {
				t.Fatal(err)
			}
			delete(h.kernel, pfn)
		}
	}
}

func (h *compactionHarness) check(t *rapid.T) {
	if err := h.m.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
	for pfn, order := range h.kernel { // compaction never moves a kernel page (order of checks irrelevant)
		for i := range int64(1) << order {
			if p := h.m.nodes[0].page(pfn + i); p.kind != pageKernel {
				t.Fatalf("kernel block pfn %d order %d: pfn %d is kind %d", pfn, order, pfn+i, p.kind)
			}
		}
	}
	vs := h.m.VMStat()
	for ev := range NrVMEvents {
		if vs[ev] < h.last[ev] {
			t.Fatalf("%s went down: %d -> %d", ev, h.last[ev], vs[ev])
		}
	}
	if vs[CompactSuccess]+vs[CompactFail] != vs[CompactStall] || vs[CompactIsolated] < vs[PgmigrateSuccess] {
		t.Fatalf("compact_stall %d success %d fail %d isolated %d migrated %d", vs[CompactStall], vs[CompactSuccess], vs[CompactFail],
			vs[CompactIsolated], vs[PgmigrateSuccess])
	}
	h.last = vs
}
