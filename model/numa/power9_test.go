package numa

import "testing"

// power9 is an IBM AC922 (POWER9) with the given memory per node, as
// `numactl --hardware` shows it: sparse node ids 0, 8 and 252-255, two
// sockets of 64 CPUs, and four CPU-less GPU memory nodes at distance 80
// from everything (experiments/input/host/testdata/numactl/power9-*.txt).
func power9(t *testing.T, memoryMB ...int64) Topology {
	t.Helper()
	far := []int{80, 80, 80, 80, 80, 80}
	distances := [][]int{{10, 40, 80, 80, 80, 80}, {40, 10, 80, 80, 80, 80}}
	for i := 2; i < 6; i++ {
		row := append([]int(nil), far...)
		row[i] = LocalDistance
		distances = append(distances, row)
	}
	topo, err := FromSpec("power9", Spec{
		Nodes:     6,
		NodeIDs:   []int{0, 8, 252, 253, 254, 255},
		CPUs:      []string{"0-63", "64-127", "", "", "", ""},
		MemoryMB:  memoryMB,
		Distances: distances,
	})
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

// power9AC922 is power9-ac922.txt, with 32256 MiB of GPU memory online
// on each GPU node.
func power9AC922(t *testing.T) Topology {
	return power9(t, 257716, 261728, 32256, 32256, 32256, 32256)
}
