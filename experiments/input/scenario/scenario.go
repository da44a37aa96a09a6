// Package scenario loads, overrides, validates and re-encodes sbmpsim scenario
// files: the TOML documents that say which machine to model, how the kernel
// and SBMP are configured, which policies run and which workloads drive them.
//
// The pipeline is Load (or Parse) → Set for each --set override → Validate →
// hand the Scenario to the wiring in experiments. Parse starts from Default,
// so every key has a documented default (see
// experiments/input/scenarios/README.md), and is strict: unknown keys,
// wrong types and malformed TOML are errors of type *Error that name the
// file, the line, the column and the dotted key at fault
// ("workload.1.rate_per_s"). Validate does the range and name checks and
// keeps pointing at the line a value came from, or at "--set" when an
// override supplied it.
//
// Package experiments/input/tomlfile reads and decodes the file (with
// BurntSushi/toml) and finds where its keys are written; the mapping onto
// the structs is done here, by toml tags, in document order. We do not let
// toml.Decode fill the structs because it matches keys case-insensitively,
// reports type errors in map iteration order (not deterministic) and
// exposes no key positions, and its MetaData.Undecoded cannot tell which
// [[workload]] an unknown key sits in.
//
// Nothing here is a hot path: reflection is used freely.
package scenario

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/sbmpsim/sbmpsim/policies"
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
	// Processes are the processes whose heaps SBMP manages, one per
	// [[process]] table.
	Processes []Process `toml:"process"`
	// Faults are the injected faults, one per [[fault]] table.
	Faults []Fault `toml:"fault"`
	// Probes watch SBMP's allocation path, one per [[probe]] table.
	Probes []Probe `toml:"probe"`
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
	// intel-2s). The default is 4096, the preset's topology with
	// container-sized memory, for which the embedded scenarios were
	// written; the kernel model holds machines up to 4 TiB
	// (world.MaxModelledMiB), so 0 runs a preset at its own size.
	// Setting it for an inline machine is an error (it is ignored
	// there). Default 4096.
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
	// DiskReadNs is the disk's latency for one random 4 KiB read, what a
	// page-cache miss and a swap-in wait for; 0 keeps the kernel model's
	// default (kernel.DefaultReadNsPerPage, measured on this project's
	// build machine). DiskReadaheadNsPerPage is what each further 4 KiB
	// page of one contiguous read adds (a swap readahead cluster); 0
	// keeps kernel.DefaultSwapReadaheadNsPerPage. Disks differ by more
	// than these defaults' error: `sbmpsim validate real` measures its
	// host's before it simulates. Optional, at most 1 s.
	DiskReadNs             int64 `toml:"disk_read_ns,omitempty" json:"disk_read_ns,omitempty"`
	DiskReadaheadNsPerPage int64 `toml:"disk_readahead_ns_per_page,omitempty" json:"disk_readahead_ns_per_page,omitempty"`
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
	// THPEnabled is /sys/kernel/mm/transparent_hugepage/enabled: which
	// anonymous mappings may get huge pages at fault, "always",
	// "madvise" (only those madvised MADV_HUGEPAGE) or "never". Default
	// "madvise", the kernel's CONFIG_TRANSPARENT_HUGEPAGE_MADVISE.
	THPEnabled string `toml:"thp_enabled"`
	// THPDefrag is /sys/kernel/mm/transparent_hugepage/defrag: how hard a
	// huge-page fault tries before it falls back to base pages, "always",
	// "defer", "defer+madvise", "madvise" or "never". Default "madvise",
	// the kernel's default.
	THPDefrag string `toml:"thp_defrag"`
	// CompactionProactiveness is vm.compaction_proactiveness, 0..100.
	// Default 20.
	CompactionProactiveness int `toml:"compaction_proactiveness"`
	// ExtfragThreshold is vm.extfrag_threshold, 0..1000: below it a
	// failed costly allocation is lack of memory and compaction is not
	// tried. Default 500.
	ExtfragThreshold int `toml:"extfrag_threshold"`
	// CgroupVersion is the memory controller's version, 1 or 2: how swap
	// is charged to cgroups. With 2, memory.swap.max (swap_max_mb) limits
	// the swap slots a cgroup holds, swap-cache pages included; with 1
	// (memsw accounting), memory.memsw.limit_in_bytes is max_mb plus
	// swap_max_mb over memory and swapped-out pages together, and a
	// swapped-in page stays in the swap cache until swap is half full
	// machine-wide. Version 1 has no memory.high. Default 2.
	CgroupVersion int `toml:"cgroup_version"`
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
	// Placement is where SBMP runs (SPEC 1.2): "user" (default: a
	// process's allocator; Tier-1 blocks are anonymous mappings whose
	// huge-page faults follow [kernel] thp_enabled and thp_defrag and
	// fall back to base pages; its memory is the process's RSS and its
	// cgroup's charge) or "kernel" (an in-kernel allocator; Tier-1 blocks
	// are alloc_pages of order 9 or 10 with tier1_gfp, Tier-2 blocks
	// alloc_pages with tier2_gfp: unmovable kernel memory in no task's
	// RSS, charged to the process's cgroup only with __GFP_ACCOUNT).
	Placement string `toml:"placement"`
	// MadviseHugepage: in user placement, SBMP madvises its Tier-1
	// mappings MADV_HUGEPAGE, as allocators that want huge pages do.
	// Default true.
	MadviseHugepage bool `toml:"madvise_hugepage"`
	// Tier1GFP and Tier2GFP are the GFP masks of kernel placement's page
	// requests, as "GFP_KERNEL | __GFP_NORETRY": a base (GFP_KERNEL or
	// GFP_ATOMIC) and modifiers (__GFP_NORETRY, __GFP_RETRY_MAYFAIL,
	// __GFP_HIGH, __GFP_ACCOUNT, __GFP_NOWARN, __GFP_COMP). Defaults
	// "GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN" (what kvmalloc asks for
	// its physically contiguous attempt, kmalloc_gfp_adjust: one round of
	// reclaim and compaction, then the caller's fallback) and
	// "GFP_KERNEL".
	Tier1GFP string `toml:"tier1_gfp"`
	Tier2GFP string `toml:"tier2_gfp"`
	// SlabSelect is the order in which refills take partly used slabs:
	// "fullest" (default: tcmalloc's span prioritisation, so the emptiest
	// slabs drain back to Tier-1), "address" (lowest first, as jemalloc's
	// bins) or "newest" (the slab that last got a slot back; what SBMP
	// did before the order was a parameter).
	SlabSelect string `toml:"slab_select"`
	// RemoteFreeBatch is how many slots freed away from their node
	// gather before going home together (SLAB's alien caches, 12 by
	// default, alloc_alien_cache); -1 keeps a remote free in the freeing
	// CPU's cache, as SBMP did before remote frees went home.
	RemoteFreeBatch int `toml:"remote_free_batch"`
	// FSMDriftWindowMs, FSMDriftRemoteShare and FSMDriftMinSlots define
	// the load drift that moves an ACTIVE CPU's FSM to MIGRATING (SPEC
	// 2.1; sbmp.FSMConfig): over a window of FSMDriftWindowMs, at least
	// FSMDriftMinSlots slots of traffic with Tier-1, more than
	// FSMDriftRemoteShare of it with other nodes. Defaults 1000 (-1: no
	// drift), 0.5 and 64.
	FSMDriftWindowMs    int64   `toml:"fsm_drift_window_ms"`
	FSMDriftRemoteShare float64 `toml:"fsm_drift_remote_share"`
	FSMDriftMinSlots    int64   `toml:"fsm_drift_min_slots"`
	// FSMSyncTimeoutFactor bounds a sync message at this many times its
	// idle price: slower ones time out and fail the sync, and a link that
	// slow is a fault signal. Default 4.
	FSMSyncTimeoutFactor int64 `toml:"fsm_sync_timeout_factor"`
}

