package real

import (
	"cmp"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/model/kernel"
)

// This file accounts for the run's processes that die, and for the OOM
// killer's victims among them. The kernel's log says which process it
// killed, when, for which cgroup's limit and with how much memory; the
// run reads it (kmsg.go) and falls back on what it can see without it:
// a SIGKILL while the victim's cgroup counted an OOM kill.

// oomWait bounds how long the run waits, after a process was killed, for
// the kernel's report of the kill or its cgroup's count of it.
const oomWait = 200 * time.Millisecond

// Sources of an OOM event's figures.
const (
	fromKernelLog = "kernel-log"
	fromSamples   = "samples"
)

// startClock notes the run's start on the kernel log's clock.
func (s *sampler) startClock() {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) == nil {
		s.t0Us = ts.Nano() / 1000
	}
}

// deaths accounts for every process reaped since the last call. A
// process reaped after end died of the run's stopping, unless the kernel
// logged its OOM kill before end.
func (s *sampler) deaths(end time.Time) {
	for _, p := range s.r.procs {
		if p.died || p.alive() {
			continue
		}
		at, st := p.exit()
		if at.After(end) {
			k, ok := s.loggedKill(p, 0)
			if !ok || s.logNs(k) > int64(end.Sub(s.r.t0)) {
				continue
			}
		}
		p.died = true
		p.info.DiedNs = int64(at.Sub(s.r.t0))
		s.classify(p, st)
	}
}

