package transfer

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
)

// Scale makes sc a machine k times larger under k times the load: it
// multiplies every memory size and every rate of sc by k, applies the
// result to sc with scenario.Set and returns those overrides
// ("KEY=VALUE", sections in file order), which given to `sbmpsim run
// --set` or to a sweep's axis make the same scenario. A value of 0 is
// left alone: for these keys it means "none" or "no limit". Sizes in
// whole MiB are rounded to the nearest MiB (exact for the integer k the
// experiment uses). On error sc is unchanged.
//
// Scaled, because they are memory or memory per second:
//   - machine.node_memory_mb (a preset's node size; for a preset without
//     it, the preset's own size) or an inline machine's memory_mb;
//   - kernel.swap_mb and each kernel.cgroup's max_mb, high_mb and
//     swap_max_mb: limits sized to the machine;
//   - task, mlock, page-cache and kmalloc-leak workloads' rss_mb,
//     page_cache_mb, hot_mb and grow_mb_per_s;
//   - synthetic workloads' allocation rates (rate_per_s, or
//     rate_low_per_s and rate_high_per_s for mmpp, or phase_rate_per_s):
//     k times the objects of the same sizes is k times the memory;
//   - go-runtime workloads' alloc_mb_per_s, live_mb, gomemlimit_mb and
//     leak_mb_per_s, and leak faults' rate_mb_per_s.
//
// Not scaled, because they do not grow with a machine's memory: object
// sizes (size_bytes and the other size keys: a session is 256 bytes on
// any host), lifetimes and every duration (so the run's 60 s and the
// time to an OOM stay comparable), Tier-0 slot sizes and capacity (per
// CPU, and the CPUs stay), the Tier-1 block size (a huge page, 2 MiB on
// any x86 host), the CPUs, threads and thread migration rate, latencies
// and bandwidths (the same DRAM channels serve a larger DIMM), load
// factors and fractions (they are ratios), sysctls such as swappiness,
// and run.max_events (a limit on the run, not part of the machine). An
// explicit kernel.min_free_kbytes is the user's sysctl and is kept;
// left at 0, the kernel model computes it, and from it the watermarks
// and per-CPU list sizes, as Linux does from the memory size (it grows
// as the square root of memory, not in proportion).
//
// A heaptrack workload is an error: a recorded trace fixes its rate and
// its lifetimes together, so its rate cannot be scaled alone.
func Scale(sc *scenario.Scenario, k float64) ([]string, error) {
	if !(k > 0) || math.IsInf(k, 0) {
		return nil, fmt.Errorf("scale %s: factor %v: want a finite number > 0", sc.Source, k)
	}
	var sets []string
	add := func(key, value string) { sets = append(sets, key+"="+value) }
	if err := scaleMachine(sc, k, add); err != nil {
		return nil, fmt.Errorf("scale %s: %w", sc.Source, err)
	}
	scaleKernel(sc, k, add)
	for i, w := range sc.Workloads {
		if err := scaleWorkload("workload."+strconv.Itoa(i)+".", w, k, add); err != nil {
			return nil, fmt.Errorf("scale %s: %w", sc.Source, err)
		}
	}
	for i, f := range sc.Faults {
		if f.Kind == scenario.FaultLeak {
			add("fault."+strconv.Itoa(i)+".rate_mb_per_s", number(f.RateMBPerS*k))
		}
	}
	c := sc.Clone()
	for _, s := range sets {
		if err := c.Set(s); err != nil {
			return nil, fmt.Errorf("scale %s: %w", sc.Source, err)
		}
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("scale %s by %v: %w", sc.Source, k, err)
	}
	*sc = *c
	return sets, nil
}

