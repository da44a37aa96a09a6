package world

import (
	"regexp"
	"slices"
	"strings"
)

// Column documents one column of timeseries.csv, or a family of columns
// whose names follow one pattern. The lists below are where the run's
// column names come from, so the documentation (docs/reference.md is
// generated from TimeseriesColumns) and the file cannot disagree.
type Column struct {
	// Pattern is the column's name, or its name with one placeholder:
	// {N} a CPU number, {workload} a go-runtime workload's name, {vmstat}
	// the name of one of the /proc/vmstat counters the kernel model keeps.
	Pattern string
	// Unit is what one value counts.
	Unit string
	// When says which runs have the column.
	When string
	// Doc says what the column holds.
	Doc string
}

// The columns by the side of the simulation that adds them, in the
// order a row holds them.
var (
	baseColumnDocs = []Column{
		{"time_ns", "ns", "always", "Simulated time of the sample: rows are taken at 0, every [output] sample_interval_ms (default 100 ms) and at the run's end (sim_time_ns)."},
		{"objects_live", "objects", "always", "Objects the SBMP workloads allocated and have not freed; the objects of a process that died leave it (summary.json workloads[].objects_lost)."},
		{"bytes_live", "bytes", "always", "Requested bytes of the objects in objects_live (the sizes the workloads asked for, not SBMP's slot or page sizes)."},
		{"allocs", "count", "always", "Successful allocations of the SBMP workloads since the start (failed ones are not counted)."},
		{"frees", "count", "always", "Frees of the SBMP workloads since the start."},
	}
	kernelColumnDocs = []Column{
		{"free_pages", "pages (4 KiB)", "always", "Free pages in the buddy allocator's free lists, summed over the memory nodes."},
		{"file_pages", "pages (4 KiB)", "always", "Page-cache pages on the file LRU lists, summed over the nodes (Active(file) + Inactive(file) of /proc/meminfo)."},
		{"anon_pages", "pages (4 KiB)", "always", "Evictable anonymous pages on the anon LRU lists, summed over the nodes (Active(anon) + Inactive(anon)); mlocked pages are not among them."},
		{"swap_used_pages", "pages (4 KiB)", "always", "Swap slots in use: swapped-out pages and pages in the swap cache (SwapTotal - SwapFree of /proc/meminfo, in pages); 0 without swap."},
	}
	nodeColumnDocs = []Column{
		{"node{N}_free_pages", "pages (4 KiB)", "always, per memory node", "Free pages in memory node N's buddy free lists."},
		{"node{N}_file_pages", "pages (4 KiB)", "always, per memory node", "Page-cache pages on node N's file LRU lists."},
		{"node{N}_anon_pages", "pages (4 KiB)", "always, per memory node", "Evictable anonymous pages on node N's anon LRU lists."},
		{"node{N}_kernel_pages", "pages (4 KiB)", "always, per memory node", "Node N's managed pages that are none of the three above: kernel allocations (slab, page tables, kernel-placed SBMP blocks), unevictable and mlocked pages, per-CPU lists; what the tui's and live.png's memory charts show as kernel and other."},
	}
	psiColumnDocs = []Column{
		{"psi_some_total_us", "us", "always", "Machine-wide memory stall so far, in which at least one task was stalled on memory: the some total= of /proc/pressure/memory."},
		{"psi_full_total_us", "us", "always", "Machine-wide memory stall so far, in which every non-idle task was stalled on memory: the full total= of /proc/pressure/memory."},
	}
	vmstatColumnDoc = Column{"{vmstat}", "count", "always",
		"One column per /proc/vmstat counter the kernel model keeps, under its Linux name, cumulative from the start; the counters are listed with summary.json's vmstat."}
	sbmpColumnDocs = []Column{
		{"tier0_allocs", "count", "with SBMP", "Allocations served from a Tier-0 per-CPU cache since the start, summed over the SBMP processes."},
		{"tier1_allocs", "count", "with SBMP", "Allocations served by the Tier-1 buddy pool since the start, summed over the SBMP processes."},
		{"tier2_allocs", "count", "with SBMP", "Allocations served by Tier-2 (the kernel's page allocator) since the start, summed over the SBMP processes."},
		{"sbmp_total_free_bytes", "bytes", "with SBMP", "SPEC 1.4's total_free summed over the SBMP processes: free bytes in the Tier-0 caches and in free (or pending) Tier-1 slabs, not counting free slots inside partly used slabs."},
		{"tier1_blocks", "blocks", "with SBMP", "Blocks ([sbmp] tier1_block_kib each, 2 MiB by default) the Tier-1 pools hold from Tier-2, summed over the SBMP processes."},
		{"cpu{N}_tier0_free", "slots", "cpu0 with SBMP; every CPU with [output] per_cpu = true", "Free slots of the smallest Tier-0 class in CPU N's cache, in the first SBMP process (SPEC 1.4's cpuN_tier0_free)."},
	}
	goColumnDocs = []Column{
		{"{workload}.heap_alloc", "bytes", "per go-runtime workload", "The Go program's runtime.MemStats.HeapAlloc: bytes in heap objects allocated and not yet freed, unswept garbage included."},
		{"{workload}.next_gc", "bytes", "per go-runtime workload", "The program's heap goal, runtime.MemStats.NextGC (9223372036854775807, math.MaxInt64, when no GC is paced: GOGC=off and no memory limit)."},
		{"{workload}.num_gc", "count", "per go-runtime workload", "GC cycles the program has completed, runtime.MemStats.NumGC."},
		{"{workload}.mapped_bytes", "bytes", "per go-runtime workload", "Memory the program's SBMP allocator holds from the kernel (its blocks and pages), in bytes."},
	}
)

