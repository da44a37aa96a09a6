package policies

import "github.com/sbmpsim/sbmpsim/sbmp"

func mergeSpecs() []Spec {
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
