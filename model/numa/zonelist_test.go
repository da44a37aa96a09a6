package numa

import (
	"reflect"
	"strings"
	"testing"
)

// fallback parses "0 1 2 3 / 1 0 3 2 / ..." into lists.
func fallback(s string) [][]int {
	var lists [][]int
	for part := range strings.SplitSeq(s, "/") {
		var l []int
		for _, f := range strings.Fields(part) {
			n := 0
			for _, c := range f {
				n = n*10 + int(c-'0')
			}
			l = append(l, n)
		}
		lists = append(lists, l)
	}
	return lists
}

// machine builds a topology of nodes with one CPU each (or none where
// cpuless says so) and 1 GiB (or 0 where memoryless says so).
func machine(distances [][]int, cpuless, memoryless map[int]bool) Topology {
	t := Topology{Distances: distances, Cost: DefaultCost()}
	for i := range distances {
		n := Node{ID: i, MemoryMB: 1024}
		if !cpuless[i] {
			n.CPUs = []int{i}
		}
		if memoryless[i] {
			n.MemoryMB = 0
		}
		t.Nodes = append(t.Nodes, n)
	}
	for i, s := range InferSockets(t.Nodes, t.Distances) {
		t.Nodes[i].Socket = s
	}
	return t
}

func TestZonelistsMatchLinux(t *testing.T) {
	tests := []struct {
		name string
		topo Topology
		want string
	}{
		{
			// The 2-socket AMD NPS4 machine of the thread of commit
			// 54d032ced983 ("After the fix", Bharata B Rao, 2021-09-03,
			// https://lore.kernel.org/all/0d67b3b7-cf2f-61f3-c67a-76e85e05a3ee@amd.com/).
			name: "epyc-2s-nps4",
			topo: mustPreset(PresetEPYC2SNPS4),
			want: "0 1 2 3 4 5 6 7 / 1 2 3 0 5 6 7 4 / 2 3 0 1 6 7 4 5 / 3 0 1 2 7 4 5 6 / " +
				"4 5 6 7 0 1 2 3 / 5 6 7 4 1 2 3 0 / 6 7 4 5 2 3 0 1 / 7 4 5 6 3 0 1 2",
		},
		{
			// The 4-node example of commit 54d032ced983's message: node 3
			// gets "3 2 1 0" once node_load accumulates.
			name: "4-node 10/12/32",
			topo: machine([][]int{{10, 12, 32, 32}, {12, 10, 32, 32}, {32, 32, 10, 12}, {32, 32, 12, 10}}, nil, nil),
			want: "0 1 2 3 / 1 0 3 2 / 2 3 0 1 / 3 2 1 0",
		},
		{
			// DRAM 0 -> PMEM 2 -> DRAM 1 -> PMEM 3: the order Fan Du
			// describes for a 2-socket DRAM+PMEM machine ("[RFC PATCH 0/5]
			// New fallback workflow for heterogeneous memory system",
			// linux-mm, 2019-04-25).
			name: "tiered",
			topo: mustPreset(PresetTiered),
			want: "0 2 1 3 / 1 3 0 2 / 2 0 3 1 / 3 1 2 0",
		},
		{
			name: "intel-2s",
			topo: mustPreset(PresetIntel2S),
			want: "0 1 / 1 0",
		},
		{
			// Equal distances everywhere: node_load makes the lists
			// round-robin, and "n < node" prefers the nodes above.
			name: "4 equal",
			topo: machine([][]int{{10, 21, 21, 21}, {21, 10, 21, 21}, {21, 21, 10, 21}, {21, 21, 21, 10}}, nil, nil),
			want: "0 1 2 3 / 1 2 3 0 / 2 3 0 1 / 3 0 1 2",
		},
		{
			// A memory-only node at the same distance wins over a node
			// with CPUs (PENALTY_FOR_NODE_WITH_CPUS).
			name: "cpuless preferred",
			topo: machine([][]int{{10, 20, 20}, {20, 10, 20}, {20, 20, 10}}, map[int]bool{2: true}, nil),
			want: "0 2 1 / 1 2 0 / 2 0 1",
		},
		{
			// A memoryless node is in nobody's list, and its own list
			// starts with its best node with memory (mm: page_alloc: skip
			// memoryless nodes entirely): 0 and 2 are both at 21 from
			// node 1, and "n < node" puts 2 first.
			name: "memoryless",
			topo: machine([][]int{{10, 21, 31}, {21, 10, 21}, {31, 21, 10}}, nil, map[int]bool{1: true}),
			want: "0 2 / 2 0 / 2 0",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.topo.Validate(); err != nil {
				t.Fatal(err)
			}
			got := tc.topo.Zonelists()
			if want := fallback(tc.want); !reflect.DeepEqual(got, want) {
				t.Fatalf("Zonelists() = %v\nwant %v", got, want)
			}
			for i, id := range tc.topo.NodeIDs() {
				if l := tc.topo.NodesByDistance(id); !reflect.DeepEqual(l, got[i]) {
					t.Errorf("NodesByDistance(%d) = %v, want %v", id, l, got[i])
				}
			}
		})
	}
}

// TestZonelistsSparseIDs checks that "n < node" compares node ids, and
// that lists name ids, on the POWER9 layout with ids 0, 8, 252-255. The
// four GPU nodes are all at 80; node_load rotates them: node 0's list
// charges 252 (first of its group), so node 8's list starts the group at
// 253 and charges it, and so on.
func TestZonelistsSparseIDs(t *testing.T) {
	topo := power9AC922(t)
	got := topo.Zonelists()
	want := fallback("0 8 252 253 254 255 / 8 0 253 254 255 252 / 252 254 255 253 0 8 / 253 255 254 252 0 8 / 254 255 252 253 0 8 / 255 252 253 254 0 8")
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Zonelists() = %v\nwant %v", got, want)
	}
	// With the GPU memory offline (0 MB) the GPU nodes drop out of every
	// list, and their own lists alternate between the sockets.
	wrapped := power9(t, 130210, 130784, 0, 0, 0, 0)
	if got, want := wrapped.Zonelists(), fallback("0 8 / 8 0 / 0 8 / 8 0 / 0 8 / 8 0"); !reflect.DeepEqual(got, want) {
		t.Fatalf("Zonelists() with offline GPU memory = %v\nwant %v", got, want)
	}
}

func mustPreset(name string) Topology {
	t, err := Preset(name)
	if err != nil {
		panic(err)
	}
	return t
}
