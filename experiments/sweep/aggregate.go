package sweep

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/output"
	"github.com/sbmpsim/sbmpsim/experiments/stats"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/internal/buildinfo"
)

// ReportSchema names the version of sweep.json's layout.
//
// v2 (from v1): version added; per point oom_ci95_clopper_pearson and the
// alloc_failures metric added (a policy that avoids OOM kills by failing
// allocations shows it beside the OOM probability); runs_digest no longer
// covers the build.
const ReportSchema = "sbmpsim.sweep/v2"

// Level is the confidence level of every interval in sweep.json (the
// "ci95" fields). A constant, so that two sweep.json files compare.
const Level = 0.95

// Report is sweep.json: the plan and, per point, the outcome over its
// seeds. It holds no wall times.
type Report struct {
	// Schema names the layout of this file: "sbmpsim.sweep/v2".
	Schema string `json:"schema"`
	// Version is the build that made the runs and the report.
	Version buildinfo.Version `json:"version"`
	// Sweep is the sweep's name.
	Sweep string `json:"sweep"`
	// Hash is the SHA-256 (hex) of the resolved sweep: name, base
	// scenario (its canonical TOML after the fixed overrides), seeds,
	// overrides and axes, as in plan.json. Equal hashes, same runs.
	Hash string `json:"hash"`
	// Scenario is the base scenario's run.name.
	Scenario string `json:"scenario"`
	// Source names the base scenario as the sweep file does
	// ("embedded:NAME", or a path relative to the sweep file).
	Source string `json:"source"`
	// SeedFirst is the first of the consecutive seeds every point ran on.
	SeedFirst uint64 `json:"seed_first"`
	// Seeds is the number of seeds (runs) per point.
	Seeds int `json:"seeds"`
	// Overrides are the sweep's fixed KEY=VALUE overrides, applied to
	// every point before its own.
	Overrides []string `json:"overrides"`
	// Axes span the grid, in file order: the first varies slowest.
	Axes []Axis `json:"axes"`
	// Level is the confidence level of every interval in the file (the
	// "ci95" fields): 0.95.
	Level float64 `json:"level"`
	// Runs is the number of runs: points times seeds.
	Runs int `json:"runs"`
	// Points are in grid order, as in plan.json.
	Points []PointReport `json:"points"`
}

// PointReport is one grid point's outcome over its seeds.
type PointReport struct {
	// ID is the point's id, "p" and its index in grid order, zero-padded
	// ("p003"); its runs' files are runs/ID-sSEED.json.
	ID string `json:"id"`
	// Overrides are the point's own KEY=VALUE assignments, one per axis
	// key in axis order, as sbmpsim run --set takes them.
	Overrides []string `json:"overrides"`
	// Runs counts the point's runs, one per seed.
	Runs int `json:"runs"`
	// OOMRuns counts runs with at least one OOM kill (global or memcg).
	OOMRuns int `json:"oom_runs"`
	// OOMProbability is oom_runs / runs.
	OOMProbability float64 `json:"oom_probability"`
	// OOMCI95Wilson is Wilson's score interval for that probability, [lo,
	// hi], at level.
	OOMCI95Wilson [2]float64 `json:"oom_ci95_wilson"`
	// OOMCI95ClopperPearson is the exact (Clopper-Pearson) interval for
	// that probability, which keeps its coverage when no run or every run
	// OOMs.
	OOMCI95ClopperPearson [2]float64 `json:"oom_ci95_clopper_pearson"`
	// FirstOOM estimates the time from a run's start to its first OOM
	// kill.
	FirstOOM FirstOOM `json:"time_to_first_oom"`
	// Metrics summarise the per-run values across seeds.
	Metrics Metrics `json:"metrics"`
	// RunsDigest is the first 16 hex digits of the SHA-256 of the point's
	// run files (summary.json, its version left empty) in seed order:
	// equal digests, equal runs, whichever build made them. (Trace hashes alone would not do: they cover
	// the order of events, not every charged latency.)
	RunsDigest string `json:"runs_digest"`
}

