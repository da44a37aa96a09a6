package real

import (
	"errors"
	"fmt"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"math"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
)

// Limits of a real run: it uses real memory, disk and time on a machine
// other people share, so a typo must not take the machine down.
const (
	// maxWorkers bounds the processes a run starts.
	maxWorkers = 64
	// maxSwapMB bounds kernel.swap_mb (the swap file is written in full).
	maxSwapMB = 4096
	// DefaultMaxDuration bounds run.duration_ms unless Options say
	// otherwise.
	DefaultMaxDuration = 10 * 60 * 1000 // ms
)

// plan is a scenario compiled for a real run: the cgroups to create, the
// processes to start and what is not applied.
type plan struct {
	sc         *scenario.Scenario
	durationNs int64
	cgroups    []cgroupPlan
	tasks      []taskPlan
	procs      []procPlan
	notApplied []NotApplied
	// v2: the host's memory controller is cgroup v2.
	v2 bool
}

// cgroupPlan is one [[kernel.cgroup]] with its limits in bytes (0: none).
type cgroupPlan struct {
	index                             int
	path                              string
	maxBytes, highBytes, swapMaxBytes int64
	// leaf: no other cgroup of the scenario is below it.
	leaf bool
}

// taskPlan is one process of a task, mlock or page-cache workload (a
// fleet is count of them).
type taskPlan struct {
	workload    int
	kind        string
	name, comm  string
	simPID      int64
	cgroup      string
	oomScoreAdj int64
	startNs     int64
	bytesPerS   float64
	// targetBytes is where it stops growing (0: it never stops, within
	// its reservation).
	targetBytes    int64
	pageCacheBytes int64
	fleet          bool
	// loop is the workload's loop mode; touchNs how often a task writes
	// to all its memory again (0: never); hotBytes and hotFraction shape
	// a reader's reads.
	loop        string
	touchNs     int64
	hotBytes    int64
	hotFraction float64
}

// procPlan is one SBMP process and the synthetic workloads it runs.
type procPlan struct {
	name        string
	key         string // its scenario key: "process.N" or "workload.N.process"
	simPID      int64
	cgroup      string
	oomScoreAdj int64
	workloads   []int
}

// NotApplied is a scenario setting a real run leaves to the host.
type NotApplied struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
}

// compile checks that sc can run for real on h and compiles it. Every
// refusal is a *scenario.Error naming the file, line and key; all are
// reported at once.
func compile(sc *scenario.Scenario, h *Host, opt *Options) (*plan, error) {
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	p := &plan{sc: sc, durationNs: sc.Run.DurationMs * 1e6, v2: h.Cgroup.Version == 2}
	var errs []error
	refuse := func(key, format string, args ...any) { errs = append(errs, sc.KeyError(key, format, args...)) }
	if sc.Run.DurationMs > opt.maxDurationMs() {
		refuse("run.duration_ms", "a real run takes real time: at most %d ms here, got %d", opt.maxDurationMs(), sc.Run.DurationMs)
	}
	p.compileCgroups(h, refuse)
	p.compileTasks(refuse)
	p.compileProcs(opt, refuse)
	for i, f := range sc.Faults {
		refuse("fault."+strconv.Itoa(i)+".kind", "faults are not injected in a real run (%s needs the modelled machine); remove the [[fault]]", f.Kind)
	}
	if n := len(p.tasks) + len(p.procs); n > maxWorkers {
		refuse("workload", "a real run starts at most %d processes, this scenario has %d", maxWorkers, n)
	}
	p.notApplied = notApplied(sc, h)
	return p, errors.Join(errs...)
}

