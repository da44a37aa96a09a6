package real

import (
	"github.com/sbmpsim/sbmpsim/experiments/world"
)

// Schema names the version of real.json's layout.
const Schema = "sbmpsim.real/v1"

// Summary is what one real run reports, written as real.json. Fields
// that mean what summary.json's mean carry the same names (scenario,
// seed, sim_time_ns, oom_kills, oom_events, kernel_workloads, workloads,
// vmstat), so that a real run and a simulation of the same scenario can
// be compared field by field. Nothing in it is deterministic: it is what
// this host's kernel did this time.
type Summary struct {
	Schema   string `json:"schema"`
	Scenario string `json:"scenario"`
	Source   string `json:"source"`
	Seed     uint64 `json:"seed"`
	// SimTimeNs is the length of the run from the moment every process
	// was released to the end (a real run's "simulated" time is wall
	// time).
	SimTimeNs int64 `json:"sim_time_ns"`
	// SampleIntervalNs is how often the kernel was sampled; Samples how
	// many times.
	SampleIntervalNs int64 `json:"sample_interval_ns"`
	Samples          int   `json:"samples"`

	OOMKills  int        `json:"oom_kills"`
	OOMEvents []OOMEvent `json:"oom_events"`
	// KernelWorkloads are the task, mlock and page-cache workloads; a
	// fleet is summed over its processes, as the simulation sums it.
	KernelWorkloads []KernelWorkload `json:"kernel_workloads,omitempty"`
	// Workloads are the synthetic workloads SBMP served.
	Workloads []world.WorkloadSummary `json:"workloads,omitempty"`
	// Processes are every process the run started, in the simulation's
	// pid order.
	Processes []Process `json:"processes"`
	// Cgroups are the scenario's cgroups at the end of the run.
	Cgroups []Cgroup `json:"cgroups"`
	// Vmstat holds every /proc/vmstat counter as its change over the run
	// (gauges such as nr_free_pages as their change too). The counters
	// are the whole host's: other work on the host shows in them.
	Vmstat map[string]int64 `json:"vmstat"`
	// MemoryPressure is /proc/pressure/memory's stall time over the run,
	// host-wide (summary.json's machine-wide memory_pressure).
	MemoryPressure world.PressureSummary `json:"memory_pressure"`
	// HostCPU is how busy the host's CPUs were with tasks over the run,
	// the run's own and others' (nil when /proc/stat could not be
	// read): work besides the run's dilutes MemoryPressure (hostcpu.go).
	HostCPU *HostCPU `json:"host_cpu,omitempty"`
	// KernelLog is "read" when the run read the OOM killer's reports
	// from the kernel log, else why it could not.
	KernelLog string `json:"kernel_log"`
	// Swap is the swap file the run added (kernel.swap_mb), if any.
	Swap *SwapSummary `json:"swap,omitempty"`

	Host       *Host        `json:"host"`
	NotApplied []NotApplied `json:"not_applied"`
	// StaleRemoved are the cgroups and directories of earlier runs that
	// were killed (SIGKILL) which this run removed at its start.
	StaleRemoved []string `json:"stale_removed,omitempty"`
	// SetupNs is the time spent before the run's start (files written,
	// processes placed); WallNs the whole command's time.
	SetupNs int64 `json:"wall_setup_ns"`
	WallNs  int64 `json:"wall_ns"`
}

// OOMEvent is one OOM kill of a process of the run, in summary.json's
// shape (victim_pid is the pid the simulation gives the process), with
// what the real run knows besides.
type OOMEvent struct {
	world.OOMEvent
	// RealPID is the victim's pid on this host.
	RealPID int `json:"victim_real_pid"`
	// Workload names the victim's workload (its process, for SBMP).
	Workload string `json:"workload"`
	// Source says where time_ns, scope and victim_points come from.
	// "kernel-log": the OOM killer's own report (/dev/kmsg): the time of
	// the kill, the cgroup whose limit was hit, and oom_badness of the
	// memory the kernel saw in the victim (its swap from the last
	// sample). "samples", without access to the log: the time the
	// victim was reaped, the fullest limited cgroup above it, and its
	// memory at the last sample.
	Source string `json:"source"`
	// ReapedNs is when the run reaped the victim.
	ReapedNs int64 `json:"reaped_ns"`
	// VictimRSSAnonPages and VictimRSSFilePages are the victim's
	// resident memory that the figures come from.
	VictimRSSAnonPages int64 `json:"victim_rss_anon_pages"`
	VictimRSSFilePages int64 `json:"victim_rss_file_pages"`
	// SampleNs is the time of the last sample before the kill: the
	// scope_anon_pages and scope_file_pages of the embedded event are
	// the scope cgroup's memory.stat anon and file at it (the run's
	// parent cgroup's for a global OOM).
	SampleNs int64 `json:"sample_ns"`
}

