package scenario

import (
	"github.com/sbmpsim/sbmpsim/policies"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
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
	v.workloads()
	v.intRange("output.sample_interval_ms", s.Output.SampleIntervalMs, 1, MaxDurationMs)
	return v.errs.err()
}

// validator collects the errors of one Validate call.
type validator struct {
	s    *Scenario
	errs errorList
	// cgroups are the valid [[kernel.cgroup]] paths, filled by kernel().
	cgroups map[string]bool
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
	v.intRange("sbmp.tier0_capacity_slots", int64(b.Tier0CapacitySlots), 1, MaxTier0CapacitySlots)
	if b.Tier1BlockKiB != 2048 && b.Tier1BlockKiB != 4096 {
		v.failf("sbmp.tier1_block_kib", "must be 2048 or 4096 (2 MiB or 4 MiB blocks), got %d", b.Tier1BlockKiB)
	}
}

func (v *validator) policy() {
	p := v.s.Policy
	v.oneOf("policy.merge", p.Merge, MergePolicies())
	v.oneOf("policy.refill", p.Refill, RefillPolicies())
	v.oneOf("policy.degrade", p.Degrade, DegradePolicies())
	for _, k := range []struct {
		kind policies.Kind
		name string
	}{{policies.KindMerge, p.Merge}, {policies.KindRefill, p.Refill}, {policies.KindDegrade, p.Degrade}} {
		spec, err := policies.Lookup(k.kind, k.name)
		if err != nil {
			continue // reported above
		}
		params := p.Params(string(k.kind))
		for _, name := range slices.Sorted(maps.Keys(params)) {
			key := "policy." + string(k.kind) + "_" + name
			if _, err := spec.Resolve(map[string]float64{name: params[name]}); err != nil {
				v.failf(key, "%v", err)
			}
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
	rateOK := finite("rate_per_s", w.RatePerS)
	meanOK := finite("lifetime_mean_ms", w.LifetimeMeanMs)
	switch w.Kind {
	case KindSynthetic:
		if w.File != "" {
			v.failf(key+"file", "only heaptrack workloads read a file; remove it or set kind = \"heaptrack\"")
		}
	case KindTask:
		if finite("grow_mb_per_s", w.GrowMBPerS) && (w.GrowMBPerS <= 0 || w.GrowMBPerS > 1<<20) {
			v.failf(key+"grow_mb_per_s", "must be > 0 and at most %d, got %v", 1<<20, w.GrowMBPerS)
		}
		v.intRange(key+"rss_mb", w.RSSMB, 0, 1<<30)
		v.intRange(key+"page_cache_mb", w.PageCacheMB, 0, 1<<30)
		v.intRange(key+"oom_score_adj", w.OOMScoreAdj, -1000, 1000)
		if w.Cgroup != "/" && !v.cgroups[w.Cgroup] {
			v.failf(key+"cgroup", "no cgroup %q; declare it in [[kernel.cgroup]]", w.Cgroup)
		}
		return
	case KindHeaptrack:
		if w.File == "" {
			v.failNearf(key+"file", "a heaptrack workload needs the trace file to replay")
		}
		v.failf(key+"kind", "heaptrack workloads are not supported yet; use kind = \"synthetic\"")
		return
	default:
		v.failf(key+"kind", "must be one of %s, %s, %s; got %q", KindSynthetic, KindTask, KindHeaptrack, w.Kind)
		return
	}
	v.oneOf(key+"arrival", w.Arrival, []string{ArrivalPoisson})
	if rateOK && (w.RatePerS <= 0 || w.RatePerS > MaxRatePerS) {
		v.failf(key+"rate_per_s", "must be > 0 and at most %g, got %v", float64(MaxRatePerS), w.RatePerS)
	}
	v.intRange(key+"size_bytes", w.SizeBytes, 1, MaxSizeBytes)
	v.oneOf(key+"lifetime", w.Lifetime, []string{LifetimeExponential, LifetimeForever})
	if meanOK && w.Lifetime == LifetimeExponential && (w.LifetimeMeanMs <= 0 || w.LifetimeMeanMs > MaxLifetimeMeanMs) {
		v.failf(key+"lifetime_mean_ms", "must be > 0 and at most %g for an exponential lifetime, got %v", float64(MaxLifetimeMeanMs), w.LifetimeMeanMs)
	}
	if meanOK && w.LifetimeMeanMs < 0 {
		v.failf(key+"lifetime_mean_ms", "must not be negative, got %v", w.LifetimeMeanMs)
	}
}
