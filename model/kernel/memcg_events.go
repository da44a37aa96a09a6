package kernel

import "fmt"

// This file counts memory.events and memory.swap.events
// (memcg_memory_event).

// MemcgEvent indexes memory.events and memory.swap.events counters, in the
// order of enum memcg_memory_event.
type MemcgEvent int

// The events of enum memcg_memory_event.
const (
	// MemcgLow: reclaimed below memory.low. The model has no memory.low,
	// so it stays zero; it is kept so that memory.events reads whole.
	MemcgLow MemcgEvent = iota
	// MemcgHigh: reclaim_high reclaimed because usage exceeded memory.high.
	MemcgHigh
	// MemcgMax: a charge was about to exceed memory.max (try_charge_memcg).
	MemcgMax
	// MemcgOOM: the charge path or a memory.max write invoked the memcg
	// OOM killer.
	MemcgOOM
	// MemcgOOMKill: a task of the cgroup was killed by any OOM killer.
	MemcgOOMKill
	// MemcgOOMGroupKill: a memory.oom.group kill (not modelled; zero).
	MemcgOOMGroupKill
	// MemcgSwapHigh: swap usage over memory.swap.high when throttling.
	MemcgSwapHigh
	// MemcgSwapMax: a swap charge hit memory.swap.max.
	MemcgSwapMax
	// MemcgSwapFail: swap-out failed, for swap.max or for want of slots.
	MemcgSwapFail
	// NrMemcgEvents is the number of events.
	NrMemcgEvents
)

// String is the event's name in memory.events; the swap events carry a
// "swap_" prefix that memory.swap.events leaves out.
func (e MemcgEvent) String() string {
	if e < 0 || e >= NrMemcgEvents {
		return fmt.Sprintf("MemcgEvent(%d)", int(e))
	}
	return [NrMemcgEvents]string{
		"low", "high", "max", "oom", "oom_kill", "oom_group_kill",
		"swap_high", "swap_max", "swap_fail",
	}[e]
}

// MemcgEvents counts each MemcgEvent.
type MemcgEvents [NrMemcgEvents]int64

// event is memcg_memory_event: count in memory.events.local of i, and in
// memory.events of i and each ancestor below the root (the kernel's loop
// stops at the root, so the root counts only its own events).
func (c *Cgroups) event(i int32, e MemcgEvent) {
	c.cgs[i].eventsLocal[e]++
	for {
		c.cgs[i].events[e]++
		i = c.cgs[i].parent
		if i < 0 || i == rootCgroup {
			return
		}
	}
}

// RecordOOMKill counts a task of the cgroup at path killed by an OOM
// killer, memcg or global (memcg_memory_event_mm(mm, MEMCG_OOM_KILL) in
// __oom_kill_process): call it with the victim's cgroup.
func (c *Cgroups) RecordOOMKill(path string) error {
	i, err := c.lookup("oom kill", path)
	if err != nil {
		return err
	}
	c.event(i, MemcgOOMKill)
	return nil
}

// RecordSwapFail counts a swap-out of the cgroup's page that failed for
// want of a swap slot (MEMCG_SWAP_FAIL in __mem_cgroup_try_charge_swap).
// TryChargeSwap counts failures at memory.swap.max itself.
func (c *Cgroups) RecordSwapFail(path string) error {
	i, err := c.lookup("swap fail", path)
	if err != nil {
		return err
	}
	c.event(i, MemcgSwapFail)
	return nil
}