// The columns a monitoring dashboard needs beyond the totals above (SPEC
// 4.4's SLO panels, degrade episodes, OOM kills); they follow every other
// column, so that older columns keep their positions.
var (
	kernelSLOColumnDocs = []Column{
		{"oom_kills", "count", "always", "OOM kills so far (global and memcg): summary.json's oom_kills at the sample's time."},
	}
	ledgerSLOColumnDocs = []Column{
		{"alloc_failures", "count", "always", "Allocations of the SBMP workloads that failed for good so far (summary.json's alloc_failures at the sample's time)."},
		{"alloc_latency_count", "count", "always", "Successful allocations with a latency so far (trace replays record none): the count of the latency histogram."},
		{"alloc_latency_sum_ns", "ns", "always", "The sum of those allocations' latencies (cost plus any wait to be retried)."},
		{"alloc_latency_le_{N}ns", "count", "always, one per bound", "How many of those allocations took at most N ns: a cumulative histogram bucket, bounds in 1-2-5 steps from 10 ns to 10 s plus SPEC 4.4's objective 1.2 s (1200000000)."},
	}
	sbmpSLOColumnDocs = []Column{
		{"fallback_count", "count", "with SBMP", "SPEC 4.1's sbmp_fallback_count so far, summed over the SBMP processes."},
		{"alloc_stall_ns", "ns", "with SBMP", "SPEC 4.1's sbmp_alloc_stall_ns so far, summed over the SBMP processes."},
		{"degrade_entries", "count", "with SBMP", "Degrade episodes begun so far (an episode lasts at least policy.degrade_min_dwell_ms), summed over the SBMP processes."},
		{"degraded_processes", "processes", "with SBMP", "SBMP processes degraded at the sample (a dead process counts as not degraded)."},
	}
)

// TimeseriesColumns documents every column a run's time series can
// have, in the order a row holds them. Which columns a run has depends
// on its scenario (When).
func TimeseriesColumns() []Column {
	var out []Column
	out = append(out, baseColumnDocs...)
	out = append(out, kernelColumnDocs...)
	out = append(out, nodeColumnDocs...)
	out = append(out, psiColumnDocs...)
	out = append(out, vmstatColumnDoc)
	out = append(out, sbmpColumnDocs...)
	out = append(out, goColumnDocs...)
	out = append(out, kernelSLOColumnDocs...)
	out = append(out, ledgerSLOColumnDocs...)
	return append(out, sbmpSLOColumnDocs...)
}

// placeholder matches a pattern's placeholder.
var placeholder = regexp.MustCompile(`\{[a-zA-Z]+\}`)

// columnNames are the columns' names with every placeholder replaced by
// arg.
func columnNames(cols []Column, arg string) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = placeholder.ReplaceAllLiteralString(c.Pattern, arg)
	}
	return out
}

// Match reports whether name is a column of c's pattern.
func (c Column) Match(name string) bool {
	loc := placeholder.FindStringIndex(c.Pattern)
	if loc == nil {
		return name == c.Pattern
	}
	pre, post := c.Pattern[:loc[0]], c.Pattern[loc[1]:]
	arg, ok := strings.CutPrefix(name, pre)
	if !ok {
		return false
	}
	if arg, ok = strings.CutSuffix(arg, post); !ok || arg == "" {
		return false
	}
	switch c.Pattern[loc[0]:loc[1]] {
	case "{N}":
		return strings.Trim(arg, "0123456789") == "" && (arg == "0" || arg[0] != '0')
	case "{vmstat}":
		return slices.Contains(vmstatColumns(), arg)
	}
	return true
}
