package ab

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/sbmpsim/sbmpsim/experiments/stats"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/internal/buildinfo"
)

// Schema names the version of ab.json's layout.
const Schema = "sbmpsim.ab/v1"

// Fixed statistical settings. They are constants, not options, so that
// two ab.json files are always comparable; they are written into the file.
const (
	// Level is the confidence level of every interval (the "ci95" fields).
	Level = 0.95
	// BootstrapResamples is the number of bootstrap replicates of each
	// paired difference.
	BootstrapResamples = 10_000
	// Difference says which way every paired difference is taken: arm B
	// minus arm A, so a negative value means B lowered the metric.
	Difference = "b - a"
)

// Experiment describes what was compared, for the report's header.
type Experiment struct {
	Scenario string   // run.name of the base scenario
	Source   string   // where the base scenario came from
	Common   []string // overrides applied to both arms (--set)
	A, B     Arm      // the arms; Analyze reads Key, Name and Overrides only
}

// Report is ab.json. Field names are a contract that scripts rely on:
// arms.a and arms.b carry runs, oom_runs, oom_probability and
// oom_ci95_wilson; paired differences sit under paired. Every value is a
// function of the runs, so the file does not depend on --workers.
type Report struct {
	// Schema names the layout of this file: "sbmpsim.ab/v1".
	Schema string `json:"schema"`
	// Version is the build that made the runs and the report (added in
	// v1 without a bump: readers of v1 ignore it).
	Version buildinfo.Version `json:"version"`
	// Scenario is the base scenario's run.name.
	Scenario string `json:"scenario"`
	// Source is where the base scenario came from: a path, or
	// "embedded:NAME".
	Source string `json:"source"`
	// Common are the overrides applied to both arms (--set KEY=VALUE),
	// in the order given, before each arm's own.
	Common []string `json:"overrides_both"`
	// SeedFirst is the first of the consecutive seeds both arms ran on.
	SeedFirst uint64 `json:"seed_first"`
	// Seeds is the number of seeds, hence of runs per arm (at least 2).
	Seeds int `json:"seeds"`
	// Level is the confidence level of every interval in the file (the
	// "ci95" fields): 0.95.
	Level float64 `json:"level"`
	// Arms holds each arm's outcome over the seeds.
	Arms struct {
		// A is arm a, the baseline of every difference.
		A ArmReport `json:"a"`
		// B is arm b, the arm every difference measures (B - A).
		B ArmReport `json:"b"`
	} `json:"arms"`
	// Paired compares the arms seed by seed.
	Paired Paired `json:"paired"`
}

// ArmReport is one arm's outcome over all seeds.
type ArmReport struct {
	// Name labels the arm in reports and verdicts (--a-name, --b-name;
	// default "a" or "b").
	Name string `json:"name"`
	// Overrides are the arm's own KEY=VALUE assignments (--a, --b), in
	// the order given, applied after overrides_both.
	Overrides []string `json:"overrides"`
	// ScenarioFile is the resolved scenario written next to ab.json;
	// `sbmpsim run a.toml --seed S` replays seed S of the arm.
	ScenarioFile string `json:"scenario_file"`
	// Runs counts the arm's runs, one per seed.
	Runs int `json:"runs"`
	// OOMRuns counts runs with at least one OOM kill (global or memcg).
	OOMRuns int `json:"oom_runs"`
	// OOMProbability is oom_runs / runs: the estimated probability that a
	// run of the arm sees an OOM kill.
	OOMProbability float64 `json:"oom_probability"`
	// OOMCI95Wilson is Wilson's score interval for that probability, [lo,
	// hi], at level.
	OOMCI95Wilson [2]float64 `json:"oom_ci95_wilson"`
	// OOMCI95ClopperPearson is the exact Clopper-Pearson interval, [lo,
	// hi], at level: wider, never below its nominal coverage.
	OOMCI95ClopperPearson [2]float64 `json:"oom_ci95_clopper_pearson"`
	// OOMKillsTotal counts the OOM kills of all the arm's runs.
	OOMKillsTotal int `json:"oom_kills_total"`
	// TimeToFirstOOM estimates the time from a run's start to its first
	// OOM kill.
	TimeToFirstOOM TimeToOOM `json:"time_to_first_oom"`
	// Metrics summarise the per-run values across seeds.
	Metrics Metrics[Dist] `json:"metrics"`
	// DegradeSLI is SPEC 3.3's degrade SLI pooled over the arm's runs:
	// the allocations that met the degrade condition and those of them
	// that came through unharmed. It is descriptive (allocations of one
	// run are not independent); the paired comparison is on
	// degrade_harmed per run.
	DegradeSLI PooledSLI `json:"degrade_sli"`
	// RunsDigest is the first 16 hex digits of the SHA-256 of the runs'
	// trace hashes in seed order: equal digests, equal runs.
	RunsDigest string `json:"runs_digest"`
}

