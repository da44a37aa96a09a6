package scenario

import (
	"reflect"
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/model/numa"
)

// oneWorkload makes a fragment a valid scenario.
const oneWorkload = "\n[[workload]]\n"

func TestInlineMachine(t *testing.T) {
	in := `[machine]
preset = ""
nodes = 2
sockets = [0, 1]
cpus = ["0-15", "16-31"]
memory_mb = [98304, 98304]
distances = [[10, 21], [21, 10]]
local_latency_ns = 78
remote_latency_ns = 143
` + oneWorkload
	s, err := Parse("inline.toml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	got, err := s.Machine.Topology()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := numa.Preset(numa.PresetIntel2S)
	if !got.Equal(&want) {
		t.Fatalf("inline machine = %+v\nwant the intel-2s preset %+v", got, want)
	}
	roundTrip(t, s)
}

// TestEncodeMachineRoundTrip is the contract of `sbmpsim import`: the
// printed fragment parses, validates and gives back the topology, for every
// preset and a machine with sparse ids.
func TestEncodeMachineRoundTrip(t *testing.T) {
	topos := map[string]numa.Topology{}
	for _, name := range numa.PresetNames() {
		topos[name], _ = numa.Preset(name)
	}
	sparse, err := numa.FromSpec("sparse", numa.Spec{
		Nodes: 3, NodeIDs: []int{0, 8, 252}, CPUs: []string{"0-3", "4-7", ""}, MemoryMB: []int64{1024, 1024, 512},
		Distances: [][]int{{10, 40, 80}, {40, 10, 80}, {80, 80, 10}}, LocalLatencyNs: 90, RemoteLatencyNs: 200,
	})
	if err != nil {
		t.Fatal(err)
	}
	topos["sparse"] = sparse
	for name, topo := range topos {
		t.Run(name, func(t *testing.T) {
			m := MachineOf(&topo)
			frag := EncodeMachine(m, "a header line")
			s, err := Parse("frag.toml", append(frag, oneWorkload...))
			if err != nil {
				t.Fatalf("%v\n%s", err, frag)
			}
			if err := s.Validate(); err != nil {
				t.Fatalf("%v\n%s", err, frag)
			}
			if !reflect.DeepEqual(s.Machine, m) {
				t.Fatalf("parsed machine %+v\nwant %+v\n%s", s.Machine, m, frag)
			}
			back, err := s.Machine.Topology()
			if err != nil || !back.Equal(&topo) {
				t.Fatalf("Topology() = %+v, %v\nwant %+v", back, err, topo)
			}
			roundTrip(t, s)
		})
	}
}

func TestEncodeMachineText(t *testing.T) {
	p, _ := numa.Preset(numa.PresetIntel2S)
	got := string(EncodeMachine(MachineOf(&p), "imported"))
	want := `# imported
[machine]
preset = ""                        # empty: the machine is given inline below
nodes = 2                          # NUMA nodes
sockets = [0, 1]                   # socket of each node
cpus = ["0-15", "16-31"]           # cpulist per node ("" for a node without CPUs)
memory_mb = [98304, 98304]         # memory per node, MiB
distances = [[10, 21], [21, 10]]   # SLIT, one row per node (numactl "node distances")
local_latency_ns = 0               # cost-model overrides, 0 = default: 78 ns,
remote_latency_ns = 0              #   143 ns at SLIT distance 21,
local_bandwidth_mbps = 0           #   79800 and 60100 MB/s (Intel MLC,
remote_bandwidth_mbps = 0          #   2-socket Xeon Platinum 8269)
`
	if got != want {
		t.Fatalf("EncodeMachine:\n%s\nwant\n%s", got, want)
	}
}

func TestMachineErrors(t *testing.T) {
	inline := "[machine]\npreset = \"\"\nnodes = 2\ncpus = [\"0-1\", \"2-3\"]\nmemory_mb = [1024, 1024]\ndistances = [[10, 21], [21, 10]]\n"
	if s, err := Parse("x.toml", []byte(inline+oneWorkload)); err != nil || s.Validate() != nil {
		t.Fatalf("the base inline machine must be valid: %v", err)
	}
	tests := []struct {
		name, in string
		want     []string
	}{
		{"unknown preset", "[machine]\npreset = \"intel-8s\"\n",
			[]string{`x.toml:2:1: machine.preset: unknown preset "intel-8s": use one of 1-node, intel-2s, 4-socket, epyc-2s-nps4, tiered, or preset = "" and give the machine inline (sbmpsim import prints one)`}},
		{"bad preset name", "[machine]\npreset = \"Intel 2S\"\n", []string{"x.toml:2:1: machine.preset: must be a preset name"}},
		{"preset with inline keys", "[machine]\npreset = \"intel-2s\"\nnodes = 2\ncpus = [\"0\"]\n", []string{
			`x.toml:3:1: machine.nodes: describes an inline machine, but machine.preset = "intel-2s" is used`,
			`x.toml:4:1: machine.cpus: describes an inline machine`}},
		{"empty inline", "[machine]\npreset = \"\"\n", []string{"x.toml:1:2: machine.nodes: a machine has 1..256 nodes, got 0"}},
		{"short row", strings.Replace(inline, "[21, 10]]", "[21]]", 1), []string{
			"x.toml:6:1: machine.distances.1: row for node 1 needs 2 distances (one per node), got 1"}},
		{"array lengths", strings.Replace(inline, "memory_mb = [1024, 1024]", "memory_mb = [1024]", 1), []string{
			"x.toml:5:1: machine.memory_mb: has 1 entries but nodes = 2; give one per node"}},
		{"cpus", strings.Replace(inline, `"2-3"`, `"1-3"`, 1), []string{
			"x.toml:4:1: machine.cpus.1: CPU 1 is already on node 0; every CPU is on exactly one node"}},
		{"cost override", "[machine]\npreset = \"tiered\"\nremote_latency_ns = 40\n", []string{
			"x.toml:3:1: machine.remote_latency_ns: must be at least local_latency_ns (78 ns)"}},
		{"wrong type", "[machine]\ndistances = [10, 21]\n", []string{"x.toml:2:1: machine.distances.0: expected an array, found integer 10"}},
		{"disk latencies", "[machine]\npreset = \"1-node\"\ndisk_read_ns = -1\ndisk_readahead_ns_per_page = 2000000000\n", []string{
			"x.toml:3:1: machine.disk_read_ns: must be in 0..1000000000, got -1",
			"x.toml:4:1: machine.disk_readahead_ns_per_page: must be in 0..1000000000, got 2000000000"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse("x.toml", []byte(tc.in+oneWorkload))
			if err == nil {
				err = s.Validate()
			}
			if err == nil {
				t.Fatal("no error")
			}
			checkErrors(t, err, "x.toml")
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\nlacks\n%s", err, w)
				}
			}
		})
	}
}

func TestMachineSet(t *testing.T) {
	s, err := Parse("x.toml", []byte(oneWorkload))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{
		"machine.preset=", "machine.nodes=1", `machine.cpus=["0-3"]`, "machine.memory_mb=[4096]", "machine.distances=[[10]]",
	} {
		if err := s.Set(a); err != nil {
			t.Fatalf("Set(%s): %v", a, err)
		}
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	topo, err := s.Machine.Topology()
	if err != nil || len(topo.Nodes) != 1 || topo.Nodes[0].MemoryMB != 4096 {
		t.Fatalf("Topology() = %+v, %v", topo, err)
	}
	if err := s.Set("machine.memory_mb=[-1]"); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "--set: machine.memory_mb.0: memory must be in 0..") {
		t.Fatalf("Validate after a bad --set: %v", err)
	}
	c := s.Clone()
	c.Machine.Distances[0][0] = 99
	if s.Machine.Distances[0][0] != 10 {
		t.Fatal("Clone shares the distance matrix")
	}
}
