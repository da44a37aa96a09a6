// Package gogovernance is the go-governance canonical experiment: the Go
// pacer under GOGC and GOMEMLIMIT on a steady service, and SPEC 5.3's
// leak-chaos check with and without a memory target.
package gogovernance

import (
	"fmt"
	"image/color"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/canon"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/internal/figure"
	"gonum.org/v1/gonum/stat/distuv"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Experiment returns the go-governance experiment, for the catalog.
func Experiment() canon.Experiment {
	return canon.Experiment{
		Name:  "go-governance",
		Title: "8. Go runtime governance: GOGC, GOMEMLIMIT and the leak-chaos check",
		Spec:  "SPEC 2.3, 4.3, 5.2, 5.3",
		Run:   run,
		Plan:  plan,
	}
}

// The steady Go service of part (a): leak-chaos's container and program
// without the leak, with a livelier heap (a GC every live/alloc = 2.56 s
// at GOGC=100), so that a short run holds many cycles.
const (
	steadyLiveMB      = 256
	steadyAllocMBPerS = 100
	steadyLimitMB     = 384 // GOMEMLIMIT of the fourth arm: 1.5 x live, below GOGC=100's 2 x live
	steadyFromSec     = 10  // GC intervals are measured from here, past the heap's warm-up
)

// arm is one setting of part (a).
type arm struct {
	name    string
	gogc    int
	limitMB int
}

var arms = []arm{
	{"GOGC=50", 50, 0},
	{"GOGC=100", 100, 0},
	{"GOGC=200", 200, 0},
	{"GOGC=100, GOMEMLIMIT=" + strconv.Itoa(steadyLimitMB) + " MiB", 100, steadyLimitMB},
}

// gcRecord is one go-runtime run's GC record.
type gcRecord struct {
	heapPeakMB     float64
	numGC          float64
	intervalMeanS  float64 // over the GCs started from steadyFromSec
	intervalSDS    float64
	pauseMedianMs  float64
	gcCPUFraction  float64
	wholeMeanS     float64 // the summary's gc_interval_mean_ns, whole run
	wholeSDS       float64
	limitedGCs     float64
	firstLimitGCS  float64 // first GC whose goal GOMEMLIMIT set, NaN: none
	oomS           float64 // NaN: no OOM kill
	containerPeakB float64 // the container cgroup's memory.peak
	mappedEndMB    float64 // the heap memory SBMP held mapped at the last sample
	markedMeanMB   float64 // mean marked heap of the GCs started from steadyFromSec
	died           string
}

func run(env *canon.Env, out *canon.Out) error {
	if err := pacer(env, out); err != nil {
		return err
	}
	one, err := leakChaos(env, out)
	if err != nil {
		return err
	}
	out.Cmd("sbmpsim experiment run go-governance" + env.QuickFlag() + "   # the leak-chaos run with the target: sbmpsim run leak-chaos" + one)
	return nil
}

// leakChaosScenario loads leak-chaos with sets; noLeak drops its [[fault]].
func leakChaosScenario(noLeak bool, sets ...string) (*scenario.Scenario, error) {
	sc, err := canon.Load("leak-chaos", sets...)
	if err != nil {
		return nil, err
	}
	if noLeak {
		sc.Faults = nil
		if err := sc.Validate(); err != nil {
			return nil, err
		}
	}
	return sc, nil
}

// recordOf reads a run's GC record; gogc is the program's GOGC, to tell
// the GCs GOMEMLIMIT paced.
func recordOf(res *world.Result, name string, gogc int) (gcRecord, error) {
	s := res.Summary
	var g *world.GoRuntimeSummary
	for _, w := range s.Workloads {
		if w.Name == name {
			g = w.GoRuntime
		}
	}
	if g == nil {
		return gcRecord{}, fmt.Errorf("run has no go-runtime workload %q", name)
	}
	r := gcRecord{
		heapPeakMB: float64(g.HeapAllocPeak) / (1 << 20), numGC: float64(g.NumGC),
		pauseMedianMs: float64(g.PauseMedianNs) / 1e6, gcCPUFraction: g.GCCPUFraction,
		wholeMeanS: g.GCIntervalMean / 1e9, wholeSDS: g.GCIntervalSD / 1e9, limitedGCs: float64(g.LimitedGCs),
		oomS: canon.FirstOOMSeconds(s), died: g.Died,
	}
	if s.Kernel != nil {
		for _, c := range s.Kernel.Cgroups {
			if c.Path != "/" {
				r.containerPeakB = max(r.containerPeakB, float64(c.PeakPages)*4096)
			}
		}
	}
	if i, err := canon.Column(&res.Timeseries, name+".mapped_bytes"); err == nil && len(res.Timeseries.Rows) > 0 {
		r.mappedEndMB = res.Timeseries.Rows[len(res.Timeseries.Rows)-1][i] / (1 << 20)
	}
	cycles, err := parseTrace(res.Files["gctrace-"+name+".txt"])
	if err != nil {
		return gcRecord{}, err
	}
	r.intervalMeanS, r.intervalSDS = intervals(cycles, steadyFromSec, math.Inf(1))
	var marked []float64
	for _, c := range cycles {
		if c.startS >= steadyFromSec {
			marked = append(marked, float64(c.markedMB))
		}
	}
	r.markedMeanMB, _, _, _ = meanCI(marked)
	r.firstLimitGCS = firstLimitGC(cycles, gogc)
	return r, nil
}

// cycle is one gctrace line: when the GC started, the heap it marked
// and the goal it ran to (MiB, as gctrace prints them).
type cycle struct {
	startS           float64
	markedMB, goalMB int64
}

var traceLine = regexp.MustCompile(`^gc \d+ @([0-9.]+)s .* \d+->\d+->(\d+) MB, (\d+) MB goal`)

// parseTrace reads GODEBUG=gctrace=1 lines.
func parseTrace(b []byte) ([]cycle, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("no gctrace output (the scenario must set gctrace = true)")
	}
	var cs []cycle
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		m := traceLine.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("gctrace line %d: unexpected format: %q", i+1, line)
		}
		t, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			return nil, fmt.Errorf("gctrace line %d: %w", i+1, err)
		}
		marked, _ := strconv.ParseInt(m[2], 10, 64)
		goal, _ := strconv.ParseInt(m[3], 10, 64)
		cs = append(cs, cycle{startS: t, markedMB: marked, goalMB: goal})
	}
	return cs, nil
}

