package scenario

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxCPU is the highest CPU number a cpulist may name; it matches the
// largest NR_CPUS Linux configures (8192 CPUs) and bounds the list's size.
const MaxCPU = 8191

// ParseCPUList parses a Linux cpulist, the format of
// /sys/devices/system/cpu/online and taskset -c: comma-separated CPU
// numbers and inclusive ranges, "0-3,8" → [0 1 2 3 8]. A range may carry a
// stride "A-B:USED/GROUP" (as in the kernel's bitmap_parselist): out of
// every GROUP CPUs from A, the first USED are taken, so "0-15:2/4" →
// [0 1 4 5 8 9 12 13]. The result is sorted and deduplicated. The list must
// not be empty, and CPU numbers must lie in 0..MaxCPU.
func ParseCPUList(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("empty cpulist (write CPU numbers and ranges, for example \"0-7,16\")")
	}
	if n := strings.Count(s, ",") + 1; n > MaxCPU+1 {
		return nil, fmt.Errorf("cpulist has %d items, more than the %d CPUs it may name", n, MaxCPU+1)
	}
	// A bitmap bounds the work and memory whatever the input repeats.
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

// parseCPUItem parses one item of a cpulist, "N", "A-B" or "A-B:U/G", and
// marks its CPUs in set.
func parseCPUItem(item string, set *[MaxCPU + 1]bool) error {
	if item == "" {
		return fmt.Errorf("empty item (a stray comma?)")
	}
	rng, stride, hasStride := strings.Cut(item, ":")
	loText, hiText, isRange := strings.Cut(rng, "-")
	lo, err := parseCPU(loText)
	if err != nil {
		return err
	}
	hi := lo
	if isRange {
		if hi, err = parseCPU(hiText); err != nil {
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
		if used, group, err = parseStride(stride); err != nil {
			return fmt.Errorf("item %q: %w", item, err)
		}
	}
	for base := lo; base <= hi; base += group {
		for c := base; c < base+used && c <= hi; c++ {
			set[c] = true
		}
	}
	return nil
}

// parseStride parses the "USED/GROUP" of a strided range.
func parseStride(s string) (used, group int, err error) {
	usedText, groupText, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, fmt.Errorf("stride %q is not USED/GROUP", s)
	}
	used, errU := strconv.Atoi(usedText)
	group, errG := strconv.Atoi(groupText)
	if errU != nil || errG != nil || used < 1 || group < 1 || used > group || group > MaxCPU+1 {
		return 0, 0, fmt.Errorf("stride %q must be USED/GROUP with 1 <= USED <= GROUP", s)
	}
	return used, group, nil
}

// parseCPU parses one CPU number.
func parseCPU(s string) (int, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a CPU number", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > MaxCPU {
		return 0, fmt.Errorf("CPU %s is out of range 0..%d", s, MaxCPU)
	}
	return n, nil
}
