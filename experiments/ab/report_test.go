package ab

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/stats"
	"github.com/sbmpsim/sbmpsim/experiments/world"
)

const sec = int64(1e9)

// handRuns builds ten hand-made pairs of summaries (seeds 41..50) whose
// report values are worked out by hand in TestAnalyzeArithmetic.
//
// OOM (time of first kill, or censored at sim_time_ns):
//
//	seed index  0     1     2     3     4     5     6     7     8     9
//	arm A       2s*   -     -     -     -     4s    6s    -     -     -     (sim time 10 s)
//	arm B       1s    3s    4s    5s    6s    -     -     -     -     -
//	B sim time  10s   10s   10s   10s   10s   2s    2s    2s    10s   10s
//
// (* two kills, listed late first: at 3 s and 2 s.) Three B runs end at
// 2 s without an OOM: they are censored there, not at 10 s.
func handRuns() *Runs {
	n := 10
	r := &Runs{Seeds: make([]uint64, n), A: make([]world.Summary, n), B: make([]world.Summary, n)}
	oomA := map[int][]int64{0: {3 * sec, 2 * sec}, 5: {4 * sec}, 6: {6 * sec}}
	oomB := map[int][]int64{0: {1 * sec}, 1: {3 * sec}, 2: {4 * sec}, 3: {5 * sec}, 4: {6 * sec}}
	for i := range n {
		seed := uint64(41 + i)
		r.Seeds[i] = seed
		a := world.Summary{Seed: seed, SimTimeNs: 10 * sec, TraceHash: "a", Allocs: 1000, FallbackCount: uint64(10 * (i + 1)),
			AllocStallNs: int64(100 * i), FootprintPeakBytes: 1 << 20}
		a.AllocLatencyNs.P99 = int64(300 + i)
		b := world.Summary{Seed: seed, SimTimeNs: 10 * sec, TraceHash: "b", Allocs: 2000, FallbackCount: uint64(3 * i),
			AllocStallNs: int64(100*i + 7), FootprintPeakBytes: 1<<20 + int64(2*(i%2))}
		b.AllocLatencyNs.P99 = int64(300 - i)
		if i >= 5 && i <= 7 {
			b.SimTimeNs = 2 * sec
		}
		if i == 5 { // one run of B met degrade: 3 of 4 came through
			b.DegradeSLI = &world.DegradeSLI{SLICounts: world.SLICounts{Met: 4, Unharmed: 3, Failed: 1}}
			b.SBMP = &world.SBMPSummary{Tier1Merges: 31, BlocksToTier2: 2}
		}
		for _, t := range oomA[i] {
			a.OOMEvents = append(a.OOMEvents, world.OOMEvent{TimeNs: t})
		}
		for _, t := range oomB[i] {
			b.OOMEvents = append(b.OOMEvents, world.OOMEvent{TimeNs: t})
		}
		a.OOMKills, b.OOMKills = len(a.OOMEvents), len(b.OOMEvents)
		r.A[i], r.B[i] = a, b
	}
	return r
}

func handExperiment() Experiment {
	return Experiment{Scenario: "hand", Source: "test",
		A: Arm{Key: "a", Name: "old", Overrides: []string{"policy.degrade=immediate-tier2"}},
		B: Arm{Key: "b", Name: "new", Overrides: []string{"policy.degrade=wait-refill"}}}
}

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.10g, want %.10g (±%g)", what, got, want, tol)
	}
}