// PooledSLI counts allocations that met the degrade condition over an
// arm's runs; Rate is Unharmed / Met, null when none met it.
type PooledSLI struct {
	// Met counts the allocations of all the arm's runs that met the
	// degrade condition (summary.json degrade_sli.met, summed).
	Met uint64 `json:"met"`
	// Unharmed counts those that came through unharmed.
	Unharmed uint64 `json:"unharmed"`
	// Rate is unharmed / met; null when met is 0.
	Rate *float64 `json:"rate"`
}

// TimeToOOM is the Kaplan–Meier estimate of the time to a run's first
// OOM kill. A run without one is censored at its sim_time_ns: it was
// watched that long and survived. A time with Reached false is not a
// time but a bound: the curve never got there, so the quantity is later
// than the value (the longest follow-up), "> value" or "not reached".
type TimeToOOM struct {
	// Method names the estimator: Kaplan-Meier, runs without an OOM
	// censored at sim_time_ns, Brookmeyer-Crowley interval for the median.
	Method string `json:"method"`
	// OOMRuns counts the runs with an OOM kill (events).
	OOMRuns int `json:"oom_runs"`
	// CensoredRuns counts the runs without one (censored).
	CensoredRuns int `json:"censored_runs"`
	// FollowUpMaxNs is the longest time observed, event or censored, in
	// ns: the curve says nothing beyond it.
	FollowUpMaxNs int64 `json:"follow_up_max_ns"`
	// MedianNs is the median time to the first OOM kill, in ns: the first
	// time the survival curve falls to 0.5 or below; follow_up_max_ns when
	// it never does.
	MedianNs int64 `json:"median_ns"`
	// MedianReached says whether the curve reached 0.5; false means the
	// median is later than median_ns (not reached).
	MedianReached bool `json:"median_reached"`
	// CI95LoNs is the lower limit of the median's Brookmeyer-Crowley
	// interval at level, in ns.
	CI95LoNs int64 `json:"ci95_lo_ns"`
	// CI95LoReached: false means the lower limit lies beyond the follow-up.
	CI95LoReached bool `json:"ci95_lo_reached"`
	// CI95HiNs is the upper limit of that interval, in ns.
	CI95HiNs int64 `json:"ci95_hi_ns"`
	// CI95HiReached: false means the upper limit lies beyond the
	// follow-up (the interval is open above).
	CI95HiReached bool `json:"ci95_hi_reached"`
	// SurvivalAtEnd is the estimated probability of no OOM kill by
	// follow_up_max_ns.
	SurvivalAtEnd float64 `json:"survival_at_follow_up_max"`
}

// Dist describes one metric's per-run values across seeds; quantiles
// interpolate linearly between order statistics (Hyndman–Fan 7).
// Values are in the metric's unit (its name says it).
type Dist struct {
	// Mean is the mean over the runs.
	Mean float64 `json:"mean"`
	// Median is the median over the runs.
	Median float64 `json:"median"`
	// P10 is the 10th percentile over the runs.
	P10 float64 `json:"p10"`
	// P90 is the 90th percentile over the runs.
	P90 float64 `json:"p90"`
	// Min is the smallest run's value.
	Min float64 `json:"min"`
	// Max is the largest run's value.
	Max float64 `json:"max"`
}

