package kernel

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// This file reads the memory-management state of the machine it runs on
// from /proc and /sys, under a root directory so that tests can use a fake
// tree. Nothing here is used by a simulation run; it feeds
// `sbmpsim import host` and the tests that check the model against the
// live kernel.

// HostSettings are the vm sysctls the model uses.
type HostSettings struct {
	Swappiness            int64 `json:"swappiness"`
	OOMKillAllocatingTask int64 `json:"oom_kill_allocating_task"`
	MinFreeKbytes         int64 `json:"min_free_kbytes"`
	WatermarkScaleFactor  int64 `json:"watermark_scale_factor"`
	// LowmemReserveRatio is vm.lowmem_reserve_ratio, one value per zone
	// type; the kernel default when the file is absent.
	LowmemReserveRatio []int64 `json:"lowmem_reserve_ratio"`
	// PercpuPagelistHighFraction is vm.percpu_pagelist_high_fraction (0,
	// the default, when absent).
	PercpuPagelistHighFraction int64 `json:"percpu_pagelist_high_fraction"`
}

// ReadHostSettings reads the vm sysctls under root/proc/sys/vm.
func ReadHostSettings(root string) (HostSettings, error) {
	var s HostSettings
	required := []struct {
		name string
		dst  *int64
	}{
		{"swappiness", &s.Swappiness},
		{"oom_kill_allocating_task", &s.OOMKillAllocatingTask},
		{"min_free_kbytes", &s.MinFreeKbytes},
		{"watermark_scale_factor", &s.WatermarkScaleFactor},
	}
	for _, r := range required {
		v, err := readInts(filepath.Join(root, "proc/sys/vm", r.name))
		if err != nil || len(v) != 1 {
			return s, fmt.Errorf("read vm.%s: %w", r.name, errOr(err, "want one integer"))
		}
		*r.dst = v[0]
	}
	def := DefaultLowmemReserveRatio()
	s.LowmemReserveRatio = def[:]
	if v, err := readInts(filepath.Join(root, "proc/sys/vm/lowmem_reserve_ratio")); err == nil {
		s.LowmemReserveRatio = v
	} else if !errors.Is(err, fs.ErrNotExist) {
		return s, fmt.Errorf("read vm.lowmem_reserve_ratio: %w", err)
	}
	if v, err := readInts(filepath.Join(root, "proc/sys/vm/percpu_pagelist_high_fraction")); err == nil && len(v) == 1 {
		s.PercpuPagelistHighFraction = v[0]
	}
	return s, nil
}

// errOr returns err, or a new error with msg when err is nil.
func errOr(err error, msg string) error {
	if err != nil {
		return err
	}
	return errors.New(msg)
}

// readInts reads a file of whitespace-separated decimal integers.
func readInts(path string) ([]int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, f := range strings.Fields(string(b)) {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// HostPCP is one CPU's pageset of a zone as /proc/zoneinfo prints it.
type HostPCP struct {
	CPU     int   `json:"cpu"`
	Count   int64 `json:"count"`
	High    int64 `json:"high"`
	Batch   int64 `json:"batch"`
	HighMin int64 `json:"high_min"`
	HighMax int64 `json:"high_max"`
}

// HostZone is one zone of /proc/zoneinfo.
type HostZone struct {
	Node        int        `json:"node"`
	Name        string     `json:"zone"`
	FreePages   int64      `json:"free_pages"`
	Spanned     int64      `json:"spanned"`
	Present     int64      `json:"present"`
	Managed     int64      `json:"managed"`
	StartPFN    int64      `json:"start_pfn"`
	Wmark       Watermarks `json:"watermarks"`
	Protection  []int64    `json:"protection"`
	NrFreePages int64      `json:"nr_free_pages"`
	PCPs        []HostPCP  `json:"pcps,omitempty"`
}

// ParseZoneinfo parses the text of /proc/zoneinfo (mm/vmstat.c,
// zoneinfo_show_print). Unknown lines are ignored, so older and newer
// kernels parse; a malformed number is an error naming the line.
func ParseZoneinfo(r io.Reader) ([]HostZone, error) {
	var zones []HostZone
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "Node ") {
			z, err := parseZoneHeader(line)
			if err != nil {
				return nil, fmt.Errorf("zoneinfo line %d: %w", n, err)
			}
			zones = append(zones, z)
			continue
		}
		if len(zones) == 0 {
			continue
		}
		if err := parseZoneLine(&zones[len(zones)-1], strings.Fields(line)); err != nil {
			return nil, fmt.Errorf("zoneinfo line %d %q: %w", n, line, err)
		}
	}
	return zones, sc.Err()
}