// TestAnalyzeArithmetic checks that the right counts reach the right
// formulas, against values worked out by hand (or, for Clopper–Pearson,
// R's binom.test). Package stats tests the formulas themselves.
func TestAnalyzeArithmetic(t *testing.T) {
	rep, err := Analyze(handExperiment(), handRuns())
	if err != nil {
		t.Fatal(err)
	}
	a, b := &rep.Arms.A, &rep.Arms.B
	if rep.Schema != Schema || rep.SeedFirst != 41 || rep.Seeds != 10 || rep.Level != 0.95 {
		t.Errorf("header = %q %d %d %v", rep.Schema, rep.SeedFirst, rep.Seeds, rep.Level)
	}

	// OOM counts: A 3/10 (4 kills: seed 0 had two), B 5/10.
	if a.Runs != 10 || a.OOMRuns != 3 || a.OOMKillsTotal != 4 || b.Runs != 10 || b.OOMRuns != 5 || b.OOMKillsTotal != 5 {
		t.Errorf("runs/oom_runs/kills: A %d/%d/%d, B %d/%d/%d", a.Runs, a.OOMRuns, a.OOMKillsTotal, b.Runs, b.OOMRuns, b.OOMKillsTotal)
	}
	near(t, "A oom_probability", a.OOMProbability, 0.3, 0)
	near(t, "B oom_probability", b.OOMProbability, 0.5, 0)
	// Wilson, z = 1.959964: centre (k + z²/2)/(n + z²), half-width
	// z/(n + z²)·sqrt(k(n-k)/n + z²/4). 3/10: 0.4555 ∓ 0.2477; 5/10: 0.5 ∓ 0.2634.
	near(t, "A wilson lo", a.OOMCI95Wilson[0], 0.1077912674, 1e-9)
	near(t, "A wilson hi", a.OOMCI95Wilson[1], 0.6032218525, 1e-9)
	near(t, "B wilson lo", b.OOMCI95Wilson[0], 0.2365930905, 1e-9)
	near(t, "B wilson hi", b.OOMCI95Wilson[1], 0.7634069095, 1e-9)
	// Clopper–Pearson: R binom.test(3, 10) and binom.test(5, 10).
	near(t, "A clopper-pearson lo", a.OOMCI95ClopperPearson[0], 0.06673951, 1e-7)
	near(t, "A clopper-pearson hi", a.OOMCI95ClopperPearson[1], 0.65245285, 1e-7)
	near(t, "B clopper-pearson lo", b.OOMCI95ClopperPearson[0], 0.187086, 1e-6)
	near(t, "B clopper-pearson hi", b.OOMCI95ClopperPearson[1], 0.812914, 1e-6)

	// Kaplan–Meier, A: events at 2 s (the earlier of seed 0's two
	// kills), 4 s, 6 s; 7 censored at 10 s. S = 0.9, 0.8, 0.7: the
	// median is not reached, "> 10 s". Lower limit: at 6 s, Greenwood SE
	// = 0.7·sqrt(1/90 + 1/72 + 1/56) = 0.1449 and 0.7 - 1.96·0.1449 =
	// 0.416 <= 0.5 (at 4 s: 0.8 - 1.96·0.1265 = 0.552).
	wantA := TimeToOOM{OOMRuns: 3, CensoredRuns: 7, FollowUpMaxNs: 10 * sec, MedianNs: 10 * sec, MedianReached: false,
		CI95LoNs: 6 * sec, CI95LoReached: true, CI95HiNs: 10 * sec, CI95HiReached: false}
	// B: event at 1 s (10 at risk), 3 censored at 2 s, events at 3, 4,
	// 5, 6 s with 6, 5, 4, 3 at risk: S = 0.9, 0.75, 0.6, 0.45, 0.3, so
	// the median is 5 s. (Censoring those three at 10 s instead would
	// give S = 0.9, 0.8, 0.7, 0.6, 0.5 and a median of 6 s.) Lower
	// limit 3 s: 0.75 - 1.96·0.75·sqrt(1/90 + 1/30) = 0.440 <= 0.5.
	// Upper limit: S + 1.96·SE stays above 0.5 (0.645 at 6 s).
	wantB := TimeToOOM{OOMRuns: 5, CensoredRuns: 5, FollowUpMaxNs: 10 * sec, MedianNs: 5 * sec, MedianReached: true,
		CI95LoNs: 3 * sec, CI95LoReached: true, CI95HiNs: 10 * sec, CI95HiReached: false}
	for _, c := range []struct {
		arm       string
		got, want TimeToOOM
		survival  float64
	}{{"A", a.TimeToFirstOOM, wantA, 0.7}, {"B", b.TimeToFirstOOM, wantB, 0.3}} {
		near(t, c.arm+" survival at follow-up end", c.got.SurvivalAtEnd, c.survival, 1e-12)
		c.got.Method, c.got.SurvivalAtEnd = "", 0
		if c.got != c.want {
			t.Errorf("%s time_to_first_oom = %+v\nwant %+v", c.arm, c.got, c.want)
		}
	}

	// The paired table: both = seed 0, only A = seeds 5, 6, only B =
	// seeds 1-4, neither = 7-9. B - A = 0.5 - 0.3 = +0.2.
	po := rep.Paired.OOM
	if po.Table != (OOMTable{Both: 1, OnlyA: 2, OnlyB: 4, Neither: 3}) {
		t.Errorf("table = %+v", po.Table)
	}
	if rep.Paired.Difference != "b - a" {
		t.Errorf("difference = %q", rep.Paired.Difference)
	}
	near(t, "probability_a", po.ProbabilityA, 0.3, 1e-15)
	near(t, "probability_b", po.ProbabilityB, 0.5, 1e-15)
	near(t, "oom difference (b - a)", po.Difference, 0.2, 1e-15)
	// McNemar: 6 discordant pairs, 2 vs 4: 2·(1 + 6 + 15)/64.
	near(t, "mcnemar p", po.McNemarExactP, 44.0/64, 1e-12)
	// Newcombe method 10 for pB - pA with the Wilson limits above and
	// φ = (1·3 - 4·2)/sqrt(5·5·3·7) = -0.218218: worked in full in the
	// formula of stats.NewcombePairedDiff with B as the first arm.
	near(t, "newcombe lo", po.CI95Newcombe[0], -0.2429279136, 1e-9)
	near(t, "newcombe hi", po.CI95Newcombe[1], 0.5583625974, 1e-9)
	if !strings.HasPrefix(po.Verdict, "no significant difference in OOM probability (b - a = 20.0 points [-24.3, 55.8]") {
		t.Errorf("oom verdict = %q", po.Verdict)
	}

	// Per-arm distribution of A's p99 latency: 300..309. Hyndman–Fan 7:
	// p10 at h = 0.9, p90 at h = 8.1.
	if got := a.Metrics.AllocLatencyP99Ns; got != (Dist{Mean: 304.5, Median: 304.5, P10: 300.9, P90: 308.1, Min: 300, Max: 309}) {
		near(t, "A p99 p10", got.P10, 300.9, 1e-12)
		near(t, "A p99 p90", got.P90, 308.1, 1e-12)
		if got.Mean != 304.5 || got.Median != 304.5 || got.Min != 300 || got.Max != 309 {
			t.Errorf("A alloc_latency_p99_ns = %+v", got)
		}
	}
	// fallback_rate = fallback_count / allocs: A (i+1)/100, mean 0.055;
	// B 3i/2000, mean 0.00675.
	near(t, "A fallback_rate mean", a.Metrics.FallbackRate.Mean, 0.055, 1e-15)
	near(t, "B fallback_rate mean", b.Metrics.FallbackRate.Mean, 0.00675, 1e-15)

	pm := rep.Paired.Metrics
	bootSeed := BootstrapSeed(41)
	if rep.Paired.Bootstrap != (BootstrapInfo{Method: "bca", Resamples: BootstrapResamples, Seed: bootSeed, Level: 0.95}) {
		t.Errorf("bootstrap = %+v", rep.Paired.Bootstrap)
	}
	// alloc_stall_ns: B = A + 7 ns on every seed. All differences equal:
	// the interval is the point +7 (not -7: B - A), every seed has B
	// higher, the sign test p is 2/2^10.
	st := pm.AllocStallNs
	if st.MeanDifference != 7 || st.CI95Bootstrap != [2]float64{7, 7} {
		t.Errorf("alloc_stall_ns difference %v %v, want 7 [7, 7]", st.MeanDifference, st.CI95Bootstrap)
	}
	if st.SignTest != (SignTest{BHigher: 10, BLower: 0, Ties: 0, P: 2.0 / 1024}) {
		t.Errorf("alloc_stall_ns sign test = %+v", st.SignTest)
	}
	if st.Wilcoxon.N != 10 || st.Wilcoxon.WPlus != 55 || st.Wilcoxon.Z <= 0 {
		t.Errorf("alloc_stall_ns wilcoxon = %+v (want N 10, W+ = 1+..+10 midranks = 55, z > 0)", st.Wilcoxon)
	}
	if !strings.HasPrefix(st.Verdict, `B "new" raises alloc_stall_ns vs A "old" by 7 ns`) {
		t.Errorf("alloc_stall_ns verdict = %q", st.Verdict)
	}
	// footprint_peak_bytes: B - A is 0 on even seeds and 2 on odd ones.
	// The bootstrap mean of ten draws is 2·Binomial(10, 1/2)/10, whose
	// 2.5 % and 97.5 % points are 0.4 and 1.6 (P(X <= 1) = 11/1024 <
	// 0.025 < P(X <= 2) = 56/1024). BCa changes nothing here: the
	// differences are symmetric (acceleration 0) and θ̂ = 1 is the
	// median (z0 ≈ 0).
	fp := pm.FootprintPeakBytes
	if fp.MeanDifference != 1 || fp.CI95Bootstrap != [2]float64{0.4, 1.6} {
		t.Errorf("footprint difference %v %v, want 1 [0.4, 1.6]", fp.MeanDifference, fp.CI95Bootstrap)
	}
	if fp.SignTest != (SignTest{BHigher: 5, BLower: 0, Ties: 5, P: 0.0625}) {
		t.Errorf("footprint sign test = %+v", fp.SignTest)
	}
	// p99: B - A = -2i: the sign test sees 9 seeds lower, one tie.
	if s := pm.AllocLatencyP99Ns.SignTest; s.BHigher != 0 || s.BLower != 9 || s.Ties != 1 {
		t.Errorf("p99 sign test = %+v", s)
	}
	near(t, "p99 mean difference", pm.AllocLatencyP99Ns.MeanDifference, -9, 1e-12)
	if !strings.HasPrefix(pm.AllocLatencyP99Ns.Verdict, `B "new" lowers alloc_latency_p99_ns vs A "old" by 9 ns (3.0%)`) {
		t.Errorf("p99 verdict = %q", pm.AllocLatencyP99Ns.Verdict)
	}
	// fallback_rate: the wiring of the bootstrap: B first, the derived
	// seed, BCa, 10 000 resamples.
	var fa, fb []float64
	runs := handRuns()
	for i := range runs.Seeds {
		fa = append(fa, float64(runs.A[i].FallbackCount)/1000)
		fb = append(fb, float64(runs.B[i].FallbackCount)/2000)
	}
	want, err := stats.PairedMeanDiff(fb, fa, stats.BootstrapOptions{Resamples: 10_000, Seed: bootSeed, Level: 0.95, Method: stats.BootstrapBCa})
	if err != nil {
		t.Fatal(err)
	}
	fr := pm.FallbackRate
	if fr.MeanDifference != want.MeanDiff || fr.CI95Bootstrap != [2]float64{want.CI.Lo, want.CI.Hi} || fr.CI95Bootstrap[1] >= 0 {
		t.Errorf("fallback_rate difference %v %v, want %v [%v, %v] below 0", fr.MeanDifference, fr.CI95Bootstrap, want.MeanDiff, want.CI.Lo, want.CI.Hi)
	}
	near(t, "fallback_rate difference", fr.MeanDifference, 0.00675-0.055, 1e-15)
	if fr.RelativeDifference == nil {
		t.Fatal("fallback_rate relative_difference missing")
	}
	near(t, "fallback_rate relative_difference", *fr.RelativeDifference, (0.00675-0.055)/0.055, 1e-12)
}

