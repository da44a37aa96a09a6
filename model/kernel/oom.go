package kernel

import (
	"math"
	"strings"
)

// oom_score_adj limits (include/uapi/linux/oom.h).
const (
	// OOMScoreAdjMin (-1000) makes a task immune to the OOM killer.
	OOMScoreAdjMin = -1000
	// OOMScoreAdjMax (1000) makes a task the first candidate.
	OOMScoreAdjMax = 1000
)

// Task is what the OOM killer knows of a process (a thread group): its
// memory counters in pages, its oom_score_adj and the states that exclude
// it or stop the scan.
type Task struct {
	PID  int64  `json:"pid"`
	Comm string `json:"comm"`
	// RSS counters of the mm in pages (MM_ANONPAGES, MM_FILEPAGES,
	// MM_SHMEMPAGES).
	RSSAnonPages  int64 `json:"rss_anon_pages"`
	RSSFilePages  int64 `json:"rss_file_pages"`
	RSSShmemPages int64 `json:"rss_shmem_pages"`
	// SwapEntries is MM_SWAPENTS, the task's pages in swap.
	SwapEntries int64 `json:"swap_entries"`
	// PgtablesBytes is mm_pgtables_bytes.
	PgtablesBytes int64 `json:"pgtables_bytes"`
	// OOMScoreAdj is signal->oom_score_adj, -1000..1000.
	OOMScoreAdj int64 `json:"oom_score_adj"`
	// Unkillable marks the global init and kernel threads
	// (oom_unkillable_task).
	Unkillable bool `json:"unkillable,omitempty"`
	// NoMM: no thread of the task has an mm left (find_lock_task_mm
	// fails), as for a zombie.
	NoMM bool `json:"no_mm,omitempty"`
	// InVfork: the task is a vfork child sharing its parent's mm.
	InVfork bool `json:"in_vfork,omitempty"`
	// OOMSkip is MMF_OOM_SKIP: the mm was already reaped or is exiting
	// past the point of freeing anything more.
	OOMSkip bool `json:"oom_skip,omitempty"`
	// OOMVictim: the OOM killer already chose this task
	// (tsk_is_oom_victim) and it is still exiting.
	OOMVictim bool `json:"oom_victim,omitempty"`
	// OOMOrigin: oom_task_origin, set by swapoff and KSM unmerge while
	// they allocate on a task's behalf; such a task is chosen first.
	OOMOrigin bool `json:"oom_origin,omitempty"`
	// Exiting: the task has a fatal signal pending or is exiting, so it
	// will free its memory (task_will_free_mem, simplified).
	Exiting bool `json:"exiting,omitempty"`
	// Cgroup is the task's cgroup v2 path, "/" for the root.
	Cgroup string `json:"cgroup"`
}

// RSSPages is get_mm_rss: anon + file + shmem pages.
func (t *Task) RSSPages() int64 { return t.RSSAnonPages + t.RSSFilePages + t.RSSShmemPages }

// oomUnkillable is oom_unkillable_task: the global init or a kernel thread.
func (t *Task) oomUnkillable() bool { return t.Unkillable }

// OOMBadness is oom_badness (mm/oom_kill.c, Linux 6.12, unchanged in
// substance since 5.9): ok is false (the kernel's LONG_MIN) for unkillable
// tasks, tasks without an mm, oom_score_adj -1000, MMF_OOM_SKIP and vfork
// children; otherwise
//
//	points = rss + swap entries + pgtables_bytes / PAGE_SIZE
//	       + oom_score_adj * (totalpages / 1000)
//
// with the division done first, in 64-bit integers. totalpages is
// totalram_pages + total_swap_pages for a global OOM and the memcg limit
// for a memcg OOM.
func OOMBadness(t *Task, totalPages int64) (points int64, ok bool) {
	if t.oomUnkillable() || t.NoMM {
		return math.MinInt64, false
	}
	if t.OOMScoreAdj == OOMScoreAdjMin || t.OOMSkip || t.InVfork {
		return math.MinInt64, false
	}
	points = t.RSSPages() + t.SwapEntries + t.PgtablesBytes/PageSize
	return points + t.OOMScoreAdj*(totalPages/1000), true
}

// ProcOOMScore is what /proc/PID/oom_score shows (proc_oom_score in
// fs/proc/base.c, Linux 6.12, since 5.9):
// (1000 + badness * 1000 / totalpages) * 2 / 3 with C truncation toward
// zero, in [0, 2000]; 0 when the task is not a candidate. totalPages must
// be totalram_pages + total_swap_pages (see HostTotalPages).
func ProcOOMScore(t *Task, totalPages int64) int64 {
	badness, ok := OOMBadness(t, totalPages)
	if !ok || totalPages <= 0 {
		return 0
	}
	// Go's / truncates toward zero like C's. badness * 1000 does not
	// overflow for any realistic page count (< 9.2e15 pages).
	return (1000 + badness*1000/totalPages) * 2 / 3
}

// OOMScope says whose memory ran out.
type OOMScope int

// OOM scopes.
const (
	// OOMGlobal: the machine (CONSTRAINT_NONE).
	OOMGlobal OOMScope = iota
	// OOMMemcg: a cgroup hit memory.max (CONSTRAINT_MEMCG).
	OOMMemcg
)

// OOMControl is the OOM killer's input (struct oom_control and the sysctl
// it consults).
type OOMControl struct {
	Scope OOMScope
	// TotalPages is oc->totalpages: totalram + total swap pages for a
	// global OOM, MemcgTotalPages for a memcg OOM.
	TotalPages int64
	// Memcg is the cgroup path whose limit was hit (OOMMemcg only); the
	// scan covers it and its descendants.
	Memcg string
	// KillAllocatingTask is vm.oom_kill_allocating_task.
	KillAllocatingTask bool
	// Allocating is the index in the task slice of the task whose
	// allocation failed (current), or -1 for none.
	Allocating int
}

