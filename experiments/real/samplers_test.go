package real

import (
	"fmt"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/model/workload"
)

// testSamplers builds the samplers of the simplest synthetic workloads
// (poisson arrivals, fixed sizes, exponential lifetimes). The real
// mapping is the simulation's; the tests need only enough of it to run
// SBMP for real.
func testSamplers(sc *scenario.Scenario, i int) (Samplers, error) {
	w := sc.Workloads[i]
	if w.Arrival != scenario.ArrivalPoisson || w.Size != scenario.SizeFixed || w.Lifetime != scenario.LifetimeExponential {
		return Samplers{}, fmt.Errorf("the test samplers draw poisson arrivals, fixed sizes and exponential lifetimes only")
	}
	a, err := workload.NewPoisson(w.RatePerS)
	if err != nil {
		return Samplers{}, err
	}
	size, err := workload.FixedSize(w.SizeBytes)
	if err != nil {
		return Samplers{}, err
	}
	life, err := workload.ExponentialLifetime(w.LifetimeMeanMs * 1e6)
	return Samplers{Arrivals: a, Sizes: size, Lifetimes: life}, err
}
