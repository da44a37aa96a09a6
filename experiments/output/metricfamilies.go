package output

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/model/kernel"
)

// metricType is an OpenMetrics metric type.
type metricType int

const (
	gauge metricType = iota
	counter
	histogram
)

func (t metricType) String() string { return [...]string{"gauge", "counter", "histogram"}[t] }

// familyDef is one metric family: its name (with the unit as its last
// word, and without a counter's _total), unit ("" for none) and help.
type familyDef struct {
	name, unit, help string
	typ              metricType
}

// label is one label pair.
type label struct{ name, value string }

// toBase converts a column's value to its family's base unit.
type toBase func(float64) float64

func asIs(v float64) float64         { return v }
func pagesToBytes(v float64) float64 { return v * kernel.PageSize }
func nsToSeconds(v float64) float64  { return v / 1e9 }
func usToSeconds(v float64) float64  { return v / 1e6 }

// colMetric is where one time series column goes: a family, the labels
// that tell its series apart, the conversion to the family's base unit
// and, for a histogram, which of its samples the column is.
type colMetric struct {
	fam    familyDef
	labels []label
	scale  toBase
	// part is "bucket", "count" or "sum" for a histogram's column, with
	// le the bucket's bound in the base unit.
	part string
	le   float64
}

// Per-column metric families, by the column's name or its pattern.
var (
	famObjectsLive  = familyDef{"sbmpsim_objects_live", "", "Objects the workloads hold through SBMP.", gauge}
	famLiveBytes    = familyDef{"sbmpsim_requested_live_bytes", "bytes", "Bytes the workloads requested for the objects they hold through SBMP.", gauge}
	famAllocs       = familyDef{"sbmpsim_allocs", "", "Successful allocations of the workloads through SBMP.", counter}
	famFrees        = familyDef{"sbmpsim_frees", "", "Frees of the workloads through SBMP.", counter}
	famFailures     = familyDef{"sbmpsim_alloc_failures", "", "Allocations of the workloads through SBMP that failed for good (SPEC 4.4's errors).", counter}
	famLatency      = familyDef{"sbmpsim_alloc_latency_seconds", "seconds", "Latency of successful allocations, from the first request to the end, waits included.", histogram}
	famOOMKills     = familyDef{"sbmpsim_oom_kills", "", "OOM kills (global and cgroup).", counter}
	famNodeMemory   = familyDef{"sbmpsim_node_memory_bytes", "bytes", "Memory of each NUMA node by kind: free (buddy allocator), file (page cache LRU), anon (evictable anonymous LRU), other (the rest of the managed pages: kernel memory, SBMP's kernel-placed blocks, mlocked pages, per-CPU lists).", gauge}
	famSwapUsed     = familyDef{"sbmpsim_swap_used_bytes", "bytes", "Swap in use (SwapTotal - SwapFree).", gauge}
	famPSIWaiting   = familyDef{"sbmpsim_pressure_memory_waiting_seconds", "seconds", "Time some task was stalled on memory (/proc/pressure/memory some total).", counter}
	famPSIStalled   = familyDef{"sbmpsim_pressure_memory_stalled_seconds", "seconds", "Time all non-idle tasks were stalled on memory (/proc/pressure/memory full total).", counter}
	famTierAllocs   = familyDef{"sbmp_tier_allocs", "", "Allocations served by each SBMP tier (1: after a refill from Tier-1).", counter}
	famFreeBytes    = familyDef{"sbmp_free_bytes", "bytes", "SBMP's total_free (SPEC 1.4): free bytes in the Tier-0 caches and Tier-1 slabs.", gauge}
	famTier1Blocks  = familyDef{"sbmp_tier1_blocks", "", "Blocks SBMP's Tier-1 pools hold.", gauge}
	famTier0Free    = familyDef{"sbmp_tier0_free_slots", "", "Free slots of the smallest class in each CPU's Tier-0 cache (cpuN_tier0_free, SPEC 1.4; the first SBMP process's).", gauge}
	famFallback     = familyDef{"sbmp_fallback_count", "", "sbmp_fallback_count of SPEC 4.1: allocations that left the fast path (a counter, so its samples end in _total).", counter}
	famStall        = familyDef{"sbmp_alloc_stall_seconds", "seconds", "sbmp_alloc_stall_ns of SPEC 4.1 in seconds: time allocations spent in the slow path.", counter}
	famDegradeIn    = familyDef{"sbmp_degrade_entries", "", "Degrade episodes an SBMP allocator began.", counter}
	famDegraded     = familyDef{"sbmp_degraded_processes", "", "SBMP processes whose allocator is degraded.", gauge}
	famGoHeapAlloc  = familyDef{"sbmpsim_go_heap_alloc_bytes", "bytes", "A Go program's runtime.MemStats.HeapAlloc.", gauge}
	famGoNextGC     = familyDef{"sbmpsim_go_next_gc_bytes", "bytes", "A Go program's runtime.MemStats.NextGC.", gauge}
	famGoGCs        = familyDef{"sbmpsim_go_gc_cycles", "", "A Go program's completed GC cycles (runtime.MemStats.NumGC).", counter}
	famGoMapped     = familyDef{"sbmpsim_go_mapped_bytes", "bytes", "Memory a Go program's heap holds from SBMP.", gauge}
	famVMStatPrefix = "sbmpsim_vmstat_"
)

