package world

import "github.com/sbmpsim/sbmpsim/internal/buildinfo"

// SummarySchema names the version of summary.json's layout.
//
// v2 (from v1): version added; incomplete and stopped_by added (a run a
// limit stopped is summarised to where it stopped instead of not at all);
// wall_ns moved out (to the CLI's timing.json), so that every field is a
// function of the inputs and the build.
const SummarySchema = "sbmpsim.summary/v2"

// Summary is what one run reports, written as summary.json. Field names
// and meanings are a contract: scripts and checks read them. Nothing in it
// differs between two runs with the same inputs and the same build
// (version): wall-clock figures are the caller's (timing.json). Counters of models not built yet stay zero; models says which
// models took part, so a zero can be read correctly. The allocation
// counters (allocs through objects_live_time_avg, and alloc_latency_ns)
// count the workloads that allocate through SBMP (synthetic, go-runtime,
// heaptrack); the workloads outside SBMP are in KernelWorkloads.
type Summary struct {
	// Schema names the layout of this file: "sbmpsim.summary/v2".
	Schema string `json:"schema"`
	// Scenario is the scenario's run.name (by default its file name
	// without .toml, or the embedded scenario's name).
	Scenario string `json:"scenario"`
	// Source is where the scenario came from: its file path, or
	// "embedded:NAME" for a scenario shipped in the binary.
	Source string `json:"source"`
	// Seed is the run's master seed (run.seed, or --seed): every random
	// stream of the run derives from it, so it and the scenario replay
	// the run exactly.
	Seed uint64 `json:"seed"`
	// Models names the models that took part: "workload", "kernel",
	// "thp" and "compaction" always, and "sbmp" when some workload
	// allocates through SBMP. A counter of a model not listed is 0
	// because the model was absent, not because nothing happened.
	Models []string `json:"models"`
	// Version is the build that made the run (sbmpsim version).
	Version buildinfo.Version `json:"version"`
	// Incomplete is true when a limit (StoppedBy) stopped the run before
	// the end of run.duration_ms: the summary covers simulated time up to
	// SimTimeNs only.
	Incomplete bool `json:"incomplete"`
	// StoppedBy names the limit that stopped an incomplete run, with its
	// value (e.g. "run.max_events=1000"); empty for a complete run.
	StoppedBy string `json:"stopped_by,omitempty"`

	// SimTimeNs is the simulated time the run covered: run.duration_ms in
	// ns, or less when the run was stopped early (a caller's stop time).
	SimTimeNs int64 `json:"sim_time_ns"`
	// Events counts the discrete events the engine executed.
	Events int64 `json:"events"`
	// TraceHash is the hash of the ordered stream of executed events
	// (time, kind, payload), as 16 hex digits: equal inputs and seed give
	// equal hashes, so two runs that differ show it here first.
	TraceHash string `json:"trace_hash"`

	// Allocs counts the successful allocations of the SBMP workloads.
	Allocs uint64 `json:"allocs"`
	// Frees counts their frees (objects lost with a dead process are not
	// frees: see workloads[].objects_lost).
	Frees uint64 `json:"frees"`
	// AllocFailures counts allocations that failed for good: SBMP could
	// not serve them and the degrade policy did not make them wait and
	// succeed.
	AllocFailures uint64 `json:"alloc_failures"`
	// BytesRequestedLiveEnd is the requested size of the objects live at
	// the end (allocated, not freed, not lost with a dead process), in
	// bytes: what the workloads asked for, not what SBMP holds for them.
	BytesRequestedLiveEnd int64 `json:"bytes_requested_live_end"`
	// BytesRequestedPeak is the largest requested size of the live
	// objects at any time of the run, in bytes.
	BytesRequestedPeak int64 `json:"bytes_requested_peak"`
	// ObjectsLiveEnd counts the objects live at the end.
	ObjectsLiveEnd int64 `json:"objects_live_end"`
	// ObjectsLivePeak is the largest number of objects live at once.
	ObjectsLivePeak int64 `json:"objects_live_peak"`
	// ObjectsLiveTimeAvg is the time average of the number of live
	// objects over the run (its integral over time divided by
	// sim_time_ns): Little's law's L, for checking the arrival rate times
	// the mean lifetime.
	ObjectsLiveTimeAvg float64 `json:"objects_live_time_avg"`
	// TierAllocs counts the allocations each SBMP tier served, summed
	// over the SBMP processes; all zero without SBMP.
	TierAllocs TierCounts `json:"tier_allocs"`
	// FallbackCount is SPEC 4.1's sbmp_fallback_count, summed over the
	// SBMP processes: allocations that left the fast path, that is small
	// ones that found their CPU's Tier-0 cache empty (and went on to a
	// refill) and large ones (above the largest slot size) that Tier-2
	// served.
	FallbackCount uint64 `json:"fallback_count"`
	// AllocStallNs is SPEC 4.1's sbmp_alloc_stall_ns, summed over the
	// SBMP processes: the modelled time allocations spent in the slow
	// path (refills, flushes, Tier-2 requests, the kernel's reclaim and
	// compaction stalls under them), in ns. Degrade waits are not in it;
	// they are in alloc_latency_ns.
	AllocStallNs int64 `json:"alloc_stall_ns"`
	// AllocLatencyNs summarises the latency of every successful
	// allocation of the synthetic and go-runtime workloads, from its first
	// request to its end: its cost plus any time it waited to be retried
	// (and, in loop "queued", behind its blocked thread).
	AllocLatencyNs LatencySummary `json:"alloc_latency_ns"`
	// FootprintPeakBytes is the most memory the SBMP processes held from
	// the kernel at once.
	FootprintPeakBytes int64 `json:"footprint_peak_bytes"`

	// OOMKills counts the OOM killer's kills, global and memcg alike
	// (the length of oom_events).
	OOMKills int `json:"oom_kills"`
	// OOMEvents are the kills in the order they happened; empty (not
	// null) without any.
	OOMEvents []OOMEvent `json:"oom_events"`
	// MemoryPressure is the machine's memory stall time, as
	// /proc/pressure/memory reports it.
	MemoryPressure PressureSummary `json:"memory_pressure"`
	// VMStat is every /proc/vmstat counter the kernel model keeps, by
	// its Linux name, at the end of the run (docs/reference.md lists
	// them).
	VMStat map[string]int64 `json:"vmstat"`

	// FSMTransitions counts the transitions of SPEC 2.1's per-CPU
	// allocator FSM, keyed "FROM->TO" (such as "IDLE->ALLOCATING"),
	// summed over every CPU of every SBMP allocator, those replaced by a
	// hot swap included; empty without SBMP.
	FSMTransitions map[string]uint64 `json:"fsm_transitions"`
	// InvariantChecks counts the invariant checks made during the run
	// (each SBMP allocator, the kernel model, each Go program and the
	// run's books, checked every N events by sbmpsim check); 0 when the
	// run was not checked, as in sbmpsim run.
	InvariantChecks uint64 `json:"invariant_checks"`

	// Workloads are the workloads that allocate through SBMP, in
	// scenario order.
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
	// SomeTotalUs is the "some" line's total=: microseconds in which at
	// least one task of the scope was stalled on memory (reclaim,
	// compaction, throttling, refaults of its workingset).
	SomeTotalUs int64 `json:"some_total_us"`
	// FullTotalUs is the "full" line's total=: microseconds in which every
	// non-idle task of the scope was stalled on memory at once.
	FullTotalUs int64 `json:"full_total_us"`
}