// TestNewcombeSignConvention: swapping the arms negates the OOM
// difference and mirrors its interval.
func TestNewcombeSignConvention(t *testing.T) {
	runs := handRuns()
	swapped := &Runs{Seeds: runs.Seeds, A: runs.B, B: runs.A}
	r1, err := Analyze(handExperiment(), runs)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := Analyze(handExperiment(), swapped)
	if err != nil {
		t.Fatal(err)
	}
	o1, o2 := r1.Paired.OOM, r2.Paired.OOM
	near(t, "swapped difference", o2.Difference, -o1.Difference, 1e-15)
	near(t, "swapped lo", o2.CI95Newcombe[0], -o1.CI95Newcombe[1], 1e-12)
	near(t, "swapped hi", o2.CI95Newcombe[1], -o1.CI95Newcombe[0], 1e-12)
	if o2.Table.OnlyA != o1.Table.OnlyB || o2.Table.OnlyB != o1.Table.OnlyA {
		t.Errorf("tables %+v and %+v", o1.Table, o2.Table)
	}
}

func TestAnalyzeChecksPairing(t *testing.T) {
	runs := handRuns()
	runs.B[3].Seed = 999
	if _, err := Analyze(handExperiment(), runs); err == nil || !strings.Contains(err.Error(), "arm b run 3 is from seed 999") {
		t.Errorf("err = %v, want a pairing error", err)
	}
	runs = handRuns()
	runs.A = runs.A[:9]
	if _, err := Analyze(handExperiment(), runs); err == nil {
		t.Error("no error for 9 runs of arm a and 10 seeds")
	}
	runs = handRuns()
	runs.A[2].OOMKills = 1 // a kill with no event to time it
	if _, err := Analyze(handExperiment(), runs); err == nil || !strings.Contains(err.Error(), "no oom_events") {
		t.Errorf("err = %v", err)
	}
}

