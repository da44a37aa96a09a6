package numa

import (
	"errors"
	"fmt"
	"slices"
	"sort"
)

// Limits of a Topology. They keep every derived quantity far from integer
// overflow and follow Linux's own limits where Linux has one.
const (
	// MaxNodes bounds the number of nodes of a Topology. Zonelists relies
	// on it staying below MaxNodeID+1 (see zonelist.go).
	MaxNodes = 256
	// MaxNodeID is the largest node id: MAX_NUMNODES-1 for
	// CONFIG_NODES_SHIFT=10, the setting of x86-64 distribution kernels
	// (Debian's 6.x kernels among them). POWER machines use sparse ids
	// up to 255 (nodes 0, 8 and 252-255 on an IBM AC922).
	MaxNodeID = 1023
	// MaxCPU is the highest CPU number, NR_CPUS-1 for the largest NR_CPUS
	// Linux configures (8192).
	MaxCPU = 8191
	// MaxMemoryMB bounds the memory of one node: 1 PiB in MiB.
	MaxMemoryMB = 1 << 30
	// LocalDistance is the SLIT distance of a node to itself, Linux's
	// LOCAL_DISTANCE (include/linux/topology.h). ACPI normalises every
	// SLIT to it.
	LocalDistance = 10
	// RemoteDistance is Linux's REMOTE_DISTANCE (include/linux/topology.h):
	// the distance node_distance() reports between different nodes when
	// firmware gives no SLIT (DefaultDistances), as when numactl prints
	// "No distance information available.", and InferSockets uses it as the
	// boundary between "same package" and "another socket".
	RemoteDistance = 20
	// MaxDistance is the largest SLIT distance accepted. SLIT entries are
	// bytes, and 255 means "no path to this memory" (ACPI 6.x, 5.2.17),
	// which the model does not represent.
	MaxDistance = 254
	// NoNode is what NodeOfCPU returns for a CPU that is on no node, like
	// Linux's NUMA_NO_NODE.
	NoNode = -1
)

// Topology is a modelled machine. The zero value is not valid; build one
// with Preset or FromSpec (or read one with experiments/input/host), or
// fill the fields and call Validate. Methods take node ids (Node.ID), not positions in Nodes,
// except where documented. A Topology is a value: Clone it before changing
// a copy, because copies share the slices.
type Topology struct {
	// Name labels the topology: the preset name, or the source it was
	// read from. It is not part of the machine and not compared by Equal.
	Name string
	// Nodes are the NUMA nodes in increasing ID order.
	Nodes []Node
	// Distances is the SLIT: Distances[i][j] is the distance from
	// Nodes[i] to Nodes[j] (indices are positions in Nodes, not ids), as
	// numactl prints it under "node distances:". The diagonal is
	// LocalDistance; every other entry is above it, as Linux's
	// slit_valid() (drivers/acpi/numa/srat.c) demands. The matrix may be
	// asymmetric: ACPI allows it and Linux keeps it as given.
	Distances [][]int
	// Cost is the latency and bandwidth model (cost.go).
	Cost CostParams
}

// Node is one NUMA node.
type Node struct {
	// ID is the node number Linux uses (nodeN in sysfs). Ids are usually
	// 0..n-1 but may be sparse.
	ID int
	// Socket is the physical package the node belongs to, numbered
	// 0..S-1. A memory-only node belongs to the socket it is attached to.
	Socket int
	// CPUs are the node's CPU numbers in increasing order; empty for a
	// memory-only node.
	CPUs []int
	// MemoryMB is the node's memory in MiB, as numactl's "size" (MemTotal
	// of /sys/devices/system/node/nodeN/meminfo, in kB, divided by 1024).
	// 0 for a memoryless node (CPUs without local memory).
	MemoryMB int64
	// MediaLatencyNs is the idle latency the node's memory device adds on
	// top of what its SLIT distances imply (0 for DRAM). Slower media
	// such as persistent memory get a positive value; see cost.go.
	MediaLatencyNs int64
	// MediaBandwidthMBps caps the bandwidth of the node's memory device
	// in MB/s (1 MB/s = 10^6 bytes/s, as Intel MLC reports); 0 means the
	// device does not limit below what the distance rule gives.
	MediaBandwidthMBps int64
}

