package world

import "github.com/sbmpsim/sbmpsim/internal/buildinfo"

// SummarySchema names the version of summary.json's layout.
//
// v2 (from v1): version added; incomplete and stopped_by added (a run a
// limit stopped is summarised to where it stopped instead of not at all);
// wall_ns moved out (to the CLI's timing.json), so that every field is a
// function of the inputs and the build.
const SummarySchema = "sbmpsim.summary/v2"

// Summary is what one run reports, written as summary.json. Field names and
// meanings are a contract (ARCHITECTURE.md): scripts and checks read them.
// Nothing in it differs between two runs with the same inputs and the same
// build (Version): wall-clock figures are the caller's (timing.json). Counters of models not built yet stay zero; Models says
// which models took part, so a zero can be read correctly.
type Summary struct {
	Schema   string   `json:"schema"`
	Scenario string   `json:"scenario"`
	Source   string   `json:"source"`
	Seed     uint64   `json:"seed"`
	Models   []string `json:"models"`
	// Version is the build that made the run (sbmpsim version).
	Version buildinfo.Version `json:"version"`
	// Incomplete is true when a limit (StoppedBy) stopped the run before
	// the end of run.duration_ms: the summary covers simulated time up to
	// SimTimeNs only.
	Incomplete bool `json:"incomplete"`
	// StoppedBy names the limit that stopped an incomplete run, with its
	// value (e.g. "run.max_events=1000"); empty for a complete run.
	StoppedBy string `json:"stopped_by,omitempty"`

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
	// MemoryPressure is the machine's memory stall time, as
	// /proc/pressure/memory reports it.
	MemoryPressure PressureSummary `json:"memory_pressure"`
	// VMStat is every /proc/vmstat counter the kernel model keeps, by
	// its Linux name, at the end of the run.
	VMStat map[string]int64 `json:"vmstat"`

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
	// DegradeSLI is SPEC 3.3's degrade SLI over the SBMP workloads.
	DegradeSLI *DegradeSLI `json:"degrade_sli,omitempty"`
	// Probes are the [[probe]]s' counts (their records: probes.csv).
	Probes []ProbeSummary `json:"probes,omitempty"`
	// Kernel is the kernel model's counters, when it took part.
	Kernel *KernelSummary `json:"kernel,omitempty"`
}

// FirstOOMNs is the time of the run's first OOM kill, or -1 if it had
// none.
func (s *Summary) FirstOOMNs() int64 {
	if s.OOMKills == 0 || len(s.OOMEvents) == 0 {
		return -1
	}
	t := s.OOMEvents[0].TimeNs
	for _, e := range s.OOMEvents[1:] {
		t = min(t, e.TimeNs)
	}
	return t
}

