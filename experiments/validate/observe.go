package validate

import (
	"fmt"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/real"
	"github.com/sbmpsim/sbmpsim/experiments/world"
)

// This file reduces a real run (experiments/real) and a simulated one
// (experiments/world) of the same scenario to one shape, Observed: their
// outputs name what they share alike (oom_events, memory_stat, the
// vmstat and PSI columns), so the reduction is a matter of picking.

// scopeCgroup is the cgroup whose memory a case's figures follow: the
// first [[kernel.cgroup]] with a memory limit (every case confines its
// workloads in one).
func scopeCgroup(sc *scenario.Scenario) (string, error) {
	for _, c := range sc.Kernel.Cgroups {
		if c.MaxMB > 0 {
			return c.Path, nil
		}
	}
	return "", fmt.Errorf("%s: no [[kernel.cgroup]] with max_mb: a validation case confines its workloads in one", sc.Source)
}

// observeReal reduces a real run. The end memory is the scope cgroup's
// memory.stat as the run last sampled it.
func observeReal(res *real.Result, scope string) (Observed, error) {
	s := &res.Summary
	o := Observed{Seed: s.Seed, EndNs: s.SimTimeNs}
	for _, e := range s.OOMEvents {
		o.Kills = append(o.Kills, e.OOMEvent)
	}
	found := false
	for _, c := range s.Cgroups {
		if c.Path == scope {
			o.EndAnonPages, o.EndFilePages = c.MemoryStat["anon"]>>12, c.MemoryStat["file"]>>12
			found = true
		}
	}
	if !found {
		return o, fmt.Errorf("real run: no cgroup %s in its summary", scope)
	}
	var err error
	o.series, err = newSeries(&res.Timeseries)
	return o, err
}

// observeSim reduces a simulated run.
func observeSim(res *world.Result, scope string) (Observed, error) {
	s := &res.Summary
	o := Observed{Seed: s.Seed, EndNs: s.SimTimeNs, Kills: s.OOMEvents, Models: s.Models}
	found := false
	if s.Kernel != nil {
		for _, c := range s.Kernel.Cgroups {
			if c.Path == scope {
				o.EndAnonPages, o.EndFilePages = c.MemoryStat["anon"]>>12, c.MemoryStat["file"]>>12
				found = true
			}
		}
	}
	if !found {
		return o, fmt.Errorf("simulation: no cgroup %s in its summary", scope)
	}
	var err error
	o.series, err = newSeries(&res.Timeseries)
	return o, err
}
