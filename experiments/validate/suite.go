package validate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/sbmpsim/sbmpsim/experiments/input/host"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/real"
	"github.com/sbmpsim/sbmpsim/experiments/stats"
	"github.com/sbmpsim/sbmpsim/experiments/world"
)

// Schema names the version of validation.json's layout.
const Schema = "sbmpsim.validation/v1"

// DefaultRuns is how many times each case runs on each side unless
// Options say otherwise: the issue asks for at least 5 real runs, so
// that the table shows the real spread beside the simulated one.
const DefaultRuns = 5

// Options shape a suite run. Zero fields take the defaults.
type Options struct {
	// Runs is the number of real runs and of simulations per case
	// (seeds 1..Runs on both sides; default DefaultRuns).
	Runs int
	// Cases names the cases to run (default: all, in table order).
	Cases []string
	// Real is given to every real run (Samplers must be set for the
	// SBMP cases; Log receives the runs' own lines).
	Real real.Options
	// Log receives a line per step of the suite (nil: none).
	Log io.Writer
}

func (o *Options) runs() int {
	if o.Runs > 0 {
		return o.Runs
	}
	return DefaultRuns
}

// Validation is validation.json: the host, and per case its scenario,
// both sides' values per metric, the errors and the verdicts. The real
// values are what this host's kernel did this time; the simulated ones
// are deterministic.
type Validation struct {
	Schema string `json:"schema"`
	Host   *Host  `json:"host"`
	Runs   int    `json:"runs"`
	// Skipped says why the suite did not run at all (no root, no
	// writable memory cgroup); then Cases is empty.
	Skipped string `json:"skipped,omitempty"`
	// DiskError says why the disk could not be measured; the cases are
	// then simulated with the model's default disk.
	DiskError string       `json:"disk_error,omitempty"`
	Cases     []CaseResult `json:"cases"`
	// WallNs is the suite's wall time.
	WallNs int64 `json:"wall_ns"`
}

// Failed lists the cases whose runs failed to run.
func (v *Validation) Failed() []string {
	var out []string
	for _, c := range v.Cases {
		if c.Verdict == Failed {
			out = append(out, c.Name)
		}
	}
	return out
}

// CaseResult is one case of validation.json.
type CaseResult struct {
	Name   string `json:"name"`
	Title  string `json:"title"`
	Source string `json:"source"`
	// Scenario is the scenario both sides ran (seed 1's; the runs
	// differ only in run.seed), as canonical TOML.
	Scenario string `json:"scenario"`
	// Verdict is pass, miss, skipped (the real runs could not run on
	// this host) or failed (a run failed to run: Reason says how).
	Verdict string         `json:"verdict"`
	Reason  string         `json:"reason,omitempty"`
	Metrics []MetricResult `json:"metrics"`
	// Disk is the mean of the disk measurements beside the case's real
	// runs, which its simulations use; nil when the disk could not be
	// measured or the real runs did not run.
	Disk *host.Disk `json:"disk,omitempty"`
	// OthersCPUs is the median over the case's real runs of the CPUs'
	// worth of work on the host that was not the run's (real.HostCPU);
	// nil when it was not measured.
	OthersCPUs *float64 `json:"host_others_cpus,omitempty"`
	// RealRuns and SimRuns are each run's OOM kills and facts.
	RealRuns []RunRecord `json:"real_runs"`
	SimRuns  []RunRecord `json:"sim_runs"`
	// real and sim are the runs, for the figures.
	real, sim []Observed
}

// RunRecord is one run of a case.
type RunRecord struct {
	Seed      uint64           `json:"seed"`
	OOMEvents []world.OOMEvent `json:"oom_events"`
	EndNs     int64            `json:"end_ns"`
	// WallNs is the run's wall time (set-up included, for a real run).
	WallNs int64 `json:"wall_ns"`
	// Buddyinfo is /proc/buddyinfo just before a real run of a THP
	// case: how fragmented the host's free memory was.
	Buddyinfo string `json:"buddyinfo,omitempty"`
	// HostCPU is how busy the host was during a real run, with the
	// run's work and with others' (real.HostCPU).
	HostCPU *real.HostCPU `json:"host_cpu,omitempty"`
	// Models are the models a simulation reports.
	Models []string `json:"models,omitempty"`
}

