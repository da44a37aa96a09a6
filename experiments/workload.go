package experiments

import (
	"fmt"
	"math"

	"github.com/sbmpsim/sbmpsim/experiments/scenario"
	"github.com/sbmpsim/sbmpsim/sim"
)

// synthetic drives one [[workload]] of kind "synthetic": Poisson arrivals
// of fixed-size objects on the workload's CPUs, each freed after an
// exponential lifetime or never. Each workload draws from its own named
// streams ("workload/NAME/..."), so adding a workload never changes
// another's draws.
//
// An object's free event carries (workload index, size) as its payload, so
// the driver keeps no per-object table: a million live objects cost one
// pending event each.
type synthetic struct {
	index       int
	name        string
	cpus        []int
	sizeBytes   int64
	meanGapNs   float64
	meanLifeNs  float64 // 0: never freed
	arrivals    sim.Stream
	lifetimes   sim.Stream
	placement   sim.Stream
	allocs      uint64
	frees       uint64
	failures    uint64
	retries     uint64 // allocations the degrade policy told to wait
	liveBytes   int64
	liveObjects int64
}

func newSynthetic(index int, w scenario.Workload, seeds sim.Seeds) (*synthetic, error) {
	if w.Kind != "synthetic" {
		return nil, fmt.Errorf("workload %d (%s): kind %q is not built yet; only \"synthetic\" runs today", index, w.Name, w.Kind)
	}
	if w.Arrival != "poisson" {
		return nil, fmt.Errorf("workload %d (%s): arrival %q is not built yet; only \"poisson\" runs today", index, w.Name, w.Arrival)
	}
	cpus, err := scenario.ParseCPUList(w.CPUs)
	if err != nil {
		return nil, fmt.Errorf("workload %d (%s): cpus: %w", index, w.Name, err)
	}
	s := &synthetic{
		index:     index,
		name:      w.Name,
		cpus:      cpus,
		sizeBytes: w.SizeBytes,
		meanGapNs: 1e9 / w.RatePerS,
		arrivals:  seeds.Stream("workload/" + w.Name + "/arrivals"),
		lifetimes: seeds.Stream("workload/" + w.Name + "/lifetimes"),
		placement: seeds.Stream("workload/" + w.Name + "/placement"),
	}
	switch w.Lifetime {
	case "exponential":
		s.meanLifeNs = w.LifetimeMeanMs * 1e6
	case "forever":
	default:
		return nil, fmt.Errorf("workload %d (%s): lifetime %q is not built yet", index, w.Name, w.Lifetime)
	}
	return s, nil
}

// nextGap returns the time to the next arrival, at least 1 ns so that a
// workload always moves the clock forward.
func (s *synthetic) nextGap() int64 {
	return max(1, int64(math.Round(s.arrivals.Exp(s.meanGapNs))))
}

func (s *synthetic) lifetime() int64 {
	return max(1, int64(math.Round(s.lifetimes.Exp(s.meanLifeNs))))
}

// cpu picks the CPU the next allocation runs on, uniformly from the list.
func (s *synthetic) cpu() int { return s.cpus[s.placement.IntN(len(s.cpus))] }