// TestReportJSONLayout checks the field names scripts rely on
// (ARCHITECTURE.md) and that the encoding is stable.
func TestReportJSONLayout(t *testing.T) {
	rep, err := Analyze(handExperiment(), handRuns())
	if err != nil {
		t.Fatal(err)
	}
	b1, err := rep.JSON()
	if err != nil {
		t.Fatal(err)
	}
	rep2, _ := Analyze(handExperiment(), handRuns())
	b2, _ := rep2.JSON()
	if !bytes.Equal(b1, b2) {
		t.Error("two analyses of the same runs encode differently")
	}
	var doc struct {
		Schema string `json:"schema"`
		Arms   map[string]struct {
			Runs           *int                          `json:"runs"`
			OOMRuns        *int                          `json:"oom_runs"`
			OOMProbability *float64                      `json:"oom_probability"`
			OOMCI95Wilson  []float64                     `json:"oom_ci95_wilson"`
			Metrics        map[string]map[string]float64 `json:"metrics"`
		} `json:"arms"`
		Paired map[string]json.RawMessage `json:"paired"`
	}
	if err := json.Unmarshal(b1, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "sbmpsim.ab/v1" {
		t.Errorf("schema %q", doc.Schema)
	}
	for _, k := range []string{"a", "b"} {
		arm, ok := doc.Arms[k]
		if !ok || arm.Runs == nil || arm.OOMRuns == nil || arm.OOMProbability == nil || len(arm.OOMCI95Wilson) != 2 {
			t.Errorf("arms.%s lacks a contract field: %+v", k, arm)
		}
		if len(arm.Metrics) != len(metricDefs) {
			t.Errorf("arms.%s.metrics has %d entries", k, len(arm.Metrics))
		}
	}
	for _, k := range []string{"difference", "bootstrap", "oom", "metrics", "trade_off"} {
		if _, ok := doc.Paired[k]; !ok {
			t.Errorf("paired.%s missing", k)
		}
	}
	if bytes.Contains(b1, []byte("wall")) {
		t.Error("ab.json mentions wall time; it must not depend on the machine")
	}
}

func TestRunsCSV(t *testing.T) {
	csv := string(RunsCSV(handRuns()))
	lines := strings.Split(strings.TrimSuffix(csv, "\n"), "\n")
	if len(lines) != 1+20 {
		t.Fatalf("%d lines", len(lines))
	}
	if lines[0] != strings.TrimSuffix(runsHeader, "\n") {
		t.Errorf("header %q", lines[0])
	}
	// Seed-major, arm a first; the first OOM is the earliest kill.
	if want := "a,41,1,2,2000000000,10000000000,1000,0,10,0.01,0,0,300,0,1048576,0,0,0,0,0,a,0,0"; lines[1] != want {
		t.Errorf("row 1 = %q\nwant    %q", lines[1], want)
	}
	if want := "b,46,0,0,,2000000000,2000,0,15,0.0075,507,0,295,0,1048578,0,4,3,1,0,b,31,2"; lines[12] != want {
		t.Errorf("row 12 = %q\nwant     %q", lines[12], want)
	}
}

// TestTradeOffNamesEveryCost: the hand runs' B has about as many OOM
// kills as A, a higher stall (a cost), a lower p99 and fewer fallbacks
// (gains); the trade-off line names each, with its sign.
func TestTradeOffNamesEveryCost(t *testing.T) {
	rep, err := Analyze(handExperiment(), handRuns())
	if err != nil {
		t.Fatal(err)
	}
	got := rep.Paired.TradeOff
	for _, want := range []string{`B "new" and A "old" do not differ measurably in OOM kills (+20.0 points)`,
		"at a cost of alloc_stall_ns +7 ns", "gaining fallback_rate -", "alloc_latency_p99_ns -9 ns"} {
		if !strings.Contains(got, want) {
			t.Errorf("trade-off %q lacks %q", got, want)
		}
	}
}

func TestTradeOffOfAPolicyThatFails(t *testing.T) {
	exp := handExperiment()
	p := &Paired{}
	p.OOM.Difference, p.OOM.CI95Newcombe = -0.965, [2]float64{-0.981, -0.924}
	p.Metrics.AllocFailures = PairedMetric{MeanDifference: 530239, CI95Bootstrap: [2]float64{493913, 567104}}
	p.Metrics.FootprintPeakBytes = PairedMetric{MeanDifference: -150 << 20, CI95Bootstrap: [2]float64{-165 << 20, -138 << 20}}
	got := tradeOff(exp, p)
	want := `Trade-off: B "new" avoids OOM kills that A "old" has (-96.5 points); at a cost of alloc_failures +530239; gaining footprint_peak_bytes -150 MiB (means per run, B - A, where the 95% interval excludes 0).`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	p.Metrics = Metrics[PairedMetric]{}
	if got := tradeOff(exp, p); !strings.HasSuffix(got, "no other outcome differs measurably.") {
		t.Errorf("no metric differs: %s", got)
	}
}

func TestPooledDegradeSLI(t *testing.T) {
	rep, err := Analyze(handExperiment(), handRuns())
	if err != nil {
		t.Fatal(err)
	}
	a, b := rep.Arms.A.DegradeSLI, rep.Arms.B.DegradeSLI
	if a.Met != 0 || a.Rate != nil || b.Met != 4 || b.Unharmed != 3 || b.Rate == nil || *b.Rate != 0.75 {
		t.Errorf("pooled SLI a %+v b %+v", a, b)
	}
	if m := rep.Arms.B.Metrics.DegradeHarmed; m.Max != 1 || m.Mean != 0.1 {
		t.Errorf("degrade_harmed per run: %+v", m)
	}
	var sb strings.Builder
	if err := rep.WriteTable(&sb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sb.String(), "none met degrade") || !strings.Contains(sb.String(), "3/4 = 75.0%") {
		t.Errorf("table:\n%s", sb.String())
	}
}
