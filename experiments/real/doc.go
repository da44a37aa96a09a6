// Package real runs a scenario's workloads on this host, as real
// processes in real memory cgroups, with the host's kernel as the
// oracle: what its memory management and OOM killer do with the same
// load the simulation (experiments/world) models. It writes what it saw
// in the shapes of a simulated run's outputs (real.json beside
// summary.json, real.csv beside timeseries.csv), so that a validation
// suite can run both and compare them case by case; Run, Check, Write
// and Probe are its library interface.
//
// What it runs, per [[workload]] kind (each as its own process, this
// binary started again as a worker: see IsWorker and WorkerMain):
//   - task: maps anonymous memory and writes a byte to each 4 KiB page at
//     grow_mb_per_s up to rss_mb, and writes to all of it again every
//     touch_interval_ms (if set); count > 1 starts a fleet. Its
//     page_cache_mb is a file it writes, drops from the page cache and
//     reads once at start.
//   - mlock: the same, each batch mlock'ed.
//   - page-cache: writes a file set of page_cache_mb (written back and
//     dropped as it goes, so the reader starts cold), then reads
//     grow_mb_per_s of 4 KiB pages a second at uniformly random places
//     (hot_fraction of them within the first hot_mb) with readahead off,
//     counting the reads that miss the page cache.
//
// Each works on the simulation's 1 ms tick, paced by its loop mode: with
// "closed" the time a tick's work was blocked beyond the tick is taken
// off its schedule (the work that would have come meanwhile is not
// issued), with "queued" the work a stall delayed is done after it; a
// real process cannot "ignore" a stall, and is paced as "queued".
//   - synthetic: an SBMP process (sbmp/arena's Heap: the real allocator
//     over mmap'd memory) driven in real time by the simulation's
//     samplers and random streams, one process per [[process]]. With
//     sbmp.madvise_hugepage (the default) its Tier-1 blocks are madvised
//     MADV_HUGEPAGE, so that their faults are the huge-page faults (or
//     fallbacks) the simulation's Tier-1 growth models.
//
// Each process runs in its cgroup with its oom_score_adj from the start
// of its set-up; the run creates the cgroups under one private parent
// (sbmpsim-PID-RANDOM) of the memory controller (cgroup v2 when the
// unified hierarchy enables it, else v1) and writes the limits:
// memory.max as memory.limit_in_bytes, swap_max_mb as
// memory.memsw.limit_in_bytes on v1, kernel.swappiness as each group's
// memory.swappiness. kernel.swap_mb adds a swap file for the run. It
// samples every cgroup, every process and the host's vmstat and PSI
// every 50 ms, and accounts for each death: the OOM killer's victims
// come with its own report from the kernel log (the time of the kill,
// the cgroup whose limit was hit, the victim's memory), or, without
// access to the log, are known by a SIGKILL while the victim's cgroup
// counted an OOM kill.
//
// What it refuses, before starting anything, with errors that name the
// file, line and key like any scenario error: a workload or process not
// confined by a cgroup with max_mb (a real run never runs unconfined);
// go-runtime (a model of a Go program, with no program to run) and
// heaptrack workloads; kmalloc-leak (kernel memory, out of user space's
// reach); synthetic workloads when no sampler builder was given;
// [[fault]]s (they act on the modelled machine); memory.high on cgroup
// v1, which has none; limits adding up to more than half the host's
// memory, swap files over 4 GiB and runs over 10 minutes; and, when the
// host refuses it, an oom_score_adj below 0 (that needs
// CAP_SYS_RESOURCE).
//
// Each worker runs on its workload's cpus (every thread of it pinned,
// pin.go), as the simulation places it, unless a CPU named there is not
// one this run may use (then it is listed as not applied).
//
// What it leaves out, and why: [machine] is not applied (the host is
// what it is; its facts are recorded in real.json), nor are the global
// vm sysctls (oom_kill_allocating_task, min_free_kbytes,
// watermark_scale_factor, vm.swappiness), which belong to everyone on
// the host; the time series is
// sampled at its own interval. An OOM victim's swap is not in the
// kernel's report and is taken from the last sample; without the kernel
// log, so are its other figures, and the kill's time is when the victim
// was reaped. The vmstat and PSI figures are the whole host's, and other
// work on it dilutes the PSI figures (hostcpu.go): real.json's host_cpu
// says how busy the host was besides the run. Nothing
// here is deterministic: a kernel may, for one, kill a second task
// while the first victim's memory is still being freed.
//
// Runs on one host never overlap: a run holds an exclusive lock on
// /run/lock/sbmpsim-real.lock from its set-up to the end of its clean-up,
// and another run (another process, a test binary of the same `go test
// ./...`) waits for it, since each would measure the other's workers in
// the host-wide figures.
//
// Clean-up is the contract: when Run returns, every process it started
// has been killed and reaped, its cgroups removed, its files deleted and
// its swap file switched off and deleted, whether the run succeeded,
// failed or was cancelled. Workers also die with the run (Pdeathsig),
// exit when its control pipe closes, and stop on their own shortly after
// the run's length.
package real
