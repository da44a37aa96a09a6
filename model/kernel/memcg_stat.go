package kernel

import "fmt"

// This file keeps the memory.stat counters.

// MemcgStatItem indexes the memory.stat counters the model keeps.
type MemcgStatItem int

// The memory.stat items the model keeps (memory_stats[] in mm/memcontrol.c).
// Swap is not a memory.stat line in cgroup v2; it is memory.swap.current.
const (
	// MemcgStatAnon is "anon" (NR_ANON_MAPPED).
	MemcgStatAnon MemcgStatItem = iota
	// MemcgStatFile is "file" (NR_FILE_PAGES).
	MemcgStatFile
	// NrMemcgStatItems is the number of items.
	NrMemcgStatItems
)

// String is the item's name in memory.stat.
func (s MemcgStatItem) String() string {
	if s < 0 || s >= NrMemcgStatItems {
		return fmt.Sprintf("MemcgStatItem(%d)", int(s))
	}
	return [NrMemcgStatItems]string{"anon", "file"}[s]
}

// MemcgStat holds memory.stat counters in pages, indexed by MemcgStatItem.
type MemcgStat [NrMemcgStatItems]int64

// ModStat adds delta pages to a memory.stat item of the cgroup at path
// and its ancestors (memory.stat is hierarchical in cgroup v2). The
// caller feeds these as it maps and unmaps pages; they are independent of
// the charge counters. A cgroup's own count going negative is an
// ErrCounterUnderflow and changes nothing.
func (c *Cgroups) ModStat(path string, item MemcgStatItem, delta int64) error {
	i, err := c.lookup("stat", path)
	if err != nil {
		return err
	}
	if item < 0 || item >= NrMemcgStatItems {
		return cgErr("stat", path, ErrBadPages, "no stat item %d", int(item))
	}
	if c.cgs[i].statLocal[item]+delta < 0 {
		return cgErr("stat", path, ErrCounterUnderflow, "%s %d%+d", item, c.cgs[i].statLocal[item], delta)
	}
	c.cgs[i].statLocal[item] += delta
	for ; i >= 0; i = c.cgs[i].parent {
		c.cgs[i].stat[item] += delta
	}
	return nil
}
