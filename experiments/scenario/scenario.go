// Package scenario loads, overrides, validates and re-encodes sbmpsim scenario
// files: the TOML documents that say which machine to model, how the kernel
// and SBMP are configured, which policies run and which workloads drive them.
//
// The pipeline is Load (or Parse) → Set for each --set override → Validate →
// hand the Scenario to the wiring in experiments. Parse starts from Default,
// so every key has a documented default (see
// experiments/scenarios/README.md), and is strict: unknown keys, wrong types
// and malformed TOML are errors of type *Error that name the file, the line,
// the column and the dotted key at fault ("workload.1.rate_per_s"). Validate
// does the range and name checks and keeps pointing at the line a value came
// from, or at "--set" when an override supplied it.
//
// BurntSushi/toml does the TOML syntax; the mapping onto the structs is done
// here, by toml tags, in document order. We do not let toml.Decode fill the
// structs because it matches keys case-insensitively, reports type errors in
// map iteration order (not deterministic) and exposes no key positions, and
// its MetaData.Undecoded cannot tell which [[workload]] an unknown key sits
// in.
//
// Nothing here is a hot path: reflection is used freely.
package scenario

import (
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Scenario is one fully resolved simulation set-up. The zero value is not
// useful: start from Default, Parse or Load. A Scenario may be copied with
// Clone; plain struct copies share the Workloads backing array.
type Scenario struct {
	// Source names where the scenario came from: a file path, or
	// "embedded:NAME" for a scenario shipped in the binary. It prefixes
	// error messages and is reported in the run summary.
	Source string `toml:"-"`
	// Run holds the run-level settings: name, seed and limits.
	Run Run `toml:"run"`
	// Machine selects the modelled machine topology.
	Machine Machine `toml:"machine"`
	// Kernel holds the Linux vm.* knobs and swap of the kernel model.
	Kernel Kernel `toml:"kernel"`
	// SBMP configures the allocator's tiers.
	SBMP SBMP `toml:"sbmp"`
	// Policy names the merge, refill and degrade policies.
	Policy Policy `toml:"policy"`
	// Workloads are the allocation streams driving the run, one per
	// [[workload]] table, in file order.
	Workloads []Workload `toml:"workload"`
	// Output configures what the run records.
	Output Output `toml:"output"`

	// origins maps a dotted key with workload indices ("kernel.swappiness",
	// "workload.1.rate_per_s", also table headers such as "workload.1") to
	// where its value came from, so that Validate can point at it. Keys
	// that kept their default are absent. Set replaces the map rather than
	// writing into it, so struct copies never see each other's overrides.
	origins map[string]origin
}

// Run holds the run-level settings of a scenario ([run]).
type Run struct {
	// Name labels the run in outputs. Default: the file's base name
	// without ".toml" (the embedded name for embedded scenarios).
	Name string `toml:"name"`
	// Seed is the master seed every random stream derives from. Default 1;
	// at most 2^63-1 so that it can be written back as a TOML integer.
	Seed uint64 `toml:"seed"`
	// DurationMs is the simulated time to run, in milliseconds. Default
	// 30000.
	DurationMs int64 `toml:"duration_ms"`
	// MaxEvents is a hard limit on processed events; reaching it ends the
	// run with a typed error rather than letting it run away. Default 1e9.
	MaxEvents int64 `toml:"max_events"`
}

// Machine selects the modelled machine ([machine]): a preset of
// model/numa, or a machine given inline with preset = "" and the keys
// below, in the shape `sbmpsim import` prints. Per-node arrays have one
// entry per node, in increasing node id order. The cost-model overrides
// apply to presets and inline machines alike. machine.go checks the keys
// (Validate) and builds the model/numa topology (Topology).
type Machine struct {
	// Preset names a topology preset of model/numa; "" when the machine
	// is given inline. Default "intel-2s".
	Preset string `toml:"preset" json:"preset"`
	// NodeMemoryMB replaces the memory of every preset node that has
	// memory, in MiB; 0 keeps the preset's own (96 GiB a node for
	// intel-2s). The kernel model keeps per-page state and holds at most
	// 64 GiB, so the default is 4096: the preset's topology with
	// container-sized memory. Setting it for an inline machine is an
	// error (it is ignored there). Default 4096.
	NodeMemoryMB int64 `toml:"node_memory_mb" json:"node_memory_mb,omitempty"`
	// Nodes is the number of NUMA nodes of an inline machine.
	Nodes int `toml:"nodes" json:"nodes"`
	// NodeIDs are the Linux node ids when they are not 0..nodes-1 (IBM
	// POWER machines number nodes 0, 8, 252...). Optional.
	NodeIDs []int `toml:"node_ids" json:"node_ids,omitempty"`
	// Sockets is the socket of each node. Optional: inferred from the
	// distances when empty (numa.InferSockets).
	Sockets []int `toml:"sockets" json:"sockets"`
	// CPUs is a cpulist per node ("0-15,32-47"; "" for a node without
	// CPUs, such as persistent memory, CXL or HBM).
	CPUs []string `toml:"cpus" json:"cpus"`
	// MemoryMB is each node's memory in MiB (numactl's "size").
	MemoryMB []int64 `toml:"memory_mb" json:"memory_mb"`
	// Distances is the SLIT, one row per node (numactl's "node
	// distances").
	Distances [][]int `toml:"distances" json:"distances"`
	// MediaLatencyNs is the idle latency each node's memory device adds
	// beyond its distances (0 for DRAM). Optional.
	MediaLatencyNs []int64 `toml:"media_latency_ns" json:"media_latency_ns,omitempty"`
	// MediaBandwidthMBps caps each node's memory bandwidth in MB/s (0 for
	// no cap). Optional.
	MediaBandwidthMBps []int64 `toml:"media_bandwidth_mbps" json:"media_bandwidth_mbps,omitempty"`
	// LocalLatencyNs overrides the local idle latency; 0 keeps the
	// default (78 ns).
	LocalLatencyNs int64 `toml:"local_latency_ns" json:"local_latency_ns"`
	// RemoteLatencyNs overrides the idle latency at SLIT distance 21; 0
	// keeps the default (143 ns).
	RemoteLatencyNs int64 `toml:"remote_latency_ns" json:"remote_latency_ns"`
	// LocalBandwidthMBps overrides the local bandwidth; 0 keeps the
	// default (79800 MB/s).
	LocalBandwidthMBps int64 `toml:"local_bandwidth_mbps" json:"local_bandwidth_mbps"`
	// RemoteBandwidthMBps overrides the bandwidth at SLIT distance 21; 0
	// keeps the default (60100 MB/s).
	RemoteBandwidthMBps int64 `toml:"remote_bandwidth_mbps" json:"remote_bandwidth_mbps"`
}

// Kernel holds the Linux memory-management knobs of the kernel model
// ([kernel]), named after their /proc/sys/vm counterparts.
type Kernel struct {
	// Swappiness is vm.swappiness, 0..200. Default 60.
	Swappiness int `toml:"swappiness"`
	// OOMKillAllocatingTask is vm.oom_kill_allocating_task, 0 or 1.
	// Default 0 (the OOM killer picks the task with the highest badness).
	OOMKillAllocatingTask int `toml:"oom_kill_allocating_task"`
	// SwapMB is the size of the swap device in MiB; 0 means no swap.
	// Default 0.
	SwapMB int64 `toml:"swap_mb"`
	// MinFreeKbytes is vm.min_free_kbytes. 0 (the default) lets the kernel
	// model compute it the way Linux does at boot; otherwise at least 128.
	MinFreeKbytes int64 `toml:"min_free_kbytes"`
	// WatermarkScaleFactor is vm.watermark_scale_factor, 1..3000. Default
	// 10.
	WatermarkScaleFactor int `toml:"watermark_scale_factor"`
	// Cgroups are the cgroup v2 groups tasks can run in ([[kernel.cgroup]]),
	// parents before children; "/" always exists. Default none.
	Cgroups []Cgroup `toml:"cgroup"`
}

// Cgroup is one cgroup v2 group of the kernel model ([[kernel.cgroup]]).
type Cgroup struct {
	// Path is the cgroup's path, "/name" or "/parent/name"; its parent
	// must come earlier in the list (or be "/").
	Path string `toml:"path"`
	// MaxMB is memory.max in MiB: a charge past it reclaims within the
	// group and then OOM-kills inside it. 0 means "max" (no limit).
	MaxMB int64 `toml:"max_mb"`
	// HighMB is memory.high in MiB: usage past it is throttled and
	// reclaimed. 0 means "max".
	HighMB int64 `toml:"high_mb"`
	// SwapMaxMB is memory.swap.max in MiB. 0 means "max".
	SwapMaxMB int64 `toml:"swap_max_mb"`
}

// SBMP configures the allocator's tiers ([sbmp]).
type SBMP struct {
	// SlotSizes are the Tier-0 size classes in bytes: strictly increasing
	// powers of two in 8..65536. Default [64, 256, 1024] (SPEC 1.2).
	SlotSizes []int64 `toml:"slot_sizes"`
	// Tier0CapacitySlots is the number of Tier-0 slots per size class per
	// CPU, at least 1. Default 512.
	Tier0CapacitySlots int `toml:"tier0_capacity_slots"`
	// Tier1BlockKiB is the size of a Tier-1 buddy block in KiB: 2048 or
	// 4096 (SPEC 1.2). Default 2048.
	Tier1BlockKiB int `toml:"tier1_block_kib"`
}

// Policy names the allocator's swappable policies ([policy]).
type Policy struct {
	// Merge is the Tier-1 merge policy. Default "lazy-threshold".
	Merge string `toml:"merge"`
	// Refill is the Tier-0 refill policy. Default "fixed-batch".
	Refill string `toml:"refill"`
	// Degrade is what happens when Tier-0 and Tier-1 cannot serve.
	// Default "immediate-tier2".
	Degrade string `toml:"degrade"`

	// Policy parameters, named KIND_PARAM after the policies registry
	// (`sbmpsim policies` lists them): 0 keeps the policy's default; a
	// parameter the chosen policy does not have is an error.
	MergeThreshold    float64 `toml:"merge_threshold"`     // lazy-threshold
	MergeDelayMs      float64 `toml:"merge_delay_ms"`      // delayed
	MergeFreeFraction float64 `toml:"merge_free_fraction"` // watermark
	MergeMaxPending   float64 `toml:"merge_max_pending"`   // watermark
	RefillBatch       float64 `toml:"refill_batch"`        // fixed-batch, local-first, nearest-node, interleave, steal-peer
	RefillMinBatch    float64 `toml:"refill_min_batch"`    // adaptive-batch
	RefillMaxBatch    float64 `toml:"refill_max_batch"`    // adaptive-batch
	RefillWindowMs    float64 `toml:"refill_window_ms"`    // adaptive-batch
	DegradeWaitMs     float64 `toml:"degrade_wait_ms"`     // wait-refill
	DegradeMaxWaitMs  float64 `toml:"degrade_max_wait_ms"` // wait-refill
}

// Params returns the parameters set for the chosen policy of kind
// ("merge", "refill" or "degrade"), by the registry's parameter names.
func (p *Policy) Params(kind string) map[string]float64 {
	all := []struct {
		kind, name string
		v          float64
	}{
		{"merge", "threshold", p.MergeThreshold}, {"merge", "delay_ms", p.MergeDelayMs},
		{"merge", "free_fraction", p.MergeFreeFraction}, {"merge", "max_pending", p.MergeMaxPending},
		{"refill", "batch", p.RefillBatch}, {"refill", "min_batch", p.RefillMinBatch},
		{"refill", "max_batch", p.RefillMaxBatch}, {"refill", "window_ms", p.RefillWindowMs},
		{"degrade", "wait_ms", p.DegradeWaitMs}, {"degrade", "max_wait_ms", p.DegradeMaxWaitMs},
	}
	out := map[string]float64{}
	for _, a := range all {
		if a.kind == kind && a.v != 0 {
			out[a.name] = a.v
		}
	}
	return out
}

// Workload is one allocation stream ([[workload]]).
type Workload struct {
	// Name labels the workload in outputs; unique within a scenario.
	// Default "w<index>" (index from 0, in file order).
	Name string `toml:"name"`
	// Kind is "synthetic" (default), "task" (a process faulting in
	// anonymous memory through the kernel model) or "heaptrack" (a
	// recorded trace; the parser accepts it, Validate reports that it is
	// not supported yet).
	Kind string `toml:"kind"`
	// CPUs is a Linux cpulist ("0-7,16,18-19") of the CPUs the workload
	// allocates on. Default "0".
	CPUs string `toml:"cpus"`
	// Arrival is the arrival process: "poisson" (default; the only one so
	// far).
	Arrival string `toml:"arrival"`
	// RatePerS is the mean allocation rate in allocations per second over
	// the whole workload (not per CPU); > 0. Default 100000.
	RatePerS float64 `toml:"rate_per_s"`
	// SizeBytes is the requested size of every allocation; > 0. Default 64.
	SizeBytes int64 `toml:"size_bytes"`
	// Lifetime is the object lifetime distribution: "exponential"
	// (default) or "forever" (never freed).
	Lifetime string `toml:"lifetime"`
	// LifetimeMeanMs is the mean lifetime in milliseconds, > 0 when
	// Lifetime is "exponential". Default 10.
	LifetimeMeanMs float64 `toml:"lifetime_mean_ms"`
	// File is the trace file of a "heaptrack" workload; it must be empty
	// for "synthetic" ones. Default "".
	File string `toml:"file"`

	// The keys below belong to kind "task": a process outside SBMP that
	// faults in anonymous memory through the kernel model (SPEC 1.6's
	// other tasks), with its own oom_score_adj, so that the OOM killer
	// can see and choose it.

	// GrowMBPerS is how fast a task faults in anonymous memory, MiB per
	// second; > 0. Default 100.
	GrowMBPerS float64 `toml:"grow_mb_per_s"`
	// RSSMB is the anonymous memory a task stops growing at, MiB; 0 means
	// it never stops. Default 0.
	RSSMB int64 `toml:"rss_mb"`
	// PageCacheMB is file data the task reads into the page cache at
	// start, MiB; reclaim can drop it. Default 0.
	PageCacheMB int64 `toml:"page_cache_mb"`
	// OOMScoreAdj is the task's oom_score_adj, -1000..1000. Default 0.
	OOMScoreAdj int64 `toml:"oom_score_adj"`
	// Cgroup is the cgroup v2 path the task runs in: "/" or a path from
	// [[kernel.cgroup]]. Default "/".
	Cgroup string `toml:"cgroup"`
}

// Output configures what a run records ([output]).
type Output struct {
	// SampleIntervalMs is the simulated-time interval between time-series
	// samples, in milliseconds, at least 1. Default 100.
	SampleIntervalMs int64 `toml:"sample_interval_ms"`
}

// DefaultName is the Run.Name of Default, and of a parsed scenario whose
// source gives no usable base name.
const DefaultName = "scenario"

// Default returns a scenario with every default filled in and no
// workloads. Its Run.Name is DefaultName; Parse replaces it with the name
// of the source.
func Default() Scenario {
	return Scenario{
		Run: Run{
			Name:       DefaultName,
			Seed:       1,
			DurationMs: 30000,
			MaxEvents:  1_000_000_000,
		},
		Machine: Machine{Preset: "intel-2s", NodeMemoryMB: 4096},
		Kernel: Kernel{
			Swappiness:            60,
			OOMKillAllocatingTask: 0,
			SwapMB:                0,
			MinFreeKbytes:         0,
			WatermarkScaleFactor:  10,
		},
		SBMP: SBMP{
			SlotSizes:          []int64{64, 256, 1024},
			Tier0CapacitySlots: 512,
			Tier1BlockKiB:      2048,
		},
		Policy: Policy{
			Merge:   "lazy-threshold",
			Refill:  "fixed-batch",
			Degrade: "immediate-tier2",
		},
		Output: Output{SampleIntervalMs: 100},
	}
}

// DefaultWorkload returns the defaults of the workload at position index
// (0-based), which are what a [[workload]] table is decoded on top of.
func DefaultWorkload(index int) Workload {
	return Workload{
		Name:           "w" + strconv.Itoa(index),
		Kind:           KindSynthetic,
		CPUs:           "0",
		Arrival:        ArrivalPoisson,
		RatePerS:       100000,
		SizeBytes:      64,
		Lifetime:       LifetimeExponential,
		LifetimeMeanMs: 10,
		GrowMBPerS:     100,
		Cgroup:         "/",
	}
}

// Workload kinds, arrival processes and lifetime distributions.
const (
	// KindSynthetic is a workload generated from the distributions below.
	KindSynthetic = "synthetic"
	// KindHeaptrack replays a heaptrack trace (not supported yet).
	KindHeaptrack = "heaptrack"
	// KindTask is a process that faults in anonymous memory through the
	// kernel model.
	KindTask = "task"
	// ArrivalPoisson draws exponential inter-arrival times.
	ArrivalPoisson = "poisson"
	// LifetimeExponential frees each object after an exponential lifetime.
	LifetimeExponential = "exponential"
	// LifetimeForever never frees the objects.
	LifetimeForever = "forever"
)

// Clone returns a deep copy of s that shares no memory with it, so that
// the copy can be overridden with Set independently (A/B arms, sweeps).
func (s *Scenario) Clone() *Scenario {
	c := *s
	c.Machine = s.Machine.clone()
	c.SBMP.SlotSizes = slices.Clone(s.SBMP.SlotSizes)
	c.Workloads = slices.Clone(s.Workloads)
	c.Kernel.Cgroups = slices.Clone(s.Kernel.Cgroups)
	c.origins = maps.Clone(s.origins)
	return &c
}

// nameFromSource derives the default Run.Name from a Source: the base name
// without ".toml" of a path, or NAME of "embedded:NAME".
func nameFromSource(source string) string {
	name := strings.TrimPrefix(source, embeddedPrefix)
	name = filepath.Base(filepath.ToSlash(name))
	name = strings.TrimSuffix(name, ".toml")
	if name == "" || name == "." || name == "/" {
		return DefaultName
	}
	return name
}
