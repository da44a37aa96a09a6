// Package mergerefill is the merge-and-refill canonical experiment: the
// latency tails, footprint and merges of each merge and refill policy on
// steady, on steady with bursts and on merge-churn.
package mergerefill

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/canon"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/stats"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/internal/figure"
	"gonum.org/v1/gonum/stat/distuv"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// Experiment returns the merge-and-refill experiment, for the catalog.
func Experiment() canon.Experiment {
	return canon.Experiment{
		Name:  "merge-and-refill",
		Title: "4. Merge and refill policies: latency tails, footprint, merges",
		Spec:  "SPEC 1.1, 1.2, 1.5",
		Run:   run,
		Plan:  plan,
	}
}

// testbed is a base scenario of this experiment and its overrides.
type testbed struct {
	Name, Base string
	Sets       []string
	About      string
}

// testbeds: steady as it ships; merge-churn, built for merging (medium
// requests of mixed orders); and steady with bursts that make Tier-1
// slabs empty out (one in, one out), where merging has work to do: 300 000 allocations/s of 1 KiB objects living 100 ms on two CPUs,
// silent every other second, with 128-slot Tier-0 caches so that most
// slots drain back to their slabs in the silences.
var testbeds = []testbed{
	{Name: "steady", Base: "steady", About: "100 000 allocations/s of 64 B objects living 10 ms on 8 CPUs"},
	{Name: "steady + bursts", Base: "steady", Sets: []string{
		"workload.0.cpus=0-1", "workload.0.size_bytes=1024", "workload.0.lifetime_mean_ms=100",
		"workload.0.arrival=phases", "workload.0.phase_start_ms=[0,1000,2000,3000,4000]", "workload.0.phase_rate_per_s=[300000,0,300000,0,300000]",
		"sbmp.tier0_capacity_slots=128",
	}, About: "300 000 allocations/s of 1 KiB objects living 100 ms on 2 CPUs, silent in seconds 1-2 and 3-4, 128-slot caches"},
	{Name: "merge-churn", Base: "merge-churn", About: "bursts of 64 KiB-1 MiB buffers (Tier-1 buddy blocks of mixed orders) beside 50 000 small sessions/s, 20 s"},
}

// policyArm is one policy setting; Merge and Refill say which comparison it
// belongs to (the default belongs to both).
type policyArm struct {
	canon.Variant
	Merge, Refill bool
}

var policyArms = []policyArm{
	{canon.Variant{Name: "default (lazy-threshold, fixed-batch 64)"}, true, true},
	{canon.Variant{Name: "merge=eager", Sets: []string{"policy.merge=eager"}}, true, false},
	{canon.Variant{Name: "merge=delayed", Sets: []string{"policy.merge=delayed"}}, true, false},
	{canon.Variant{Name: "merge=watermark", Sets: []string{"policy.merge=watermark"}}, true, false},
	{canon.Variant{Name: "refill_batch=8", Sets: []string{"policy.refill_batch=8"}}, false, true},
	{canon.Variant{Name: "refill_batch=32", Sets: []string{"policy.refill_batch=32"}}, false, true},
	{canon.Variant{Name: "refill_batch=128", Sets: []string{"policy.refill_batch=128"}}, false, true},
	{canon.Variant{Name: "refill=adaptive-batch", Sets: []string{"policy.refill=adaptive-batch"}}, false, true},
}

// cell is one arm on one scenario over the seeds.
type cell struct {
	arm   policyArm
	runs  []world.Summary
	lat   *stats.LatencyHist // every seed's allocations pooled
	same  int                // seeds whose trace equals the default arm's
	p99   meanCI
	p999  meanCI
	merge meanCI
	fp    meanCI // footprint peak, MiB
}

// meanCI is a mean over seeds with its 95 % Student-t interval (NaN
// bounds for one seed).
type meanCI struct{ Mean, Lo, Hi float64 }

func newMeanCI(xs []float64) meanCI {
	n := float64(len(xs))
	m := 0.0
	for _, x := range xs {
		m += x
	}
	m /= n
	if len(xs) < 2 {
		return meanCI{m, math.NaN(), math.NaN()}
	}
	ss := 0.0
	for _, x := range xs {
		ss += (x - m) * (x - m)
	}
	half := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 1}.Quantile(0.975) * math.Sqrt(ss/(n-1)/n)
	return meanCI{m, m - half, m + half}
}