// parseZoneHeader parses "Node 0, zone   Normal".
func parseZoneHeader(line string) (HostZone, error) {
	var z HostZone
	f := strings.Fields(strings.ReplaceAll(line, ",", " "))
	if len(f) != 4 || f[2] != "zone" {
		return z, fmt.Errorf("bad zone header %q", line)
	}
	node, err := strconv.Atoi(f[1])
	z.Node, z.Name = node, f[3]
	return z, err
}

// parseZoneLine fills one field of z from the words of a zoneinfo line.
func parseZoneLine(z *HostZone, f []string) error {
	if len(f) < 2 {
		return nil
	}
	if f[0] == "protection:" {
		return parseProtection(z, f[1:])
	}
	if f[0] == "cpu:" {
		var cpu int64
		err := parseInt(f[1], &cpu)
		z.PCPs = append(z.PCPs, HostPCP{CPU: int(cpu)})
		return err
	}
	if f[0] == "pages" && f[1] == "free" && len(f) == 3 {
		return parseInt(f[2], &z.FreePages)
	}
	if dst := zoneField(z, f[0]); dst != nil && len(f) == 2 {
		return parseInt(f[1], dst)
	}
	return nil
}

// zoneField maps a zoneinfo key to the field it sets, or nil. The pageset
// keys apply to the CPU of the last "cpu:" line.
func zoneField(z *HostZone, key string) *int64 {
	switch key {
	case "boost":
		return &z.Wmark.Boost
	case "min":
		return &z.Wmark.Min
	case "low":
		return &z.Wmark.Low
	case "high":
		return &z.Wmark.High
	case "promo":
		return &z.Wmark.Promo
	case "spanned":
		return &z.Spanned
	case "present":
		return &z.Present
	case "managed":
		return &z.Managed
	case "nr_free_pages":
		return &z.NrFreePages
	case "start_pfn:":
		return &z.StartPFN
	}
	return pcpField(z, key)
}

// pcpField maps a pageset key to the field of the last listed CPU.
func pcpField(z *HostZone, key string) *int64 {
	if len(z.PCPs) == 0 {
		return nil
	}
	p := &z.PCPs[len(z.PCPs)-1]
	switch key {
	case "count:":
		return &p.Count
	case "high:":
		return &p.High
	case "batch:":
		return &p.Batch
	case "high_min:":
		return &p.HighMin
	case "high_max:":
		return &p.HighMax
	}
	return nil
}

// parseProtection parses "(0, 3018, 5066, 5066, 5066)".
func parseProtection(z *HostZone, f []string) error {
	z.Protection = z.Protection[:0]
	for _, w := range f {
		var v int64
		if err := parseInt(strings.Trim(w, "(),"), &v); err != nil {
			return err
		}
		z.Protection = append(z.Protection, v)
	}
	return nil
}

func parseInt(s string, dst *int64) error {
	v, err := strconv.ParseInt(s, 10, 64)
	*dst = v
	return err
}

