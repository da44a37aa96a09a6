package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sbmpsim/sbmpsim/experiments/input/host"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/model/numa"
)

// importSchema names the JSON document `sbmpsim import --format json`
// prints.
const importSchema = "sbmpsim.import/v1"

// importFlags are the flags shared by the import subcommands.
type importFlags struct {
	format string // "toml" or "json"
	root   string // file system root for `import host`
	// measureDisk is the directory whose disk `import host` times
	// ("" for none).
	measureDisk string
}

// The disk measurement of `import host --measure-disk`: as the
// validation suite measures its host (experiments/validate).
const (
	importDiskBytes = 512 << 20
	importDiskReads = 4000
)

func newImportCmd() *cobra.Command {
	var f importFlags
	cmd := &cobra.Command{
		Use:   "import numactl FILE | host",
		Short: "Print a scenario [machine] fragment for a real machine",
		Long: `Print the [machine] section of a scenario that models a real machine, in
TOML (default) or JSON (--format json).

  sbmpsim import numactl FILE   reads the output of 'numactl --hardware'
                                (FILE - reads standard input)
  sbmpsim import host           reads this machine's /sys/devices/system/node

Paste the TOML over the [machine] section of a scenario. numactl does not
print sockets, so 'import numactl' infers them from the distances (nodes
closer than 20 share a socket); 'import host' reads the CPUs' package ids.`,
		Example: `  sbmpsim import host > host.toml
  numactl --hardware | sbmpsim import numactl -
  sbmpsim import numactl numactl.txt --format json`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("unknown import source %q: use 'import numactl FILE' or 'import host'", args[0])}
			}
			return nil
		},
		RunE: func(*cobra.Command, []string) error {
			return usageError{fmt.Errorf("import needs a source: 'import numactl FILE' or 'import host'")}
		},
	}
	cmd.PersistentFlags().StringVar(&f.format, "format", "toml", "output format: toml or json")

	numactl := &cobra.Command{
		Use:   "numactl FILE",
		Short: "Import the output of 'numactl --hardware' (FILE - for standard input)",
		Example: `  numactl --hardware | sbmpsim import numactl -
  sbmpsim import numactl numactl.txt --format json`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("import numactl needs exactly one FILE (the output of 'numactl --hardware', or - for standard input), got %d arguments", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.check(); err != nil {
				return err
			}
			topo, err := readNumactl(cmd, args[0])
			if err != nil {
				return err
			}
			return printImport(cmd.OutOrStdout(), f.format, topo.Name, topo, []string{
				fmt.Sprintf("Machine imported by 'sbmpsim import numactl' from %s.", topo.Name),
				"numactl prints no sockets: they are inferred from the distances (nodes",
				"closer than 20 share a socket; a node without CPUs joins its nearest",
				"CPU node). Edit sockets if the machine says otherwise.",
			})
		},
	}

	cmd.AddCommand(numactl, newImportHostCmd(&f))
	return cmd
}

// newImportHostCmd is `import host`, sharing f with its parent.
func newImportHostCmd(f *importFlags) *cobra.Command {
	hostCmd := &cobra.Command{
		Use:   "host",
		Short: "Import this machine's NUMA topology from /sys/devices/system/node",
		Example: `  sbmpsim import host
  sbmpsim import host --format json --measure-disk /tmp`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 0 {
				return usageError{fmt.Errorf("import host takes no arguments, got %q", args)}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.check(); err != nil {
				return err
			}
			topo, err := host.ReadSysfs(f.root)
			if err != nil {
				return fmt.Errorf("import host: %w", err)
			}
			source := filepath.Join(f.root, "sys", "devices", "system", "node")
			// A --root tree with no proc/ (a copied sysfs) gives the
			// topology alone; a live host always has /proc.
			var report *host.Report
			if _, err := os.Stat(filepath.Join(f.root, "proc")); err == nil {
				r, err := host.Snapshot(f.root)
				if err != nil {
					return fmt.Errorf("import host: kernel settings: %w", err)
				}
				report = &r
			}
			var disk *host.Disk
			if f.measureDisk != "" {
				d, err := host.MeasureDisk(f.measureDisk, importDiskBytes, importDiskReads)
				if err != nil {
					return fmt.Errorf("import host: --measure-disk %s: %w", f.measureDisk, err)
				}
				disk = &d
			}
			if f.format == "json" {
				return printImportJSON(cmd.OutOrStdout(), source, topo, report, disk)
			}
			err = printImport(cmd.OutOrStdout(), f.format, source, topo, []string{
				"Machine imported by 'sbmpsim import host' from " + source + ";",
				"sockets are the CPUs' physical package ids.",
			})
			if err == nil && disk != nil {
				err = printDiskTOML(cmd.OutOrStdout(), disk)
			}
			if err != nil || report == nil {
				return err
			}
			return printKernelTOML(cmd.OutOrStdout(), report)
		},
	}
	hostCmd.Flags().StringVar(&f.root, "root", "/", "root of the file system to read sys/devices/system/node from")
	hostCmd.Flags().StringVar(&f.measureDisk, "measure-disk", "", "time random O_DIRECT reads of a 512 MiB scratch file under `DIR` (about 2 s; the file is removed) and add [machine] disk_read_ns and disk_readahead_ns_per_page")
	return hostCmd
}