// LatencySummary is a latency distribution: count, mean and quantiles
// (nearest rank, within 1/256 relative error; exact below 128 ns).
//
// All values are in ns; with no successful allocation every one is 0.
type LatencySummary struct {
	// Count is the number of latencies recorded: the successful
	// allocations of the synthetic and go-runtime workloads (a heaptrack
	// replay records none).
	Count uint64 `json:"count"`
	// MeanNs is their mean in ns, exact.
	MeanNs float64 `json:"mean"`
	// P50 is the median latency in ns.
	P50 int64 `json:"p50"`
	// P99 is the 99th percentile in ns.
	P99 int64 `json:"p99"`
	// P999 is the 99.9th percentile in ns.
	P999 int64 `json:"p999"`
	// Max is the largest latency in ns, exact.
	Max int64 `json:"max"`
}

// TierCounts counts allocations served by each SBMP tier.
type TierCounts struct {
	// Tier0 counts allocations served from the CPU's Tier-0 cache as it
	// stood (the fast path).
	Tier0 uint64 `json:"tier0"`
	// Tier1 counts allocations served after a refill of the Tier-0 cache
	// from the Tier-1 buddy pool (or from peer CPUs' caches, as the refill
	// policy plans).
	Tier1 uint64 `json:"tier1"`
	// Tier2 counts allocations served by Tier-2, the page allocator behind
	// SPEC 2.5's fallback page cache: large requests always, small ones
	// when Tier-0 and Tier-1 failed and the degrade policy fell back.
	Tier2 uint64 `json:"tier2"`
}

