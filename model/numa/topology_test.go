package numa

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestPresets(t *testing.T) {
	tests := []struct {
		name                    string
		nodes, sockets, cpus    int
		memoryMB                int64
		cpuless                 []int
		maxDistance             int
		nodeOfCPU0, nodeOfCPU16 int
	}{
		{Preset1Node, 1, 1, 16, 64 * 1024, nil, 10, 0, NoNode},
		{PresetIntel2S, 2, 2, 32, 2 * 96 * 1024, nil, 21, 0, 1},
		{Preset4Socket, 4, 4, 64, 4 * 96 * 1024, nil, 31, 0, 1},
		{PresetEPYC2SNPS4, 8, 2, 128, 8 * 64 * 1024, nil, 32, 0, 1},
		{PresetTiered, 4, 2, 32, 2*96*1024 + 2*768*1024, []int{2, 3}, 28, 0, 1},
	}
	if got := PresetNames(); len(got) != len(tests) {
		t.Fatalf("PresetNames() = %v", got)
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if PresetNames()[i] != tc.name {
				t.Fatalf("PresetNames()[%d] = %q", i, PresetNames()[i])
			}
			p, err := Preset(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Validate(); err != nil {
				t.Fatal(err)
			}
			var cpuless []int
			maxD := 0
			for i, n := range p.Nodes {
				if len(n.CPUs) == 0 {
					cpuless = append(cpuless, n.ID)
				}
				maxD = max(maxD, slices.Max(p.Distances[i]))
			}
			if p.Name != tc.name || len(p.Nodes) != tc.nodes || p.NumSockets() != tc.sockets || len(p.CPUs()) != tc.cpus ||
				p.TotalMemoryMB() != tc.memoryMB || !slices.Equal(cpuless, tc.cpuless) || maxD != tc.maxDistance {
				t.Errorf("nodes %d sockets %d cpus %d memory %d cpuless %v max distance %d", len(p.Nodes), p.NumSockets(),
					len(p.CPUs()), p.TotalMemoryMB(), cpuless, maxD)
			}
			var onSockets int
			for s, ids := range p.Sockets() {
				onSockets += len(ids)
				for _, id := range ids {
					if n, _ := p.Node(id); n.Socket != s {
						t.Errorf("Sockets()[%d] lists node %d, which is on socket %d", s, id, n.Socket)
					}
				}
			}
			if onSockets != len(p.Nodes) {
				t.Errorf("Sockets() covers %d of %d nodes", onSockets, len(p.Nodes))
			}
			if p.NodeOfCPU(0) != tc.nodeOfCPU0 || p.NodeOfCPU(16) != tc.nodeOfCPU16 {
				t.Errorf("NodeOfCPU(0) = %d, NodeOfCPU(16) = %d", p.NodeOfCPU(0), p.NodeOfCPU(16))
			}
			// Each call returns a fresh copy.
			p.Nodes[0].CPUs[0] = 99
			again := mustPreset(tc.name)
			if again.Nodes[0].CPUs[0] != 0 {
				t.Fatal("Preset returned shared memory")
			}
		})
	}
	if _, err := Preset("intel-4s"); err == nil || !strings.Contains(err.Error(), `unknown machine preset "intel-4s" (presets: 1-node, intel-2s, 4-socket, epyc-2s-nps4, tiered)`) {
		t.Errorf("unknown preset: %v", err)
	}
}

