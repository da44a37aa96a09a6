package host

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/sbmpsim/sbmpsim/model/kernel"
)

// This file compares a host with the kernel model: the kernel's
// watermarks, reserves and pagesets with the model's, and each task's
// oom_score with the model's.

// ReportSchema names the JSON layout of Report.
const ReportSchema = "sbmpsim.host/v1"

// Report is the data of `sbmpsim import host --format json`: the
// machine's vm settings, its zones with the kernel's watermarks, reserves
// and pageset limits next to the model's, and its tasks with the kernel's
// oom_score next to the model's.
type Report struct {
	Schema        string       `json:"schema"`
	KernelRelease string       `json:"kernel_release"`
	Settings      Settings     `json:"settings"`
	Meminfo       Meminfo      `json:"meminfo"`
	OOMTotalPages int64        `json:"oom_total_pages"`
	Zones         []ZoneReport `json:"zones"`
	Tasks         []TaskReport `json:"tasks"`
	ZonesMatched  int          `json:"zones_matched"`
	TasksMatched  int          `json:"tasks_matched"`
	// TasksWithinSlack counts the tasks that did not match exactly but
	// lie within kernel.RSSCounterSlackPages of the kernel's score.
	TasksWithinSlack int `json:"tasks_within_slack"`
	// TasksUnstable counts tasks left out because their counters kept
	// changing while they were read.
	TasksUnstable int `json:"tasks_unstable"`
	// TasksVfork counts tasks taken for vfork children (InferVfork).
	TasksVfork int `json:"tasks_vfork"`
	// CgroupVersion is the memory controller's version (ReadCgroupVersion;
	// 0 when none was found).
	CgroupVersion int `json:"cgroup_version,omitempty"`
}

// ZoneReport compares one zone of the kernel with the model.
type ZoneReport struct {
	Node             int               `json:"node"`
	Zone             string            `json:"zone"`
	Managed          int64             `json:"managed"`
	Present          int64             `json:"present"`
	Spanned          int64             `json:"spanned"`
	Kernel           kernel.Watermarks `json:"kernel_watermarks"`
	Model            kernel.Watermarks `json:"model_watermarks"`
	KernelProtection []int64           `json:"kernel_protection"`
	ModelProtection  []int64           `json:"model_protection"`
	KernelPCP        *kernel.PCPConfig `json:"kernel_pcp,omitempty"`
	ModelPCP         kernel.PCPConfig  `json:"model_pcp"`
	WatermarksMatch  bool              `json:"watermarks_match"`
	ProtectionMatch  bool              `json:"protection_match"`
	PCPMatch         bool              `json:"pcp_match"`
}

// TaskReport compares one task's oom_score with the model's.
type TaskReport struct {
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
	// (see kernel.RSSCounterSlackPages).
	WithinCounterSlack bool `json:"within_counter_slack,omitempty"`
}

// Snapshot reads the machine under root and compares it with the model:
// watermarks from kernel.SetupWatermarks, reserves from
// kernel.SetupLowmemReserve, pagesets from kernel.PagesetConfig and oom
// scores from kernel.ProcOOMScore with totalpages = MemTotal + SwapTotal
// in pages.
func Snapshot(root string) (Report, error) {
	r := Report{Schema: ReportSchema}
	var err error
	if r.Settings, err = ReadSettings(root); err != nil {
		return r, err
	}
	if r.Meminfo, err = ReadMeminfo(root); err != nil {
		return r, err
	}
	r.OOMTotalPages = r.Meminfo.TotalPages()
	r.CgroupVersion = ReadCgroupVersion(root)
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
func CompareZones(root string, hz []Zone, s Settings) ([]ZoneReport, error) {
	zones, err := ModelZones(hz)
	if err != nil {
		return nil, err
	}
	if err := kernel.SetupWatermarks(zones, s.MinFreeKbytes, s.WatermarkScaleFactor); err != nil {
		return nil, err
	}
	var ratio [kernel.NrZoneTypes]int64
	copy(ratio[:], s.LowmemReserveRatio)
	kernel.SetupLowmemReserve(zones, ratio)
	out := make([]ZoneReport, len(hz))
	for i, h := range hz {
		out[i], err = compareZone(root, h, &zones[i], s)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// compareZone fills one zone's report.
func compareZone(root string, h Zone, z *kernel.Zone, s Settings) (ZoneReport, error) {
	sysCPU := filepath.Join(root, "sys/devices/system")
	online, err := readCPUCount(filepath.Join(sysCPU, "cpu/online"), len(h.PCPs))
	if err != nil {
		return ZoneReport{}, err
	}
	nodeCPUs, err := readCPUCount(filepath.Join(sysCPU, fmt.Sprintf("node/node%d/cpulist", h.Node)), online)
	if err != nil {
		return ZoneReport{}, err
	}
	r := ZoneReport{
		Node: h.Node, Zone: h.Name, Managed: h.Managed, Present: h.Present, Spanned: h.Spanned,
		Kernel: h.Wmark, Model: z.Wmark,
		KernelProtection: h.Protection, ModelProtection: z.LowmemReserve[:min(len(h.Protection), int(kernel.NrZoneTypes))],
		ModelPCP: kernel.PagesetConfig(z, nodeCPUs, online, s.PercpuPagelistHighFraction),
	}
	if len(h.PCPs) > 0 && h.PCPs[0].HighMax > 0 {
		p := h.PCPs[0]
		r.KernelPCP = &kernel.PCPConfig{Batch: p.Batch, HighMin: p.HighMin, HighMax: p.HighMax}
	}
	k, m := h.Wmark, z.Wmark
	r.WatermarksMatch = k.Min == m.Min && k.Low == m.Low && k.High == m.High && (k.Promo == 0 || k.Promo == m.Promo)
	r.ProtectionMatch = slices.Equal(r.KernelProtection, r.ModelProtection)
	r.PCPMatch = r.KernelPCP == nil || *r.KernelPCP == r.ModelPCP
	return r, nil
}

// compareTasks reads every task and compares its oom_score.
func (r *Report) compareTasks(root string) error {
	pids, err := ListPIDs(root)
	if err != nil {
		return err
	}
	online, err := readCPUCount(filepath.Join(root, "sys/devices/system/cpu/online"), 1)
	if err != nil {
		return err
	}
	slack := kernel.RSSCounterSlackPages(online)
	for _, pid := range pids {
		h, stable, err := ReadTaskStable(root, pid, 3)
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
func compareTask(h Task, totalPages, slack int64) TaskReport {
	t := h.ModelTask()
	badness, killable := kernel.OOMBadness(&t, totalPages)
	tr := TaskReport{
		PID: h.PID, Comm: h.Comm, Kthread: h.Kthread, VforkChild: h.VforkChild, RSSKB: h.VmRSSKB, SwapKB: h.VmSwapKB,
		PTEKB: h.VmPTEKB, OOMScoreAdj: h.OOMScoreAdj, Killable: killable, KernelOOMScore: h.OOMScore,
		ModelOOMScore: kernel.ProcOOMScore(&t, totalPages),
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
		tr.WithinCounterSlack = kernel.ProcOOMScore(&lo, totalPages) <= k && k <= kernel.ProcOOMScore(&hi, totalPages)
	}
	return tr
}

// countCPUList parses a kernel CPU list such as "0-3,8,10-11" and returns
// the number of CPUs in it.
func countCPUList(s string) (int, error) {
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
	return countCPUList(string(b))
}
