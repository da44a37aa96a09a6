// Package hotswap is the hot-swap canonical experiment: the allocation
// stall around a policy swap (SPEC 2.4), whether the books close across
// it, and what a swap to fail-fast does to the OOM kill.
package hotswap

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/canon"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/internal/figure"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// Experiment returns the hot-swap experiment, for the catalog.
func Experiment() canon.Experiment {
	return canon.Experiment{
		Name:  "hot-swap",
		Title: "6. Zero-pause allocator replacement: the stall, the books, the OOM",
		Spec:  "SPEC 2.4, 2.6, 1.3",
		Run:   run,
		Plan:  plan,
	}
}

// swapMs is when the swaps happen.
const swapMs = 2000

// swapConfig is one way of running a scenario: no swap, or a policy swap
// at swapMs.
type swapConfig struct {
	Name string
	Sets []string
}

var swapConfigs = []swapConfig{
	{Name: "no swap"},
	{Name: "degrade immediate-tier2 -> fail-fast", Sets: []string{swapFault(swapMs, "degrade", "fail-fast")}},
	{Name: "refill fixed-batch -> adaptive-batch", Sets: []string{swapFault(swapMs, "refill", "adaptive-batch")}},
}

// swapFault is the override that adds one policy-swap fault.
func swapFault(atMs int, key, policy string) string {
	return fmt.Sprintf(`fault=[{kind="policy-swap", at_ms=%d, %s=%q}]`, atMs, key, policy)
}

// ladderMs are the durations of the runs whose differences give the
// latency in each window around the swap: a run of duration d is the
// first d ms of a longer run with the same seed, so the allocations in
// (d1, d2] are the longer run's count minus the shorter's, and so is
// their total latency (count times mean, both exact in the summary).
var ladderMs = []int{1750, 2000, 2010, 2025, 2050, 2100, 2200, 2500, 3000}

var scenarios = []string{"steady", "oom-crisis"}

// ladders is run's first batch: per scenario and configuration the
// ladder, then the full-length run (the scenario's own duration).
func ladders() ([]*scenario.Scenario, error) {
	var scs []*scenario.Scenario
	for _, name := range scenarios {
		for _, c := range swapConfigs {
			for _, d := range append(append([]int(nil), ladderMs...), 0) {
				sets := append([]string(nil), c.Sets...)
				if d > 0 {
					sets = append(sets, "run.duration_ms="+strconv.Itoa(d))
				}
				sc, err := canon.Load(name, sets...)
				if err != nil {
					return nil, fmt.Errorf("%s, %s: %w", name, c.Name, err)
				}
				scs = append(scs, sc)
			}
		}
	}
	return scs, nil
}

// oomSeeds are the seeds of the OOM arms.
func oomSeeds(env *canon.Env) []uint64 { return env.Seeds(3, 20) }

// plan lists run's inputs: the ladders, then the OOM arms.
func plan(env *canon.Env) ([]canon.Input, error) {
	scs, err := ladders()
	if err != nil {
		return nil, err
	}
	arms, err := canon.VariantInputs("oom-crisis", nil, oomArms(), oomSeeds(env))
	return append(canon.ScenarioInputs(scs), arms...), err
}

