package host

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/model/numa"
)

// maxSysfsFileBytes bounds every sysfs file ReadSysfs reads.
const maxSysfsFileBytes = 1 << 20

// ReadSysfs reads the machine from the sysfs tree of the file system rooted
// at root: "/" on a live host, a fake tree in tests (the same convention
// as the package's other readers, so `sbmpsim import host --root DIR`
// serves all of them). Under root/sys/devices/system/node it reads:
//   - online: the node ids (a cpulist); without it, the nodeN directories;
//   - nodeN/cpulist: the node's CPUs;
//   - nodeN/meminfo: "Node N MemTotal: X kB", giving X/1024 MiB, the same
//     truncation numactl's "size" applies (libnuma's numa_node_size64 reads
//     this line and numactl shifts the bytes right by 20);
//   - nodeN/distance: the node's SLIT row, one distance per online node in
//     id order (node_read_distance() in drivers/base/node.c);
//   - has_cpu, when present: checked against the cpulists.
//
// Sockets are the physical package ids of root/sys/devices/system/cpu/
// cpuC/topology/physical_package_id, renumbered 0..S-1 in order of the lowest
// node on each package; a node whose CPUs span packages (as in some
// virtual machines) is put on the package of its lowest CPU. Without those
// files sockets are inferred (numa.InferSockets). A memory-only node goes to
// the socket of its nearest CPU node. The cost model is numa.DefaultCost.
//
// Errors name the file at fault; the result passes Topology.Validate.
func ReadSysfs(root string) (numa.Topology, error) {
	dir := filepath.Join(root, "sys", "devices", "system", "node")
	ids, err := sysfsNodeIDs(dir)
	if err != nil {
		return numa.Topology{}, err
	}
	t := numa.Topology{Name: dir, Cost: numa.DefaultCost()}
	for _, id := range ids {
		nd, row, err := readSysfsNode(dir, id)
		if err != nil {
			return numa.Topology{}, err
		}
		if len(row) != len(ids) {
			return numa.Topology{}, fmt.Errorf("%s: expected %d distances (one per online node %s), got %d",
				filepath.Join(dir, nodeDir(id), "distance"), len(ids), numa.FormatCPUList(ids), len(row))
		}
		t.Nodes = append(t.Nodes, nd)
		t.Distances = append(t.Distances, row)
	}
	if err := checkHasCPU(dir, t.Nodes); err != nil {
		return numa.Topology{}, err
	}
	sockets, err := sysfsSockets(root, t.Nodes, t.Distances)
	if err != nil {
		return numa.Topology{}, err
	}
	for i := range t.Nodes {
		t.Nodes[i].Socket = sockets[i]
	}
	if err := t.Validate(); err != nil {
		return numa.Topology{}, fmt.Errorf("%s: %w", dir, err)
	}
	return t, nil
}

// nodeDir returns "nodeN".
func nodeDir(id int) string { return "node" + strconv.Itoa(id) }

// readSysfsFile reads a small sysfs file; errors name the path.
func readSysfsFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSysfsFileBytes+1))
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > maxSysfsFileBytes {
		return "", fmt.Errorf("%s: larger than %d bytes", path, maxSysfsFileBytes)
	}
	return string(data), nil
}

// sysfsNodeIDs returns the online node ids.
func sysfsNodeIDs(dir string) ([]int, error) {
	online, err := readSysfsFile(filepath.Join(dir, "online"))
	if err == nil {
		ids, perr := numa.ParseCPUList(online)
		if perr != nil || len(ids) == 0 || ids[len(ids)-1] > numa.MaxNodeID || len(ids) > numa.MaxNodes {
			return nil, fmt.Errorf("%s: expected a list of node ids such as 0-1, got %q", filepath.Join(dir, "online"), strings.TrimSpace(online))
		}
		return ids, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read NUMA nodes: %w", err)
	}
	var ids []int
	for _, e := range entries {
		if rest, ok := strings.CutPrefix(e.Name(), "node"); ok && e.IsDir() {
			if id, err := strconv.Atoi(rest); err == nil && id >= 0 && id <= numa.MaxNodeID {
				ids = append(ids, id)
			}
		}
	}
	sort.Ints(ids)
	if len(ids) == 0 || len(ids) > numa.MaxNodes {
		return nil, fmt.Errorf("%s: expected 1..%d nodeN directories, found %d", dir, numa.MaxNodes, len(ids))
	}
	return ids, nil
}

