package numa

import (
	"fmt"
	"strings"
)

// Preset names. They are a contract: scenarios name them in
// machine.preset.
const (
	// Preset1Node is one socket, one node: 16 CPUs (0-15) and 64 GiB, a
	// small single-socket server with no NUMA effects at all.
	Preset1Node = "1-node"
	// PresetIntel2S is a 2-socket Intel Xeon (Cascade Lake, the Xeon
	// Platinum 8269 whose MLC numbers are the cost model's defaults):
	// nodes 0 and 1 with CPUs 0-15 and 16-31 and SLIT 10/21, as numactl
	// shows on every 2-socket Xeon since Nehalem. 96 GiB per node is six
	// memory channels per socket with one 16 GiB DDR4 DIMM each, the
	// balanced one-DIMM-per-channel population Cascade Lake is tuned for.
	PresetIntel2S = "intel-2s"
	// Preset4Socket is a 4-socket machine whose sockets form a ring: each
	// socket one hop (21) from two neighbours and two hops (31) from the
	// opposite one, the matrix numactl prints on 4-socket Xeons with two
	// UPI links per socket
	// (experiments/input/host/testdata/numactl/ring-4node.txt). 16 CPUs
	// and 96 GiB (six channels × 16 GiB) per node, like intel-2s.
	Preset4Socket = "4-socket"
	// PresetEPYC2SNPS4 is a 2-socket AMD EPYC in NPS4 mode: eight nodes
	// (four per socket) of 16 CPUs and 64 GiB, with distances 10 local, 12
	// same socket and 32 other socket, as numactl prints on a dual EPYC
	// 7003 (experiments/input/host/testdata/numactl/epyc-2s-nps4.txt:
	// nodes of 16 cores and about 63 GiB). 64 GiB is the two DDR4 channels
	// of one NPS4 quadrant with one 32 GiB DIMM each.
	PresetEPYC2SNPS4 = "epyc-2s-nps4"
	// PresetTiered is a 2-socket Intel machine with tiered memory: DRAM
	// nodes 0 and 1 as in intel-2s, and one CPU-less node of Intel Optane
	// persistent memory per socket (nodes 2 and 3), onlined as system RAM
	// the way Linux memory tiering uses it. The SLIT is the one Intel
	// published for such a machine
	// (experiments/input/host/testdata/numactl/optane-tiered.txt): PMEM at
	// 17 from its own socket and 28 from the other. Each PMEM node is six
	// 128 GiB modules (768 GiB) with the idle latency and read
	// bandwidth Izraelevitz et al. measured for six interleaved Optane DC
	// PMMs: 305 ns and 39.4 GB/s ("Basic Performance Measurements of the
	// Intel Optane DC Persistent Memory Module", arXiv:1903.05714, 2019).
	// The SLIT alone would give 119 ns at distance 17, so the media adds
	// 186 ns; from the other socket the rule gives 184 + 186 = 370 ns.
	PresetTiered = "tiered"
)

// Numbers the presets use, with their sources in the Preset* comments.
const (
	gib = 1024 // MiB per GiB

	// optaneLatencyNs is the random-read idle latency of Optane DC PMM
	// (Izraelevitz et al. 2019).
	optaneLatencyNs = 305
	// optaneBandwidthMBps is the read bandwidth of six interleaved Optane
	// DC PMMs (Izraelevitz et al. 2019).
	optaneBandwidthMBps = 39_400
)

// PresetNames returns the names Preset accepts, in a fixed order.
func PresetNames() []string {
	return []string{Preset1Node, PresetIntel2S, Preset4Socket, PresetEPYC2SNPS4, PresetTiered}
}

// Preset returns the named topology, a fresh copy each time, with the
// default cost model. Unknown names are an error listing the known ones.
func Preset(name string) (Topology, error) {
	var t Topology
	switch name {
	case Preset1Node:
		t = uniform(1, 16, 64*gib, [][]int{{10}}, []int{0})
	case PresetIntel2S:
		t = uniform(2, 16, 96*gib, [][]int{
			{10, 21},
			{21, 10},
		}, []int{0, 1})
	case Preset4Socket:
		t = uniform(4, 16, 96*gib, [][]int{
			{10, 21, 31, 21},
			{21, 10, 21, 31},
			{31, 21, 10, 21},
			{21, 31, 21, 10},
		}, []int{0, 1, 2, 3})
	case PresetEPYC2SNPS4:
		t = uniform(8, 16, 64*gib, epycNPS4Distances(), []int{0, 0, 0, 0, 1, 1, 1, 1})
	case PresetTiered:
		t = tiered()
	default:
		return Topology{}, fmt.Errorf("unknown machine preset %q (presets: %s)", name, strings.Join(PresetNames(), ", "))
	}
	t.Name = name
	return t, nil
}

// uniform builds a topology of n nodes with cpusPerNode consecutive CPUs
// and memoryMB each, on the given sockets.
func uniform(n, cpusPerNode int, memoryMB int64, distances [][]int, sockets []int) Topology {
	t := Topology{Distances: distances, Cost: DefaultCost()}
	for i := range n {
		cpus := make([]int, cpusPerNode)
		for c := range cpus {
			cpus[c] = i*cpusPerNode + c
		}
		t.Nodes = append(t.Nodes, Node{ID: i, Socket: sockets[i], CPUs: cpus, MemoryMB: memoryMB})
	}
	return t
}

// epycNPS4Distances is the 8-node SLIT of a 2-socket EPYC in NPS4 mode.
func epycNPS4Distances() [][]int {
	d := make([][]int, 8)
	for i := range d {
		d[i] = make([]int, 8)
		for j := range d[i] {
			switch {
			case i == j:
				d[i][j] = 10
			case i/4 == j/4:
				d[i][j] = 12
			default:
				d[i][j] = 32
			}
		}
	}
	return d
}

// tiered builds PresetTiered.
func tiered() Topology {
	t := uniform(2, 16, 96*gib, nil, []int{0, 1})
	t.Distances = [][]int{
		{10, 21, 17, 28},
		{21, 10, 28, 17},
		{17, 28, 10, 28},
		{28, 17, 28, 10},
	}
	media := int64(optaneLatencyNs) - t.Cost.LatencyAtDistanceNs(17)
	for socket := range 2 {
		t.Nodes = append(t.Nodes, Node{
			ID:                 2 + socket,
			Socket:             socket,
			MemoryMB:           6 * 128 * gib,
			MediaLatencyNs:     media,
			MediaBandwidthMBps: optaneBandwidthMBps,
		})
	}
	return t
}
