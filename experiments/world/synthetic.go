package world

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenarios"
	"github.com/sbmpsim/sbmpsim/model/workload"
	"github.com/sbmpsim/sbmpsim/sim"
)

// synthetic drives one [[workload]] of kind "synthetic": arrivals from an
// arrival process, sizes and lifetimes from their distributions, on the
// workload's threads. Each workload draws from its own named streams
// ("workload/NAME/..."), one per purpose, so adding a workload never
// changes another's draws, and changing one distribution of a workload
// does not change the draws of its others.
//
// An object's free event carries (workload index, thread, size) as its
// payload, so the driver keeps no per-object table: a million live objects
// cost one pending event each.
type synthetic struct {
	wstats
	index    int
	proc     *sbmpSide
	arrival  *workload.Arrivals
	stopNs   int64 // no arrivals at or after this
	sizes    workload.Size
	life     workload.Lifetime
	arrivals sim.Stream
	sizeRNG  sim.Stream
	lifeRNG  sim.Stream
	leakRNG  sim.Stream
	// threads[i] is the CPU thread i is on now.
	threads   []int
	placement sim.Stream
	// Migration: one thread moves at rate migratePerS to a CPU of
	// migrateCPUs.
	migrateGapNs float64
	migrateCPUs  []int
	migrations   uint64
	migrateRNG   sim.Stream
	leakedBytes  int64
}

// addSynthetic builds workload i and schedules its first arrival.
func (r *run) addSynthetic(sc *scenario.Scenario, i int, w scenario.Workload, seeds sim.Seeds, proc *sbmpSide, durationNs int64) error {
	where := fmt.Sprintf("workload %d (%s)", i, w.Name)
	cpus, err := scenario.ParseCPUList(w.CPUs)
	if err != nil {
		return fmt.Errorf("%s: cpus: %w", where, err)
	}
	for _, c := range cpus {
		if err := r.kernel.checkCPU(c); err != nil {
			return fmt.Errorf("%s: cpus: %w", where, err)
		}
	}
	prefix := "workload/" + w.Name + "/"
	s := &synthetic{
		wstats:     wstats{name: w.Name},
		index:      i,
		proc:       proc,
		arrivals:   seeds.Stream(prefix + "arrivals"),
		sizeRNG:    seeds.Stream(prefix + "sizes"),
		lifeRNG:    seeds.Stream(prefix + "lifetimes"),
		leakRNG:    seeds.Stream(prefix + "leak"),
		placement:  seeds.Stream(prefix + "placement"),
		migrateRNG: seeds.Stream(prefix + "migration"),
	}
	if s.sizes, err = sizeOf(sc, w); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if s.life, err = lifetimeOf(w); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	stopNs := durationNs
	if w.StopMs > 0 {
		stopNs = min(stopNs, w.StopMs*1e6)
	}
	s.stopNs = stopNs
	if s.arrival, err = arrivalOf(w); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	n := w.Threads
	if n == 0 {
		n = len(cpus)
	}
	s.threads = make([]int, n)
	for t := range s.threads {
		s.threads[t] = cpus[t%len(cpus)]
	}
	if w.MigratePerS > 0 {
		s.migrateGapNs = 1e9 / w.MigratePerS
		s.migrateCPUs = r.kernel.topo.CPUs()
		if w.MigrateCPUs != "" {
			if s.migrateCPUs, err = scenario.ParseCPUList(w.MigrateCPUs); err != nil {
				return fmt.Errorf("%s: migrate_cpus: %w", where, err)
			}
			for _, c := range s.migrateCPUs {
				if err := r.kernel.checkCPU(c); err != nil {
					return fmt.Errorf("%s: migrate_cpus: %w", where, err)
				}
			}
		}
		r.eng.Schedule(w.StartMs*1e6+s.nextMigration(), r.kMigrate, int64(i), 0)
	}
	r.synth[i] = s
	r.stats[i] = &s.wstats
	proc.onDeath = append(proc.onDeath, func(now int64) { r.noteDeath(now, &s.wstats) })
	if first, ok := s.nextArrival(w.StartMs * 1e6); ok {
		r.eng.Schedule(first, r.kArrive, int64(i), 0)
	}
	return nil
}

