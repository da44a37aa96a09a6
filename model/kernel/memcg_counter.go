package kernel

// This file holds the hierarchical page counters of mm/page_counter.c: a
// charge to a cgroup is a charge to each of its ancestors.

// counterTryCharge is page_counter_try_charge on the memory or swap
// counters from i up to the root: all or nothing, returning the first
// (innermost) cgroup whose limit would be exceeded, or -1. With cgroup
// v1's memsw accounting (Memsw) a memory charge is first tried on the
// memsw counter (try_charge_memcg charges memsw, then memory), which the
// model keeps as memory plus swap against memory.max plus swap.max;
// memswFailed says which of the two a failure was.
func (c *Cgroups) counterTryCharge(i int32, swap bool, pages int64) (fail int32) {
	c.memswFailed = false
	if c.memsw && !swap {
		for j := i; j >= 0; j = c.cgs[j].parent {
			m := &c.cgs[j]
			if m.memory.usage+m.swap.usage+pages > satAdd(m.memory.max, m.swap.max) {
				c.memswFailed = true
				return j
			}
		}
	}
	for j := i; j >= 0; j = c.cgs[j].parent {
		if pc := c.cgs[j].counter(swap); pc.usage+pages > pc.max {
			return j
		}
	}
	c.counterCharge(i, swap, pages)
	return -1
}

// satAdd adds two page counts, saturating at PageCounterMax.
func satAdd(a, b int64) int64 {
	if a >= PageCounterMax-b {
		return PageCounterMax
	}
	return a + b
}

// counterCharge is page_counter_charge: charge i and its ancestors
// whatever their limits, raising the high-water marks.
func (c *Cgroups) counterCharge(i int32, swap bool, pages int64) {
	for ; i >= 0; i = c.cgs[i].parent {
		pc := c.cgs[i].counter(swap)
		pc.usage += pages
		pc.watermark = max(pc.watermark, pc.usage)
	}
}

// counterUncharge is page_counter_uncharge. Callers check first that no
// counter goes negative (page_counter_cancel only warns).
func (c *Cgroups) counterUncharge(i int32, swap bool, pages int64) {
	for ; i >= 0; i = c.cgs[i].parent {
		c.cgs[i].counter(swap).usage -= pages
	}
}
