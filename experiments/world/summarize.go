package world

import (
	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/stats"
	"github.com/sbmpsim/sbmpsim/internal/buildinfo"
	"github.com/sbmpsim/sbmpsim/sbmp"
	"slices"
	"strings"
)

// summary is what the run reports after endNs of simulated time.
func (s *simulation) summary(endNs int64) Summary {
	cfg, b := s.cfg, s.books
	out := Summary{
		Schema:                SummarySchema,
		Scenario:              cfg.name,
		Source:                cfg.source,
		Seed:                  cfg.seeds.Master,
		Version:               buildinfo.Current(),
		Models:                []string{"workload"},
		SimTimeNs:             endNs,
		Events:                s.eng.Events(),
		TraceHash:             s.eng.TraceHash(),
		Allocs:                b.allocs,
		Frees:                 b.frees,
		BytesRequestedLiveEnd: b.liveBytes,
		BytesRequestedPeak:    b.peakBytes,
		ObjectsLiveEnd:        b.liveObjects,
		ObjectsLivePeak:       b.peakObjects,
		OOMEvents:             []OOMEvent{},
		FSMTransitions:        map[string]uint64{},
	}
	if endNs > 0 {
		out.ObjectsLiveTimeAvg = b.liveArea / float64(endNs)
	}
	if len(s.procs) > 0 {
		s.summarizeSBMP(&out)
	}
	out.AllocLatencyNs = latencySummary(&b.lat)
	out.AllocFailures = b.failures
	// The kernel model now has THP faults and compaction: a summary says
	// so, so that readers of an older one can tell.
	out.Models = append(out.Models, "kernel", "thp", "compaction")
	out.OOMEvents = append(out.OOMEvents, s.kernel.oomEvents...)
	out.OOMKills = len(s.kernel.oomEvents)
	out.Kernel = s.kernel.summary()
	out.VMStat = s.kernel.vmstat()
	some, full := s.psi.totals(0, endNs)
	out.MemoryPressure = PressureSummary{SomeTotalUs: some, FullTotalUs: full}
	for gi := range out.Kernel.Cgroups {
		// Cgroups are "/" (the machine's group) and then the declared
		// ones in order, as the PSI groups are.
		some, full := s.psi.totals(gi, endNs)
		out.Kernel.Cgroups[gi].MemoryPressure = PressureSummary{SomeTotalUs: some, FullTotalUs: full}
	}
	out.Workloads = s.workloadSummaries()
	if ps := s.books.probes; ps != nil {
		out.Probes = ps.summary(s.cfg.workloadNames)
	}
	out.KernelWorkloads = s.kmalloc.appendSummaries(s.tasks.appendSummaries(nil))
	if s.faults != nil {
		out.Faults = s.faults.summary()
	}
	return out
}

// summarizeSBMP fills SBMP's part of out: the counters summed over the
// processes, each process's line and the FSM's transitions.
func (s *simulation) summarizeSBMP(out *Summary) {
	var st sbmp.Stats
	for _, p := range s.procs {
		st.Add(p.stats())
		for _, a := range p.sw.Allocators() {
			a.FSMTransitions(out.FSMTransitions)
		}
		out.Processes = append(out.Processes, p.summary())
	}
	out.Models = append(out.Models, "sbmp")
	out.TierAllocs = TierCounts{Tier0: uint64(st.Tier0Allocs), Tier1: uint64(st.Tier1Allocs), Tier2: uint64(st.Tier2Allocs)}
	out.FallbackCount = uint64(st.FallbackCount)
	out.AllocStallNs = st.AllocStallNs
	out.SBMP = sbmpSummary(s.procs, st)
	out.FootprintPeakBytes = s.fp.peakPages * 4096
	out.DegradeSLI = s.degradeSLI()
}

// degradeSLI sums the workloads' degrade SLI, overall and by CPU, and
// names the degrade policies in effect at the end (each process's, once).
func (s *simulation) degradeSLI() *DegradeSLI {
	d := &DegradeSLI{ByCPU: []CPUSLI{}}
	var names []string
	for _, p := range s.procs {
		if n := p.a.DegradePolicy(); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	d.Policy = strings.Join(names, ",")
	var byCPU []SLICounts
	for _, a := range s.books.accounts {
		if a == nil {
			continue
		}
		d.add(a.sli)
		for cpu, c := range a.byCPU {
			if cpu >= len(byCPU) {
				byCPU = append(byCPU, make([]SLICounts, cpu+1-len(byCPU))...)
			}
			byCPU[cpu].add(c)
		}
	}
	d.SLICounts = d.withRate(0)
	for cpu, c := range byCPU {
		if c.Met > 0 {
			d.ByCPU = append(d.ByCPU, CPUSLI{CPU: cpu, SLICounts: c.withRate(0)})
		}
	}
	return d
}

// workloadSummaries are the SBMP workloads' lines, in workload order.
func (s *simulation) workloadSummaries() []WorkloadSummary {
	var out []WorkloadSummary
	for i, a := range s.books.accounts {
		if a == nil {
			continue
		}
		ws := a.summary(s.cfg.workloadKinds[i])
		switch s.cfg.workloadKinds[i] {
		case scenario.KindSynthetic:
			sy := s.synth.ws[i]
			ws.BytesLeaked = sy.leakedBytes
			ws.Migrations = sy.migrations
			ws.RequestsNotIssued, ws.RequestsQueued = sy.notIssued, sy.queued
		case scenario.KindGoRuntime:
			ws.GoRuntime = s.progs[i].summary()
		case scenario.KindHeaptrack:
			ws.Trace = s.traces[i].summary()
		}
		out = append(out, ws)
	}
	return out
}

// latencySummary reports the recorded allocation latencies.
func latencySummary(h *stats.LatencyHist) LatencySummary {
	q := func(p float64) int64 {
		v, err := h.Quantile(p)
		if err != nil {
			return 0 // no allocation succeeded
		}
		return v
	}
	return LatencySummary{Count: h.Count(), MeanNs: h.MeanNs(), P50: q(0.5), P99: q(0.99), P999: q(0.999), Max: h.MaxNs()}
}
