package host

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/model/numa"
)

func TestReadSysfs(t *testing.T) {
	tests := []struct {
		tree      string
		ids       []int
		cpus      []string
		memoryMB  []int64
		sockets   []int
		distances [][]int
	}{
		{"tiered", []int{0, 1, 2, 3}, []string{"0-3", "4-7", "", ""}, []int64{64136, 64466, 253952, 253952}, []int{0, 1, 0, 1},
			[][]int{{10, 21, 17, 28}, {21, 10, 28, 17}, {17, 28, 10, 28}, {28, 17, 28, 10}}},
		// One node whose CPUs sit on two packages: the node goes to the
		// package of its lowest CPU.
		{"vm-two-packages", []int{0}, []string{"0-1"}, []int64{5081}, []int{0}, [][]int{{10}}},
		// No online file, no CPU topology: nodes from the directories,
		// sockets inferred, MemTotal truncated to whole MiB.
		{"bare", []int{0, 1}, []string{"0-1", "2-3"}, []int64{1024, 1024}, []int{0, 1}, [][]int{{10, 21}, {21, 10}}},
	}
	for _, tc := range tests {
		t.Run(tc.tree, func(t *testing.T) {
			topo, err := ReadSysfs(filepath.Join("testdata", "sysfs", tc.tree))
			if err != nil {
				t.Fatal(err)
			}
			var cpus []string
			var memory []int64
			var sockets []int
			for _, n := range topo.Nodes {
				cpus = append(cpus, numa.FormatCPUList(n.CPUs))
				memory = append(memory, n.MemoryMB)
				sockets = append(sockets, n.Socket)
			}
			if !slices.Equal(topo.NodeIDs(), tc.ids) || !slices.Equal(cpus, tc.cpus) || !slices.Equal(memory, tc.memoryMB) ||
				!slices.Equal(sockets, tc.sockets) || !reflect.DeepEqual(topo.Distances, tc.distances) {
				t.Fatalf("got ids %v cpus %q memory %v sockets %v distances %v", topo.NodeIDs(), cpus, memory, sockets, topo.Distances)
			}
			if topo.Cost != numa.DefaultCost() || topo.Validate() != nil {
				t.Fatalf("cost %+v, Validate %v", topo.Cost, topo.Validate())
			}
		})
	}
}

// TestReadSysfsAgreesWithNumactl reads the tiered fake tree and the real
// numactl output of the machine it copies: same nodes, CPUs aside.
func TestReadSysfsAgreesWithNumactl(t *testing.T) {
	fromSysfs, err := ReadSysfs(filepath.Join("testdata", "sysfs", "tiered"))
	if err != nil {
		t.Fatal(err)
	}
	fromNumactl := parseFile(t, "optane-tiered.txt")
	for i := range fromSysfs.Nodes {
		a, b := fromSysfs.Nodes[i], fromNumactl.Nodes[i]
		if a.ID != b.ID || a.MemoryMB != b.MemoryMB || a.Socket != b.Socket || (len(a.CPUs) == 0) != (len(b.CPUs) == 0) {
			t.Errorf("node %d: sysfs %+v, numactl %+v", a.ID, a, b)
		}
	}
	if !reflect.DeepEqual(fromSysfs.Distances, fromNumactl.Distances) {
		t.Errorf("distances differ")
	}
}

