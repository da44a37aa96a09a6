// Package oomcrisis is the oom-crisis canonical experiment: the default
// scenario's chain from fragmentation to the OOM kill (SPEC 1.3) on seed 1,
// and the OOM probability of one-setting variants over seeds, each
// compared with the seed's settings on the same seeds.
package oomcrisis

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/canon"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/stats"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/internal/figure"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// Experiment returns the oom-crisis experiment, for the catalog.
func Experiment() canon.Experiment {
	return canon.Experiment{
		Name:  "oom-crisis",
		Title: "1. The OOM crisis, and which policy breaks the chain",
		Spec:  "SPEC 1.3, 1.5, 2.6",
		Run:   run,
		Plan:  plan,
	}
}

// variants are the arms: the seed's settings first, then one
// change each.
var variants = []canon.Variant{
	{Name: "seed settings"},
	{Name: "degrade=wait-refill", Sets: []string{"policy.degrade=wait-refill"}},
	{Name: "degrade=steal-remote", Sets: []string{"policy.degrade=steal-remote"}},
	{Name: "degrade=reclaim-first", Sets: []string{"policy.degrade=reclaim-first"}},
	{Name: "degrade=fail-fast", Sets: []string{"policy.degrade=fail-fast"}},
	{Name: "merge=eager", Sets: []string{"policy.merge=eager"}},
	{Name: "refill=adaptive-batch", Sets: []string{"policy.refill=adaptive-batch"}},
	{Name: "swappiness=60, 1 GiB swap", Sets: []string{"kernel.swappiness=60", "kernel.swap_mb=1024"}},
	{Name: "oom_kill_allocating_task=1", Sets: []string{"kernel.oom_kill_allocating_task=1"}},
}

// seedsOf are the seeds of every arm.
func seedsOf(env *canon.Env) []uint64 { return env.Seeds(4, 100) }

// plan lists run's inputs: every arm on the seeds, and the chain's run.
func plan(env *canon.Env) ([]canon.Input, error) {
	ins, err := canon.VariantInputs("oom-crisis", nil, variants, seedsOf(env))
	if err != nil {
		return nil, err
	}
	sc, err := canon.Load("oom-crisis")
	if err != nil {
		return nil, err
	}
	return append(ins, canon.ScenarioInputs([]*scenario.Scenario{sc})...), nil
}

func run(env *canon.Env, out *canon.Out) error {
	seeds := seedsOf(env)
	arms, err := env.RunVariants("oom-crisis", nil, variants, seeds)
	if err != nil {
		return err
	}
	// The chain, on seed 1 of the seed's settings.
	sc, err := canon.Load("oom-crisis")
	if err != nil {
		return err
	}
	res, err := env.Run(sc, world.Options{})
	if err != nil {
		return err
	}
	if err := chain(out, res); err != nil {
		return err
	}
	if err := compareArms(out, arms, seeds, sc.Run.DurationMs); err != nil {
		return err
	}
	out.Cmd("sbmpsim experiment run oom-crisis" + env.QuickFlag() + "   # seeds 1-" + strconv.Itoa(len(seeds)) + "; one run: sbmpsim run --seed 1 --out out/")
	return nil
}

// chain tells SPEC 1.3's chain and draws it from seed 1's run.
func chain(out *canon.Out, res *world.Result) error {
	s := res.Summary
	out.P("The default scenario (`sbmpsim run`) stages SPEC 1.3's chain from the models, with SBMP in the kernel as the seed describes it (`placement = \"kernel\"`): two file readers and two databases share a 2 × 512 MiB machine with `vm.swappiness=0` and no swap, and the page cache fills what the databases leave; socket 1's long-lived 256-byte sessions need fresh Tier-1 blocks, each an order-9 `alloc_pages(GFP_KERNEL | __GFP_NORETRY)` whose asynchronous compaction cannot move page cache out of a movable pageblock for an unmovable request, so each failure wakes kswapd to reclaim page cache and kcompactd to compact; Tier-1 keeps growing, paid for by the page cache, and the readers refault. Once the page cache is gone no 2 MiB block can be had, refills cross to the other node and fail there too, the allocator degrades to Tier-2 (each session an 8 KiB page, SPEC 2.5), direct reclaim finds nothing and the OOM killer picks the biggest task, since SBMP's memory is kernel memory in no task's RSS.")
	if err := timeline(out, res); err != nil {
		return err
	}
	var oomAt string
	if len(s.OOMEvents) > 0 {
		e := s.OOMEvents[0]
		oomAt = fmt.Sprintf("the OOM killer chose `%s` (pid %d, badness %d, scope %s) at %.2f s", e.VictimComm, e.VictimPID, e.VictimPoints, e.Scope, float64(e.TimeNs)/1e9)
	} else {
		oomAt = "no OOM kill happened"
	}
	var alerts []string
	for _, a := range s.SBMP.Alerts {
		if a.FirstDangerNs >= 0 {
			alerts = append(alerts, fmt.Sprintf("`%s` at %.1f s", a.Metric, float64(a.FirstDangerNs)/1e9))
		}
	}
	out.P("Seed 1: %d Tier-0, %d Tier-1 and %d Tier-2 allocations; %d small allocations fell back to Tier-2 (`fallback_to_tier2`), %d remote refills; %s. SPEC 1.5 alerts in danger: %s.",
		s.TierAllocs.Tier0, s.TierAllocs.Tier1, s.TierAllocs.Tier2, s.SBMP.Tier2Fallbacks, s.SBMP.RefillsRemote, oomAt, strings.Join(alerts, ", "))
	return nil
}

