package sbmp

// The alert thresholds of SPEC 1.5, evaluated as signals over a sampling
// window (SPEC 3.1 samples every 500 ms).

// AlertLevel grades a signal.
type AlertLevel uint8

// Alert levels.
const (
	AlertSafe    AlertLevel = iota // inside the seed's safe range
	AlertWarning                   // between safe and danger
	AlertDanger                    // past the seed's danger threshold
)

func (l AlertLevel) String() string { return [...]string{"safe", "warning", "danger"}[l] }

// Alert is one signal's value and level.
type Alert struct {
	Metric string
	Value  float64
	Level  AlertLevel
}

// The SPEC 1.5 thresholds.
const (
	// Tier0FreeAvgSafe: more free Tier-0 slots than this per CPU is safe.
	Tier0FreeAvgSafe = 32
	// Tier0FreeAvgDanger: fewer than this is danger (the seed leaves it
	// blank; SPEC 1.5's reading picks 8).
	Tier0FreeAvgDanger = 8
	// MergeDelayDangerNs: a mean Tier-1 merge delay above 200 ms signals
	// abnormal NUMA latency.
	MergeDelayDangerNs = 200e6
	// FallbackRateDangerPerS: more than 5 Tier-2 fallbacks a second means
	// Tier-0 and Tier-1 have failed; 0 a second is safe.
	FallbackRateDangerPerS = 5
)

// Alerts evaluates the three signals of SPEC 1.5 over the window from
// prev to cur (elapsedNs apart): tier0_free_avg (the mean free slots of
// the smallest class, now, over the CPUs that have asked for that class
// with an empty cache, which every CPU allocating it does first:
// a CPU that never allocates it has an empty cache that says nothing
// about pressure, and averaging it in would hold the signal low on any
// machine where the load runs on some CPUs only; with no such CPU the
// signal is safe at 0), tier1_merge_delay (the mean merge delay of the
// slabs merged in the window: from when the slab's last slot left SBMP's
// caches to its merge, so a slot freed on another node counts its wait
// in the alien cache on its way home, the NUMA part SPEC 1.5 reads the
// alert by) and fallback_to_tier2 (Tier-2 fallbacks per second in the
// window).
func (a *Allocator) Alerts(prev, cur Stats, elapsedNs int64) [3]Alert {
	var free, users int
	for cpu := range a.cpus {
		if a.cpus[cpu].used&1 != 0 {
			free += a.Tier0Free(cpu, 0)
			users++
		}
	}
	t0 := Alert{Metric: "tier0_free_avg", Level: AlertSafe}
	if users > 0 {
		t0.Value = float64(free) / float64(users)
		switch {
		case t0.Value > Tier0FreeAvgSafe:
		case t0.Value < Tier0FreeAvgDanger:
			t0.Level = AlertDanger
		default:
			t0.Level = AlertWarning
		}
	}
	md := Alert{Metric: "tier1_merge_delay_ms"}
	if n := cur.MergeDelayCount - prev.MergeDelayCount; n > 0 {
		md.Value = float64(cur.MergeDelaySumNs-prev.MergeDelaySumNs) / float64(n) / 1e6
		if md.Value*1e6 > MergeDelayDangerNs {
			md.Level = AlertDanger
		}
	}
	fb := Alert{Metric: "fallback_to_tier2_per_s"}
	if elapsedNs > 0 {
		fb.Value = float64(cur.Tier2Fallbacks-prev.Tier2Fallbacks) / (float64(elapsedNs) / 1e9)
	}
	switch {
	case fb.Value > FallbackRateDangerPerS:
		fb.Level = AlertDanger
	case fb.Value > 0:
		fb.Level = AlertWarning
	}
	return [3]Alert{t0, md, fb}
}