// Clone returns a deep copy of t that shares no memory with it.
func (t *Topology) Clone() Topology {
	c := *t
	c.Nodes = slices.Clone(t.Nodes)
	for i := range c.Nodes {
		c.Nodes[i].CPUs = slices.Clone(t.Nodes[i].CPUs)
	}
	c.Distances = make([][]int, len(t.Distances))
	for i, row := range t.Distances {
		c.Distances[i] = slices.Clone(row)
	}
	return c
}

// Equal reports whether t and u describe the same machine: everything but
// Name.
func (t *Topology) Equal(u *Topology) bool {
	if len(t.Nodes) != len(u.Nodes) || len(t.Distances) != len(u.Distances) || t.Cost != u.Cost {
		return false
	}
	for i, n := range t.Nodes {
		m := u.Nodes[i]
		if n.ID != m.ID || n.Socket != m.Socket || n.MemoryMB != m.MemoryMB ||
			n.MediaLatencyNs != m.MediaLatencyNs || n.MediaBandwidthMBps != m.MediaBandwidthMBps ||
			!slices.Equal(n.CPUs, m.CPUs) {
			return false
		}
	}
	for i, row := range t.Distances {
		if !slices.Equal(row, u.Distances[i]) {
			return false
		}
	}
	return true
}

// index returns the position in t.Nodes of node id, or -1. Dense ids, the
// common case, are found in O(1); others by binary search.
func (t *Topology) index(id int) int {
	if id >= 0 && id < len(t.Nodes) && t.Nodes[id].ID == id {
		return id
	}
	i := sort.Search(len(t.Nodes), func(i int) bool { return t.Nodes[i].ID >= id })
	if i < len(t.Nodes) && t.Nodes[i].ID == id {
		return i
	}
	return -1
}

// mustIndex is index for ids the caller promises exist; an unknown id is a
// programming error, reported like an out-of-range slice index.
func (t *Topology) mustIndex(id int) int {
	i := t.index(id)
	if i < 0 {
		panic(fmt.Sprintf("numa: node %d is not a node of topology %q (nodes %v)", id, t.Name, t.NodeIDs()))
	}
	return i
}

// HasNode reports whether id is a node of t.
func (t *Topology) HasNode(id int) bool { return t.index(id) >= 0 }

// Node returns the node with the given id.
func (t *Topology) Node(id int) (Node, bool) {
	i := t.index(id)
	if i < 0 {
		return Node{}, false
	}
	return t.Nodes[i], true
}

// NodeIDs returns the node ids in increasing order.
func (t *Topology) NodeIDs() []int {
	ids := make([]int, len(t.Nodes))
	for i, n := range t.Nodes {
		ids[i] = n.ID
	}
	return ids
}

// NodeOfCPU returns the node that CPU cpu belongs to, or NoNode when no
// node has it. It does not allocate; its cost is O(nodes × log CPUs per
// node).
func (t *Topology) NodeOfCPU(cpu int) int {
	for _, n := range t.Nodes {
		if _, ok := slices.BinarySearch(n.CPUs, cpu); ok {
			return n.ID
		}
	}
	return NoNode
}

// Distance returns the SLIT distance from node a to node b. It panics if
// either is not a node of t.
func (t *Topology) Distance(a, b int) int {
	return t.Distances[t.mustIndex(a)][t.mustIndex(b)]
}

// CPUs returns every CPU of the machine in increasing order.
func (t *Topology) CPUs() []int {
	var all []int
	for _, n := range t.Nodes {
		all = append(all, n.CPUs...)
	}
	slices.Sort(all)
	return all
}

