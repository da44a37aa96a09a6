package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/input/host"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/model/numa"
)

// hostTestdata is experiments/input/host's testdata, shared with its
// tests.
var hostTestdata = filepath.Join("..", "..", "experiments", "input", "host", "testdata")

// loadFragment parses an imported [machine] fragment with the scenario
// loader (adding the one workload a valid scenario needs) and builds its
// topology.
func loadFragment(t *testing.T, frag string) (*scenario.Scenario, numa.Topology) {
	t.Helper()
	s, err := scenario.Parse("fragment.toml", []byte(frag+"\n[[workload]]\n"))
	if err != nil {
		t.Fatalf("%v\n%s", err, frag)
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("%v\n%s", err, frag)
	}
	topo, err := s.Machine.Topology()
	if err != nil {
		t.Fatal(err)
	}
	return s, topo
}

// importedPart is the part of t numactl output carries, with sockets.
func importedPart(t numa.Topology) numa.Topology {
	c := t.Clone()
	c.Cost = numa.DefaultCost()
	for i := range c.Nodes {
		c.Nodes[i].MediaLatencyNs, c.Nodes[i].MediaBandwidthMBps = 0, 0
	}
	return c
}

// TestImportNumactlRoundTripsPresets is the acceptance round trip: every
// preset, printed as numactl prints it, imported, and read back by the
// scenario loader, is the same machine.
func TestImportNumactlRoundTripsPresets(t *testing.T) {
	for _, name := range numa.PresetNames() {
		t.Run(name, func(t *testing.T) {
			p, err := numa.Preset(name)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), "numactl.txt")
			if err := os.WriteFile(file, []byte(host.FormatNumactl(p)), 0o644); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := sbmpsim(t, "import", "numactl", file)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			_, got := loadFragment(t, stdout)
			want := importedPart(p)
			if !got.Equal(&want) {
				t.Fatalf("imported %+v\nwant %+v\n%s", got, want, stdout)
			}
		})
	}
}

