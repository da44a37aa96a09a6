package validate

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot/vg"

	"github.com/sbmpsim/sbmpsim/experiments/canon"
	"github.com/sbmpsim/sbmpsim/model/kernel"
)

// Section is the validation's place in the report: notebooks-out/
// validation/, the last section of index.html (canon.ValidationSection).
func Section() canon.Experiment { return canon.ValidationSection() }

// Out builds the validation's outputs: validation.json, README.md and
// section.html with the summary table (also summary.csv), and per case
// its timeline figure (NAME.png, NAME.svg) and the numbers behind it
// (NAME.csv). cmd is the command that regenerates it. Write the result
// with Out.Write(root): the files go to root/validation/.
func Out(v *Validation, cmd string) (*canon.Out, error) {
	o := canon.NewOut(Section())
	doc, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode validation.json: %w", err)
	}
	o.File("validation.json", append(doc, '\n'))
	intro(o, v)
	o.Cmd(cmd)
	if v.Skipped != "" {
		return o, nil
	}
	o.Table("cases", "Cases", []string{"case", "what", "disk read 4 KiB / 32 KiB (us)", "other work on the host (CPUs)", "verdict", "why"}, caseRows(v))
	o.Table("summary", "Metrics: medians of the runs with [min, max] and the number of runs that have a value; error of the simulated median against the real one", []string{"case", "metric", "real", "simulated", "error", "tolerance", "verdict", "why / mechanism"}, metricRows(v))
	for i := range v.Cases {
		cr := &v.Cases[i]
		if cr.Verdict == Failed {
			continue
		}
		grid, header, rows, err := timelines(cr)
		if err != nil {
			return nil, fmt.Errorf("case %s: %w", cr.Name, err)
		}
		o.CSV(cr.Name, header, rows)
		o.P("Case %s (`%s`): %s; %s.", cr.Name, cr.Source, cr.Title, cr.Verdict+suffix(cr.Reason))
		if b := buddyNote(cr); b != "" {
			o.P("%s", b)
		}
		caption := fmt.Sprintf("%s: the scope cgroup's anonymous memory and page cache over time, real runs (solid) and simulations (dashed), median with min-max band; markers: each run's first OOM kill at the memory it found. The simulated anon line is the machine's evictable anonymous pages (mlocked pages are not in it); the real one is the cgroup's memory.stat rss.", cr.Name)
		if err := o.Figure(cr.Name, caption, 7*vg.Inch, vg.Length(len(grid))*2.8*vg.Inch, grid); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// intro writes what the page is and which host it was measured on.
func intro(o *canon.Out, v *Validation) {
	h := v.Host
	o.P("Each case is a scenario confined to a memory cgroup, run %d times for real on this host (`sbmpsim real`'s runner, seeds 1..%d) and simulated with the same seeds on this host's machine and kernel settings (the `[machine]` and `[kernel]` of `sbmpsim import host`, with the case's own swappiness, swap and cgroups). The counters are taken up to each run's first OOM kill. The tolerances were written in the suite before each case first ran and are never widened; a miss stays in the table with the mechanism that explains it.", v.Runs, v.Runs)
	o.P("Host: Linux %s, %d CPUs, %d MiB, cgroup v%d memory controller, THP enabled `%s` and defrag `%s`; the model computes %d of %d zones' watermarks and %d of %d tasks' oom_score exactly as this kernel does. The suite took %.0f s.",
		h.KernelRelease, h.CPUs, h.MemTotalKB>>10, h.Cgroup.Version, h.THPEnabled, h.THPDefrag, h.ZonesMatched, h.Zones, h.TasksMatched, h.Tasks, float64(v.WallNs)/1e9)
	if v.DiskError != "" {
		o.P("Disk: not measured (%s); the simulations use the model's defaults.", v.DiskError)
	} else if v.Skipped == "" {
		o.P("Disk: the host's disk was measured beside every real run (%d random O_DIRECT reads of 4 KiB and of 32 KiB under %s just before it), and each case is simulated with the mean of the measurements beside its own runs (`[machine]` disk_read_ns and disk_readahead_ns_per_page; the cases table lists them) instead of the model's defaults, %.1f us a 4 KiB read and %.1f us a further page, measured on this project's build machine on an earlier day: the latency drifts by tens of percent within minutes on this host.",
			diskReadsPerRun, h.TempDir, float64(kernel.DefaultReadNsPerPage)/1e3, float64(kernel.DefaultSwapReadaheadNsPerPage)/1e3)
	}
	if v.Skipped == "" {
		o.P("Other work: the memory stall figures of a real run are the whole host's (/proc/pressure/memory), which Linux averages over the CPUs weighted by each CPU's non-idle time (kernel/sched/psi.c, collect_percpu_times), so work on the host besides the run dilutes them. Before each real run the suite waits (up to %.0f s) until the host spends at most %.2f CPUs on other work, and each run records how much there was during it (real.json's host_cpu: the CPUs' time less /proc/stat's idle and iowait, against the run's processes' own); the cases table gives the median, and a stall figure that misses on a busy host says so. A quiet host shows under 0.1, the kworkers that serve the run's I/O among it.",
			quietPatience.Seconds(), busyOthersCPUs)
	}
	if v.Skipped != "" {
		o.P("Not run on this host: %s.", v.Skipped)
	}
}

// caseRows are the cases table's rows.
func caseRows(v *Validation) [][]string {
	var rows [][]string
	for _, c := range v.Cases {
		disk := "default"
		if c.Disk != nil {
			disk = fmt.Sprintf("%.1f / %.1f", float64(c.Disk.ReadNs)/1e3, float64(c.Disk.Read32Ns)/1e3)
		}
		others := "-"
		if c.OthersCPUs != nil {
			others = fmt.Sprintf("%.2f", *c.OthersCPUs)
			if *c.OthersCPUs > busyOthersCPUs {
				others += " (busy)"
			}
		}
		rows = append(rows, []string{c.Name, c.Title, disk, others, c.Verdict, c.Reason})
	}
	return rows
}

// metricRows are the summary table's rows, a row per case and metric.
func metricRows(v *Validation) [][]string {
	var rows [][]string
	for _, c := range v.Cases {
		for _, m := range c.Metrics {
			why := m.Reason
			if m.Mechanism != "" {
				why = strings.TrimPrefix(why+"; ", "; ") + m.Mechanism
			}
			rows = append(rows, []string{c.Name, metricLabel(m), formatSide(m.Metric, m.Real), formatSide(m.Metric, m.Sim),
				formatError(m), formatTolerance(m.Metric, m.Tol), m.Verdict, why})
		}
	}
	return rows
}

func metricLabel(m MetricResult) string {
	if m.Unit == "" {
		return string(m.Metric)
	}
	return string(m.Metric) + " (" + m.Unit + ")"
}

// formatSide writes one side as "median [min, max] n/runs", or the mode
// of a name metric with its count.
func formatSide(m MetricID, s *Side) string {
	switch {
	case s == nil || s.Runs == 0:
		return "-"
	case m.IsText():
		return fmt.Sprintf("%s (%d/%d)", s.Mode, s.Counts[s.Mode], s.Runs)
	case s.N == 0:
		return fmt.Sprintf("none (0/%d)", s.Runs)
	}
	return fmt.Sprintf("%s [%s, %s] %d/%d", formatNum(m, *s.Median), formatNum(m, *s.Min), formatNum(m, *s.Max), s.N, s.Runs)
}

// formatNum writes a value with the precision its unit deserves.
func formatNum(m MetricID, x float64) string {
	prec := 0
	switch m.Unit() {
	case "s":
		prec = 2
	case "MiB":
		prec = 1
	}
	return strconv.FormatFloat(x, 'f', prec, 64)
}

// formatError writes the error as "+12.3 % (+0.25 s)".
func formatError(m MetricResult) string {
	if m.ErrAbs == nil {
		return "-"
	}
	abs := formatNum(m.Metric, *m.ErrAbs)
	if *m.ErrAbs >= 0 {
		abs = "+" + abs
	}
	if m.ErrRel == nil || math.IsInf(*m.ErrRel, 0) {
		return abs + " " + m.Unit
	}
	return fmt.Sprintf("%+.1f %% (%s %s)", 100**m.ErrRel, abs, m.Unit)
}

// buddyNote says how fragmented the host's free memory was before the
// case's first real run (/proc/buddyinfo): the free blocks a huge page
// can come from, against the simulated machine, whose free memory
// starts in blocks of the largest order.
func buddyNote(cr *CaseResult) string {
	if len(cr.RealRuns) == 0 || cr.RealRuns[0].Buddyinfo == "" {
		return ""
	}
	var free [11]int64
	for _, line := range strings.Split(cr.RealRuns[0].Buddyinfo, "\n") {
		f := strings.Fields(line)
		if len(f) < 4+len(free) {
			continue
		}
		for o := range free {
			n, err := strconv.ParseInt(f[4+o], 10, 64)
			if err == nil {
				free[o] += n
			}
		}
	}
	var total, huge int64
	for o, n := range free {
		total += n << o
		if o >= 9 {
			huge += n << o
		}
	}
	if total == 0 {
		return ""
	}
	note := fmt.Sprintf("`/proc/buddyinfo` before the first real run: %d free order-9 and %d order-10 blocks, %.0f %% of the host's %d MiB of free memory in blocks a huge page can come from; the simulated machine starts with all its free memory in order-10 blocks.",
		free[9], free[10], 100*float64(huge)/float64(total), total>>8)
	if 2*huge > total {
		note += " The host was not fragmented: a huge-page fault that falls back here falls back for the cgroup's charge, not for want of a free block."
	}
	return note
}
