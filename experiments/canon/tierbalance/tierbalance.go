// Package tierbalance is the tier-balance canonical experiment: which
// tier serves the allocations over time in oom-crisis and steady, when the
// Tier-0 hit rate collapses, and which CPUs' caches run dry.
package tierbalance

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/canon"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/internal/figure"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Experiment returns the tier-balance experiment, for the catalog.
func Experiment() canon.Experiment {
	return canon.Experiment{
		Name:  "tier-balance",
		Title: "2. Tier balance: which tier serves, and which CPU caches run dry",
		Spec:  "SPEC 1.2, 1.3, 1.4, 1.5",
		Run:   run,
		Plan:  plan,
	}
}

// Thresholds the text reads the runs with. hitDropBelow is where the
// Tier-0 hit rate counts as collapsed; dryBelowSlots is SPEC 1.5's danger
// level of tier0_free; a CPU counts as run dry when its cache sat below
// it in at least dryShare of the samples between the collapse and the end
// of the process.
const (
	hitDropBelow  = 0.9
	dryBelowSlots = 8
	dryShare      = 0.5
)

// timeline is one run's time series read for this experiment: the
// allocation rate each tier served per sample interval, Tier-0's share
// (the hit rate), Tier-1's blocks, and each CPU's free 64 B slots.
type timeline struct {
	t      []float64    // sample times, s
	rate   [3][]float64 // allocations/s over (t[i-1], t[i]]; 0 at i = 0
	hit    []float64    // Tier-0 share of the interval, NaN without allocations
	blocks []float64    // Tier-1 blocks at t[i]
	free   [][]float64  // free[cpu][i]: cpuN_tier0_free
	// endS is when SBMP's process died (an OOM kill), or the run's end.
	endS float64
}

func newTimeline(res *world.Result) (*timeline, error) {
	ts := &res.Timeseries
	var tiers [3]int
	for k := range tiers {
		i, err := canon.Column(ts, fmt.Sprintf("tier%d_allocs", k))
		if err != nil {
			return nil, err
		}
		tiers[k] = i
	}
	bi, err := canon.Column(ts, "tier1_blocks")
	if err != nil {
		return nil, err
	}
	// The per-CPU columns follow the summary's own cpu0_tier0_free, so
	// cpu0 appears twice: take each CPU's last column of its name.
	var cpuCols []int
	for c := 0; ; c++ {
		i := slices.Index(ts.Columns, fmt.Sprintf("cpu%d_tier0_free", c))
		if i < 0 {
			break
		}
		cpuCols = append(cpuCols, lastColumn(ts.Columns, fmt.Sprintf("cpu%d_tier0_free", c)))
	}
	if len(cpuCols) < 2 {
		return nil, fmt.Errorf("the time series has no per-CPU columns; run with output.per_cpu=true")
	}
	tl := &timeline{free: make([][]float64, len(cpuCols)), endS: float64(res.Summary.SimTimeNs) / 1e9}
	for _, p := range res.Summary.Processes {
		if p.DiedNs >= 0 {
			tl.endS = min(tl.endS, float64(p.DiedNs)/1e9)
		}
	}
	for i, r := range ts.Rows {
		tl.t = append(tl.t, r[0]/1e9)
		tl.blocks = append(tl.blocks, r[bi])
		var d [3]float64
		if i > 0 {
			dt := tl.t[i] - tl.t[i-1]
			for k, c := range tiers {
				d[k] = (r[c] - ts.Rows[i-1][c]) / dt
			}
		}
		for k := range d {
			tl.rate[k] = append(tl.rate[k], d[k])
		}
		hit := math.NaN()
		if sum := d[0] + d[1] + d[2]; sum > 0 {
			hit = d[0] / sum
		}
		tl.hit = append(tl.hit, hit)
		for c, col := range cpuCols {
			tl.free[c] = append(tl.free[c], r[col])
		}
	}
	return tl, nil
}

// lastColumn is the index of the last column called name, or -1.
func lastColumn(cols []string, name string) int {
	for i := len(cols) - 1; i >= 0; i-- {
		if cols[i] == name {
			return i
		}
	}
	return -1
}