// FirstOOM is the Kaplan–Meier estimate of the time to a run's first OOM
// kill, a run without one censored at its sim_time_ns. A time with
// Reached false is a bound, not a time: the curve never fell that far, so
// the quantity is later than the value (the longest follow-up).
type FirstOOM struct {
	// Method names the estimator: "kaplan-meier" (the median's interval
	// is Brookmeyer-Crowley's).
	Method string `json:"method"`
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
	// CI95LoNs is the lower limit of the median's interval at level, in ns.
	CI95LoNs int64 `json:"ci95_lo_ns"`
	// CI95LoReached: false means the lower limit lies beyond the follow-up.
	CI95LoReached bool `json:"ci95_lo_reached"`
	// CI95HiNs is the upper limit of that interval, in ns.
	CI95HiNs int64 `json:"ci95_hi_ns"`
	// CI95HiReached: false means the upper limit lies beyond the
	// follow-up (the interval is open above).
	CI95HiReached bool `json:"ci95_hi_reached"`
}

// Dist describes one metric's per-run values across seeds; quantiles
// interpolate linearly between order statistics (Hyndman–Fan 7, numpy's
// default).
// Values are in the metric's unit (its name says it).
type Dist struct {
	// Mean is the mean over the point's runs.
	Mean float64 `json:"mean"`
	// Median is the median over the runs.
	Median float64 `json:"median"`
	// P10 is the 10th percentile over the runs.
	P10 float64 `json:"p10"`
	// P90 is the 90th percentile over the runs.
	P90 float64 `json:"p90"`
}

// Metrics are the per-run metrics a sweep summarises. alloc_failures is
// summary.json's alloc_failures (a policy that avoids OOM kills by failing
// allocations shows it here); fallback_rate is
// fallback_count / allocs (0 for a run without allocations);
// alloc_latency_p99_ns is each run's own p99 (summary.json
// alloc_latency_ns.p99).
type Metrics struct {
	// AllocFailures is a run's alloc_failures: a policy that avoids OOM
	// kills by failing allocations shows it here.
	AllocFailures Dist `json:"alloc_failures"`
	// FallbackRate is a run's fallback_count / allocs.
	FallbackRate Dist `json:"fallback_rate"`
	// AllocStallNs is a run's alloc_stall_ns (SPEC 4.1), in ns.
	AllocStallNs Dist `json:"alloc_stall_ns"`
	// AllocLatencyP99Ns is a run's 99th percentile allocation latency, in
	// ns.
	AllocLatencyP99Ns Dist `json:"alloc_latency_p99_ns"`
	// FootprintPeakBytes is a run's footprint_peak_bytes: the most memory
	// its SBMP processes held from the kernel at once.
	FootprintPeakBytes Dist `json:"footprint_peak_bytes"`
}

// metricNames are the CSV column stems of Metrics, in field order.
var metricNames = []string{"alloc_failures", "fallback_rate", "alloc_stall_ns", "alloc_latency_p99_ns", "footprint_peak_bytes"}

// MissingError lists the runs of a sweep that have no file.
type MissingError struct {
	Dir string
	IDs []string
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("%s: %d runs have no file yet: %s", e.Dir, len(e.IDs), listIDs(e.IDs, 10))
}

// listIDs joins at most n ids, counting the rest.
func listIDs(ids []string, n int) string {
	if len(ids) <= n {
		return strings.Join(ids, ", ")
	}
	return strings.Join(ids[:n], ", ") + fmt.Sprintf(", ... (%d more)", len(ids)-n)
}

// ReadRuns reads every run file of pf from dir, in run order.
// Missing runs are a *MissingError naming them.
func ReadRuns(dir string, pf *PlanFile) ([]world.Summary, error) {
	runs := make([]world.Summary, pf.Runs)
	var missing []string
	for i := range pf.Runs {
		r := pf.Run(i)
		s, _, err := readRun(runPath(dir, r.ID), r)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			missing = append(missing, r.ID)
		case err != nil:
			return nil, err
		}
		runs[i] = s
	}
	if len(missing) > 0 {
		return nil, &MissingError{Dir: dir, IDs: missing}
	}
	return runs, nil
}