// ReadZoneinfo reads and parses root/proc/zoneinfo.
func ReadZoneinfo(root string) ([]HostZone, error) {
	f, err := os.Open(filepath.Join(root, "proc/zoneinfo"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zones, err := ParseZoneinfo(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	return zones, nil
}

// ModelZones converts parsed zones to model zones (spans and page counts;
// watermarks and reserves are left for SetupWatermarks and
// SetupLowmemReserve to compute).
func ModelZones(hz []HostZone) ([]Zone, error) {
	zones := make([]Zone, len(hz))
	for i, h := range hz {
		t, ok := ParseZoneType(h.Name)
		if !ok {
			return nil, fmt.Errorf("node %d: unknown zone type %q", h.Node, h.Name)
		}
		zones[i] = Zone{Node: h.Node, Type: t, StartPFN: h.StartPFN,
			SpannedPages: h.Spanned, PresentPages: h.Present, ManagedPages: h.Managed}
	}
	return zones, nil
}

// HostMeminfo holds the /proc/meminfo lines the model uses, in kB.
type HostMeminfo struct {
	MemTotalKB  int64 `json:"mem_total_kb"`
	MemFreeKB   int64 `json:"mem_free_kb"`
	SwapTotalKB int64 `json:"swap_total_kb"`
	SwapFreeKB  int64 `json:"swap_free_kb"`
}

// ReadMeminfo reads root/proc/meminfo. MemTotal is required.
func ReadMeminfo(root string) (HostMeminfo, error) {
	var m HostMeminfo
	kv, err := readKeyValues(filepath.Join(root, "proc/meminfo"))
	if err != nil {
		return m, err
	}
	m.MemTotalKB, m.MemFreeKB = kv["MemTotal"], kv["MemFree"]
	m.SwapTotalKB, m.SwapFreeKB = kv["SwapTotal"], kv["SwapFree"]
	if _, ok := kv["MemTotal"]; !ok {
		return m, fmt.Errorf("%s: no MemTotal line", filepath.Join(root, "proc/meminfo"))
	}
	return m, nil
}

// TotalPages is totalram_pages + total_swap_pages as the OOM killer and
// proc_oom_score use it. MemTotal is totalram_pages in kB (si_meminfo),
// which on machines with deferred or lazily initialised memory exceeds the
// sum of the zones' managed pages; the live-host test checks that this
// is the value that reproduces /proc/PID/oom_score.
func (m HostMeminfo) TotalPages() int64 {
	return m.MemTotalKB/(PageSize/1024) + m.SwapTotalKB/(PageSize/1024)
}

// readKeyValues reads "Key:   123 kB" lines (meminfo, status) into a map
// of the first number on each line; lines without a number are skipped.
func readKeyValues(path string) (map[string]int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseKeyValues(string(b)), nil
}

// parseKeyValues parses the text of a "Key: value" file.
func parseKeyValues(text string) map[string]int64 {
	kv := map[string]int64{}
	for _, line := range strings.Split(text, "\n") {
		key, rest, ok := strings.Cut(line, ":")
		f := strings.Fields(rest)
		if !ok || len(f) == 0 {
			continue
		}
		if v, err := strconv.ParseInt(f[0], 10, 64); err == nil {
			kv[key] = v
		}
	}
	return kv
}

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
// counters, but its parent runs on, or sleeps interruptibly in wait4. The kernel excludes such a task from the
// OOM killer (in_vfork in oom_badness), so its oom_score is 0. /proc has
// no direct view of in_vfork; a child forked without CLONE_VM gets its own
// mm whose page-table and file RSS lines differ from the parent's, so the
// inference errs only in that unlikely coincidence.
func InferVfork(root string, h *HostTask) {
	if h.Flags&pfForkNoExec == 0 || !h.HasMM || h.PPID <= 0 {
		return
	}
	var parent HostTask
	dir := filepath.Join(root, "proc", strconv.FormatInt(h.PPID, 10))
	if readStatus(dir, &parent) == nil && parent.HasMM && parent.mmStatus == h.mmStatus && parent.state == 'D' {
		h.VforkChild = true
	}
}

// HostTask is one process of /proc: its memory counters as
// /proc/PID/status prints them (kB), its flags, and the kernel's oom_score.
type HostTask struct {
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

// ModelTask converts the /proc view to the OOM killer's Task. PID 1 and
// kernel threads (PF_KTHREAD in /proc/PID/stat) are unkillable; a task
// none of whose threads shows Vm lines has no mm; an inferred vfork child
// is InVfork. Status prints pages << 2 and
// page-table bytes >> 10, so the conversion is exact.
func (h HostTask) ModelTask() Task {
	return Task{
		PID:           h.PID,
		Comm:          h.Comm,
		RSSAnonPages:  h.RSSAnonKB / (PageSize / 1024),
		RSSFilePages:  h.RSSFileKB / (PageSize / 1024),
		RSSShmemPages: h.RSSShmemKB / (PageSize / 1024),
		SwapEntries:   h.VmSwapKB / (PageSize / 1024),
		PgtablesBytes: h.VmPTEKB * 1024,
		OOMScoreAdj:   h.OOMScoreAdj,
		Unkillable:    h.PID == 1 || h.Kthread,
		NoMM:          !h.HasMM,
		InVfork:       h.VforkChild,
		Cgroup:        "/",
	}
}

// ReadHostTask reads root/proc/PID: status (or, when the thread-group
// leader has no mm left, the status of a thread that has one, as
// find_lock_task_mm would pick), stat, comm, oom_score_adj and oom_score.
// A task that exits meanwhile gives an error wrapping fs.ErrNotExist (or
// ESRCH from the read).
func ReadHostTask(root string, pid int64) (HostTask, error) {
	dir := filepath.Join(root, "proc", strconv.FormatInt(pid, 10))
	h := HostTask{PID: pid}
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
func readStatus(dir string, h *HostTask) error {
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
func threadMM(dir string, h *HostTask) {
	ents, err := os.ReadDir(filepath.Join(dir, "task"))
	if err != nil {
		return
	}
	for _, e := range ents {
		var t HostTask
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
func readStat(dir string, h *HostTask) error {
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

// ReadHostTaskStable reads a task until two consecutive reads agree on
// every field (status, stat, comm, oom_score_adj, oom_score), so that the
// oom_score read between them belongs to the counters around it. It
// gives up after tries attempts and reports stable = false.
func ReadHostTaskStable(root string, pid int64, tries int) (h HostTask, stable bool, err error) {
	prev, err := ReadHostTask(root, pid)
	if err != nil {
		return prev, false, err
	}
	for range tries {
		h, err = ReadHostTask(root, pid)
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

// ParseCPUList parses a kernel CPU list such as "0-3,8,10-11" and returns
// the number of CPUs in it.
func ParseCPUList(s string) (int, error) {
	n := 0
	for _, part := range strings.Split(strings.TrimSpace(s), ",") {
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return 0, fmt.Errorf("cpu list %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return 0, fmt.Errorf("cpu list %q: bad range %q", s, part)
			}
		}
		n += b - a + 1
	}
	return n, nil
}

// readCPUCount reads a CPU list file, or returns fallback when it is absent.
func readCPUCount(path string, fallback int) (int, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fallback, nil
	}
	if err != nil {
		return 0, err
	}
	return ParseCPUList(string(b))
}

// HostReportSchema names the JSON layout of HostReport.
const HostReportSchema = "sbmpsim.host/v1"

// HostReport is the data of `sbmpsim import host --format json`: the
// machine's vm settings, its zones with the kernel's watermarks, reserves
// and pageset limits next to the model's, and its tasks with the kernel's
// oom_score next to the model's.
type HostReport struct {
	Schema        string           `json:"schema"`
	KernelRelease string           `json:"kernel_release"`
	Settings      HostSettings     `json:"settings"`
	Meminfo       HostMeminfo      `json:"meminfo"`
	OOMTotalPages int64            `json:"oom_total_pages"`
	Zones         []HostZoneReport `json:"zones"`
	Tasks         []HostTaskReport `json:"tasks"`
	ZonesMatched  int              `json:"zones_matched"`
	TasksMatched  int              `json:"tasks_matched"`
	// TasksWithinSlack counts the tasks that did not match exactly but
	// lie within RSSCounterSlackPages of the kernel's score.
	TasksWithinSlack int `json:"tasks_within_slack"`
	// TasksUnstable counts tasks left out because their counters kept
	// changing while they were read.
	TasksUnstable int `json:"tasks_unstable"`
	// TasksVfork counts tasks taken for vfork children (InferVfork).
	TasksVfork int `json:"tasks_vfork"`
}

// HostZoneReport compares one zone of the kernel with the model.
type HostZoneReport struct {
	Node             int        `json:"node"`
	Zone             string     `json:"zone"`
	Managed          int64      `json:"managed"`
	Present          int64      `json:"present"`
	Spanned          int64      `json:"spanned"`
	Kernel           Watermarks `json:"kernel_watermarks"`
	Model            Watermarks `json:"model_watermarks"`
	KernelProtection []int64    `json:"kernel_protection"`
	ModelProtection  []int64    `json:"model_protection"`
	KernelPCP        *PCPConfig `json:"kernel_pcp,omitempty"`
	ModelPCP         PCPConfig  `json:"model_pcp"`
	WatermarksMatch  bool       `json:"watermarks_match"`
	ProtectionMatch  bool       `json:"protection_match"`
	PCPMatch         bool       `json:"pcp_match"`
}

// HostTaskReport compares one task's oom_score with the model's.
type HostTaskReport struct {
	PID            int64  `json:"pid"`
	Comm           string `json:"comm"`
	Kthread        bool   `json:"kthread"`
	VforkChild     bool   `json:"vfork_child,omitempty"`
	RSSKB          int64  `json:"rss_kb"`
	SwapKB         int64  `json:"swap_kb"`
	PTEKB          int64  `json:"pte_kb"`
	OOMScoreAdj    int64  `json:"oom_score_adj"`
	Killable       bool   `json:"killable"`
	ModelBadness   int64  `json:"model_badness"`
	KernelOOMScore int64  `json:"kernel_oom_score"`
	ModelOOMScore  int64  `json:"model_oom_score"`
	Match          bool   `json:"match"`
	// WithinCounterSlack: not an exact match, but the kernel's score is
	// one the model gives for an RSS within the per-CPU counter slack
	// (see RSSCounterSlackPages).
	WithinCounterSlack bool `json:"within_counter_slack,omitempty"`
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

// SnapshotHost reads the machine under root and compares it with the
// model: watermarks from SetupWatermarks, reserves from
// SetupLowmemReserve, pagesets from PagesetConfig and oom scores from
// ProcOOMScore with totalpages = MemTotal + SwapTotal in pages.
func SnapshotHost(root string) (HostReport, error) {
	r := HostReport{Schema: HostReportSchema}
	var err error
	if r.Settings, err = ReadHostSettings(root); err != nil {
		return r, err
	}
	if r.Meminfo, err = ReadMeminfo(root); err != nil {
		return r, err
	}
	r.OOMTotalPages = r.Meminfo.TotalPages()
	if b, err := os.ReadFile(filepath.Join(root, "proc/sys/kernel/osrelease")); err == nil {
		r.KernelRelease = strings.TrimSpace(string(b))
	}
	hz, err := ReadZoneinfo(root)
	if err != nil {
		return r, err
	}
	if r.Zones, err = CompareZones(root, hz, r.Settings); err != nil {
		return r, err
	}
	for _, z := range r.Zones {
		if z.WatermarksMatch && z.ProtectionMatch && z.PCPMatch {
			r.ZonesMatched++
		}
	}
	return r, r.compareTasks(root)
}

// CompareZones computes the model's view of the parsed zones and sets it
// next to the kernel's. root locates the CPU lists under /sys; when they
// are absent, each zone's pageset count stands in for the CPU count.
func CompareZones(root string, hz []HostZone, s HostSettings) ([]HostZoneReport, error) {
	zones, err := ModelZones(hz)
	if err != nil {
		return nil, err
	}
	if err := SetupWatermarks(zones, s.MinFreeKbytes, s.WatermarkScaleFactor); err != nil {
		return nil, err
	}
	var ratio [NrZoneTypes]int64
	copy(ratio[:], s.LowmemReserveRatio)
	SetupLowmemReserve(zones, ratio)
	out := make([]HostZoneReport, len(hz))
	for i, h := range hz {
		out[i], err = compareZone(root, h, &zones[i], s)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// compareZone fills one zone's report.
func compareZone(root string, h HostZone, z *Zone, s HostSettings) (HostZoneReport, error) {
	sysCPU := filepath.Join(root, "sys/devices/system")
	online, err := readCPUCount(filepath.Join(sysCPU, "cpu/online"), len(h.PCPs))
	if err != nil {
		return HostZoneReport{}, err
	}
	nodeCPUs, err := readCPUCount(filepath.Join(sysCPU, fmt.Sprintf("node/node%d/cpulist", h.Node)), online)
	if err != nil {
		return HostZoneReport{}, err
	}
	r := HostZoneReport{
		Node: h.Node, Zone: h.Name, Managed: h.Managed, Present: h.Present, Spanned: h.Spanned,
		Kernel: h.Wmark, Model: z.Wmark,
		KernelProtection: h.Protection, ModelProtection: z.LowmemReserve[:min(len(h.Protection), int(NrZoneTypes))],
		ModelPCP: PagesetConfig(z, nodeCPUs, online, s.PercpuPagelistHighFraction),
	}
	if len(h.PCPs) > 0 && h.PCPs[0].HighMax > 0 {
		p := h.PCPs[0]
		r.KernelPCP = &PCPConfig{Batch: p.Batch, HighMin: p.HighMin, HighMax: p.HighMax}
	}
	k, m := h.Wmark, z.Wmark
	r.WatermarksMatch = k.Min == m.Min && k.Low == m.Low && k.High == m.High && (k.Promo == 0 || k.Promo == m.Promo)
	r.ProtectionMatch = slices.Equal(r.KernelProtection, r.ModelProtection)
	r.PCPMatch = r.KernelPCP == nil || *r.KernelPCP == r.ModelPCP
	return r, nil
}

// compareTasks reads every task and compares its oom_score.
func (r *HostReport) compareTasks(root string) error {
	pids, err := ListPIDs(root)
	if err != nil {
		return err
	}
	online, err := readCPUCount(filepath.Join(root, "sys/devices/system/cpu/online"), 1)
	if err != nil {
		return err
	}
	slack := RSSCounterSlackPages(online)
	for _, pid := range pids {
		h, stable, err := ReadHostTaskStable(root, pid, 3)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
			continue // the task exited while we read it
		}
		if err != nil {
			return err
		}
		if !stable {
			r.TasksUnstable++
			continue
		}
		InferVfork(root, &h)
		if h.VforkChild {
			r.TasksVfork++
		}
		tr := compareTask(h, r.OOMTotalPages, slack)
		if tr.Match {
			r.TasksMatched++
		}
		if tr.WithinCounterSlack {
			r.TasksWithinSlack++
		}
		r.Tasks = append(r.Tasks, tr)
	}
	return nil
}

// compareTask sets the model's oom_score of one task next to the kernel's.
func compareTask(h HostTask, totalPages, slack int64) HostTaskReport {
	t := h.ModelTask()
	badness, killable := OOMBadness(&t, totalPages)
	tr := HostTaskReport{
		PID: h.PID, Comm: h.Comm, Kthread: h.Kthread, VforkChild: h.VforkChild, RSSKB: h.VmRSSKB, SwapKB: h.VmSwapKB,
		PTEKB: h.VmPTEKB, OOMScoreAdj: h.OOMScoreAdj, Killable: killable, KernelOOMScore: h.OOMScore,
		ModelOOMScore: ProcOOMScore(&t, totalPages),
	}
	if killable {
		tr.ModelBadness = badness
	}
	tr.Match = tr.ModelOOMScore == tr.KernelOOMScore
	if !tr.Match && killable {
		// The score grows with RSS, so the slack bounds it.
		lo, hi := t, t
		lo.RSSAnonPages -= min(slack, t.RSSPages())
		hi.RSSAnonPages += slack
		k := tr.KernelOOMScore
		tr.WithinCounterSlack = ProcOOMScore(&lo, totalPages) <= k && k <= ProcOOMScore(&hi, totalPages)
	}
	return tr
}