// OOMAction is the outcome of an OOM killer invocation.
type OOMAction int

// OOM outcomes.
const (
	// OOMKill: kill Victim.
	OOMKill OOMAction = iota
	// OOMWait: an earlier victim is still exiting; kill nobody and let
	// the allocation retry (the scan aborted, oc->chosen == -1).
	OOMWait
	// OOMNoVictim: nothing is killable. A global OOM then panics
	// ("System is deadlocked on memory"); a memcg OOM fails the charge.
	OOMNoVictim
)

// OOMDecision is what SelectVictim decided.
type OOMDecision struct {
	Action OOMAction
	// Victim is an index into the task slice (OOMKill only).
	Victim int
	// Points is the victim's badness (math.MaxInt64 for an OOM origin).
	Points int64
	// Reason is the kernel's message: "Out of memory", "Memory cgroup
	// out of memory", "Out of memory (oom_kill_allocating_task)" or, when
	// the allocating task is already exiting, "exiting".
	Reason string
}

// SelectVictim chooses whom to kill, as out_of_memory,
// select_bad_process and oom_evaluate_task do (mm/oom_kill.c, Linux 6.12):
//
//  1. an allocating task that is already exiting is chosen, to let it
//     free its memory (task_will_free_mem);
//  2. for a global OOM with vm.oom_kill_allocating_task set, the
//     allocating task is killed without a scan if it has an mm, is
//     killable and its oom_score_adj is not -1000;
//  3. otherwise every task in scope is evaluated in slice order (the
//     process walk; for a memcg OOM, only tasks of the cgroup and its
//     descendants): unkillable tasks are skipped; an OOM victim still
//     exiting aborts the scan (OOMWait) unless its mm is MMF_OOM_SKIP;
//     an OOM origin scores LONG_MAX; a task whose badness is below the
//     best so far is skipped, so on a tie the task met later wins.
//
// Cpuset and mempolicy constraints are not modelled.
func SelectVictim(tasks []Task, c OOMControl) OOMDecision {
	reason := "Out of memory"
	if c.Scope == OOMMemcg {
		reason = "Memory cgroup out of memory"
	}
	if cur := c.Allocating; cur >= 0 && cur < len(tasks) {
		t := &tasks[cur]
		if t.Exiting && !t.NoMM && !t.OOMSkip {
			points, _ := OOMBadness(t, c.TotalPages)
			return OOMDecision{Action: OOMKill, Victim: cur, Points: points, Reason: "exiting"}
		}
		if c.Scope == OOMGlobal && c.KillAllocatingTask && !t.NoMM &&
			!t.oomUnkillable() && t.OOMScoreAdj != OOMScoreAdjMin {
			points, _ := OOMBadness(t, c.TotalPages)
			return OOMDecision{Action: OOMKill, Victim: cur, Points: points,
				Reason: "Out of memory (oom_kill_allocating_task)"}
		}
	}
	d := selectBadProcess(tasks, c)
	d.Reason = reason
	return d
}

// selectBadProcess is select_bad_process with oom_evaluate_task.
func selectBadProcess(tasks []Task, c OOMControl) OOMDecision {
	d := OOMDecision{Action: OOMNoVictim, Victim: -1, Points: math.MinInt64}
	for i := range tasks {
		t := &tasks[i]
		if c.Scope == OOMMemcg && !InCgroup(t.Cgroup, c.Memcg) {
			continue
		}
		if t.oomUnkillable() {
			continue
		}
		if t.OOMVictim {
			if t.OOMSkip {
				continue
			}
			return OOMDecision{Action: OOMWait, Victim: -1}
		}
		points, ok := int64(math.MaxInt64), true
		if !t.OOMOrigin {
			points, ok = OOMBadness(t, c.TotalPages)
		}
		if !ok || points < d.Points {
			continue
		}
		d = OOMDecision{Action: OOMKill, Victim: i, Points: points}
	}
	return d
}

// InCgroup reports whether cgroup path p is memcg or one of its
// descendants ("/a/b" is in "/a" and in "/", not in "/ab").
func InCgroup(p, memcg string) bool {
	if memcg == "/" || memcg == "" || p == memcg {
		return true
	}
	return strings.HasPrefix(p, strings.TrimSuffix(memcg, "/")+"/")
}

// MemcgTotalPages is mem_cgroup_get_max for cgroup v2 (mm/memcontrol.c,
// Linux 6.12): memory.max plus, when the cgroup's swappiness is not zero,
// min(memory.swap.max, total swap pages); at least 1 page (the "?: 1" in
// constrained_alloc).
func MemcgTotalPages(memoryMaxPages, swapMaxPages, totalSwapPages int64, swappiness int) int64 {
	total := memoryMaxPages
	if swappiness != 0 {
		total += min(swapMaxPages, totalSwapPages)
	}
	return max(total, 1)
}

// RSSCounterSlackPages bounds how far the RSS that oom_badness sees can be
// from the RSS /proc/PID/status prints. The mm's counters are per-CPU
// counters (percpu_counter, batch = max(32, 2 * online CPUs) in
// lib/percpu_counter.c): status sums them exactly (get_mm_counter_sum in
// task_mem), while oom_badness reads only the global part
// (get_mm_counter, percpu_counter_read_positive), which misses less than
// one batch per CPU for each of the four counters (anon, file, shmem,
// swap). For a task that faulted recently on several CPUs the two views
// can therefore give different oom_scores, and no reading of /proc can
// tell which the kernel used.
func RSSCounterSlackPages(onlineCPUs int) int64 {
	n := int64(max(onlineCPUs, 1))
	return 4 * n * max(32, 2*n)
}
