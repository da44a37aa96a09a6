package kernel

import "fmt"

// This file checks the memory controller's invariants.

// CheckInvariants verifies the tree: every cgroup's memory.current equals
// its own charge plus its stock plus its children's memory.current;
// swap, memory.stat and memory.events (below the root) add up the same
// way; no counter is negative; peaks are at least current; stocks hold at
// most one batch and cache a non-root cgroup. It returns the first
// violation.
func (c *Cgroups) CheckInvariants() error {
	n := len(c.cgs)
	childMem, childSwap := make([]int64, n), make([]int64, n)
	childStat, childEvents := make([]MemcgStat, n), make([]MemcgEvents, n)
	stock := make([]int64, n)
	for cpu, s := range c.stocks {
		if s.pages < 0 || s.pages > MemcgChargeBatch || (s.cached < 0 && s.pages != 0) ||
			s.cached == rootCgroup || int(s.cached) >= n {
			return fmt.Errorf("memcg: CPU %d stock %+v invalid", cpu, s)
		}
		if s.cached >= 0 {
			stock[s.cached] += s.pages
		}
	}
	// Children come after their parents, so a reverse walk sees every
	// child before its parent.
	for i := int32(n - 1); i >= 0; i-- {
		m := &c.cgs[i]
		if err := m.check(childMem[i], childSwap[i], stock[i], &childStat[i], &childEvents[i], i == rootCgroup); err != nil {
			return err
		}
		if p := m.parent; p >= 0 {
			childMem[p] += m.memory.usage
			childSwap[p] += m.swap.usage
			for s := range NrMemcgStatItems {
				childStat[p][s] += m.stat[s]
			}
			for e := range NrMemcgEvents {
				childEvents[p][e] += m.events[e]
			}
		}
	}
	return nil
}

func (m *memcg) check(childMem, childSwap, stock int64, childStat *MemcgStat, childEvents *MemcgEvents, root bool) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("memcg %s: "+format, append([]any{m.path}, args...)...)
	}
	switch {
	case m.localPages < 0 || m.localSwap < 0 || m.memory.usage < 0 || m.swap.usage < 0:
		return bad("negative counter: local %d, current %d, swap local %d, swap current %d",
			m.localPages, m.memory.usage, m.localSwap, m.swap.usage)
	case m.memory.usage != m.localPages+stock+childMem:
		return bad("memory.current %d != own %d + stock %d + children %d", m.memory.usage, m.localPages, stock, childMem)
	case m.swap.usage != m.localSwap+childSwap:
		return bad("memory.swap.current %d != own %d + children %d", m.swap.usage, m.localSwap, childSwap)
	case m.memory.watermark < m.memory.usage || m.swap.watermark < m.swap.usage:
		return bad("peak below current")
	}
	for s := range NrMemcgStatItems {
		if m.statLocal[s] < 0 || m.stat[s] != m.statLocal[s]+childStat[s] {
			return bad("memory.stat %s %d != own %d + children %d", s, m.stat[s], m.statLocal[s], childStat[s])
		}
	}
	for e := range NrMemcgEvents {
		want := m.eventsLocal[e] + childEvents[e]
		if root {
			want = m.eventsLocal[e] // the kernel's propagation stops below the root
		}
		if m.events[e] != want {
			return bad("memory.events %s %d, want %d", e, m.events[e], want)
		}
	}
	return nil
}
