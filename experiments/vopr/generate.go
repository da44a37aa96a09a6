// Package vopr is sbmpsim's whole-system verifier, after TigerBeetle's
// VOPR: from one seed it generates a random scenario (machine, kernel
// settings, SBMP shape, policies, workloads of every kind, processes,
// cgroups, faults), runs it with every invariant checked after every
// event (experiments.RunChecked), and when an invariant breaks it shrinks
// the scenario to a smaller one that still breaks it. One seed replays
// everything: `sbmpsim check --seed S`.
//
// Generated scenarios are small on purpose (machines of 16 to 64 MiB a
// node, 100 ms to 1 s of simulated time, modest rates) so that memory
// pressure, reclaim, swapping, OOM kills and SBMP's degrade path happen
// within a run of a fraction of a second, and so that checking after every
// event stays affordable.
package vopr

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/model/numa"
	"github.com/sbmpsim/sbmpsim/policies"
	"github.com/sbmpsim/sbmpsim/sim"
)

// Data files the generated scenarios name, shipped with the embedded
// scenarios: a heaptrack trace and a size histogram. A generated
// scenario's Source is "embedded:vopr-SEED", so the run reads them from
// the binary; a scenario written to a file needs them in DIR/data/ (see
// WriteData).
const (
	TraceFile     = "data/python3-json.zst"
	HistogramFile = "data/go-sizes.csv"
)

// MaxEvents is the event limit of a generated run: far above what the
// generated rates and durations produce, so reaching it is a runaway.
const MaxEvents = 20_000_000

// Generate returns the random scenario of seed, validated. The same seed
// gives the same scenario on every machine and with every Go version that
// keeps math/rand/v2's PCG.
func Generate(seed uint64) (*scenario.Scenario, error) {
	g := &gen{rng: sim.NewStream(seed, "vopr/scenario")}
	sc := g.scenario(seed)
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("vopr: seed %d generated an invalid scenario (a generator bug): %w", seed, err)
	}
	return sc, nil
}

// gen draws one scenario.
type gen struct {
	rng sim.Stream
	// Drawn so far, for the parts that refer to them.
	ncpu       int
	nodeIDs    []int // ids of the nodes with memory
	durationMs int64
	cgroups    []string // "/" and the declared ones
	processes  []string // scenario.DefaultProcess and the declared ones
}

func (g *gen) intn(n int) int             { return g.rng.IntN(n) }
func (g *gen) chance(p float64) bool      { return g.rng.Float64() < p }
func (g *gen) between(lo, hi int64) int64 { return lo + int64(g.rng.IntN(int(hi-lo+1))) }
func (g *gen) uniform(lo, hi float64) float64 {
	return lo + float64((hi-lo)*g.rng.Float64()) // rounded: no fused multiply-add (package stats)
}

// logUniform draws from lo..hi evenly in the logarithm.
func (g *gen) logUniform(lo, hi float64) float64 {
	return math.Exp(g.uniform(math.Log(lo), math.Log(hi)))
}

func pick[T any](g *gen, xs ...T) T { return xs[g.intn(len(xs))] }

func (g *gen) scenario(seed uint64) *scenario.Scenario {
	sc := scenario.Default()
	name := "vopr-" + strconv.FormatUint(seed, 10)
	sc.Source = "embedded:" + name
	sc.Run.Name = name
	sc.Run.Seed = seed & math.MaxInt64
	g.durationMs = g.between(100, 1000)
	sc.Run.DurationMs = g.durationMs
	sc.Run.MaxEvents = MaxEvents
	sc.Output.SampleIntervalMs = g.between(10, 500)
	g.machine(&sc)
	g.kernel(&sc)
	g.sbmp(&sc)
	g.policy(&sc)
	g.processList(&sc)
	for i := range 1 + g.intn(5) {
		sc.Workloads = append(sc.Workloads, g.workload(i))
	}
	for range g.intn(4) {
		if f, ok := g.fault(&sc); ok {
			sc.Faults = append(sc.Faults, f)
		}
	}
	return &sc
}

