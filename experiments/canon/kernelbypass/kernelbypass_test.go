package kernelbypass

import (
	"math"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/world"
)

// TestStatsOf: a run's fallbacks, alert, kmalloc failures and OOM victims
// are read from its summary; an alert that never fired and a run without
// a kill give NaN times.
func TestStatsOf(t *testing.T) {
	s := world.Summary{SimTimeNs: 30e9, AllocFailures: 7, OOMKills: 2,
		OOMEvents: []world.OOMEvent{{TimeNs: 23.1e9, VictimComm: "pinned"}, {TimeNs: 27e9, VictimComm: "sbmp-app"}},
		SBMP: &world.SBMPSummary{Tier2Fallbacks: 600, Alerts: []world.AlertSummary{
			{Metric: "tier0_free_avg", FirstDangerNs: 1e9}, {Metric: "fallback_to_tier2_per_s", FirstDangerNs: 18.5e9, Max: 900}}},
		KernelWorkloads: []world.KernelWorkloadSummary{{Name: "driver-leak", Kind: "kmalloc-leak", Failures: 42}, {Name: "pinned", Kind: "mlock"}},
	}
	r := statsOf(s)
	if r.fallbacks != 600 || r.perS != 20 || r.peakPerS != 900 || r.alertS != 18.5 || r.allocFailures != 7 || r.kmallocFails != 42 ||
		r.oomKills != 2 || r.firstOOMS != 23.1 || r.victims != "pinned@23.1s sbmp-app@27.0s" {
		t.Fatalf("run %+v", r)
	}
	s.OOMEvents, s.OOMKills = nil, 0
	s.SBMP.Alerts[1].FirstDangerNs = -1
	r = statsOf(s)
	if !math.IsNaN(r.alertS) || !math.IsNaN(r.firstOOMS) || r.victims != "" {
		t.Fatalf("quiet run %+v", r)
	}
}