// OOMEvent is one OOM kill: when, in which scope (global or a cgroup), the
// victim with the badness points that chose it, and the scope's memory
// when it was killed: ScopeAnonPages and ScopeFilePages are the anon and
// file lines of the cgroup's memory.stat for a memcg OOM, of the root
// cgroup's (the whole machine's user memory) for a global one.
type OOMEvent struct {
	// TimeNs is when the OOM killer chose its victim.
	TimeNs int64 `json:"time_ns"`
	// Scope is "global" for the machine's OOM killer, "memcg:PATH" for a
	// cgroup's (memory.max reached).
	Scope string `json:"scope"`
	// VictimPID is the killed task's pid.
	VictimPID int `json:"victim_pid"`
	// VictimComm is its comm: the task's or SBMP process's name (a task
	// workload's cut to 15 bytes, as a Linux comm holds).
	VictimComm string `json:"victim_comm"`
	// VictimPoints is the victim's oom_badness (mm/oom_kill.c): its RSS,
	// swap entries and page tables in pages, plus oom_score_adj times
	// a thousandth of the scope's total pages (9223372036854775807 for an
	// OOM origin task).
	VictimPoints int64 `json:"victim_points"`
	// ScopeAnonPages is memory.stat's anon of the scope (mlocked pages
	// included) when the victim was chosen, in pages.
	ScopeAnonPages int64 `json:"scope_anon_pages"`
	// ScopeFilePages is memory.stat's file (page cache) of the scope then,
	// in pages.
	ScopeFilePages int64 `json:"scope_file_pages"`
}

// SLICounts count the allocations that met the degrade condition (Tier-0
// empty and the refill found nothing, so the degrade policy decided) by
// how they ended: unharmed (succeeded within the workload's latency
// objective, slo_latency_ms, waits and retries included), failed, or
// over the objective. Rate is unharmed / met, null when none met it:
// SPEC 3.3's "degrade success rate".
type SLICounts struct {
	// SLONs is the latency objective the counts were judged against
	// (the workload's slo_latency_ms, in ns); absent on the sums over
	// workloads, whose objectives may differ.
	SLONs int64 `json:"slo_ns,omitempty"`
	// Met counts the allocations that met the degrade condition, counted
	// once each at their final outcome, retries included.
	Met uint64 `json:"met"`
	// Unharmed counts those that succeeded within the objective.
	Unharmed uint64 `json:"unharmed"`
	// Failed counts those that failed for good.
	Failed uint64 `json:"failed"`
	// OverSLO counts those that succeeded later than the objective, from
	// their first request to their end.
	OverSLO uint64 `json:"over_slo"`
	// Rate is unharmed / met, SPEC 3.3's degrade success rate; null when
	// met is 0.
	Rate *float64 `json:"rate"`
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
	// Policy names the degrade policy in effect at the end of the run,
	// each process's once, comma-separated when processes differ.
	Policy string `json:"policy"`
	SLICounts
	// ByCPU holds the CPUs where some allocation met the condition.
	ByCPU []CPUSLI `json:"by_cpu"`
}

// CPUSLI is the SLI of the allocations one CPU asked for.
type CPUSLI struct {
	// CPU is the CPU number (0-based, as the machine numbers them).
	CPU int `json:"cpu"`
	SLICounts
}