// moments are the moments the text reports, in seconds (NaN: never).
type moments struct {
	lastGrowS  float64 // the last sample at which Tier-1 gained a block
	maxBlocks  float64
	hitBefore  float64 // Tier-0 share of all allocations before dropS (or the whole run)
	dropS      float64 // first interval with a hit rate below hitDropBelow
	hitAfter   float64 // Tier-0 share from dropS to endS
	takeoverS  float64 // first interval in which Tier-2 served the majority
	tier2After float64 // Tier-2 share from dropS to endS
	active     []int   // CPUs whose 64 B cache ever held a slot
	dry        []int   // active CPUs run dry after dropS
	dryFrac    []float64
	firstDry   []float64 // per active CPU: first sample after dropS below dryBelowSlots
}

func (tl *timeline) events() moments {
	e := moments{lastGrowS: math.NaN(), dropS: math.NaN(), takeoverS: math.NaN(), hitAfter: math.NaN(), tier2After: math.NaN()}
	for i := range tl.t {
		if tl.blocks[i] > e.maxBlocks {
			e.maxBlocks, e.lastGrowS = tl.blocks[i], tl.t[i]
		}
		if tl.t[i] > tl.endS+1e-9 {
			continue
		}
		if math.IsNaN(e.dropS) && tl.hit[i] < hitDropBelow {
			e.dropS = tl.t[i]
		}
		if math.IsNaN(e.takeoverS) && tl.rate[2][i] > tl.rate[0][i]+tl.rate[1][i] {
			e.takeoverS = tl.t[i]
		}
	}
	from := tl.endS
	if !math.IsNaN(e.dropS) {
		from = e.dropS - (tl.t[1] - tl.t[0]) // the collapsed interval's start
	}
	before, after := tl.shares(0, from), tl.shares(from, tl.endS)
	e.hitBefore = before[0]
	if !math.IsNaN(e.dropS) {
		e.hitAfter, e.tier2After = after[0], after[2]
	}
	for c, fr := range tl.free {
		if slices.Max(fr) == 0 {
			continue
		}
		e.active = append(e.active, c)
		n, low, first := 0, 0, math.NaN()
		for i, v := range fr {
			if math.IsNaN(e.dropS) || tl.t[i] < e.dropS || tl.t[i] > tl.endS+1e-9 {
				continue
			}
			n++
			if v < dryBelowSlots {
				low++
				if math.IsNaN(first) {
					first = tl.t[i]
				}
			}
		}
		frac := 0.0
		if n > 0 {
			frac = float64(low) / float64(n)
		}
		e.dryFrac = append(e.dryFrac, frac)
		e.firstDry = append(e.firstDry, first)
		if frac >= dryShare {
			e.dry = append(e.dry, c)
		}
	}
	return e
}

// shares are the fractions of allocations each tier served in (from, to].
func (tl *timeline) shares(from, to float64) [3]float64 {
	var n [3]float64
	for i := 1; i < len(tl.t); i++ {
		if tl.t[i] <= from+1e-9 || tl.t[i] > to+1e-9 {
			continue
		}
		dt := tl.t[i] - tl.t[i-1]
		for k := range n {
			n[k] += tl.rate[k][i] * dt
		}
	}
	sum := n[0] + n[1] + n[2]
	for k := range n {
		n[k] /= sum // NaN for an empty range
	}
	return n
}

// seedsOf are the seeds of oom-crisis.
func seedsOf(env *canon.Env) []uint64 { return env.Seeds(4, 20) }

