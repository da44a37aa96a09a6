// Package transfer is the transfer canonical experiment: the default
// scenario run at node sizes from 512 MiB up to the largest the kernel
// model holds, with every memory size and every rate scaled by the same
// factor (Scale), to say whether a result at the simulated size carries
// over to a host's size, and from which size on it stops changing.
//
// Each node size is a sweep.Grid of one point (the scaled overrides as
// one axis) run by the sweep engine; the sizes have grids of their own
// because their seed counts differ (a run's cost grows with the size).
package transfer

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/canon"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/sweep"
	"github.com/sbmpsim/sbmpsim/experiments/world"
)

// baseScenario is the embedded scenario the experiment scales.
const baseScenario = "oom-crisis"

// Experiment returns the transfer experiment, for the catalog.
func Experiment() canon.Experiment {
	return canon.Experiment{
		Name:  "transfer",
		Title: "9. Transfer across scale: does the OOM crisis at 512 MiB a node hold on larger hosts?",
		Spec:  "SPEC 1.3",
		Run:   run,
		Plan:  plan,
	}
}

// Seed counts: at base size the full run has fullSeeds seeds (the other
// experiments' count) and the quick one quickSeeds; a size k times the
// base runs 1/k as many, so that every size costs about the same, but
// never fewer than the floor, below which an interval says little.
const (
	fullSeeds, fullFloor   = 100, 20
	quickSeeds, quickFloor = 12, 3
	// quickSizes is how many node sizes the quick run has, from the base.
	quickSizes = 3
)

// seedsAt is the number of seeds a size k times the base runs.
func seedsAt(quick bool, k float64) int {
	n, floor := fullSeeds, fullFloor
	if quick {
		n, floor = quickSeeds, quickFloor
	}
	return max(floor, int(math.Ceil(float64(n)/k)))
}

// maxMachineMiB is the largest machine the experiment runs, all nodes
// together: 64 GiB. Not the kernel model's bound (world.MaxModelledMiB,
// which is larger since page state is kept only where memory is used) but
// the experiment's cost: a run at k times the base node size does about
// k times the base run's work, so each doubling doubles a run's time,
// and the full run's largest size already takes most of its time.
const maxMachineMiB = 64 << 10

// maxNodeMiB is the largest node size run on a machine of nodes nodes.
func maxNodeMiB(nodes int) int64 { return min(maxMachineMiB, world.MaxModelledMiB) / int64(nodes) }

// nodeSizesMiB are the node sizes run: the base size doubled while the
// machine stays within maxMachineMiB (all of them in the full run, the
// first quickSizes in the quick one).
func nodeSizesMiB(quick bool, baseMiB, maxMiB int64) []int64 {
	var s []int64
	for m := baseMiB; m <= maxMiB && !(quick && len(s) == quickSizes); m *= 2 {
		s = append(s, m)
	}
	return s
}

// point is one node size run over its seeds.
type point struct {
	NodeMiB int64
	// K is the factor every size and rate was multiplied by.
	K float64
	// Sets are the overrides Scale made, and Grid the sweep of them.
	Sets []string
	Grid sweep.Grid
	// Runs are the runs in seed order, and Report the sweep engine's
	// aggregate of them (OOM probability with its Wilson interval, the
	// Kaplan-Meier median time to the first OOM kill).
	Runs   []world.Summary
	Report sweep.PointReport
	// Kernel is what the kernel model sized from the node's memory.
	Kernel kernelSizes
}

// Seeds is the number of seeds the point ran.
func (p *point) Seeds() int { return len(p.Runs) }

// mean averages get over the point's runs.
func (p *point) mean(get func(world.Summary) float64) float64 { return canon.MeanOf(p.Runs, get) }

func failures(r world.Summary) float64  { return float64(r.AllocFailures) }
func fallbacks(r world.Summary) float64 { return float64(r.SBMP.Tier2Fallbacks) }
func events(r world.Summary) float64    { return float64(r.Events) }
func scanned(r world.Summary) float64 {
	return float64(r.VMStat["pgscan_kswapd"] + r.VMStat["pgscan_direct"])
}
func refaults(r world.Summary) float64 { return float64(r.VMStat["workingset_refault_file"]) }

// directReclaims is the run's direct reclaims (0 for a run without the
// kernel model).
func directReclaims(r world.Summary) float64 {
	if r.Kernel == nil {
		return 0
	}
	return float64(r.Kernel.DirectReclaims)
}

func run(env *canon.Env, out *canon.Out) error { return runWith(env, out, nil) }