// WorkloadSummary is one workload's share of the run.
type WorkloadSummary struct {
	// Name is the workload's name ([[workload]] name, default "w" and its
	// index).
	Name string `json:"name"`
	// Kind is its kind: "synthetic", "go-runtime" or "heaptrack".
	Kind string `json:"kind"`
	// Allocs counts its successful allocations.
	Allocs uint64 `json:"allocs"`
	// AllocFailures counts its allocations that failed for good.
	AllocFailures uint64 `json:"alloc_failures"`
	// AllocRetries counts the retries the degrade policy asked for (an
	// allocation told to wait for a refill and tried again, once per
	// wait).
	AllocRetries uint64 `json:"alloc_retries"`
	// Frees counts its frees.
	Frees uint64 `json:"frees"`
	// BytesAllocated is the requested size of all its successful
	// allocations, in bytes, cumulative.
	BytesAllocated int64 `json:"bytes_allocated"`
	// BytesLiveEnd is the requested size of its objects live at the end,
	// in bytes.
	BytesLiveEnd int64 `json:"bytes_live_end"`
	// ObjectsLiveEnd counts its objects live at the end.
	ObjectsLiveEnd int64 `json:"objects_live_end"`
	// ObjectsLost counts the objects that were live when the workload's
	// process died: gone with it, never freed.
	ObjectsLost int64 `json:"objects_lost"`
	// BytesLost is the requested size of those objects, in bytes.
	BytesLost int64 `json:"bytes_lost"`
	// BytesLeaked is the requested size of the objects a leak fault
	// allocated in this (synthetic) workload and never freed, in bytes.
	BytesLeaked int64 `json:"bytes_leaked"`
	// Migrations counts the migrations of its threads from one CPU to
	// another (synthetic workloads with migrate_per_s).
	Migrations uint64 `json:"migrations"`
	// RequestsNotIssued counts the arrivals a blocked thread did not
	// issue because its clients waited on it (loop "closed", synthetic
	// workloads).
	RequestsNotIssued uint64 `json:"requests_not_issued"`
	// RequestsQueued counts the arrivals that queued behind a blocked
	// thread and were issued late (loop "queued", synthetic workloads).
	RequestsQueued uint64 `json:"requests_queued"`
	// DegradeSLI is SPEC 3.3's degrade SLI for this workload's
	// allocations, judged against its own slo_latency_ms.
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
	// Name is the process's name ([[process]] name, or the implicit
	// process's).
	Name string `json:"name"`
	// PID is its pid in the kernel model.
	PID int64 `json:"pid"`
	// Cgroup is its cgroup v2 path, "/" for the root.
	Cgroup string `json:"cgroup"`
	// TierAllocs counts the allocations each tier of its allocator
	// served (all its allocators, across hot swaps).
	TierAllocs TierCounts `json:"tier_allocs"`
	// FallbackCount is its allocators' sbmp_fallback_count (SPEC 4.1).
	FallbackCount uint64 `json:"fallback_count"`
	// AllocStallNs is its allocators' sbmp_alloc_stall_ns (SPEC 4.1), in
	// ns.
	AllocStallNs int64 `json:"alloc_stall_ns"`
	// ServedRemote counts its page requests (Tier-1 blocks, Tier-2 pages)
	// that a node other than the preferred one served.
	ServedRemote int64 `json:"page_requests_served_remote"`
	// RSSAnonPagesEnd is its resident anonymous memory at the end, in
	// pages (MM_ANONPAGES); SBMP's blocks count only in user placement.
	RSSAnonPagesEnd int64 `json:"rss_anon_pages_end"`
	// DiedNs is when the process died (-1: it lived to the end).
	DiedNs int64 `json:"died_ns"`
	// DiedOf says why it died: "oom-kill", or the fatal error of a Go
	// program ("fatal error: out of memory"); absent while alive.
	DiedOf string `json:"died_of,omitempty"`
}