func (c meanCI) String(prec int) string {
	if math.IsNaN(c.Lo) || c.Hi-c.Lo < math.Pow(10, -float64(prec)) {
		return canon.Fixed(c.Mean, prec)
	}
	return fmt.Sprintf("%s [%s, %s]", canon.Fixed(c.Mean, prec), canon.Fixed(c.Lo, prec), canon.Fixed(c.Hi, prec))
}

// seedsOf are the seeds of every arm on every testbed.
func seedsOf(env *canon.Env) []uint64 { return env.Seeds(3, 100) }

// batch is run's one batch: per testbed, per arm, the seeds.
func batch(env *canon.Env) ([]*scenario.Scenario, error) {
	var scs []*scenario.Scenario
	for _, s := range testbeds {
		for _, a := range policyArms {
			for _, seed := range seedsOf(env) {
				sc, err := canon.Load(s.Base, append(append([]string{fmt.Sprintf("run.seed=%d", seed)}, s.Sets...), a.Sets...)...)
				if err != nil {
					return nil, fmt.Errorf("%s, %s: %w", s.Name, a.Name, err)
				}
				scs = append(scs, sc)
			}
		}
	}
	return scs, nil
}

// plan lists run's inputs.
func plan(env *canon.Env) ([]canon.Input, error) {
	scs, err := batch(env)
	return canon.ScenarioInputs(scs), err
}

func run(env *canon.Env, out *canon.Out) error {
	seeds := seedsOf(env)
	scs, err := batch(env)
	if err != nil {
		return err
	}
	results, err := env.RunAll(scs)
	if err != nil {
		return err
	}
	cells := make([][]*cell, len(testbeds))
	for i := range testbeds {
		for j, a := range policyArms {
			k := (i*len(policyArms) + j) * len(seeds)
			cells[i] = append(cells[i], newCell(a, results[k:k+len(seeds)], results[i*len(policyArms)*len(seeds):]))
		}
	}
	out.P("Three scenarios, each over seeds 1-%d with every arm on the same seeds: `steady` as it ships (%s); `steady + bursts` (%s: `%s`), where whole Tier-1 slabs empty out in the silences, so the merge policy has something to merge; and `merge-churn` (%s), built for merging: a freed buddy block must merge before a larger request can reuse it. One arm changes one policy from the default (`lazy-threshold` merging, `fixed-batch` refills of 64 slots).",
		len(seeds), testbeds[0].About, testbeds[1].About, strings.Join(testbeds[1].Sets, " "), testbeds[2].About)
	if err := cdfFigure(out, cells); err != nil {
		return err
	}
	for _, i := range []int{1, 2} {
		if err := barsFigure(out, i, cells[i], len(seeds)); err != nil {
			return err
		}
	}
	armTable(out, cells, len(seeds))
	for i, s := range testbeds {
		out.P("%s", story(s.Name, cells[i], len(seeds)))
	}
	for _, i := range []int{1, 2} {
		if v := verdict(testbeds[i].Name, cells[i]); v != "" {
			out.P("%s", v)
		}
	}
	out.Cmd(fmt.Sprintf("sbmpsim experiment run merge-and-refill%s   # one arm: sbmpsim run steady --set policy.refill_batch=8 --seed 1 --out out/", env.QuickFlag()))
	return nil
}

// newCell aggregates an arm's runs; def are the default arm's runs on
// the same scenario and seeds.
func newCell(a policyArm, res, def []*world.Result) *cell {
	c := &cell{arm: a, lat: new(stats.LatencyHist)}
	var p99, p999, merges, fp []float64
	for i, r := range res {
		c.runs = append(c.runs, r.Summary)
		c.lat.Merge(r.Latency)
		if r.Summary.TraceHash == def[i].Summary.TraceHash {
			c.same++
		}
		p99 = append(p99, float64(r.Summary.AllocLatencyNs.P99))
		p999 = append(p999, float64(r.Summary.AllocLatencyNs.P999))
		merges = append(merges, float64(r.Summary.SBMP.Tier1Merges))
		fp = append(fp, float64(r.Summary.FootprintPeakBytes)/(1<<20))
	}
	c.p99, c.p999, c.merge, c.fp = newMeanCI(p99), newMeanCI(p999), newMeanCI(merges), newMeanCI(fp)
	return c
}

