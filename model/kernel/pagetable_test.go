package kernel

import "testing"

// TestPageTableReadsFreeWithoutChunks: a page never written reads as a
// free page and costs no chunk; writing a page creates its chunk only.
func TestPageTableReadsFreeWithoutChunks(t *testing.T) {
	tab := newPageTable(3*pageChunkPages - 7)
	free := pageState{prev: noPage, next: noPage}
	for i := range tab.len() {
		if got := tab.get(int32(i)); got != free {
			t.Fatalf("page %d of a new table = %+v, want %+v", i, got, free)
		}
	}
	if n := tab.residentChunks(); n != 0 {
		t.Fatalf("a new table holds %d chunks, want 0", n)
	}
	i := int32(pageChunkPages + 5)
	if p := tab.at(i); *p != free {
		t.Fatalf("at(%d) of a new table = %+v, want the free state", i, *p)
	}
	tab.at(i).kind, tab.at(i).owner = pageAnon, 3
	if got := tab.get(i); got.kind != pageAnon || got.owner != 3 || got.prev != noPage {
		t.Errorf("get(%d) after a write = %+v", i, got)
	}
	if tab.present(0) || !tab.present(i) || tab.present(2*pageChunkPages) || tab.residentChunks() != 1 {
		t.Errorf("after writing page %d: chunks 0,1,2 present %v %v %v, %d in all; want only chunk 1",
			i, tab.present(0), tab.present(i), tab.present(2*pageChunkPages), tab.residentChunks())
	}
	if got := tab.get(i + 1); got != free {
		t.Errorf("neighbour of a written page = %+v, want free", got)
	}
}

// TestBootKeepsNoPerPageState: booting a machine writes no page state and
// no free-list links below a pageblock (boot frees memory a pageblock at
// a time, whose links are kept per pageblock); using memory creates
// state where it is used and nowhere else, and freeing it changes no
// count of the buddy allocator's.
func TestBootKeepsNoPerPageState(t *testing.T) {
	const nodePages = 4 << 20 // 16 GiB a node
	m, err := NewMachine(MachineConfig{NodePages: []int64{nodePages, nodePages}, Zonelists: [][]int{{0, 1}, {1, 0}}})
	if err != nil {
		t.Fatal(err)
	}
	linkChunks := func(b *Buddy) int {
		n := 0
		for _, c := range b.links {
			if c != nil {
				n++
			}
		}
		return n
	}
	for ni, n := range m.nodes {
		if c, l := n.pages.residentChunks(), linkChunks(n.buddy); c != 0 || l != 0 {
			t.Fatalf("node %d after boot: %d page-state chunks, %d link chunks; want none", ni, c, l)
		}
	}
	if err := m.AddTask(Task{Comm: "t", PID: 100}); err != nil {
		t.Fatal(err)
	}
	const used = 3000
	if got, _, _, err := m.AllocAnon(100, 0, used); err != nil || got != used {
		t.Fatalf("AllocAnon(%d) = %d, %v", used, got, err)
	}
	chunks := m.nodes[0].pages.residentChunks()
	if want := (used + pageChunkPages - 1) / pageChunkPages; chunks < want || chunks > want+2 {
		t.Errorf("%d pages used: %d page-state chunks, want %d to %d", used, chunks, want, want+2)
	}
	if c := m.nodes[1].pages.residentChunks(); c != 0 {
		t.Errorf("node 1, unused: %d page-state chunks", c)
	}
	if err := m.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

// present reports whether page i's chunk exists; a page of a chunk that
// does not is free (get returns the free state).
func (t *pageTable) present(i int32) bool { return t.chunks[i>>pageChunkShift] != nil }

// residentChunks is the number of chunks that exist.
func (t *pageTable) residentChunks() int {
	n := 0
	for _, c := range t.chunks {
		if c != nil {
			n++
		}
	}
	return n
}