// SBMPSummary is SBMP's part of summary.json: its counters (SPEC 1.4, 1.5,
// 4.1) at the end of the run, and the debugfs text of SPEC 1.4. Counters
// are summed over the SBMP processes and over each one's allocators
// (those a hot swap replaced included).
type SBMPSummary struct {
	// Refills counts refills of a Tier-0 cache that an allocation found
	// empty (the slow path), the refill after a degrade flush included.
	Refills int64 `json:"refills"`
	// RefillsRemote counts refill steps that took slots from a node other
	// than the CPU's own, and degrade steal-remote refills.
	RefillsRemote int64 `json:"refills_remote"`
	// Drains counts frees that found their Tier-0 cache full and drained
	// half of it back to the slabs.
	Drains int64 `json:"drains"`
	// Tier1Splits counts buddy splits in Tier-1: a free chunk halved to
	// serve a smaller order.
	Tier1Splits int64 `json:"tier1_splits"`
	// Tier1Merges counts buddy merges in Tier-1's lazy merge: a freed
	// chunk coalesced with its free buddy, one per order climbed.
	Tier1Merges int64 `json:"tier1_merges"`
	// Tier1DecayedSlabs counts the slabs that waited a whole idle-trim
	// interval in Tier-1's merge queue and were merged by the idle decay
	// (sbmp/homing.go); their merges are among tier1_merges, their waits
	// are not in tier1_merge_delay.
	Tier1DecayedSlabs int64 `json:"tier1_decayed_slabs"`
	// MergeDelayMeanNs is SPEC 1.5's tier1_merge_delay over the run: the
	// mean time from a slab's free to its merge, in ns; 0 when no slab
	// was merged.
	MergeDelayMeanNs int64 `json:"tier1_merge_delay_ns_mean"`
	// MergeDelayMaxNs is the longest such delay, in ns (the largest over
	// the processes).
	MergeDelayMaxNs int64 `json:"tier1_merge_delay_ns_max"`
	// BlocksFromTier2 counts the blocks Tier-1 got from Tier-2 (the page
	// allocator).
	BlocksFromTier2 int64 `json:"blocks_from_tier2"`
	// BlocksToTier2 counts the wholly free blocks Tier-1 gave back to
	// Tier-2: beyond the one free block a node's Tier-1 keeps, or
	// released by a Go program's scavenger.
	BlocksToTier2 int64 `json:"blocks_to_tier2"`
	// Tier1BlocksEnd counts the blocks the Tier-1 pools hold at the end.
	Tier1BlocksEnd int64 `json:"tier1_blocks_end"`
	// Tier2Fallbacks is SPEC 1.5's fallback_to_tier2: small allocations
	// Tier-2 served because Tier-0 and Tier-1 could not.
	Tier2Fallbacks int64 `json:"fallback_to_tier2"`
	// RemoteFrees counts slots freed on a node other than their own,
	// which go home through the freeing node's alien cache.
	RemoteFrees int64 `json:"remote_frees"`
	// RemoteFlushes counts the alien-cache batches that took remote frees
	// home (sbmp.remote_free_batch slots, or fewer at a trim or flush).
	RemoteFlushes int64 `json:"remote_flushes"`
	// MediumAllocs counts the medium requests (above the largest Tier-0
	// class, up to half a Tier-1 block) Tier-1 served as buddy blocks.
	MediumAllocs int64 `json:"tier1_medium_allocs"`
	// Trims counts the trims of the per-CPU caches
	// (policy.merge_trim_interval_ms apart).
	Trims int64 `json:"trims"`
	// TrimmedSlots counts the slots trims returned from per-CPU caches to
	// their slabs.
	TrimmedSlots int64 `json:"trimmed_slots"`
	// DegradeEntries counts degrade episodes: an episode begins when a
	// CPU's Tier-0 cache is empty and its refill finds nothing, outside
	// an episode, and flushes every CPU's cache once. It ends at a refill
	// that finds slots once policy.degrade_min_dwell_ms have passed since
	// it began and the last policy.degrade_exit_refills refills (any CPU)
	// found slots.
	DegradeEntries int64 `json:"degrade_entries"`
	// DegradeExits counts the degrade episodes that ended, including
	// those a policy swap or the process's death ended; it is
	// degrade_entries, or one less per allocator still in an episode at
	// the end of the run.
	DegradeExits int64 `json:"degrade_exits"`
	// DegradedNs is the time the allocators spent in degrade episodes, in
	// ns: the ended episodes, and an episode still open at the end of the
	// run up to that end.
	DegradedNs int64 `json:"degraded_ns"`
	// Flushes counts SPEC 2.6's flushes of every per-CPU cache back to
	// the slabs: one at the start of each degrade episode, one per
	// degraded allocation under the reclaim-first policy, and one at each
	// hot swap.
	Flushes int64 `json:"flushes"`
	// TotalFreeBytesEnd is SPEC 1.4's total_free at the end: free bytes
	// in the Tier-0 caches and in free (or pending) Tier-1 slabs.
	TotalFreeBytesEnd int64 `json:"total_free_bytes_end"`
	// FSMRefused counts FSM transitions the SPEC 2.1 FSM refused by its
	// legality or contract: an allocation request with no free block in
	// Tier-1 on the nodes its refill may take from (which leaves the CPU
	// IDLE), and a sync whose shadow was not persisted or acknowledged in
	// time (which then fails, SYNCING->IDLE).
	FSMRefused int64 `json:"fsm_refused"`
	// FSMDriftMigrations counts fsm_transitions' ACTIVE->MIGRATING on
	// load drift: a CPU whose traffic with Tier-1 (slots refilled, and
	// slots of other nodes freed) was mostly with other nodes over a
	// drift window (sbmp.fsm_drift_window_ms).
	FSMDriftMigrations int64 `json:"fsm_migrations_drift"`
	// FSMFaultMigrations counts fsm_transitions' ACTIVE->MIGRATING on a
	// fault signal: the node of the block the CPU switched to went
	// offline, or its link to the CPU's node got slower than a sync
	// tolerates (sbmp.fsm_sync_timeout_factor).
	FSMFaultMigrations int64 `json:"fsm_migrations_fault"`
	// Alerts are the SPEC 1.5 signals sampled every 500 ms, of the first
	// SBMP process, in the order tier0_free_avg, tier1_merge_delay_ms,
	// fallback_to_tier2_per_s.
	Alerts []AlertSummary `json:"alerts"`
	// Debugfs is the text /sys/kernel/debug/sbmp/stats would show at the
	// end (SPEC 1.4: cpuN_tier0_free lines, total_free and the counters)
	// for the first SBMP process's current allocator.
	Debugfs string `json:"debugfs"`
}