// Metrics holds one T per continuous per-run metric, in a fixed order.
// fallback_rate is fallback_count / allocs (0 for a run with no
// allocation); the latency metrics are each run's own quantile of its
// allocation latency (summary.json alloc_latency_ns).
type Metrics[T any] struct {
	// AllocFailures is a run's failed allocations (summary.json
	// alloc_failures): a policy that avoids OOM kills by failing
	// allocations shows it here.
	AllocFailures T `json:"alloc_failures"`
	// FallbackRate is a run's fallback_count / allocs.
	FallbackRate T `json:"fallback_rate"`
	// AllocStallNs is a run's alloc_stall_ns (SPEC 4.1), in ns.
	AllocStallNs T `json:"alloc_stall_ns"`
	// AllocLatencyP50Ns is a run's median allocation latency, in ns.
	AllocLatencyP50Ns T `json:"alloc_latency_p50_ns"`
	// AllocLatencyP99Ns is a run's 99th percentile allocation latency, in
	// ns.
	AllocLatencyP99Ns T `json:"alloc_latency_p99_ns"`
	// AllocLatencyP999Ns is a run's 99.9th percentile allocation latency,
	// in ns.
	AllocLatencyP999Ns T `json:"alloc_latency_p999_ns"`
	// FootprintPeakBytes is a run's footprint_peak_bytes: the most memory
	// its SBMP processes held from the kernel at once.
	FootprintPeakBytes T `json:"footprint_peak_bytes"`
	// MemoryStallNs is a run's machine-wide memory stall, PSI's some
	// total (memory_pressure.some_total_us) in ns.
	MemoryStallNs T `json:"memory_stall_ns"`
	// DegradeHarmed is a run's allocations that met the degrade condition
	// and failed or missed their workload's latency objective (SPEC 3.3:
	// degrade_sli.failed + degrade_sli.over_slo).
	DegradeHarmed T `json:"degrade_harmed"`
	// Tier1Merges is a run's Tier-1 buddy merges (summary.json
	// sbmp.tier1_merges): what the merge policy does.
	Tier1Merges T `json:"tier1_merges"`
	// BlocksToTier2 is a run's wholly free Tier-1 blocks given back to
	// Tier-2 (sbmp.blocks_to_tier2): what merging buys.
	BlocksToTier2 T `json:"blocks_to_tier2"`
}

// all returns the fields of m in metricDefs order.
func (m *Metrics[T]) all() []*T {
	return []*T{&m.AllocFailures, &m.FallbackRate, &m.AllocStallNs, &m.AllocLatencyP50Ns, &m.AllocLatencyP99Ns, &m.AllocLatencyP999Ns, &m.FootprintPeakBytes, &m.MemoryStallNs, &m.DegradeHarmed, &m.Tier1Merges, &m.BlocksToTier2}
}

// Each calls f with every metric's name (its JSON key) and value, in
// the fixed order.
func (m *Metrics[T]) Each(f func(name string, v *T)) {
	for i, v := range m.all() {
		f(metricDefs[i].name, v)
	}
}

// unit says how a metric's values read.
type unit int

const (
	unitRatio unit = iota
	unitNs
	unitBytes
	unitCount
)

// metricDef is one continuous metric: its name (the JSON key) and how to
// read it from a summary. The order matches Metrics.all.
type metricDef struct {
	name  string
	unit  unit
	value func(s *world.Summary) float64
}

