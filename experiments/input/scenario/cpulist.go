package scenario

import (
	"fmt"
	"strings"

	"github.com/sbmpsim/sbmpsim/model/numa"
)

// MaxCPU is the highest CPU number a cpulist may name; it matches the
// largest NR_CPUS Linux configures (8192 CPUs) and bounds the list's size.
const MaxCPU = numa.MaxCPU

// ParseCPUList parses a Linux cpulist, the format of
// /sys/devices/system/cpu/online and taskset -c: comma-separated CPU
// numbers and inclusive ranges, "0-3,8" → [0 1 2 3 8], with the stride of
// the kernel's bitmap_parselist ("0-15:2/4" → [0 1 4 5 8 9 12 13]). The
// result is sorted and deduplicated. Unlike a node's cpulist (numa.
// ParseCPUList, which this wraps), a workload's list must not be empty.
func ParseCPUList(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("empty cpulist (write CPU numbers and ranges, for example \"0-7,16\")")
	}
	return numa.ParseCPUList(s)
}
