package kernel

import "testing"

// TestSmallZoneWithLargeMinFreeKbytes: on 16 MiB nodes with
// vm.min_free_kbytes = 6000 the low watermark is above an eighth of the
// zone, so high_min > high_max, as Linux computes them. The machine must
// build, keep its books, and take the node offline and back (which
// recomputes the limits) without refusing the configuration (found by
// `sbmpsim check` seeds 119 and 136).
func TestSmallZoneWithLargeMinFreeKbytes(t *testing.T) {
	cpus := make([]int, 16)
	for i := range cpus {
		cpus[i] = i % 2
	}
	m, err := NewMachine(MachineConfig{
		NodePages: []int64{4096, 4096}, Zonelists: [][]int{{0, 1}, {1, 0}},
		MinFreeKbytes: 6000, CPUNodes: cpus,
	})
	if err != nil {
		t.Fatal(err)
	}
	if c := m.pcps[0][0].Config(); c.HighMin <= c.HighMax {
		t.Fatalf("pcp limits %+v: the test wants high_min > high_max", c)
	}
	if err := m.AddTask(Task{PID: 1, Comm: "t1", Cgroup: "/"}); err != nil {
		t.Fatal(err)
	}
	if err := m.PlaceTask(1, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := m.AllocAnon(1, 0, 500); err != nil {
		t.Fatal(err)
	}
	if err := m.FreeAnon(1, 200); err != nil {
		t.Fatal(err)
	}
	if err := m.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.OfflineNode(1); err != nil {
		t.Fatal(err)
	}
	if err := m.OnlineNode(1); err != nil {
		t.Fatal(err)
	}
	if err := m.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}