var metricDefs = [...]metricDef{
	// A policy that avoids OOM kills by failing allocations shows it here.
	{"alloc_failures", unitCount, func(s *world.Summary) float64 { return float64(s.AllocFailures) }},
	{"fallback_rate", unitRatio, fallbackRate},
	{"alloc_stall_ns", unitNs, func(s *world.Summary) float64 { return float64(s.AllocStallNs) }},
	{"alloc_latency_p50_ns", unitNs, func(s *world.Summary) float64 { return float64(s.AllocLatencyNs.P50) }},
	{"alloc_latency_p99_ns", unitNs, func(s *world.Summary) float64 { return float64(s.AllocLatencyNs.P99) }},
	{"alloc_latency_p999_ns", unitNs, func(s *world.Summary) float64 { return float64(s.AllocLatencyNs.P999) }},
	{"footprint_peak_bytes", unitBytes, func(s *world.Summary) float64 { return float64(s.FootprintPeakBytes) }},
	// The machine's memory stall as PSI reports it (some), every task's.
	// The product is rounded (float64) before it is summed and differenced:
	// see package stats on fused multiply-add.
	{"memory_stall_ns", unitNs, func(s *world.Summary) float64 { return float64(float64(s.MemoryPressure.SomeTotalUs) * 1e3) }},
	// SPEC 3.3: allocations that met the degrade condition and failed or
	// missed their workload's latency objective.
	{"degrade_harmed", unitCount, func(s *world.Summary) float64 {
		if s.DegradeSLI == nil {
			return 0
		}
		return float64(s.DegradeSLI.Failed + s.DegradeSLI.OverSLO)
	}},
	// The merge policy's own work, and what it gives back.
	{"tier1_merges", unitCount, func(s *world.Summary) float64 { return float64(sbmpOf(s).Tier1Merges) }},
	{"blocks_to_tier2", unitCount, func(s *world.Summary) float64 { return float64(sbmpOf(s).BlocksToTier2) }},
}

// sbmpOf is s's SBMP summary, zero for a run without SBMP.
func sbmpOf(s *world.Summary) *world.SBMPSummary {
	if s.SBMP == nil {
		return &world.SBMPSummary{}
	}
	return s.SBMP
}

// fallbackRate is the fraction of a run's allocations that fell back to
// Tier-2; 0 for a run with no allocation.
func fallbackRate(s *world.Summary) float64 {
	if s.Allocs == 0 {
		return 0
	}
	return float64(s.FallbackCount) / float64(s.Allocs)
}

// Paired holds the per-seed comparisons of the arms, each difference
// taken as Difference says (B minus A).
type Paired struct {
	// Difference says which way every difference is taken: "b - a", so a
	// negative value means B lowered the quantity.
	Difference string `json:"difference"`
	// Bootstrap records how the bootstrap intervals were drawn.
	Bootstrap BootstrapInfo `json:"bootstrap"`
	// OOM compares whether each seed saw an OOM kill under A and under B.
	OOM PairedOOM `json:"oom"`
	// Metrics compares each continuous metric seed by seed.
	Metrics Metrics[PairedMetric] `json:"metrics"`
	// TradeOff reads every outcome together: what B does to the OOM
	// probability and, beside it, each other outcome whose interval
	// excludes zero, as a cost or a gain. A policy that avoids OOM by
	// failing allocations says so here.
	TradeOff string `json:"trade_off"`
}

// BootstrapInfo records how the bootstrap intervals were drawn, so they
// can be reproduced.
type BootstrapInfo struct {
	// Method is the interval: "bca", bias-corrected and accelerated
	// (Efron 1987).
	Method string `json:"method"`
	// Resamples is the number of bootstrap replicates: 10,000.
	Resamples int `json:"resamples"`
	// Seed seeds the resampling; it is derived from seed_first, so the
	// intervals are a function of the experiment's inputs.
	Seed uint64 `json:"seed"`
	// Level is the intervals' confidence level.
	Level float64 `json:"level"`
}

// PairedOOM compares whether each seed OOMed under A and under B.
type PairedOOM struct {
	// Table is the 2x2 table of the seeds' outcomes.
	Table OOMTable `json:"table"`
	// ProbabilityA is P(OOM | A), arm a's share of seeds with a kill.
	ProbabilityA float64 `json:"probability_a"`
	// ProbabilityB is P(OOM | B).
	ProbabilityB float64 `json:"probability_b"`
	// Difference is P(OOM | B) - P(OOM | A).
	Difference float64 `json:"difference"`
	// CI95Newcombe is Newcombe's (1998, method 10) interval for the
	// difference of paired proportions.
	CI95Newcombe [2]float64 `json:"ci95_newcombe"`
	// McNemarExactP is the exact two-sided McNemar p-value of H0: the
	// arms OOM equally often.
	McNemarExactP float64 `json:"mcnemar_exact_p"`
	// Verdict reads the Newcombe interval in one line: B lowers or
	// raises the OOM probability (the interval excludes 0), or no
	// significant difference.
	Verdict string `json:"verdict"`
}

