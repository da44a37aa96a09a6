package kernel

import "fmt"

// This file checks the swap device and the swap cache (CheckInvariants).

// checkSwap asserts the swap device's books: a slot is free, holds the
// entry of a swapped-out page, or backs a page in the swap cache, and
// every slot in use is named back by its owner's anonymous slot (with
// checkVMA's check the other way, no slot backs two pages and no page
// two slots); the slots in use and the swap-cache pages match the
// machine's counts and fit the device; each cgroup's own swap charge is
// the slots charged to it (with cgroup v1's memsw accounting, the slots
// of its swapped-out pages only, each marked charged) and its
// memory.stat swapcached its swap-cache pages.
func (m *Machine) checkSwap() error {
	d := &m.swap
	if int64(len(d.slots)) != m.cfg.SwapPages+1 || d.slots[0] != (swapSlot{}) || d.next < 1 || int(d.next) > max(len(d.slots)-1, 1) {
		return fmt.Errorf("kernel: swap device of %d slots for %d pages, header %+v, scan at %d", len(d.slots), m.cfg.SwapPages, d.slots[0], d.next)
	}
	charged := make([]int64, len(m.cgPaths))
	cached := make([]int64, len(m.cgPaths))
	var used, inCache int64
	for off := 1; off < len(d.slots); off++ {
		sl := d.slots[off]
		if sl.owner == 0 {
			if sl != (swapSlot{}) {
				return fmt.Errorf("kernel: free swap slot %d keeps %+v", off, sl)
			}
			continue
		}
		if err := m.checkSwapOwner(int32(off), sl); err != nil {
			return err
		}
		used++
		resident := m.slotOf(int32(off)).pfn >= 0
		switch {
		case !m.cgroups.memsw && sl.charged:
			return fmt.Errorf("kernel: swap slot %d is marked charged under cgroup v2's accounting", off)
		case m.cgroups.memsw && sl.charged == resident:
			return fmt.Errorf("kernel: swap slot %d: charged %v, its page resident %v (v1 charges the entries of pages out of memory)", off, sl.charged, resident)
		case !m.cgroups.memsw || sl.charged:
			charged[sl.cg]++
		}
		if resident {
			inCache++
			cached[sl.cg]++
		}
	}
	if used != d.used || inCache != d.cached || used > m.cfg.SwapPages {
		return fmt.Errorf("kernel: swap slots in use %d (counter %d), in the swap cache %d (counter %d), device %d", used, d.used, inCache, d.cached, m.cfg.SwapPages)
	}
	for i, path := range m.cgPaths {
		c, _ := m.cgroups.Get(path)
		if c.SwapLocalPages != charged[i] || c.StatLocal[MemcgStatSwapcached] != cached[i] {
			return fmt.Errorf("kernel: cgroup %s: swap charge %d, holds %d slots; swapcached %d, %d pages", path, c.SwapLocalPages, charged[i], c.StatLocal[MemcgStatSwapcached], cached[i])
		}
	}
	return nil
}

// checkSwapOwner checks that swap slot off in use names an existing
// anonymous slot that names it back, swapped out or resident, and that
// a resident one's page is charged where the slot's swap is.
func (m *Machine) checkSwapOwner(off int32, sl swapSlot) error {
	if int(sl.owner) > len(m.tasks) || sl.owner < 0 || int(sl.cg) >= len(m.cgPaths) || sl.cg < 0 {
		return fmt.Errorf("kernel: swap slot %d names task slot %d, cgroup %d", off, sl.owner-1, sl.cg)
	}
	a := &m.tasks[sl.owner-1].anon
	if sl.vma < 0 || int(sl.vma) >= len(a.vmas) || !a.vmas[sl.vma].mapped || sl.idx < 0 || int(sl.idx) >= len(a.vmas[sl.vma].slots) {
		return fmt.Errorf("kernel: swap slot %d names mapping %d slot %d of task %d, which does not exist", off, sl.vma, sl.idx, m.tasks[sl.owner-1].PID)
	}
	ps := &a.vmas[sl.vma].slots[sl.idx]
	if ps.swp != off || ps.pfn == slotFreed {
		return fmt.Errorf("kernel: swap slot %d names task %d mapping %d slot %d, which holds swap slot %d (pfn %d)", off, m.tasks[sl.owner-1].PID, sl.vma, sl.idx, ps.swp, ps.pfn)
	}
	if ps.pfn >= 0 {
		if _, n := m.nodeOf(ps.pfn); n.page(ps.pfn).cg != sl.cg {
			return fmt.Errorf("kernel: swap slot %d charged to cgroup %d, its page in the swap cache to %d", off, sl.cg, n.page(ps.pfn).cg)
		}
	}
	return nil
}
