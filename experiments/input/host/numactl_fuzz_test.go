package host

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sbmpsim/sbmpsim/model/numa"
)

// FuzzParseNumactl checks that ParseNumactl never panics, that its errors
// are *ParseError values for the file, deterministic, and that whatever it
// accepts is a valid topology that survives FormatNumactl and ParseNumactl,
// Spec and FromSpec, and the queries the simulator makes.
func FuzzParseNumactl(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "numactl", "*.txt"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed files: %v", err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, name := range numa.PresetNames() {
		p, err := numa.Preset(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(FormatNumactl(p)))
	}
	for _, s := range []string{
		"",
		"available: 1 nodes (0)\nnode 0 cpus: 0\nnode 0 size: 1 MB\nNo distance information available.\n",
		"available: 2 nodes (0,2)\nnode 0 cpus: 1-2 (2)\nnode 0 size: 1 MB\nnode 2 cpus: 0\nnode 2 size: 0 MB\nnode distances:\nnode 0 2\n0: 10 11\n2: 11 10\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		topo, err := ParseNumactl("fuzz.txt", bytes.NewReader(data))
		if err != nil {
			for _, e := range unjoin(err) {
				var pe *ParseError
				if !errors.As(e, &pe) || pe.File != "fuzz.txt" || pe.Line < 0 || pe.Msg == "" {
					t.Fatalf("malformed error %#v", e)
				}
			}
			if _, err2 := ParseNumactl("fuzz.txt", bytes.NewReader(data)); err2 == nil || err2.Error() != err.Error() {
				t.Fatalf("errors differ between two parses:\n%v\n---\n%v", err, err2)
			}
			return
		}
		if err := topo.Validate(); err != nil {
			t.Fatalf("accepted an invalid topology: %v", err)
		}
		roundTrip(t, topo)
		spec := topo.Spec()
		back, err := numa.FromSpec("fuzz.txt", spec)
		if err != nil || !back.Equal(&topo) {
			t.Fatalf("Spec round trip: %v", err)
		}
		lists := topo.Zonelists()
		for i, n := range topo.Nodes {
			if n.MemoryMB > 0 && (len(lists[i]) == 0 || lists[i][0] != n.ID) {
				t.Fatalf("node %d has memory but its zonelist %v does not start with it", n.ID, lists[i])
			}
			for _, m := range topo.Nodes {
				if topo.LatencyNs(n.ID, m.ID, 1<<40) < topo.IdleLatencyNs(n.ID, m.ID) {
					t.Fatalf("loaded latency below idle latency")
				}
			}
			for _, c := range n.CPUs {
				if topo.NodeOfCPU(c) != n.ID {
					t.Fatalf("NodeOfCPU(%d) = %d, want %d", c, topo.NodeOfCPU(c), n.ID)
				}
			}
		}
	})
}