func TestValidate(t *testing.T) {
	base := func() Topology { return mustPreset(PresetTiered) }
	tests := []struct {
		name   string
		change func(*Topology)
		want   string
	}{
		{"no nodes", func(t *Topology) { t.Nodes = nil }, "nodes: a machine has 1..256 nodes, got 0"},
		{"ids not increasing", func(t *Topology) { t.Nodes[2].ID = 1 }, "node_ids.2: node ids must increase, got 1 after 1"},
		{"id too large", func(t *Topology) { t.Nodes[3].ID = 5000 }, "node_ids.3: node id must be in 0..1023, got 5000"},
		{"socket gap", func(t *Topology) { t.Nodes[1].Socket, t.Nodes[3].Socket = 2, 2 }, "sockets: sockets must be numbered 0..2 without gaps; no node is on socket 1"},
		{"negative memory", func(t *Topology) { t.Nodes[0].MemoryMB = -1 }, "memory_mb.0: memory must be in 0..1073741824 MiB, got -1"},
		{"no memory", func(t *Topology) {
			for i := range t.Nodes {
				t.Nodes[i].MemoryMB = 0
			}
		}, "memory_mb: no node has memory; at least one node needs a size above 0 MiB"},
		{"cpu twice", func(t *Topology) { t.Nodes[1].CPUs[0] = 15 }, "cpus.1: CPU 15 is already on node 0; every CPU is on exactly one node"},
		{"cpus unsorted", func(t *Topology) { t.Nodes[0].CPUs[1] = 0 }, "cpus.0: CPU list must be sorted without duplicates, got 0 after 0"},
		{"cpu range", func(t *Topology) { t.Nodes[1].CPUs = append(t.Nodes[1].CPUs, 9000) }, "cpus.1: CPU 9000 is out of range 0..8191"},
		{"rows", func(t *Topology) { t.Distances = t.Distances[:3] }, "distances: needs one row per node: 3 rows for 4 nodes"},
		{"row length", func(t *Topology) { t.Distances[1] = t.Distances[1][:2] }, "distances.1: row for node 1 needs 4 distances (one per node), got 2"},
		{"diagonal", func(t *Topology) { t.Distances[2][2] = 12 }, "distances.2: distance of node 2 to itself must be 10, got 12"},
		{"remote 10", func(t *Topology) { t.Distances[0][1] = 10 }, "distances.0: distance from node 0 to node 1 must be in 11..254"},
		{"remote 255", func(t *Topology) { t.Distances[0][1] = 255 }, "distances.0: distance from node 0 to node 1 must be in 11..254"},
		{"media", func(t *Topology) { t.Nodes[2].MediaLatencyNs = -3 }, "media_latency_ns.2: must be in 0..1000000 ns, got -3"},
		{"cost", func(t *Topology) { t.Cost.RemoteLatencyNs = 10 }, "remote_latency_ns: must be at least local_latency_ns (78 ns)"},
	}
	b := base()
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			topo := base()
			tc.change(&topo)
			err := topo.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v\nwant %q", err, tc.want)
			}
			for _, e := range unjoin(err) {
				var fe *FieldError
				if !errors.As(e, &fe) {
					t.Fatalf("%T is not a *FieldError: %v", e, e)
				}
			}
		})
	}
	// Asymmetric SLITs are allowed, as in Linux.
	topo := base()
	topo.Distances[0][2] = 18
	if err := topo.Validate(); err != nil {
		t.Errorf("asymmetric SLIT rejected: %v", err)
	}
}

func TestLookups(t *testing.T) {
	topo := power9AC922(t)
	if topo.Distance(0, 8) != 40 || topo.Distance(252, 0) != 80 || topo.Distance(255, 255) != 10 {
		t.Errorf("Distance: %d %d %d", topo.Distance(0, 8), topo.Distance(252, 0), topo.Distance(255, 255))
	}
	if !topo.HasNode(252) || topo.HasNode(1) {
		t.Error("HasNode")
	}
	if n, ok := topo.Node(8); !ok || n.CPUs[0] != 64 {
		t.Errorf("Node(8) = %+v, %v", n, ok)
	}
	if topo.NodeOfCPU(64) != 8 || topo.NodeOfCPU(127) != 8 || topo.NodeOfCPU(128) != NoNode {
		t.Error("NodeOfCPU on sparse ids")
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "node 1 is not a node of topology") {
			t.Errorf("Distance on an unknown node: %v", r)
		}
	}()
	topo.Distance(1, 0)
}

func TestCloneAndEqual(t *testing.T) {
	a := mustPreset(PresetTiered)
	b := a.Clone()
	if !a.Equal(&b) {
		t.Fatal("clone differs")
	}
	b.Nodes[0].CPUs[0] = 77
	b.Distances[0][1] = 22
	if a.Nodes[0].CPUs[0] != 0 || a.Distances[0][1] != 21 {
		t.Fatal("clone shares memory")
	}
	if a.Equal(&b) {
		t.Fatal("Equal misses differences")
	}
	c := a.Clone()
	c.Name = "other"
	if !a.Equal(&c) {
		t.Fatal("Equal compares Name")
	}
}