// batch is run's one batch: oom-crisis on the seeds, then steady on
// seed 1, all with per-CPU columns.
func batch(env *canon.Env) ([]*scenario.Scenario, error) {
	var runs []seededScenario
	for _, s := range seedsOf(env) {
		runs = append(runs, seededScenario{"oom-crisis", s})
	}
	runs = append(runs, seededScenario{"steady", 1})
	return loadSeeded(runs, "output.per_cpu=true")
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
	oom, steady := results[0], results[len(results)-1]
	tlOOM, err := newTimeline(oom)
	if err != nil {
		return err
	}
	tlSteady, err := newTimeline(steady)
	if err != nil {
		return err
	}
	out.P("SBMP serves an allocation from the CPU's own Tier-0 cache when it can (a hit), refills the cache from Tier-1 when it is empty (counted as a Tier-1 allocation), and goes to Tier-2, the kernel's page allocator, for large requests and when Tier-0 and Tier-1 cannot serve (SPEC 1.2). Both runs below are seed 1 with `output.per_cpu=true`; the hit rate is Tier-0's share of the allocations in each %d ms sample. Requests above the largest slot (1 KiB) always go to Tier-2, so the hit rate is below 1 even in a healthy run that has them.", oom.Summary.SimTimeNs/int64(len(oom.Timeseries.Rows)-1)/1e6)
	if err := ratesFigure(out, tlOOM, tlSteady, oom.Summary); err != nil {
		return err
	}
	eo, es := tlOOM.events(), tlSteady.events()
	out.P("%s", collapseStory(eo, tlOOM, oom.Summary))
	out.P("`steady`, for contrast: Tier-0 serves %s of all allocations (%d refills from Tier-1 in %d allocations, %d from Tier-2); Tier-1 holds %.0f block(s) from %.1f s on; the hit rate never falls below %s in any sample (lowest %s).",
		pctFine(es.hitBefore), steady.Summary.TierAllocs.Tier1, steady.Summary.Allocs, steady.Summary.TierAllocs.Tier2, es.maxBlocks, es.lastGrowS, canon.Percent(hitDropBelow), pctFine(minFinite(tlSteady.hit[1:])))
	if err := heatmapFigure(out, tlOOM, tlSteady, eo, es); err != nil {
		return err
	}
	out.P("%s", dryStory(eo, es, tlSteady))
	if err := seedTable(out, results[:len(seeds)], seeds); err != nil {
		return err
	}
	out.Cmd(fmt.Sprintf("sbmpsim experiment run tier-balance%s   # one run: sbmpsim run oom-crisis --seed 1 --set output.per_cpu=true --out out/", env.QuickFlag()))
	return nil
}

// seededScenario names an embedded scenario run on one seed.
type seededScenario struct {
	name string
	seed uint64
}

// loadSeeded loads each scenario on its seed with the common overrides,
// in order.
func loadSeeded(runs []seededScenario, sets ...string) ([]*scenario.Scenario, error) {
	var scs []*scenario.Scenario
	for _, r := range runs {
		sc, err := canon.Load(r.name, append([]string{fmt.Sprintf("run.seed=%d", r.seed)}, sets...)...)
		if err != nil {
			return nil, fmt.Errorf("%s seed %d: %w", r.name, r.seed, err)
		}
		scs = append(scs, sc)
	}
	return scs, nil
}

// collapseStory reads the collapse off seed 1 of oom-crisis.
func collapseStory(e moments, tl *timeline, s world.Summary) string {
	var b strings.Builder
	until := tl.endS
	if !math.IsNaN(e.dropS) {
		until = e.dropS - (tl.t[1] - tl.t[0])
	}
	fmt.Fprintf(&b, "`oom-crisis`, seed 1: until %.1f s Tier-0 serves %s of allocations. Tier-1 gains its last 2 MiB block (%.0f in all) at %.1f s",
		until, pctFine(e.hitBefore), e.maxBlocks, e.lastGrowS)
	if math.IsNaN(e.dropS) || e.lastGrowS <= e.dropS {
		b.WriteString(" and never grows again; Tier-0 keeps its hit rate while the slabs Tier-1 already holds last. ")
	} else {
		b.WriteString(", after the collapse, from memory the OOM kill freed. ")
	}
	if math.IsNaN(e.dropS) {
		b.WriteString("The hit rate never collapses in this run. ")
	} else {
		fmt.Fprintf(&b, "The hit rate first falls below %s in the sample ending at %.1f s; from then to the end of the process Tier-0 serves %s and Tier-2 %s of allocations. ", canon.Percent(hitDropBelow), e.dropS, pctFine(e.hitAfter), pctFine(e.tier2After))
	}
	if !math.IsNaN(e.takeoverS) {
		fmt.Fprintf(&b, "Tier-2 takes over, serving more than Tier-0 and Tier-1 together, from the sample ending at %.1f s. ", e.takeoverS)
	}
	var alerts []string
	for _, a := range s.SBMP.Alerts {
		if a.FirstDangerNs >= 0 {
			alerts = append(alerts, fmt.Sprintf("`%s` at %.1f s", a.Metric, float64(a.FirstDangerNs)/1e9))
		}
	}
	if len(alerts) > 0 {
		fmt.Fprintf(&b, "SPEC 1.5's alerts go to danger: %s. ", strings.Join(alerts, ", "))
	}
	if len(s.OOMEvents) > 0 {
		fmt.Fprintf(&b, "The OOM killer kills `%s` at %.2f s (dashed line)", s.OOMEvents[0].VictimComm, float64(s.OOMEvents[0].TimeNs)/1e9)
		if tl.endS < float64(s.SimTimeNs)/1e9 {
			b.WriteString("; SBMP's process allocates nothing after its death.")
		} else {
			b.WriteString("; SBMP's process is not the victim and goes on allocating from the memory the kill freed.")
		}
	}
	return b.String()
}