// OOMTable is the 2×2 table of paired OOM outcomes, counted in seeds.
type OOMTable struct {
	// Both counts the seeds with an OOM kill under both arms.
	Both int `json:"both"`
	// OnlyA counts the seeds with a kill under A only.
	OnlyA int `json:"only_a"`
	// OnlyB counts the seeds with a kill under B only.
	OnlyB int `json:"only_b"`
	// Neither counts the seeds with no kill under either arm.
	Neither int `json:"neither"`
}

// PairedMetric compares one continuous metric seed by seed.
type PairedMetric struct {
	// MeanA is the metric's mean over arm a's runs.
	MeanA float64 `json:"mean_a"`
	// MeanB is its mean over arm b's runs.
	MeanB float64 `json:"mean_b"`
	// MeanDifference is the mean of the per-seed differences B - A.
	MeanDifference float64 `json:"mean_difference"`
	// RelativeDifference is MeanDifference / MeanA; absent when MeanA is 0.
	RelativeDifference *float64 `json:"relative_difference,omitempty"`
	// CI95Bootstrap is the BCa bootstrap interval of the mean difference,
	// [lo, hi], at level.
	CI95Bootstrap [2]float64 `json:"ci95_bootstrap"`
	// SignTest is the exact sign test of the per-seed differences.
	SignTest SignTest `json:"sign_test"`
	// Wilcoxon is the Wilcoxon signed-rank test of the per-seed
	// differences.
	Wilcoxon Wilcoxon `json:"wilcoxon"`
	// Verdict reads the bootstrap interval in one line: B lowers or
	// raises the metric (the interval excludes 0), or no significant
	// difference.
	Verdict string `json:"verdict"`
}

// SignTest is the exact sign test of the per-seed differences.
type SignTest struct {
	// BHigher counts the seeds where B's value is higher than A's.
	BHigher int `json:"b_higher"`
	// BLower counts the seeds where it is lower.
	BLower int `json:"b_lower"`
	// Ties counts the seeds with equal values, left out of the test.
	Ties int `json:"ties"`
	// P is the exact two-sided p-value of H0: higher and lower are
	// equally likely (1 when every seed ties).
	P float64 `json:"p"`
}

// Wilcoxon is the Wilcoxon signed-rank test of the per-seed differences
// (B - A); WPlus sums the ranks of seeds where B is higher.
type Wilcoxon struct {
	// N counts the seeds with a non-zero difference, the ones ranked.
	N int `json:"n"`
	// Zeros counts the seeds with a zero difference, dropped before
	// ranking.
	Zeros int `json:"zeros"`
	// WPlus is the sum of the ranks of the positive differences (R's V).
	WPlus float64 `json:"w_plus"`
	// Z is the normal-approximation statistic, with tie and continuity
	// corrections (reported even when p is exact; 0 when n is 0).
	Z float64 `json:"z"`
	// P is the two-sided p-value of H0: the differences are symmetric
	// about zero.
	P float64 `json:"p"`
	// Exact says p comes from the exact null distribution (n <= 50 and no
	// tied differences), not the normal approximation.
	Exact bool `json:"exact"`
}

