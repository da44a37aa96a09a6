package host

import "strconv"

// KernelKey is one [kernel] key of a scenario with its value written as
// TOML ("60", "\"madvise\"").
type KernelKey struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// KernelKeys returns the [kernel] keys that model this host's kernel, in
// the order `sbmpsim import host` prints them: the vm sysctls, the swap
// configured (MiB), the THP and compaction settings, and the memory
// controller's version when one was found. A runner that
// simulates a scenario on this host (the sim-to-real validation) sets
// them too, so that both read the same values.
func (r *Report) KernelKeys() []KernelKey {
	s := r.Settings
	num := func(v int64) string { return strconv.FormatInt(v, 10) }
	keys := []KernelKey{
		{"swappiness", num(s.Swappiness)},
		{"oom_kill_allocating_task", num(s.OOMKillAllocatingTask)},
		{"min_free_kbytes", num(s.MinFreeKbytes)},
		{"watermark_scale_factor", num(s.WatermarkScaleFactor)},
		{"swap_mb", num(r.Meminfo.SwapTotalKB / 1024)},
		{"thp_enabled", strconv.Quote(s.THPEnabled)},
		{"thp_defrag", strconv.Quote(s.THPDefrag)},
		{"compaction_proactiveness", num(s.CompactionProactiveness)},
		{"extfrag_threshold", num(s.ExtfragThreshold)},
	}
	if r.CgroupVersion != 0 {
		keys = append(keys, KernelKey{"cgroup_version", num(int64(r.CgroupVersion))})
	}
	return keys
}