func dryStory(eo, es moments, steady *timeline) string {
	steadyLow, steadyMeanLo, steadyMeanHi := steady.cacheRange(es.active)
	var b strings.Builder
	fmt.Fprintf(&b, "The heatmap shows `cpuN_tier0_free` (SPEC 1.4), which counts the free slots of the smallest class, 64 B, in each CPU's cache; rows are the CPUs whose 64 B cache ever held a slot (%s in `oom-crisis`, %s in `steady`). ", cpuList(eo.active), cpuList(es.active))
	if !math.IsNaN(eo.dropS) {
		fmt.Fprintf(&b, "In `oom-crisis` %d of these %d CPUs run dry (below %d slots, SPEC 1.5's danger level, in at least %s of the samples from the collapse at %.1f s to the end of the process)",
			len(eo.dry), len(eo.active), dryBelowSlots, canon.Percent(dryShare), eo.dropS)
		if first := minFinite(eo.firstDry); len(eo.dry) > 0 && !math.IsNaN(first) {
			fmt.Fprintf(&b, ": %s; the first dips below %d at %.1f s. A CPU's cache is empty whenever its refill from Tier-1 fails; a refill that succeeds still moves a batch of slots (the bright cells that flicker in the red). ", cpuList(eo.dry), dryBelowSlots, first)
		} else {
			b.WriteString(": none. ")
		}
		var lo, hi float64 = 1, 0
		for _, v := range eo.dryFrac {
			lo, hi = min(lo, v), max(hi, v)
		}
		fmt.Fprintf(&b, "Per CPU, the share of those samples below %d slots ranges from %s to %s. ", dryBelowSlots, canon.Percent(lo), canon.Percent(hi))
	}
	b.WriteString("CPUs 16-31 of `oom-crisis` allocate 256 B sessions and 64 KiB buffers only, so this per-CPU column (64 B) says nothing about them; their collapse shows in the Tier-1 and Tier-2 rates above. ")
	fmt.Fprintf(&b, "In `steady` no CPU runs dry: after its first refill, the emptiest of its %d CPUs' caches holds %.0f free slots in the lowest sample, and the CPUs' mean stays between %.0f and %.0f.", len(es.active), steadyLow, steadyMeanLo, steadyMeanHi)
	return b.String()
}

// cacheRange returns, over the samples after each active CPU's first
// refill, the fewest free slots any CPU's cache held and the range of the
// mean over CPUs.
func (tl *timeline) cacheRange(active []int) (low, meanLo, meanHi float64) {
	low, meanLo, meanHi = math.Inf(1), math.Inf(1), math.Inf(-1)
	started := make([]bool, len(tl.free))
	for i := range tl.t {
		if tl.t[i] > tl.endS+1e-9 {
			break
		}
		sum, n := 0.0, 0
		for _, c := range active {
			v := tl.free[c][i]
			started[c] = started[c] || v > 0
			if !started[c] {
				continue
			}
			low = min(low, v)
			sum += v
			n++
		}
		if n == len(active) {
			meanLo, meanHi = min(meanLo, sum/float64(n)), max(meanHi, sum/float64(n))
		}
	}
	return low, meanLo, meanHi
}

