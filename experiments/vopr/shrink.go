package vopr

import (
	"context"
	"reflect"
	"slices"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/policies"
)

// Shrunk is the result of a shrink.
type Shrunk struct {
	Scenario *scenario.Scenario // the smallest failing scenario found
	Err      error              // its failure
	Runs     int                // checked runs the shrink made
}

// Shrink makes sc, which fails with failure, smaller while it still fails
// the same way (the same broken invariant, or the same kind of run
// error): greedily, it tries one simplification at a time (halve the
// duration, drop a fault, a workload, a process, a cgroup, reset a
// policy, halve a workload's rates, simplify a workload, reset SBMP's
// shape, the machine, the kernel), keeps each that still fails, and
// starts over from the smaller scenario, until none helps or it has made
// opt.MaxShrinkRuns runs. The result is deterministic.
func Shrink(sc *scenario.Scenario, failure error, opt Options) Shrunk {
	limit := opt.MaxShrinkRuns
	if limit <= 0 {
		limit = DefaultMaxShrinkRuns
	}
	want := signature(failure)
	cur := Shrunk{Scenario: sc, Err: failure}
	for progress := true; progress && cur.Runs < limit; {
		progress = false
		for _, step := range shrinkSteps(cur.Scenario) {
			if cur.Runs >= limit {
				break
			}
			next := cur.Scenario.Clone()
			if !step(next) || next.Validate() != nil {
				continue
			}
			cur.Runs++
			_, err := world.Run(context.Background(), next, world.Options{CheckEvery: max(opt.Every, 1), CheckFullEvery: opt.FullEvery})
			if signature(err) == want {
				cur.Scenario, cur.Err, progress = next, err, true
				break
			}
		}
	}
	return cur
}

// shrinkStep simplifies a scenario in place and reports whether it
// changed anything.
type shrinkStep func(*scenario.Scenario) bool

// shrinkSteps lists every simplification of sc, the largest first.
func shrinkSteps(sc *scenario.Scenario) []shrinkStep {
	steps := []shrinkStep{halveDuration}
	for i := range sc.Faults {
		steps = append(steps, func(s *scenario.Scenario) bool { s.Faults = slices.Delete(s.Faults, i, i+1); return true })
	}
	for i := range sc.Workloads {
		steps = append(steps, func(s *scenario.Scenario) bool { return dropWorkload(s, i) })
	}
	for i := range sc.Processes {
		steps = append(steps, func(s *scenario.Scenario) bool { return dropProcess(s, i) })
	}
	for i := range sc.Kernel.Cgroups {
		steps = append(steps, func(s *scenario.Scenario) bool { return dropCgroup(s, i) })
	}
	steps = append(steps, defaultMerge, defaultRefill, defaultDegrade)
	for i := range sc.Workloads {
		steps = append(steps,
			func(s *scenario.Scenario) bool { return halveRates(&s.Workloads[i]) },
			func(s *scenario.Scenario) bool { return simplifyWorkload(&s.Workloads[i]) })
	}
	return append(steps, defaultSBMP, defaultKernel, smallerMachine)
}

func halveDuration(s *scenario.Scenario) bool {
	if s.Run.DurationMs < 2 {
		return false
	}
	s.Run.DurationMs /= 2
	return true
}

// dropWorkload removes workload i and the leak faults that name it.
func dropWorkload(s *scenario.Scenario, i int) bool {
	if len(s.Workloads) < 2 {
		return false
	}
	name := s.Workloads[i].Name
	s.Workloads = slices.Delete(s.Workloads, i, i+1)
	s.Faults = slices.DeleteFunc(s.Faults, func(f scenario.Fault) bool { return f.Kind == scenario.FaultLeak && f.Workload == name })
	return true
}

// dropProcess removes process i; its workloads move to the default one.
func dropProcess(s *scenario.Scenario, i int) bool {
	name := s.Processes[i].Name
	s.Processes = slices.Delete(s.Processes, i, i+1)
	for k := range s.Workloads {
		if s.Workloads[k].Process == name {
			s.Workloads[k].Process = scenario.DefaultProcess
		}
	}
	return true
}