// Where SBMP runs.
const (
	PlacementUser   = "user"
	PlacementKernel = "kernel"
)

// Workload is one allocation stream ([[workload]]). Which keys apply
// depends on Kind; experiments/scenarios/README.md has the table.
type Workload struct {
	// Name labels the workload in outputs; unique within a scenario.
	// Default "w<index>" (index from 0, in file order).
	Name string `toml:"name"`
	// Kind is "synthetic" (default: objects from the distributions
	// below, allocated through SBMP), "go-runtime" (a Go program's heap on
	// SBMP, with a GC pacer), "heaptrack" (a recorded trace replayed
	// through SBMP), "task" (a process faulting in anonymous memory
	// through the kernel model), "mlock" (a task pinning memory with
	// mlock), "page-cache" (a task reading files into the page cache) or
	// "kmalloc-leak" (kernel allocations with GFP_ATOMIC that are never
	// freed, bypassing SBMP; SPEC 1.6).
	Kind string `toml:"kind"`
	// CPUs is a Linux cpulist ("0-7,16,18-19") of the CPUs the workload
	// runs on. Default "0". A kernel-side task runs on the first; where
	// tasks run decides how their stalls count in the machine's PSI
	// (each CPU weighted by its non-idle time), and `sbmpsim real` pins
	// its workers there.
	CPUs string `toml:"cpus"`
	// Process names the [[process]] whose SBMP heap serves the workload
	// (synthetic, go-runtime, heaptrack). Default "sbmp-app", a process
	// that exists without being declared.
	Process string `toml:"process"`
	// StartMs and StopMs bound the time the workload allocates in: from
	// start_ms, until stop_ms (0: the end of the run). Objects already
	// allocated keep their lifetimes. Defaults 0 and 0.
	StartMs int64 `toml:"start_ms"`
	StopMs  int64 `toml:"stop_ms"`
	// Loop says what the workload's threads do when an allocation stalls
	// them (direct reclaim, memory.high throttling, a degrade wait, a
	// refault): "closed" (default: the thread blocks for the stall, and
	// work that would reach it meanwhile is not issued: its clients wait
	// on it), "queued" (work keeps its open-loop times and queues behind
	// the blocked thread; the wait is part of its latency) or "ignore"
	// (stalls are charged but delay nothing).
	Loop string `toml:"loop"`
	// SLOLatencyMs is the latency objective SPEC 3.3's degrade SLI holds
	// an allocation to: one that met the degrade condition counts as
	// unharmed when it succeeded within this many milliseconds of being
	// requested (waits and retries included). Default 1200: SPEC 4.4's
	// p95 latency objective for a whole request, the most an allocation
	// inside one can take without breaking it; set your service's.
	SLOLatencyMs float64 `toml:"slo_latency_ms"`

	// Arrival is the arrival process of a synthetic workload: "poisson"
	// (default), "mmpp" (two-state Markov-modulated Poisson: bursts),
	// "diurnal" (sinusoidal rate) or "phases" (piecewise-constant rates).
	Arrival string `toml:"arrival"`
	// RatePerS is the mean allocation rate in allocations per second over
	// the whole workload (not per CPU) of poisson and diurnal arrivals;
	// > 0. Default 100000.
	RatePerS float64 `toml:"rate_per_s"`
	// RateLowPerS, RateHighPerS, LowMeanMs and HighMeanMs are an mmpp
	// workload's two rates and the mean time it stays in each state.
	// Defaults 10000, 200000, 900, 100.
	RateLowPerS  float64 `toml:"rate_low_per_s"`
	RateHighPerS float64 `toml:"rate_high_per_s"`
	LowMeanMs    float64 `toml:"low_mean_ms"`
	HighMeanMs   float64 `toml:"high_mean_ms"`
	// DiurnalAmplitude (0..1), DiurnalPeriodMs and DiurnalPhase (radians)
	// shape a diurnal workload's rate: rate_per_s · (1 + amplitude ·
	// sin(2π·t/period + phase)). Defaults 0.5, 86400000, 0.
	DiurnalAmplitude float64 `toml:"diurnal_amplitude"`
	DiurnalPeriodMs  float64 `toml:"diurnal_period_ms"`
	DiurnalPhase     float64 `toml:"diurnal_phase"`
	// PhaseStartMs and PhaseRatePerS are a phases workload's schedule:
	// from phase_start_ms[i] the rate is phase_rate_per_s[i] (0 is
	// silence); the first start must be 0, starts increase, and the last
	// rate holds to the end. Default none.
	PhaseStartMs  []float64 `toml:"phase_start_ms"`
	PhaseRatePerS []float64 `toml:"phase_rate_per_s"`
	// LoadFactor multiplies every rate of the workload (load sweeps).
	// Default 1.
	LoadFactor float64 `toml:"load_factor"`

	// Size is the size distribution: "fixed" (default, size_bytes),
	// "discrete" (sizes_bytes with size_weights), "lognormal"
	// (size_median_bytes, size_sigma, clamped to size_min_bytes ..
	// size_max_bytes) or "histogram" (an empirical histogram read from
	// size_file; see the README for its format).
	Size string `toml:"size"`
	// SizeBytes is the size of every allocation of a fixed-size
	// workload, and of a kmalloc-leak workload's objects; > 0. Default 64.
	SizeBytes       int64     `toml:"size_bytes"`
	SizesBytes      []int64   `toml:"sizes_bytes"`
	SizeWeights     []float64 `toml:"size_weights"`
	SizeMedianBytes float64   `toml:"size_median_bytes"`
	SizeSigma       float64   `toml:"size_sigma"`
	SizeMinBytes    int64     `toml:"size_min_bytes"`
	SizeMaxBytes    int64     `toml:"size_max_bytes"`
	// SizeFile is the histogram file, relative to the scenario file's
	// directory (to the working directory for embedded scenarios).
	SizeFile string `toml:"size_file"`

	// Lifetime is the lifetime distribution: "exponential" (default,
	// lifetime_mean_ms), "lognormal" (lifetime_median_ms, lifetime_sigma),
	// "pareto" (heavy tail: lifetime_alpha, lifetime_min_ms) or "forever"
	// (never freed).
	Lifetime string `toml:"lifetime"`
	// LifetimeMeanMs is the mean of an exponential lifetime, > 0.
	// Default 10.
	LifetimeMeanMs   float64 `toml:"lifetime_mean_ms"`
	LifetimeMedianMs float64 `toml:"lifetime_median_ms"`
	LifetimeSigma    float64 `toml:"lifetime_sigma"`
	LifetimeAlpha    float64 `toml:"lifetime_alpha"`
	LifetimeMinMs    float64 `toml:"lifetime_min_ms"`
	// LeakFraction is the fraction of objects never freed whatever the
	// lifetime distribution says, 0..1 (a leak). Default 0.
	LeakFraction float64 `toml:"leak_fraction"`

	// Threads is the number of threads the workload runs; each starts on
	// the workload's CPUs in turn, allocates there, and frees its objects
	// on the CPU it is on when they die. Default 0: one per CPU.
	Threads int `toml:"threads"`
	// MigratePerS is the rate at which the workload's threads migrate
	// (all threads together, per second): each migration moves one thread
	// to a CPU of migrate_cpus, which may be on another node. Default 0.
	MigratePerS float64 `toml:"migrate_per_s"`
	// MigrateCPUs is the cpulist migrating threads may land on. Default
	// "": every CPU of the machine.
	MigrateCPUs string `toml:"migrate_cpus"`

	// File is the trace of a "heaptrack" workload (plain or .zst),
	// relative to the scenario file's directory. Default "".
	File string `toml:"file"`
	// TimeScale stretches a heaptrack trace's time stamps (2 = half as
	// fast). Default 1.
	TimeScale float64 `toml:"time_scale"`

	// The keys below belong to kind "go-runtime": a Go program on SBMP
	// (SPEC 2.3, 5.2, 5.3).

	// AllocMBPerS is the Go program's allocation rate, MiB/s. Default 100.
	AllocMBPerS float64 `toml:"alloc_mb_per_s"`
	// LiveMB is the live heap the program keeps, MiB. Default 256.
	LiveMB float64 `toml:"live_mb"`
	// GOGC is the GC percent; -1 is "off". Default 100.
	GOGC int64 `toml:"gogc"`
	// GOMEMLIMITMB is the soft memory limit (GOMEMLIMIT), MiB; 0 is none.
	// Default 0.
	GOMEMLIMITMB int64 `toml:"gomemlimit_mb"`
	// GOMAXPROCS is the program's Ps. Default 0: the number of its CPUs.
	GOMAXPROCS int `toml:"gomaxprocs"`
	// LeakMBPerS is a leak inside the Go heap from leak_from_ms on: live
	// memory that grows and is never freed (SPEC 5.3: 10 MB/s).
	// Defaults 0 and 0.
	LeakMBPerS float64 `toml:"leak_mb_per_s"`
	LeakFromMs int64   `toml:"leak_from_ms"`
	// GCTrace writes GODEBUG=gctrace=1 lines to gctrace-NAME.txt in the
	// output directory. Default false.
	GCTrace bool `toml:"gctrace"`

	// The keys below belong to the kernel-side kinds: "task", "mlock",
	// "page-cache" and "kmalloc-leak" (SPEC 1.6's other tasks).

	// GrowMBPerS is how fast the workload takes memory, MiB per second;
	// > 0. Default 100.
	GrowMBPerS float64 `toml:"grow_mb_per_s"`
	// RSSMB is the memory a task, mlock or kmalloc-leak workload stops
	// growing at, MiB; 0 means it never stops. Default 0.
	RSSMB int64 `toml:"rss_mb"`
	// PageCacheMB is file data a task reads into the page cache at start,
	// or the file set a page-cache workload keeps reading, MiB; reclaim
	// can drop it. Default 0.
	PageCacheMB int64 `toml:"page_cache_mb"`
	// OOMScoreAdj is the task's oom_score_adj, -1000..1000. Default 0.
	OOMScoreAdj int64 `toml:"oom_score_adj"`
	// Cgroup is the cgroup v2 path the task runs in: "/" or a path from
	// [[kernel.cgroup]]. Default "/".
	Cgroup string `toml:"cgroup"`
	// Count runs that many copies of a task, mlock or page-cache
	// workload (a fleet), named NAME-0, NAME-1, ... Default 1.
	Count int `toml:"count"`
	// TouchIntervalMs is how often a task sweeps its whole anonymous
	// memory, touching every page once (setting the pages' accessed bits,
	// and faulting swapped pages back in); 0 never touches a page again
	// after faulting it. A sweep starts every touch_interval_ms and runs
	// through all the task's pages in one go, as a periodic scan or a
	// garbage collector's mark does; the task does not grow meanwhile, so
	// with loop "closed" a sweep slowed by swap-ins is growth lost.
	// Default 0.
	TouchIntervalMs int64 `toml:"touch_interval_ms"`
	// HotMB and HotFraction shape a page-cache reader's reads: a share
	// hot_fraction of them falls uniformly on the first hot_mb of its file
	// set, the rest uniformly on the whole set. Defaults 0 (the whole
	// file set) and 1.
	HotMB       int64   `toml:"hot_mb"`
	HotFraction float64 `toml:"hot_fraction"`
}

