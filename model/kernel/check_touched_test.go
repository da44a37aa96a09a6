package kernel

import (
	"errors"
	"slices"
	"testing"
)

// touchedPages are pages an operation touched (and one it did not) on the
// machine touchedMachine builds.
type touchedPages struct {
	anon, file, mlocked int64 // pfns the last operations faulted in or read
	untouchedAnon       int64 // an anonymous pfn in a region they left alone
	file0               FileID
	freeNode            *node // a free block in a region they touched
	freeIdx             int32
}

// touchedMachine builds a two-node machine with per-CPU lists, swap and a
// cgroup, fills some of it, turns the touch record on and checks it whole
// (as `sbmpsim check` does first), and then runs one "event" on node 0:
// faults, a read and an mlock.
func touchedMachine(t *testing.T) (*Machine, touchedPages) {
	t.Helper()
	m, err := NewMachine(MachineConfig{
		NodePages: []int64{8192, 8192}, Zonelists: [][]int{{0, 1}, {1, 0}},
		Swappiness: 60, SwapPages: 1024, CPUNodes: []int{0, 0, 1, 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AddCgroup("/a", CgroupLimits{}); err != nil {
		t.Fatal(err)
	}
	for _, task := range []Task{{PID: 100, Comm: "eater", Cgroup: "/a"}, {PID: 300, Comm: "reader"}, {PID: 400, Comm: "locker"}} {
		if err := m.AddTask(task); err != nil {
			t.Fatal(err)
		}
	}
	must := func(_, _ int64, oom *OOMEvent, err error) {
		t.Helper()
		if err != nil || oom != nil {
			t.Fatal(oom, err)
		}
	}
	must(m.AllocAnon(100, 1, 2000))
	must(m.AllocAnon(100, 0, 3000))
	must(m.AllocFile(300, 0, 500))
	must(m.AllocMlocked(400, 0, 100))
	var tp touchedPages
	tp.untouchedAnon = m.tasks[m.slot[100]].anon.vmas[0].slots[10].pfn
	m.TrackTouched()
	if err := m.CheckTouched(); err != nil { // the first is a whole walk
		t.Fatal(err)
	}
	must(m.AllocAnon(100, 0, 64))
	must(m.AllocFile(300, 0, 16))
	must(m.AllocMlocked(400, 0, 8))

	heap := m.tasks[m.slot[100]].anon.vmas[0].slots
	tp.anon = heap[len(heap)-1].pfn
	ml := m.tasks[m.slot[400]].mlocked
	tp.mlocked = ml[len(ml)-1]
	tp.file0 = FileID(m.tasks[m.slot[300]].ownFile)
	fs := m.files[tp.file0].slots
	for i := len(fs) - 1; i >= 0 && tp.file == 0; i-- {
		if fs[i].pfn >= 0 {
			tp.file = fs[i].pfn
		}
	}
	if m.touched(tp.untouchedAnon) || !m.touched(tp.anon) || !m.touched(tp.file) || !m.touched(tp.mlocked) {
		t.Fatal("the event did not touch what the test corrupts, or touched the page it leaves alone")
	}
	tp.freeNode, tp.freeIdx = m.touchedFreeBlock()
	if tp.freeNode == nil {
		t.Fatal("no free block in a touched region")
	}
	return m, tp
}

// touched reports whether pfn's page is marked.
func (m *Machine) touched(pfn int64) bool {
	c := pfn >> chunkOrder
	return m.touch.pages[c>>6]&(1<<(c&63)) != 0
}

// touchedBlock reports whether the buddy states of pfn's region changed
// since the last check.
func (m *Machine) touchedBlock(pfn int64) bool {
	ni, n := m.nodeOf(pfn)
	lo := (pfn - n.zone.StartPFN) &^ (1<<regionOrder - 1)
	return !slices.Equal(n.buddy.state[lo:lo+1<<regionOrder], m.touch.state[ni][lo:lo+1<<regionOrder])
}

// touchedFreeBlock returns a free block of order 0..3 in a touched region.
func (m *Machine) touchedFreeBlock() (*node, int32) {
	for _, n := range m.nodes {
		b := n.buddy
		for i := int64(0); i < b.spanned; i++ {
			if s := b.state[i]; isFreeState(s) && freeStateOrder(s) <= 3 && m.touchedBlock(b.startPFN+i) {
				return n, int32(i)
			}
		}
	}
	return nil, 0
}

// TestCheckTouchedCatches: a corruption of what an operation touched is
// found by the incremental check itself: by its walk of the touched
// regions or its O(nodes x cgroups) books, or (stale) by its counts
// disagreeing with the counters, which CheckTouched settles with the
// whole walk, which then reports it.
func TestCheckTouchedCatches(t *testing.T) {
	page := func(m *Machine, pfn int64) *pageState { _, n := m.nodeOf(pfn); return n.page(pfn) }
	anonSlot := func(m *Machine, pfn int64) *pageSlot {
		p := page(m, pfn)
		return &m.tasks[p.owner-1].anon.vmas[p.vma].slots[p.idx]
	}
	cases := []struct {
		name    string
		corrupt func(m *Machine, tp touchedPages)
		stale   bool
	}{
		{"anonymous page marked huge outside a huge page", func(m *Machine, tp touchedPages) { page(m, tp.anon).flags |= pgHuge }, false},
		{"anonymous page names another slot", func(m *Machine, tp touchedPages) { page(m, tp.anon).idx-- }, false},
		{"page-cache page names another slot", func(m *Machine, tp touchedPages) { page(m, tp.file).idx-- }, false},
		{"mlocked page missing from its task's list", func(m *Machine, tp touchedPages) {
			ml := m.tasks[m.slot[400]].mlocked
			ml[len(ml)-1] = tp.untouchedAnon
		}, false},
		{"LRU link to a page that does not link back", func(m *Machine, tp touchedPages) { page(m, tp.anon).prev = 3 }, false},
		{"page on the list of another cgroup", func(m *Machine, tp touchedPages) { page(m, tp.anon).cg = 0 }, false},
		{"slot in the swap cache without a swap slot", func(m *Machine, tp touchedPages) { anonSlot(m, tp.anon).swf |= swfDirty }, false},
		{"free block of another order", func(m *Machine, tp touchedPages) {
			b := tp.freeNode.buddy
			b.state[tp.freeIdx] = freeState(freeStateOrder(b.state[tp.freeIdx])+1, freeStateMT(b.state[tp.freeIdx]))
		}, false},
		{"free list link broken", func(m *Machine, tp touchedPages) {
			b := tp.freeNode.buddy
			b.link(tp.freeIdx, freeStateOrder(b.state[tp.freeIdx]))[0] = tp.freeIdx + 1
		}, false},
		{"free block in a pageblock of another type", func(m *Machine, tp touchedPages) {
			b := tp.freeNode.buddy
			b.blockMT[b.blockOf(b.startPFN+int64(tp.freeIdx))] = MigrateUnmovable
		}, false},
		{"LRU list count", func(m *Machine, tp touchedPages) { m.nodes[0].lru[1].lists[InactiveAnon].n++ }, false},
		{"cgroup charge", func(m *Machine, tp touchedPages) { m.cgroups.cgs[1].localPages++ }, false},
		{"free page counter", func(m *Machine, tp touchedPages) { m.nodes[0].buddy.free++ }, true},
		{"page-cache counter of a file", func(m *Machine, tp touchedPages) { m.files[tp.file0].cached++ }, true},
		{"mlocked list longer than its pages", func(m *Machine, tp touchedPages) {
			s := m.slot[400]
			m.tasks[s].mlocked = append(m.tasks[s].mlocked, -1)
		}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, _ := touchedMachine(t)
			if err := m.checkTouched(); err != nil {
				t.Fatalf("before the corruption: %v", err)
			}
			m2, tp2 := touchedMachine(t) // the same machine, its record not yet read
			c.corrupt(m2, tp2)
			err := m2.checkTouched()
			switch {
			case err == nil:
				t.Fatal("the incremental check missed it")
			case c.stale != errors.Is(err, errStale):
				t.Fatalf("stale %v, want %v: %v", errors.Is(err, errStale), c.stale, err)
			}
			m3, tp3 := touchedMachine(t)
			c.corrupt(m3, tp3)
			full := m3.CheckTouched()
			if full == nil || errors.Is(full, errStale) {
				t.Fatalf("CheckTouched: %v, want the violation", full)
			}
			t.Log(full)
		})
	}
}

// TestCheckTouchedLeavesTheRest: what an incremental check does not
// cover, the whole walk does: a corrupted page in a region no operation
// touched since the last check, and the books that only a whole walk
// counts (an anonymous slot's RSS, a swapped slot).
func TestCheckTouchedLeavesTheRest(t *testing.T) {
	cases := []struct {
		name    string
		corrupt func(m *Machine, tp touchedPages)
	}{
		{"untouched page marked huge", func(m *Machine, tp touchedPages) {
			_, n := m.nodeOf(tp.untouchedAnon)
			n.page(tp.untouchedAnon).flags |= pgHuge
		}},
		{"untouched LRU link", func(m *Machine, tp touchedPages) {
			_, n := m.nodeOf(tp.untouchedAnon)
			n.page(tp.untouchedAnon).prev = 3
		}},
		{"task RSS", func(m *Machine, tp touchedPages) { m.tasks[m.slot[100]].RSSAnonPages++ }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, tp := touchedMachine(t)
			c.corrupt(m, tp)
			if err := m.checkTouched(); err != nil {
				t.Fatalf("the incremental check found it (%v): move the case to TestCheckTouchedCatches", err)
			}
			if err := m.CheckInvariants(); err == nil {
				t.Fatal("the whole walk missed it")
			}
		})
	}
}