func run(env *canon.Env, out *canon.Out) error {
	scs, err := ladders()
	if err != nil {
		return err
	}
	results, err := env.RunAll(scs)
	if err != nil {
		return err
	}
	per := len(ladderMs) + 1
	ladder := func(si, ci int) []*world.Result {
		k := (si*len(swapConfigs) + ci) * per
		return results[k : k+per-1]
	}
	full := func(si, ci int) *world.Result { return results[(si*len(swapConfigs)+ci)*per+per-1] }

	out.P("SPEC 2.4 replaces the allocator behind an atomic pointer: new requests go to the new one at once, the old one keeps serving the frees of what it handed out (frees are routed to the owner by address), and its per-CPU caches are flushed back to its slabs (SPEC 2.6). Here a `policy-swap` fault does that at %.1f s, seed 1, in `steady` (%.0f s) and `oom-crisis` (%.0f s), with two swaps: `degrade` from `immediate-tier2` to `fail-fast`, and `refill` from `fixed-batch` to `adaptive-batch`.", float64(swapMs)/1e3, float64(full(0, 0).Summary.SimTimeNs)/1e9, float64(full(1, 0).Summary.SimTimeNs)/1e9)
	if err := stallFigure(out, ladder); err != nil {
		return err
	}
	if err := books(out, full); err != nil {
		return err
	}
	if err := oomSwaps(env, out); err != nil {
		return err
	}
	out.Cmd(fmt.Sprintf("sbmpsim experiment run hot-swap%s   # one run: sbmpsim run oom-crisis --set 'fault=[{kind=\"policy-swap\", at_ms=2000, degrade=\"fail-fast\"}]' --out out/", env.QuickFlag()))
	return nil
}

// window is the allocations in one window (from, to] of the ladder.
type window struct {
	fromS, toS    float64
	allocs        float64
	meanNs        float64 // mean allocation latency in the window
	failures      float64
	stallNs       float64 // sbmp_alloc_stall_ns accrued in the window
	refillsFromT1 float64 // allocations served after a refill
}

func windows(runs []*world.Result) []window {
	var w []window
	for i := 1; i < len(runs); i++ {
		a, b := runs[i-1].Summary, runs[i].Summary
		n := float64(b.AllocLatencyNs.Count) - float64(a.AllocLatencyNs.Count)
		sum := b.AllocLatencyNs.MeanNs*float64(b.AllocLatencyNs.Count) - a.AllocLatencyNs.MeanNs*float64(a.AllocLatencyNs.Count)
		mean := math.NaN()
		if n > 0 {
			mean = sum / n
		}
		w = append(w, window{fromS: float64(a.SimTimeNs) / 1e9, toS: float64(b.SimTimeNs) / 1e9, allocs: n, meanNs: mean,
			failures: float64(b.AllocFailures) - float64(a.AllocFailures), stallNs: float64(b.AllocStallNs - a.AllocStallNs),
			refillsFromT1: float64(b.TierAllocs.Tier1) - float64(a.TierAllocs.Tier1)})
	}
	return w
}

// stallFigure draws the mean allocation latency per window around the
// swap, and says how it compares with the window before.
func stallFigure(out *canon.Out, ladder func(si, ci int) []*world.Result) error {
	var row []*plot.Plot
	var rows [][]string
	var text []string
	for si, name := range scenarios {
		var series []figure.Series
		base := windows(ladder(si, 0))
		for ci, c := range swapConfigs {
			ws := windows(ladder(si, ci))
			s := figure.Series{Name: c.Name, Dashed: ci == 0}
			for k, w := range ws {
				// Windows are of very different lengths: one category
				// each, named by its edges relative to the swap.
				s.X = append(s.X, float64(k))
				s.Y = append(s.Y, w.meanNs)
				rows = append(rows, []string{name, c.Name, canon.Fixed(w.fromS, 3), canon.Fixed(w.toS, 3), canon.Fixed(w.allocs, 0), canon.Fixed(w.meanNs, 2), canon.Fixed(w.stallNs, 0), canon.Fixed(w.refillsFromT1, 0), canon.Fixed(w.failures, 0)})
			}
			series = append(series, s)
			if ci > 0 {
				text = append(text, stallText(name, c.Name, base, ws))
			}
		}
		p, err := figure.Lines(name+", seed 1: mean allocation latency per window", fmt.Sprintf("window, ms relative to the swap at %.1f s", float64(swapMs)/1e3), "mean latency (ns, log scale)", series)
		if err != nil {
			return err
		}
		var labels []string
		for _, w := range base {
			labels = append(labels, fmt.Sprintf("%.0f..%.0f", 1e3*w.fromS-swapMs, 1e3*w.toS-swapMs))
		}
		p.NominalX(labels...)
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		p.Legend.Top, p.Legend.Left = true, false
		p.Add(figure.VLine(0.5))
		row = append(row, p)
	}
	out.CSV("hot-swap-windows", []string{"scenario", "config", "from_s", "to_s", "allocs", "mean_latency_ns", "alloc_stall_ns", "tier1_allocs", "alloc_failures"}, rows)
	if err := out.Figure("hot-swap-windows", fmt.Sprintf("Mean allocation latency in windows around the swap at %.1f s (dashed vertical line), seed 1, on a log scale; the windows are of different lengths (labels: ms from the swap). Each window is the difference of two runs of the same seed that end at its two edges. The dashed curve is the run without a swap.", float64(swapMs)/1e3),
		11*vg.Inch, 4.5*vg.Inch, [][]*plot.Plot{row}); err != nil {
		return err
	}
	out.P("%s", strings.Join(text, " "))
	return nil
}