func (g *gen) machine(sc *scenario.Scenario) {
	sc.Machine.Preset = pick(g, numa.Preset1Node, numa.PresetIntel2S, numa.Preset4Socket, numa.PresetEPYC2SNPS4, numa.PresetTiered)
	sc.Machine.NodeMemoryMB = pick[int64](g, 16, 32, 64)
	topo, err := sc.Machine.Topology()
	if err != nil {
		panic(fmt.Sprintf("vopr: preset %s: %v", sc.Machine.Preset, err)) // presets are fixed: a bug
	}
	g.ncpu = len(topo.CPUs())
	for _, n := range topo.Nodes {
		if n.MemoryMB > 0 {
			g.nodeIDs = append(g.nodeIDs, n.ID)
		}
	}
}

func (g *gen) kernel(sc *scenario.Scenario) {
	k := &sc.Kernel
	k.Swappiness = g.intn(201)
	k.OOMKillAllocatingTask = g.intn(2)
	k.SwapMB = pick[int64](g, 0, 0, 16, 64)
	if g.chance(0.3) {
		k.MinFreeKbytes = g.between(128, 4096)
	}
	k.WatermarkScaleFactor = int(g.logUniform(1, 1000))
	g.cgroups = []string{"/"}
	for i := range g.intn(3) {
		path := "/g" + strconv.Itoa(i)
		if i > 0 && g.chance(0.5) {
			path = g.cgroups[len(g.cgroups)-1] + "/c" + strconv.Itoa(i)
		}
		c := scenario.Cgroup{Path: path}
		if g.chance(0.7) {
			c.MaxMB = g.between(4, 64)
		}
		if g.chance(0.4) {
			c.HighMB = g.between(4, 64)
		}
		if g.chance(0.3) {
			c.SwapMaxMB = g.between(1, 32)
		}
		k.Cgroups = append(k.Cgroups, c)
		g.cgroups = append(g.cgroups, path)
	}
}

func (g *gen) sbmp(sc *scenario.Scenario) {
	b := &sc.SBMP
	b.SlotSizes = nil
	for size := int64(8); size <= 65536; size *= 2 {
		if g.chance(0.25) {
			b.SlotSizes = append(b.SlotSizes, size)
		}
	}
	if len(b.SlotSizes) == 0 {
		b.SlotSizes = []int64{pick[int64](g, 64, 256, 1024)}
	}
	// Validate accepts 1, which sbmp.New refuses (reported with issue
	// 6): the generator stays at 2 or more.
	b.Tier0CapacitySlots = pick(g, 2, 3, 8, 64, 512)
	b.Tier1BlockKiB = pick(g, 2048, 4096)
	b.SlabSelect = pick(g, "fullest", "address", "newest")
	b.RemoteFreeBatch = pick(g, -1, 1, 12, 64)
	// Short drift windows and tight sync timeouts, so that the FSM's
	// drift, fault and failed-sync paths run within a short scenario.
	b.FSMDriftWindowMs = pick[int64](g, -1, 1, 20, 1000)
	b.FSMDriftRemoteShare = pick(g, 0.25, 0.5, 0.75)
	b.FSMDriftMinSlots = pick[int64](g, 1, 64)
	b.FSMSyncTimeoutFactor = pick[int64](g, 1, 2, 4)
}

// policy picks a policy of each kind and random valid parameters for it.
func (g *gen) policy(sc *scenario.Scenario) {
	p := &sc.Policy
	for _, kind := range []policies.Kind{policies.KindMerge, policies.KindRefill, policies.KindDegrade} {
		names := policies.Names(kind)
		name := names[g.intn(len(names))]
		switch kind {
		case policies.KindMerge:
			p.Merge = name
		case policies.KindRefill:
			p.Refill = name
		case policies.KindDegrade:
			p.Degrade = name
		}
		spec, err := policies.Lookup(kind, name)
		if err != nil {
			panic(err) // the name came from the registry
		}
		for _, par := range spec.Params {
			if !g.chance(0.6) {
				continue
			}
			if err := sc.Set(fmt.Sprintf("policy.%s_%s=%s", kind, par.Name, strconv.FormatFloat(g.param(par), 'f', -1, 64))); err != nil {
				panic(err) // every parameter has a key: a bug
			}
		}
	}
}

