package policies

import "github.com/sbmpsim/sbmpsim/sbmp"

// trimParams are the idle-trim parameters every merge policy takes
// (sbmp.IdleTrim; SLAB's cache_reap gives the defaults): trimming is what
// returns idle slots to their slabs, and so what gives merging work; the
// same rule decays Tier-1's merge queue, so idle queued slabs merge under
// every policy.
func trimParams() []Param {
	d := sbmp.DefaultIdleTrim()
	return []Param{
		{Name: "trim_interval_ms", Unit: "ms", Default: float64(d.IntervalNs) / 1e6, Min: 0, Max: 3.6e6,
			Doc: "time between idle trims of the per-CPU caches (each followed by a decay of Tier-1's merge queue by the same rule), 0 for none (SLAB's REAPTIMEOUT_AC, 2 s)"},
		{Name: "trim_fraction", Unit: "fraction", Default: d.Fraction, Min: 0, Max: 1,
			Doc: "with the low-water rule, share of its low-water mark a cache gives back (jemalloc's tcache_gc_small: 0.75); with SLAB's rule, share of its capacity an untouched cache gives back, at most half of what it holds (drain_array_locked: (limit + 4) / 5, so 0.2)"},
		{Name: "trim_low_water", Unit: "rule", Default: 1, Min: 0, Max: 1, Integer: true,
			Doc: "1: every cache gives back a share of the slots it never used since the last trim (jemalloc's rule); 0: only caches untouched since the last trim give slots back (SLAB's cache_reap)"},
	}
}

// withTrim gives merge policy m the idle trim of v.
func withTrim(m sbmp.MergePolicy, v Values) sbmp.MergePolicy {
	return trimmed{MergePolicy: m, trim: sbmp.IdleTrim{IntervalNs: int64(v["trim_interval_ms"] * 1e6), Fraction: v["trim_fraction"], LowWater: v["trim_low_water"] == 1}}
}

// trimmed is a merge policy with its idle trim (sbmp.IdleTrimmer).
type trimmed struct {
	sbmp.MergePolicy
	trim sbmp.IdleTrim
}

func (t trimmed) IdleTrim() sbmp.IdleTrim { return t.trim }

func mergeSpecs() []Spec {
	specs := baseMergeSpecs()
	for i := range specs {
		build := specs[i].build
		specs[i].Params = append(specs[i].Params, trimParams()...)
		specs[i].build = func(v Values) any { return withTrim(build(v).(sbmp.MergePolicy), v) }
	}
	return specs
}

func baseMergeSpecs() []Spec {
	return []Spec{
		{Kind: KindMerge, Name: "eager", Doc: "Merge freed Tier-1 slabs with their buddies at once: smallest footprint, most split/merge churn.",
			build: func(Values) any { return eagerMerge{} }},
		{Kind: KindMerge, Name: "lazy-threshold", Doc: "Merge a node's freed slabs once `policy.merge_threshold` of them are queued.",
			Params: []Param{{Name: "threshold", Unit: "slabs", Default: 32, Min: 1, Max: 1 << 20, Integer: true, Doc: "queued slabs that trigger a merge"}},
			build:  func(v Values) any { return sbmp.LazyThresholdMerge{Threshold: int(v["threshold"])} }},
		{Kind: KindMerge, Name: "delayed", Doc: "Merge a node's freed slabs once the oldest has waited `policy.merge_delay_ms` (checked on frees and on ticks).",
			Params: []Param{{Name: "delay_ms", Unit: "ms", Default: 50, Min: 0, Max: 3.6e6, Doc: "age of the oldest queued slab that triggers a merge"}},
			build:  func(v Values) any { return delayedMerge{delayNs: int64(v["delay_ms"] * 1e6)} }},
		{Kind: KindMerge, Name: "watermark", Doc: "Merge when the node's free memory falls below `policy.merge_free_fraction` of its total, or when `policy.merge_max_pending` slabs are queued.",
			Params: []Param{
				{Name: "free_fraction", Unit: "fraction", Default: 0.1, Min: 0, Max: 1, Doc: "free memory fraction below which queued slabs are merged"},
				{Name: "max_pending", Unit: "slabs", Default: 1024, Min: 1, Max: 1 << 20, Integer: true, Doc: "queue length that forces a merge regardless"},
			},
			build: func(v Values) any {
				return watermarkMerge{freeFraction: v["free_fraction"], maxPending: int(v["max_pending"])}
			}},
	}
}

type eagerMerge struct{}

func (eagerMerge) Name() string                     { return "eager" }
func (eagerMerge) ShouldMerge(sbmp.MergeState) bool { return true }

type delayedMerge struct{ delayNs int64 }

func (delayedMerge) Name() string { return "delayed" }
func (p delayedMerge) ShouldMerge(s sbmp.MergeState) bool {
	return s.NowNs-s.OldestPendingNs >= p.delayNs
}

type watermarkMerge struct {
	freeFraction float64
	maxPending   int
}

func (watermarkMerge) Name() string { return "watermark" }

// ShouldMerge merges under memory pressure; with no pressure signal from
// the Env (FreeFraction < 0) only the queue length triggers.
func (p watermarkMerge) ShouldMerge(s sbmp.MergeState) bool {
	return s.Pending >= p.maxPending || (s.FreeFraction >= 0 && s.FreeFraction < p.freeFraction)
}
