package scenario

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/model/numa"
)

// The [machine] section. The topology rules (shapes, SLIT values, CPUs on
// one node each, cost parameter ranges) live once, in model/numa:
// Validate converts the section to a numa.Spec and reports numa's
// FieldErrors under "machine." + their key, located at the key's line (or
// the nearest enclosing key for array elements, which carry no position of
// their own). This package imports model/numa, never the reverse.

// inlineKeys are the [machine] keys that describe an inline topology, with
// whether each is set; a preset machine must leave them empty.
func (m *Machine) inlineKeys() []struct {
	key string
	set bool
} {
	return []struct {
		key string
		set bool
	}{
		{"nodes", m.Nodes != 0},
		{"node_ids", len(m.NodeIDs) > 0},
		{"sockets", len(m.Sockets) > 0},
		{"cpus", len(m.CPUs) > 0},
		{"memory_mb", len(m.MemoryMB) > 0},
		{"distances", len(m.Distances) > 0},
		{"media_latency_ns", len(m.MediaLatencyNs) > 0},
		{"media_bandwidth_mbps", len(m.MediaBandwidthMBps) > 0},
	}
}

// Spec returns the section's inline topology and cost overrides as plain
// values for numa.FromSpec.
func (m *Machine) Spec() numa.Spec {
	return numa.Spec{
		Nodes:               m.Nodes,
		NodeIDs:             m.NodeIDs,
		Sockets:             m.Sockets,
		CPUs:                m.CPUs,
		MemoryMB:            m.MemoryMB,
		Distances:           m.Distances,
		MediaLatencyNs:      m.MediaLatencyNs,
		MediaBandwidthMBps:  m.MediaBandwidthMBps,
		LocalLatencyNs:      m.LocalLatencyNs,
		RemoteLatencyNs:     m.RemoteLatencyNs,
		LocalBandwidthMBps:  m.LocalBandwidthMBps,
		RemoteBandwidthMBps: m.RemoteBandwidthMBps,
	}
}

// Topology builds the machine the section describes: the preset with the
// cost overrides applied, or the inline topology. Call it on a scenario
// that passed Validate; otherwise the error is what Validate reports, as
// *numa.FieldError values keyed without the "machine." prefix.
func (m *Machine) Topology() (numa.Topology, error) {
	if m.Preset == "" {
		return numa.FromSpec("inline", m.Spec())
	}
	t, err := numa.Preset(m.Preset)
	if err != nil {
		return numa.Topology{}, &numa.FieldError{Key: "preset", Msg: err.Error()}
	}
	t.Cost = t.Cost.WithOverrides(m.LocalLatencyNs, m.RemoteLatencyNs, m.LocalBandwidthMBps, m.RemoteBandwidthMBps)
	if m.NodeMemoryMB > 0 {
		for i := range t.Nodes {
			if t.Nodes[i].MemoryMB > 0 {
				t.Nodes[i].MemoryMB = m.NodeMemoryMB
			}
		}
	}
	if err := t.Validate(); err != nil {
		return numa.Topology{}, err
	}
	return t, nil
}

// maxDiskNs bounds the disk latencies of [machine]: a second a read is
// no disk a page cache is worth modelling on.
const maxDiskNs = 1_000_000_000

// MachineOf returns the [machine] section that gives t inline: preset "",
// node_ids only when they are not 0..n-1, media keys only when a node has
// media parameters, cost overrides only when they differ from the
// defaults. Topology of the result equals t when t's contention parameters
// are the defaults.
func MachineOf(t *numa.Topology) Machine {
	s := t.Spec()
	return Machine{
		Nodes:               s.Nodes,
		NodeIDs:             s.NodeIDs,
		Sockets:             s.Sockets,
		CPUs:                s.CPUs,
		MemoryMB:            s.MemoryMB,
		Distances:           s.Distances,
		MediaLatencyNs:      s.MediaLatencyNs,
		MediaBandwidthMBps:  s.MediaBandwidthMBps,
		LocalLatencyNs:      s.LocalLatencyNs,
		RemoteLatencyNs:     s.RemoteLatencyNs,
		LocalBandwidthMBps:  s.LocalBandwidthMBps,
		RemoteBandwidthMBps: s.RemoteBandwidthMBps,
	}
}

// clone returns a deep copy of m.
func (m Machine) clone() Machine {
	m.NodeIDs = slices.Clone(m.NodeIDs)
	m.Sockets = slices.Clone(m.Sockets)
	m.CPUs = slices.Clone(m.CPUs)
	m.MemoryMB = slices.Clone(m.MemoryMB)
	m.MediaLatencyNs = slices.Clone(m.MediaLatencyNs)
	m.MediaBandwidthMBps = slices.Clone(m.MediaBandwidthMBps)
	if m.Distances != nil {
		rows := make([][]int, len(m.Distances))
		for i, r := range m.Distances {
			rows[i] = slices.Clone(r)
		}
		m.Distances = rows
	}
	return m
}