// param draws a valid value of par, around its default; a flag (an
// integer parameter of two values, such as degrade_carve_small) takes
// either.
func (g *gen) param(par policies.Param) float64 {
	if par.Integer && par.Max-par.Min == 1 {
		return par.Min + float64(g.intn(2))
	}
	lo := max(par.Min, par.Default/16, 1e-3)
	hi := min(par.Max, max(par.Default*16, lo*2))
	x := g.logUniform(lo, hi)
	if par.Integer {
		x = math.Round(x)
	}
	return min(max(x, par.Min), par.Max)
}

func (g *gen) processList(sc *scenario.Scenario) {
	g.processes = []string{scenario.DefaultProcess}
	for i := range g.intn(3) {
		name := "proc" + strconv.Itoa(i)
		sc.Processes = append(sc.Processes, scenario.Process{
			Name: name, Cgroup: pick(g, g.cgroups...), OOMScoreAdj: g.between(-1000, 1000),
		})
		g.processes = append(g.processes, name)
	}
}

// cpus draws a cpulist of 1 to 8 CPUs of the machine.
func (g *gen) cpus() string {
	n := 1 + g.intn(min(8, g.ncpu))
	first := g.intn(g.ncpu - n + 1)
	if n == 1 {
		return strconv.Itoa(first)
	}
	return fmt.Sprintf("%d-%d", first, first+n-1)
}

func (g *gen) workload(i int) scenario.Workload {
	w := scenario.DefaultWorkload(i)
	w.CPUs = g.cpus()
	if g.chance(0.3) {
		w.StartMs = g.between(0, g.durationMs/2)
	}
	if g.chance(0.2) {
		w.StopMs = g.between(w.StartMs+1, g.durationMs)
	}
	switch r := g.intn(100); {
	case r < 40:
		g.synthetic(&w)
	case r < 50:
		g.goRuntime(&w)
	case r < 58:
		w.Kind = scenario.KindHeaptrack
		w.Process = pick(g, g.processes...)
		w.File = TraceFile
		w.TimeScale = g.logUniform(0.2, 50)
	case r < 70:
		w.Kind = scenario.KindTask
		g.kernelTask(&w)
		if g.chance(0.3) {
			w.PageCacheMB = g.between(1, 32)
		}
	case r < 78:
		w.Kind = scenario.KindMlock
		g.kernelTask(&w)
		w.GrowMBPerS = g.logUniform(1, 50)
	case r < 90:
		w.Kind = scenario.KindPageCache
		g.kernelTask(&w)
		w.PageCacheMB = g.between(1, 64)
	default:
		w.Kind = scenario.KindKmallocLeak
		w.GrowMBPerS = g.logUniform(0.1, 20)
		if g.chance(0.5) {
			w.RSSMB = g.between(1, 16)
		}
		w.SizeBytes = int64(g.logUniform(8, 1<<20))
	}
	return w
}

