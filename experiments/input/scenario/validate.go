package scenario

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sbmpsim/sbmpsim/policies"
)

// Limits Validate enforces beyond the documented ranges, so that every
// quantity derived from a scenario stays far from int64 overflow and a
// typo cannot ask for a run that never ends.
const (
	// MaxDurationMs bounds run.duration_ms (about 11.6 simulated days).
	MaxDurationMs = 1_000_000_000
	// MaxWorkloads bounds the number of [[workload]] tables.
	MaxWorkloads = 256
	// MaxRatePerS bounds workload.N.rate_per_s.
	MaxRatePerS = 1e9
	// MaxSizeBytes bounds workload.N.size_bytes (1 GiB).
	MaxSizeBytes = 1 << 30
	// MaxLifetimeMeanMs bounds workload.N.lifetime_mean_ms (about 11.6 days).
	MaxLifetimeMeanMs = 1e9
	// MaxSwapMB bounds kernel.swap_mb (1 PiB).
	MaxSwapMB = 1 << 30
	// MaxTier0CapacitySlots bounds sbmp.tier0_capacity_slots.
	MaxTier0CapacitySlots = 1 << 20
	// MaxFSMDriftWindowMs bounds sbmp.fsm_drift_window_ms (one hour).
	MaxFSMDriftWindowMs = 3_600_000
	// MaxFSMDriftMinSlots bounds sbmp.fsm_drift_min_slots.
	MaxFSMDriftMinSlots = 1 << 40
	// MaxFSMSyncTimeoutFactor bounds sbmp.fsm_sync_timeout_factor.
	MaxFSMSyncTimeoutFactor = 1000
	// maxNameBytes bounds run and workload names.
	maxNameBytes = 128
)

// MergePolicies returns the names accepted for policy.merge.
func MergePolicies() []string { return policies.Names(policies.KindMerge) }

// RefillPolicies returns the names accepted for policy.refill.
func RefillPolicies() []string { return policies.Names(policies.KindRefill) }

// DegradePolicies returns the names accepted for policy.degrade.
func DegradePolicies() []string { return policies.Names(policies.KindDegrade) }

// Validate checks every value of the scenario: ranges, names, cpulists and
// the consistency between keys. It reports all problems at once, each as an
// *Error naming the key and, when the value came from the file, its line
// and column; values from Set are reported against SetSource and values
// left at their default without a position. Validate checks the machine
// (preset or inline topology, machine.go) but not that the workloads' CPUs
// exist on it: that is checked when the run is wired.
func (s *Scenario) Validate() error {
	v := &validator{s: s}
	v.run()
	v.machine()
	v.kernel()
	v.sbmp()
	v.policy()
	v.processList()
	v.workloads()
	v.faults()
	v.probes()
	v.intRange("output.sample_interval_ms", s.Output.SampleIntervalMs, 1, MaxDurationMs)
	return v.errs.err()
}

// validator collects the errors of one Validate call.
type validator struct {
	s    *Scenario
	errs errorList
	// cgroups are the valid [[kernel.cgroup]] paths, filled by kernel().
	cgroups map[string]bool
	// processes are the declared [[process]] names, filled by
	// processes().
	processes map[string]bool
}

// failf records a problem with key. The position is the key's own; when the
// value is a default inside a table that came from a --set override, the
// error points at --set.
func (v *validator) failf(key, format string, args ...any) {
	file, o := v.s.originOf(key, false)
	v.errs.add(file, o, key, format, args...)
}

// failNearf is failf for problems between keys (a missing file for a
// heaptrack workload): a key that is absent is located at its enclosing
// table.
func (v *validator) failNearf(key, format string, args ...any) {
	file, o := v.s.originOf(key, true)
	v.errs.add(file, o, key, format, args...)
}

