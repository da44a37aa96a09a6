package world

// SummarySchema names the version of summary.json's layout.
const SummarySchema = "sbmpsim.summary/v1"

// Summary is what one run reports, written as summary.json. Field names and
// meanings are a contract (ARCHITECTURE.md): scripts and checks read them.
// Only WallNs (and any field named wall_*) may differ between two runs with
// the same inputs. Counters of models not built yet stay zero; Models says
// which models took part, so a zero can be read correctly.
type Summary struct {
	Schema   string   `json:"schema"`
	Scenario string   `json:"scenario"`
	Source   string   `json:"source"`
	Seed     uint64   `json:"seed"`
	Models   []string `json:"models"`

	SimTimeNs int64  `json:"sim_time_ns"`
	Events    int64  `json:"events"`
	TraceHash string `json:"trace_hash"`

	Allocs                uint64     `json:"allocs"`
	Frees                 uint64     `json:"frees"`
	AllocFailures         uint64     `json:"alloc_failures"`
	BytesRequestedLiveEnd int64      `json:"bytes_requested_live_end"`
	BytesRequestedPeak    int64      `json:"bytes_requested_peak"`
	ObjectsLiveEnd        int64      `json:"objects_live_end"`
	ObjectsLivePeak       int64      `json:"objects_live_peak"`
	ObjectsLiveTimeAvg    float64    `json:"objects_live_time_avg"`
	TierAllocs            TierCounts `json:"tier_allocs"`
	FallbackCount         uint64     `json:"fallback_count"`
	AllocStallNs          int64      `json:"alloc_stall_ns"`
	// AllocLatencyNs summarises the latency of every successful
	// allocation: its cost plus any time it waited to be retried.
	AllocLatencyNs LatencySummary `json:"alloc_latency_ns"`
	// FootprintPeakBytes is the most memory the SBMP processes held from
	// the kernel at once.
	FootprintPeakBytes int64 `json:"footprint_peak_bytes"`

	OOMKills  int        `json:"oom_kills"`
	OOMEvents []OOMEvent `json:"oom_events"`

	FSMTransitions  map[string]uint64 `json:"fsm_transitions"`
	InvariantChecks uint64            `json:"invariant_checks"`

	Workloads []WorkloadSummary `json:"workloads"`
	// KernelWorkloads are the workloads outside SBMP (task, mlock,
	// page-cache, kmalloc-leak).
	KernelWorkloads []KernelWorkloadSummary `json:"kernel_workloads,omitempty"`
	// Processes are the processes SBMP served, one allocator each.
	Processes []ProcessSummary `json:"processes,omitempty"`
	// Faults are the injected faults and what they did.
	Faults []FaultSummary `json:"faults,omitempty"`
	// SBMP is the allocator's own counters, when it took part.
	SBMP *SBMPSummary `json:"sbmp,omitempty"`
	// Kernel is the kernel model's counters, when it took part.
	Kernel *KernelSummary `json:"kernel,omitempty"`

	WallNs int64 `json:"wall_ns"`
}

// LatencySummary is a latency distribution: count, mean and quantiles
// (nearest rank, within 1/256 relative error; exact below 128 ns).
type LatencySummary struct {
	Count  uint64  `json:"count"`
	MeanNs float64 `json:"mean"`
	P50    int64   `json:"p50"`
	P99    int64   `json:"p99"`
	P999   int64   `json:"p999"`
	Max    int64   `json:"max"`
}

// TierCounts counts allocations served by each SBMP tier.
type TierCounts struct {
	Tier0 uint64 `json:"tier0"`
	Tier1 uint64 `json:"tier1"`
	Tier2 uint64 `json:"tier2"`
}

// OOMEvent is one OOM kill: when, in which scope (global or a cgroup), and
// the victim with the badness points that chose it.
type OOMEvent struct {
	TimeNs       int64  `json:"time_ns"`
	Scope        string `json:"scope"`
	VictimPID    int    `json:"victim_pid"`
	VictimComm   string `json:"victim_comm"`
	VictimPoints int64  `json:"victim_points"`
}