// exactColumns maps the columns with fixed names. The machine-wide
// free_pages, file_pages and anon_pages are left out: they are the sums
// of the nodes' sbmpsim_node_memory_bytes.
var exactColumns = map[string]colMetric{
	"objects_live":          {fam: famObjectsLive, scale: asIs},
	"bytes_live":            {fam: famLiveBytes, scale: asIs},
	"allocs":                {fam: famAllocs, scale: asIs},
	"frees":                 {fam: famFrees, scale: asIs},
	"alloc_failures":        {fam: famFailures, scale: asIs},
	"oom_kills":             {fam: famOOMKills, scale: asIs},
	"swap_used_pages":       {fam: famSwapUsed, scale: pagesToBytes},
	"psi_some_total_us":     {fam: famPSIWaiting, scale: usToSeconds},
	"psi_full_total_us":     {fam: famPSIStalled, scale: usToSeconds},
	"tier0_allocs":          {fam: famTierAllocs, labels: []label{{"tier", "0"}}, scale: asIs},
	"tier1_allocs":          {fam: famTierAllocs, labels: []label{{"tier", "1"}}, scale: asIs},
	"tier2_allocs":          {fam: famTierAllocs, labels: []label{{"tier", "2"}}, scale: asIs},
	"sbmp_total_free_bytes": {fam: famFreeBytes, scale: asIs},
	"tier1_blocks":          {fam: famTier1Blocks, scale: asIs},
	"fallback_count":        {fam: famFallback, scale: asIs},
	"alloc_stall_ns":        {fam: famStall, scale: nsToSeconds},
	"degrade_entries":       {fam: famDegradeIn, scale: asIs},
	"degraded_processes":    {fam: famDegraded, scale: asIs},
	"alloc_latency_count":   {fam: famLatency, scale: asIs, part: "count"},
	"alloc_latency_sum_ns":  {fam: famLatency, scale: nsToSeconds, part: "sum"},
}

// skippedColumns are columns with no metric of their own (see
// exactColumns).
var skippedColumns = []string{"time_ns", "free_pages", "file_pages", "anon_pages"}

// goColumns maps a Go program's columns (NAME.suffix) by suffix.
var goColumns = map[string]familyDef{
	"heap_alloc": famGoHeapAlloc, "next_gc": famGoNextGC, "num_gc": famGoGCs, "mapped_bytes": famGoMapped,
}

// vmstatNames are the /proc/vmstat counters the kernel model keeps.
var vmstatNames = func() map[string]bool {
	m := map[string]bool{}
	for e := range kernel.NrVMEvents {
		m[e.String()] = true
	}
	return m
}()