// originOf returns the file and position to report for key. Without
// nearest, only the key's own position is used, or an enclosing key set
// with --set.
func (s *Scenario) originOf(key string, nearest bool) (string, origin) {
	for k := key; k != ""; {
		if o, ok := s.origins[k]; ok {
			if o.set {
				return SetSource, origin{}
			}
			if k == key || nearest {
				return s.Source, o
			}
			// A table header from the file: nothing above it can be a
			// --set (that would have removed this entry).
			break
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return s.Source, origin{}
}

func (v *validator) intRange(key string, got, lo, hi int64) {
	if got < lo || got > hi {
		v.failf(key, "must be in %d..%d, got %d", lo, hi, got)
	}
}

func (v *validator) oneOf(key, got string, allowed []string) {
	if !slices.Contains(allowed, got) {
		v.failf(key, "must be one of %s; got %q", strings.Join(allowed, ", "), got)
	}
}

// name checks a free-form label that ends up in file names, CSV and
// metric labels.
func (v *validator) name(key, got string) {
	switch {
	case got == "":
		v.failf(key, "must not be empty")
	case len(got) > maxNameBytes:
		v.failf(key, "must be at most %d bytes long, got %d", maxNameBytes, len(got))
	case !utf8.ValidString(got) || strings.ContainsFunc(got, unicode.IsControl):
		v.failf(key, "must be valid UTF-8 without control characters, got %q", got)
	}
}

func (v *validator) run() {
	r := v.s.Run
	v.name("run.name", r.Name)
	if r.Seed > math.MaxInt64 {
		v.failf("run.seed", "must be in 0..%d (a TOML integer), got %d", int64(math.MaxInt64), r.Seed)
	}
	v.intRange("run.duration_ms", r.DurationMs, 1, MaxDurationMs)
	v.intRange("run.max_events", r.MaxEvents, 1, math.MaxInt64)
}

func (v *validator) kernel() {
	k := v.s.Kernel
	v.intRange("kernel.swappiness", int64(k.Swappiness), 0, 200)
	if k.OOMKillAllocatingTask != 0 && k.OOMKillAllocatingTask != 1 {
		v.failf("kernel.oom_kill_allocating_task", "must be 0 or 1, got %d", k.OOMKillAllocatingTask)
	}
	v.intRange("kernel.swap_mb", k.SwapMB, 0, MaxSwapMB)
	if k.MinFreeKbytes != 0 && (k.MinFreeKbytes < 128 || k.MinFreeKbytes > math.MaxInt32) {
		v.failf("kernel.min_free_kbytes", "must be 0 (computed by the kernel model) or in 128..%d, got %d", math.MaxInt32, k.MinFreeKbytes)
	}
	v.intRange("kernel.watermark_scale_factor", int64(k.WatermarkScaleFactor), 1, 3000)
	v.oneOf("kernel.thp_enabled", k.THPEnabled, []string{"always", "madvise", "never"})
	v.oneOf("kernel.thp_defrag", k.THPDefrag, []string{"always", "defer", "defer+madvise", "madvise", "never"})
	v.intRange("kernel.compaction_proactiveness", int64(k.CompactionProactiveness), 0, 100)
	v.intRange("kernel.extfrag_threshold", int64(k.ExtfragThreshold), 0, 1000)
	v.intRange("kernel.cgroup_version", int64(k.CgroupVersion), 1, 2)
	v.cgroups = map[string]bool{"/": true}
	for i, c := range k.Cgroups {
		key := "kernel.cgroup." + strconv.Itoa(i) + "."
		parent, ok := cgroupParent(c.Path)
		switch {
		case !ok:
			v.failf(key+"path", "must look like \"/name\" or \"/parent/name\" (no trailing slash, no empty part), got %q", c.Path)
		case v.cgroups[c.Path]:
			v.failf(key+"path", "%q is declared twice", c.Path)
		case !v.cgroups[parent]:
			v.failf(key+"path", "parent %q of %q must be declared earlier", parent, c.Path)
		default:
			v.cgroups[c.Path] = true
		}
		v.intRange(key+"max_mb", c.MaxMB, 0, MaxSwapMB)
		v.intRange(key+"high_mb", c.HighMB, 0, MaxSwapMB)
		if c.HighMB != 0 && k.CgroupVersion == 1 {
			v.failf(key+"high_mb", "cgroup v1 (kernel.cgroup_version = 1) has no memory.high; remove it or use version 2")
		}
		v.intRange(key+"swap_max_mb", c.SwapMaxMB, 0, MaxSwapMB)
	}
}

// cgroupParent returns the parent of a cgroup path like "/a/b" and whether
// the path is well formed.
func cgroupParent(p string) (string, bool) {
	if len(p) < 2 || p[0] != '/' || p[len(p)-1] == '/' || strings.Contains(p, "//") {
		return "", false
	}
	i := strings.LastIndexByte(p, '/')
	if i == 0 {
		return "/", true
	}
	return p[:i], true
}

func (v *validator) sbmp() {
	b := v.s.SBMP
	if len(b.SlotSizes) == 0 {
		v.failf("sbmp.slot_sizes", "must list at least one slot size, such as [64, 256, 1024]")
	}
	for i, size := range b.SlotSizes {
		switch {
		case size < 8 || size > 65536 || size&(size-1) != 0:
			v.failf("sbmp.slot_sizes", "element %d: must be a power of two in 8..65536, got %d", i, size)
		case i > 0 && size <= b.SlotSizes[i-1]:
			v.failf("sbmp.slot_sizes", "element %d: must be larger than the one before (%d), got %d", i, b.SlotSizes[i-1], size)
		}
	}
	// SBMP drains half a full cache back to its slabs: it needs two slots.
	v.intRange("sbmp.tier0_capacity_slots", int64(b.Tier0CapacitySlots), 2, MaxTier0CapacitySlots)
	if b.Tier1BlockKiB != 2048 && b.Tier1BlockKiB != 4096 {
		v.failf("sbmp.tier1_block_kib", "must be 2048 or 4096 (2 MiB or 4 MiB blocks), got %d", b.Tier1BlockKiB)
	}
	v.oneOf("sbmp.placement", b.Placement, []string{PlacementUser, PlacementKernel})
	v.oneOf("sbmp.slab_select", b.SlabSelect, []string{"fullest", "address", "newest"})
	if b.RemoteFreeBatch != -1 {
		v.intRange("sbmp.remote_free_batch", int64(b.RemoteFreeBatch), 1, MaxTier0CapacitySlots)
	}
	if b.FSMDriftWindowMs != -1 {
		v.intRange("sbmp.fsm_drift_window_ms", b.FSMDriftWindowMs, 1, MaxFSMDriftWindowMs)
	}
	if !(b.FSMDriftRemoteShare > 0 && b.FSMDriftRemoteShare < 1) {
		v.failf("sbmp.fsm_drift_remote_share", "must be above 0 and below 1, got %v", b.FSMDriftRemoteShare)
	}
	v.intRange("sbmp.fsm_drift_min_slots", b.FSMDriftMinSlots, 1, MaxFSMDriftMinSlots)
	v.intRange("sbmp.fsm_sync_timeout_factor", b.FSMSyncTimeoutFactor, 1, MaxFSMSyncTimeoutFactor)
	for _, m := range []struct{ key, mask string }{{"sbmp.tier1_gfp", b.Tier1GFP}, {"sbmp.tier2_gfp", b.Tier2GFP}} {
		if _, err := ParseGFP(m.mask); err != nil {
			v.failf(m.key, "%v", err)
		}
	}
}

func (v *validator) workloads() {
	ws := v.s.Workloads
	switch {
	case len(ws) == 0:
		v.failNearf("workload", "at least one [[workload]] is needed")
	case len(ws) > MaxWorkloads:
		v.failNearf("workload", "at most %d workloads are allowed, got %d", MaxWorkloads, len(ws))
		return
	}
	firstByName := make(map[string]int, len(ws))
	for i, w := range ws {
		key := "workload." + strconv.Itoa(i) + "."
		v.name(key+"name", w.Name)
		if j, dup := firstByName[w.Name]; dup {
			v.failf(key+"name", "%q is already the name of workload.%d", w.Name, j)
		} else {
			firstByName[w.Name] = i
		}
		if _, err := ParseCPUList(w.CPUs); err != nil {
			v.failf(key+"cpus", "%v", err)
		}
		v.workload(key, w)
	}
}

// workload checks the kind-specific keys of one workload; key is its
// prefix, "workload.N.".
func (v *validator) workload(key string, w Workload) {
	finite := func(k string, x float64) bool {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			v.failf(key+k, "must be a finite number, got %v", x)
			return false
		}
		return true
	}
	// positive checks a float that must be > 0 and at most hi.
	positive := func(k string, x, hi float64) {
		if finite(k, x) && (x <= 0 || x > hi) {
			v.failf(key+k, "must be > 0 and at most %g, got %v", hi, x)
		}
	}
	// between checks a float in lo..hi.
	between := func(k string, x, lo, hi float64) {
		if finite(k, x) && (x < lo || x > hi) {
			v.failf(key+k, "must be in %g..%g, got %v", lo, hi, x)
		}
	}
	v.intRange(key+"start_ms", w.StartMs, 0, MaxDurationMs)
	v.intRange(key+"stop_ms", w.StopMs, 0, MaxDurationMs)
	if w.StopMs != 0 && w.StopMs <= w.StartMs {
		v.failf(key+"stop_ms", "must be 0 (the end of the run) or after start_ms (%d), got %d", w.StartMs, w.StopMs)
	}
	v.oneOf(key+"loop", w.Loop, []string{LoopClosed, LoopQueued, LoopIgnore})
	positive("slo_latency_ms", w.SLOLatencyMs, MaxDurationMs)
	if UsesSBMP(w.Kind) && w.Process != DefaultProcess && !v.processes[w.Process] {
		v.failf(key+"process", "no process %q; declare it in [[process]] (or leave the default %q)", w.Process, DefaultProcess)
	}
	if w.File != "" && w.Kind != KindHeaptrack {
		v.failf(key+"file", "only heaptrack workloads read a file; remove it or set kind = \"heaptrack\"")
	}
	switch w.Kind {
	case KindSynthetic:
		v.arrival(key, w, positive, between)
		v.size(key, w, positive)
		v.lifetime(key, w, positive, between)
		v.placement(key, w, positive)
	case KindGoRuntime:
		v.userProgram(key, w)
		v.size(key, w, positive)
		positive("alloc_mb_per_s", w.AllocMBPerS, 1<<20)
		positive("live_mb", w.LiveMB, 1<<20)
		if w.GOGC != -1 {
			v.intRange(key+"gogc", w.GOGC, 1, 1_000_000)
		}
		v.intRange(key+"gomemlimit_mb", w.GOMEMLIMITMB, 0, 1<<30)
		v.intRange(key+"gomaxprocs", int64(w.GOMAXPROCS), 0, 4096)
		between("leak_mb_per_s", w.LeakMBPerS, 0, 1<<20)
		v.intRange(key+"leak_from_ms", w.LeakFromMs, 0, MaxDurationMs)
		if w.GOGC == -1 && w.GOMEMLIMITMB == 0 {
			v.failf(key+"gogc", "gogc = -1 (off) needs a gomemlimit_mb, or the heap grows without bound")
		}
	case KindHeaptrack:
		v.userProgram(key, w)
		if w.File == "" {
			v.failNearf(key+"file", "a heaptrack workload needs the trace file to replay")
		}
		positive("time_scale", w.TimeScale, 1e9)
	case KindTask, KindMlock, KindPageCache:
		positive("grow_mb_per_s", w.GrowMBPerS, 1<<20)
		v.intRange(key+"rss_mb", w.RSSMB, 0, 1<<30)
		v.intRange(key+"page_cache_mb", w.PageCacheMB, 0, 1<<30)
		v.intRange(key+"oom_score_adj", w.OOMScoreAdj, -1000, 1000)
		v.intRange(key+"count", int64(w.Count), 1, 1024)
		if w.Cgroup != "/" && !v.cgroups[w.Cgroup] {
			v.failf(key+"cgroup", "no cgroup %q; declare it in [[kernel.cgroup]]", w.Cgroup)
		}
		if w.Kind == KindPageCache && w.PageCacheMB == 0 {
			v.failNearf(key+"page_cache_mb", "a page-cache workload needs the size of the file set it reads (page_cache_mb > 0)")
		}
		v.intRange(key+"touch_interval_ms", w.TouchIntervalMs, 0, MaxDurationMs)
		v.intRange(key+"hot_mb", w.HotMB, 0, w.PageCacheMB)
		between("hot_fraction", w.HotFraction, 0, 1)
	case KindKmallocLeak:
		positive("grow_mb_per_s", w.GrowMBPerS, 1<<20)
		v.intRange(key+"rss_mb", w.RSSMB, 0, 1<<30)
		v.intRange(key+"size_bytes", w.SizeBytes, 8, 1<<22)
	default:
		v.failf(key+"kind", "must be one of %s; got %q", strings.Join(WorkloadKinds(), ", "), w.Kind)
	}
}

// userProgram refuses a user program's workload (a Go program, a traced
// process) when SBMP runs in the kernel.
func (v *validator) userProgram(key string, w Workload) {
	if v.s.SBMP.Placement == PlacementKernel {
		v.failf(key+"kind", "a %s workload is a user-space program; it needs sbmp.placement = %q, not %q", w.Kind, PlacementUser, PlacementKernel)
	}
}

// WorkloadKinds lists the accepted workload.N.kind values.
func WorkloadKinds() []string {
	return []string{KindSynthetic, KindGoRuntime, KindHeaptrack, KindTask, KindMlock, KindPageCache, KindKmallocLeak}
}

func (v *validator) arrival(key string, w Workload, positive func(string, float64, float64), between func(string, float64, float64, float64)) {
	v.oneOf(key+"arrival", w.Arrival, []string{ArrivalPoisson, ArrivalMMPP, ArrivalDiurnal, ArrivalPhases})
	positive("load_factor", w.LoadFactor, 1e6)
	switch w.Arrival {
	case ArrivalPoisson:
		positive("rate_per_s", w.RatePerS, MaxRatePerS)
	case ArrivalMMPP:
		between("rate_low_per_s", w.RateLowPerS, 0, MaxRatePerS)
		positive("rate_high_per_s", w.RateHighPerS, MaxRatePerS)
		if w.RateHighPerS < w.RateLowPerS {
			v.failf(key+"rate_high_per_s", "must be at least rate_low_per_s (%v), got %v: the high state is the burst", w.RateLowPerS, w.RateHighPerS)
		}
		positive("low_mean_ms", w.LowMeanMs, MaxDurationMs)
		positive("high_mean_ms", w.HighMeanMs, MaxDurationMs)
	case ArrivalDiurnal:
		positive("rate_per_s", w.RatePerS, MaxRatePerS)
		between("diurnal_amplitude", w.DiurnalAmplitude, 0, 1)
		positive("diurnal_period_ms", w.DiurnalPeriodMs, MaxDurationMs)
		between("diurnal_phase", w.DiurnalPhase, -2*math.Pi, 2*math.Pi)
	case ArrivalPhases:
		switch {
		case len(w.PhaseStartMs) == 0:
			v.failNearf(key+"phase_start_ms", "phases arrivals need phase_start_ms and phase_rate_per_s")
		case len(w.PhaseStartMs) != len(w.PhaseRatePerS):
			v.failNearf(key+"phase_rate_per_s", "must have one rate per phase start (%d), got %d", len(w.PhaseStartMs), len(w.PhaseRatePerS))
		}
		for i, at := range w.PhaseStartMs {
			switch {
			case i == 0 && at != 0:
				v.failf(key+"phase_start_ms", "the first phase must start at 0, got %v", at)
			case i > 0 && !(at > w.PhaseStartMs[i-1]):
				v.failf(key+"phase_start_ms", "element %d: must be after the one before (%v), got %v", i, w.PhaseStartMs[i-1], at)
			case at > MaxDurationMs:
				v.failf(key+"phase_start_ms", "element %d: must be at most %d, got %v", i, MaxDurationMs, at)
			}
		}
		anyRate := false
		for i, r := range w.PhaseRatePerS {
			if math.IsNaN(r) || r < 0 || r > MaxRatePerS {
				v.failf(key+"phase_rate_per_s", "element %d: must be in 0..%g, got %v", i, float64(MaxRatePerS), r)
			}
			anyRate = anyRate || r > 0
		}
		if len(w.PhaseRatePerS) > 0 && !anyRate {
			v.failf(key+"phase_rate_per_s", "every phase has rate 0: the workload would never allocate")
		}
	}
}

func (v *validator) size(key string, w Workload, positive func(string, float64, float64)) {
	v.oneOf(key+"size", w.Size, []string{SizeFixed, SizeDiscrete, SizeLognormal, SizeHistogram})
	switch w.Size {
	case SizeFixed:
		v.intRange(key+"size_bytes", w.SizeBytes, 1, MaxSizeBytes)
	case SizeDiscrete:
		if len(w.SizesBytes) == 0 || len(w.SizesBytes) != len(w.SizeWeights) {
			v.failNearf(key+"size_weights", "discrete sizes need sizes_bytes and size_weights of the same, non-zero length (got %d and %d)", len(w.SizesBytes), len(w.SizeWeights))
		}
		for i, b := range w.SizesBytes {
			if b < 1 || b > MaxSizeBytes {
				v.failf(key+"sizes_bytes", "element %d: must be in 1..%d, got %d", i, MaxSizeBytes, b)
			}
		}
		sum := 0.0
		for i, x := range w.SizeWeights {
			if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
				v.failf(key+"size_weights", "element %d: must be a finite number >= 0, got %v", i, x)
				continue
			}
			sum += x
		}
		if len(w.SizeWeights) > 0 && sum <= 0 {
			v.failf(key+"size_weights", "must not all be zero")
		}
	case SizeLognormal:
		positive("size_median_bytes", w.SizeMedianBytes, MaxSizeBytes)
		positive("size_sigma", w.SizeSigma, 10)
		v.intRange(key+"size_min_bytes", w.SizeMinBytes, 0, MaxSizeBytes)
		v.intRange(key+"size_max_bytes", w.SizeMaxBytes, 0, MaxSizeBytes)
		if w.SizeMaxBytes != 0 && w.SizeMaxBytes < w.SizeMinBytes {
			v.failf(key+"size_max_bytes", "must be 0 (no clamp) or at least size_min_bytes (%d), got %d", w.SizeMinBytes, w.SizeMaxBytes)
		}
	case SizeHistogram:
		if w.SizeFile == "" {
			v.failNearf(key+"size_file", "a histogram size distribution needs size_file")
		}
	}
}