// check validates the shared flags.
func (f *importFlags) check() error {
	if f.format != "toml" && f.format != "json" {
		return usageError{fmt.Errorf("--format %q: use toml or json", f.format)}
	}
	return nil
}

// readNumactl parses numactl output from the file name, or standard input
// for "-".
func readNumactl(cmd *cobra.Command, name string) (numa.Topology, error) {
	var r io.Reader = cmd.InOrStdin()
	if name == "-" {
		name = "<stdin>"
	} else {
		file, err := os.Open(name)
		if err != nil {
			return numa.Topology{}, fmt.Errorf("import numactl: %w", err)
		}
		defer file.Close()
		r = file
	}
	return host.ParseNumactl(name, r)
}

// importDocument is the JSON form of an import.
type importDocument struct {
	Schema  string           `json:"schema"`  // importSchema
	Source  string           `json:"source"`  // the file or sysfs directory read
	Machine scenario.Machine `json:"machine"` // the [machine] section, keys as in TOML
	Derived importDerived    `json:"derived"` // what the model makes of it
	// Kernel is the host's vm settings, zones with the kernel's and the
	// model's watermarks, and tasks with the kernel's and the model's
	// oom_score (import host only).
	Kernel *host.Report `json:"kernel,omitempty"`
}

// importDerived is what the model makes of the imported machine, for
// people checking an import.
type importDerived struct {
	Sockets       int       `json:"sockets"`         // number of sockets
	CPUs          int       `json:"cpus"`            // number of CPUs
	MemoryMB      int64     `json:"memory_mb"`       // memory of all nodes, MiB
	NodeIDs       []int     `json:"node_ids"`        // row and column order of the matrices
	IdleLatencyNs [][]int64 `json:"idle_latency_ns"` // [from][to], numa.Topology.IdleLatencyNs
	BandwidthMBps [][]int64 `json:"bandwidth_mbps"`  // [from][to], numa.Topology.BandwidthMBps
	Zonelists     [][]int   `json:"zonelists"`       // fallback order per node, as Linux builds it
}

// printImport writes topo as a [machine] fragment or a JSON document.
func printImport(w io.Writer, format, source string, topo numa.Topology, header []string) error {
	m := scenario.MachineOf(&topo)
	if format == "toml" {
		header = append(header, fmt.Sprintf("%d nodes, %d sockets, %d CPUs, %d MiB.", len(topo.Nodes), topo.NumSockets(), len(topo.CPUs()), topo.TotalMemoryMB()))
		_, err := w.Write(scenario.EncodeMachine(m, header...))
		return err
	}
	return writeImportJSON(w, importDocument{Schema: importSchema, Source: source, Machine: m, Derived: derive(&topo)})
}

// printImportJSON writes the JSON document of `import host`, with the
// kernel snapshot.
func printImportJSON(w io.Writer, source string, topo numa.Topology, k *host.Report, disk *host.Disk) error {
	m := scenario.MachineOf(&topo)
	if disk != nil {
		m.DiskReadNs, m.DiskReadaheadNsPerPage = disk.ReadNs, disk.ReadaheadNsPerPage
	}
	return writeImportJSON(w, importDocument{Schema: importSchema, Source: source, Machine: m, Derived: derive(&topo), Kernel: k})
}

// printDiskTOML writes the measured disk's keys, which belong to the
// [machine] section printImport just wrote.
func printDiskTOML(w io.Writer, d *host.Disk) error {
	_, err := fmt.Fprintf(w, `# Disk under %s, %d random O_DIRECT reads of each size: 4 KiB %.1f us, 32 KiB %.1f us.
disk_read_ns = %d
disk_readahead_ns_per_page = %d
`, d.Dir, d.Reads, float64(d.ReadNs)/1e3, float64(d.Read32Ns)/1e3, d.ReadNs, d.ReadaheadNsPerPage)
	return err
}

// printKernelTOML writes the host's kernel settings as a [kernel]
// fragment, the keys a scenario takes (host.Report.KernelKeys).
func printKernelTOML(w io.Writer, k *host.Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, `
# Kernel settings read from /proc/sys/vm, /sys/kernel/mm and /proc/meminfo (%s).
# Model vs kernel: %d of %d zones' watermarks and %d of %d tasks' oom_score match exactly.
[kernel]
`, k.KernelRelease, k.ZonesMatched, len(k.Zones), k.TasksMatched, len(k.Tasks))
	for _, kv := range k.KernelKeys() {
		fmt.Fprintf(&b, "%s = %s\n", kv.Key, kv.Value)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeImportJSON(w io.Writer, d importDocument) error {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// derive computes the derived section of the JSON document.
func derive(t *numa.Topology) importDerived {
	ids := t.NodeIDs()
	d := importDerived{Sockets: t.NumSockets(), CPUs: len(t.CPUs()), MemoryMB: t.TotalMemoryMB(), NodeIDs: ids, Zonelists: t.Zonelists()}
	for _, from := range ids {
		var lat, bw []int64
		for _, to := range ids {
			lat = append(lat, t.IdleLatencyNs(from, to))
			bw = append(bw, t.BandwidthMBps(from, to))
		}
		d.IdleLatencyNs = append(d.IdleLatencyNs, lat)
		d.BandwidthMBps = append(d.BandwidthMBps, bw)
	}
	return d
}