// compareArms draws and tabulates every arm over the seeds, each
// compared with the seed's settings (the first arm) on the same seeds,
// and says which change lowers the OOM probability.
func compareArms(out *canon.Out, arms []canon.Arm, seeds []uint64, durationMs int64) error {
	base := arms[0]
	labels := make([]string, len(arms))
	v, lo, hi := make([]float64, len(arms)), make([]float64, len(arms)), make([]float64, len(arms))
	var rows, csvRows [][]string
	var lower []string
	for i, a := range arms {
		labels[i] = a.Name
		v[i], lo[i], hi[i] = a.P, a.CI.Lo, a.CI.Hi
		median := medianFirstOOM(a.Runs)
		diff, ci, p := "", "", ""
		if i > 0 {
			rep, err := canon.Paired("oom-crisis", base, a, seeds)
			if err != nil {
				return err
			}
			o := rep.Paired.OOM
			diff = fmt.Sprintf("%+.0f", 100*o.Difference)
			ci = fmt.Sprintf("[%+.0f, %+.0f]", 100*o.CI95Newcombe[0], 100*o.CI95Newcombe[1])
			p = canon.Fixed(o.McNemarExactP, 4)
			if o.CI95Newcombe[1] < 0 {
				lower = append(lower, fmt.Sprintf("`%s` lowers it by %.0f points (95 %% CI %.0f to %.0f)", a.Name, -100*o.Difference, -100*o.CI95Newcombe[1], -100*o.CI95Newcombe[0]))
			}
		}
		fails := canon.MeanOf(a.Runs, func(s world.Summary) float64 { return float64(s.AllocFailures) })
		fb := canon.MeanOf(a.Runs, func(s world.Summary) float64 { return float64(s.SBMP.Tier2Fallbacks) })
		stall := canon.MeanOf(a.Runs, func(s world.Summary) float64 { return float64(s.MemoryPressure.SomeTotalUs) / 1e6 })
		p99 := canon.MeanOf(a.Runs, func(s world.Summary) float64 { return float64(s.AllocLatencyNs.P99) })
		peak := canon.MeanOf(a.Runs, func(s world.Summary) float64 { return float64(s.FootprintPeakBytes) / (1 << 20) })
		rows = append(rows, []string{a.Name, fmt.Sprintf("%d / %d", a.OOM, len(a.Runs)), canon.Fixed(a.P, 2), fmt.Sprintf("[%s, %s]", canon.Fixed(a.CI.Lo, 2), canon.Fixed(a.CI.Hi, 2)), median, diff, ci, p,
			canon.Fixed(fb, 0), canon.Fixed(fails, 0), canon.Fixed(stall, 2), canon.Fixed(p99, 0), canon.Fixed(peak, 1)})
		csvRows = append(csvRows, []string{a.Name, strings.Join(a.Sets, " "), strconv.Itoa(a.OOM), strconv.Itoa(len(a.Runs)), canon.Fixed(a.P, 4), canon.Fixed(a.CI.Lo, 4), canon.Fixed(a.CI.Hi, 4), median, diff, ci, p,
			canon.Fixed(fb, 1), canon.Fixed(fails, 1), canon.Fixed(stall, 3), canon.Fixed(p99, 1), canon.Fixed(peak, 2)})
	}
	bars, err := figure.BarsCI(fmt.Sprintf("P(OOM kill within %d s), %d seeds, 95 %% Wilson", durationMs/1000, len(seeds)), "probability", labels, v, lo, hi)
	if err != nil {
		return err
	}
	bars.Y.Min, bars.Y.Max = 0, 1.05
	if err := out.Figure("oom-probability-by-policy", "OOM probability per variant of the default scenario, with 95 % Wilson intervals; each variant changes one setting from the seed's.", 8*vg.Inch, 4.5*vg.Inch, [][]*plot.Plot{{bars}}); err != nil {
		return err
	}
	out.CSV("oom-probability-by-policy", []string{"variant", "overrides", "oom_runs", "runs", "p_oom", "wilson_lo", "wilson_hi", "median_first_oom_s", "diff_vs_seed_points", "newcombe_ci_points", "mcnemar_p", "mean_fallback_to_tier2", "mean_alloc_failures", "mean_memory_stall_some_s", "mean_alloc_latency_p99_ns", "mean_footprint_peak_mib"}, csvRows)
	out.Table("oom-crisis-arms", fmt.Sprintf("Seeds 1-%d; differences are this variant minus the seed's settings, on the same seeds (Newcombe interval, McNemar exact p); the last five columns are means over the seeds, so that a variant that avoids the OOM kill by failing requests or stalling shows it here", len(seeds)),
		[]string{"variant", "OOM runs", "P(OOM)", "95 % Wilson", "median first OOM (s)", "diff (points)", "95 % CI", "McNemar p", "fallback_to_tier2", "alloc failures", "memory stall (s, PSI some)", "p99 latency (ns)", "peak footprint (MiB)"}, rows)
	out.P("Under the seed's settings %d of %d runs end in an OOM kill (P = %.2f, 95 %% CI %.2f to %.2f).", base.OOM, len(base.Runs), base.P, base.CI.Lo, base.CI.Hi)
	if len(lower) > 0 {
		out.P("Which change breaks the chain, with its interval: %s. Any variant not named here did not lower the OOM probability by an interval that excludes zero.", strings.Join(lower, "; "))
	} else {
		out.P("No variant lowered the OOM probability by an interval that excludes zero at %d seeds.", len(seeds))
	}
	return nil
}