// Process is one process whose heap SBMP manages ([[process]]): the
// synthetic, go-runtime and heaptrack workloads naming it allocate from
// its own SBMP instance, and the kernel model sees its RSS, cgroup and
// oom_score_adj. A process "sbmp-app" in "/" exists without being
// declared.
type Process struct {
	// Name is the process's comm; unique. Required.
	Name string `toml:"name"`
	// Cgroup is the cgroup v2 path it runs in. Default "/".
	Cgroup string `toml:"cgroup"`
	// OOMScoreAdj is its oom_score_adj, -1000..1000. Default 0.
	OOMScoreAdj int64 `toml:"oom_score_adj"`
}

// Fault is one injected fault ([[fault]]): active from at_ms for
// duration_ms (0: to the end of the run).
type Fault struct {
	// Kind is "numa-latency" (cross-node latency multiplied and bandwidth
	// divided: slow cross-node refills, SPEC 1.3), "node-offline" (a
	// node's memory goes offline, its pages migrated elsewhere), "leak"
	// (a workload starts leaking memory at rate_mb_per_s, SPEC 5.3) or
	// "policy-swap" (the SBMP allocator is replaced at at_ms by one with
	// other policies, SPEC 2.4; duration_ms must be 0). Required.
	Kind string `toml:"kind"`
	// AtMs is when the fault starts. Default 0.
	AtMs int64 `toml:"at_ms"`
	// DurationMs is how long it lasts; 0 is to the end. Default 0.
	DurationMs int64 `toml:"duration_ms"`
	// LatencyFactor multiplies the idle latency of cross-node accesses
	// (numa-latency), >= 1. Default 10.
	LatencyFactor float64 `toml:"latency_factor"`
	// BandwidthFactor divides cross-node bandwidth (numa-latency), >= 1.
	// Default 1.
	BandwidthFactor float64 `toml:"bandwidth_factor"`
	// Nodes is the list of node ids ("0-1") whose links between each
	// other are affected (numa-latency). Default "": all nodes.
	Nodes string `toml:"nodes"`
	// Node is the node going offline (node-offline). Default 0.
	Node int `toml:"node"`
	// Workload names the workload that leaks (leak): a go-runtime
	// workload's live heap grows; any other SBMP workload allocates
	// extra objects of its size that are never freed. Required for leak.
	Workload string `toml:"workload"`
	// RateMBPerS is the leak rate in MiB/s (leak). Default 10.
	RateMBPerS float64 `toml:"rate_mb_per_s"`
	// Merge, Refill and Degrade name the policies the new allocator runs
	// (policy-swap); "" keeps the current one. A policy that stays keeps
	// its [policy] parameters; a new one runs with its defaults
	// (Policy.With).
	Merge   string `toml:"merge"`
	Refill  string `toml:"refill"`
	Degrade string `toml:"degrade"`
	// Process is the process whose allocator is swapped (policy-swap);
	// "" swaps every process's.
	Process string `toml:"process"`
}

