package numa

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseCPUList parses a Linux cpulist, the format of
// /sys/devices/system/node/nodeN/cpulist and of taskset -c: comma-separated
// CPU numbers and inclusive ranges, "0-3,8" → [0 1 2 3 8], with the
// optional stride of the kernel's bitmap_parselist ("0-15:2/4": of every 4
// CPUs from 0, the first 2). Surrounding white space is ignored. An empty
// list is valid and means no CPUs (a memory-only node): the result is nil.
// Otherwise the result is sorted and without duplicates, and every CPU is
// in 0..MaxCPU.
func ParseCPUList(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if n := strings.Count(s, ",") + 1; n > MaxCPU+1 {
		return nil, fmt.Errorf("cpulist has %d items, more than the %d CPUs it may name", n, MaxCPU+1)
	}
	// A bitmap bounds time and memory whatever the input repeats.
	var set [MaxCPU + 1]bool
	for item := range strings.SplitSeq(s, ",") {
		if err := parseCPUItem(strings.TrimSpace(item), &set); err != nil {
			return nil, fmt.Errorf("cpulist %q: %w", s, err)
		}
	}
	var cpus []int
	for c, ok := range set {
		if ok {
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}

// parseCPUItem parses "N", "A-B" or "A-B:USED/GROUP" and marks its CPUs.
func parseCPUItem(item string, set *[MaxCPU + 1]bool) error {
	if item == "" {
		return fmt.Errorf("empty item (a stray comma?)")
	}
	rng, stride, hasStride := strings.Cut(item, ":")
	loText, hiText, isRange := strings.Cut(rng, "-")
	lo, err := ParseCPUNumber(loText)
	if err != nil {
		return err
	}
	hi := lo
	if isRange {
		if hi, err = ParseCPUNumber(hiText); err != nil {
			return err
		}
		if hi < lo {
			return fmt.Errorf("range %q ends before it starts", rng)
		}
	}
	used, group := 1, 1
	if hasStride {
		if !isRange {
			return fmt.Errorf("stride in %q needs a range, as in 0-15:2/4", item)
		}
		u, g, ok := strings.Cut(stride, "/")
		var errU, errG error
		used, errU = strconv.Atoi(u)
		group, errG = strconv.Atoi(g)
		if !ok || errU != nil || errG != nil || used < 1 || used > group || group > MaxCPU+1 {
			return fmt.Errorf("stride %q must be USED/GROUP with 1 <= USED <= GROUP", stride)
		}
	}
	for base := lo; base <= hi; base += group {
		for c := base; c < base+used && c <= hi; c++ {
			set[c] = true
		}
	}
	return nil
}

// ParseCPUNumber parses one CPU number in 0..MaxCPU, as cpulists and
// numactl's CPU lists write it: decimal digits only.
func ParseCPUNumber(s string) (int, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a CPU number", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > MaxCPU {
		return 0, fmt.Errorf("CPU %s is out of range 0..%d", s, MaxCPU)
	}
	return n, nil
}

// FormatCPUList formats sorted, distinct CPU numbers as a cpulist with
// ranges, the way the kernel prints /sys/devices/system/node/nodeN/cpulist:
// [0 1 2 3 8 10 11] → "0-3,8,10-11". No CPUs give "".
func FormatCPUList(cpus []int) string {
	var b strings.Builder
	for i := 0; i < len(cpus); {
		j := i
		for j+1 < len(cpus) && cpus[j+1] == cpus[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(cpus[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(cpus[j]))
		}
		i = j + 1
	}
	return b.String()
}