// medianFirstOOM is the Kaplan-Meier median time to the first OOM kill
// of runs, a run without one censored at its end: "> T" when the curve
// never fell to one half, "" when it cannot be computed.
func medianFirstOOM(runs []world.Summary) string {
	var times []stats.Observation
	for _, r := range runs {
		t := canon.FirstOOMSeconds(r)
		times = append(times, stats.Observation{Time: t, Event: !math.IsNaN(t)})
		if math.IsNaN(t) {
			times[len(times)-1].Time = float64(r.SimTimeNs) / 1e9
		}
	}
	km, err := stats.KaplanMeier(times)
	if err != nil {
		return ""
	}
	m, err := km.Median(0.95)
	switch {
	case err != nil:
		return ""
	case m.Median.Reached:
		return canon.Fixed(m.Median.Value, 2)
	default:
		return "> " + canon.Fixed(m.Median.Value, 0)
	}
}

// timeline draws seed 1's run: memory by kind, and SBMP's allocations
// per tier per second, with the OOM kill marked.
func timeline(out *canon.Out, res *world.Result) error {
	ts := &res.Timeseries
	cols := map[string]int{}
	for _, c := range []string{"free_pages", "file_pages", "anon_pages", "tier0_allocs", "tier1_allocs", "tier2_allocs"} {
		i, err := canon.Column(ts, c)
		if err != nil {
			return err
		}
		cols[c] = i
	}
	n := len(ts.Rows)
	x := make([]float64, n)
	mem := map[string][]float64{}
	rate := map[string][]float64{}
	for i, r := range ts.Rows {
		x[i] = r[0] / 1e9
		for _, c := range []string{"free_pages", "file_pages", "anon_pages"} {
			mem[c] = append(mem[c], r[cols[c]]*4096/(1<<20))
		}
		for _, c := range []string{"tier0_allocs", "tier1_allocs", "tier2_allocs"} {
			v := 0.0
			if i > 0 && x[i] > x[i-1] {
				v = (r[cols[c]] - ts.Rows[i-1][cols[c]]) / (x[i] - x[i-1])
			}
			rate[c] = append(rate[c], v)
		}
	}
	memPlot, err := figure.Lines("seed 1: memory (MiB)", "simulated time (s)", "MiB", []figure.Series{
		{Name: "free", X: x, Y: mem["free_pages"]}, {Name: "page cache", X: x, Y: mem["file_pages"]}, {Name: "anonymous", X: x, Y: mem["anon_pages"]},
	})
	if err != nil {
		return err
	}
	tierPlot, err := figure.Lines("SBMP allocations per second by tier", "simulated time (s)", "allocations/s", []figure.Series{
		{Name: "tier 0", X: x, Y: rate["tier0_allocs"]}, {Name: "tier 1 (refills)", X: x, Y: rate["tier1_allocs"]}, {Name: "tier 2", X: x, Y: rate["tier2_allocs"]},
	})
	if err != nil {
		return err
	}
	if len(res.Summary.OOMEvents) > 0 {
		t := float64(res.Summary.OOMEvents[0].TimeNs) / 1e9
		for _, p := range []*plot.Plot{memPlot, tierPlot} {
			p.Add(figure.VLine(t))
		}
	}
	var rows [][]string
	for i := range x {
		rows = append(rows, []string{canon.Fixed(x[i], 3), canon.Fixed(mem["free_pages"][i], 2), canon.Fixed(mem["file_pages"][i], 2), canon.Fixed(mem["anon_pages"][i], 2),
			canon.Fixed(rate["tier0_allocs"][i], 0), canon.Fixed(rate["tier1_allocs"][i], 0), canon.Fixed(rate["tier2_allocs"][i], 0)})
	}
	out.CSV("oom-crisis-seed1-timeline", []string{"time_s", "free_mib", "page_cache_mib", "anon_mib", "tier0_per_s", "tier1_per_s", "tier2_per_s"}, rows)
	return out.Figure("oom-crisis-seed1-timeline", "Seed 1 of the default scenario: free memory and page cache fall as the databases and readers grow; Tier-2 allocations take over from Tier-0/1 when Tier-1 cannot grow; the dashed line is the OOM kill.", 8*vg.Inch, 6*vg.Inch, [][]*plot.Plot{{memPlot}, {tierPlot}})
}