// Analyze turns the runs of both arms into the report. It is a pure
// function of its arguments. It checks the pairing (both arms have one
// summary per seed, in seed order) and each summary's OOM record.
func Analyze(exp Experiment, runs *Runs) (*Report, error) {
	n := len(runs.Seeds)
	if n < MinSeeds {
		return nil, fmt.Errorf("analyze: %d seeds: need at least %d", n, MinSeeds)
	}
	if len(runs.A) != n || len(runs.B) != n {
		return nil, fmt.Errorf("analyze: %d seeds but %d runs of arm a and %d of arm b", n, len(runs.A), len(runs.B))
	}
	recsA, err := records(exp.A, runs.Seeds, runs.A)
	if err != nil {
		return nil, err
	}
	recsB, err := records(exp.B, runs.Seeds, runs.B)
	if err != nil {
		return nil, err
	}
	r := &Report{
		Schema: Schema, Version: buildinfo.Current(), Scenario: exp.Scenario, Source: exp.Source, Common: nonNil(exp.Common),
		SeedFirst: runs.Seeds[0], Seeds: n, Level: Level,
	}
	if r.Arms.A, err = armReport(exp.A, recsA); err != nil {
		return nil, err
	}
	if r.Arms.B, err = armReport(exp.B, recsB); err != nil {
		return nil, err
	}
	if r.Paired, err = paired(exp, recsA, recsB, BootstrapSeed(runs.Seeds[0])); err != nil {
		return nil, err
	}
	return r, nil
}

// record is what the report needs of one run.
type record struct {
	seed       uint64
	oomKills   int
	firstOOMNs int64 // -1 when the run had no OOM kill
	simTimeNs  int64
	traceHash  string
	metrics    [len(metricDefs)]float64
	// sliMet and sliUnharmed are the run's degrade SLI counts.
	sliMet, sliUnharmed uint64
}

func (r *record) oom() bool { return r.oomKills > 0 }

// records extracts the records of one arm, checking that run i is from
// seeds[i].
func records(arm Arm, seeds []uint64, runs []world.Summary) ([]record, error) {
	out := make([]record, len(runs))
	for i := range runs {
		s := &runs[i]
		if s.Seed != seeds[i] {
			return nil, fmt.Errorf("analyze: arm %s run %d is from seed %d, want seed %d", arm.Key, i, s.Seed, seeds[i])
		}
		if s.OOMKills > 0 && len(s.OOMEvents) == 0 {
			return nil, fmt.Errorf("analyze: arm %s seed %d: %d OOM kills but no oom_events", arm.Key, s.Seed, s.OOMKills)
		}
		rec := record{seed: s.Seed, oomKills: s.OOMKills, firstOOMNs: s.FirstOOMNs(), simTimeNs: s.SimTimeNs, traceHash: s.TraceHash}
		for m, def := range metricDefs {
			rec.metrics[m] = def.value(s)
		}
		if s.DegradeSLI != nil {
			rec.sliMet, rec.sliUnharmed = s.DegradeSLI.Met, s.DegradeSLI.Unharmed
		}
		out[i] = rec
	}
	return out, nil
}

// Describe summarises replications of one scenario as an arm: OOM
// probability with its Wilson and Clopper-Pearson intervals, time to first
// OOM, failed allocations and the other outcomes' distributions across
// seeds. runs must be from seeds, in order. `sbmpsim run --seeds` writes it
// as replications.json's aggregate; arm.Key names the resolved scenario
// file (Key + ".toml").
func Describe(arm Arm, seeds []uint64, runs []world.Summary) (ArmReport, error) {
	if len(runs) == 0 || len(runs) != len(seeds) {
		return ArmReport{}, fmt.Errorf("analyze: %d runs for %d seeds", len(runs), len(seeds))
	}
	recs, err := records(arm, seeds, runs)
	if err != nil {
		return ArmReport{}, err
	}
	return armReport(arm, recs)
}