func (g *gen) synthetic(w *scenario.Workload) {
	w.Kind = scenario.KindSynthetic
	w.Process = pick(g, g.processes...)
	w.Arrival = pick(g, scenario.ArrivalPoisson, scenario.ArrivalMMPP, scenario.ArrivalDiurnal, scenario.ArrivalPhases)
	w.RatePerS = g.logUniform(500, 20_000)
	switch w.Arrival {
	case scenario.ArrivalMMPP:
		w.RateLowPerS = g.logUniform(1, 20_000)
		// Validate accepts a high rate below the low one, which the run
		// refuses: the generator keeps them apart.
		w.RateHighPerS = w.RateLowPerS + g.logUniform(5_000, 30_000)
		w.LowMeanMs = g.logUniform(5, 500)
		w.HighMeanMs = g.logUniform(1, 100)
	case scenario.ArrivalDiurnal:
		w.DiurnalAmplitude = g.rng.Float64()
		w.DiurnalPeriodMs = g.logUniform(20, 5000)
		w.DiurnalPhase = g.uniform(-math.Pi, math.Pi)
	case scenario.ArrivalPhases:
		at := 0.0
		for k := range 1 + g.intn(4) {
			if k > 0 {
				at += g.uniform(1, float64(float64(g.durationMs)/2))
			}
			w.PhaseStartMs = append(w.PhaseStartMs, math.Round(at))
			w.PhaseRatePerS = append(w.PhaseRatePerS, pick(g, 0, g.logUniform(500, 20_000)))
		}
		w.PhaseRatePerS[g.intn(len(w.PhaseRatePerS))] = g.logUniform(500, 20_000)
	}
	if g.chance(0.2) {
		w.LoadFactor = g.logUniform(0.25, 2)
	}
	g.size(w)
	w.Lifetime = pick(g, scenario.LifetimeExponential, scenario.LifetimeLognormal, scenario.LifetimePareto, scenario.LifetimeForever)
	switch w.Lifetime {
	case scenario.LifetimeExponential:
		w.LifetimeMeanMs = g.logUniform(0.1, 500)
	case scenario.LifetimeLognormal:
		w.LifetimeMedianMs = g.logUniform(0.1, 200)
		w.LifetimeSigma = g.uniform(0.1, 2.5)
	case scenario.LifetimePareto:
		w.LifetimeAlpha = g.uniform(0.5, 3)
		w.LifetimeMinMs = g.logUniform(0.05, 20)
	case scenario.LifetimeForever:
		w.RatePerS /= 10 // everything stays: keep it to megabytes
		w.RateLowPerS /= 10
		w.RateHighPerS /= 10
		for k := range w.PhaseRatePerS {
			w.PhaseRatePerS[k] /= 10
		}
	}
	if g.chance(0.3) {
		w.LeakFraction = g.uniform(0, 0.3)
	}
	if g.chance(0.4) {
		w.Threads = 1 + g.intn(16)
	}
	if g.chance(0.3) {
		w.MigratePerS = g.logUniform(10, 2000)
		if g.chance(0.5) {
			w.MigrateCPUs = g.cpus()
		}
	}
}

// size draws a size distribution: small objects mostly, Tier-2 sizes
// sometimes.
func (g *gen) size(w *scenario.Workload) {
	w.Size = pick(g, scenario.SizeFixed, scenario.SizeDiscrete, scenario.SizeLognormal, scenario.SizeHistogram)
	switch w.Size {
	case scenario.SizeFixed:
		w.SizeBytes = int64(g.logUniform(1, 200_000))
	case scenario.SizeDiscrete:
		for range 1 + g.intn(4) {
			w.SizesBytes = append(w.SizesBytes, int64(g.logUniform(1, 100_000)))
			w.SizeWeights = append(w.SizeWeights, math.Round(g.uniform(0, 10)))
		}
		w.SizeWeights[0]++
	case scenario.SizeLognormal:
		w.SizeMedianBytes = g.logUniform(8, 8192)
		w.SizeSigma = g.uniform(0.1, 2)
		if g.chance(0.5) {
			w.SizeMinBytes = g.between(1, 64)
			w.SizeMaxBytes = g.between(w.SizeMinBytes, 300_000)
		}
	case scenario.SizeHistogram:
		w.SizeFile = HistogramFile
	}
}

// maxObjectsPerS bounds the objects a go-runtime workload or a leak
// fault allocates per second (each is an event): a byte rate of tiny
// objects would otherwise mean millions of events a run.
const maxObjectsPerS = 50_000

// mbPerS caps a byte rate in MiB/s for w's objects at maxObjectsPerS.
func mbPerS(w *scenario.Workload, mb float64) float64 {
	return min(mb, maxObjectsPerS*meanSizeAtLeast(w)/(1<<20))
}