// intervals is the mean and standard deviation of the times between
// successive GC starts in [fromS, toS); NaN with fewer than two GCs.
func intervals(cs []cycle, fromS, toS float64) (mean, sd float64) {
	var d []float64
	for i := 1; i < len(cs); i++ {
		if cs[i-1].startS >= fromS && cs[i].startS < toS {
			d = append(d, cs[i].startS-cs[i-1].startS)
		}
	}
	m, s, _, _ := meanCI(d)
	return m, s
}

// firstLimitGC is the start of the first GC whose goal was below
// GOGC's, marked·(1+GOGC/100) of the cycle before: a goal GOMEMLIMIT set.
// gctrace rounds to whole MiB, hence the 2 MiB of slack.
func firstLimitGC(cs []cycle, gogc int) float64 {
	for i := 1; i < len(cs); i++ {
		percent := float64(cs[i-1].markedMB) * (1 + float64(gogc)/100)
		if float64(cs[i].goalMB) < percent-2 {
			return cs[i].startS
		}
	}
	return math.NaN()
}

// meanCI returns the mean, standard deviation and the 95 % Student t
// interval of the mean of xs (the interval is the mean itself for one
// value; everything NaN for none).
func meanCI(xs []float64) (mean, sd, lo, hi float64) {
	n := float64(len(xs))
	if len(xs) == 0 {
		return math.NaN(), math.NaN(), math.NaN(), math.NaN()
	}
	for _, x := range xs {
		mean += x
	}
	mean /= n
	if len(xs) == 1 {
		return mean, math.NaN(), mean, mean
	}
	for _, x := range xs {
		sd += (x - mean) * (x - mean)
	}
	sd = math.Sqrt(sd / (n - 1))
	half := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 1}.Quantile(0.975) * sd / math.Sqrt(n)
	return mean, sd, mean - half, mean + half
}

// pacerSeeds are the seeds of every arm of part (a).
func pacerSeeds(env *canon.Env) []uint64 { return env.Seeds(3, 10) }

// pacerDurationMs is the simulated time of part (a)'s runs.
func pacerDurationMs(env *canon.Env) int {
	if env.Quick {
		return 60000
	}
	return 300000
}

// pacerBatch is part (a)'s runs: per arm, the seeds.
func pacerBatch(env *canon.Env) ([]*scenario.Scenario, error) {
	var scs []*scenario.Scenario
	for _, a := range arms {
		sc, err := leakChaosScenario(true, "run.duration_ms="+strconv.Itoa(pacerDurationMs(env)), "workload.0.live_mb="+strconv.Itoa(steadyLiveMB), "workload.0.alloc_mb_per_s="+strconv.Itoa(steadyAllocMBPerS),
			"workload.0.gogc="+strconv.Itoa(a.gogc), "workload.0.gomemlimit_mb="+strconv.Itoa(a.limitMB))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.name, err)
		}
		for _, seed := range pacerSeeds(env) {
			c := sc.Clone()
			c.Run.Seed = seed
			scs = append(scs, c)
		}
	}
	return scs, nil
}