// armReport summarises one arm's records.
func armReport(arm Arm, recs []record) (ArmReport, error) {
	n := len(recs)
	ar := ArmReport{Name: arm.Name, Overrides: nonNil(arm.Overrides), ScenarioFile: arm.Key + ".toml", Runs: n}
	h := sha256.New()
	for i := range recs {
		if recs[i].oom() {
			ar.OOMRuns++
		}
		ar.OOMKillsTotal += recs[i].oomKills
		ar.DegradeSLI.Met += recs[i].sliMet
		ar.DegradeSLI.Unharmed += recs[i].sliUnharmed
		h.Write([]byte(recs[i].traceHash + "\n"))
	}
	if ar.DegradeSLI.Met > 0 {
		r := float64(ar.DegradeSLI.Unharmed) / float64(ar.DegradeSLI.Met)
		ar.DegradeSLI.Rate = &r
	}
	ar.RunsDigest = hex.EncodeToString(h.Sum(nil))[:16]
	ar.OOMProbability = float64(ar.OOMRuns) / float64(n)
	w, err := stats.WilsonInterval(ar.OOMRuns, n, Level)
	if err != nil {
		return ar, fmt.Errorf("arm %s: %w", arm.Key, err)
	}
	cp, err := stats.ClopperPearsonInterval(ar.OOMRuns, n, Level)
	if err != nil {
		return ar, fmt.Errorf("arm %s: %w", arm.Key, err)
	}
	ar.OOMCI95Wilson = [2]float64{w.Lo, w.Hi}
	ar.OOMCI95ClopperPearson = [2]float64{cp.Lo, cp.Hi}
	if ar.TimeToFirstOOM, err = timeToOOM(recs); err != nil {
		return ar, fmt.Errorf("arm %s: %w", arm.Key, err)
	}
	dists := ar.Metrics.all()
	for m := range metricDefs {
		if *dists[m], err = dist(column(recs, m)); err != nil {
			return ar, fmt.Errorf("arm %s: %s: %w", arm.Key, metricDefs[m].name, err)
		}
	}
	return ar, nil
}

// timeToOOM estimates the time to first OOM, censoring runs that never
// OOMed at the end of their simulated time.
func timeToOOM(recs []record) (TimeToOOM, error) {
	obs := make([]stats.Observation, len(recs))
	t := TimeToOOM{Method: "kaplan-meier, runs without an OOM censored at sim_time_ns, brookmeyer-crowley ci"}
	for i := range recs {
		if recs[i].oom() {
			obs[i] = stats.Observation{Time: float64(recs[i].firstOOMNs), Event: true}
			t.OOMRuns++
		} else {
			obs[i] = stats.Observation{Time: float64(recs[i].simTimeNs), Event: false}
			t.CensoredRuns++
		}
	}
	curve, err := stats.KaplanMeier(obs)
	if err != nil {
		return t, fmt.Errorf("time to first oom: %w", err)
	}
	med, err := curve.Median(Level)
	if err != nil {
		return t, fmt.Errorf("time to first oom: %w", err)
	}
	t.FollowUpMaxNs = int64(curve.MaxTime)
	t.MedianNs, t.MedianReached = int64(med.Median.Value), med.Median.Reached
	t.CI95LoNs, t.CI95LoReached = int64(med.Lo.Value), med.Lo.Reached
	t.CI95HiNs, t.CI95HiReached = int64(med.Hi.Value), med.Hi.Reached
	t.SurvivalAtEnd = curve.SurvivalAt(curve.MaxTime)
	return t, nil
}

// column returns metric m of every record, in seed order.
func column(recs []record, m int) []float64 {
	xs := make([]float64, len(recs))
	for i := range recs {
		xs[i] = recs[i].metrics[m]
	}
	return xs
}

// dist describes xs.
func dist(xs []float64) (Dist, error) {
	q, err := stats.Quantiles(xs, []float64{0, 0.1, 0.5, 0.9, 1})
	if err != nil {
		return Dist{}, err
	}
	return Dist{Mean: meanOf(xs), Min: q[0], P10: q[1], Median: q[2], P90: q[3], Max: q[4]}, nil
}

// meanOf sums in slice (seed) order, so the result does not depend on
// how the runs were scheduled.
func meanOf(xs []float64) float64 {
	var sum float64
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

// nonNil returns s, or an empty slice for nil, so JSON shows [] not null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// BootstrapSeed derives the bootstrap's seed from the experiment's first
// seed (a SplitMix64 step on a tagged copy of it), so that ab.json is a
// function of its inputs and differs in its draws from any simulator
// stream of the same seed.
func BootstrapSeed(firstSeed uint64) uint64 {
	z := (firstSeed ^ 0xab_ab_ab_ab) + 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