// stallText compares the first windows after the swap with the same
// windows without it and with the window before the swap.
func stallText(scen, config string, base, ws []window) string {
	swapS := float64(swapMs) / 1e3
	var before, first, after window
	var failed float64
	for i, w := range ws {
		if w.toS <= swapS+1e-9 {
			before = w
			continue
		}
		failed += w.failures - base[i].failures
		if first.allocs == 0 {
			first = w
		}
		if w.fromS >= swapS+0.1-1e-9 && after.allocs == 0 {
			after = w
		}
	}
	b0, b1 := baseAt(base, first.fromS), baseAt(base, after.fromS)
	return fmt.Sprintf("`%s`, %s: the mean allocation latency is %s ns in the %.0f ms before the swap and %s ns in the first %.0f ms after it (%s ns without the swap; %s allocations took %s refills from Tier-1 there, against %s without); %.0f to %.0f ms after the swap it is %s ns (%s without). The swap changes the failed allocations up to %.1f s by %+.0f.",
		scen, config, canon.Fixed(before.meanNs, 1), 1e3*(before.toS-before.fromS), canon.Fixed(first.meanNs, 1), 1e3*(first.toS-first.fromS), canon.Fixed(b0.meanNs, 1),
		canon.Fixed(first.allocs, 0), canon.Fixed(first.refillsFromT1, 0), canon.Fixed(b0.refillsFromT1, 0),
		1e3*(after.fromS-swapS), 1e3*(after.toS-swapS), canon.Fixed(after.meanNs, 1), canon.Fixed(b1.meanNs, 1),
		ws[len(ws)-1].toS, failed)
}

func baseAt(base []window, fromS float64) window {
	for _, w := range base {
		if w.fromS == fromS {
			return w
		}
	}
	return window{meanNs: math.NaN()}
}