// classify says where column col goes. ok is false for a column left
// out on purpose; an unknown column is an error, so that a new column
// cannot be exported under a made-up name.
func classify(col string) (m colMetric, ok bool, err error) {
	if slices.Contains(skippedColumns, col) {
		return m, false, nil
	}
	if m, ok := exactColumns[col]; ok {
		return m, true, nil
	}
	if vmstatNames[col] {
		return colMetric{fam: familyDef{famVMStatPrefix + col, "", "/proc/vmstat's " + col + ".", counter}, scale: asIs}, true, nil
	}
	if name, suffix, found := cutLast(col, "."); found {
		if f, ok := goColumns[suffix]; ok {
			return colMetric{fam: f, labels: []label{{"workload", name}}, scale: asIs}, true, nil
		}
	}
	if rest, ok := strings.CutPrefix(col, "alloc_latency_le_"); ok {
		if ns, err := strconv.ParseInt(strings.TrimSuffix(rest, "ns"), 10, 64); err == nil && strings.HasSuffix(rest, "ns") {
			return colMetric{fam: famLatency, scale: asIs, part: "bucket", le: float64(ns) / 1e9}, true, nil
		}
	}
	var n int
	var kind string
	if c, _ := fmt.Sscanf(col, "cpu%d_tier0_free", &n); c == 1 && col == fmt.Sprintf("cpu%d_tier0_free", n) {
		return colMetric{fam: famTier0Free, labels: []label{{"cpu", strconv.Itoa(n)}}, scale: asIs}, true, nil
	}
	if c, _ := fmt.Sscanf(col, "node%d_%s", &n, &kind); c == 2 {
		for _, k := range world.NodeMemoryKinds() {
			if col == world.NodeMemoryColumn(n, k) {
				return colMetric{fam: famNodeMemory, labels: []label{{"node", strconv.Itoa(n)}, {"kind", k}}, scale: pagesToBytes}, true, nil
			}
		}
	}
	return m, false, fmt.Errorf("time series column %q has no metric: name one in experiments/output/metricfamilies.go", col)
}

// cutLast cuts s around the last sep.
func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// seriesCols is one series of a family in a time series: its labels and
// the columns of its values. A gauge's or a counter's series has one
// column; a histogram's has its buckets (by increasing bound), count and
// sum.
type seriesCols struct {
	labels   []label
	col      int
	buckets  []bucketCol
	count    int
	sum      int
	scale    toBase
	sumScale toBase
}

// bucketCol is one histogram bucket's column.
type bucketCol struct {
	le  float64
	col int
}

// familyCols is one family's series in one time series.
type familyCols struct {
	def    familyDef
	series []seriesCols
}

// families groups the columns of ts into metric families, sorted by
// name, each with its series sorted by labels.
func families(ts *world.Timeseries) ([]familyCols, error) {
	byName := map[string]*familyCols{}
	seriesAt := map[string]int{} // family name + labels: index in its family's series
	for i, col := range ts.Columns {
		m, ok, err := classify(col)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		f := byName[m.fam.name]
		if f == nil {
			f = &familyCols{def: m.fam}
			byName[m.fam.name] = f
		}
		key := m.fam.name + labelKey(m.labels)
		j, seen := seriesAt[key]
		if !seen {
			j = len(f.series)
			seriesAt[key] = j
			f.series = append(f.series, seriesCols{labels: m.labels, col: -1, count: -1, sum: -1})
		}
		s := &f.series[j]
		switch m.part {
		case "":
			s.col, s.scale = i, m.scale
		case "bucket":
			s.buckets = append(s.buckets, bucketCol{m.le, i})
		case "count":
			s.count = i
		case "sum":
			s.sum, s.sumScale = i, m.scale
		}
	}
	out := make([]familyCols, 0, len(byName))
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		f := byName[name]
		for i := range f.series {
			s := &f.series[i]
			slices.SortFunc(s.buckets, func(a, b bucketCol) int { return cmp.Compare(a.le, b.le) })
			if f.def.typ == histogram && (s.count < 0 || s.sum < 0 || len(s.buckets) == 0) {
				return nil, fmt.Errorf("time series: histogram %s lacks its count, sum or buckets", name)
			}
		}
		slices.SortFunc(f.series, func(a, b seriesCols) int { return strings.Compare(labelKey(a.labels), labelKey(b.labels)) })
		out = append(out, *f)
	}
	return out, nil
}

// labelKey is a string that tells label sets apart.
func labelKey(ls []label) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.name)
		b.WriteByte(0)
		b.WriteString(l.value)
		b.WriteByte(0)
	}
	return b.String()
}