// Run runs the suite: each case's real runs one at a time (never two at
// once: their figures are the whole host's), then its simulations, and
// judges each metric. A host that cannot run real runs is no error: the
// result says why in Skipped. A run that fails to run marks its case
// failed and the suite goes on; cancelling ctx (SIGINT) stops it with
// ctx's error, after the real run in progress has cleaned up.
func Run(ctx context.Context, opt Options) (*Validation, error) {
	start := time.Now()
	log := opt.Log
	if log == nil {
		log = io.Discard
	}
	cases, err := SelectCases(opt.Cases)
	if err != nil {
		return nil, err
	}
	if opt.Real.Samplers == nil {
		return nil, errors.New("validate: Options.Real.Samplers is not set: the SBMP cases run synthetic workloads, which need the simulation's samplers")
	}
	h, err := ReadHost(opt.Real)
	if err != nil {
		return nil, err
	}
	v := &Validation{Schema: Schema, Host: h, Runs: opt.runs(), Cases: []CaseResult{}}
	if h.NotRunnable != "" {
		v.Skipped = h.NotRunnable
		return v, nil
	}
	probe, err := host.NewDiskProbe(h.TempDir, diskFileBytes)
	if err != nil {
		v.DiskError = err.Error()
	} else {
		defer probe.Close()
	}
	quiet := newQuietWait()
	for i := range cases {
		fmt.Fprintf(log, "validate: case %d of %d: %s\n", i+1, len(cases), cases[i].Name)
		cr, err := runCase(ctx, &cases[i], h, probe, &opt, quiet, log)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(log, "validate: %s: %s%s\n", cr.Name, cr.Verdict, suffix(cr.Reason))
		v.Cases = append(v.Cases, cr)
	}
	v.WallNs = int64(time.Since(start))
	return v, nil
}

func suffix(reason string) string {
	if reason == "" {
		return ""
	}
	return " (" + reason + ")"
}

// runCase runs one case on both sides and judges it. Only ctx's end is
// returned as an error; a run that fails is the case's verdict.
func runCase(ctx context.Context, c *Case, h *Host, probe *host.DiskProbe, opt *Options, quiet *quietWait, log io.Writer) (CaseResult, error) {
	cr := CaseResult{Name: c.Name, Title: c.Title, Source: c.Source()}
	sc, err := c.Scenario(h, 1)
	if err != nil {
		cr.Verdict, cr.Reason = Failed, err.Error()
		return cr, nil
	}
	enc, err := sc.Encode()
	if err != nil {
		cr.Verdict, cr.Reason = Failed, err.Error()
		return cr, nil
	}
	cr.Scenario = string(enc)
	scope, err := scopeCgroup(sc)
	if err != nil {
		cr.Verdict, cr.Reason = Failed, err.Error()
		return cr, nil
	}
	skip := realSkip(c, sc, h, opt)
	if skip == "" {
		if err := runReal(ctx, c, h, probe, opt, quiet, scope, &cr, log); err != nil {
			if ctx.Err() != nil {
				return cr, err
			}
			cr.Verdict, cr.Reason = Failed, err.Error()
			return cr, nil
		}
	}
	if cr.Disk != nil {
		// The simulations run on the disk measured beside the real
		// runs, and the record shows the scenario they ran.
		hc := *h
		hc.Disk = cr.Disk
		h = &hc
		if sc, err = c.Scenario(h, 1); err == nil {
			var enc []byte
			if enc, err = sc.Encode(); err == nil {
				cr.Scenario = string(enc)
			}
		}
		if err != nil {
			cr.Verdict, cr.Reason = Failed, err.Error()
			return cr, nil
		}
	}
	if err := runSim(ctx, c, h, opt, scope, &cr); err != nil {
		if ctx.Err() != nil {
			return cr, err
		}
		cr.Verdict, cr.Reason = Failed, err.Error()
		return cr, nil
	}
	judge(c, &cr, skip)
	return cr, nil
}

// realSkip says why the case's real runs cannot happen on this host, or
// "": cgroup v1 has no memory.high, and the real runner refuses what
// the host cannot do (swap limits without swap accounting, say) with an
// error naming the key.
func realSkip(c *Case, sc *scenario.Scenario, h *Host, opt *Options) string {
	if c.NeedsMemoryHigh && h.Cgroup.Version == 1 {
		return "cgroup v1 has no memory.high"
	}
	if _, err := real.Check(sc, opt.Real); err != nil {
		var se *scenario.Error
		if errors.As(err, &se) {
			return "refused on this host: " + se.Error()
		}
		return err.Error()
	}
	return ""
}