func (v *validator) lifetime(key string, w Workload, positive func(string, float64, float64), between func(string, float64, float64, float64)) {
	v.oneOf(key+"lifetime", w.Lifetime, []string{LifetimeExponential, LifetimeLognormal, LifetimePareto, LifetimeForever})
	switch w.Lifetime {
	case LifetimeExponential:
		positive("lifetime_mean_ms", w.LifetimeMeanMs, MaxLifetimeMeanMs)
	case LifetimeLognormal:
		positive("lifetime_median_ms", w.LifetimeMedianMs, MaxLifetimeMeanMs)
		positive("lifetime_sigma", w.LifetimeSigma, 10)
	case LifetimePareto:
		positive("lifetime_alpha", w.LifetimeAlpha, 100)
		positive("lifetime_min_ms", w.LifetimeMinMs, MaxLifetimeMeanMs)
	}
	between("leak_fraction", w.LeakFraction, 0, 1)
}

func (v *validator) placement(key string, w Workload, positive func(string, float64, float64)) {
	v.intRange(key+"threads", int64(w.Threads), 0, 1<<16)
	if w.MigratePerS != 0 {
		positive("migrate_per_s", w.MigratePerS, 1e7)
	}
	if w.MigrateCPUs != "" {
		if _, err := ParseCPUList(w.MigrateCPUs); err != nil {
			v.failf(key+"migrate_cpus", "%v", err)
		}
	}
}