// dropCgroup removes cgroup i with its descendants; what ran in them runs
// in "/".
func dropCgroup(s *scenario.Scenario, i int) bool {
	path := s.Kernel.Cgroups[i].Path
	gone := func(p string) bool { return p == path || strings.HasPrefix(p, path+"/") }
	s.Kernel.Cgroups = slices.DeleteFunc(s.Kernel.Cgroups, func(c scenario.Cgroup) bool { return gone(c.Path) })
	for k := range s.Workloads {
		if gone(s.Workloads[k].Cgroup) {
			s.Workloads[k].Cgroup = "/"
		}
	}
	for k := range s.Processes {
		if gone(s.Processes[k].Cgroup) {
			s.Processes[k].Cgroup = "/"
		}
	}
	return true
}

func defaultMerge(s *scenario.Scenario) bool   { return defaultPolicy(s, policies.KindMerge) }
func defaultRefill(s *scenario.Scenario) bool  { return defaultPolicy(s, policies.KindRefill) }
func defaultDegrade(s *scenario.Scenario) bool { return defaultPolicy(s, policies.KindDegrade) }

// defaultPolicy resets the policy of kind to the default one with its
// default parameters; false when it is that already.
func defaultPolicy(s *scenario.Scenario, kind policies.Kind) bool {
	p := s.Policy.With(kind, scenario.Default().Policy.Name(kind))
	if reflect.DeepEqual(p, s.Policy) {
		return false
	}
	s.Policy = p
	return true
}

// halveRates halves every rate of w that drives its events.
func halveRates(w *scenario.Workload) bool {
	w.RatePerS /= 2
	w.RateLowPerS /= 2
	w.RateHighPerS /= 2
	for k := range w.PhaseRatePerS {
		w.PhaseRatePerS[k] /= 2
	}
	w.AllocMBPerS /= 2
	w.GrowMBPerS /= 2
	w.MigratePerS /= 2
	return true
}

// simplifyWorkload runs w on one CPU, one thread, one task, without
// migrations, leaks or a start and stop time.
func simplifyWorkload(w *scenario.Workload) bool {
	before := *w
	first, _, _ := strings.Cut(strings.Split(w.CPUs, ",")[0], "-")
	w.CPUs = first
	w.Threads, w.MigratePerS, w.MigrateCPUs = 0, 0, ""
	w.LeakFraction, w.LeakMBPerS = 0, 0
	w.StartMs, w.StopMs = 0, 0
	w.Count = 1
	return w.CPUs != before.CPUs || before.Threads != 0 || before.MigratePerS != 0 || before.MigrateCPUs != "" ||
		before.LeakFraction != 0 || before.LeakMBPerS != 0 || before.StartMs != 0 || before.StopMs != 0 || before.Count > 1
}

func defaultSBMP(s *scenario.Scenario) bool {
	d := scenario.Default().SBMP
	if slices.Equal(s.SBMP.SlotSizes, d.SlotSizes) && s.SBMP.Tier0CapacitySlots == d.Tier0CapacitySlots && s.SBMP.Tier1BlockKiB == d.Tier1BlockKiB &&
		s.SBMP.SlabSelect == d.SlabSelect && s.SBMP.RemoteFreeBatch == d.RemoteFreeBatch &&
		s.SBMP.FSMDriftWindowMs == d.FSMDriftWindowMs && s.SBMP.FSMDriftRemoteShare == d.FSMDriftRemoteShare &&
		s.SBMP.FSMDriftMinSlots == d.FSMDriftMinSlots && s.SBMP.FSMSyncTimeoutFactor == d.FSMSyncTimeoutFactor {
		return false
	}
	s.SBMP = d
	return true
}

// defaultKernel resets the kernel's knobs, keeping the cgroups.
func defaultKernel(s *scenario.Scenario) bool {
	d := scenario.Default().Kernel
	d.Cgroups = s.Kernel.Cgroups
	if s.Kernel.Swappiness == d.Swappiness && s.Kernel.OOMKillAllocatingTask == d.OOMKillAllocatingTask && s.Kernel.SwapMB == d.SwapMB &&
		s.Kernel.MinFreeKbytes == d.MinFreeKbytes && s.Kernel.WatermarkScaleFactor == d.WatermarkScaleFactor {
		return false
	}
	s.Kernel = d
	return true
}

// smallerMachine moves to fewer nodes (a workload's CPUs must still
// exist, or the run fails to set up and the step is rejected).
func smallerMachine(s *scenario.Scenario) bool {
	switch s.Machine.Preset {
	case "epyc-2s-nps4", "4-socket", "tiered":
		s.Machine.Preset = "intel-2s"
	case "intel-2s":
		s.Machine.Preset = "1-node"
	default:
		return false
	}
	return true
}