// ratesFigure draws, for both scenarios, the allocations per second
// each tier served as stacked areas, and the hit rate below them.
func ratesFigure(out *canon.Out, oom, steady *timeline, s world.Summary) error {
	var grid [2][]*plot.Plot
	var rows [][]string
	for _, c := range []struct {
		name string
		tl   *timeline
	}{{"oom-crisis", oom}, {"steady", steady}} {
		tl := c.tl
		x := tl.t[1:]
		stack, err := stackedAreas(c.name+", seed 1: allocations served per second", "simulated time (s)", "allocations/s", x,
			[]string{"tier 0 (hit)", "tier 1 (refill)", "tier 2 (page allocator)"}, [][]float64{tl.rate[0][1:], tl.rate[1][1:], tl.rate[2][1:]})
		if err != nil {
			return err
		}
		var hx, hy []float64
		for i := 1; i < len(tl.t); i++ {
			if !math.IsNaN(tl.hit[i]) {
				hx, hy = append(hx, tl.t[i]), append(hy, 100*tl.hit[i])
			}
		}
		hit, err := figure.Lines(c.name+": Tier-0 hit rate", "simulated time (s)", "% of allocations from Tier-0", []figure.Series{
			{Name: "hit rate", X: hx, Y: hy},
			{Name: canon.Percent(hitDropBelow) + " (collapse threshold)", X: []float64{x[0], x[len(x)-1]}, Y: []float64{100 * hitDropBelow, 100 * hitDropBelow}, Dashed: true},
		})
		if err != nil {
			return err
		}
		hit.Y.Min, hit.Y.Max = 0, 105
		hit.Legend.Top, hit.Legend.Left = false, true
		if c.tl == oom && len(s.OOMEvents) > 0 {
			kill := float64(s.OOMEvents[0].TimeNs) / 1e9
			stack.Add(figure.VLine(kill))
			hit.Add(figure.VLine(kill))
		}
		grid[0], grid[1] = append(grid[0], stack), append(grid[1], hit)
		for i := 1; i < len(tl.t); i++ {
			rows = append(rows, []string{c.name, canon.Fixed(tl.t[i], 3), canon.Fixed(tl.rate[0][i], 0), canon.Fixed(tl.rate[1][i], 0), canon.Fixed(tl.rate[2][i], 0), canon.Fixed(tl.hit[i], 5), canon.Fixed(tl.blocks[i], 0)})
		}
	}
	out.CSV("tier-balance-rates", []string{"scenario", "time_s", "tier0_per_s", "tier1_per_s", "tier2_per_s", "hit_rate", "tier1_blocks"}, rows)
	return out.Figure("tier-balance-rates", "Seed 1 of `oom-crisis` (left) and `steady` (right): allocations per second by the tier that served them, stacked, and Tier-0's share (the hit rate). The dashed vertical line is the OOM kill.",
		11*vg.Inch, 7*vg.Inch, [][]*plot.Plot{grid[0], grid[1]})
}

// stackedAreas draws layers on top of each other as filled areas, the
// first at the bottom.
func stackedAreas(title, xlabel, ylabel string, x []float64, names []string, layers [][]float64) (*plot.Plot, error) {
	p := figure.New(title, xlabel, ylabel)
	base := make([]float64, len(x))
	for k, layer := range layers {
		top := make([]float64, len(x))
		pts := make(plotter.XYs, 0, 2*len(x))
		for i := range x {
			top[i] = base[i] + layer[i]
			pts = append(pts, plotter.XY{X: x[i], Y: top[i]})
		}
		for i := len(x) - 1; i >= 0; i-- {
			pts = append(pts, plotter.XY{X: x[i], Y: base[i]})
		}
		poly, err := plotter.NewPolygon(pts)
		if err != nil {
			return nil, err
		}
		c := figure.Color(k)
		// Not color.RGBA: that is alpha-premultiplied, and a translucent
		// tab10 colour in it is no longer that colour.
		poly.Color = color.NRGBA{c.R, c.G, c.B, 190}
		poly.LineStyle.Width = 0
		p.Add(poly)
		p.Legend.Add(names[k], poly)
		base = top
	}
	// Headroom above the highest stack for the legend.
	p.Y.Min, p.Y.Max = 0, 1.4*slices.Max(base)
	p.Legend.Top, p.Legend.Left = true, true
	return p, nil
}

// freeLevels are the heatmap's colour classes of free 64 B slots: upper
// bounds (exclusive) and labels. 8 is SPEC 1.5's danger level, 32 its
// safe level.
var freeLevels = []struct {
	below float64
	label string
}{{1, "0 (dry)"}, {8, "1-7 (danger)"}, {32, "8-31"}, {64, "32-63"}, {128, "64-127"}, {math.Inf(1), ">= 128"}}

