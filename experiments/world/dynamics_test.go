package world

import (
	"testing"
)

// TestThrottleKeepsBurstsUnderMax is the throttle scenario's claim: with
// back-pressure (every workload's loop "closed", the default), memory.high
// throttling keeps a bursty service whose live set fits under memory.max
// from ever reaching it; with stalls charged but delaying nothing (loop
// "ignore") the same bursts reach memory.max and the OOM killer kills it.
func TestThrottleKeepsBurstsUnderMax(t *testing.T) {
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
