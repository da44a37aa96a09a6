package kernel

// This file writes the limits: memory.max and memory.high, with the stock
// draining, reclaim and OOM kills those writes trigger (memory_max_write,
// memory_high_write), and memory.swap.max and memory.swap.high.

// LimitResult is what a write to memory.max or memory.high did.
type LimitResult struct {
	ReclaimRounds  int
	ReclaimedPages int64
	// InvokeOOM (memory.max only): reclaim could not bring usage under
	// the new limit and the OOM killer must run on this cgroup (the oom
	// event is counted). After a kill, once the victim's memory is
	// freed, write the same limit again to continue; the kernel keeps
	// killing until usage fits or nothing is left to kill.
	InvokeOOM bool
}

func (c *Cgroups) lookupLimit(op, path string, pages int64) (int32, int64, error) {
	i, err := c.lookup(op, path)
	if err != nil {
		return -1, 0, err
	}
	if i == rootCgroup {
		return -1, 0, cgErr(op, path, ErrRootLimit, "")
	}
	limit, err := normLimit(pages)
	if err != nil {
		return -1, 0, cgErr(op, path, err, "limit %d is negative", pages)
	}
	return i, limit, nil
}

// SetMax writes memory.max (0 = "max") as memory_max_write does: the new
// limit takes effect at once, even below usage; then, while usage is
// above it, drain the stocks once, reclaim usage - max with up to
// MAX_RECLAIM_RETRIES (16) rounds that free nothing, then invoke the OOM
// killer (InvokeOOM). Charges already above the limit stay.
func (c *Cgroups) SetMax(path string, pages int64, reclaim MemcgReclaimer) (LimitResult, error) {
	i, limit, err := c.lookupLimit("set memory.max", path, pages)
	var res LimitResult
	if err != nil {
		return res, err
	}
	c.cgs[i].memory.max = limit
	drained, reclaims := false, maxReclaimRetries
	for round := 0; round < memcgMaxRounds; round++ {
		usage := c.cgs[i].memory.usage
		switch {
		case usage <= limit:
			return res, nil
		case !drained:
			c.drainAllStock(i)
			drained = true
			continue
		case reclaims == 0:
			c.event(i, MemcgOOM)
			res.InvokeOOM = true
			return res, nil
		}
		got, err := c.reclaim(reclaim, i, usage-limit, ReclaimForLimitWrite)
		if err != nil {
			return res, err
		}
		res.ReclaimRounds++
		res.ReclaimedPages += got
		if got == 0 {
			reclaims--
		}
	}
	return res, cgErr("set memory.max", path, ErrMemcgRounds, "%d rounds", memcgMaxRounds)
}

// SetHigh writes memory.high (0 = "max") as memory_high_write does: the
// new limit takes effect at once; then, while usage is above it, drain
// the stocks once and reclaim usage - high, giving up after the 17th
// round that frees nothing (its "!nr_retries--" test). Going over
// memory.high never invokes the OOM killer.
func (c *Cgroups) SetHigh(path string, pages int64, reclaim MemcgReclaimer) (LimitResult, error) {
	i, limit, err := c.lookupLimit("set memory.high", path, pages)
	var res LimitResult
	if err != nil {
		return res, err
	}
	c.cgs[i].memory.high = limit
	drained, retries := false, maxReclaimRetries
	for round := 0; round < memcgMaxRounds; round++ {
		usage := c.cgs[i].memory.usage
		if usage <= limit {
			return res, nil
		}
		if !drained {
			c.drainAllStock(i)
			drained = true
			continue
		}
		got, err := c.reclaim(reclaim, i, usage-limit, ReclaimForLimitWrite)
		if err != nil {
			return res, err
		}
		res.ReclaimRounds++
		res.ReclaimedPages += got
		if got == 0 {
			if retries == 0 {
				return res, nil
			}
			retries--
		}
	}
	return res, cgErr("set memory.high", path, ErrMemcgRounds, "%d rounds", memcgMaxRounds)
}

// SetSwapMax writes memory.swap.max (0 = "max"). As in swap_max_write,
// nothing is reclaimed: swap above a lowered limit stays until it is
// swapped in or freed.
func (c *Cgroups) SetSwapMax(path string, pages int64) error {
	i, limit, err := c.lookupLimit("set memory.swap.max", path, pages)
	if err == nil {
		c.cgs[i].swap.max = limit
	}
	return err
}

// SetSwapHigh writes memory.swap.high (0 = "max"); it throttles through
// HandleOverHigh's swap overage.
func (c *Cgroups) SetSwapHigh(path string, pages int64) error {
	i, limit, err := c.lookupLimit("set memory.swap.high", path, pages)
	if err == nil {
		c.cgs[i].swap.high = limit
	}
	return err
}