// processes checks [[process]]: names unique, not the implicit default's,
// cgroups declared.
func (v *validator) processList() {
	v.processes = map[string]bool{}
	for i, p := range v.s.Processes {
		key := "process." + strconv.Itoa(i) + "."
		v.name(key+"name", p.Name)
		switch {
		case v.processes[p.Name]:
			v.failf(key+"name", "%q is declared twice", p.Name)
		case len(p.Name) > 15:
			v.failf(key+"name", "must be at most 15 bytes, as a Linux comm is; got %q", p.Name)
		}
		v.processes[p.Name] = true
		if p.Cgroup != "/" && !v.cgroups[p.Cgroup] {
			v.failf(key+"cgroup", "no cgroup %q; declare it in [[kernel.cgroup]]", p.Cgroup)
		}
		v.intRange(key+"oom_score_adj", p.OOMScoreAdj, -1000, 1000)
	}
}

// faults checks [[fault]].
// probes checks the [[probe]] tables: a known kind, a sample rate in
// 0..1, a unique name, and a workload (when named) that runs on SBMP.
func (v *validator) probes() {
	kinds := map[string]string{}
	for _, w := range v.s.Workloads {
		kinds[w.Name] = w.Kind
	}
	seen := map[string]bool{}
	for i, p := range v.s.Probes {
		key := "probe." + strconv.Itoa(i) + "."
		v.oneOf(key+"kind", p.Kind, []string{ProbeAlloc, ProbeSpan})
		if math.IsNaN(p.SampleRate) || p.SampleRate < 0 || p.SampleRate > 1 {
			v.failf(key+"sample_rate", "must be in 0..1 (0: the kind's default), got %v", p.SampleRate)
		}
		if p.Name == "" || seen[p.Name] {
			v.failf(key+"name", "must be a unique, non-empty name, got %q", p.Name)
		}
		seen[p.Name] = true
		if p.Workload != "" {
			kind, ok := kinds[p.Workload]
			switch {
			case !ok:
				v.failf(key+"workload", "no workload %q", p.Workload)
			case !UsesSBMP(kind):
				v.failf(key+"workload", "workload %q is a %s workload, outside SBMP: a probe watches SBMP's allocation path", p.Workload, kind)
			}
		}
	}
}