// cdfSeries samples a histogram's CDF at F = 1 - 10^(-y) for y in steps
// of 0.05 up to where at least 10 allocations remain above. y, the
// number of nines of F, is the vertical axis: 1, 2, 3 are F = 0.9, 0.99,
// 0.999, so the tail gets the room.
func cdfSeries(name string, h *stats.LatencyHist) (figure.Series, error) {
	s := figure.Series{Name: name}
	top := math.Log10(float64(h.Count()) / 10)
	for k := 0; float64(k)*0.05 <= top; k++ {
		y := float64(k) * 0.05
		q := 1 - math.Pow(10, -y)
		v, err := h.Quantile(q)
		if err != nil {
			return s, err
		}
		s.X, s.Y = append(s.X, float64(max(v, 1))), append(s.Y, y)
	}
	return s, nil
}

func cdfFigure(out *canon.Out, cells [][]*cell) error {
	var grid [][]*plot.Plot
	var rows [][]string
	for i, sc := range testbeds {
		var row []*plot.Plot
		for _, group := range []string{"merge", "refill"} {
			var series []figure.Series
			for _, c := range cells[i] {
				if (group == "merge" && !c.arm.Merge) || (group == "refill" && !c.arm.Refill) {
					continue
				}
				s, err := cdfSeries(c.arm.Name, c.lat)
				if err != nil {
					return err
				}
				series = append(series, s)
				for k := range s.X {
					rows = append(rows, []string{sc.Name, c.arm.Name, canon.Fixed(1-math.Pow(10, -s.Y[k]), 6), canon.Fixed(s.X[k], 0)})
				}
			}
			p, err := figure.Lines(fmt.Sprintf("%s: %s policies", sc.Name, group), "allocation latency (ns, log scale)", "cumulative fraction of allocations", series)
			if err != nil {
				return err
			}
			p.X.Scale = plot.LogScale{}
			p.X.Tick.Marker = plot.LogTicks{Prec: -1}
			p.Y.Tick.Marker = ninesTicks{}
			p.Legend.Top, p.Legend.Left = false, false
			row = append(row, p)
		}
		grid = append(grid, row)
	}
	// Each arm's curve is drawn only where the seeds pooled leave at
	// least 10 allocations above it; the CSV holds the points.
	out.CSV("merge-refill-latency-cdf", []string{"scenario", "arm", "cdf", "latency_ns"}, rows)
	return out.Figure("merge-refill-latency-cdf", "Allocation latency CDFs, every seed's allocations pooled, on a log latency axis; the vertical axis is stretched towards 1 (0.9, 0.99, 0.999, ...) so the tail shows. Top to bottom: `steady`, `steady + bursts`, `merge-churn`. Left: merge policies; right: refill policies.",
		11*vg.Inch, vg.Length(4*len(grid))*vg.Inch, grid)
}

// ninesTicks labels the nines axis with the CDF values.
type ninesTicks struct{}

func (ninesTicks) Ticks(lo, hi float64) []plot.Tick {
	var t []plot.Tick
	for y := math.Ceil(lo); y <= hi; y++ {
		label := "0"
		if y > 0 {
			label = "0." + strings.Repeat("9", int(y))
		}
		t = append(t, plot.Tick{Value: y, Label: label})
	}
	return t
}

// barsFigure draws, for scenario tb, each arm's p99, p99.9, tier-1
// merges and peak footprint with their intervals.
func barsFigure(out *canon.Out, tb int, cells []*cell, nSeeds int) error {
	labels := make([]string, len(cells))
	for i, c := range cells {
		labels[i] = strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(c.arm.Name, "merge="), "refill_"), "refill=")
		if i == 0 {
			labels[i] = "default"
		}
	}
	var plots []*plot.Plot
	var rows [][]string
	for _, m := range []struct {
		title, unit string
		get         func(*cell) meanCI
	}{
		{"p99 allocation latency", "ns", func(c *cell) meanCI { return c.p99 }},
		{"p99.9 allocation latency", "ns", func(c *cell) meanCI { return c.p999 }},
		{"Tier-1 merges per run", "merges", func(c *cell) meanCI { return c.merge }},
		{"peak footprint", "MiB", func(c *cell) meanCI { return c.fp }},
	} {
		v, lo, hi := make([]float64, len(cells)), make([]float64, len(cells)), make([]float64, len(cells))
		for i, c := range cells {
			ci := m.get(c)
			v[i], lo[i], hi[i] = ci.Mean, ci.Lo, ci.Hi
			if math.IsNaN(ci.Lo) {
				lo[i], hi[i] = ci.Mean, ci.Mean
			}
			rows = append(rows, []string{testbeds[tb].Name, c.arm.Name, m.title, canon.Fixed(ci.Mean, 2), canon.Fixed(ci.Lo, 2), canon.Fixed(ci.Hi, 2)})
		}
		p, err := figure.BarsCI(fmt.Sprintf("%s, mean of %d seeds, 95 %% t", m.title, nSeeds), m.unit, labels, v, lo, hi)
		if err != nil {
			return err
		}
		p.Y.Min, p.Y.Max = 0, 1.1*slices.Max(hi)
		plots = append(plots, p)
	}
	name := "merge-refill-bars"
	if tb != 1 {
		name += "-" + strings.ReplaceAll(testbeds[tb].Name, " ", "")
	}
	out.CSV(name, []string{"scenario", "arm", "metric", "mean", "ci95_lo", "ci95_hi"}, rows)
	return out.Figure(name, "`"+testbeds[tb].Name+"`: each arm's p99 and p99.9 allocation latency, Tier-1 merges and peak footprint, mean over the seeds with 95 % Student-t intervals.",
		11*vg.Inch, 8*vg.Inch, [][]*plot.Plot{plots[:2], plots[2:]})
}