// PressureSummary is PSI's memory stall time (kernel/sched/psi.c), the
// "total=" fields of /proc/pressure/memory or a cgroup's memory.pressure:
// microseconds in which some task was stalled on memory, and in which
// every non-idle task was.
type PressureSummary struct {
	SomeTotalUs int64 `json:"some_total_us"`
	FullTotalUs int64 `json:"full_total_us"`
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

// OOMEvent is one OOM kill: when, in which scope (global or a cgroup), the
// victim with the badness points that chose it, and the scope's memory
// when it was killed: ScopeAnonPages and ScopeFilePages are the anon and
// file lines of the cgroup's memory.stat for a memcg OOM, of the root
// cgroup's (the whole machine's user memory) for a global one.
type OOMEvent struct {
	TimeNs         int64  `json:"time_ns"`
	Scope          string `json:"scope"`
	VictimPID      int    `json:"victim_pid"`
	VictimComm     string `json:"victim_comm"`
	VictimPoints   int64  `json:"victim_points"`
	ScopeAnonPages int64  `json:"scope_anon_pages"`
	ScopeFilePages int64  `json:"scope_file_pages"`
}

// SLICounts count the allocations that met the degrade condition (Tier-0
// empty and the refill found nothing, so the degrade policy decided) by
// how they ended: unharmed (succeeded within the workload's latency
// objective, slo_latency_ms, waits and retries included), failed, or
// over the objective. Rate is unharmed / met, null when none met it:
// SPEC 3.3's "degrade success rate".
type SLICounts struct {
	SLONs    int64    `json:"slo_ns,omitempty"`
	Met      uint64   `json:"met"`
	Unharmed uint64   `json:"unharmed"`
	Failed   uint64   `json:"failed"`
	OverSLO  uint64   `json:"over_slo"`
	Rate     *float64 `json:"rate"`
}

// withRate returns c with its rate (and objective, when one is given).
func (c SLICounts) withRate(sloNs int64) SLICounts {
	c.SLONs = sloNs
	c.Rate = nil
	if c.Met > 0 {
		r := float64(c.Unharmed) / float64(c.Met)
		c.Rate = &r
	}
	return c
}

// add adds o's counts to c.
func (c *SLICounts) add(o SLICounts) {
	c.Met += o.Met
	c.Unharmed += o.Unharmed
	c.Failed += o.Failed
	c.OverSLO += o.OverSLO
}

// DegradeSLI is SPEC 3.3's grey-release SLI of a run: of the SBMP
// allocations that met the degrade condition, the share that came
// through unharmed, sliced as SPEC 3.3 reads for the simulator: by
// degrade policy (the one in effect at the end; an A/B compares two), by
// workload (in the workloads' lines) and by the CPU that asked.
type DegradeSLI struct {
	Policy string `json:"policy"`
	SLICounts
	// ByCPU holds the CPUs where some allocation met the condition.
	ByCPU []CPUSLI `json:"by_cpu"`
}

// CPUSLI is the SLI of the allocations one CPU asked for.
type CPUSLI struct {
	CPU int `json:"cpu"`
	SLICounts
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
	// RequestsNotIssued counts allocations a blocked thread did not
	// issue (loop "closed"); RequestsQueued those that waited behind one
	// (loop "queued").
	RequestsNotIssued uint64 `json:"requests_not_issued"`
	RequestsQueued    uint64 `json:"requests_queued"`
	// DegradeSLI is SPEC 3.3's degrade SLI for this workload's
	// allocations (see DegradeSLI).
	DegradeSLI SLICounts `json:"degrade_sli"`
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

// KernelSummary is the kernel model's part of summary.json.
type KernelSummary struct {
	SwapUsedPagesEnd     int64           `json:"swap_used_pages_end"`
	PagesSwappedOut      int64           `json:"pages_swapped_out"`
	PagesReclaimedFile   int64           `json:"pages_reclaimed_file"`
	DirectReclaims       int64           `json:"direct_reclaims"`
	DirectReclaimStallNs int64           `json:"direct_reclaim_stall_ns"`
	KswapdRuns           int64           `json:"kswapd_runs"`
	FreePagesEnd         int64           `json:"free_pages_end"`
	FilePagesEnd         int64           `json:"file_pages_end"`
	AnonPagesEnd         int64           `json:"anon_pages_end"`
	Tasks                []TaskSummary   `json:"tasks"`
	Cgroups              []CgroupSummary `json:"cgroups"`
	MemcgHighStallNs     int64           `json:"memcg_high_stall_ns"`
}

// CgroupSummary is one cgroup at the end of the run: memory.current,
// memory.peak, memory.swap.current and memory.events.
type CgroupSummary struct {
	Path             string `json:"path"`
	CurrentPages     int64  `json:"current_pages"`
	PeakPages        int64  `json:"peak_pages"`
	SwapCurrentPages int64  `json:"swap_current_pages"`
	EventsMax        int64  `json:"events_max"`
	EventsHigh       int64  `json:"events_high"`
	EventsOOM        int64  `json:"events_oom"`
	EventsOOMKill    int64  `json:"events_oom_kill"`
	// MemoryEvents is memory.events with its cgroup v2 names (low, high,
	// max, oom, oom_kill, oom_group_kill), hierarchical.
	MemoryEvents map[string]int64 `json:"memory_events"`
	// MemoryStat is memory.stat with its cgroup v2 names and units (the
	// page items in bytes, the events as counts), hierarchical.
	MemoryStat map[string]int64 `json:"memory_stat"`
	// MemoryPressure is the cgroup's memory.pressure.
	MemoryPressure PressureSummary `json:"memory_pressure"`
}

// TaskSummary is one task at the end of the run, with its oom_score as
// /proc/PID/oom_score would show it.
type TaskSummary struct {
	PID          int64  `json:"pid"`
	Comm         string `json:"comm"`
	RSSAnonPages int64  `json:"rss_anon_pages"`
	SwapEntries  int64  `json:"swap_entries"`
	OOMScoreAdj  int64  `json:"oom_score_adj"`
	OOMScore     int64  `json:"oom_score"`
	Killed       bool   `json:"oom_killed"`
}

// KernelWorkloadSummary is one workload outside SBMP at the end of the
// run; a fleet (count > 1) is summed over its tasks.
type KernelWorkloadSummary struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Tasks int    `json:"tasks,omitempty"`
	// PagesGot are the anonymous or mlocked pages faulted in.
	PagesGot int64 `json:"pages_got,omitempty"`
	// StallNs is the time its faults and reads took: reclaim, disk
	// reads, and the kernel's time around them (a page-cache hit's
	// read(2) included), which the real worker's fault_ns measures too.
	StallNs     int64 `json:"stall_ns,omitempty"`
	FailedTicks int64 `json:"failed_ticks,omitempty"`
	Killed      int   `json:"oom_killed,omitempty"`
	// PagesRead and PagesMissed are a page-cache reader's reads and the
	// reads that went to disk (page-cache misses).
	PagesRead   int64 `json:"pages_read,omitempty"`
	PagesMissed int64 `json:"pages_missed,omitempty"`
	// Refaults are the misses of pages reclaim had evicted (the kernel
	// found their shadow entries).
	Refaults int64 `json:"refaults,omitempty"`
	// ObjectsLeaked, SlabPages and Failures are a kmalloc leak's objects,
	// the kernel pages they pin and the kmalloc calls that returned NULL.
	ObjectsLeaked int64 `json:"objects_leaked,omitempty"`
	SlabPages     int64 `json:"slab_pages,omitempty"`
	Failures      int64 `json:"kmalloc_failures,omitempty"`
}

// AlertSummary is one SPEC 1.5 signal over a run: when it first reached
// danger (-1: never), how many 500 ms samples were in danger, and its
// largest value.
type AlertSummary struct {
	Metric        string  `json:"metric"`
	FirstDangerNs int64   `json:"first_danger_ns"`
	DangerSamples int     `json:"danger_samples"`
	Max           float64 `json:"max"`
}

// FaultSummary is one fault in summary.json: when it ran and what it did.
type FaultSummary struct {
	Kind    string `json:"kind"`
	StartNs int64  `json:"start_ns"`
	EndNs   int64  `json:"end_ns"` // -1: it lasted to the end of the run
	// Error is why the fault could not act (a node offline refused with
	// EBUSY, as Linux's offline_pages fails).
	Error string `json:"error,omitempty"`
	// PagesMigrated, PagesDropped and PagesIsolated are what taking a
	// node offline moved, dropped from the page cache, and took out of
	// the free lists.
	PagesMigrated int64 `json:"pages_migrated,omitempty"`
	PagesDropped  int64 `json:"pages_dropped,omitempty"`
	PagesIsolated int64 `json:"pages_isolated,omitempty"`
	// BytesLeaked is what a leak fault allocated and never freed.
	BytesLeaked int64 `json:"bytes_leaked,omitempty"`
	// LeakFailures counts leaked allocations that failed.
	LeakFailures int64 `json:"leak_failures,omitempty"`
	// Swapped counts the processes whose allocator a policy swap replaced,
	// and SwapFlushNs the cost of flushing the old allocators' per-CPU
	// caches (the only work the swap itself does; SPEC 2.4).
	Swapped     int   `json:"swapped,omitempty"`
	SwapFlushNs int64 `json:"swap_flush_ns,omitempty"`
}

// GoRuntimeSummary is a go-runtime workload's end state, in
// runtime.MemStats terms, with the GC record figures SPEC 4.3 and 5.3
// compare (GC interval and its spread, STW pauses).
type GoRuntimeSummary struct {
	HeapAllocEnd   int64   `json:"heap_alloc_end"`
	HeapAllocPeak  int64   `json:"heap_alloc_peak"`
	NextGCEnd      int64   `json:"next_gc_end"`
	NumGC          int64   `json:"num_gc"`
	NumForcedGC    int64   `json:"num_forced_gc"`
	LimitedGCs     int64   `json:"limited_gcs"`
	PauseTotalNs   int64   `json:"pause_total_ns"`
	PauseMedianNs  int64   `json:"pause_median_ns"`
	PauseMaxNs     int64   `json:"pause_max_ns"`
	GCIntervalMean float64 `json:"gc_interval_mean_ns"`
	GCIntervalSD   float64 `json:"gc_interval_sd_ns"`
	FirstGCNs      int64   `json:"first_gc_ns"` // -1: none
	GCCPUFraction  float64 `json:"gc_cpu_fraction"`
	TotalAlloc     int64   `json:"total_alloc"`
	Mallocs        int64   `json:"mallocs"`
	Frees          int64   `json:"frees"`
	LiveSetBytes   int64   `json:"live_set_bytes_end"`
	LeakedBytes    int64   `json:"leaked_bytes"`
	ScavengedBytes int64   `json:"scavenged_bytes"`
	// Died is "alive", "fatal error: out of memory" or "killed" (the OOM
	// killer); DiedNs is when (-1: alive).
	Died   string `json:"died"`
	DiedNs int64  `json:"died_ns"`
}

// TraceSummary is a heaptrack workload's replay record, with heaptrack's
// own numbers for the same file beside the replay's.
type TraceSummary struct {
	File    string `json:"file"`
	Command string `json:"command"`
	Ops     int64  `json:"ops"`
	// PeakBytes is the largest sum of the trace's live allocation sizes
	// during the replay (the workload's own bytes_requested_peak).
	PeakBytes int64 `json:"peak_bytes"`
	// DelayNs is how much later than recorded the trace finished, from
	// allocations the degrade policy made wait.
	DelayNs int64 `json:"delay_ns"`
	// Finished: the whole trace was replayed within the run.
	Finished bool `json:"finished"`
	// UnmatchedFrees are "-" lines heaptrack accepts with no live
	// allocation to free; the replay skips them.
	UnmatchedFrees int64 `json:"unmatched_frees"`
	// Heaptrack is what heaptrack_print reports for the same file, for
	// comparison: the replay's allocs, peak and live bytes at the end
	// equal its calls, peak and leaked + suppressed.
	Heaptrack HeaptrackNumbers `json:"heaptrack"`
}

// HeaptrackNumbers are heaptrack_print's totals for a trace.
type HeaptrackNumbers struct {
	Calls           int64  `json:"calls"`
	PeakBytes       int64  `json:"peak_bytes"`
	LeakedBytes     int64  `json:"leaked_bytes"`
	SuppressedBytes int64  `json:"suppressed_bytes"`
	DurationMs      int64  `json:"duration_ms"`
	PeakRSSBytes    int64  `json:"peak_rss_bytes"`
	Print           string `json:"print"`
}