// Policy returns the name of the policy of kind the fault swaps in; "" when
// it keeps the current one.
func (f Fault) Policy(kind policies.Kind) string {
	switch kind {
	case policies.KindMerge:
		return f.Merge
	case policies.KindRefill:
		return f.Refill
	case policies.KindDegrade:
		return f.Degrade
	}
	panic(fmt.Sprintf("scenario: no policy kind %q", kind))
}

// Output configures what a run records ([output]).
type Output struct {
	// SampleIntervalMs is the simulated-time interval between time-series
	// samples, in milliseconds, at least 1. Default 100.
	SampleIntervalMs int64 `toml:"sample_interval_ms"`
	// PerCPU adds a column per CPU to the time series: the free slots of
	// the smallest Tier-0 class in its cache (debugfs's cpuN_tier0_free),
	// for heatmaps. Default false.
	PerCPU bool `toml:"per_cpu"`
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
			Swappiness:              60,
			OOMKillAllocatingTask:   0,
			SwapMB:                  0,
			MinFreeKbytes:           0,
			WatermarkScaleFactor:    10,
			THPEnabled:              "madvise",
			THPDefrag:               "madvise",
			CompactionProactiveness: 20,
			ExtfragThreshold:        500,
			CgroupVersion:           2,
		},
		SBMP: SBMP{
			SlotSizes:          []int64{64, 256, 1024},
			Tier0CapacitySlots: 512,
			Tier1BlockKiB:      2048,
			Placement:          PlacementUser,
			MadviseHugepage:    true,
			Tier1GFP:           "GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN",
			Tier2GFP:           "GFP_KERNEL",
			SlabSelect:         "fullest",
			RemoteFreeBatch:    12,
			// sbmp.DefaultFSMConfig's, which says why.
			FSMDriftWindowMs:     1000,
			FSMDriftRemoteShare:  0.5,
			FSMDriftMinSlots:     64,
			FSMSyncTimeoutFactor: 4,
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
		Name:             "w" + strconv.Itoa(index),
		Kind:             KindSynthetic,
		CPUs:             "0",
		Process:          DefaultProcess,
		Arrival:          ArrivalPoisson,
		RatePerS:         100000,
		RateLowPerS:      10000,
		RateHighPerS:     200000,
		LowMeanMs:        900,
		HighMeanMs:       100,
		DiurnalAmplitude: 0.5,
		DiurnalPeriodMs:  86_400_000,
		LoadFactor:       1,
		Size:             SizeFixed,
		SizeBytes:        64,
		SizeSigma:        1,
		Lifetime:         LifetimeExponential,
		LifetimeMeanMs:   10,
		LifetimeSigma:    1,
		LifetimeAlpha:    1.5,
		LifetimeMinMs:    1,
		TimeScale:        1,
		AllocMBPerS:      100,
		LiveMB:           256,
		GOGC:             100,
		GrowMBPerS:       100,
		Cgroup:           "/",
		Count:            1,
		Loop:             LoopClosed,
		SLOLatencyMs:     DefaultSLOLatencyMs,
		HotFraction:      1,
	}
}

