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