// Aggregate computes sweep.json's report from the plan and its runs in
// run order. It is a pure function of its arguments.
func Aggregate(pf *PlanFile, runs []world.Summary) (*Report, error) {
	if len(runs) != pf.Runs {
		return nil, fmt.Errorf("aggregate: %d runs for a plan of %d", len(runs), pf.Runs)
	}
	r := &Report{
		Schema: ReportSchema, Version: buildinfo.Current(), Sweep: pf.Sweep, Hash: pf.Hash, Scenario: pf.Scenario, Source: pf.Source,
		SeedFirst: pf.SeedFirst, Seeds: pf.Seeds, Overrides: pf.Overrides, Axes: pf.Axes, Level: Level, Runs: pf.Runs,
	}
	for pi, pt := range pf.Points {
		pr, err := aggregatePoint(pt, runs[pi*pf.Seeds:(pi+1)*pf.Seeds])
		if err != nil {
			return nil, fmt.Errorf("aggregate point %s: %w", pt.ID, err)
		}
		r.Points = append(r.Points, pr)
	}
	return r, nil
}

func aggregatePoint(pt PlanPoint, runs []world.Summary) (PointReport, error) {
	pr := PointReport{ID: pt.ID, Overrides: pt.Overrides, Runs: len(runs)}
	obs := make([]stats.Observation, len(runs))
	cols := make([][]float64, len(metricNames))
	digest := sha256.New()
	for i := range runs {
		s := &runs[i]
		if t := s.FirstOOMNs(); t >= 0 {
			pr.OOMRuns++
			obs[i] = stats.Observation{Time: float64(t), Event: true}
		} else {
			obs[i] = stats.Observation{Time: float64(s.SimTimeNs)}
		}
		for m, v := range metricValues(s) {
			cols[m] = append(cols[m], v)
		}
		unversioned := *s
		unversioned.Version = buildinfo.Version{}
		b, err := output.SummaryJSON(&unversioned)
		if err != nil {
			return pr, err
		}
		digest.Write(b)
	}
	pr.OOMProbability = float64(pr.OOMRuns) / float64(len(runs))
	iv, err := stats.WilsonInterval(pr.OOMRuns, len(runs), Level)
	if err != nil {
		return pr, err
	}
	pr.OOMCI95Wilson = [2]float64{iv.Lo, iv.Hi}
	if iv, err = stats.ClopperPearsonInterval(pr.OOMRuns, len(runs), Level); err != nil {
		return pr, err
	}
	pr.OOMCI95ClopperPearson = [2]float64{iv.Lo, iv.Hi}
	if pr.FirstOOM, err = firstOOM(obs); err != nil {
		return pr, err
	}
	dists := make([]Dist, len(cols))
	for m, xs := range cols {
		if dists[m], err = dist(xs); err != nil {
			return pr, fmt.Errorf("%s: %w", metricNames[m], err)
		}
	}
	pr.Metrics = Metrics{AllocFailures: dists[0], FallbackRate: dists[1], AllocStallNs: dists[2], AllocLatencyP99Ns: dists[3], FootprintPeakBytes: dists[4]}
	pr.RunsDigest = hex.EncodeToString(digest.Sum(nil))[:16]
	return pr, nil
}

// metricValues returns a run's metrics in metricNames order.
func metricValues(s *world.Summary) []float64 {
	rate := 0.0
	if s.Allocs > 0 {
		rate = float64(s.FallbackCount) / float64(s.Allocs)
	}
	return []float64{float64(s.AllocFailures), rate, float64(s.AllocStallNs), float64(s.AllocLatencyNs.P99), float64(s.FootprintPeakBytes)}
}