func (v *validator) faults() {
	names := map[string]string{}
	for _, w := range v.s.Workloads {
		names[w.Name] = w.Kind
	}
	for i, f := range v.s.Faults {
		key := "fault." + strconv.Itoa(i) + "."
		v.intRange(key+"at_ms", f.AtMs, 0, MaxDurationMs)
		v.intRange(key+"duration_ms", f.DurationMs, 0, MaxDurationMs)
		switch f.Kind {
		case FaultNUMALatency:
			for _, k := range []struct {
				name string
				x    float64
			}{{"latency_factor", f.LatencyFactor}, {"bandwidth_factor", f.BandwidthFactor}} {
				if math.IsNaN(k.x) || k.x < 1 || k.x > 1e6 {
					v.failf(key+k.name, "must be in 1..1e6, got %v", k.x)
				}
			}
			if f.Nodes != "" {
				if _, err := ParseCPUList(f.Nodes); err != nil {
					v.failf(key+"nodes", "%v", err)
				}
			}
		case FaultNodeOffline:
			v.intRange(key+"node", int64(f.Node), 0, 1<<16)
		case FaultLeak:
			kind, ok := names[f.Workload]
			switch {
			case f.Workload == "":
				v.failNearf(key+"workload", "a leak fault names the workload that leaks")
			case !ok:
				v.failf(key+"workload", "no workload named %q", f.Workload)
			case !UsesSBMP(kind) || kind == KindHeaptrack:
				v.failf(key+"workload", "workload %q is %s; a leak goes into a synthetic or go-runtime workload", f.Workload, kind)
			}
			if math.IsNaN(f.RateMBPerS) || f.RateMBPerS <= 0 || f.RateMBPerS > 1<<20 {
				v.failf(key+"rate_mb_per_s", "must be > 0 and at most %d, got %v", 1<<20, f.RateMBPerS)
			}
		case FaultPolicySwap:
			if f.DurationMs != 0 {
				v.failf(key+"duration_ms", "a policy swap happens at at_ms and stays; duration_ms must be 0, got %d", f.DurationMs)
			}
			for _, kind := range policies.Kinds() {
				if name := f.Policy(kind); name != "" {
					if _, err := policies.Lookup(kind, name); err != nil {
						v.failf(key+string(kind), "must be one of %s; got %q", strings.Join(policies.Names(kind), ", "), name)
					}
				}
			}
			if f.Merge == "" && f.Refill == "" && f.Degrade == "" {
				v.failNearf(key+"merge", "a policy swap names at least one of merge, refill, degrade")
			}
			if f.Process != "" && f.Process != DefaultProcess && !v.processes[f.Process] {
				v.failf(key+"process", "no process %q", f.Process)
			}
		default:
			v.failf(key+"kind", "must be one of %s, %s, %s, %s; got %q", FaultNUMALatency, FaultNodeOffline, FaultLeak, FaultPolicySwap, f.Kind)
		}
	}
}