// books checks, on each full-length run, that the swap lost nothing:
// the books close, every allocation after the swap went to the new
// allocator, every free found its owner.
func books(out *canon.Out, full func(si, ci int) *world.Result) error {
	var rows [][]string
	var notes []string
	closed, checked := 0, 0
	for si, name := range scenarios {
		for ci, c := range swapConfigs {
			res := full(si, ci)
			s := res.Summary
			var lost int64
			for _, w := range s.Workloads {
				lost += w.ObjectsLost
			}
			ok := int64(s.Allocs)-int64(s.Frees)-lost == s.ObjectsLiveEnd
			checked++
			if ok {
				closed++
			}
			flush, swapped, toNew, atSwap := "", "", "", ""
			if ci > 0 {
				if len(s.Faults) != 1 {
					return fmt.Errorf("%s, %s: %d faults in the summary, want the swap", name, c.Name, len(s.Faults))
				}
				flush, swapped = strconv.FormatInt(s.Faults[0].SwapFlushNs, 10), strconv.Itoa(s.Faults[0].Swapped)
				pre, err := allocsAt(res, float64(swapMs)/1e3)
				if err != nil {
					return err
				}
				post, err := debugfsAllocs(s.SBMP.Debugfs)
				if err != nil {
					return err
				}
				toNew, atSwap = strconv.FormatInt(post, 10), canon.Fixed(pre, 0)
				if int64(pre)+post != int64(s.Allocs) {
					notes = append(notes, fmt.Sprintf("`%s`, %s: %s allocations before the swap and %d by the new allocator do not add up to %d", name, c.Name, atSwap, post, s.Allocs))
				}
			}
			kill := ""
			if t := canon.FirstOOMSeconds(s); !math.IsNaN(t) {
				kill = canon.Fixed(t, 2)
			}
			rows = append(rows, []string{name, c.Name, flush, swapped, strconv.FormatUint(s.Allocs, 10), atSwap, toNew, strconv.FormatUint(s.Frees, 10),
				strconv.FormatInt(lost, 10), strconv.FormatInt(s.ObjectsLiveEnd, 10), strconv.FormatBool(ok), strconv.FormatUint(s.AllocFailures, 10),
				strconv.FormatInt(s.SBMP.Tier2Fallbacks, 10), kill, canon.Fixed(float64(s.FootprintPeakBytes)/(1<<20), 1), strconv.FormatInt(s.SBMP.Tier1BlocksEnd, 10)})
		}
	}
	out.Table("hot-swap-books", "Full-length runs, seed 1: the swap's flush cost, the books (allocations − frees − objects lost with a killed process = objects live at the end), where the allocations went, and what the run did",
		[]string{"scenario", "config", "swap_flush_ns", "processes swapped", "allocs", "allocs before swap", "allocs by new allocator", "frees", "objects lost", "live at end", "books close", "alloc failures", "fallback_to_tier2", "OOM kill (s)", "peak footprint (MiB)", "Tier-1 blocks at end"}, rows)
	msg := fmt.Sprintf("The books close in %d of %d runs. ", closed, checked)
	if len(notes) == 0 {
		msg += "In every swapped run the allocations before the swap (the time series' `allocs` at the swap) plus those the new allocator counts (its debugfs `tier0_allocs` + `tier1_allocs` + `tier2_allocs`) are all the run's allocations: every request after the swap went to the new allocator. Every free completed: a free of an address that no allocator owns stops a run with an error, so the frees of objects allocated before the swap were all served by the old allocator that owns them. "
	} else {
		msg += strings.Join(notes, "; ") + ". "
	}
	a, b := full(0, 0).Summary, full(0, 2).Summary
	msg += fmt.Sprintf("What the swap does cost is memory: the old allocator keeps its Tier-1 blocks (it returns a block only when the whole block is free again, and keeps one per node even then) while the new one grows its own. In `%s` the peak footprint goes from %s MiB without the swap to %s MiB with the refill swap, and the process ends holding %d Tier-1 blocks instead of %d, although the objects live at the end are the same (%d).",
		scenarios[0], canon.Fixed(float64(a.FootprintPeakBytes)/(1<<20), 1), canon.Fixed(float64(b.FootprintPeakBytes)/(1<<20), 1), b.SBMP.Tier1BlocksEnd, a.SBMP.Tier1BlocksEnd, b.ObjectsLiveEnd)
	out.P("%s", msg)
	return nil
}

// allocsAt is the time series' allocation count at t seconds.
func allocsAt(res *world.Result, t float64) (float64, error) {
	ai, err := canon.Column(&res.Timeseries, "allocs")
	if err != nil {
		return 0, err
	}
	for _, r := range res.Timeseries.Rows {
		if math.Abs(r[0]/1e9-t) < 1e-9 {
			return r[ai], nil
		}
	}
	return 0, fmt.Errorf("no time series sample at %.3f s", t)
}

// debugfsAllocs sums the tier allocation counters of a debugfs text.
func debugfsAllocs(text string) (int64, error) {
	var n int64
	found := 0
	for _, line := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok || (k != "tier0_allocs" && k != "tier1_allocs" && k != "tier2_allocs") {
			continue
		}
		x, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("debugfs %s: %w", k, err)
		}
		n += x
		found++
	}
	if found != 3 {
		return 0, fmt.Errorf("debugfs text has %d of the 3 tier allocation counters", found)
	}
	return n, nil
}