// plan lists run's inputs: part (a)'s runs, then part (b)'s two.
func plan(env *canon.Env) ([]canon.Input, error) {
	scs, err := pacerBatch(env)
	if err != nil {
		return nil, err
	}
	c, err := chaosRuns(env)
	if err != nil {
		return nil, err
	}
	return canon.ScenarioInputs(append(scs, c.without, c.with)), nil
}

// pacer is part (a): GOGC 50/100/200 and GOGC=100 with GOMEMLIMIT on a
// steady service, over seeds.
func pacer(env *canon.Env, out *canon.Out) error {
	seeds := pacerSeeds(env)
	durationMs := pacerDurationMs(env)
	scs, err := pacerBatch(env)
	if err != nil {
		return err
	}
	res, err := env.RunAll(scs)
	if err != nil {
		return err
	}
	runs := make([][]gcRecord, len(arms))
	for i, a := range arms {
		for j := range seeds {
			r, err := recordOf(res[i*len(seeds)+j], "api", a.gogc)
			if err != nil {
				return fmt.Errorf("%s seed %d: %w", a.name, seeds[j], err)
			}
			if r.died != "alive" {
				return fmt.Errorf("%s seed %d: the steady service died (%s); the arms must compare live programs", a.name, seeds[j], r.died)
			}
			runs[i] = append(runs[i], r)
		}
	}
	out.P("**(a) The pacer on a steady service.** `leak-chaos`'s Go program (8 Ps, 1 KiB objects, on SBMP, in a container) without its leak, with a %d MiB live heap allocating %d MiB/s, for %d s, seeds 1-%d. Go's pacer aims the heap at marked·(1+GOGC/100), so the peak should sit near (1+GOGC/100)·live, 2x live at GOGC=100; a GOMEMLIMIT of %d MiB (1.5x live) caps it below that. GC intervals are measured between GC starts from %d s on, after the heap's warm-up, from the run's gctrace.",
		steadyLiveMB, steadyAllocMBPerS, durationMs/1000, len(seeds), steadyLimitMB, steadyFromSec)
	if err := pacerTable(out, runs, len(seeds)); err != nil {
		return err
	}
	return pacerFindings(out, runs)
}

// stat is one metric of part (a) over an arm's seeds.
func stat(rs []gcRecord, get func(gcRecord) float64) (mean, lo, hi float64) {
	xs := make([]float64, len(rs))
	for i, r := range rs {
		xs[i] = get(r)
	}
	m, _, l, h := meanCI(xs)
	return m, l, h
}

func pacerTable(out *canon.Out, runs [][]gcRecord, nSeeds int) error {
	metrics := []struct {
		title, unit string
		prec        int
		f           func(gcRecord) float64
	}{
		{"heap peak", "MiB", 1, func(r gcRecord) float64 { return r.heapPeakMB }},
		{"GCs", "count", 1, func(r gcRecord) float64 { return r.numGC }},
		{"mean GC interval (steady)", "s", 3, func(r gcRecord) float64 { return r.intervalMeanS }},
		{"GC CPU fraction", "%", 2, func(r gcRecord) float64 { return 100 * r.gcCPUFraction }},
	}
	labels := make([]string, len(arms))
	for i, a := range arms {
		labels[i] = a.name
		if a.limitMB > 0 {
			labels[i] = "GOMEMLIMIT=" + strconv.Itoa(a.limitMB) + " MiB"
		}
	}
	var grid [][]*plot.Plot
	var csvRows [][]string
	for k, m := range metrics {
		v, lo, hi := make([]float64, len(arms)), make([]float64, len(arms)), make([]float64, len(arms))
		for i := range arms {
			v[i], lo[i], hi[i] = stat(runs[i], m.f)
			csvRows = append(csvRows, []string{m.title, m.unit, arms[i].name, canon.Fixed(v[i], m.prec+2), canon.Fixed(lo[i], m.prec+2), canon.Fixed(hi[i], m.prec+2)})
		}
		p, err := figure.BarsCI(m.title, m.unit, labels, v, lo, hi)
		if err != nil {
			return err
		}
		p.Y.Min = 0
		p.Y.Tick.Marker = figure.PlainTicks{}
		if k == 0 {
			p.Y.Max = 1.3 * max(p.Y.Max, 2*steadyLiveMB)
			if err := hline(p, 2*steadyLiveMB, "2x live", -0.5, float64(len(arms))-0.5, color.Gray{Y: 90}); err != nil {
				return err
			}
		}
		if k%2 == 0 {
			grid = append(grid, []*plot.Plot{p, nil})
		} else {
			grid[len(grid)-1][1] = p
		}
	}
	out.CSV("go-governance-gogc", []string{"metric", "unit", "arm", "mean", "ci95_lo", "ci95_hi"}, csvRows)
	if err := out.Figure("go-governance-gogc", fmt.Sprintf("Part (a): the steady service under each setting (the GOMEMLIMIT arm runs at GOGC=100), means over seeds 1-%d with 95 %% t intervals; the dotted line is 2x the live heap.", nSeeds),
		9*vg.Inch, 7*vg.Inch, grid); err != nil {
		return err
	}
	var rows [][]string
	for i, a := range arms {
		rs := runs[i]
		peak, _, _ := stat(rs, func(r gcRecord) float64 { return r.heapPeakMB })
		target := (1 + float64(a.gogc)/100) * steadyLiveMB
		ngc, _, _ := stat(rs, func(r gcRecord) float64 { return r.numGC })
		im, _, _ := stat(rs, func(r gcRecord) float64 { return r.intervalMeanS })
		isd, _, _ := stat(rs, func(r gcRecord) float64 { return r.intervalSDS })
		stw, _, _ := stat(rs, func(r gcRecord) float64 { return r.pauseMedianMs })
		cpu, _, _ := stat(rs, func(r gcRecord) float64 { return r.gcCPUFraction })
		rows = append(rows, []string{a.name, canon.Fixed(peak, 1), canon.Fixed(peak/(2*steadyLiveMB), 3), canon.Fixed(peak/target, 3), canon.Fixed(ngc, 1), canon.Fixed(im, 3), canon.Fixed(isd, 3), canon.Fixed(stw, 3), canon.Fixed(100*cpu, 2)})
	}
	out.Table("go-governance-pacer", fmt.Sprintf("Part (a), means over seeds 1-%d", nSeeds),
		[]string{"setting", "heap peak MiB", "peak / (2x live)", "peak / ((1+GOGC/100) live)", "GCs", "mean GC interval s", "GC interval SD s", "STW median ms", "GC CPU %"}, rows)
	return nil
}

