// Package kernel models the Linux memory management that SBMP's Tier-2 and
// the rest of the machine run on: zones and their watermarks, the buddy
// page allocator with per-CPU page lists and NUMA zonelist fallback,
// kswapd and direct reclaim balanced by vm.swappiness, swap, mlock, GFP
// flags and their reserves, cgroup v2 memory.max and memory.high, the
// OOM killer, and memory hotplug (a node's memory going offline, its pages
// migrating away, and coming back: hotplug.go).
//
// The model follows the kernel where the kernel is documented or its source
// is clear, and says so: each function names the Linux function it models
// (for example SetupWatermarks models __setup_per_zone_wmarks) and the
// kernel version it was read from. Where the model simplifies (no
// migratetypes, no compaction, one LRU age per list), the doc comment of
// the simplified piece says what is left out and why it does not change
// the behaviour the simulator is used to study: when an allocation fails,
// when reclaim swaps instead of dropping page cache, and whom the OOM
// killer picks.
//
// The package does no I/O: experiments/input/host reads a live host's
// /proc and /sys and compares them with what the formulas here compute.
package kernel