// classify says why p died: a kill the kernel logged as the OOM killer's,
// or (without the log) a SIGKILL while the victim's cgroup counted an OOM
// kill, is an OOM event; a SIGKILL while only the host's count rose, a
// global OOM kill.
func (s *sampler) classify(p *proc, st *os.ProcessState) {
	if st == nil {
		p.info.DiedOf = "unknown: its exit status was lost"
		return
	}
	ws, _ := st.Sys().(syscall.WaitStatus)
	switch {
	case ws.Signaled() && ws.Signal() == syscall.SIGKILL:
		if k, ok := s.loggedKill(p, oomWait); ok {
			s.recordLogged(p, k)
			return
		}
		if s.memcgKill(p.group) {
			p.info.DiedOf = "oom-kill"
			s.recordSampled(p, "memcg:"+s.scope(p.group).path)
			return
		}
		if vm, err := readVmstat(); err == nil && vm["oom_kill"]-s.vm0["oom_kill"] > int64(len(s.events)) {
			p.info.DiedOf = "global-oom-kill"
			s.recordSampled(p, "global")
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

// loggedKill returns the kernel's report of p's OOM kill, waiting up to
// wait for it to appear.
func (s *sampler) loggedKill(p *proc, wait time.Duration) (kmsgKill, bool) {
	if s.kmsg == nil {
		return kmsgKill{}, false
	}
	deadline := time.Now().Add(wait)
	for {
		s.kmsg.drain()
		if k, ok := s.kmsg.kill(p.info.RealPID); ok {
			return k, true
		}
		if !time.Now().Before(deadline) {
			return kmsgKill{}, false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logNs is a logged kill's time since the run's start.
func (s *sampler) logNs(k kmsgKill) int64 { return (k.TimeUs - s.t0Us) * 1000 }

// recordLogged adds the OOM event the kernel reported: its time, the
// cgroup whose limit was hit, and the victim's badness from the memory
// the kernel saw (swap from the last sample: the report leaves it out).
func (s *sampler) recordLogged(p *proc, k kmsgKill) {
	scope := "global"
	p.info.DiedOf = "global-oom-kill"
	if k.Memcg != "" {
		scope, p.info.DiedOf = "memcg:"+s.scenarioPath(k.Memcg), "oom-kill"
	}
	t := kernel.Task{
		RSSAnonPages: k.AnonKB / 4, RSSFilePages: k.FileKB / 4, RSSShmemPages: k.ShmemKB / 4,
		SwapEntries: p.lastTask.VmSwapKB / 4, PgtablesBytes: k.PgtableK << 10, OOMScoreAdj: k.Adj,
	}
	e := s.event(p, scope, fromKernelLog, s.logNs(k))
	e.VictimPoints, _ = kernel.OOMBadness(&t, s.totalPages(scope))
	e.VictimRSSAnonPages, e.VictimRSSFilePages = k.AnonKB/4, k.FileKB/4
	s.add(e)
}

// recordSampled adds an OOM event known only from the counters: its time
// is when the victim was reaped, and its figures those of the last
// sample.
func (s *sampler) recordSampled(p *proc, scope string) {
	e := s.event(p, scope, fromSamples, p.info.DiedNs)
	if p.sampled {
		t := p.lastTask.ModelTask()
		e.VictimPoints, _ = kernel.OOMBadness(&t, s.totalPages(scope))
		e.VictimRSSAnonPages, e.VictimRSSFilePages = p.lastTask.RSSAnonKB/4, p.lastTask.RSSFileKB/4
	}
	s.add(e)
}

// event is the common part of an OOM event of victim p in scope at
// timeNs, with the scope's memory at the last sample before then.
func (s *sampler) event(p *proc, scope, source string, timeNs int64) OOMEvent {
	e := OOMEvent{
		OOMEvent: world.OOMEvent{TimeNs: timeNs, Scope: scope, VictimPID: int(p.info.PID), VictimComm: p.spec.Comm},
		RealPID:  p.info.RealPID, Workload: p.info.Workload, Source: source, ReapedNs: p.info.DiedNs,
	}
	g := s.r.parent
	if path, ok := strings.CutPrefix(scope, "memcg:"); ok && s.r.groupOf(path) != nil {
		g = s.r.groupOf(path)
	}
	if len(s.history) == 0 {
		return e
	}
	snap := s.history[0]
	for _, h := range s.history {
		if h.ns <= timeNs {
			snap = h
		}
	}
	c := snap.groups[g]
	e.SampleNs, e.ScopeAnonPages, e.ScopeFilePages = snap.ns, c.anonBytes>>12, c.fileBytes>>12
	return e
}

// add keeps the events in the order of their times.
func (s *sampler) add(e OOMEvent) {
	s.events = append(s.events, e)
	slices.SortStableFunc(s.events, func(a, b OOMEvent) int { return cmp.Compare(a.TimeNs, b.TimeNs) })
	fmt.Fprintf(s.r.log, "real: OOM kill of %s at %.3f s (%s, from the %s)\n", e.VictimComm, float64(e.TimeNs)/1e9, e.Scope, strings.ReplaceAll(e.Source, "-", " "))
}

// scenarioPath turns a cgroup path of the hierarchy (the kernel's
// oom_memcg: "/sbmpsim-PID-TAG/box") into the scenario's ("/box"); a
// path outside the run's parent is returned as it is.
func (s *sampler) scenarioPath(memcg string) string {
	prefix := "/" + filepath.Base(s.r.parent.dir)
	if rest, ok := strings.CutPrefix(memcg, prefix); ok && (rest == "" || rest[0] == '/') {
		if rest == "" {
			return "/"
		}
		return rest
	}
	return memcg
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

// scope is, without the kernel's log, the cgroup whose limit the OOM was
// most likely about: of g and the groups above it that have a limit, the
// one that was fullest (usage over limit) at the last sample.
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

// totalPages is the OOM killer's totalpages for scope: the cgroup's
// limit plus the swap it may use (mem_cgroup_get_max), or the host's
// memory and swap for a global OOM.
func (s *sampler) totalPages(scope string) int64 {
	swapPages := s.r.p.totalSwapPages(s.r.h)
	path, ok := strings.CutPrefix(scope, "memcg:")
	g := s.r.groupOf(path)
	if !ok || g == nil {
		return s.r.h.MemTotalKB/4 + swapPages
	}
	swapMax := int64(math.MaxInt64 / 2)
	switch {
	case s.r.p.sc.Kernel.SwapMB == 0:
		swapMax = 0
	case g.plan.swapMaxBytes > 0:
		swapMax = g.plan.swapMaxBytes >> 12
	}
	return kernel.MemcgTotalPages(g.plan.limitPages(), swapMax, swapPages, s.r.p.sc.Kernel.Swappiness)
}