func freeLevel(v float64) float64 {
	for i, l := range freeLevels {
		if v < l.below {
			return float64(i)
		}
	}
	return float64(len(freeLevels) - 1)
}

// heatmapFigure draws each CPU's free 64 B slots over time.
func heatmapFigure(out *canon.Out, oom, steady *timeline, eo, es moments) error {
	pal := levelPalette{}
	var grid [][]*plot.Plot
	var rows [][]string
	for _, c := range []struct {
		name   string
		tl     *timeline
		active []int
	}{{"oom-crisis", oom, eo.active}, {"steady", steady, es.active}} {
		g := figure.Grid{Xs: c.tl.t}
		for _, cpu := range c.active {
			g.Ys = append(g.Ys, float64(cpu))
		}
		// A cell is blank (NaN) before the CPU's first refill and after
		// the process died: there is no cache to speak of then.
		started := make([]bool, len(c.active))
		for i, t := range c.tl.t {
			col := make([]float64, len(c.active))
			for j, cpu := range c.active {
				v := c.tl.free[cpu][i]
				started[j] = started[j] || v > 0
				col[j] = math.NaN()
				if started[j] && t <= c.tl.endS+1e-9 {
					col[j] = freeLevel(v)
				}
			}
			g.Cells = append(g.Cells, col)
		}
		hm := plotter.NewHeatMap(g, pal)
		hm.Min, hm.Max = 0, float64(len(freeLevels)-1)
		p := figure.New(c.name+", seed 1: free 64 B slots in each CPU's Tier-0 cache (cpuN_tier0_free)", "simulated time (s)", "CPU")
		p.Add(hm)
		// Room on the right for the colour key, past the last sample.
		span := c.tl.t[len(c.tl.t)-1] - c.tl.t[0]
		p.X.Min, p.X.Max = c.tl.t[0]-span/200, c.tl.t[len(c.tl.t)-1]+0.2*span
		p.Y.Min, p.Y.Max = g.Ys[0]-0.5, g.Ys[len(g.Ys)-1]+0.5
		p.Y.Tick.Marker = cpuTicks(c.active)
		cols := pal.Colors()
		for k, l := range freeLevels {
			p.Legend.Add(l.label, swatch{cols[k]})
		}
		p.Legend.Top, p.Legend.Left = true, false
		if c.tl.endS < c.tl.t[len(c.tl.t)-1] {
			p.Add(figure.VLine(c.tl.endS))
		}
		grid = append(grid, []*plot.Plot{p})
		for cpu, fr := range c.tl.free {
			for i, v := range fr {
				rows = append(rows, []string{c.name, strconv.Itoa(cpu), canon.Fixed(c.tl.t[i], 3), canon.Fixed(v, 0)})
			}
		}
	}
	out.CSV("tier0-free-heatmap", []string{"scenario", "cpu", "time_s", "tier0_free_64B_slots"}, rows)
	return out.Figure("tier0-free-heatmap", "Free 64 B slots in each CPU's Tier-0 cache over time, seed 1 (rows: CPUs whose 64 B cache ever held a slot). Red and orange are a cache empty or below SPEC 1.5's danger level of 8, green one with 32 or more free slots; blank cells are before the CPU's first refill and, when SBMP's own process is the OOM victim, after its death; the dashed line is the first OOM kill.",
		11*vg.Inch, 8*vg.Inch, grid)
}

// cpuTicks labels every CPU row (every other one past 16 rows).
func cpuTicks(cpus []int) plot.ConstantTicks {
	step := 1
	if len(cpus) > 16 {
		step = 2
	}
	var t plot.ConstantTicks
	for i, c := range cpus {
		label := ""
		if i%step == 0 {
			label = strconv.Itoa(c)
		}
		t = append(t, plot.Tick{Value: float64(c), Label: label})
	}
	return t
}

// levelPalette colours freeLevels from dry (dark red) to full (dark
// blue), every class distinct from a blank cell.
type levelPalette struct{}