// KernelWorkload is one task, mlock or page-cache workload at the end of
// the run, in summary.json's shape, with what the real run measured
// besides. stall_ns and failed_ticks are the model's and stay 0: the
// time a real task spends in reclaim is inside fault_ns, not apart.
type KernelWorkload struct {
	world.KernelWorkloadSummary
	// FaultNs is the time its processes spent faulting memory in (or
	// reading), reclaim stalls included.
	FaultNs int64 `json:"fault_ns,omitempty"`
	// MissesMeasured: pages_missed counts reads that found their page
	// out of the page cache (cachestat(2) before each read), not an estimate.
	MissesMeasured bool `json:"misses_measured,omitempty"`
}

// Process is one process the run started.
type Process struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Workload    string `json:"workload"`
	PID         int64  `json:"pid"`
	RealPID     int    `json:"real_pid"`
	Cgroup      string `json:"cgroup"`
	OOMScoreAdj int64  `json:"oom_score_adj"`
	// The last sample of /proc/PID/status and oom_score while it lived.
	RSSAnonPages int64 `json:"rss_anon_pages"`
	RSSFilePages int64 `json:"rss_file_pages"`
	SwapPages    int64 `json:"swap_pages"`
	OOMScore     int64 `json:"oom_score"`
	// DiedNs is when it died before the end (-1: it lived to the end),
	// and DiedOf why: "oom-kill", "global-oom-kill", "signal: ..." or
	// "exit N".
	DiedNs int64  `json:"died_ns"`
	DiedOf string `json:"died_of,omitempty"`
	// Stderr is what it wrote to standard error (at most a few KiB).
	Stderr string `json:"stderr,omitempty"`
}

// Cgroup is one scenario cgroup at the end of the run: summary.json's
// figures where they mean the same, the limits written, and the kernel's
// files as it printed them. On cgroup v2 memory_stat, memory_events and
// memory_pressure are the group's files. Cgroup v1 has other files:
// memory_stat is its memory.stat's hierarchical total_* lines under the
// v2 names (rss is anon, cache file, ...; the file itself is in
// memory_stat_v1), current_pages is its memory.usage_in_bytes,
// events_max and memory_events' max its memory.failcnt plus
// memory.memsw.failcnt, events_oom_kill and memory_events' oom_kill its
// memory.oom_control oom_kill; it has no other events and no pressure.
type Cgroup struct {
	world.CgroupSummary
	Dir          string           `json:"dir"`
	MaxBytes     int64            `json:"max_bytes"`
	HighBytes    int64            `json:"high_bytes"`
	SwapMaxBytes int64            `json:"swap_max_bytes"`
	MemoryStatV1 map[string]int64 `json:"memory_stat_v1,omitempty"`
	OOMControl   *OOMControl      `json:"oom_control,omitempty"`
}

// SwapSummary is the run's swap file.
type SwapSummary struct {
	Path      string `json:"path"`
	SizeBytes int64  `json:"size_bytes"`
	// PeakUsedBytes is the most of it in use at a sample.
	PeakUsedBytes int64 `json:"peak_used_bytes"`
}

// Result is everything one real run produced.
type Result struct {
	Summary Summary
	// Timeseries is real.csv: the kernel sampled every
	// SampleIntervalNs, columns named as timeseries.csv names them where
	// they mean the same.
	Timeseries world.Timeseries
	// Scenario is the resolved scenario it ran, as canonical TOML.
	Scenario []byte
}