// readSysfsNode reads one node's CPUs, memory and distance row.
func readSysfsNode(dir string, id int) (numa.Node, []int, error) {
	nd := numa.Node{ID: id}
	base := filepath.Join(dir, nodeDir(id))
	s, err := readSysfsFile(filepath.Join(base, "cpulist"))
	if err != nil {
		return nd, nil, err
	}
	if nd.CPUs, err = numa.ParseCPUList(s); err != nil {
		return nd, nil, fmt.Errorf("%s: %w", filepath.Join(base, "cpulist"), err)
	}
	if nd.MemoryMB, err = readMemTotalMB(filepath.Join(base, "meminfo"), id); err != nil {
		return nd, nil, err
	}
	path := filepath.Join(base, "distance")
	s, err = readSysfsFile(path)
	if err != nil {
		return nd, nil, err
	}
	var row []int
	for _, tok := range strings.Fields(s) {
		d, err := strconv.Atoi(tok)
		if err != nil || d < 0 || d > 255 {
			return nd, nil, fmt.Errorf("%s: distance %q is not a number in 0..255", path, tok)
		}
		row = append(row, d)
	}
	return nd, row, nil
}

// readMemTotalMB returns MemTotal of a node meminfo file in MiB.
func readMemTotalMB(path string, id int) (int64, error) {
	s, err := readSysfsFile(path)
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(s) {
		f := strings.Fields(line)
		// "Node 0 MemTotal:       32768000 kB"
		if len(f) == 5 && f[0] == "Node" && f[1] == strconv.Itoa(id) && f[2] == "MemTotal:" && f[4] == "kB" {
			kb, err := strconv.ParseInt(f[3], 10, 64)
			if err != nil || kb < 0 || kb/1024 > numa.MaxMemoryMB {
				return 0, fmt.Errorf("%s: MemTotal %q is not a size in kB", path, f[3])
			}
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("%s: no \"Node %d MemTotal: X kB\" line", path, id)
}

// checkHasCPU compares has_cpu, when present, with the cpulists.
func checkHasCPU(dir string, nodes []numa.Node) error {
	path := filepath.Join(dir, "has_cpu")
	s, err := readSysfsFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	ids, err := numa.ParseCPUList(s)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var withCPUs []int
	for _, n := range nodes {
		if len(n.CPUs) > 0 {
			withCPUs = append(withCPUs, n.ID)
		}
	}
	if numa.FormatCPUList(ids) != numa.FormatCPUList(withCPUs) {
		return fmt.Errorf("%s: says nodes %q have CPUs, but the nodes' cpulist files give %q (CPUs changing while reading?)",
			path, numa.FormatCPUList(ids), numa.FormatCPUList(withCPUs))
	}
	return nil
}

// sysfsSockets returns each node's socket from the CPUs' package ids
// (numa.PackageSockets), or numa.InferSockets when they are not available.
func sysfsSockets(root string, nodes []numa.Node, distances [][]int) ([]int, error) {
	packages := make([]int, len(nodes))
	for i, n := range nodes {
		if len(n.CPUs) == 0 {
			continue
		}
		path := filepath.Join(root, "sys", "devices", "system", "cpu", "cpu"+strconv.Itoa(n.CPUs[0]), "topology", "physical_package_id")
		s, err := readSysfsFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return numa.InferSockets(nodes, distances), nil
		}
		if err != nil {
			return nil, err
		}
		pkg, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%s: expected a package id, got %q", path, strings.TrimSpace(s))
		}
		packages[i] = pkg
	}
	return numa.PackageSockets(nodes, distances, packages), nil
}