func armTable(out *canon.Out, cells [][]*cell, nSeeds int) {
	var rows [][]string
	for i, s := range testbeds {
		for _, c := range cells[i] {
			refills := canon.MeanOf(c.runs, func(s world.Summary) float64 { return float64(s.SBMP.Refills) })
			returned := canon.MeanOf(c.runs, func(s world.Summary) float64 { return float64(s.SBMP.BlocksToTier2) })
			delay := canon.MeanOf(c.runs, func(s world.Summary) float64 { return float64(s.SBMP.MergeDelayMeanNs) / 1e6 })
			maxNs := slices.Max(mapRuns(c.runs, func(s world.Summary) float64 { return float64(s.AllocLatencyNs.Max) }))
			p50, _ := c.lat.Quantile(0.5)
			rows = append(rows, []string{s.Name, c.arm.Name, strconv.Itoa(int(p50)), c.p99.String(0), c.p999.String(0), canon.Fixed(maxNs, 0),
				canon.Fixed(refills, 0), c.merge.String(0), canon.Fixed(delay, 1), canon.Fixed(returned, 1), c.fp.String(1), fmt.Sprintf("%d / %d", c.same, nSeeds)})
		}
	}
	out.Table("merge-refill-arms", fmt.Sprintf("Each arm over seeds 1-%d: means with 95 %% Student-t intervals where the seeds differ; p50 of all seeds' allocations pooled; max over seeds; \"same run\" counts the seeds whose event trace (trace_hash) equals the default arm's", nSeeds),
		[]string{"scenario", "arm", "p50 (ns)", "p99 (ns)", "p99.9 (ns)", "max (ns)", "refills", "Tier-1 merges", "merge delay (ms)", "blocks returned", "peak footprint (MiB)", "same run"}, rows)
}

func mapRuns(runs []world.Summary, get func(world.Summary) float64) []float64 {
	out := make([]float64, len(runs))
	for i, r := range runs {
		out[i] = get(r)
	}
	return out
}

// story says, from the numbers, what differed on one scenario: which
// arms left the run untouched, and per group (merge policies, refill
// policies, each with the default) the range of every measure.
func story(name string, cells []*cell, nSeeds int) string {
	var same []string
	for _, c := range cells[1:] {
		if c.same == nSeeds {
			same = append(same, "`"+c.arm.Name+"`")
		}
	}
	var b strings.Builder
	// The first sentence names the scenario; the others start with a
	// capital.
	lead := fmt.Sprintf("On `%s`, across", name)
	switch len(same) {
	case 0:
	case 1:
		fmt.Fprintf(&b, "On `%s`, %s gives exactly the default's run on every seed (the same event trace): the policy never comes into play. ", name, same[0])
		lead = "Across"
	default:
		fmt.Fprintf(&b, "On `%s`, %s give exactly the default's run on every seed (the same event trace): the policies never come into play. ", name, strings.Join(same, ", "))
		lead = "Across"
	}
	for _, g := range []struct {
		name string
		in   func(policyArm) bool
	}{{"merge policies", func(a policyArm) bool { return a.Merge }}, {"refill policies", func(a policyArm) bool { return a.Refill }}} {
		var group []*cell
		for _, c := range cells {
			if g.in(c.arm) {
				group = append(group, c)
			}
		}
		var parts []string
		for _, m := range measures {
			parts = append(parts, rangeText(m.what, m.prec, group, m.get))
		}
		fmt.Fprintf(&b, "%s the %s: %s. ", lead, g.name, strings.Join(parts, "; "))
		lead = "Across"
	}
	return b.String()
}

