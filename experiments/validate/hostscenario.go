package validate

import (
	"errors"
	"fmt"

	"github.com/sbmpsim/sbmpsim/experiments/input/host"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/input/tomlfile"
	"github.com/sbmpsim/sbmpsim/experiments/real"
)

// sampleIntervalMs is the simulation's time-series interval in the
// suite: a real run samples every 50 ms, and the metrics read both series
// alike.
const sampleIntervalMs = 50

// Host is what the suite knows of the host: what a real run records of
// it, and the [machine] and [kernel] fragment `sbmpsim import host`
// prints for it, which every case is simulated with.
type Host struct {
	real.Host
	// Kernel are the [kernel] keys of import host (host.Report.KernelKeys).
	Kernel []host.KernelKey `json:"kernel_keys"`
	// ZonesMatched of Zones and TasksMatched of Tasks are import host's
	// check of the model against this kernel: zones whose watermarks,
	// reserves and pagesets the model computes exactly, and tasks whose
	// oom_score it does.
	ZonesMatched int `json:"zones_matched"`
	Zones        int `json:"zones"`
	TasksMatched int `json:"tasks_matched"`
	Tasks        int `json:"tasks"`
	// NotRunnable says why real runs cannot happen here ("" when they
	// can): no root, no writable memory cgroup, a tmpfs temporary
	// directory.
	NotRunnable string `json:"not_runnable,omitempty"`
	// Disk is the read latency of the disk under the real runs'
	// temporary directory that the simulations use ([machine]
	// disk_read_ns and disk_readahead_ns_per_page); nil for the model's
	// defaults. The suite sets it per case, to what it measured beside
	// the case's real runs (CaseResult.Disk); it is not part of the
	// host's record.
	Disk *host.Disk `json:"-"`
}

// The disk measurement: a 256 MiB scratch file, written once when the
// suite starts, and 1,000 random reads of each size just before each real
// run (about 0.2 s): the latency drifts by tens of percent over minutes
// on a shared host (4 KiB reads took 53 to 108 us on this project's host
// on one day), so each case gets the mean of the measurements beside its
// own runs.
const (
	diskFileBytes   = 256 << 20
	diskReadsPerRun = 1000
)

// ReadHost reads the host's facts as experiments/real probes them and
// import host reads them (root "/"). A host that cannot run real runs
// is no error: NotRunnable says why.
func ReadHost(opt real.Options) (*Host, error) {
	rh, err := real.Probe(opt.CgroupRoot, opt.TempDir)
	if err != nil {
		return nil, err
	}
	if rh.Machine == nil {
		return nil, fmt.Errorf("read the host's machine: %s", rh.MachineError)
	}
	snap, err := host.Snapshot("/")
	if err != nil {
		return nil, fmt.Errorf("read the host's kernel settings: %w", err)
	}
	h := &Host{Host: *rh, Kernel: snap.KernelKeys(), ZonesMatched: snap.ZonesMatched, Zones: len(snap.Zones),
		TasksMatched: snap.TasksMatched, Tasks: len(snap.Tasks)}
	if err := rh.Runnable(); err != nil {
		h.NotRunnable = err.Error()
	}
	return h, nil
}

// Scenario returns case c's scenario as both sides run it on h, with
// seed: the case's file, with h's [machine] (the case has none; with
// h's disk latency when it was measured) and
// every [kernel] key of import host that the case does not set itself
// (its swappiness, swap and cgroups stay its own), and the simulation
// sampled as often as a real run samples. Errors in the case's file
// name its file, line and key.
func (c *Case) Scenario(h *Host, seed uint64) (*scenario.Scenario, error) {
	data, err := c.text()
	if err != nil {
		return nil, err
	}
	sc, err := scenario.Parse(c.Source(), data)
	if err != nil {
		return nil, err
	}
	if err := applyHost(sc, data, h, c.NeedsMemoryHigh); err != nil {
		return nil, err
	}
	sc.Run.Seed = seed
	sc.Output.SampleIntervalMs = sampleIntervalMs
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	return sc, nil
}

// applyHost gives sc, parsed from data, the host's machine and the host's
// kernel keys that data does not set; a case that needs memory.high
// keeps cgroup v2 (needsHigh).
func applyHost(sc *scenario.Scenario, data []byte, h *Host, needsHigh bool) error {
	pos := tomlfile.Scan(data)
	if _, ok := pos["machine"]; ok {
		return sc.KeyError("machine", "a validation case runs on the host's machine; remove [machine]")
	}
	if h.Machine == nil {
		return fmt.Errorf("the host's machine is unknown: %s", h.MachineError)
	}
	sc.Machine = *h.Machine
	if h.Disk != nil {
		sc.Machine.DiskReadNs, sc.Machine.DiskReadaheadNsPerPage = h.Disk.ReadNs, h.Disk.ReadaheadNsPerPage
	}
	var errs []error
	for _, kv := range h.Kernel {
		if _, set := pos["kernel."+kv.Key]; set {
			continue
		}
		if kv.Key == "cgroup_version" && needsHigh {
			// memory.high needs cgroup v2: on a v1 host the real runs
			// are skipped and the case is simulated as v2.
			continue
		}
		if err := sc.Set("kernel." + kv.Key + "=" + kv.Value); err != nil {
			errs = append(errs, fmt.Errorf("the host's kernel.%s = %s: %w", kv.Key, kv.Value, err))
		}
	}
	return errors.Join(errs...)
}