// TestImportNumactlRealOutputs imports every committed real numactl
// output and checks the fragment gives back exactly what ParseNumactl
// reads.
func TestImportNumactlRealOutputs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(hostTestdata, "numactl", "*.txt"))
	if err != nil || len(files) < 8 {
		t.Fatalf("testdata: %v %v", files, err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			want, err := host.ParseNumactl(file, f)
			if err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := sbmpsim(t, "import", "numactl", file)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			_, got := loadFragment(t, stdout)
			if !got.Equal(&want) {
				t.Fatalf("imported %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestImportJSON(t *testing.T) {
	file := filepath.Join(hostTestdata, "numactl", "power9-ac922.txt")
	code, stdout, stderr := sbmpsim(t, "import", "numactl", "--format", "json", file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc struct {
		Schema  string           `json:"schema"`
		Source  string           `json:"source"`
		Machine scenario.Machine `json:"machine"`
		Derived struct {
			Sockets       int       `json:"sockets"`
			CPUs          int       `json:"cpus"`
			NodeIDs       []int     `json:"node_ids"`
			IdleLatencyNs [][]int64 `json:"idle_latency_ns"`
			Zonelists     [][]int   `json:"zonelists"`
		} `json:"derived"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	m := doc.Machine
	if doc.Schema != "sbmpsim.import/v1" || doc.Source != file || m.Preset != "" || m.Nodes != 6 ||
		!reflect.DeepEqual(m.NodeIDs, []int{0, 8, 252, 253, 254, 255}) || m.CPUs[1] != "64-127" || m.CPUs[2] != "" {
		t.Fatalf("document: %+v", doc)
	}
	d := doc.Derived
	if d.Sockets != 2 || d.CPUs != 128 || len(d.IdleLatencyNs) != 6 || d.IdleLatencyNs[0][1] != 255 || d.IdleLatencyNs[0][2] != 492 ||
		!reflect.DeepEqual(d.Zonelists[0], []int{0, 8, 252, 253, 254, 255}) {
		t.Fatalf("derived: %+v", d)
	}
	// The JSON machine is the TOML machine.
	_, tomlOut, _ := sbmpsim(t, "import", "numactl", file)
	s, _ := loadFragment(t, tomlOut)
	if !reflect.DeepEqual(s.Machine, m) {
		t.Fatalf("JSON machine %+v\nTOML machine %+v", m, s.Machine)
	}
}

func TestImportHost(t *testing.T) {
	root := filepath.Join(hostTestdata, "sysfs", "tiered")
	code, stdout, stderr := sbmpsim(t, "import", "host", "--root", root)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	_, got := loadFragment(t, stdout)
	want, err := host.ReadSysfs(root)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(&want) || !strings.Contains(stdout, "sockets are the CPUs' physical package ids") {
		t.Fatalf("imported %+v\nwant %+v\n%s", got, want, stdout)
	}
}

// TestImportLiveHost imports this machine; skipped where
// /sys/devices/system/node is absent.
func TestImportLiveHost(t *testing.T) {
	if _, err := os.Stat("/sys/devices/system/node"); err != nil {
		t.Skip("no /sys/devices/system/node:", err)
	}
	code, stdout, stderr := sbmpsim(t, "import", "host")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	_, topo := loadFragment(t, stdout)
	t.Logf("this host: %d nodes, %d CPUs, %d MiB", len(topo.Nodes), len(topo.CPUs()), topo.TotalMemoryMB())
}

func TestImportErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "numactl.txt")
	text := "available: 3 nodes (0-2)\nnode 0 cpus: 0 1\nnode 0 size: 100 MB\nnode 1 cpus: 2 3\nnode 1 size: 100 MB\n" +
		"node 2 cpus:\nnode 2 size: 100 MB\nnode distances:\nnode   0   1   2\n  0:  10  21  30\n  1:  21  10  30\n  2:  30  10\n"
	if err := os.WriteFile(bad, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"import", "numactl", bad}, 1, "sbmpsim: " + bad + ":12: node distances row for node 2: expected 3 distances, got 2\n"},
		{[]string{"import", "numactl", filepath.Join(dir, "missing.txt")}, 1, "sbmpsim: import numactl: open " + filepath.Join(dir, "missing.txt") + ": no such file or directory\n"},
		{[]string{"import", "numactl"}, 2, "sbmpsim: import numactl needs exactly one FILE"},
		{[]string{"import", "numactl", "a", "b"}, 2, "sbmpsim: import numactl needs exactly one FILE"},
		{[]string{"import"}, 2, "sbmpsim: import needs a source: 'import numactl FILE' or 'import host'\n"},
		{[]string{"import", "lscpu"}, 2, "sbmpsim: unknown import source \"lscpu\": use 'import numactl FILE' or 'import host'\n"},
		{[]string{"import", "host", "--format", "yaml"}, 2, "sbmpsim: --format \"yaml\": use toml or json\n"},
		{[]string{"import", "host", "extra"}, 2, "sbmpsim: import host takes no arguments"},
		{[]string{"import", "host", "--root", dir}, 1, "sbmpsim: import host: read NUMA nodes: open " + filepath.Join(dir, "sys", "devices", "system", "node")},
		{[]string{"import", "numactl", "--bogus", bad}, 2, "sbmpsim: unknown flag: --bogus\n"},
	}
	for _, tc := range tests {
		code, stdout, stderr := sbmpsim(t, tc.args...)
		if code != tc.code || !strings.HasPrefix(stderr, tc.stderr) || stdout != "" {
			t.Errorf("%q: exit %d, stderr %q, stdout %q\nwant exit %d, stderr starting %q", tc.args, code, stderr, stdout, tc.code, tc.stderr)
		}
	}
}

// TestImportHostLive reads this machine: the model's watermarks and
// oom_score must equal the kernel's for every zone and every task that
// held still while it was read.
func TestImportHostLive(t *testing.T) {
	if _, err := os.Stat("/proc/zoneinfo"); err != nil {
		t.Skip("no /proc/zoneinfo on this host")
	}
	code, out, stderr := sbmpsim(t, "import", "host", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var d struct {
		Kernel struct {
			Zones        []json.RawMessage `json:"zones"`
			Tasks        []json.RawMessage `json:"tasks"`
			ZonesMatched int               `json:"zones_matched"`
			TasksMatched int               `json:"tasks_matched"`
			Slack        int               `json:"tasks_within_slack"`
		} `json:"kernel"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	k := d.Kernel
	if len(k.Zones) == 0 || k.ZonesMatched != len(k.Zones) {
		t.Errorf("zones matched %d of %d", k.ZonesMatched, len(k.Zones))
	}
	if len(k.Tasks) == 0 || k.TasksMatched+k.Slack != len(k.Tasks) {
		t.Errorf("tasks matched %d (+%d within RSS counter slack) of %d", k.TasksMatched, k.Slack, len(k.Tasks))
	}
}

// TestImportHostMeasureDisk: --measure-disk adds the disk keys to
// [machine], the fragment still parses and carries them, and a
// directory that does not exist is an error naming it, exit 1.
func TestImportHostMeasureDisk(t *testing.T) {
	root := filepath.Join(hostTestdata, "sysfs", "tiered")
	dir := t.TempDir()
	code, stdout, stderr := sbmpsim(t, "import", "host", "--root", root, "--measure-disk", dir)
	if code != 0 {
		if strings.Contains(stderr, "no O_DIRECT") {
			t.Skipf("skipped: %s", stderr)
		}
		t.Fatalf("exit %d: %s", code, stderr)
	}
	s, _ := loadFragment(t, stdout)
	if s.Machine.DiskReadNs <= 0 || s.Machine.DiskReadaheadNsPerPage < 0 || !strings.Contains(stdout, "random O_DIRECT reads") {
		t.Fatalf("machine %+v\n%s", s.Machine, stdout)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
	missing := filepath.Join(dir, "missing")
	code, _, stderr = sbmpsim(t, "import", "host", "--root", root, "--measure-disk", missing)
	if code != 1 || !strings.Contains(stderr, "--measure-disk "+missing) {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}