// runReal runs the case for real, seeds 1..runs, one run at a time,
// waiting for a quiet host (quiet) and measuring the disk with probe
// (when there is one) just before each run; cr.Disk is the
// measurements' mean, cr.OthersCPUs the median of the other work on the
// host during the runs.
func runReal(ctx context.Context, c *Case, h *Host, probe *host.DiskProbe, opt *Options, quiet *quietWait, scope string, cr *CaseResult, log io.Writer) error {
	var disks []host.Disk
	var others []float64
	defer func() {
		if len(disks) > 0 {
			d := host.MeanDisk(disks)
			cr.Disk = &d
		}
		if m, err := stats.P50(others); err == nil {
			cr.OthersCPUs = &m
		}
	}()
	for seed := uint64(1); seed <= uint64(opt.runs()); seed++ {
		if err := quiet.wait(ctx, log); err != nil {
			return err
		}
		if probe != nil {
			d, err := probe.Measure(diskReadsPerRun)
			if err != nil {
				return err
			}
			disks = append(disks, d)
		}
		sc, err := c.Scenario(h, seed)
		if err != nil {
			return err
		}
		rec := RunRecord{Seed: seed}
		if slices.ContainsFunc(c.Checks, func(k Check) bool { return k.Metric == THPAlloc || k.Metric == THPFallback }) {
			if b, err := os.ReadFile("/proc/buddyinfo"); err == nil {
				rec.Buddyinfo = string(b)
			}
		}
		fmt.Fprintf(log, "validate: %s: real run %d of %d\n", c.Name, seed, opt.runs())
		t0 := time.Now()
		res, err := real.Run(ctx, sc, opt.Real)
		if err != nil {
			return fmt.Errorf("real run, seed %d: %w", seed, err)
		}
		o, err := observeReal(res, scope)
		if err != nil {
			return fmt.Errorf("real run, seed %d: %w", seed, err)
		}
		rec.OOMEvents, rec.EndNs, rec.WallNs = o.Kills, o.EndNs, int64(time.Since(t0))
		if hc := res.Summary.HostCPU; hc != nil {
			rec.HostCPU = hc
			others = append(others, hc.Others)
		}
		cr.real = append(cr.real, o)
		cr.RealRuns = append(cr.RealRuns, rec)
	}
	return nil
}

// runSim simulates the case, seeds 1..runs.
func runSim(ctx context.Context, c *Case, h *Host, opt *Options, scope string, cr *CaseResult) error {
	for seed := uint64(1); seed <= uint64(opt.runs()); seed++ {
		sc, err := c.Scenario(h, seed)
		if err != nil {
			return err
		}
		t0 := time.Now()
		res, err := world.Run(ctx, sc, world.Options{})
		if err != nil {
			return fmt.Errorf("simulation, seed %d: %w", seed, err)
		}
		o, err := observeSim(res, scope)
		if err != nil {
			return fmt.Errorf("simulation, seed %d: %w", seed, err)
		}
		cr.sim = append(cr.sim, o)
		cr.SimRuns = append(cr.SimRuns, RunRecord{Seed: seed, OOMEvents: o.Kills, EndNs: o.EndNs, WallNs: int64(time.Since(t0)), Models: o.Models})
	}
	return nil
}

// judge compares every metric of the case and sets its verdict.
func judge(c *Case, cr *CaseResult, skip string) {
	for _, k := range c.Checks {
		var mr MetricResult
		if skip != "" {
			s := sideOf(k.Metric, cr.sim)
			mr = MetricResult{Metric: k.Metric, Unit: k.Metric.Unit(), Sim: &s, Tol: k.Tol, Verdict: Skipped, Reason: skip}
		} else {
			mr = compare(k, cr.real, cr.sim)
		}
		if mr.Verdict == Miss {
			why := []string{hostBusyMechanism(k.Metric, cr.OthersCPUs), c.Misses[k.Metric]}
			mr.Mechanism = strings.Join(slices.DeleteFunc(why, func(s string) bool { return s == "" }), "; ")
		}
		cr.Metrics = append(cr.Metrics, mr)
	}
	if why := missingModel(c, cr.sim); why != "" {
		notSimulated(cr.Metrics, why)
	}
	cr.Verdict = caseVerdict(cr.Metrics)
	switch cr.Verdict {
	case Skipped:
		cr.Reason = skip
	case Miss:
		var missed []string
		for _, m := range cr.Metrics {
			if m.Verdict == Miss {
				missed = append(missed, string(m.Metric))
			}
		}
		cr.Reason = "missed: " + strings.Join(missed, ", ")
	}
}

// missingModel says why the simulation cannot yet simulate the case
// faithfully: a model it needs that its runs do not report.
func missingModel(c *Case, sims []Observed) string {
	if c.NeedsSimModel == "" {
		return ""
	}
	for _, o := range sims {
		if !slices.Contains(o.Models, c.NeedsSimModel) {
			return fmt.Sprintf("the simulation reports the models %v, not %q, which the case needs", o.Models, c.NeedsSimModel)
		}
	}
	return ""
}
