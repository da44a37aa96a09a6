package kernel

import "testing"

// TestAllocAnonOnNodesCountsTheServingNode: while the preferred node has
// room its pages serve the request; once it is down to its watermarks the
// zonelist serves the rest from the other node, and the counts say so.
func TestAllocAnonOnNodesCountsTheServingNode(t *testing.T) {
	m, err := NewMachine(MachineConfig{
		NodePages: []int64{16384, 16384}, Zonelists: [][]int{{0, 1}, {1, 0}}, CPUNodes: []int{0, 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AddTask(Task{PID: 7, Comm: "app", Cgroup: "/"}); err != nil {
		t.Fatal(err)
	}
	per := make([]int64, 2)
	got, _, oom, err := m.AllocAnonOnNodes(7, 1, 512, true, per)
	if err != nil || oom != nil || got != 512 || per[0] != 0 || per[1] != 512 {
		t.Fatalf("first block: got %d, per node %v, oom %v, err %v; want all 512 from node 1", got, per, oom, err)
	}
	// Fill node 1 down to its low watermark, then ask for another block.
	if _, _, _, err := m.AllocAnon(7, 1, m.NodeFreePages(1)-m.Zone(1).Wmark.Low-1); err != nil {
		t.Fatal(err)
	}
	per = make([]int64, 2)
	got, _, _, err = m.AllocAnonOnNodes(7, 1, 512, true, per)
	if err != nil || got != 512 || per[0]+per[1] != got || per[0] < 500 {
		t.Fatalf("block on a full node: got %d, per node %v, err %v; want it served by node 0", got, per, err)
	}
	if _, _, _, err := m.AllocAnonOnNodes(7, 1, 1, true, make([]int64, 3)); err == nil {
		t.Fatal("a perNode of the wrong length was accepted")
	}
}

// TestAllocAnonHugeNeedsAContiguousBlock: with half of memory free but
// every other page taken, no order-9 block exists: the huge fault fails
// (no reclaim, no compaction, no OOM kill) while order-0 faults succeed.
// On an unfragmented machine it takes one block and splits it into
// ordinary pages that FreeAnon returns one by one.
func TestAllocAnonHugeNeedsAContiguousBlock(t *testing.T) {
	m, err := NewMachine(MachineConfig{NodePages: []int64{16384}, Zonelists: [][]int{{0}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int64{1, 2} {
		if err := m.AddTask(Task{PID: pid, Comm: "t", Cgroup: "/"}); err != nil {
			t.Fatal(err)
		}
	}
	node, _, ok, err := m.AllocAnonHuge(1, 0, 9)
	if err != nil || !ok || node != 0 {
		t.Fatalf("huge fault on an empty machine: node %d ok %v err %v", node, ok, err)
	}
	if tk, _ := m.Task(1); tk.RSSAnonPages != 512 {
		t.Fatalf("RSS %d after one huge fault, want 512", tk.RSSAnonPages)
	}
	if err := m.FreeAnon(1, 512); err != nil {
		t.Fatal(err)
	}
	// Interleave two tasks' pages over the whole node, then free one
	// task's: every free page has a taken neighbour.
	free := m.NodeFreePages(0) - m.Zone(0).Wmark.High - 64
	for i := int64(0); i < free; i++ {
		if _, _, _, err := m.AllocAnon(1+i%2, 0, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.FreeAnon(2, free/2); err != nil {
		t.Fatal(err)
	}
	freeNow := m.NodeFreePages(0)
	_, _, ok, err = m.AllocAnonHuge(1, 0, 9)
	if err != nil || ok {
		t.Fatalf("huge fault with %d pages free but fragmented: ok %v err %v; want a failure", freeNow, ok, err)
	}
	if got, _, oom, err := m.AllocAnon(1, 0, 512); err != nil || got != 512 || oom != nil {
		t.Fatalf("order-0 faults after the failed huge fault: got %d, oom %v, err %v", got, oom, err)
	}
	t.Logf("%d pages free (%.0f%%), no order-9 block", freeNow, 100*float64(freeNow)/16384)
}