// DefaultProcess is the process SBMP workloads allocate in unless they
// name another.
const DefaultProcess = "sbmp-app"

// DefaultProcessEntry returns the defaults a [[process]] table is
// decoded on top of.
func DefaultProcessEntry(index int) Process {
	return Process{Cgroup: "/"}
}

// DefaultFault returns the defaults a [[fault]] table is decoded on top
// of.
func DefaultFault(index int) Fault {
	return Fault{LatencyFactor: 10, BandwidthFactor: 1, RateMBPerS: 10}
}

// Probe is one [[probe]] table: an observer on SBMP's allocation path
// (SPEC 3.2 and 4.2). A probe only watches: it draws its samples from a
// random stream of its own, so a run with probes has the trace of the run
// without them. What it records goes to probes.csv; its counts to
// summary.json's probes.
type Probe struct {
	// Name labels the probe in probes.csv and summary.json; unique.
	// Default "probe<index>" (index from 0, in file order).
	Name string `toml:"name"`
	// Kind is "alloc" (the allocation entry, SPEC 3.2: every SBMP
	// allocation of the workloads it watches, or a sample of them) or
	// "span" (SPEC 4.2: allocations Tier-2 served from the page
	// allocator, with their size in pages and the allocating stack's
	// depth, flagged past SPEC 4.2's thresholds). Required.
	Kind string `toml:"kind"`
	// SampleRate is the fraction of allocations an "alloc" probe records
	// (1: every one, as a hook on mallocgc sees 100 %), or the fraction of
	// small span requests (32 KiB or less: Go's largest small size class
	// and SPEC 2.5's page-cache bound) a "span" probe records (SPEC 4.2:
	// 1 %); larger spans are always recorded. 0 (the default) takes 1 for
	// "alloc" and 0.01 for "span".
	SampleRate float64 `toml:"sample_rate"`
	// Workload limits the probe to one SBMP workload; "" (the default)
	// watches all of them.
	Workload string `toml:"workload"`
}