// copyTree copies a testdata tree into a temporary directory.
func copyTree(t *testing.T, tree string) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(filepath.Join("testdata", "sysfs", tree))); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestReadSysfsErrors(t *testing.T) {
	node := func(root string, parts ...string) string {
		return filepath.Join(append([]string{root, "sys", "devices", "system", "node"}, parts...)...)
	}
	tests := []struct {
		name    string
		corrupt func(root string) error
		want    string
	}{
		{"short distance row", func(r string) error { return os.WriteFile(node(r, "node1", "distance"), []byte("21 10 28\n"), 0o644) },
			"node1/distance: expected 4 distances (one per online node 0-3), got 3"},
		{"bad distance", func(r string) error { return os.WriteFile(node(r, "node1", "distance"), []byte("21 10 x 17\n"), 0o644) },
			`node1/distance: distance "x" is not a number in 0..255`},
		{"no meminfo line", func(r string) error {
			return os.WriteFile(node(r, "node2", "meminfo"), []byte("Node 2 MemFree: 5 kB\n"), 0o644)
		},
			`node2/meminfo: no "Node 2 MemTotal: X kB" line`},
		{"missing cpulist", func(r string) error { return os.Remove(node(r, "node0", "cpulist")) },
			"node0/cpulist: no such file or directory"},
		{"bad cpulist", func(r string) error { return os.WriteFile(node(r, "node0", "cpulist"), []byte("0-3,\n"), 0o644) },
			`node0/cpulist: cpulist "0-3,": empty item (a stray comma?)`},
		{"has_cpu mismatch", func(r string) error { return os.WriteFile(node(r, "has_cpu"), []byte("0-2\n"), 0o644) },
			`has_cpu: says nodes "0-2" have CPUs, but the nodes' cpulist files give "0-1"`},
		{"bad online", func(r string) error { return os.WriteFile(node(r, "online"), []byte("zero\n"), 0o644) },
			`online: expected a list of node ids such as 0-1, got "zero"`},
		{"bad package", func(r string) error {
			return os.WriteFile(filepath.Join(r, "sys", "devices", "system", "cpu", "cpu4", "topology", "physical_package_id"), []byte("one\n"), 0o644)
		}, `cpu4/topology/physical_package_id: expected a package id, got "one"`},
		{"invalid slit", func(r string) error {
			return os.WriteFile(node(r, "node3", "distance"), []byte("28 17 28 11\n"), 0o644)
		},
			"distances.3: distance of node 3 to itself must be 10, got 11"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := copyTree(t, "tiered")
			if err := tc.corrupt(root); err != nil {
				t.Fatal(err)
			}
			_, err := ReadSysfs(root)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ReadSysfs = %v\nwant an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := ReadSysfs(t.TempDir()); err == nil || !strings.Contains(err.Error(), "read NUMA nodes") {
		t.Errorf("empty root: %v", err)
	}
}

// TestReadSysfsLiveHost reads this machine's /sys and, when numactl is
// installed, checks that it agrees with `numactl --hardware` on everything
// but free memory. Skipped where /sys/devices/system/node is absent.
func TestReadSysfsLiveHost(t *testing.T) {
	if _, err := os.Stat("/sys/devices/system/node"); err != nil {
		t.Skip("no /sys/devices/system/node on this host:", err)
	}
	host, err := ReadSysfs("/")
	if err != nil {
		t.Fatal(err)
	}
	if err := host.Validate(); err != nil {
		t.Fatal(err)
	}
	t.Logf("host: %d nodes, %d sockets, %d CPUs, %d MiB", len(host.Nodes), host.NumSockets(), len(host.CPUs()), host.TotalMemoryMB())
	path, err := exec.LookPath("numactl")
	if err != nil {
		t.Skip("numactl not installed; sysfs read but not cross-checked")
	}
	out, err := exec.Command(path, "--hardware").Output()
	if err != nil {
		t.Skip("numactl --hardware failed:", err)
	}
	viaNumactl, err := ParseNumactl("numactl --hardware", bytes.NewReader(out))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	a, b := carried(host), carried(viaNumactl)
	// Sockets: sysfs knows the packages, numactl only the distances.
	for i := range a.Nodes {
		a.Nodes[i].Socket, b.Nodes[i].Socket = 0, 0
	}
	if !a.Equal(&b) {
		t.Fatalf("sysfs and numactl disagree:\nsysfs   %+v\nnumactl %+v\n%s", a, b, out)
	}
}
