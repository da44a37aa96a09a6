package real

import (
	"fmt"
	"os"
	"slices"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
)

// A worker runs on its workload's cpus, as the simulation places it: the
// CPU a task runs on decides, among other things, how its memory stalls
// count in the host-wide PSI figures (kernel/sched/psi.c weighs each CPU
// by its non-idle time), so a run whose processes wander over the CPUs
// measures something else than the simulation of its scenario.
//
// What is pinned is what a task of the simulation is: one thread of work
// on one CPU. A task or mlock worker is pinned whole, every thread of it
// (pin): its work never blocks in a system call, so the Go runtime's
// other threads have nothing to do, and if they ran on another CPU the
// process's memory would be active there too, and reclaim would have to
// flush that CPU's TLB with an interrupt for every dirty page it unmaps
// (try_to_unmap_flush_dirty before pageout, mm/vmscan.c), which a
// single-threaded task on one CPU does not cause. Traced
// (ipi:ipi_send_cpu, cache-anon-swappiness60): with only the work thread
// pinned, the app sent 75,769 such interrupts from its own reclaim and
// each page written took 16.8 us instead of 3.2; pinned whole, it sent
// 55. A page-cache reader is pinned by its work thread only
// (pinThread): it blocks in pread, and the Go runtime then hands its
// scheduler to another thread, which a C reader does not need; pinned
// whole to one CPU, those hand-offs queue behind its reads, and the
// reader of thrash-hot-cache read 235k pages in a run against 305-330k
// with its work thread alone pinned there. An SBMP process runs its
// threads on all its workloads' CPUs (pin, on every thread).

// pinCPUs are the CPUs a workload's cpus list names, when this process
// may run on all of them (the host's CPUs, less any affinity it was
// started with); ok is false, with the reason, when it may not, and the
// worker is then not pinned.
func pinCPUs(list string) (cpus []int, ok bool, why string) {
	cpus, err := scenario.ParseCPUList(list)
	if err != nil {
		return nil, false, err.Error()
	}
	var mine unix.CPUSet
	if err := unix.SchedGetaffinity(0, &mine); err != nil {
		return nil, false, fmt.Sprintf("this process's CPUs cannot be read: %v", err)
	}
	for _, c := range cpus {
		if c < 0 || c >= len(mine)*64 || !mine.IsSet(c) {
			return nil, false, fmt.Sprintf("CPU %d is not one this run may use (%d of the host's)", c, mine.Count())
		}
	}
	return cpus, true, ""
}

// pinThread pins the calling thread to cpus.
func pinThread(cpus []int) error {
	set := cpuSet(cpus)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("pin the work's thread to CPUs %v: %w", cpus, err)
	}
	return nil
}

// pin sets the CPU affinity of every thread of process pid to cpus. A Go
// worker has started several threads before it is placed; threads it
// starts later inherit the affinity of the thread that starts them, so
// pin goes over the process's threads until a pass finds none it has not
// pinned.
func pin(pid int, cpus []int) error {
	set := cpuSet(cpus)
	done := map[int]bool{}
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	for pass := 0; pass < 10; pass++ {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("pin pid %d: %w", pid, err)
		}
		var tids []int
		for _, e := range ents {
			if tid, err := strconv.Atoi(e.Name()); err == nil && !done[tid] {
				tids = append(tids, tid)
			}
		}
		if len(tids) == 0 {
			return nil
		}
		slices.Sort(tids)
		for _, tid := range tids {
			// A thread that exited between the listing and now is
			// gone, which is fine.
			if err := unix.SchedSetaffinity(tid, &set); err != nil && err != unix.ESRCH {
				return fmt.Errorf("pin thread %d of pid %d to CPUs %v: %w", tid, pid, cpus, err)
			}
			done[tid] = true
		}
	}
	return fmt.Errorf("pin pid %d: it kept starting threads", pid)
}

// cpuSet is cpus as an affinity mask.
func cpuSet(cpus []int) unix.CPUSet {
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	return set
}