// KernelSummary is the kernel model's part of summary.json.
type KernelSummary struct {
	// SwapUsedPagesEnd is the swap slots in use at the end: swapped-out
	// pages and pages in the swap cache, in pages.
	SwapUsedPagesEnd int64 `json:"swap_used_pages_end"`
	// PagesSwappedOut counts the pages reclaim wrote to swap (vmstat's
	// pswpout).
	PagesSwappedOut int64 `json:"pages_swapped_out"`
	// PagesReclaimedFile counts the page-cache pages reclaim dropped:
	// kswapd, direct and memcg reclaim alike.
	PagesReclaimedFile int64 `json:"pages_reclaimed_file"`
	// DirectReclaims counts the direct reclaim runs of the page
	// allocator's slow path (try_to_free_pages, global reclaim).
	DirectReclaims int64 `json:"direct_reclaims"`
	// DirectReclaimStallNs is the modelled time of those runs, charged to
	// the allocating tasks, in ns.
	DirectReclaimStallNs int64 `json:"direct_reclaim_stall_ns"`
	// KswapdRuns counts the batches kswapd reclaimed, over every node.
	KswapdRuns int64 `json:"kswapd_runs"`
	// FreePagesEnd is the free pages at the end, summed over the memory
	// nodes (timeseries.csv's free_pages).
	FreePagesEnd int64 `json:"free_pages_end"`
	// FilePagesEnd is the page cache at the end, in pages (file_pages).
	FilePagesEnd int64 `json:"file_pages_end"`
	// AnonPagesEnd is the evictable anonymous pages at the end
	// (anon_pages; mlocked pages are not among them).
	AnonPagesEnd int64 `json:"anon_pages_end"`
	// Tasks are every task the kernel model knows, in registration order
	// (the OOM killer's process walk): the task workloads' and the SBMP
	// processes.
	Tasks []TaskSummary `json:"tasks"`
	// Cgroups are the memory cgroups: "/" (the whole machine) first, then
	// the scenario's in the order declared.
	Cgroups []CgroupSummary `json:"cgroups"`
	// MemcgHighStallNs is the time tasks were throttled for exceeding
	// memory.high (its reclaim and the penalty sleep of
	// mem_cgroup_handle_over_high), in ns.
	MemcgHighStallNs int64 `json:"memcg_high_stall_ns"`
}

// CgroupSummary is one cgroup at the end of the run: memory.current,
// memory.peak, memory.swap.current and memory.events.
type CgroupSummary struct {
	// Path is the cgroup's v2 path, "/" for the root.
	Path string `json:"path"`
	// CurrentPages is memory.current in pages: the charges of the cgroup
	// and its descendants, pages precharged into per-CPU stocks included.
	CurrentPages int64 `json:"current_pages"`
	// PeakPages is memory.peak in pages: the largest memory.current of
	// the run.
	PeakPages int64 `json:"peak_pages"`
	// SwapCurrentPages is memory.swap.current in pages (hierarchical).
	SwapCurrentPages int64 `json:"swap_current_pages"`
	// EventsMax is memory.events' max: charges that were about to exceed
	// memory.max.
	EventsMax int64 `json:"events_max"`
	// EventsHigh is memory.events' high: reclaims because usage exceeded
	// memory.high.
	EventsHigh int64 `json:"events_high"`
	// EventsOOM is memory.events' oom: invocations of the memcg OOM
	// killer.
	EventsOOM int64 `json:"events_oom"`
	// EventsOOMKill is memory.events' oom_kill: tasks of the cgroup
	// killed by any OOM killer.
	EventsOOMKill int64 `json:"events_oom_kill"`
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
	// PID is the task's pid.
	PID int64 `json:"pid"`
	// Comm is its comm (a task workload's name cut to 15 bytes).
	Comm string `json:"comm"`
	// RSSAnonPages is its resident anonymous memory at the end
	// (MM_ANONPAGES), in pages.
	RSSAnonPages int64 `json:"rss_anon_pages"`
	// SwapEntries is its pages in swap at the end (MM_SWAPENTS).
	SwapEntries int64 `json:"swap_entries"`
	// OOMScoreAdj is its oom_score_adj, -1000 to 1000.
	OOMScoreAdj int64 `json:"oom_score_adj"`
	// OOMScore is /proc/PID/oom_score at the end: (1000 + badness * 1000
	// / totalpages) * 2 / 3, 0 to 2000; 0 for a task the OOM killer would
	// not consider (unkillable, or killed and reaped).
	OOMScore int64 `json:"oom_score"`
	// Killed: the OOM killer killed the task during the run.
	Killed bool `json:"oom_killed"`
}