func pacerFindings(out *canon.Out, runs [][]gcRecord) error {
	mean := func(i int, get func(gcRecord) float64) float64 { m, _, _ := stat(runs[i], get); return m }
	peak := func(r gcRecord) float64 { return r.heapPeakMB }
	interval := func(r gcRecord) float64 { return r.intervalMeanS }
	var over, marked []string
	for i, a := range arms[:3] {
		over = append(over, fmt.Sprintf("%s %s", a.name, canon.Percent(mean(i, peak)/((1+float64(a.gogc)/100)*steadyLiveMB)-1)))
		marked = append(marked, canon.Percent(mean(i, func(r gcRecord) float64 { return r.markedMeanMB })/steadyLiveMB-1))
	}
	out.P("The heap peaks a little above (1+GOGC/100)·live, by %s, because the goal is computed from the marked heap, not the live one: what the program allocates during a concurrent mark is marked too (floating garbage), and the steady cycles' marked heap (gctrace, whole MiB) averaged %s above the live heap. Halving GOGC from 100 to 50 cut the peak from %s to %s MiB and the mean GC interval from %s to %s s; doubling it to 200 raised them to %s MiB and %s s. GOMEMLIMIT=%d MiB held the peak at %s MiB at the price of a GC every %s s and %s of the CPU in GC (GOGC=100 alone: %s).",
		strings.Join(over, ", "), strings.Join(marked, " / "), canon.Fixed(mean(1, peak), 1), canon.Fixed(mean(0, peak), 1), canon.Fixed(mean(1, interval), 3), canon.Fixed(mean(0, interval), 3),
		canon.Fixed(mean(2, peak), 1), canon.Fixed(mean(2, interval), 3), steadyLimitMB, canon.Fixed(mean(3, peak), 1), canon.Fixed(mean(3, interval), 3),
		canon.Percent(mean(3, func(r gcRecord) float64 { return r.gcCPUFraction })), canon.Percent(mean(1, func(r gcRecord) float64 { return r.gcCPUFraction })))
	if lim := runs[3]; len(lim) > 1 {
		lo, hi := 0, 0
		for i, r := range lim {
			if r.numGC < lim[lo].numGC {
				lo = i
			}
			if r.numGC > lim[hi].numGC {
				hi = i
			}
		}
		out.P("Under GOMEMLIMIT the GC count, and with it the GC interval and CPU, moves with the seed while the heap peak does not: from %s GCs (seed %d) to %s (seed %d), with the heap peak at %s and %s MiB. The limit-based goal is the limit minus everything mapped beyond the live heap, and SBMP held %s MiB of heap memory mapped at the end of seed %d against %s MiB in seed %d: %s MiB of 2 MiB Tier-1 blocks more or less, which the scavenger cannot return while any slot in them is live, move the goal's headroom and with it how often the GC runs.",
			canon.Fixed(lim[lo].numGC, 0), lo+1, canon.Fixed(lim[hi].numGC, 0), hi+1, canon.Fixed(lim[lo].heapPeakMB, 1), canon.Fixed(lim[hi].heapPeakMB, 1), canon.Fixed(lim[hi].mappedEndMB, 0), hi+1, canon.Fixed(lim[lo].mappedEndMB, 0), lo+1, canon.Fixed(lim[hi].mappedEndMB-lim[lo].mappedEndMB, 0))
	}
	stw := make([]string, len(arms))
	for i := range arms {
		stw[i] = canon.Fixed(mean(i, func(r gcRecord) float64 { return r.pauseMedianMs }), 3)
	}
	out.P("SPEC 4.3 reports, before and after degrade, a mean GC interval of 1.8 s -> 3.2 s and a median STW of 0.021 ms -> 0.014 ms. Our median STW pause per setting is %s ms: the modelled stop-the-world phases cost a fixed part plus a part per P, plus any sweep the previous cycle left unfinished, so they do not follow the heap's size or GOGC; only GCs so frequent that sweeping falls behind lengthen them.",
		strings.Join(stw, " / "))
	return nil
}

