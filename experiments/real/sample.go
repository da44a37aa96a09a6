package real

import (
	"context"
	"fmt"
	"math"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/sbmpsim/sbmpsim/experiments/input/host"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/model/kernel"
)

// This file samples the kernel while the run goes and accounts for the
// processes that die: the OOM killer's victims among them.

// vmstatColumns are the /proc/vmstat counters real.csv carries, as their
// change since the start: the ones that tell reclaim, refaults,
// compaction, THP, swap and the OOM killer apart. real.json has them all.
func vmstatColumns() []string {
	return []string{
		"pgscan_kswapd", "pgscan_direct", "pgsteal_kswapd", "pgsteal_direct",
		"allocstall_dma", "allocstall_dma32", "allocstall_normal", "allocstall_movable",
		"workingset_refault_anon", "workingset_refault_file", "workingset_activate_anon", "workingset_activate_file",
		"compact_stall", "compact_fail", "compact_success", "thp_fault_alloc", "thp_fault_fallback",
		"pswpin", "pswpout", "oom_kill", "pgmajfault",
	}
}

// oomWait bounds how long the run waits, after a process was killed, for
// its cgroup's oom_kill counter to show the kill.
const oomWait = 200 * time.Millisecond

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
}

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
	return nil
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
	for _, g := range s.allGroups() {
		c, err := s.r.fs.sample(g.dir)
		if err != nil {
			return err
		}
		s.last[g] = c
	}
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
	s.samples++
	top := s.last[s.r.parent]
	row := []float64{float64(now), pages(top.anonBytes), pages(top.fileBytes), pages(top.swapBytes), pages(top.usageBytes)}
	for _, g := range s.r.groups {
		c := s.last[g]
		row = append(row, pages(c.usageBytes), float64(c.failcnt), float64(c.oomKill-s.oomBase[g]))
	}
	for _, p := range s.r.procs {
		row = s.sampleProc(p, now, row)
	}
	for _, c := range s.vmCols {
		row = append(row, float64(vm[c]-s.vm0[c]))
	}
	row = append(row, float64(psi.Some.TotalUs-s.psi0.Some.TotalUs), float64(psi.Full.TotalUs-s.psi0.Full.TotalUs))
	s.ts.Rows = append(s.ts.Rows, row)
	if s.r.swap != nil {
		s.swapPeak = max(s.swapPeak, s.r.swap.usedBytes())
	}
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

// deaths accounts for every process reaped since the last call. A death
// after end is the run's own stopping, not an event.
func (s *sampler) deaths(end time.Time) {
	for _, p := range s.r.procs {
		if p.died || p.alive() {
			continue
		}
		at, st := p.exit()
		if at.After(end) {
			continue
		}
		p.died = true
		p.info.DiedNs = int64(at.Sub(s.r.t0))
		s.classify(p, st)
	}
}

// classify says why p died: a SIGKILL while its cgroup's oom_kill count
// rose is the OOM killer's; a SIGKILL while only the host's rose, a
// global OOM kill.
func (s *sampler) classify(p *proc, st *os.ProcessState) {
	if st == nil {
		p.info.DiedOf = "unknown: its exit status was lost"
		return
	}
	ws, _ := st.Sys().(syscall.WaitStatus)
	switch {
	case ws.Signaled() && ws.Signal() == syscall.SIGKILL:
		if s.memcgKill(p.group) {
			p.info.DiedOf = "oom-kill"
			s.record(p, "memcg:"+s.scope(p.group).path)
			return
		}
		if vm, err := readVmstat(); err == nil && vm["oom_kill"]-s.vm0["oom_kill"] > int64(len(s.events)) {
			p.info.DiedOf = "global-oom-kill"
			s.record(p, "global")
			return
		}
		p.info.DiedOf = "signal: killed (not by the OOM killer, as far as the counters show)"
	case ws.Signaled():
		p.info.DiedOf = "signal: " + ws.Signal().String()
	default:
		_, _, werr := p.message()
		p.info.DiedOf = "exit " + strconv.Itoa(ws.ExitStatus())
		if werr != "" {
			p.info.DiedOf += ": " + werr
		}
	}
}

// memcgKill reports whether g's oom_kill count shows a kill not yet
// accounted for, waiting up to oomWait for it. The kernel counts the
// kill in the victim's own cgroup (memcg_memory_event_mm; cgroup v1
// counts it nowhere else) right after sending SIGKILL, and the victim is
// reaped only after it has exited, so the count is nearly always there.
func (s *sampler) memcgKill(g *group) bool {
	deadline := time.Now().Add(oomWait)
	for {
		if c, err := s.r.fs.sample(g.dir); err == nil && c.oomKill-s.oomBase[g] > s.attributed[g] {
			s.attributed[g]++
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// scope is the cgroup whose limit the OOM was most likely about: of g
// and the groups above it that have a limit, the one that was fullest
// (usage over limit) at the last sample; the kernel does not say which.
func (s *sampler) scope(g *group) *group {
	best, bestFill := g, -1.0
	for path := g.path; path != "/" && path != ""; path = parentOf(path) {
		h := s.r.groupOf(path)
		if h == nil || h.plan.maxBytes == 0 {
			continue
		}
		if fill := float64(s.last[h].usageBytes) / float64(h.plan.maxBytes); fill > bestFill {
			best, bestFill = h, fill
		}
	}
	return best
}

// record adds an OOM event for victim p in scope, with its badness
// points from its last sample.
func (s *sampler) record(p *proc, scope string) {
	e := OOMEvent{
		OOMEvent: world.OOMEvent{TimeNs: p.info.DiedNs, Scope: scope, VictimPID: int(p.info.PID), VictimComm: p.spec.Comm},
		RealPID:  p.info.RealPID, Workload: p.info.Workload, SampleNs: p.lastNs,
	}
	if p.sampled {
		t := p.lastTask.ModelTask()
		e.VictimPoints, _ = kernel.OOMBadness(&t, s.totalPages(scope))
		e.VictimRSSAnonPages = p.lastTask.RSSAnonKB / 4
	}
	g := s.r.parent
	if scope != "global" {
		g = s.r.groupOf(scope[len("memcg:"):])
	}
	e.ScopeAnonPages, e.ScopeFilePages = s.last[g].anonBytes>>12, s.last[g].fileBytes>>12
	s.events = append(s.events, e)
	fmt.Fprintf(s.r.log, "real: OOM kill of %s at %.3f s (%s)\n", p.spec.Name, float64(e.TimeNs)/1e9, scope)
}

// totalPages is the OOM killer's totalpages for scope: the cgroup's
// limit plus the swap it may use (mem_cgroup_get_max), or the host's
// memory and swap for a global OOM.
func (s *sampler) totalPages(scope string) int64 {
	swapPages := s.r.p.totalSwapPages(s.r.h)
	if scope == "global" {
		return s.r.h.MemTotalKB/4 + swapPages
	}
	g := s.r.groupOf(scope[len("memcg:"):])
	swapMax := int64(math.MaxInt64 / 2)
	switch {
	case s.r.p.sc.Kernel.SwapMB == 0:
		swapMax = 0
	case g.plan.swapMaxBytes > 0:
		swapMax = g.plan.swapMaxBytes >> 12
	}
	return kernel.MemcgTotalPages(g.plan.limitPages(), swapMax, swapPages, s.r.p.sc.Kernel.Swappiness)
}

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