// KernelWorkloadSummary is one workload outside SBMP at the end of the
// run; a fleet (count > 1) is summed over its tasks.
type KernelWorkloadSummary struct {
	// Name is the workload's name (a fleet's, without its tasks' "-N"
	// suffixes).
	Name string `json:"name"`
	// Kind is "task", "mlock", "page-cache" or "kmalloc-leak".
	Kind string `json:"kind"`
	// Tasks counts its tasks (the workload's count); absent for a
	// kmalloc leak, which has none.
	Tasks int `json:"tasks,omitempty"`
	// PagesGot are the anonymous or mlocked pages faulted in.
	PagesGot int64 `json:"pages_got,omitempty"`
	// StallNs is the time its faults and reads took: reclaim, disk
	// reads, and the kernel's time around them (a page-cache hit's
	// read(2) included), which the real worker's fault_ns measures too.
	StallNs int64 `json:"stall_ns,omitempty"`
	// FailedTicks counts the 1 ms ticks in which a task got fewer pages
	// than it asked for, or a page-cache read failed.
	FailedTicks int64 `json:"failed_ticks,omitempty"`
	// Killed counts its tasks that died, killed by the OOM killer.
	Killed int `json:"oom_killed,omitempty"`
	// PagesRead counts a page-cache reader's page reads.
	PagesRead int64 `json:"pages_read,omitempty"`
	// PagesMissed counts the reads that missed the page cache and went
	// to disk.
	PagesMissed int64 `json:"pages_missed,omitempty"`
	// Refaults are the misses of pages reclaim had evicted (the kernel
	// found their shadow entries).
	Refaults int64 `json:"refaults,omitempty"`
	// ObjectsLeaked counts a kmalloc leak's objects (SPEC 1.6), never
	// freed.
	ObjectsLeaked int64 `json:"objects_leaked,omitempty"`
	// SlabPages are the kernel pages its slabs pin at the end: unmovable
	// kernel memory that no reclaim or OOM kill frees.
	SlabPages int64 `json:"slab_pages,omitempty"`
	// Failures counts its kmalloc(GFP_ATOMIC) calls that returned NULL
	// (the slab page allocation failed).
	Failures int64 `json:"kmalloc_failures,omitempty"`
}

// AlertSummary is one SPEC 1.5 signal over a run: when it first reached
// danger (-1: never), how many 500 ms samples were in danger, and its
// largest value.
type AlertSummary struct {
	// Metric is the signal: "tier0_free_avg" (the mean free slots of the
	// smallest class over the CPUs that allocate it; danger below 8),
	// "tier1_merge_delay_ms" (the mean merge delay in the 500 ms window;
	// danger above 200 ms) or "fallback_to_tier2_per_s" (Tier-2 fallbacks
	// a second in the window; danger above 5).
	Metric string `json:"metric"`
	// FirstDangerNs is the time of the first sample in danger, -1 if
	// none was.
	FirstDangerNs int64 `json:"first_danger_ns"`
	// DangerSamples counts the samples in danger (one every 500 ms while
	// the process lives).
	DangerSamples int `json:"danger_samples"`
	// Max is the signal's largest sampled value, in the metric's unit.
	Max float64 `json:"max"`
}

// FaultSummary is one fault in summary.json: when it ran and what it did.
type FaultSummary struct {
	// Kind is the [[fault]]'s kind: "numa-latency", "node-offline",
	// "leak" or "policy-swap".
	Kind string `json:"kind"`
	// StartNs is when the fault started.
	StartNs int64 `json:"start_ns"`
	// EndNs is when it ended; -1: it lasted to the end of the run.
	EndNs int64 `json:"end_ns"`
	// Error is why the fault could not act (a node offline refused with
	// EBUSY, as Linux's offline_pages fails).
	Error string `json:"error,omitempty"`
	// PagesMigrated counts the anonymous and mlocked pages taking a node
	// offline migrated to other nodes.
	PagesMigrated int64 `json:"pages_migrated,omitempty"`
	// PagesDropped counts the page-cache pages it dropped instead.
	PagesDropped int64 `json:"pages_dropped,omitempty"`
	// PagesIsolated counts the free pages it took out of the free lists.
	PagesIsolated int64 `json:"pages_isolated,omitempty"`
	// BytesLeaked is what a leak fault allocated and never freed, in
	// bytes (for a Go program: its leaked heap bytes).
	BytesLeaked int64 `json:"bytes_leaked,omitempty"`
	// LeakFailures counts leaked allocations that failed.
	LeakFailures int64 `json:"leak_failures,omitempty"`
	// Swapped counts the processes whose allocator a policy swap replaced
	// (SPEC 2.4).
	Swapped int `json:"swapped,omitempty"`
	// SwapFlushNs is the modelled cost of flushing the old allocators'
	// per-CPU caches, in ns: the only work the swap itself does.
	SwapFlushNs int64 `json:"swap_flush_ns,omitempty"`
}