// hline draws a dotted horizontal reference line at y from x0 to x1,
// named in the legend.
func hline(p *plot.Plot, y float64, name string, x0, x1 float64, c color.Color) error {
	l, err := plotter.NewLine(plotter.XYs{{X: x0, Y: y}, {X: x1, Y: y}})
	if err != nil {
		return err
	}
	l.Color = c
	l.Width = vg.Points(1.2)
	l.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
	p.Add(l)
	if name != "" {
		p.Legend.Add(name, l)
	}
	return nil
}

// chaos is part (b)'s pair of runs and their setting.
type chaos struct {
	containerMB, limitMB  int64
	liveMB, allocMBPerS   float64
	leakMBPerS, leakFromS float64
	gogc                  int
	durationS             float64
	without, with         gcRecord
	resWithout, resWith   *world.Result
}

// chaosPair is part (b)'s two runs: the scenario without a memory
// target and with one of limitMB (the overrides withSets of leak-chaos);
// api is the Go program's workload.
type chaosPair struct {
	without, with *scenario.Scenario
	withSets      []string
	api, limitMB  int
}

// chaosRuns loads part (b)'s two runs.
func chaosRuns(env *canon.Env) (chaosPair, error) {
	base, err := canon.Load("leak-chaos")
	if err != nil {
		return chaosPair{}, err
	}
	api, err := canon.WorkloadIndex(base, "api")
	if err != nil {
		return chaosPair{}, err
	}
	w := fmt.Sprintf("workload.%d.", api)
	var sets []string
	limitMB := 1536 // the seed's 1.5 GiB
	if env.Quick {
		sets = []string{"kernel.cgroup.0.max_mb=512", w + "live_mb=128", w + "alloc_mb_per_s=6.25", "fault.0.rate_mb_per_s=1.25"}
		limitMB = 192
	}
	without, err := leakChaosScenario(false, append(sets, w+"gomemlimit_mb=0")...)
	if err != nil {
		return chaosPair{}, err
	}
	withSets := append(sets, w+"gomemlimit_mb="+strconv.Itoa(limitMB))
	with, err := leakChaosScenario(false, withSets...)
	if err != nil {
		return chaosPair{}, err
	}
	if len(without.Faults) != 1 || without.Faults[0].Kind != "leak" || len(without.Kernel.Cgroups) != 1 {
		return chaosPair{}, fmt.Errorf("leak-chaos: want one leak fault and one cgroup")
	}
	return chaosPair{without: without, with: with, withSets: withSets, api: api, limitMB: limitMB}, nil
}

