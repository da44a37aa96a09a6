package kernel

// This file charges swap to cgroups (memory.swap.current,
// memory.swap.max).

// TryChargeSwap charges swap entries to the cgroup at path, as
// __mem_cgroup_try_charge_swap does when reclaim adds an anonymous page to
// swap: page_counter_try_charge on the swap counters. On failure it counts
// swap_max and swap_fail on the charging cgroup (not on the one whose
// limit was hit, as in the kernel) and over names the latter.
func (c *Cgroups) TryChargeSwap(path string, pages int64) (ok bool, over string, err error) {
	i, err := c.lookupPages("swap charge", path, pages)
	if err != nil {
		return false, "", err
	}
	if fail := c.counterTryCharge(i, true, pages); fail >= 0 {
		c.event(i, MemcgSwapMax)
		c.event(i, MemcgSwapFail)
		return false, c.cgs[fail].path, nil
	}
	c.cgs[i].localSwap += pages
	return true, "", nil
}

// ChargeSwapOut charges swap entries to the cgroup at path whatever its
// limits (page_counter_charge), as cgroup v1's mem_cgroup_swapout moves a
// page's memsw charge to its swap entry when the page leaves memory. Only
// a controller with memsw accounting (SetMemsw) charges swap this way.
func (c *Cgroups) ChargeSwapOut(path string, pages int64) error {
	i, err := c.lookupPages("swap out", path, pages)
	if err != nil {
		return err
	}
	if !c.memsw {
		return cgErr("swap out", path, ErrNoMemsw, "cgroup v2 charges swap when the slot is allocated")
	}
	c.counterCharge(i, true, pages)
	c.cgs[i].localSwap += pages
	return nil
}

// UnchargeSwap releases swap entries charged to the cgroup at path
// (__mem_cgroup_uncharge_swap, when a page is swapped in or its entry
// freed). More than the cgroup's own swap charge is an
// ErrCounterUnderflow and changes nothing.
func (c *Cgroups) UnchargeSwap(path string, pages int64) error {
	i, err := c.lookupPages("swap uncharge", path, pages)
	if err != nil {
		return err
	}
	if m := &c.cgs[i]; pages > m.localSwap {
		return cgErr("swap uncharge", path, ErrCounterUnderflow, "%d swap pages, %d charged", pages, m.localSwap)
	}
	c.cgs[i].localSwap -= pages
	c.counterUncharge(i, true, pages)
	return nil
}

// SwapAvailable is mem_cgroup_get_nr_swap_pages: the free swap slots
// (freeSwapPages, machine-wide) the cgroup may still use given
// memory.swap.max of it and its ancestors below the root, at least 0.
// Reclaim in the cgroup can swap anonymous pages only when it is positive
// (can_reclaim_anon_pages).
func (c *Cgroups) SwapAvailable(path string, freeSwapPages int64) (int64, error) {
	i, err := c.lookup("swap available", path)
	if err != nil {
		return 0, err
	}
	n := freeSwapPages
	if c.memsw {
		return max(n, 0), nil // v1: no per-cgroup swap limit
	}
	for ; i > rootCgroup; i = c.cgs[i].parent {
		n = min(n, c.cgs[i].swap.max-c.cgs[i].swap.usage)
	}
	return max(n, 0), nil
}

// swapFull is mem_cgroup_swap_full's cgroup v2 walk (without
// vm_swap_full, which the machine adds): cgroup i or an ancestor below
// the root uses at least half its memory.swap.high or memory.swap.max.
// Swap-cache pages then give up their slots (do_swap_page's
// should_try_to_free_swap, shrink_folio_list's activate_locked).
func (c *Cgroups) swapFull(i int32) bool {
	if c.memsw {
		return false // v1: vm_swap_full alone
	}
	for ; i > rootCgroup; i = c.cgs[i].parent {
		s := &c.cgs[i].swap
		if s.usage*2 >= s.high || s.usage*2 >= s.max {
			return true
		}
	}
	return false
}

// SwapFull reports mem_cgroup_swap_full's cgroup test for the cgroup at
// path (vm_swap_full aside): whether it or an ancestor below the root
// uses at least half of its memory.swap.max or memory.swap.high.
func (c *Cgroups) SwapFull(path string) (bool, error) {
	i, err := c.lookup("swap full", path)
	if err != nil {
		return false, err
	}
	return c.swapFull(i), nil
}
