package real

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/world"
)

// result gathers the run's summary from the sampler and the processes'
// last reports.
func (r *runner) result() (*Result, error) {
	s, sc := r.smp, r.p.sc
	enc, err := sc.Encode()
	if err != nil {
		return nil, err
	}
	sum := Summary{
		Schema: Schema, Scenario: sc.Run.Name, Source: sc.Source, Seed: sc.Run.Seed,
		SimTimeNs: s.lastNs, SampleIntervalNs: int64(r.opt.sampleInterval()), Samples: s.samples,
		OOMKills: len(s.events), OOMEvents: append([]OOMEvent{}, s.events...),
		Vmstat: map[string]int64{}, Host: r.h, NotApplied: r.p.notApplied, SetupNs: r.setupNs,
		MemoryPressure: world.PressureSummary{SomeTotalUs: s.psiLast.Some.TotalUs - s.psi0.Some.TotalUs, FullTotalUs: s.psiLast.Full.TotalUs - s.psi0.Full.TotalUs},
	}
	sum.HostCPU = s.cpu.result()
	sum.KernelLog = "read"
	if s.kmsg == nil {
		sum.KernelLog = s.kmsgErr
	}
	for k, v := range s.vmLast {
		sum.Vmstat[k] = v - s.vm0[k]
	}
	for _, g := range r.groups {
		sum.Cgroups = append(sum.Cgroups, g.summary(s.last[g]))
	}
	var failed []error
	for _, p := range r.procs {
		sum.Processes = append(sum.Processes, p.summary())
		if err := p.failure(); err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) > 0 {
		return nil, errors.Join(failed...)
	}
	slices.SortStableFunc(sum.Processes, func(a, b Process) int { return cmp.Compare(a.PID, b.PID) })
	sum.KernelWorkloads = r.kernelWorkloads()
	sum.Workloads = r.synthWorkloads()
	if r.swap != nil {
		sum.Swap = &SwapSummary{Path: r.swap.path, SizeBytes: r.swap.sizeBytes, PeakUsedBytes: s.swapPeak}
	}
	return &Result{Summary: sum, Timeseries: s.ts, Scenario: enc}, nil
}

// failure is the error of a worker that failed rather than being
// killed or stopped: the run's figures cannot be trusted then.
func (p *proc) failure() error {
	if strings.HasPrefix(p.info.DiedOf, "exit ") {
		return fmt.Errorf("worker %s failed: %s", p.spec.Name, firstNonEmpty(p.stderr.String(), p.info.DiedOf))
	}
	_, st := p.exit()
	if _, _, werr := p.message(); st != nil && st.Exited() && st.ExitCode() != exitOK {
		return fmt.Errorf("worker %s failed as the run stopped (exit %d): %s", p.spec.Name, st.ExitCode(), firstNonEmpty(werr, p.stderr.String()))
	}
	return nil
}

// summary is the process's line in real.json: its last sample and why it
// died, if it did.
func (p *proc) summary() Process {
	out := p.info
	if p.sampled {
		t := p.lastTask
		out.RSSAnonPages, out.RSSFilePages, out.SwapPages, out.OOMScore = t.RSSAnonKB/4, t.RSSFileKB/4, t.VmSwapKB/4, t.OOMScore
	}
	out.Stderr = p.stderr.String()
	return out
}

// kernelWorkloads sums the tasks' reports per workload, a fleet over its
// tasks, in workload order. A task that died reports what it last said
// (at most progressEvery before); one that never said anything, its
// largest sampled RSS and swap.
func (r *runner) kernelWorkloads() []KernelWorkload {
	var out []KernelWorkload
	at := map[int]int{}
	for i, t := range r.p.tasks {
		p := r.procs[i] // tasks are started first, in plan order
		k, ok := at[t.workload]
		if !ok {
			w := r.p.sc.Workloads[t.workload]
			out = append(out, KernelWorkload{KernelWorkloadSummary: world.KernelWorkloadSummary{Name: w.Name, Kind: w.Kind}, MissesMeasured: true})
			k = len(out) - 1
			at[t.workload] = k
		}
		kw := &out[k]
		m, _, _ := p.message()
		if m.PagesGot == 0 && t.kind != scenario.KindPageCache {
			m.PagesGot = p.peakPages
		}
		kw.Tasks++
		kw.PagesGot += m.PagesGot
		kw.FaultNs += m.FaultNs
		kw.PagesRead += m.PagesRead
		kw.PagesMissed += m.PagesMissed
		kw.MissesMeasured = kw.MissesMeasured && (t.kind != scenario.KindPageCache || m.MissesMeasured)
		if p.info.DiedOf == "oom-kill" || p.info.DiedOf == "global-oom-kill" {
			kw.Killed++
		}
	}
	for i := range out {
		if out[i].Kind != scenario.KindPageCache {
			out[i].MissesMeasured = false
		}
	}
	return out
}

// synthWorkloads are the synthetic workloads' reports in workload order;
// the objects of a process that died are lost with it.
func (r *runner) synthWorkloads() []world.WorkloadSummary {
	byName := map[string]world.WorkloadSummary{}
	for _, p := range r.procs[len(r.p.tasks):] {
		m, _, _ := p.message()
		for _, w := range m.Workloads {
			if p.info.DiedNs >= 0 {
				w.ObjectsLost, w.BytesLost = w.ObjectsLiveEnd, w.BytesLiveEnd
				w.ObjectsLiveEnd, w.BytesLiveEnd = 0, 0
			}
			byName[w.Name] = w
		}
	}
	var out []world.WorkloadSummary
	for _, w := range r.p.sc.Workloads {
		if w.Kind != scenario.KindSynthetic {
			continue
		}
		s, ok := byName[w.Name]
		if !ok { // its process died before its first report
			s = world.WorkloadSummary{Name: w.Name, Kind: w.Kind}
		}
		out = append(out, s)
	}
	return out
}