// Probe kinds.
const (
	ProbeAlloc = "alloc"
	ProbeSpan  = "span"
)

// EffectiveSampleRate is the probe's sample rate, its kind's default
// when SampleRate is 0.
func (p Probe) EffectiveSampleRate() float64 {
	switch {
	case p.SampleRate > 0:
		return p.SampleRate
	case p.Kind == ProbeSpan:
		return 0.01
	default:
		return 1
	}
}

// DefaultProbe returns the defaults of the index-th [[probe]].
func DefaultProbe(index int) Probe { return Probe{Name: "probe" + strconv.Itoa(index)} }

// What a workload's threads do when an allocation stalls them.
const (
	// DefaultSLOLatencyMs is SPEC 4.4's p95 latency objective (1.2 s).
	DefaultSLOLatencyMs = 1200
	LoopClosed          = "closed"
	LoopQueued          = "queued"
	LoopIgnore          = "ignore"
)

// Workload kinds, arrival processes and lifetime distributions.
const (
	// KindSynthetic is a workload generated from the distributions below.
	KindSynthetic = "synthetic"
	// KindHeaptrack replays a heaptrack trace.
	KindHeaptrack = "heaptrack"
	// KindGoRuntime is a Go program's heap with a GC pacer.
	KindGoRuntime = "go-runtime"
	// KindTask is a process that faults in anonymous memory through the
	// kernel model.
	KindTask = "task"
	// KindMlock is a task that pins its memory with mlock.
	KindMlock = "mlock"
	// KindPageCache is a task that keeps reading a file set.
	KindPageCache = "page-cache"
	// KindKmallocLeak is leaked kmalloc(GFP_ATOMIC) memory.
	KindKmallocLeak = "kmalloc-leak"

	ArrivalPoisson = "poisson"
	ArrivalMMPP    = "mmpp"
	ArrivalDiurnal = "diurnal"
	ArrivalPhases  = "phases"

	SizeFixed     = "fixed"
	SizeDiscrete  = "discrete"
	SizeLognormal = "lognormal"
	SizeHistogram = "histogram"

	LifetimeExponential = "exponential"
	LifetimeLognormal   = "lognormal"
	LifetimePareto      = "pareto"
	LifetimeForever     = "forever"

	FaultNUMALatency = "numa-latency"
	FaultNodeOffline = "node-offline"
	FaultLeak        = "leak"
	FaultPolicySwap  = "policy-swap"
)

