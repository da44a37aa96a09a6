package world

import (
	"slices"
	"testing"
)

// TestThrottleKeepsBurstsUnderMax is the throttle scenario's claim: with
// back-pressure (every workload's loop "closed", the default), memory.high
// throttling keeps a bursty service whose live set fits under memory.max
// from ever reaching it; with stalls charged but delaying nothing (loop
// "ignore") the same bursts reach memory.max and the OOM killer kills it.
func TestThrottleKeepsBurstsUnderMax(t *testing.T) {
	skipUnderRace(t)
	seeds := []string{"1", "2", "3"}
	if testing.Short() {
		seeds = seeds[:1]
	}
	for _, seed := range seeds {
		closed := runEmbedded(t, "throttle", "run.seed="+seed)
		var service *CgroupSummary
		for i := range closed.Kernel.Cgroups {
			if closed.Kernel.Cgroups[i].Path == "/service" {
				service = &closed.Kernel.Cgroups[i]
			}
		}
		if closed.OOMKills != 0 || service == nil || service.EventsHigh == 0 || service.EventsMax != 0 || closed.AllocStallNs == 0 {
			t.Fatalf("seed %s, closed loop: %d OOM kills, cgroup %+v, stall %d ns; want no kill, high events, no max event, a stall",
				seed, closed.OOMKills, service, closed.AllocStallNs)
		}
		if closed.Workloads[0].RequestsNotIssued == 0 {
			t.Errorf("seed %s, closed loop: the throttled service issued every request", seed)
		}
		ignore := runEmbedded(t, "throttle", "run.seed="+seed, "workload.0.loop=ignore", "workload.1.loop=ignore")
		if ignore.OOMKills == 0 || ignore.OOMEvents[0].VictimComm != "service" {
			t.Fatalf("seed %s, loop ignore: OOM events %+v, want the service killed", seed, ignore.OOMEvents)
		}
		t.Logf("seed %s: closed: no kill, %d high events, %.1f s throttled, %d requests not issued; ignore: killed at %.2f s",
			seed, service.EventsHigh, float64(closed.Kernel.MemcgHighStallNs)/1e9, closed.Workloads[0].RequestsNotIssued,
			float64(ignore.OOMEvents[0].TimeNs)/1e9)
	}
}

// TestThrashBeforeOOM is the thrash scenario's claim: at swappiness 0 with
// no swap, a hot file set that no longer fits beside the growing anonymous
// memory thrashes (refaults, activated as workingset, and memory stall)
// for seconds before the OOM killer runs, rather than the page cache
// falling cleanly to zero.
func TestThrashBeforeOOM(t *testing.T) {
	skipUnderRace(t)
	sc := loadShort(t, "thrash")
	res, err := runPlain(sc)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	if s.OOMKills == 0 {
		t.Fatalf("no OOM kill in %d s", s.SimTimeNs/1e9)
	}
	killNs := s.OOMEvents[0].TimeNs
	ts := &res.Timeseries
	col := func(name string) int {
		i := slices.Index(ts.Columns, name)
		if i < 0 {
			t.Fatalf("no column %s", name)
		}
		return i
	}
	refault, some, tcol := col("workingset_refault_file"), col("psi_some_total_us"), col("time_ns")
	// The first sample with refaults: the thrash starts there.
	var startNs int64 = -1
	var atStart, beforeKill []float64
	for _, row := range ts.Rows {
		if startNs < 0 && row[refault] > 1000 {
			startNs, atStart = int64(row[tcol]), row
		}
		if int64(row[tcol]) < killNs {
			beforeKill = row
		}
	}
	if startNs < 0 || killNs-startNs < 5e9 {
		t.Fatalf("refaults start at %d ns, the OOM kill comes at %d ns: want at least 5 s of thrashing", startNs, killNs)
	}
	if beforeKill[refault] < 10*atStart[refault] || beforeKill[some]-atStart[some] < 1e6 {
		t.Fatalf("between %d and %d ns: refaults %v -> %v, PSI some %v -> %v us; want refaults growing tenfold and a second of stall",
			startNs, killNs, atStart[refault], beforeKill[refault], atStart[some], beforeKill[some])
	}
	if s.VMStat["workingset_activate_file"] == 0 {
		t.Errorf("no refault was activated: the hot set was not recognised as workingset")
	}
	t.Logf("thrash from %.1f s to the OOM kill at %.1f s: %v refaults, %.1f s of memory stall (PSI some)",
		float64(startNs)/1e9, float64(killNs)/1e9, beforeKill[refault]-atStart[refault], (beforeKill[some]-atStart[some])/1e6)
}

// TestTHPModes: the user-placed crisis under transparent_hugepage/enabled
// = never and always. never: no huge-page fault is even tried
// (thp_fault_alloc and thp_fault_fallback stay 0; Linux counts a fallback
// only for a fault that tried); always: Tier-1 blocks are tried as huge
// pages and fall back to base pages when none can be had. Either way a
// Tier-1 block never fails for want of a free 2 MiB block, so SBMP never
// degrades to Tier-2 on free-but-fragmented memory.
func TestTHPModes(t *testing.T) {
	skipUnderRace(t)
	never := runEmbedded(t, "oom-crisis-user", "run.duration_ms=20000", "kernel.thp_enabled=never")
	always := runEmbedded(t, "oom-crisis-user", "run.duration_ms=20000", "kernel.thp_enabled=always", "kernel.thp_defrag=always")
	if never.VMStat["thp_fault_alloc"] != 0 || never.VMStat["thp_fault_fallback"] != 0 {
		t.Errorf("thp_enabled=never: thp_fault_alloc %d, thp_fault_fallback %d; want both 0",
			never.VMStat["thp_fault_alloc"], never.VMStat["thp_fault_fallback"])
	}
	if always.VMStat["thp_fault_alloc"] == 0 || always.VMStat["thp_fault_alloc"]+always.VMStat["thp_fault_fallback"] < always.SBMP.Tier1BlocksEnd {
		t.Errorf("thp_enabled=always: thp_fault_alloc %d + fallback %d for %d Tier-1 blocks; want a huge-page try per block",
			always.VMStat["thp_fault_alloc"], always.VMStat["thp_fault_fallback"], always.SBMP.Tier1BlocksEnd)
	}
	for _, run := range []struct {
		mode string
		s    Summary
	}{{"never", never}, {"always", always}} {
		if run.s.SBMP.DegradeEntries != 0 || run.s.SBMP.Tier2Fallbacks != 0 {
			t.Errorf("thp_enabled=%s: %d degrade entries, %d Tier-2 fallbacks; a user-space Tier-1 block must never fail on fragmentation",
				run.mode, run.s.SBMP.DegradeEntries, run.s.SBMP.Tier2Fallbacks)
		}
	}
	t.Logf("never: %d Tier-1 blocks, thp alloc %d fallback %d; always: %d blocks, thp alloc %d fallback %d (compaction stalls %d, successes %d)",
		never.SBMP.Tier1BlocksEnd, never.VMStat["thp_fault_alloc"], never.VMStat["thp_fault_fallback"],
		always.SBMP.Tier1BlocksEnd, always.VMStat["thp_fault_alloc"], always.VMStat["thp_fault_fallback"],
		always.VMStat["compact_stall"], always.VMStat["compact_success"])
}
