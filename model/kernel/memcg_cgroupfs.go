package kernel

import (
	"fmt"
	"strings"
)

// This file renders the memory controller's files as cgroupfs shows them.

// File renders one of the cgroup's memory controller files as cgroupfs
// shows it, with sizes in bytes and "max" for no limit: memory.current,
// memory.peak, memory.max, memory.high, memory.events,
// memory.events.local, memory.swap.current, memory.swap.peak,
// memory.swap.max, memory.swap.high, memory.swap.events and memory.stat
// (the lines of MemcgStatItem). As in the kernel, the root has only
// memory.stat.
func (c *Cgroups) File(path, name string) (string, error) {
	i, err := c.lookup("read "+name, path)
	if err != nil {
		return "", err
	}
	m := &c.cgs[i]
	if i == rootCgroup && name != "memory.stat" {
		return "", cgErr("read "+name, path, ErrNoCgroupFile, "the root has only memory.stat")
	}
	bytes := func(pages int64) string { return fmt.Sprintf("%d\n", pages*PageSize) }
	tunable := func(pages int64) string {
		if pages == PageCounterMax {
			return "max\n"
		}
		return bytes(pages)
	}
	switch name {
	case "memory.current":
		return bytes(m.memory.usage), nil
	case "memory.peak":
		return bytes(m.memory.watermark), nil
	case "memory.max":
		return tunable(m.memory.max), nil
	case "memory.high":
		return tunable(m.memory.high), nil
	case "memory.events":
		return formatEvents(&m.events, MemcgLow, MemcgOOMGroupKill, ""), nil
	case "memory.events.local":
		return formatEvents(&m.eventsLocal, MemcgLow, MemcgOOMGroupKill, ""), nil
	case "memory.swap.current":
		return bytes(m.swap.usage), nil
	case "memory.swap.peak":
		return bytes(m.swap.watermark), nil
	case "memory.swap.max":
		return tunable(m.swap.max), nil
	case "memory.swap.high":
		return tunable(m.swap.high), nil
	case "memory.swap.events":
		return formatEvents(&m.events, MemcgSwapHigh, MemcgSwapFail, "swap_"), nil
	case "memory.stat":
		var b strings.Builder
		for s := range NrMemcgStatItems {
			v := m.stat[s]
			if s.InBytes() {
				v *= PageSize
			}
			fmt.Fprintf(&b, "%s %d\n", s, v)
		}
		return b.String(), nil
	}
	return "", cgErr("read "+name, path, ErrNoCgroupFile, "")
}

// formatEvents prints events first..last as "name count" lines, the
// names stripped of prefix (memory.swap.events says "high", "max",
// "fail").
func formatEvents(e *MemcgEvents, first, last MemcgEvent, prefix string) string {
	var b strings.Builder
	for ev := first; ev <= last; ev++ {
		fmt.Fprintf(&b, "%s %d\n", strings.TrimPrefix(ev.String(), prefix), e[ev])
	}
	return b.String()
}