func TestInferSockets(t *testing.T) {
	tests := []struct {
		name      string
		distances [][]int
		cpuless   map[int]bool
		want      []int
	}{
		{"snc2 x 2", [][]int{{10, 11, 21, 21}, {11, 10, 21, 21}, {21, 21, 10, 11}, {21, 21, 11, 10}}, nil, []int{0, 0, 1, 1}},
		{"naples 16", [][]int{{10, 16, 32, 32}, {16, 10, 32, 32}, {32, 32, 10, 16}, {32, 32, 16, 10}}, nil, []int{0, 0, 1, 1}},
		{"x3950 20", [][]int{{10, 20, 20}, {20, 10, 20}, {20, 20, 10}}, nil, []int{0, 1, 2}},
		// Interleaved: nodes 0 and 2 share a socket; sockets are numbered
		// by their lowest node.
		{"interleaved", [][]int{{10, 21, 12, 21}, {21, 10, 21, 12}, {12, 21, 10, 21}, {21, 12, 21, 10}}, nil, []int{0, 1, 0, 1}},
		// Memory-only nodes follow the nearest CPU node.
		{"cxl", [][]int{{10, 21, 24, 14}, {21, 10, 14, 24}, {24, 14, 10, 26}, {14, 24, 26, 10}}, map[int]bool{2: true, 3: true}, []int{0, 1, 1, 0}},
		// Asymmetric: near in one direction only is not the same socket.
		{"asymmetric", [][]int{{10, 12}, {25, 10}}, nil, []int{0, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			topo := machine(tc.distances, tc.cpuless, nil)
			if got := InferSockets(topo.Nodes, topo.Distances); !slices.Equal(got, tc.want) {
				t.Fatalf("InferSockets = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSpecRoundTrip(t *testing.T) {
	for _, name := range PresetNames() {
		p := mustPreset(name)
		s := p.Spec()
		back, err := FromSpec(name, s)
		if err != nil {
			t.Fatalf("%s: FromSpec(Spec()): %v", name, err)
		}
		if !back.Equal(&p) || back.Name != name {
			t.Fatalf("%s: round trip changed the topology:\n got %+v\nwant %+v", name, back, p)
		}
	}
	p := power9AC922(t)
	p.Cost = p.Cost.WithOverrides(90, 160, 0, 0)
	s := p.Spec()
	if !slices.Equal(s.NodeIDs, []int{0, 8, 252, 253, 254, 255}) || s.CPUs[0] != "0-63" || s.CPUs[2] != "" || s.LocalLatencyNs != 90 {
		t.Fatalf("Spec() = %+v", s)
	}
	back, err := FromSpec("p9", s)
	if err != nil || !back.Equal(&p) {
		t.Fatalf("sparse ids and cost overrides: %v\n got %+v\nwant %+v", err, back, p)
	}
	if d := mustPreset(PresetIntel2S); d.Spec().NodeIDs != nil || d.Spec().MediaLatencyNs != nil || d.Spec().LocalLatencyNs != 0 {
		t.Errorf("defaults are not left out: %+v", d.Spec())
	}
}

func TestFromSpecErrors(t *testing.T) {
	good := Spec{
		Nodes:     2,
		CPUs:      []string{"0-15", "16-31"},
		MemoryMB:  []int64{98304, 98304},
		Distances: [][]int{{10, 21}, {21, 10}},
	}
	if topo, err := FromSpec("good", good); err != nil || !reflect.DeepEqual(topo.Nodes[1].CPUs[:2], []int{16, 17}) || topo.Nodes[1].Socket != 1 {
		t.Fatalf("FromSpec(good) = %+v, %v", topo, err)
	}
	tests := []struct {
		name   string
		change func(*Spec)
		want   []string
	}{
		{"nodes", func(s *Spec) { s.Nodes = 0 }, []string{"nodes: a machine has 1..256 nodes, got 0"}},
		{"lengths", func(s *Spec) { s.CPUs = s.CPUs[:1]; s.Sockets = []int{0} }, []string{
			"sockets: has 1 entries but nodes = 2; give one per node, or none for the default",
			"cpus: has 1 entries but nodes = 2; give one per node"}},
		{"cpulist", func(s *Spec) { s.CPUs[1] = "16-x" }, []string{`cpus.1: cpulist "16-x": "x" is not a CPU number`}},
		{"distance row", func(s *Spec) { s.Distances[1] = []int{21} }, []string{"distances.1: row for node 1 needs 2 distances (one per node), got 1"}},
		{"overlap and memory", func(s *Spec) { s.CPUs[1] = "15-31"; s.MemoryMB[0] = -5 }, []string{
			"memory_mb.0: memory must be in 0..1073741824 MiB, got -5",
			"cpus.1: CPU 15 is already on node 0"}},
		{"sockets", func(s *Spec) { s.Sockets = []int{0, 3} }, []string{"sockets.1: socket must be in 0..1 (at most one socket per node), got 3"}},
		{"override", func(s *Spec) { s.RemoteLatencyNs = 50 }, []string{"remote_latency_ns: must be at least local_latency_ns (78 ns)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := good
			s.CPUs = slices.Clone(good.CPUs)
			s.MemoryMB = slices.Clone(good.MemoryMB)
			s.Distances = [][]int{slices.Clone(good.Distances[0]), slices.Clone(good.Distances[1])}
			tc.change(&s)
			_, err := FromSpec("x", s)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			for _, e := range unjoin(err) {
				var fe *FieldError
				if !errors.As(e, &fe) {
					t.Errorf("%T is not a *FieldError", e)
				}
			}
		})
	}
}