// oomArms: the OOM outcome of oom-crisis when the degrade policy
// becomes fail-fast at different times: early (2 s), while reclaim is
// still taking page cache for Tier-1 (30 s), and after Tier-1 has
// stopped growing, a few seconds before seed 1's kill at 54 s (50 s).
func oomArms() []canon.Variant {
	vs := []canon.Variant{{Name: "no swap"}, {Name: "fail-fast from the start", Sets: []string{"policy.degrade=fail-fast"}}}
	for _, ms := range []int{2000, 30000, 50000} {
		vs = append(vs, canon.Variant{Name: fmt.Sprintf("swap to fail-fast at %.0f s", float64(ms)/1e3), Sets: []string{swapFault(ms, "degrade", "fail-fast")}})
	}
	return vs
}

func oomSwaps(env *canon.Env, out *canon.Out) error {
	seeds := oomSeeds(env)
	arms, err := env.RunVariants("oom-crisis", nil, oomArms(), seeds)
	if err != nil {
		return err
	}
	labels := make([]string, len(arms))
	v, lo, hi := make([]float64, len(arms)), make([]float64, len(arms)), make([]float64, len(arms))
	var rows [][]string
	for i, a := range arms {
		labels[i] = strings.Replace(a.Name, "swap to fail-fast at", "swapped at", 1)
		v[i], lo[i], hi[i] = a.P, a.CI.Lo, a.CI.Hi
		diff, p := "", ""
		if i > 0 {
			rep, err := canon.Paired("oom-crisis", arms[0], a, seeds)
			if err != nil {
				return err
			}
			diff = fmt.Sprintf("%+.0f [%+.0f, %+.0f]", 100*rep.Paired.OOM.Difference, 100*rep.Paired.OOM.CI95Newcombe[0], 100*rep.Paired.OOM.CI95Newcombe[1])
			p = canon.Fixed(rep.Paired.OOM.McNemarExactP, 4)
		}
		fails := canon.MeanOf(a.Runs, func(s world.Summary) float64 { return float64(s.AllocFailures) })
		fb := canon.MeanOf(a.Runs, func(s world.Summary) float64 { return float64(s.SBMP.Tier2Fallbacks) })
		flush := canon.MeanOf(a.Runs, func(s world.Summary) float64 {
			if len(s.Faults) == 0 {
				return 0
			}
			return float64(s.Faults[0].SwapFlushNs)
		})
		median := canon.MeanOf(a.Runs, canon.FirstOOMSeconds) // NaN unless every run was killed
		churn := canon.MeanOf(a.Runs, func(s world.Summary) float64 { return workloadFailures(s, "churn") })
		newBlocks := ""
		if i >= 2 {
			newBlocks = canon.Fixed(canon.MeanOf(a.Runs, func(s world.Summary) float64 { return debugfsValue(s.SBMP.Debugfs, "tier1_blocks") }), 1)
		}
		rows = append(rows, []string{a.Name, fmt.Sprintf("%d / %d", a.OOM, len(a.Runs)), canon.Fixed(a.P, 2), fmt.Sprintf("[%s, %s]", canon.Fixed(a.CI.Lo, 2), canon.Fixed(a.CI.Hi, 2)), diff, p, canon.Fixed(median, 2), canon.Fixed(fb, 0), canon.Fixed(fails, 0), canon.Fixed(churn, 0), newBlocks, canon.Fixed(flush, 0)})
	}
	bars, err := figure.BarsCI(fmt.Sprintf("oom-crisis: P(OOM kill within %.0f s), %d seeds, 95 %% Wilson", float64(arms[0].Runs[0].SimTimeNs)/1e9, len(seeds)), "probability", labels, v, lo, hi)
	if err != nil {
		return err
	}
	bars.Y.Min, bars.Y.Max = 0, 1.05
	if err := out.Figure("hot-swap-oom", "The OOM outcome of `oom-crisis` when its degrade policy is swapped from `immediate-tier2` to `fail-fast` mid-run, at different times, against no swap and `fail-fast` from the start; 95 % Wilson intervals.",
		8*vg.Inch, 4.5*vg.Inch, [][]*plot.Plot{{bars}}); err != nil {
		return err
	}
	out.Table("hot-swap-oom", fmt.Sprintf("`oom-crisis`, seeds 1-%d: differences are this arm minus no swap on the same seeds, in points (Newcombe interval, McNemar exact p); the mean first OOM kill only when every run was killed", len(seeds)),
		[]string{"arm", "OOM runs", "P(OOM)", "95 % Wilson", "diff vs no swap (points)", "McNemar p", "mean first OOM kill (s)", "fallback_to_tier2", "alloc failures", "of which 64 B churn", "new allocator's Tier-1 blocks", "swap_flush_ns"}, rows)
	out.P("%s", oomText(arms))
	return nil
}

