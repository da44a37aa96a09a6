package host

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/model/kernel"
)

// This file reads the processes of /proc: their memory counters, flags and
// the kernel's oom_score.

// Task flags of /proc/PID/stat (include/linux/sched.h).
const (
	pfForkNoExec = 0x00000040 // PF_FORKNOEXEC: forked but did not exec
	pfKthread    = 0x00200000 // PF_KTHREAD
)

// InferVfork sets h.VforkChild when the task is, as far as /proc shows, a
// vfork child that has not exec'd yet: PF_FORKNOEXEC is set, every Vm*
// and Rss* line of its status equals its parent's, which is what sharing
// the parent's mm looks like, and the parent is in uninterruptible ("D")
// sleep, as it is in wait_for_vfork_done (a killable wait, which /proc
// shows as D). A plain fork() child also starts with its parent's
// counters, but its parent runs on, or sleeps interruptibly in wait4. The
// kernel excludes such a task from the OOM killer (in_vfork in
// oom_badness), so its oom_score is 0. /proc has
// no direct view of in_vfork; a child forked without CLONE_VM gets its own
// mm whose page-table and file RSS lines differ from the parent's, so the
// inference errs only in that unlikely coincidence.
func InferVfork(root string, h *Task) {
	if h.Flags&pfForkNoExec == 0 || !h.HasMM || h.PPID <= 0 {
		return
	}
	var parent Task
	dir := filepath.Join(root, "proc", strconv.FormatInt(h.PPID, 10))
	if readStatus(dir, &parent) == nil && parent.HasMM && parent.mmStatus == h.mmStatus && parent.state == 'D' {
		h.VforkChild = true
	}
}

// Task is one process of /proc: its memory counters as
// /proc/PID/status prints them (kB), its flags, and the kernel's oom_score.
type Task struct {
	PID        int64  `json:"pid"`
	Comm       string `json:"comm"`
	PPID       int64  `json:"ppid"`
	Flags      uint64 `json:"flags"`
	Kthread    bool   `json:"kthread"`
	HasMM      bool   `json:"has_mm"`
	VmRSSKB    int64  `json:"vm_rss_kb"`
	RSSAnonKB  int64  `json:"rss_anon_kb"`
	RSSFileKB  int64  `json:"rss_file_kb"`
	RSSShmemKB int64  `json:"rss_shmem_kb"`
	VmSwapKB   int64  `json:"vm_swap_kb"`
	VmPTEKB    int64  `json:"vm_pte_kb"`
	// OOMScoreAdj and OOMScore are /proc/PID/oom_score_adj and oom_score.
	OOMScoreAdj int64 `json:"oom_score_adj"`
	OOMScore    int64 `json:"oom_score"`
	// VforkChild is inferred by InferVfork: the task is a vfork child
	// still sharing its parent's mm.
	VforkChild bool `json:"vfork_child,omitempty"`
	// mmStatus is every Vm* and Rss* line of the status file, to tell
	// whether two tasks show the same mm.
	mmStatus string
	// state is the first letter of the status file's State line.
	state byte
}

// ModelTask converts the /proc view to the OOM killer's kernel.Task. PID 1 and
// kernel threads (PF_KTHREAD in /proc/PID/stat) are unkillable; a task
// none of whose threads shows Vm lines has no mm; an inferred vfork child
// is InVfork. Status prints pages << 2 and
// page-table bytes >> 10, so the conversion is exact.
func (h Task) ModelTask() kernel.Task {
	return kernel.Task{
		PID:           h.PID,
		Comm:          h.Comm,
		RSSAnonPages:  h.RSSAnonKB / (kernel.PageSize / 1024),
		RSSFilePages:  h.RSSFileKB / (kernel.PageSize / 1024),
		RSSShmemPages: h.RSSShmemKB / (kernel.PageSize / 1024),
		SwapEntries:   h.VmSwapKB / (kernel.PageSize / 1024),
		PgtablesBytes: h.VmPTEKB * 1024,
		OOMScoreAdj:   h.OOMScoreAdj,
		Unkillable:    h.PID == 1 || h.Kthread,
		NoMM:          !h.HasMM,
		InVfork:       h.VforkChild,
		Cgroup:        "/",
	}
}