// leakChaos is part (b): SPEC 5.3's chaos check with and without a
// memory target, quick at an eighth of leak-chaos's sizes (as
// TestLeakChaos runs it), full at full size.
// It returns the --set flags of the run with the target.
func leakChaos(env *canon.Env, out *canon.Out) (string, error) {
	cr, err := chaosRuns(env)
	if err != nil {
		return "", err
	}
	without, with, api, limitMB := cr.without, cr.with, cr.api, cr.limitMB
	res, err := env.RunAll([]*scenario.Scenario{without, with})
	if err != nil {
		return "", err
	}
	wl := without.Workloads[api]
	c := chaos{containerMB: without.Kernel.Cgroups[0].MaxMB, limitMB: int64(limitMB), liveMB: wl.LiveMB, allocMBPerS: wl.AllocMBPerS,
		leakMBPerS: without.Faults[0].RateMBPerS, leakFromS: float64(without.Faults[0].AtMs) / 1000, gogc: int(wl.GOGC),
		resWithout: res[0], resWith: res[1], durationS: float64(without.Run.DurationMs) / 1000}
	if c.without, err = recordOf(res[0], wl.Name, c.gogc); err != nil {
		return "", err
	}
	if c.with, err = recordOf(res[1], wl.Name, c.gogc); err != nil {
		return "", err
	}
	for i, r := range []*gcRecord{&c.without, &c.with} {
		cs, err := parseTrace(res[i].Files["gctrace-"+wl.Name+".txt"])
		if err != nil {
			return "", err
		}
		end := c.durationS
		if !math.IsNaN(r.oomS) {
			end = r.oomS
		}
		r.intervalMeanS, r.intervalSDS = intervals(cs, c.leakFromS, end)
	}
	scale := "full size: the embedded `leak-chaos` scenario"
	if env.Quick {
		scale = "an eighth of `leak-chaos`'s sizes (as `TestLeakChaos` runs it; the full-size run is `sbmpsim experiment run go-governance`)"
	}
	out.P("**(b) The leak-chaos check (SPEC 5.3)**, at %s: a Go program (GOGC=%d, %s MiB live heap, %s MiB/s of 1 KiB objects on SBMP) in a container with `memory.max` = %d MiB; from %s s it leaks %s MiB/s. Once without a memory target, once with GOMEMLIMIT = %d MiB; one run each (seed 1), %s s simulated.",
		scale, c.gogc, canon.Fixed(c.liveMB, 0), canon.Fixed(c.allocMBPerS, 2), c.containerMB, canon.Fixed(c.leakFromS, 0), canon.Fixed(c.leakMBPerS, 2), c.limitMB, canon.Fixed(c.durationS, 0))
	if err := chaosFigure(out, &c, wl.Name); err != nil {
		return "", err
	}
	chaosTable(out, &c)
	var one strings.Builder
	for _, s := range cr.withSets {
		one.WriteString(" --set " + s)
	}
	return one.String(), nil
}

// chaosFigure draws heap_alloc, next_gc and the heap's mapped memory
// over time, without and with the memory target, the OOM kill marked.
func chaosFigure(out *canon.Out, c *chaos, name string) error {
	type side struct {
		title string
		res   *world.Result
		run   gcRecord
		limit int64
	}
	sides := []side{{"without GOMEMLIMIT", c.resWithout, c.without, 0}, {fmt.Sprintf("with GOMEMLIMIT = %d MiB", c.limitMB), c.resWith, c.with, c.limitMB}}
	var grid [][]*plot.Plot
	var rows [][]string
	var yMax float64
	for si, sd := range sides {
		ts := &sd.res.Timeseries
		var idx [3]int
		for k, col := range []string{".heap_alloc", ".next_gc", ".mapped_bytes"} {
			i, err := canon.Column(ts, name+col)
			if err != nil {
				return err
			}
			idx[k] = i
		}
		x := make([]float64, len(ts.Rows))
		ys := [3][]float64{}
		// The program's counters keep their last values after the kill:
		// the lines stop at the last sample before it.
		last := len(ts.Rows) - 1
		if !math.IsNaN(sd.run.oomS) {
			last = 0
		}
		for j, r := range ts.Rows {
			x[j] = r[0] / 1e9
			for k := range idx {
				ys[k] = append(ys[k], r[idx[k]]/(1<<20))
				yMax = max(yMax, ys[k][j])
			}
			if x[j] < sd.run.oomS {
				last = j
			}
			if si == 0 {
				rows = append(rows, []string{canon.Fixed(x[j], 3), "", "", "", "", "", ""})
			}
			if j < len(rows) {
				for k := range idx {
					rows[j][1+3*si+k] = canon.Fixed(ys[k][j], 2)
				}
			}
		}
		n := last + 1
		p, err := figure.Lines(fmt.Sprintf("%s: OOM kill at %s s", sd.title, canon.Fixed(sd.run.oomS, 1)), "simulated time (s)", "MiB", []figure.Series{
			{Name: "heap_alloc", X: x[:n], Y: ys[0][:n]}, {Name: "next_gc", X: x[:n], Y: ys[1][:n]}, {Name: "heap mapped", X: x[:n], Y: ys[2][:n], Dashed: true},
		})
		if err != nil {
			return err
		}
		if math.IsNaN(sd.run.oomS) {
			p.Title.Text = sd.title + ": no OOM kill"
		} else {
			p.Add(figure.VLine(sd.run.oomS))
		}
		if err := hline(p, float64(c.containerMB), "memory.max", 0, c.durationS, color.Black); err != nil {
			return err
		}
		if sd.limit > 0 {
			if err := hline(p, float64(sd.limit), "GOMEMLIMIT", 0, c.durationS, figure.Color(3)); err != nil {
				return err
			}
		}
		p.Legend.Left = true
		p.Y.Tick.Marker = figure.PlainTicks{}
		grid = append(grid, []*plot.Plot{p})
	}
	xMax := c.durationS
	if !math.IsNaN(c.without.oomS) && !math.IsNaN(c.with.oomS) {
		xMax = min(xMax, 1.1*max(c.without.oomS, c.with.oomS))
	}
	for _, r := range grid {
		r[0].Y.Min, r[0].Y.Max = 0, yMax*1.45
		r[0].X.Min, r[0].X.Max = 0, xMax
	}
	out.CSV("go-governance-leak-chaos", []string{"time_s", "without_heap_alloc_mib", "without_next_gc_mib", "without_mapped_mib", "with_heap_alloc_mib", "with_next_gc_mib", "with_mapped_mib"}, rows)
	return out.Figure("go-governance-leak-chaos", fmt.Sprintf("The leak-chaos check: the Go heap (`heap_alloc`), the GC's goal (`next_gc`) and the heap memory SBMP mapped, sampled every %s s; the leak starts at %s s, the dashed vertical line is the container's OOM kill. Without a target the goal stays at twice the live heap; with one it is held under the target until the live heap itself fills the container.",
		canon.Fixed(sampleStep(c.resWithout), 1), canon.Fixed(c.leakFromS, 0)), 8*vg.Inch, 7*vg.Inch, grid)
}