// oomText says which swaps avert the OOM kill and what they cost.
func oomText(arms []canon.Arm) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Without a swap %d of %d runs are OOM-killed; ", arms[0].OOM, len(arms[0].Runs))
	var parts []string
	for _, a := range arms[1:] {
		parts = append(parts, fmt.Sprintf("%s %d", a.Name, a.OOM))
	}
	fmt.Fprintf(&b, "killed runs with %s. ", strings.Join(parts, ", "))
	mean := func(a canon.Arm, get func(world.Summary) float64) float64 { return canon.MeanOf(a.Runs, get) }
	fails := func(s world.Summary) float64 { return float64(s.AllocFailures) }
	churn := func(s world.Summary) float64 { return workloadFailures(s, "churn") }
	blocks := func(s world.Summary) float64 { return debugfsValue(s.SBMP.Debugfs, "tier1_blocks") }
	early, late := arms[2], arms[len(arms)-2]
	fmt.Fprintf(&b, "Averting the kill costs failed allocations: with `fail-fast` a small request that Tier-0 and Tier-1 cannot serve fails instead of taking an 8 KiB page from Tier-2 (SPEC 2.5). Swapped at %s, that costs about what `fail-fast` from the start does (%s against %s failed allocations a run, %s of them the 64 B churn). ",
		strings.TrimPrefix(early.Name, "swap to fail-fast at "), canon.Fixed(mean(early, fails), 0), canon.Fixed(mean(arms[1], fails), 0), canon.Fixed(mean(early, churn), 0))
	if mean(late, churn) > mean(early, churn) {
		fmt.Fprintf(&b, "Swapped at %s it costs more: %s failed allocations a run, %s of them the 64 B churn that the old allocator was still serving from its own Tier-1. The new allocator starts with an empty Tier-1 and grows it from the kernel; by then the kernel has no 2 MiB block to give (the new allocator gets %s blocks on average, against %s when swapped at %s), and whatever Tier-1 memory the old allocator still holds serves only the old allocator.",
			strings.TrimPrefix(late.Name, "swap to fail-fast at "), canon.Fixed(mean(late, fails), 0), canon.Fixed(mean(late, churn), 0), canon.Fixed(mean(late, blocks), 1), canon.Fixed(mean(early, blocks), 1), strings.TrimPrefix(early.Name, "swap to fail-fast at "))
	}
	return b.String()
}

// workloadFailures is a named workload's failed allocations in a run.
func workloadFailures(s world.Summary, name string) float64 {
	for _, w := range s.Workloads {
		if w.Name == name {
			return float64(w.AllocFailures)
		}
	}
	return math.NaN()
}

// debugfsValue reads one counter of a debugfs text, NaN if absent.
func debugfsValue(text, key string) float64 {
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok && k == key {
			if x, err := strconv.ParseFloat(v, 64); err == nil {
				return x
			}
		}
	}
	return math.NaN()
}