// WorkloadSummary is one workload's share of the run.
type WorkloadSummary struct {
	Name           string `json:"name"`
	Kind           string `json:"kind"`
	Allocs         uint64 `json:"allocs"`
	AllocFailures  uint64 `json:"alloc_failures"`
	AllocRetries   uint64 `json:"alloc_retries"`
	Frees          uint64 `json:"frees"`
	BytesAllocated int64  `json:"bytes_allocated"`
	BytesLiveEnd   int64  `json:"bytes_live_end"`
	ObjectsLiveEnd int64  `json:"objects_live_end"`
	// ObjectsLost and BytesLost were live when the workload's process
	// died: gone with it.
	ObjectsLost int64 `json:"objects_lost"`
	BytesLost   int64 `json:"bytes_lost"`
	// BytesLeaked were allocated by a leak fault and never freed.
	BytesLeaked int64 `json:"bytes_leaked"`
	// Migrations counts thread migrations.
	Migrations uint64 `json:"migrations"`
	// GoRuntime is a go-runtime workload's runtime.MemStats-like end
	// state and GC record.
	GoRuntime *GoRuntimeSummary `json:"go_runtime,omitempty"`
	// Trace is a heaptrack workload's replay record.
	Trace *TraceSummary `json:"trace,omitempty"`
}

// ProcessSummary is one process SBMP served: its own allocator's
// counters and its end as the kernel saw it.
type ProcessSummary struct {
	Name          string     `json:"name"`
	PID           int64      `json:"pid"`
	Cgroup        string     `json:"cgroup"`
	TierAllocs    TierCounts `json:"tier_allocs"`
	FallbackCount uint64     `json:"fallback_count"`
	AllocStallNs  int64      `json:"alloc_stall_ns"`
	// ServedRemote counts its page requests (Tier-1 blocks, Tier-2 pages)
	// that a node other than the preferred one served.
	ServedRemote int64 `json:"page_requests_served_remote"`
	// RSSAnonPagesEnd is its resident anonymous memory at the end.
	RSSAnonPagesEnd int64 `json:"rss_anon_pages_end"`
	// DiedNs is when the process died (-1: it lived to the end);
	// DiedOf says why: "oom-kill" or the fatal error of a Go program.
	DiedNs int64  `json:"died_ns"`
	DiedOf string `json:"died_of,omitempty"`
}

// SBMPSummary is SBMP's part of summary.json: its counters (SPEC 1.4, 1.5,
// 4.1) at the end of the run, and the debugfs text of SPEC 1.4.
type SBMPSummary struct {
	Refills           int64 `json:"refills"`
	RefillsRemote     int64 `json:"refills_remote"`
	Drains            int64 `json:"drains"`
	Tier1Splits       int64 `json:"tier1_splits"`
	Tier1Merges       int64 `json:"tier1_merges"`
	MergeDelayMeanNs  int64 `json:"tier1_merge_delay_ns_mean"`
	MergeDelayMaxNs   int64 `json:"tier1_merge_delay_ns_max"`
	BlocksFromTier2   int64 `json:"blocks_from_tier2"`
	BlocksToTier2     int64 `json:"blocks_to_tier2"`
	Tier1BlocksEnd    int64 `json:"tier1_blocks_end"`
	Tier2Fallbacks    int64 `json:"fallback_to_tier2"`
	DegradeEntries    int64 `json:"degrade_entries"`
	Flushes           int64 `json:"flushes"`
	TotalFreeBytesEnd int64 `json:"total_free_bytes_end"`
	FSMRefused        int64 `json:"fsm_refused"`
	// Alerts are the SPEC 1.5 signals sampled every 500 ms.
	Alerts  []AlertSummary `json:"alerts"`
	Debugfs string         `json:"debugfs"`
}