// compileCgroups turns [[kernel.cgroup]] into limits in bytes and
// refuses what this host's memory controller cannot do.
func (p *plan) compileCgroups(h *Host, refuse func(string, string, ...any)) {
	sc := p.sc
	var topBytes int64
	for i, c := range sc.Kernel.Cgroups {
		key := "kernel.cgroup." + strconv.Itoa(i) + "."
		cp := cgroupPlan{index: i, path: c.Path, maxBytes: c.MaxMB << 20, highBytes: c.HighMB << 20, swapMaxBytes: c.SwapMaxMB << 20, leaf: true}
		for _, o := range sc.Kernel.Cgroups {
			if strings.HasPrefix(o.Path, c.Path+"/") {
				cp.leaf = false
			}
		}
		if c.HighMB > 0 && h.Cgroup.Version == 1 {
			refuse(key+"high_mb", "this host's cgroup v1 has no memory.high; remove high_mb (it needs the cgroup v2 memory controller)")
		}
		if c.SwapMaxMB > 0 && h.Cgroup.Version == 1 && !h.Cgroup.Memsw {
			refuse(key+"swap_max_mb", "this host's cgroup v1 does not account swap (no memory.memsw.*, boot with swapaccount=1); remove swap_max_mb")
		}
		if c.SwapMaxMB > 0 && c.MaxMB == 0 && h.Cgroup.Version == 1 {
			refuse(key+"swap_max_mb", "cgroup v1 limits memory and swap together (memory.memsw.limit_in_bytes = max_mb + swap_max_mb); set max_mb too")
		}
		if c.MaxMB > 0 && p.limitAbove(c.Path) == "" {
			topBytes += cp.maxBytes
		}
		p.cgroups = append(p.cgroups, cp)
	}
	if limit := h.MemTotalKB << 10 / 2; topBytes > limit {
		for i, c := range sc.Kernel.Cgroups {
			if c.MaxMB > 0 && p.limitAbove(c.Path) == "" {
				refuse("kernel.cgroup."+strconv.Itoa(i)+".max_mb", "the limits of the top cgroups add up to %d MiB: a real run uses real memory, at most half of this host's %d MiB", topBytes>>20, h.MemTotalKB>>10)
			}
		}
	}
	if sc.Kernel.SwapMB > maxSwapMB {
		refuse("kernel.swap_mb", "a real run writes its swap file in full: at most %d MiB, got %d", maxSwapMB, sc.Kernel.SwapMB)
	}
}

// limitAbove returns the nearest cgroup strictly above path with a
// memory limit, or "".
func (p *plan) limitAbove(path string) string {
	for parent := parentOf(path); parent != "/" && parent != ""; parent = parentOf(parent) {
		if c := p.cgroup(parent); c != nil && c.MaxMB > 0 {
			return parent
		}
	}
	return ""
}

// confinedBy returns the cgroup with a memory limit that confines path
// (path itself or its nearest limited ancestor), or "".
func (p *plan) confinedBy(path string) string {
	if c := p.cgroup(path); c != nil && c.MaxMB > 0 {
		return path
	}
	return p.limitAbove(path)
}

// cgroup returns the [[kernel.cgroup]] of path, or nil.
func (p *plan) cgroup(path string) *scenario.Cgroup {
	for i := range p.sc.Kernel.Cgroups {
		if p.sc.Kernel.Cgroups[i].Path == path {
			return &p.sc.Kernel.Cgroups[i]
		}
	}
	return nil
}

// parentOf returns the parent of a cgroup path ("/a/b" -> "/a", "/a" ->
// "/", "/" -> "").
func parentOf(path string) string {
	if path == "/" {
		return ""
	}
	i := strings.LastIndexByte(path, '/')
	if i <= 0 {
		return "/"
	}
	return path[:i]
}