// meanSizeAtLeast is a lower bound of the mean object size of w.
func meanSizeAtLeast(w *scenario.Workload) float64 {
	switch w.Size {
	case scenario.SizeDiscrete:
		return float64(slices.Min(w.SizesBytes))
	case scenario.SizeLognormal:
		return max(w.SizeMedianBytes/2, float64(w.SizeMinBytes), 1) // the clamp can only pull a few below the median
	case scenario.SizeHistogram:
		return 8 // data/go-sizes.csv starts at 8 B
	}
	return float64(w.SizeBytes)
}

func (g *gen) goRuntime(w *scenario.Workload) {
	w.Kind = scenario.KindGoRuntime
	w.Process = pick(g, g.processes...)
	g.size(w)
	w.AllocMBPerS = mbPerS(w, g.logUniform(1, 50))
	w.LiveMB = g.logUniform(0.5, 32)
	w.GOGC = pick[int64](g, 25, 50, 100, 200, 400, -1)
	if w.GOGC == -1 || g.chance(0.3) {
		w.GOMEMLIMITMB = g.between(4, 64)
	}
	if g.chance(0.3) {
		w.GOMAXPROCS = 1 + g.intn(4)
	}
	if g.chance(0.3) {
		w.LeakMBPerS = mbPerS(w, g.logUniform(0.5, 20))
		w.LeakFromMs = g.between(0, g.durationMs)
	}
}

func (g *gen) kernelTask(w *scenario.Workload) {
	w.GrowMBPerS = g.logUniform(1, 200)
	if g.chance(0.6) {
		w.RSSMB = g.between(1, 64)
	}
	w.OOMScoreAdj = g.between(-1000, 1000)
	w.Cgroup = pick(g, g.cgroups...)
	w.Count = pick(g, 1, 1, 1, 2, 3)
}

func (g *gen) fault(sc *scenario.Scenario) (scenario.Fault, bool) {
	f := scenario.DefaultFault(len(sc.Faults))
	f.AtMs = g.between(0, g.durationMs-1)
	if g.chance(0.6) {
		f.DurationMs = g.between(1, g.durationMs)
	}
	switch g.intn(4) {
	case 3:
		// SPEC 2.4: the allocator replaced mid-run by one with other
		// policies; it stays (no duration).
		f.Kind = scenario.FaultPolicySwap
		f.DurationMs = 0
		f.Merge = pick(g, append([]string{""}, scenario.MergePolicies()...)...)
		f.Refill = pick(g, append([]string{""}, scenario.RefillPolicies()...)...)
		f.Degrade = pick(g, append([]string{""}, scenario.DegradePolicies()...)...)
		if f.Merge == "" && f.Refill == "" && f.Degrade == "" {
			f.Degrade = pick(g, scenario.DegradePolicies()...)
		}
	case 0:
		f.Kind = scenario.FaultNUMALatency
		f.LatencyFactor = g.logUniform(1, 1000)
		f.BandwidthFactor = g.logUniform(1, 100)
		if g.chance(0.5) && len(g.nodeIDs) > 1 {
			a, b := g.nodeIDs[g.intn(len(g.nodeIDs))], g.nodeIDs[g.intn(len(g.nodeIDs))]
			f.Nodes = fmt.Sprintf("%d,%d", min(a, b), max(a, b))
			if a == b {
				f.Nodes = strconv.Itoa(a)
			}
		}
	case 1:
		f.Kind = scenario.FaultNodeOffline
		f.Node = g.nodeIDs[g.intn(len(g.nodeIDs))]
	default:
		var leaky []int
		for i, w := range sc.Workloads {
			if w.Kind == scenario.KindSynthetic || w.Kind == scenario.KindGoRuntime {
				leaky = append(leaky, i)
			}
		}
		if len(leaky) == 0 {
			return f, false
		}
		w := &sc.Workloads[pick(g, leaky...)]
		f.Kind = scenario.FaultLeak
		f.Workload = w.Name
		f.RateMBPerS = mbPerS(w, g.logUniform(0.5, 50))
	}
	return f, true
}
