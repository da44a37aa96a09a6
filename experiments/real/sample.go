package real

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/sbmpsim/sbmpsim/experiments/input/host"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/model/kernel"
)

// This file samples the kernel while the run goes and accounts for the
// processes that die: the OOM killer's victims among them.

// vmstatColumns are the /proc/vmstat counters real.csv carries, as their
// change since the start: every one the kernel model keeps (the
// simulation's timeseries.csv columns, by the same names), then the
// others that tell reclaim, compaction and the OOM killer apart.
// real.json has them all.
func vmstatColumns() []string {
	var out []string
	for e := range kernel.NrVMEvents {
		out = append(out, e.String())
	}
	for _, c := range []string{"allocstall_dma", "allocstall_dma32", "compact_migrate_scanned", "compact_free_scanned", "pgalloc_normal", "pgfree", "nr_free_pages"} {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// sampler reads the kernel every interval into the time series, and
// keeps the last reading of each cgroup and process for the summary.
type sampler struct {
	r      *runner
	vm0    map[string]int64
	vmCols []string
	psi0   PSI
	// noPSI: the host has no /proc/pressure/memory (CONFIG_PSI off, or
	// psi=0 on the command line); the PSI figures stay 0.
	noPSI bool
	ts    world.Timeseries
	// last holds each group's latest reading (the parent's too) and
	// oomBase its oom_kill count at the start; lastNs is when.
	last    map[*group]cgroupSample
	oomBase map[*group]int64
	lastNs  int64
	// attributed counts the OOM kills accounted for, per group.
	attributed map[*group]int64
	vmLast     map[string]int64
	psiLast    PSI
	events     []OOMEvent
	swapPeak   int64
	samples    int
	// history keeps the groups' readings of the last historyLen
	// samples, so that an OOM event can show the sample before the kill
	// although the death is seen after it.
	history []snapshot
	// kmsg reads the OOM killer's reports (nil without access to the
	// kernel log; kmsgErr says why), and t0Us is the run's start on
	// the log's clock.
	kmsg    *kmsgReader
	kmsgErr string
	t0Us    int64
	// cpu measures how busy the host's CPUs were, and with whose work.
	cpu *cpuMeter
}

// snapshot is the groups' readings at one sample.
type snapshot struct {
	ns     int64
	groups map[*group]cgroupSample
}

// historyLen is how many samples history keeps (5 s at 50 ms).
const historyLen = 100

func newSampler(r *runner) *sampler {
	return &sampler{r: r, last: map[*group]cgroupSample{}, oomBase: map[*group]int64{}, attributed: map[*group]int64{}}
}

// baseline reads the counters the run's figures are changes of, and
// names the time series' columns.
func (s *sampler) baseline() error {
	var err error
	if s.vm0, err = readVmstat(); err != nil {
		return err
	}
	s.psi0, err = readPSI()
	s.noPSI = err != nil
	switch {
	case s.r.opt.IgnoreKernelLog:
		s.kmsgErr = "not read (Options.IgnoreKernelLog)"
	default:
		if s.kmsg, err = openKmsg(); err != nil {
			s.kmsgErr = err.Error()
		}
	}
	for _, g := range s.allGroups() {
		c, err := s.r.fs.sample(g.dir)
		if err != nil {
			return err
		}
		s.oomBase[g], s.last[g] = c.oomKill, c
	}
	cols := []string{"time_ns", "anon_pages", "file_pages", "swap_used_pages", "usage_pages"}
	for i := range s.r.groups {
		p := "cgroup" + strconv.Itoa(i) + "_"
		cols = append(cols, p+"usage_pages", p+"failcnt", p+"oom_kill")
	}
	for _, p := range s.r.procs {
		pre := "pid" + strconv.FormatInt(p.info.PID, 10) + "_"
		cols = append(cols, pre+"rss_anon_pages", pre+"rss_file_pages", pre+"swap_pages", pre+"oom_score")
	}
	for _, c := range vmstatColumns() {
		if _, ok := s.vm0[c]; ok {
			s.vmCols = append(s.vmCols, c)
			cols = append(cols, c)
		}
	}
	s.ts.Columns = append(cols, "psi_some_total_us", "psi_full_total_us")
	s.cpu = newCPUMeter()
	s.cpu.sample(s.livePIDs())
	return nil
}

// livePIDs are the host pids of the run's processes still alive.
func (s *sampler) livePIDs() []int {
	var out []int
	for _, p := range s.r.procs {
		if p.alive() {
			out = append(out, p.info.RealPID)
		}
	}
	return out
}

// allGroups is the private parent and the scenario's groups.
func (s *sampler) allGroups() []*group { return append([]*group{s.r.parent}, s.r.groups...) }

// loop samples at once and then every interval until end (or until ctx
// is done, which ends the run with its error), accounting for deaths
// after each sample; the last sample is at end.
func (s *sampler) loop(ctx context.Context, end time.Time) error {
	t := time.NewTicker(s.r.opt.sampleInterval())
	defer t.Stop()
	for {
		if err := s.sample(); err != nil {
			return err
		}
		s.deaths(end)
		if !time.Now().Before(end) {
			return nil
		}
		wait := time.NewTimer(time.Until(end))
		select {
		case <-ctx.Done():
			wait.Stop()
			return ctx.Err()
		case <-t.C:
		case <-wait.C:
		}
		wait.Stop()
	}
}

// sample appends one row to the time series.
func (s *sampler) sample() error {
	now := int64(time.Since(s.r.t0))
	snap := snapshot{ns: now, groups: map[*group]cgroupSample{}}
	for _, g := range s.allGroups() {
		c, err := s.r.fs.sample(g.dir)
		if err != nil {
			return err
		}
		s.last[g], snap.groups[g] = c, c
	}
	if len(s.history) == historyLen {
		s.history = append(s.history[:0], s.history[1:]...)
	}
	s.history = append(s.history, snap)
	vm, err := readVmstat()
	if err != nil {
		return err
	}
	var psi PSI
	if !s.noPSI {
		if psi, err = readPSI(); err != nil {
			return err
		}
	}
	s.lastNs, s.vmLast, s.psiLast = now, vm, psi
	if s.kmsg != nil {
		s.kmsg.drain()
	}
	s.samples++
	top := s.last[s.r.parent]
	// swap_used_pages is the simulation's: swap slots in use, swapped-out
	// pages and the swap cache's (SwapTotal - SwapFree). With the run's
	// own swap file that is the file's used slots (/proc/swaps); the
	// cgroup's swap figure is not it on cgroup v1, whose memory.stat
	// swap counts only the swapped-out pages (a page read back gives its
	// entry's charge up but keeps its slot in the swap cache). Without
	// one it is the cgroup's swap.
	swapBytes := top.swapBytes
	if s.r.swap != nil {
		swapBytes = s.r.swap.usedBytes()
		s.swapPeak = max(s.swapPeak, swapBytes)
	}
	row := []float64{float64(now), pages(top.anonBytes), pages(top.fileBytes), pages(swapBytes), pages(top.usageBytes)}
	for _, g := range s.r.groups {
		c := s.last[g]
		row = append(row, pages(c.usageBytes), float64(c.failcnt), float64(c.oomKill-s.oomBase[g]))
	}
	for _, p := range s.r.procs {
		row = s.sampleProc(p, now, row)
	}
	s.cpu.sample(s.livePIDs())
	for _, c := range s.vmCols {
		row = append(row, float64(vm[c]-s.vm0[c]))
	}
	row = append(row, float64(psi.Some.TotalUs-s.psi0.Some.TotalUs), float64(psi.Full.TotalUs-s.psi0.Full.TotalUs))
	s.ts.Rows = append(s.ts.Rows, row)
	return nil
}

// sampleProc reads a live process's status and oom_score into row (zeros
// once it is gone) and keeps the reading.
func (s *sampler) sampleProc(p *proc, now int64, row []float64) []float64 {
	if p.alive() {
		if t, err := host.ReadTask("/", int64(p.info.RealPID)); err == nil && t.HasMM {
			p.lastTask, p.lastNs, p.sampled = t, now, true
			p.peakPages = max(p.peakPages, (t.RSSAnonKB+t.VmSwapKB)/4)
			return append(row, float64(t.RSSAnonKB/4), float64(t.RSSFileKB/4), float64(t.VmSwapKB/4), float64(t.OOMScore))
		}
	}
	return append(row, 0, 0, 0, 0)
}

func pages(bytes int64) float64 { return float64(bytes >> 12) }

func readVmstat() (map[string]int64, error) {
	b, err := os.ReadFile("/proc/vmstat")
	if err != nil {
		return nil, err
	}
	return parseVmstat(string(b))
}

func readPSI() (PSI, error) {
	b, err := os.ReadFile("/proc/pressure/memory")
	if err != nil {
		return PSI{}, fmt.Errorf("memory pressure (PSI): %w", err)
	}
	return parsePSI(string(b))
}