func (levelPalette) Colors() []color.Color {
	return []color.Color{
		color.NRGBA{165, 0, 38, 255}, color.NRGBA{244, 109, 67, 255}, color.NRGBA{254, 224, 139, 255},
		color.NRGBA{145, 207, 96, 255}, color.NRGBA{26, 152, 80, 255}, color.NRGBA{49, 54, 149, 255},
	}
}

// swatch is a legend entry: a filled square of one colour.
type swatch struct{ c color.Color }

func (s swatch) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(s.c, []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}})
}

// seedTable reports the moments of the collapse on every seed.
func seedTable(out *canon.Out, results []*world.Result, seeds []uint64) error {
	var rows [][]string
	var lag, lead []float64
	collapsed := 0
	for i, res := range results {
		tl, err := newTimeline(res)
		if err != nil {
			return err
		}
		e := tl.events()
		alert := math.NaN()
		for _, a := range res.Summary.SBMP.Alerts {
			if a.Metric == "tier0_free_avg" && a.FirstDangerNs >= 0 {
				alert = float64(a.FirstDangerNs) / 1e9
			}
		}
		kill := canon.FirstOOMSeconds(res.Summary)
		if !math.IsNaN(e.dropS) {
			collapsed++
			lag = append(lag, e.dropS-e.lastGrowS)
			if !math.IsNaN(kill) {
				lead = append(lead, kill-e.dropS)
			}
		}
		rows = append(rows, []string{fmt.Sprint(seeds[i]), canon.Fixed(e.lastGrowS, 1), canon.Fixed(e.dropS, 1), canon.Fixed(e.takeoverS, 1), canon.Fixed(alert, 1), canon.Fixed(kill, 2),
			fmt.Sprintf("%d / %d", len(e.dry), len(e.active)), pctFine(e.hitBefore), pctFine(e.hitAfter)})
	}
	out.Table("tier-balance-seeds", fmt.Sprintf("`oom-crisis`, seeds 1-%d: when Tier-1 last grew, when the hit rate fell below %s, when Tier-2 served the majority, when `tier0_free_avg` went to danger, the OOM kill, the 64 B caches run dry, and the hit rate before and after the collapse (empty: never)", len(seeds), canon.Percent(hitDropBelow)),
		[]string{"seed", "Tier-1 last grew (s)", "hit rate < 90 % (s)", "Tier-2 majority (s)", "tier0_free_avg danger (s)", "OOM kill (s)", "CPUs dry", "hit rate before", "hit rate after"}, rows)
	if len(lag) > 0 {
		s := fmt.Sprintf("Over seeds 1-%d the hit rate collapses in %d runs, %s to %s after Tier-1 last grew (negative: before it)", len(seeds), collapsed, signedS(slices.Min(lag)), signedS(slices.Max(lag)))
		if len(lead) > 0 {
			s += fmt.Sprintf("; the OOM kill comes %s to %s after the collapse (negative: before it)", signedS(slices.Min(lead)), signedS(slices.Max(lead)))
		}
		if slices.Min(lag) > 0 {
			s += ". In every run that collapses, Tier-1 had stopped growing first: the hit rate holds while refills succeed, and falls when the slabs Tier-1 already holds are used up"
		}
		out.P("%s.", s)
	}
	return nil
}

// pctFine formats a share as a percentage with enough digits to tell
// 99.995 % from 100 %.
func pctFine(x float64) string {
	if math.IsNaN(x) {
		return ""
	}
	return canon.Fixed(100*x, 3) + " %"
}

// minFinite is the smallest non-NaN value, or NaN.
func minFinite(xs []float64) float64 {
	m := math.NaN()
	for _, x := range xs {
		if !math.IsNaN(x) && (math.IsNaN(m) || x < m) {
			m = x
		}
	}
	return m
}

// cpuList formats CPU numbers as a Linux cpulist ("0-7,9").
func cpuList(cpus []int) string {
	if len(cpus) == 0 {
		return "none"
	}
	var parts []string
	for i := 0; i < len(cpus); {
		j := i
		for j+1 < len(cpus) && cpus[j+1] == cpus[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", cpus[i], cpus[j]))
		} else {
			parts = append(parts, strconv.Itoa(cpus[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// signedS writes a time difference in seconds with its sign.
func signedS(v float64) string {
	return fmt.Sprintf("%+.1f s", v)
}