// sampleStep is a time series' sample interval in seconds.
func sampleStep(res *world.Result) float64 {
	if len(res.Timeseries.Rows) < 2 {
		return math.NaN()
	}
	return (res.Timeseries.Rows[1][0] - res.Timeseries.Rows[0][0]) / 1e9
}

// chaosTable prints ours beside SPEC 5.3's figures and says what
// compares.
func chaosTable(out *canon.Out, c *chaos) {
	w, l := c.without, c.with
	gib := func(b float64) string {
		return fmt.Sprintf("%s MiB (%s GiB)", canon.Fixed(b/(1<<20), 0), canon.Fixed(b/(1<<30), 2))
	}
	when := func(t float64) string {
		if math.IsNaN(t) {
			return "none in " + canon.Fixed(c.durationS, 0) + " s"
		}
		return fmt.Sprintf("%s s (%s s after the leak began)", canon.Fixed(t, 1), canon.Fixed(t-c.leakFromS, 1))
	}
	change := func(a, b float64) string { return fmt.Sprintf("%+.0f %%", 100*(b/a-1)) }
	rows := [][]string{
		{"container memory.max", "4 GB", strconv.Itoa(int(c.containerMB)) + " MiB", strconv.Itoa(int(c.containerMB)) + " MiB"},
		{"leak", "10 MB/s", canon.Fixed(c.leakMBPerS, 2) + " MiB/s from " + canon.Fixed(c.leakFromS, 0) + " s", canon.Fixed(c.leakMBPerS, 2) + " MiB/s from " + canon.Fixed(c.leakFromS, 0) + " s"},
		{"memory target", "1.5 GiB", "none", strconv.Itoa(int(c.limitMB)) + " MiB"},
		{"first GC paced by the target", "after 32 s", "", when(l.firstLimitGCS)},
		{"container memory.peak", "RSS 3.9 GiB (without)", gib(w.containerPeakB), gib(l.containerPeakB)},
		{"OOM kill", "after 117 s (without)", when(w.oomS), when(l.oomS)},
		{"GCs (CPU-limited)", "", fmt.Sprintf("%s (%s)", canon.Fixed(w.numGC, 0), canon.Fixed(w.limitedGCs, 0)), fmt.Sprintf("%s (%s)", canon.Fixed(l.numGC, 0), canon.Fixed(l.limitedGCs, 0))},
		{"GC interval mean / SD, whole run", "", canon.Fixed(w.wholeMeanS, 3) + " / " + canon.Fixed(w.wholeSDS, 3) + " s", canon.Fixed(l.wholeMeanS, 3) + " / " + canon.Fixed(l.wholeSDS, 3) + " s"},
		{"GC interval SD change, whole run", "-63 %", "", change(w.wholeSDS, l.wholeSDS)},
		{"GC interval mean / SD, leak to kill", "", canon.Fixed(w.intervalMeanS, 3) + " / " + canon.Fixed(w.intervalSDS, 3) + " s", canon.Fixed(l.intervalMeanS, 3) + " / " + canon.Fixed(l.intervalSDS, 3) + " s"},
		{"GC interval SD change, leak to kill", "-63 %", "", change(w.intervalSDS, l.intervalSDS)},
		{"GC interval CV (SD / mean), whole run", "", canon.Fixed(w.wholeSDS/w.wholeMeanS, 2), canon.Fixed(l.wholeSDS/l.wholeMeanS, 2)},
		{"GC CPU fraction", "", canon.Percent(w.gcCPUFraction), canon.Percent(l.gcCPUFraction)},
		{"STW pause median", "", canon.Fixed(w.pauseMedianMs, 3) + " ms", canon.Fixed(l.pauseMedianMs, 3) + " ms"},
	}
	out.Table("go-governance-leak-chaos-vs-seed", "SPEC 5.3's figures beside ours (empty: not reported)", []string{"", "seed (SPEC 5.3)", "ours, without target", "ours, with target"}, rows)
	chaosFindings(out, c)
}