// runWith runs the experiment on the base scenario with the overrides
// common applied before the scaling (tests shorten the runs with them).
func runWith(env *canon.Env, out *canon.Out, common []string) error {
	base, baseMiB, sizes, err := sizesOf(env, common)
	if err != nil {
		return err
	}
	_, nodes, err := nodeMemory(base)
	if err != nil {
		return err
	}
	maxMiB := maxNodeMiB(nodes)
	var pts []*point
	for _, size := range sizes {
		p, err := runSize(env, base, common, size, float64(size)/float64(baseMiB))
		if err != nil {
			return fmt.Errorf("transfer at %s a node: %w", sizeLabel(size), err)
		}
		pts = append(pts, p)
	}
	for _, p := range pts {
		name := p.Grid.Name + ".toml"
		out.File(name, sweepFile(p.Grid, fmt.Sprintf("The transfer experiment at %s a node, as its sweep: sbmpsim sweep %s --out DIR [--shard I/N]. Written by sbmpsim experiment run transfer%s.", sizeLabel(p.NodeMiB), name, env.QuickFlag())))
	}
	intro(out, env, base, pts, nodes, maxMiB)
	kernelTable(out, pts)
	if err := transferFigure(out, pts, base.Run.DurationMs); err != nil {
		return err
	}
	pointTable(out, pts)
	conclusions(out, pts)
	costText(out, env, pts, nodes)
	out.Cmd(fmt.Sprintf("sbmpsim experiment run transfer%s   # node sizes %s, seeds per size %s; one run at the largest size: sbmpsim run %s",
		env.QuickFlag(), sizeList(pts), seedList(pts), setFlags(pts[len(pts)-1].Sets)))
	return nil
}

// nodeMemory returns the memory of each of sc's memory nodes (they must
// be equal, as Scale's node_memory_mb makes them) and how many there are.
func nodeMemory(sc *scenario.Scenario) (mib int64, nodes int, err error) {
	t, err := sc.Machine.Topology()
	if err != nil {
		return 0, 0, err
	}
	for _, n := range t.Nodes {
		if n.MemoryMB == 0 {
			continue
		}
		if mib > 0 && n.MemoryMB != mib {
			return 0, 0, fmt.Errorf("%s: nodes of %d and %d MiB; the experiment scales equal nodes", sc.Source, mib, n.MemoryMB)
		}
		mib, nodes = n.MemoryMB, nodes+1
	}
	return mib, nodes, nil
}

// sizesOf loads the base scenario with the common overrides and returns
// it, its node size and the node sizes env runs.
func sizesOf(env *canon.Env, common []string) (*scenario.Scenario, int64, []int64, error) {
	base, err := canon.Load(baseScenario, common...)
	if err != nil {
		return nil, 0, nil, err
	}
	baseMiB, nodes, err := nodeMemory(base)
	if err != nil {
		return nil, 0, nil, err
	}
	return base, baseMiB, nodeSizesMiB(env.Quick, baseMiB, maxNodeMiB(nodes)), nil
}

// plan lists run's inputs: per node size its sweep and the run that
// sizes its kernel.
func plan(env *canon.Env) ([]canon.Input, error) { return planWith(env, nil) }

// planWith lists runWith's inputs.
func planWith(env *canon.Env, common []string) ([]canon.Input, error) {
	base, baseMiB, sizes, err := sizesOf(env, common)
	if err != nil {
		return nil, err
	}
	var ins []canon.Input
	for _, size := range sizes {
		_, sp, sc, err := newSize(env, base, common, size, float64(size)/float64(baseMiB))
		if err != nil {
			return nil, fmt.Errorf("transfer at %s a node: %w", sizeLabel(size), err)
		}
		ins = append(ins, canon.SweepInputs(sp)...)
		ins = append(ins, canon.Input{Scenario: sc, Seeds: []uint64{sc.Run.Seed}, StopAtNs: bootStopNs})
	}
	return ins, nil
}

// newSize scales base by k: the point of node size nodeMiB before its
// runs, its sweep, and the scaled scenario.
func newSize(env *canon.Env, base *scenario.Scenario, common []string, nodeMiB int64, k float64) (*point, *sweep.Plan, *scenario.Scenario, error) {
	sc := base.Clone()
	sets, err := Scale(sc, k)
	if err != nil {
		return nil, nil, nil, err
	}
	p := &point{NodeMiB: nodeMiB, K: k, Sets: sets, Grid: grid(nodeMiB, common, sets, seedsAt(env.Quick, k))}
	plan, err := sweep.NewGridPlan(p.Grid)
	if err != nil {
		return nil, nil, nil, err
	}
	return p, plan, sc, nil
}

// runSize scales base by k and runs it on its seeds through the sweep
// engine, then sizes its kernel in a run of one sample.
func runSize(env *canon.Env, base *scenario.Scenario, common []string, nodeMiB int64, k float64) (*point, error) {
	p, plan, sc, err := newSize(env, base, common, nodeMiB, k)
	if err != nil {
		return nil, err
	}
	if p.Runs, err = env.RunSweep(plan); err != nil {
		return nil, err
	}
	rep, err := sweep.Aggregate(&plan.PlanFile, p.Runs)
	if err != nil {
		return nil, err
	}
	p.Report = rep.Points[0]
	p.Kernel, err = sizeKernel(env, sc)
	return p, err
}

// grid is one node size as the sweep engine takes it: one point, whose
// axis sets every scaled key (after the common overrides), on seeds
// 1..seeds.
func grid(nodeMiB int64, common, sets []string, seeds int) sweep.Grid {
	var a sweep.Axis
	vals := make([]string, len(sets))
	for i, s := range sets {
		k, v, _ := strings.Cut(s, "=")
		a.Keys = append(a.Keys, k)
		vals[i] = v
	}
	a.Values = [][]string{vals}
	return sweep.Grid{Name: "transfer-" + strconv.FormatInt(nodeMiB, 10) + "mib", Scenario: "embedded:" + baseScenario,
		SeedFirst: 1, Seeds: seeds, Set: common, Axes: []sweep.Axis{a}}
}