// scaleMachine scales the memory of every node.
func scaleMachine(sc *scenario.Scenario, k float64, add func(key, value string)) error {
	m := sc.Machine
	switch {
	case m.Preset == "":
		mb := make([]string, len(m.MemoryMB))
		for i, x := range m.MemoryMB {
			mb[i] = mib(x, k)
		}
		add("machine.memory_mb", "["+strings.Join(mb, ",")+"]")
	case m.NodeMemoryMB > 0:
		add("machine.node_memory_mb", mib(m.NodeMemoryMB, k))
	default:
		// The preset's own sizes: node_memory_mb gives every node one
		// size, so they must be equal to begin with.
		t, err := m.Topology()
		if err != nil {
			return err
		}
		var size int64
		for _, n := range t.Nodes {
			if n.MemoryMB > 0 && size > 0 && n.MemoryMB != size {
				return fmt.Errorf("preset %s has nodes of %d and %d MiB; give machine.node_memory_mb or an inline machine", m.Preset, size, n.MemoryMB)
			}
			size = max(size, n.MemoryMB)
		}
		add("machine.node_memory_mb", mib(size, k))
	}
	return nil
}

// scaleKernel scales swap and the cgroups' limits.
func scaleKernel(sc *scenario.Scenario, k float64, add func(key, value string)) {
	if sc.Kernel.SwapMB > 0 {
		add("kernel.swap_mb", mib(sc.Kernel.SwapMB, k))
	}
	for i, cg := range sc.Kernel.Cgroups {
		key := "kernel.cgroup." + strconv.Itoa(i) + "."
		for _, l := range []struct {
			name string
			mb   int64
		}{{"max_mb", cg.MaxMB}, {"high_mb", cg.HighMB}, {"swap_max_mb", cg.SwapMaxMB}} {
			if l.mb > 0 {
				add(key+l.name, mib(l.mb, k))
			}
		}
	}
}

// scaleWorkload scales the sizes and rates that w's kind reads; key is
// its prefix, "workload.N.".
func scaleWorkload(key string, w scenario.Workload, k float64, add func(key, value string)) error {
	ints := func(names []string, vals ...int64) {
		for i, v := range vals {
			if v > 0 {
				add(key+names[i], mib(v, k))
			}
		}
	}
	switch w.Kind {
	case scenario.KindSynthetic:
		scaleArrival(key, w, k, add)
	case scenario.KindGoRuntime:
		add(key+"alloc_mb_per_s", number(w.AllocMBPerS*k))
		add(key+"live_mb", number(w.LiveMB*k))
		ints([]string{"gomemlimit_mb"}, w.GOMEMLIMITMB)
		if w.LeakMBPerS > 0 {
			add(key+"leak_mb_per_s", number(w.LeakMBPerS*k))
		}
	case scenario.KindTask, scenario.KindMlock, scenario.KindPageCache:
		ints([]string{"rss_mb", "page_cache_mb", "hot_mb"}, w.RSSMB, w.PageCacheMB, w.HotMB)
		add(key+"grow_mb_per_s", number(w.GrowMBPerS*k))
	case scenario.KindKmallocLeak:
		ints([]string{"rss_mb"}, w.RSSMB)
		add(key+"grow_mb_per_s", number(w.GrowMBPerS*k))
	default:
		return fmt.Errorf("%skind: a %s workload's rate cannot be scaled (a recorded trace fixes its rate and its lifetimes together)", key, w.Kind)
	}
	return nil
}

// scaleArrival scales the rates a synthetic workload's arrival process
// reads.
func scaleArrival(key string, w scenario.Workload, k float64, add func(key, value string)) {
	switch w.Arrival {
	case scenario.ArrivalMMPP:
		if w.RateLowPerS > 0 {
			add(key+"rate_low_per_s", number(w.RateLowPerS*k))
		}
		add(key+"rate_high_per_s", number(w.RateHighPerS*k))
	case scenario.ArrivalPhases:
		r := make([]string, len(w.PhaseRatePerS))
		for i, x := range w.PhaseRatePerS {
			r[i] = number(x * k)
		}
		add(key+"phase_rate_per_s", "["+strings.Join(r, ",")+"]")
	default: // poisson and diurnal
		add(key+"rate_per_s", number(w.RatePerS*k))
	}
}

// mib formats a size in MiB times k, rounded to the nearest MiB and at
// least 1 for a size that was not 0.
func mib(v int64, k float64) string {
	if v == 0 {
		return "0"
	}
	return strconv.FormatInt(max(1, int64(math.Round(float64(v)*k))), 10)
}

// number formats a rate as TOML reads it back exactly.
func number(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
