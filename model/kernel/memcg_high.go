package kernel

// This file throttles tasks of cgroups above memory.high as
// mem_cgroup_handle_over_high does (mm/memcontrol.c, Linux 6.12).

// Constants of memory.high throttling (mm/memcontrol.c, Linux 6.12).
const (
	// MemcgHZ is the model's tick rate for jiffies: 1000 (CONFIG_HZ_1000;
	// Debian ships 250). calculate_high_delay multiplies by HZ, so the
	// throttling delay in seconds does not depend on it except through
	// rounding to whole jiffies; the "not worth sleeping" threshold is
	// HZ/100, 10 ms at any HZ.
	MemcgHZ = 1000
	// MemcgJiffyNs is one jiffy at MemcgHZ, in nanoseconds.
	MemcgJiffyNs = 1_000_000_000 / MemcgHZ
	// MemcgMaxHighDelayJiffies is MEMCG_MAX_HIGH_DELAY_JIFFIES (2*HZ),
	// the longest memory.high sleep per return to user mode.
	MemcgMaxHighDelayJiffies = 2 * MemcgHZ
	// MemcgDelayPrecisionShift is MEMCG_DELAY_PRECISION_SHIFT: the
	// fixed-point bits of the overage ratio.
	MemcgDelayPrecisionShift = 20
	// MemcgDelayScalingShift is MEMCG_DELAY_SCALING_SHIFT: scales the
	// squared overage down to jiffies.
	MemcgDelayScalingShift = 14
)

// CalculateOverage is calculate_overage: how far usage is above high, as a
// fraction of high in MemcgDelayPrecisionShift fixed point; 0 at or below
// high, and high taken as at least 1 page.
func CalculateOverage(usagePages, highPages int64) uint64 {
	if usagePages <= highPages {
		return 0
	}
	high := uint64(max(highPages, 1))
	return ((uint64(usagePages) - high) << MemcgDelayPrecisionShift) / high
}

// CalculateHighDelay is calculate_high_delay: the penalty in jiffies for
// a task that charged nrPages while the worst overage in its hierarchy
// is maxOverage,
//
//	penalty = maxOverage^2 * HZ >> (MEMCG_DELAY_PRECISION_SHIFT + MEMCG_DELAY_SCALING_SHIFT)
//	penalty = penalty * nrPages / MEMCG_CHARGE_BATCH
//
// in unsigned 64-bit arithmetic as in the kernel, so it wraps as the
// kernel's does for overages above about 129 times memory.high. The cap
// (MemcgMaxHighDelayJiffies) is the caller's, applied to the sum of the
// memory and swap penalties.
func CalculateHighDelay(nrPages int64, maxOverage uint64) uint64 {
	if maxOverage == 0 {
		return 0
	}
	p := maxOverage * maxOverage * MemcgHZ
	p >>= MemcgDelayPrecisionShift
	p >>= MemcgDelayScalingShift
	return p * uint64(nrPages) / MemcgChargeBatch
}

// memMaxOverage is mem_find_max_overage: the largest memory overage of i
// and its ancestors below the root.
func (c *Cgroups) memMaxOverage(i int32) uint64 {
	var o uint64
	for ; i > rootCgroup; i = c.cgs[i].parent {
		o = max(o, CalculateOverage(c.cgs[i].memory.usage, c.cgs[i].memory.high))
	}
	return o
}

// swapMaxOverage is swap_find_max_overage, which also counts swap_high on
// every cgroup over its memory.swap.high.
func (c *Cgroups) swapMaxOverage(i int32) uint64 {
	var o uint64
	for ; i > rootCgroup; i = c.cgs[i].parent {
		ov := CalculateOverage(c.cgs[i].swap.usage, c.cgs[i].swap.high)
		if ov > 0 {
			c.event(i, MemcgSwapHigh)
		}
		o = max(o, ov)
	}
	return o
}

// HighOptions is the task state mem_cgroup_handle_over_high looks at.
type HighOptions struct {
	// Dying is task_is_dying: skip reclaim and throttling.
	Dying bool
}

// HighResult is what mem_cgroup_handle_over_high did.
type HighResult struct {
	// ReclaimRounds counts try_to_free_mem_cgroup_pages calls (one per
	// over-high cgroup per reclaim_high), ReclaimedPages what they freed.
	ReclaimRounds  int
	ReclaimedPages int64
	// PenaltyJiffies is the last penalty computed, capped at 2 s.
	PenaltyJiffies int64
	// StallNs is the sleep the task must take (schedule_timeout_killable),
	// PenaltyJiffies at MemcgHZ, or 0 when the penalty was 10 ms or less
	// or reclaim kept making progress until it was.
	StallNs int64
}

// HandleOverHigh throttles a task of the cgroup at path that charged
// nrPages (its memcg_nr_pages_over_high) while the hierarchy was over
// memory.high, as mem_cgroup_handle_over_high does:
//
//  1. reclaim_high: each cgroup from path up to, not including, the root
//     that is above memory.high counts a high event and is reclaimed by
//     nrPages (SWAP_CLUSTER_MAX on retries);
//  2. penalty = calculate_high_delay(memory overage) +
//     calculate_high_delay(swap overage), capped at 2 s;
//  3. a penalty of HZ/100 (10 ms) or less ends it with no sleep;
//  4. reclaim progress, or any of MAX_RECLAIM_RETRIES (16) retries left,
//     goes back to 1;
//  5. otherwise the task sleeps the penalty: StallNs.
//
// The caller charges its reclaim work and StallNs to the task as stall
// time.
func (c *Cgroups) HandleOverHigh(path string, nrPages int64, opts HighOptions, reclaim MemcgReclaimer) (HighResult, error) {
	i, err := c.lookup("handle over high", path)
	var res HighResult
	if err != nil || nrPages <= 0 {
		return res, err
	}
	retries := maxReclaimRetries
	want := nrPages
	for round := 0; round < memcgMaxRounds; round++ {
		if opts.Dying {
			return res, nil
		}
		got, err := c.reclaimHigh(i, want, reclaim, &res)
		if err != nil {
			return res, err
		}
		penalty := CalculateHighDelay(nrPages, c.memMaxOverage(i)) +
			CalculateHighDelay(nrPages, c.swapMaxOverage(i))
		res.PenaltyJiffies = int64(min(penalty, MemcgMaxHighDelayJiffies))
		if res.PenaltyJiffies <= MemcgHZ/100 {
			return res, nil
		}
		want = swapClusterMax
		if got > 0 {
			continue
		}
		if retries > 0 {
			retries--
			continue
		}
		res.StallNs = res.PenaltyJiffies * MemcgJiffyNs
		return res, nil
	}
	return res, cgErr("handle over high", path, ErrMemcgRounds, "%d rounds", memcgMaxRounds)
}

// reclaimHigh is reclaim_high.
func (c *Cgroups) reclaimHigh(i int32, pages int64, reclaim MemcgReclaimer, res *HighResult) (int64, error) {
	total := int64(0)
	for ; i > rootCgroup; i = c.cgs[i].parent {
		if c.cgs[i].memory.usage <= c.cgs[i].memory.high {
			continue
		}
		c.event(i, MemcgHigh)
		got, err := c.reclaim(reclaim, i, pages, ReclaimForHigh)
		if err != nil {
			return total, err
		}
		res.ReclaimRounds++
		res.ReclaimedPages += got
		total += got
	}
	return total, nil
}