func firstOOM(obs []stats.Observation) (FirstOOM, error) {
	km, err := stats.KaplanMeier(obs)
	if err != nil {
		return FirstOOM{}, err
	}
	m, err := km.Median(Level)
	if err != nil {
		return FirstOOM{}, err
	}
	ns := func(v float64) int64 { return int64(math.Round(v)) }
	return FirstOOM{
		Method: "kaplan-meier", FollowUpMaxNs: ns(km.MaxTime),
		MedianNs: ns(m.Median.Value), MedianReached: m.Median.Reached,
		CI95LoNs: ns(m.Lo.Value), CI95LoReached: m.Lo.Reached,
		CI95HiNs: ns(m.Hi.Value), CI95HiReached: m.Hi.Reached,
	}, nil
}

// dist summarises xs; the mean sums in run order.
func dist(xs []float64) (Dist, error) {
	q, err := stats.Quantiles(xs, []float64{0.5, 0.1, 0.9})
	if err != nil {
		return Dist{}, err
	}
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return Dist{Mean: sum / float64(len(xs)), Median: q[0], P10: q[1], P90: q[2]}, nil
}

// JSON encodes the report as sweep.json.
func (r *Report) JSON() ([]byte, error) {
	b, err := encodeJSON(r)
	if err != nil {
		return nil, fmt.Errorf("encode sweep.json: %w", err)
	}
	return b, nil
}

// CSV encodes the report as sweep.csv: a header, then one row per point
// with the point id, one column per axis key holding the point's value
// (as written after KEY= in its overrides), and the outcome. An
// unreached first-OOM median is empty.
func (r *Report) CSV() ([]byte, error) {
	header := []string{"point"}
	for _, a := range r.Axes {
		header = append(header, a.Keys...)
	}
	header = append(header, "runs", "oom_runs", "oom_probability", "oom_ci95_lo", "oom_ci95_hi", "oom_ci95_cp_lo", "oom_ci95_cp_hi", "first_oom_median_ns")
	for _, m := range metricNames {
		header = append(header, m+"_mean", m+"_median", m+"_p10", m+"_p90")
	}
	header = append(header, "runs_digest")
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.Write(header); err != nil {
		return nil, err
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, p := range r.Points {
		row := []string{p.ID}
		for _, o := range p.Overrides {
			_, v, _ := strings.Cut(o, "=")
			row = append(row, v)
		}
		median := ""
		if p.FirstOOM.MedianReached {
			median = strconv.FormatInt(p.FirstOOM.MedianNs, 10)
		}
		row = append(row, strconv.Itoa(p.Runs), strconv.Itoa(p.OOMRuns), f(p.OOMProbability),
			f(p.OOMCI95Wilson[0]), f(p.OOMCI95Wilson[1]), f(p.OOMCI95ClopperPearson[0]), f(p.OOMCI95ClopperPearson[1]), median)
		for _, d := range []Dist{p.Metrics.AllocFailures, p.Metrics.FallbackRate, p.Metrics.AllocStallNs, p.Metrics.AllocLatencyP99Ns, p.Metrics.FootprintPeakBytes} {
			row = append(row, f(d.Mean), f(d.Median), f(d.P10), f(d.P90))
		}
		row = append(row, p.RunsDigest)
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

// WriteAggregate reads every run of pf from dir and writes sweep.csv and,
// last, sweep.json there.
func WriteAggregate(dir string, pf *PlanFile) error {
	runs, err := ReadRuns(dir, pf)
	if err != nil {
		return err
	}
	rep, err := Aggregate(pf, runs)
	if err != nil {
		return err
	}
	js, err := rep.JSON()
	if err != nil {
		return err
	}
	cs, err := rep.CSV()
	if err != nil {
		return err
	}
	if err := output.WriteFileAtomic(filepath.Join(dir, CSVName), cs); err != nil {
		return err
	}
	return output.WriteFileAtomic(filepath.Join(dir, ReportName), js)
}