// checkConfined refuses a workload or process whose cgroup (at key) is
// not confined by a memory limit, or that cgroup v2 could not hold.
func (p *plan) checkConfined(key, path string, refuse func(string, string, ...any)) {
	if path == "/" {
		refuse(key, "a real run confines every process in a [[kernel.cgroup]] with max_mb > 0; declare one (for example path = \"/box\", max_mb = 96) and name it here")
		return
	}
	if p.confinedBy(path) == "" {
		refuse(key, "cgroup %q has no memory limit, nor has any cgroup above it; set max_mb on it (a real run never runs unconfined)", path)
	}
	for _, c := range p.cgroups {
		if c.path == path && !c.leaf && p.v2 {
			refuse(key, "cgroup %q has child cgroups, and cgroup v2 keeps processes only in leaves; run it in a leaf", path)
		}
	}
}

// compileTasks lists the task, mlock and page-cache processes with the
// pids the simulation gives them (world.TaskPID), and refuses the kinds a
// real run cannot do.
func (p *plan) compileTasks(refuse func(string, string, ...any)) {
	for i, w := range p.sc.Workloads {
		key := "workload." + strconv.Itoa(i) + "."
		switch w.Kind {
		case scenario.KindTask, scenario.KindMlock, scenario.KindPageCache:
			p.checkConfined(key+"cgroup", w.Cgroup, refuse)
		case scenario.KindGoRuntime:
			refuse(key+"kind", "a go-runtime workload is a model of a Go program's heap and GC pacer; a real run has no program to run for it")
			continue
		case scenario.KindHeaptrack:
			refuse(key+"kind", "a real run does not replay heaptrack traces; remove the workload or run it in the simulation only")
			continue
		case scenario.KindKmallocLeak:
			refuse(key+"kind", "a kmalloc-leak allocates kernel memory with GFP_ATOMIC, which user space cannot do")
			continue
		default:
			continue
		}
		for n := range w.Count {
			t := taskPlan{
				workload: i, kind: w.Kind, name: w.Name, simPID: world.TaskPID(i, 0, false), cgroup: w.Cgroup,
				oomScoreAdj: w.OOMScoreAdj, startNs: w.StartMs * 1e6, bytesPerS: w.GrowMBPerS * (1 << 20),
				targetBytes: w.RSSMB << 20, pageCacheBytes: w.PageCacheMB << 20,
				loop: w.Loop, touchNs: w.TouchIntervalMs * 1e6, hotBytes: w.HotMB << 20, hotFraction: w.HotFraction,
			}
			if w.Count > 1 {
				t.simPID, t.name, t.fleet = world.TaskPID(i, n, true), fmt.Sprintf("%s-%d", w.Name, n), true
			}
			t.comm = commOf(t.name)
			p.tasks = append(p.tasks, t)
		}
	}
}

// commOf is a Linux comm of name: at most 15 bytes.
func commOf(name string) string {
	if len(name) > 15 {
		return name[:15]
	}
	return name
}

// compileProcs lists one process per SBMP process a synthetic workload
// allocates in, in the simulation's order (the implicit sbmp-app first
// if used, then the [[process]] tables in order) with its pids.
func (p *plan) compileProcs(opt *Options, refuse func(string, string, ...any)) {
	sc := p.sc
	used := map[string][]int{}
	for i, w := range sc.Workloads {
		if w.Kind != scenario.KindSynthetic {
			continue
		}
		key := "workload." + strconv.Itoa(i) + "."
		if opt.Samplers == nil {
			refuse(key+"kind", "this build cannot draw a synthetic workload's arrivals, sizes and lifetimes for a real run (no sampler builder was given)")
		}
		used[w.Process] = append(used[w.Process], i)
	}
	if ws, ok := used[scenario.DefaultProcess]; ok {
		refuse("workload."+strconv.Itoa(ws[0])+".process", "runs in the implicit process %q in \"/\"; declare a [[process]] whose cgroup has a memory limit and name it here", scenario.DefaultProcess)
		p.procs = append(p.procs, procPlan{name: scenario.DefaultProcess, cgroup: "/", workloads: ws})
	}
	for k, pr := range sc.Processes {
		ws, ok := used[pr.Name]
		if !ok || pr.Name == scenario.DefaultProcess {
			continue
		}
		key := "process." + strconv.Itoa(k)
		p.checkConfined(key+".cgroup", pr.Cgroup, refuse)
		p.procs = append(p.procs, procPlan{name: pr.Name, key: key, cgroup: pr.Cgroup, oomScoreAdj: pr.OOMScoreAdj, workloads: ws})
	}
	for i := range p.procs {
		p.procs[i].simPID = world.ProcessPID(i)
	}
}

