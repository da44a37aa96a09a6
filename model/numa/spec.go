package numa

import (
	"errors"
	"fmt"
	"slices"
)

// Spec is a topology as plain values: the shape of a scenario's [machine]
// section when the machine is given inline, and of what `sbmpsim import`
// prints. Per-node arrays are indexed by node position (0..Nodes-1), in
// increasing node id order. Keys in errors are the scenario's key names
// (the toml tags of experiments/scenario.Machine), so FromSpec's errors
// can be reported as "machine.KEY".
//
// The dependency runs one way: experiments/scenario converts its Machine
// section to a Spec and calls FromSpec, so the topology rules live here
// once, and model/numa knows nothing of scenarios.
type Spec struct {
	// Nodes is the number of nodes (key "nodes").
	Nodes int
	// NodeIDs are the node ids ("node_ids"); empty means 0..Nodes-1.
	NodeIDs []int
	// Sockets is the socket of each node ("sockets"); empty means
	// inferred from the distances (InferSockets).
	Sockets []int
	// CPUs is a cpulist per node ("cpus"), "" for a node without CPUs.
	CPUs []string
	// MemoryMB is each node's memory in MiB ("memory_mb").
	MemoryMB []int64
	// Distances is the SLIT, one row per node ("distances").
	Distances [][]int
	// MediaLatencyNs is the extra latency of each node's memory device
	// ("media_latency_ns"); empty means 0 for every node (DRAM).
	MediaLatencyNs []int64
	// MediaBandwidthMBps caps each node's memory bandwidth
	// ("media_bandwidth_mbps"); empty means no caps.
	MediaBandwidthMBps []int64
	// LocalLatencyNs overrides CostParams.LocalLatencyNs
	// ("local_latency_ns"); 0 keeps the default.
	LocalLatencyNs int64
	// RemoteLatencyNs overrides CostParams.RemoteLatencyNs
	// ("remote_latency_ns"); 0 keeps the default.
	RemoteLatencyNs int64
	// LocalBandwidthMBps overrides CostParams.LocalBandwidthMBps
	// ("local_bandwidth_mbps"); 0 keeps the default.
	LocalBandwidthMBps int64
	// RemoteBandwidthMBps overrides CostParams.RemoteBandwidthMBps
	// ("remote_bandwidth_mbps"); 0 keeps the default.
	RemoteBandwidthMBps int64
}

// FromSpec builds and validates the topology s describes, named name. All
// problems found are returned as *FieldError values joined with
// errors.Join, keyed like "nodes", "cpus.1" or "distances.0".
func FromSpec(name string, s Spec) (Topology, error) {
	var f fieldErrors
	n := s.Nodes
	if n < 1 || n > MaxNodes {
		f.add("nodes", "a machine has 1..%d nodes, got %d", MaxNodes, n)
		return Topology{}, f.err()
	}
	perNode := func(key string, got int, optional bool) {
		if got != n && !(optional && got == 0) {
			what := "one per node"
			if optional {
				what = "one per node, or none for the default"
			}
			f.add(key, "has %d entries but nodes = %d; give %s", got, n, what)
		}
	}
	perNode("node_ids", len(s.NodeIDs), true)
	perNode("sockets", len(s.Sockets), true)
	perNode("cpus", len(s.CPUs), false)
	perNode("memory_mb", len(s.MemoryMB), false)
	perNode("distances", len(s.Distances), false)
	perNode("media_latency_ns", len(s.MediaLatencyNs), true)
	perNode("media_bandwidth_mbps", len(s.MediaBandwidthMBps), true)
	if len(f.list) > 0 {
		return Topology{}, f.err()
	}
	t := Topology{Name: name, Cost: DefaultCost().WithOverrides(s.LocalLatencyNs, s.RemoteLatencyNs, s.LocalBandwidthMBps, s.RemoteBandwidthMBps)}
	for i := range n {
		nd := Node{ID: i, MemoryMB: s.MemoryMB[i]}
		if len(s.NodeIDs) > 0 {
			nd.ID = s.NodeIDs[i]
		}
		cpus, err := ParseCPUList(s.CPUs[i])
		if err != nil {
			f.add(fmt.Sprintf("cpus.%d", i), "%v", err)
		}
		nd.CPUs = cpus
		if len(s.MediaLatencyNs) > 0 {
			nd.MediaLatencyNs = s.MediaLatencyNs[i]
		}
		if len(s.MediaBandwidthMBps) > 0 {
			nd.MediaBandwidthMBps = s.MediaBandwidthMBps[i]
		}
		t.Nodes = append(t.Nodes, nd)
		t.Distances = append(t.Distances, slices.Clone(s.Distances[i]))
	}
	sockets := s.Sockets
	if len(sockets) == 0 {
		sockets = InferSockets(t.Nodes, t.Distances)
	}
	for i := range t.Nodes {
		t.Nodes[i].Socket = sockets[i]
	}
	if err := t.Validate(); err != nil {
		f.list = append(f.list, unjoin(err)...)
	}
	if len(f.list) > 0 {
		return Topology{}, errors.Join(f.list...)
	}
	return t, nil
}

// Spec returns t as plain values, such that FromSpec(t.Name, t.Spec())
// equals t for every topology whose contention parameters are the
// defaults (a Spec cannot carry them). NodeIDs are left empty when the ids
// are 0..n-1, media arrays when no node has media parameters, and cost
// overrides when the cost model is the default.
func (t *Topology) Spec() Spec {
	s := Spec{Nodes: len(t.Nodes)}
	dense, media := true, false
	for i, nd := range t.Nodes {
		dense = dense && nd.ID == i
		media = media || nd.MediaLatencyNs != 0 || nd.MediaBandwidthMBps != 0
		s.NodeIDs = append(s.NodeIDs, nd.ID)
		s.Sockets = append(s.Sockets, nd.Socket)
		s.CPUs = append(s.CPUs, FormatCPUList(nd.CPUs))
		s.MemoryMB = append(s.MemoryMB, nd.MemoryMB)
		s.MediaLatencyNs = append(s.MediaLatencyNs, nd.MediaLatencyNs)
		s.MediaBandwidthMBps = append(s.MediaBandwidthMBps, nd.MediaBandwidthMBps)
		s.Distances = append(s.Distances, slices.Clone(t.Distances[i]))
	}
	if dense {
		s.NodeIDs = nil
	}
	if !media {
		s.MediaLatencyNs, s.MediaBandwidthMBps = nil, nil
	}
	if t.Cost != DefaultCost() {
		s.LocalLatencyNs, s.RemoteLatencyNs = t.Cost.LocalLatencyNs, t.Cost.RemoteLatencyNs
		s.LocalBandwidthMBps, s.RemoteBandwidthMBps = t.Cost.LocalBandwidthMBps, t.Cost.RemoteBandwidthMBps
	}
	return s
}