// machine validates [machine].
func (v *validator) machine() {
	m := &v.s.Machine
	v.intRange("machine.disk_read_ns", m.DiskReadNs, 0, maxDiskNs)
	v.intRange("machine.disk_readahead_ns_per_page", m.DiskReadaheadNsPerPage, 0, maxDiskNs)
	if _, set := v.s.origins["machine.node_memory_mb"]; set && m.Preset == "" && m.NodeMemoryMB != 0 {
		v.failf("machine.node_memory_mb", "scales a preset's memory; for an inline machine give memory_mb per node")
	}
	if m.Preset != "" {
		p := m.Preset
		if strings.TrimLeft(p, "abcdefghijklmnopqrstuvwxyz0123456789-_.") != "" || len(p) > maxNameBytes {
			v.failf("machine.preset", "must be a preset name of lower-case letters, digits, '-', '_' and '.', such as \"intel-2s\"; got %q", p)
			return
		}
		if !slices.Contains(numa.PresetNames(), p) {
			v.failf("machine.preset", "unknown preset %q: use one of %s, or preset = \"\" and give the machine inline (sbmpsim import prints one)",
				p, strings.Join(numa.PresetNames(), ", "))
			return
		}
		v.intRange("machine.node_memory_mb", m.NodeMemoryMB, 0, numa.MaxMemoryMB)
		for _, k := range m.inlineKeys() {
			if k.set {
				v.failNearf("machine."+k.key, "describes an inline machine, but machine.preset = %q is used: remove this key, or set preset = \"\" to give the whole machine inline", p)
			}
		}
	}
	if _, err := m.Topology(); err != nil {
		for _, e := range unjoinErrors(err) {
			var fe *numa.FieldError
			if errors.As(e, &fe) {
				v.failNearf("machine."+fe.Key, "%s", fe.Msg)
			} else {
				v.failNearf("machine", "%v", e)
			}
		}
	}
}

// unjoinErrors returns the errors joined in err, or err alone.
func unjoinErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// EncodeMachine returns m as a [machine] TOML fragment with a comment on
// every key: what `sbmpsim import` prints. header lines, if any, are
// printed first as comments. Parse of the fragment (with a workload added)
// gives back m.
func EncodeMachine(m Machine, header ...string) []byte {
	var b strings.Builder
	for _, h := range header {
		b.WriteString("# " + h + "\n")
	}
	kv := func(key, value, comment string) {
		line := key + " = " + value
		if comment != "" {
			line = fmt.Sprintf("%-34s # %s", line, comment)
		}
		b.WriteString(line + "\n")
	}
	b.WriteString("[machine]\n")
	kv("preset", strconv.Quote(m.Preset), "empty: the machine is given inline below")
	kv("nodes", strconv.Itoa(m.Nodes), "NUMA nodes")
	if len(m.NodeIDs) > 0 {
		kv("node_ids", intArray(m.NodeIDs), "Linux node ids, when not 0..nodes-1")
	}
	kv("sockets", intArray(m.Sockets), "socket of each node")
	quoted := make([]string, len(m.CPUs))
	for i, c := range m.CPUs {
		quoted[i] = strconv.Quote(c)
	}
	kv("cpus", "["+strings.Join(quoted, ", ")+"]", "cpulist per node (\"\" for a node without CPUs)")
	kv("memory_mb", intArray(m.MemoryMB), "memory per node, MiB")
	if len(m.Distances) <= 2 {
		rows := make([]string, len(m.Distances))
		for i, r := range m.Distances {
			rows[i] = intArray(r)
		}
		kv("distances", "["+strings.Join(rows, ", ")+"]", "SLIT, one row per node (numactl \"node distances\")")
	} else {
		kv("distances", "[", "SLIT, one row per node (numactl \"node distances\")")
		for _, r := range m.Distances {
			b.WriteString("  " + intArray(r) + ",\n")
		}
		b.WriteString("]\n")
	}
	if len(m.MediaLatencyNs) > 0 {
		kv("media_latency_ns", intArray(m.MediaLatencyNs), "latency the memory device adds, ns (0: DRAM)")
	}
	if len(m.MediaBandwidthMBps) > 0 {
		kv("media_bandwidth_mbps", intArray(m.MediaBandwidthMBps), "bandwidth cap of the memory device, MB/s (0: none)")
	}
	c := numa.DefaultCost()
	kv("local_latency_ns", strconv.FormatInt(m.LocalLatencyNs, 10), fmt.Sprintf("cost-model overrides, 0 = default: %d ns,", c.LocalLatencyNs))
	kv("remote_latency_ns", strconv.FormatInt(m.RemoteLatencyNs, 10), fmt.Sprintf("  %d ns at SLIT distance %d,", c.RemoteLatencyNs, numa.CalibrationDistance))
	kv("local_bandwidth_mbps", strconv.FormatInt(m.LocalBandwidthMBps, 10), fmt.Sprintf("  %d and %d MB/s (Intel MLC,", c.LocalBandwidthMBps, c.RemoteBandwidthMBps))
	kv("remote_bandwidth_mbps", strconv.FormatInt(m.RemoteBandwidthMBps, 10), "  2-socket Xeon Platinum 8269)")
	return []byte(b.String())
}

// intArray formats integers as a TOML array.
func intArray[T int | int64](v []T) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatInt(int64(x), 10)
	}
	return "[" + strings.Join(s, ", ") + "]"
}