// verdict reads a scenario with merging to do (name): whether merging changed anything
// but the merge count, and the refill batch's trade-off, each sentence
// only when the numbers bear it out.
func verdict(name string, cells []*cell) string {
	var merge []*cell
	byName := map[string]*cell{}
	for _, c := range cells {
		byName[c.arm.Name] = c
		if c.arm.Merge {
			merge = append(merge, c)
		}
	}
	flat := func(get func(*cell) float64, prec int) bool {
		for _, c := range merge {
			if canon.Fixed(get(c), prec) != canon.Fixed(get(merge[0]), prec) {
				return false
			}
		}
		return true
	}
	var b strings.Builder
	returned := measures[4].get
	if flat(measures[0].get, 0) && flat(measures[1].get, 0) && flat(func(c *cell) float64 { return c.fp.Mean }, 1) {
		fmt.Fprintf(&b, "So on `%s` the merge policy decides how many Tier-1 merges happen, and when, but not the allocation latency up to p99.9 nor the peak footprint: a merge is paid on the free path (in the drain that frees the slab), not by an allocation", name)
		if flat(returned, 1) && returned(merge[0]) == 0 {
			b.WriteString(", and no block went back to Tier-2 in any arm (a 2 MiB block returns only once all 32 of its 64 KiB slabs are free and merged back into it)")
		}
		b.WriteString(". ")
	}
	small, def, big := byName["refill_batch=8"], cells[0], byName["refill_batch=128"]
	if small != nil && big != nil && small.p99.Mean > def.p99.Mean && big.p999.Mean > def.p999.Mean && small.p999.Mean < def.p999.Mean {
		fmt.Fprintf(&b, "The refill batch is a trade-off between how often and how long an allocation waits: batches of 8 refill %s times as often as 64, so more than 1 %% of allocations pay a refill (p99 %s ns against %s ns), while batches of 128 make the slowest refills longer (p99.9 %s ns against %s ns for 64 and %s ns for 8).",
			canon.Fixed(measures[2].get(small)/measures[2].get(def), 1), canon.Fixed(small.p99.Mean, 0), canon.Fixed(def.p99.Mean, 0), canon.Fixed(big.p999.Mean, 0), canon.Fixed(def.p999.Mean, 0), canon.Fixed(small.p999.Mean, 0))
	}
	return b.String()
}

// measures are the per-arm means the text compares.
var measures = []struct {
	what string
	prec int
	get  func(*cell) float64
}{
	{"p99 latency", 0, func(c *cell) float64 { return c.p99.Mean }},
	{"p99.9 latency", 0, func(c *cell) float64 { return c.p999.Mean }},
	{"refills", 0, func(c *cell) float64 {
		return canon.MeanOf(c.runs, func(s world.Summary) float64 { return float64(s.SBMP.Refills) })
	}},
	{"Tier-1 merges", 0, func(c *cell) float64 { return c.merge.Mean }},
	{"blocks returned to Tier-2", 1, func(c *cell) float64 {
		return canon.MeanOf(c.runs, func(s world.Summary) float64 { return float64(s.SBMP.BlocksToTier2) })
	}},
	{"peak footprint (MiB)", 1, func(c *cell) float64 { return c.fp.Mean }},
}

// rangeText is "what: v in every arm" or "what from v (arm) to w (arm)",
// with ns units for latencies.
func rangeText(what string, prec int, cells []*cell, get func(*cell) float64) string {
	lo, hi := cells[0], cells[0]
	for _, c := range cells {
		if get(c) < get(lo) {
			lo = c
		}
		if get(c) > get(hi) {
			hi = c
		}
	}
	unit := ""
	if strings.Contains(what, "latency") {
		unit = " ns"
	}
	if canon.Fixed(get(lo), prec) == canon.Fixed(get(hi), prec) {
		return fmt.Sprintf("%s %s%s in every arm", what, canon.Fixed(get(lo), prec), unit)
	}
	return fmt.Sprintf("%s from %s%s (`%s`) to %s%s (`%s`)", what, canon.Fixed(get(lo), prec), unit, lo.arm.Name, canon.Fixed(get(hi), prec), unit, hi.arm.Name)
}