// GoRuntimeSummary is a go-runtime workload's end state, in
// runtime.MemStats terms, with the GC record figures SPEC 4.3 and 5.3
// compare (GC interval and its spread, STW pauses).
//
// The per-cycle figures (pauses, intervals, first GC) are over the
// cycles the program kept a record of (the first 262,144).
type GoRuntimeSummary struct {
	// HeapAllocEnd is runtime.MemStats.HeapAlloc at the end: bytes in
	// heap objects allocated and not yet freed, unswept garbage included.
	HeapAllocEnd int64 `json:"heap_alloc_end"`
	// HeapAllocPeak is the largest HeapAlloc of the run, in bytes.
	HeapAllocPeak int64 `json:"heap_alloc_peak"`
	// NextGCEnd is the heap goal at the end (MemStats.NextGC), in bytes;
	// 9223372036854775807 when no GC is paced (GOGC=off, no limit).
	NextGCEnd int64 `json:"next_gc_end"`
	// NumGC counts the completed GC cycles.
	NumGC int64 `json:"num_gc"`
	// NumForcedGC counts those forced (runtime.GC) rather than started by
	// the pacer.
	NumForcedGC int64 `json:"num_forced_gc"`
	// LimitedGCs counts the cycles whose mark ran with assists off because
	// the GC CPU limiter was full.
	LimitedGCs int64 `json:"limited_gcs"`
	// PauseTotalNs is the stop-the-world time of all cycles, in ns
	// (MemStats.PauseTotalNs).
	PauseTotalNs int64 `json:"pause_total_ns"`
	// PauseMedianNs is the median of the cycles' pauses (both STW phases
	// of a cycle together), in ns; 0 without a cycle.
	PauseMedianNs int64 `json:"pause_median_ns"`
	// PauseMaxNs is the longest cycle pause, in ns; 0 without a cycle.
	PauseMaxNs int64 `json:"pause_max_ns"`
	// GCIntervalMean is the mean time between the starts of consecutive
	// cycles, in ns (SPEC 4.3's mean GC interval); 0 with fewer than two
	// cycles.
	GCIntervalMean float64 `json:"gc_interval_mean_ns"`
	// GCIntervalSD is the sample standard deviation of those intervals,
	// in ns (SPEC 5.3's cycle time spread); 0 with fewer than three
	// cycles.
	GCIntervalSD float64 `json:"gc_interval_sd_ns"`
	// FirstGCNs is when the first cycle started; -1: none did.
	FirstGCNs int64 `json:"first_gc_ns"`
	// GCCPUFraction is MemStats.GCCPUFraction at the end: the GC's CPU
	// time over GOMAXPROCS times the time since the program started.
	GCCPUFraction float64 `json:"gc_cpu_fraction"`
	// TotalAlloc is the bytes of heap objects allocated, cumulative
	// (MemStats.TotalAlloc).
	TotalAlloc int64 `json:"total_alloc"`
	// Mallocs counts the heap objects allocated (MemStats.Mallocs).
	Mallocs int64 `json:"mallocs"`
	// Frees counts the heap objects the sweeper freed (MemStats.Frees).
	Frees int64 `json:"frees"`
	// LiveSetBytes is the bytes of the program's live set at the end
	// (reachable objects, leaked ones apart).
	LiveSetBytes int64 `json:"live_set_bytes_end"`
	// LeakedBytes is the bytes the program leaked (a leak fault's
	// objects, reachable and never freed).
	LeakedBytes int64 `json:"leaked_bytes"`
	// ScavengedBytes is the bytes the scavenger released: free heap given
	// back through SBMP to the kernel.
	ScavengedBytes int64 `json:"scavenged_bytes"`
	// Died is "alive", "fatal error: out of memory" (a heap allocation
	// SBMP could not serve) or "killed" (the OOM killer).
	Died string `json:"died"`
	// DiedNs is when the program died; -1: alive at the end.
	DiedNs int64 `json:"died_ns"`
}

// TraceSummary is a heaptrack workload's replay record, with heaptrack's
// own numbers for the same file beside the replay's.
type TraceSummary struct {
	// File is the trace file as the scenario names it.
	File string `json:"file"`
	// Command is the command line heaptrack recorded in the trace.
	Command string `json:"command"`
	// Ops counts the trace's operations replayed: time stamps,
	// allocations and frees.
	Ops int64 `json:"ops"`
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
	// Calls is "calls to allocation functions": the trace's allocations.
	Calls int64 `json:"calls"`
	// PeakBytes is "peak heap memory consumption", in bytes.
	PeakBytes int64 `json:"peak_bytes"`
	// LeakedBytes is "total memory leaked", suppressed leaks apart, in
	// bytes.
	LeakedBytes int64 `json:"leaked_bytes"`
	// SuppressedBytes is "suppressed leaks" (heaptrack's built-in and
	// the file's own suppressions), in bytes.
	SuppressedBytes int64 `json:"suppressed_bytes"`
	// DurationMs is heaptrack's "total runtime": the trace's last time
	// stamp plus 1, in ms.
	DurationMs int64 `json:"duration_ms"`
	// PeakRSSBytes is "peak RSS (including heaptrack overhead)", in bytes.
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
	// Print is those totals as heaptrack_print's summary lines say them.
	Print string `json:"print"`
}