// arrivalOf builds the workload's arrival process with its load factor.
func arrivalOf(w scenario.Workload) (*workload.Arrivals, error) {
	var a *workload.Arrivals
	var err error
	switch w.Arrival {
	case scenario.ArrivalMMPP:
		a, err = workload.NewMMPP(workload.MMPPParams{
			RateLowPerS: w.RateLowPerS, RateHighPerS: w.RateHighPerS, MeanLowNs: w.LowMeanMs * 1e6, MeanHighNs: w.HighMeanMs * 1e6,
		})
	case scenario.ArrivalDiurnal:
		a, err = workload.NewDiurnal(workload.DiurnalParams{
			MeanRatePerS: w.RatePerS, Amplitude: w.DiurnalAmplitude, PeriodNs: w.DiurnalPeriodMs * 1e6, PhaseRad: w.DiurnalPhase,
		})
	case scenario.ArrivalPhases:
		phases := make([]workload.Phase, len(w.PhaseStartMs))
		for i := range phases {
			phases[i] = workload.Phase{StartNs: int64(math.Round(w.PhaseStartMs[i] * 1e6)), RatePerS: w.PhaseRatePerS[i]}
		}
		a, err = workload.NewPhases(phases)
	default:
		a, err = workload.NewPoisson(w.RatePerS)
	}
	if err != nil || w.LoadFactor == 1 {
		return a, err
	}
	return a.WithLoad(w.LoadFactor)
}

// sizeOf builds the workload's size distribution.
func sizeOf(sc *scenario.Scenario, w scenario.Workload) (workload.Size, error) {
	switch w.Size {
	case scenario.SizeDiscrete:
		return workload.DiscreteSize(w.SizesBytes, w.SizeWeights)
	case scenario.SizeLognormal:
		return workload.LognormalSize(workload.LognormalSizeParams{
			MedianBytes: w.SizeMedianBytes, Sigma: w.SizeSigma, MinBytes: w.SizeMinBytes, MaxBytes: w.SizeMaxBytes,
		})
	case scenario.SizeHistogram:
		f, path, err := openScenarioFile(sc, w.SizeFile)
		if err != nil {
			return workload.Size{}, fmt.Errorf("size_file: %w", err)
		}
		defer f.Close()
		h, err := workload.ParseHistogram(path, f)
		if err != nil {
			return workload.Size{}, err
		}
		return workload.HistogramSize(h)
	default:
		return workload.FixedSize(w.SizeBytes)
	}
}

// lifetimeOf builds the workload's lifetime distribution with its leak.
func lifetimeOf(w scenario.Workload) (workload.Lifetime, error) {
	var l workload.Lifetime
	var err error
	switch w.Lifetime {
	case scenario.LifetimeLognormal:
		l, err = workload.LognormalLifetime(workload.LognormalLifetimeParams{MedianNs: w.LifetimeMedianMs * 1e6, Sigma: w.LifetimeSigma})
	case scenario.LifetimePareto:
		l, err = workload.ParetoLifetime(workload.ParetoLifetimeParams{Alpha: w.LifetimeAlpha, ScaleNs: w.LifetimeMinMs * 1e6})
	case scenario.LifetimeForever:
		l = workload.ForeverLifetime()
	default:
		l, err = workload.ExponentialLifetime(w.LifetimeMeanMs * 1e6)
	}
	if err != nil || w.LeakFraction == 0 {
		return l, err
	}
	return l.WithLeak(w.LeakFraction)
}

// openScenarioFile opens a file a scenario names (a trace, a size
// histogram), resolved against the scenario file's directory. An embedded
// scenario's "data/NAME" files come from the binary. It returns the file
// and the name to report in errors.
func openScenarioFile(sc *scenario.Scenario, p string) (io.ReadCloser, string, error) {
	if strings.HasPrefix(sc.Source, "embedded:") {
		if strings.HasPrefix(p, "data/") {
			f, err := scenarios.OpenData(p)
			return f, sc.Source + ":" + p, err
		}
		f, err := os.Open(p)
		return f, p, err
	}
	if !filepath.IsAbs(p) && sc.Source != "" {
		p = filepath.Join(filepath.Dir(sc.Source), p)
	}
	f, err := os.Open(p)
	return f, p, err
}

// nextArrival returns the time of the next arrival after now, if it comes
// before the workload stops.
func (s *synthetic) nextArrival(now int64) (int64, bool) {
	at, ok := s.arrival.Next(&s.arrivals, now)
	return at, ok && at < s.stopNs
}

func (s *synthetic) size() int64 { return s.sizes.Draw(&s.sizeRNG) }

// lifetime draws the next object's lifetime; false means it is never
// freed.
func (s *synthetic) lifetime() (int64, bool) { return s.life.Draw(&s.lifeRNG, &s.leakRNG) }

// thread picks the thread that makes the next allocation, uniformly.
func (s *synthetic) thread() int { return s.placement.IntN(len(s.threads)) }

func (s *synthetic) nextMigration() int64 {
	return max(1, int64(math.Round(s.migrateRNG.Exp(s.migrateGapNs))))
}

// migrate moves one thread, chosen uniformly, to a CPU of migrateCPUs
// chosen uniformly (possibly its own).
func (s *synthetic) migrate() {
	t := s.migrateRNG.IntN(len(s.threads))
	s.threads[t] = s.migrateCPUs[s.migrateRNG.IntN(len(s.migrateCPUs))]
	s.migrations++
}