// notApplied lists the settings a real run leaves as the host has them.
func notApplied(sc *scenario.Scenario, h *Host) []NotApplied {
	out := []NotApplied{{Key: "machine", Value: sc.Machine.Preset, Reason: "the host's machine is used as it is (host.machine)"}}
	add := func(key string, v int64, hostV int64, what string) {
		out = append(out, NotApplied{Key: key, Value: strconv.FormatInt(v, 10), Reason: fmt.Sprintf("%s is global; the host's value %d stays", what, hostV)})
	}
	add("kernel.oom_kill_allocating_task", int64(sc.Kernel.OOMKillAllocatingTask), h.VM.OOMKillAllocatingTask, "vm.oom_kill_allocating_task")
	add("kernel.min_free_kbytes", sc.Kernel.MinFreeKbytes, h.VM.MinFreeKbytes, "vm.min_free_kbytes")
	add("kernel.watermark_scale_factor", int64(sc.Kernel.WatermarkScaleFactor), h.VM.WatermarkScaleFactor, "vm.watermark_scale_factor")
	sw := NotApplied{Key: "kernel.swappiness", Value: strconv.Itoa(sc.Kernel.Swappiness)}
	if h.Cgroup.Version == 1 {
		sw.Reason = fmt.Sprintf("written to each cgroup's memory.swappiness; the global vm.swappiness (%d) was not changed", h.VM.Swappiness)
	} else {
		sw.Reason = fmt.Sprintf("cgroup v2 has no per-cgroup swappiness; the global vm.swappiness (%d) was not changed", h.VM.Swappiness)
	}
	out = append(out, sw)
	if v := sc.Kernel.CgroupVersion; h.Cgroup.Version != 0 && v != h.Cgroup.Version {
		out = append(out, NotApplied{Key: "kernel.cgroup_version", Value: strconv.Itoa(v),
			Reason: fmt.Sprintf("the host's memory controller is cgroup v%d, and it charges swap as v%d does", h.Cgroup.Version, h.Cgroup.Version)})
	}
	for i, w := range sc.Workloads {
		key := "workload." + strconv.Itoa(i) + "."
		if _, ok, why := pinCPUs(w.CPUs); !ok {
			out = append(out, NotApplied{Key: key + "cpus", Value: w.CPUs, Reason: "not pinned: " + why})
		}
		if w.Loop == scenario.LoopIgnore {
			out = append(out, NotApplied{Key: key + "loop", Value: w.Loop, Reason: "a real process cannot ignore a stall: it is blocked for it, then catches up (as loop = \"queued\")"})
		}
	}
	out = append(out, NotApplied{Key: "output.sample_interval_ms", Value: strconv.FormatInt(sc.Output.SampleIntervalMs, 10), Reason: "a real run samples the kernel at its own interval (sample_interval_ns)"})
	return out
}

// totalSwapPages is the swap the OOM killer counts in a memcg's total
// (mem_cgroup_get_max): the host's at the start plus the run's file.
func (p *plan) totalSwapPages(h *Host) int64 {
	return h.SwapTotalKB/4 + p.sc.Kernel.SwapMB<<8
}

// limitPages is the cgroup's memory limit in pages; math.MaxInt64/2
// (room to add swap to) when it has none.
func (c *cgroupPlan) limitPages() int64 {
	if c.maxBytes == 0 {
		return math.MaxInt64 / 2
	}
	return c.maxBytes >> 12
}