func chaosFindings(out *canon.Out, c *chaos) {
	w, l := c.without, c.with
	later := "it was not OOM-killed within the run"
	if !math.IsNaN(l.oomS) && !math.IsNaN(w.oomS) {
		later = fmt.Sprintf("the container's OOM kill came %s s later than without it, at %s s", canon.Fixed(l.oomS-w.oomS, 1), canon.Fixed(l.oomS, 1))
	}
	live := func(t float64) float64 { return c.liveMB + c.leakMBPerS*max(t-c.leakFromS, 0) }
	out.P("Without a target the GC's goal stays at %s x the marked heap, so the heap grows with the leak and the container is OOM-killed long before the live heap fills it: at %s s, %s s after the leak began, after %s GCs, with %s MiB live (a goal of %s MiB against memory.max = %d MiB). With GOMEMLIMIT = %d MiB the pacer first set a goal below GOGC's at %s s and from then on collected to the target, %s GCs in all (%s of them with the CPU limiter full, when it lets the heap pass the goal rather than spend more than half the CPU on GC); %s, with %s MiB live. GC CPU went from %s to %s, the median STW pause from %s to %s ms.",
		canon.Fixed(1+float64(c.gogc)/100, 1), canon.Fixed(w.oomS, 1), canon.Fixed(w.oomS-c.leakFromS, 1), canon.Fixed(w.numGC, 0), canon.Fixed(live(w.oomS), 0), canon.Fixed((1+float64(c.gogc)/100)*live(w.oomS), 0), c.containerMB,
		c.limitMB, canon.Fixed(l.firstLimitGCS, 1), canon.Fixed(l.numGC, 0), canon.Fixed(l.limitedGCs, 0), later, canon.Fixed(live(l.oomS), 0), canon.Percent(w.gcCPUFraction), canon.Percent(l.gcCPUFraction), canon.Fixed(w.pauseMedianMs, 3), canon.Fixed(l.pauseMedianMs, 3))
	out.P("What compares and what does not. The kinds of number compare: a time to the OOM kill without a target, the memory the container reached, when the target started to pace the GC, and the change in the spread of GC intervals. The values need not: the seed does not give its live heap, allocation rate, GOGC or when its leak began, so ours (the scenario's choices) set the clock. Its \"GC fired after 32 s\" is read here as the first GC whose goal the target set (%s). %s Its \"RSS\" is read as the container's memory.peak: ours reached %s without the target and %s with it, against memory.max = %d MiB. Its \"standard deviation fell 63 %%\" is a fall in the SD of the time between GCs; ours fell by %s over the whole run and %s from the leak to the kill, mostly because GCs became %s times as frequent: the coefficient of variation (SD / mean), which does not scale with the interval, went from %s to %s.",
		limitGCWhen(l.firstLimitGCS, c.leakFromS), why(c), mib(w.containerPeakB), mib(l.containerPeakB), c.containerMB, fall(w.wholeSDS, l.wholeSDS), fall(w.intervalSDS, l.intervalSDS), canon.Fixed(w.wholeMeanS/l.wholeMeanS, 0), canon.Fixed(w.wholeSDS/w.wholeMeanS, 2), canon.Fixed(l.wholeSDS/l.wholeMeanS, 2))
}

// why says whether the target binds before the leak.
func why(c *chaos) string {
	goal := (1 + float64(c.gogc)/100) * c.liveMB
	if goal > float64(c.limitMB) {
		return fmt.Sprintf("In our program GOGC's goal for the live heap alone, %s MiB, is already above the %d MiB target, so the target takes over as soon as the heap has grown to its working size (%s s at %s MiB/s), leak or no leak.",
			canon.Fixed(goal, 0), c.limitMB, canon.Fixed(c.liveMB/c.allocMBPerS, 1), canon.Fixed(c.allocMBPerS, 2))
	}
	return fmt.Sprintf("In our program GOGC's goal for the live heap alone, %s MiB, is below the %d MiB target, so the target takes over only once the leak has grown the heap.", canon.Fixed(goal, 0), c.limitMB)
}

func mib(b float64) string { return canon.Fixed(b/(1<<20), 0) + " MiB" }

func limitGCWhen(t, leakFromS float64) string {
	if math.IsNaN(t) {
		return "none happened"
	}
	return fmt.Sprintf("%s s into the run, %s s after the leak began", canon.Fixed(t, 1), canon.Fixed(t-leakFromS, 1))
}

func fall(a, b float64) string { return fmt.Sprintf("%.0f %%", 100*(1-b/a)) }