// UsesSBMP reports whether a workload kind allocates through SBMP.
func UsesSBMP(kind string) bool {
	return kind == KindSynthetic || kind == KindGoRuntime || kind == KindHeaptrack
}

// KernelTaskKind reports whether a workload kind is a task of the kernel
// model outside SBMP.
func KernelTaskKind(kind string) bool {
	return kind == KindTask || kind == KindMlock || kind == KindPageCache
}

// Clone returns a deep copy of s that shares no memory with it, so that
// the copy can be overridden with Set independently (A/B arms, sweeps).
func (s *Scenario) Clone() *Scenario {
	c := *s
	c.Machine = s.Machine.clone()
	c.SBMP.SlotSizes = slices.Clone(s.SBMP.SlotSizes)
	c.Workloads = slices.Clone(s.Workloads)
	for i := range c.Workloads {
		w := &c.Workloads[i]
		w.PhaseStartMs = slices.Clone(w.PhaseStartMs)
		w.PhaseRatePerS = slices.Clone(w.PhaseRatePerS)
		w.SizesBytes = slices.Clone(w.SizesBytes)
		w.SizeWeights = slices.Clone(w.SizeWeights)
	}
	c.Processes = slices.Clone(s.Processes)
	c.Faults = slices.Clone(s.Faults)
	c.Kernel.Cgroups = slices.Clone(s.Kernel.Cgroups)
	c.Policy.Given = maps.Clone(s.Policy.Given)
	c.origins = maps.Clone(s.origins)
	return &c
}
