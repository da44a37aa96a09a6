package numa

// Fallback order of the page allocator, as Linux builds it.
//
// __build_all_zonelists() (mm/page_alloc.c) clears node_load[] and then
// calls build_zonelists() for every node in id order. build_zonelists()
// appends nodes in the order find_next_best_node() returns them, and adds 1
// to node_load[] of every node that opens a new distance group in the
// list being built (its distance from the local node differs from the
// previous node's):
//
//	if (node_distance(local_node, node) != node_distance(local_node, prev_node))
//		node_load[node] += 1;
//
// find_next_best_node() returns the local node first if it has memory
// (memoryless local nodes are skipped: "mm: page_alloc: skip memoryless
// nodes entirely", Qi Zheng, 2023), then, among the nodes with memory
// (N_MEMORY) not used yet, the one with the smallest
//
//	val = node_distance(node, n)
//	    + (n < node)                       /* "prefer the next node" */
//	    + PENALTY_FOR_NODE_WITH_CPUS (1)   /* if n has CPUs */
//	val = val * MAX_NUMNODES + node_load[n]
//
// iterating n upwards with a strict "<", so that among equal values the
// lowest node id wins. Ties are therefore not simply broken by node id: a
// node with CPUs loses to a memory-only node one distance unit further, a
// node below the local one loses to one above it, and node_load[] spreads
// the first node of each distance group round-robin over the lists built
// later (commit 54d032ced983, "mm/page_alloc: use accumulated load when
// building node fallback list", 2021; its thread shows the resulting order
// on a 2-socket AMD NPS4 machine, which zonelist_test.go reproduces).
//
// val * MAX_NUMNODES + node_load[n] orders first by val, then by node_load,
// as long as node_load stays below MAX_NUMNODES. node_load[n] grows by at
// most one per zonelist built, so it stays at most MaxNodes, below the
// MAX_NUMNODES of any kernel configured for that many nodes; comparing the
// pair (val, node_load) is therefore exactly the kernel's comparison.

// PenaltyForNodeWithCPUs is Linux's PENALTY_FOR_NODE_WITH_CPUS
// (include/linux/topology.h): find_next_best_node() prefers a memory-only
// node to a node with CPUs at the same distance.
const PenaltyForNodeWithCPUs = 1

// Zonelists returns the fallback order of every node, in the order of
// Nodes: element i lists node ids, most preferred first, for allocations
// that prefer Nodes[i]. Only nodes with memory appear in the lists; a
// memoryless node's own list starts with its nearest node with memory.
// The lists depend on each other through node_load, so they are built
// together, exactly as __build_all_zonelists() does. Cost O(n³).
func (t *Topology) Zonelists() [][]int {
	n := len(t.Nodes)
	load := make([]int, n)
	lists := make([][]int, n)
	for local := range n {
		lists[local] = t.buildZonelist(local, load)
	}
	return lists
}

// NodesByDistance returns the fallback order of node (a node id) as Linux
// builds it: see Zonelists. It builds all lists, so callers wanting more
// than one should call Zonelists once. It panics if node does not exist.
func (t *Topology) NodesByDistance(node int) []int {
	return t.Zonelists()[t.mustIndex(node)]
}

// buildZonelist is build_zonelists() for the node at position local,
// updating load (node_load[], by position).
func (t *Topology) buildZonelist(local int, load []int) []int {
	used := make([]bool, len(t.Nodes))
	var order []int
	prev := local
	for {
		next := t.findNextBestNode(local, used, load)
		if next < 0 {
			return order
		}
		if t.Distances[local][next] != t.Distances[local][prev] {
			load[next]++
		}
		order = append(order, t.Nodes[next].ID)
		prev = next
	}
}

// findNextBestNode is find_next_best_node(): it returns the position of
// the next node for local's list and marks it used, or -1 when none is
// left.
func (t *Topology) findNextBestNode(local int, used []bool, load []int) int {
	if !used[local] && t.Nodes[local].MemoryMB > 0 {
		used[local] = true
		return local
	}
	best, bestVal, bestLoad := -1, 0, 0
	for n, nd := range t.Nodes {
		if used[n] || nd.MemoryMB == 0 {
			continue
		}
		val := t.Distances[local][n]
		if nd.ID < t.Nodes[local].ID {
			val++
		}
		if len(nd.CPUs) > 0 {
			val += PenaltyForNodeWithCPUs
		}
		if best < 0 || val < bestVal || val == bestVal && load[n] < bestLoad {
			best, bestVal, bestLoad = n, val, load[n]
		}
	}
	if best >= 0 {
		used[best] = true
	}
	return best
}