// NumSockets returns the number of sockets (the largest Socket plus one).
func (t *Topology) NumSockets() int {
	s := 0
	for _, n := range t.Nodes {
		s = max(s, n.Socket+1)
	}
	return s
}

// Sockets returns the node ids of each socket: element s lists, in
// increasing order, the nodes on socket s.
func (t *Topology) Sockets() [][]int {
	sockets := make([][]int, t.NumSockets())
	for _, n := range t.Nodes {
		if n.Socket >= 0 && n.Socket < len(sockets) {
			sockets[n.Socket] = append(sockets[n.Socket], n.ID)
		}
	}
	return sockets
}

// TotalMemoryMB returns the memory of all nodes together, in MiB.
func (t *Topology) TotalMemoryMB() int64 {
	var sum int64
	for _, n := range t.Nodes {
		sum += n.MemoryMB
	}
	return sum
}

// DefaultDistances is the SLIT of n nodes as Linux's node_distance()
// gives it when firmware provides none: LocalDistance on the diagonal,
// RemoteDistance elsewhere.
func DefaultDistances(n int) [][]int {
	d := make([][]int, n)
	for i := range d {
		d[i] = make([]int, n)
		for j := range d[i] {
			d[i][j] = RemoteDistance
		}
		d[i][i] = LocalDistance
	}
	return d
}

// FieldError is one problem with a topology, named by the field at fault
// in the terms of a scenario's [machine] section (see Spec): "nodes",
// "cpus.2", "distances.1", "memory_mb.0". Indices count nodes by position,
// from 0. Validate and FromSpec return these, joined with errors.Join when
// there are several.
type FieldError struct {
	// Key is the field at fault, such as "distances.1".
	Key string
	// Msg says what is wrong and what is expected.
	Msg string
}

// Error formats e as "KEY: MSG".
func (e *FieldError) Error() string { return e.Key + ": " + e.Msg }

// maxFieldErrors bounds how many problems one call reports.
const maxFieldErrors = 20

// fieldErrors collects FieldErrors.
type fieldErrors struct{ list []error }