// ReadTask reads root/proc/PID: status (or, when the thread-group
// leader has no mm left, the status of a thread that has one, as
// find_lock_task_mm would pick), stat, comm, oom_score_adj and oom_score.
// A task that exits meanwhile gives an error wrapping fs.ErrNotExist (or
// ESRCH from the read).
func ReadTask(root string, pid int64) (Task, error) {
	dir := filepath.Join(root, "proc", strconv.FormatInt(pid, 10))
	h := Task{PID: pid}
	if err := readStatus(dir, &h); err != nil {
		return h, err
	}
	if !h.HasMM {
		threadMM(dir, &h)
	}
	if err := readStat(dir, &h); err != nil {
		return h, err
	}
	comm, err := os.ReadFile(filepath.Join(dir, "comm"))
	if err != nil {
		return h, err
	}
	h.Comm = strings.TrimSuffix(string(comm), "\n")
	for _, f := range []struct {
		name string
		dst  *int64
	}{{"oom_score_adj", &h.OOMScoreAdj}, {"oom_score", &h.OOMScore}} {
		v, err := readInts(filepath.Join(dir, f.name))
		if err != nil || len(v) != 1 {
			return h, fmt.Errorf("%s/%s: %w", dir, f.name, errOr(err, "want one integer"))
		}
		*f.dst = v[0]
	}
	return h, nil
}

// readStatus reads the memory lines of /proc/PID/status.
func readStatus(dir string, h *Task) error {
	b, err := os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		return err
	}
	kv := parseKeyValues(string(b))
	var mm strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		if st, ok := strings.CutPrefix(line, "State:"); ok {
			if st = strings.TrimSpace(st); st != "" {
				h.state = st[0]
			}
		}
		if strings.HasPrefix(line, "Vm") || strings.HasPrefix(line, "Rss") {
			mm.WriteString(line)
			mm.WriteByte('\n')
		}
	}
	h.mmStatus = mm.String()
	_, h.HasMM = kv["VmRSS"]
	h.PPID = kv["PPid"]
	h.VmRSSKB, h.RSSAnonKB, h.RSSFileKB = kv["VmRSS"], kv["RssAnon"], kv["RssFile"]
	h.RSSShmemKB, h.VmSwapKB, h.VmPTEKB = kv["RssShmem"], kv["VmSwap"], kv["VmPTE"]
	return nil
}

// threadMM fills the memory lines from the first other thread that still
// has an mm, as find_lock_task_mm does for oom_badness: a thread group
// whose leader has exited (or is exiting) is still charged for the mm its
// other threads share, although the leader's status shows no Vm lines.
func threadMM(dir string, h *Task) {
	ents, err := os.ReadDir(filepath.Join(dir, "task"))
	if err != nil {
		return
	}
	for _, e := range ents {
		var t Task
		if readStatus(filepath.Join(dir, "task", e.Name()), &t) == nil && t.HasMM {
			pid, ppid := h.PID, h.PPID
			*h = t
			h.PID, h.PPID = pid, ppid
			return
		}
	}
}

// readStat reads the flags (field 9) of /proc/PID/stat; the command name
// in parentheses may itself contain spaces and parentheses.
func readStat(dir string, h *Task) error {
	b, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[i+1:])
	if i < 0 || len(f) < 7 {
		return fmt.Errorf("%s/stat: malformed", dir)
	}
	h.Flags, err = strconv.ParseUint(f[6], 10, 64)
	h.Kthread = h.Flags&pfKthread != 0
	return err
}

// ListPIDs returns the numeric entries of root/proc in increasing order
// (the order for_each_process meets long-lived processes in, roughly).
func ListPIDs(root string) ([]int64, error) {
	ents, err := os.ReadDir(filepath.Join(root, "proc"))
	if err != nil {
		return nil, err
	}
	var pids []int64
	for _, e := range ents {
		if pid, err := strconv.ParseInt(e.Name(), 10, 64); err == nil {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	return pids, nil
}

// ReadTaskStable reads a task until two consecutive reads agree on
// every field (status, stat, comm, oom_score_adj, oom_score), so that the
// oom_score read between them belongs to the counters around it. It
// gives up after tries attempts and reports stable = false.
func ReadTaskStable(root string, pid int64, tries int) (h Task, stable bool, err error) {
	prev, err := ReadTask(root, pid)
	if err != nil {
		return prev, false, err
	}
	for range tries {
		h, err = ReadTask(root, pid)
		if err != nil {
			return h, false, err
		}
		if h == prev {
			return h, true, nil
		}
		prev = h
	}
	return h, false, nil
}
