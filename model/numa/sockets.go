package numa

// InferSockets guesses the socket of every node from CPUs and distances
// alone, for sources that do not say (numactl prints no sockets; sysfs
// does, see PackageSockets). It returns one socket number per node, by
// position, numbered 0..S-1 in the order of each socket's lowest node.
//
// The rule: two nodes with CPUs are on the same socket when their distance
// is below RemoteDistance (20) in both directions, and sockets are the
// connected groups of that relation. Firmware reports nodes that share a
// package at 11-12 (Intel sub-NUMA clustering, AMD NPS2/NPS4: 10/12/32 on a
// 2-socket EPYC) or 16 (AMD Naples dies), and nodes on other sockets at 20
// or more (Intel 21 per UPI hop, AMD 32, IBM x3950 20); 20 is also Linux's
// default remote distance. A node without CPUs (persistent memory, CXL,
// HBM, GPU memory) joins the socket of the CPU node nearest to it, as seen
// from the CPUs (Distances[cpu][mem]), the lowest node on a tie: the
// persistent memory of an Intel DRAM+PMEM machine sits at 17 from its own
// socket and 28 from the other.
//
// The rule is a heuristic and some firmware defeats it: an IBM System x3750
// M4 with four sockets reports 11 and 12 between them
// (experiments/input/host/testdata/numactl/x3750m4-4socket.txt), which
// this rule calls one socket. Reading a host's sysfs gives the real
// package ids instead (PackageSockets), and an imported [machine]
// fragment can be corrected by editing its sockets key.
func InferSockets(nodes []Node, distances [][]int) []int {
	n := len(nodes)
	parent := make([]int, n)
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	near := func(i, j int) bool {
		return i < len(distances) && j < len(distances[i]) && distances[i][j] < RemoteDistance &&
			j < len(distances) && i < len(distances[j]) && distances[j][i] < RemoteDistance
	}
	for i := range n {
		for j := i + 1; j < n; j++ {
			if len(nodes[i].CPUs) > 0 && len(nodes[j].CPUs) > 0 && near(i, j) {
				// Union by smallest root keeps each group's root its lowest node.
				a, b := find(i), find(j)
				parent[max(a, b)] = min(a, b)
			}
		}
	}
	sockets := make([]int, n)
	numbered := make(map[int]int) // root position → socket number
	for i := range n {
		if len(nodes[i].CPUs) == 0 {
			continue
		}
		r := find(i)
		if _, ok := numbered[r]; !ok {
			numbered[r] = len(numbered)
		}
		sockets[i] = numbered[r]
	}
	for i := range n {
		if len(nodes[i].CPUs) == 0 {
			sockets[i] = socketOfNearestCPUNode(i, nodes, distances, sockets)
		}
	}
	return sockets
}

// PackageSockets numbers the sockets of nodes from what the hardware
// says: packages[i] is the physical package id of a CPU of nodes[i]
// (sysfs's topology/physical_package_id), ignored for a node without
// CPUs. Sockets are numbered 0..S-1 in the order of each package's lowest
// node. A node without CPUs joins the socket of the CPU node nearest to
// it, as in InferSockets.
func PackageSockets(nodes []Node, distances [][]int, packages []int) []int {
	sockets := make([]int, len(nodes))
	number := make(map[int]int) // package id → socket
	for i, n := range nodes {
		if len(n.CPUs) == 0 {
			continue
		}
		if _, ok := number[packages[i]]; !ok {
			number[packages[i]] = len(number)
		}
		sockets[i] = number[packages[i]]
	}
	for i, n := range nodes {
		if len(n.CPUs) == 0 {
			sockets[i] = socketOfNearestCPUNode(i, nodes, distances, sockets)
		}
	}
	return sockets
}

// socketOfNearestCPUNode returns the socket of the CPU node nearest to the
// memory-only node at position mem, or 0 when there is no CPU node.
func socketOfNearestCPUNode(mem int, nodes []Node, distances [][]int, sockets []int) int {
	best, bestDist := -1, 0
	for c := range nodes {
		if len(nodes[c].CPUs) == 0 || c >= len(distances) || mem >= len(distances[c]) {
			continue
		}
		if d := distances[c][mem]; best < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	if best < 0 {
		return 0
	}
	return sockets[best]
}