func (f *fieldErrors) add(key, format string, args ...any) {
	if len(f.list) < maxFieldErrors {
		f.list = append(f.list, &FieldError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
}

func (f *fieldErrors) err() error { return errors.Join(f.list...) }

// unjoin returns the errors joined in err, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// Validate checks that t is a machine the simulator can run on, and returns
// every problem found (up to 20) as *FieldError values joined with
// errors.Join, or nil. It checks:
//   - 1..MaxNodes nodes with ids strictly increasing in 0..MaxNodeID;
//   - sockets numbered densely 0..S-1;
//   - CPU lists sorted without duplicates, CPUs in 0..MaxCPU, every CPU on
//     exactly one node, at least one CPU in the machine;
//   - memory in 0..MaxMemoryMB per node and some memory in the machine;
//   - an n×n distance matrix with LocalDistance on the diagonal and
//     LocalDistance < d <= MaxDistance elsewhere, as Linux's slit_valid()
//     requires (asymmetric matrices are allowed, as in Linux);
//   - media and cost parameters in range (CostParams.Validate).
func (t *Topology) Validate() error {
	var f fieldErrors
	n := len(t.Nodes)
	if n < 1 || n > MaxNodes {
		f.add("nodes", "a machine has 1..%d nodes, got %d", MaxNodes, n)
		return f.err()
	}
	t.validateNodes(&f)
	t.validateCPUs(&f)
	t.validateDistances(&f)
	if err := t.Cost.Validate(); err != nil {
		f.list = append(f.list, unjoin(err)...)
	}
	return f.err()
}

// validateNodes checks ids, sockets, memory and media.
func (t *Topology) validateNodes(f *fieldErrors) {
	sockets := make([]bool, len(t.Nodes))
	var memory int64
	for i, nd := range t.Nodes {
		idx := fmt.Sprint(i)
		switch {
		case nd.ID < 0 || nd.ID > MaxNodeID:
			f.add("node_ids."+idx, "node id must be in 0..%d, got %d", MaxNodeID, nd.ID)
		case i > 0 && nd.ID <= t.Nodes[i-1].ID:
			f.add("node_ids."+idx, "node ids must increase, got %d after %d", nd.ID, t.Nodes[i-1].ID)
		}
		if nd.Socket < 0 || nd.Socket >= len(t.Nodes) {
			f.add("sockets."+idx, "socket must be in 0..%d (at most one socket per node), got %d", len(t.Nodes)-1, nd.Socket)
		} else {
			sockets[nd.Socket] = true
		}
		if nd.MemoryMB < 0 || nd.MemoryMB > MaxMemoryMB {
			f.add("memory_mb."+idx, "memory must be in 0..%d MiB, got %d", MaxMemoryMB, nd.MemoryMB)
		} else {
			memory += nd.MemoryMB
		}
		if nd.MediaLatencyNs < 0 || nd.MediaLatencyNs > MaxLatencyNs {
			f.add("media_latency_ns."+idx, "must be in 0..%d ns, got %d", MaxLatencyNs, nd.MediaLatencyNs)
		}
		if nd.MediaBandwidthMBps < 0 || nd.MediaBandwidthMBps > MaxBandwidthMBps {
			f.add("media_bandwidth_mbps."+idx, "must be 0 (no cap) or up to %d MB/s, got %d", MaxBandwidthMBps, nd.MediaBandwidthMBps)
		}
	}
	if memory == 0 {
		f.add("memory_mb", "no node has memory; at least one node needs a size above 0 MiB")
	}
	if s := t.NumSockets(); s > 0 && s <= len(sockets) {
		for id, used := range sockets[:s] {
			if !used {
				f.add("sockets", "sockets must be numbered 0..%d without gaps; no node is on socket %d", s-1, id)
				break
			}
		}
	}
}

// validateCPUs checks that every CPU is valid and on exactly one node.
func (t *Topology) validateCPUs(f *fieldErrors) {
	var owner [MaxCPU + 1]int16 // position+1 of the node holding each CPU; 0 for none
	total := 0
	for i, nd := range t.Nodes {
		key := fmt.Sprintf("cpus.%d", i)
		for j, c := range nd.CPUs {
			switch {
			case c < 0 || c > MaxCPU:
				f.add(key, "CPU %d is out of range 0..%d", c, MaxCPU)
				continue
			case j > 0 && c <= nd.CPUs[j-1]:
				f.add(key, "CPU list must be sorted without duplicates, got %d after %d", c, nd.CPUs[j-1])
				continue
			}
			if other := owner[c]; other != 0 {
				f.add(key, "CPU %d is already on node %d; every CPU is on exactly one node", c, t.Nodes[other-1].ID)
				continue
			}
			owner[c] = int16(i + 1)
			total++
		}
	}
	if total == 0 {
		f.add("cpus", "no node has CPUs; at least one CPU is needed to run anything")
	}
}

// validateDistances checks the SLIT's shape and values.
func (t *Topology) validateDistances(f *fieldErrors) {
	n := len(t.Nodes)
	if len(t.Distances) != n {
		f.add("distances", "needs one row per node: %d rows for %d nodes", len(t.Distances), n)
		return
	}
	for i, row := range t.Distances {
		key := fmt.Sprintf("distances.%d", i)
		if len(row) != n {
			f.add(key, "row for node %d needs %d distances (one per node), got %d", t.Nodes[i].ID, n, len(row))
			continue
		}
		for j, d := range row {
			switch {
			case i == j && d != LocalDistance:
				f.add(key, "distance of node %d to itself must be %d, got %d", t.Nodes[i].ID, LocalDistance, d)
			case i != j && (d <= LocalDistance || d > MaxDistance):
				f.add(key, "distance from node %d to node %d must be in %d..%d (Linux ignores a SLIT with a remote distance <= %d), got %d",
					t.Nodes[i].ID, t.Nodes[j].ID, LocalDistance+1, MaxDistance, LocalDistance, d)
			}
		}
	}
}
