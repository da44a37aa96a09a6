package main

// How long `experiment run` will take, said before it starts, and how
// long each experiment took, kept in DIR/timing.json for the next
// estimate. Wall times stay out of the notebooks and their manifest.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/sbmpsim/sbmpsim/experiments/canon"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenarios"
	"github.com/sbmpsim/sbmpsim/experiments/output"
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/internal/buildinfo"
)

// timingSchema names the version of timing.json's layout.
const timingSchema = "sbmpsim.notebooks-timing/v1"

// notebookTiming is DIR/timing.json: each experiment's last run on this
// machine, per mode ("quick", "full").
type notebookTiming struct {
	// Schema is "sbmpsim.notebooks-timing/v1".
	Schema string `json:"schema"`
	// Experiments are the records by experiment name, then by mode.
	Experiments map[string]map[string]experimentTiming `json:"experiments"`
}

// experimentTiming is one experiment's last run in one mode.
type experimentTiming struct {
	// WallS is how long the experiment took, in seconds.
	WallS float64 `json:"wall_s"`
	// Workers is --workers: the runs went that many at once, at most one
	// per processor.
	Workers int `json:"workers"`
	// CPUs is how many processors the machine has (runtime.NumCPU).
	CPUs int `json:"cpus"`
	// Runs counts the runs it simulated: not those of a sweep an earlier
	// experiment of the same invocation had run.
	Runs int `json:"runs"`
	// SimS is those runs' simulated time in seconds.
	SimS float64 `json:"sim_s"`
	// WorkGiBS weighs each of those runs' simulated seconds by its
	// machine's memory in GiB: what the estimate scales by.
	WorkGiBS float64 `json:"work_gib_s"`
	// Finished is when it finished (RFC 3339, UTC).
	Finished string `json:"finished"`
	// Version is the build that ran it.
	Version string `json:"version"`
}

// parallel is how many runs go at once on workers here.
func parallel(workers, cpus int) int { return max(1, min(workers, cpus)) }

// readTiming reads dir/timing.json; a missing file is an empty record.
// It is a record of past runs, not an input: one that does not parse is
// reported on warn and ignored.
func readTiming(dir string, warn io.Writer) *notebookTiming {
	t := &notebookTiming{Schema: timingSchema, Experiments: map[string]map[string]experimentTiming{}}
	path := filepath.Join(dir, canon.TimingName)
	data, err := os.ReadFile(path)
	if err != nil {
		if !os.IsNotExist(err) {
			fmt.Fprintf(warn, "sbmpsim: %s: %v; estimating without it\n", path, err)
		}
		return t
	}
	var r notebookTiming
	if err := json.Unmarshal(data, &r); err != nil || r.Schema != timingSchema {
		fmt.Fprintf(warn, "sbmpsim: %s: not a %s file (%v); estimating without it, and rewriting it\n", path, timingSchema, err)
		return t
	}
	if r.Experiments == nil {
		r.Experiments = t.Experiments
	}
	return &r
}

// write records the timing atomically as dir/timing.json.
func (t *notebookTiming) write(dir string) error {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	return output.WriteFileAtomic(filepath.Join(dir, canon.TimingName), append(b, '\n'))
}

// work is what a list of inputs costs to simulate in an invocation that
// has already simulated the sweeps in seen (which it extends).
type work struct {
	runs     int
	simS     float64
	workGiBS float64
}

// workOf totals the runs of inputs that are simulated, not taken from a
// sweep in seen; it adds their sweeps to seen.
func workOf(inputs []canon.Input, seen map[string]bool) (work, error) {
	var w work
	fresh := map[string]bool{}
	for _, in := range inputs {
		if in.Sweep != "" && seen[in.Sweep] {
			continue
		}
		if in.Sweep != "" {
			fresh[in.Sweep] = true
		}
		t, err := in.Scenario.Machine.Topology()
		if err != nil {
			return w, fmt.Errorf("%s: %w", in.Scenario.Source, err)
		}
		var mib int64
		for _, n := range t.Nodes {
			mib += n.MemoryMB
		}
		s := float64(len(in.Seeds)) * float64(in.SimNs()) / 1e9
		w.runs += len(in.Seeds)
		w.simS += s
		w.workGiBS += s * float64(mib) / 1024
	}
	for h := range fresh {
		seen[h] = true
	}
	return w, nil
}

// calibration is one run of the default scenario, timed here: the
// estimate's basis for an experiment never run on this machine.
type calibration struct {
	wall     time.Duration
	simS     float64
	workGiBS float64
}

// calibrate runs the default scenario whole and times it.
func calibrate(ctx context.Context) (calibration, error) {
	sc, err := canon.Load(scenarios.Default)
	if err != nil {
		return calibration{}, err
	}
	w, err := workOf([]canon.Input{{Scenario: sc, Seeds: []uint64{sc.Run.Seed}}}, map[string]bool{})
	if err != nil {
		return calibration{}, err
	}
	start := time.Now()
	if _, err := world.Run(ctx, sc, world.Options{}); err != nil {
		return calibration{}, fmt.Errorf("calibration run of %s: %w", scenarios.Default, err)
	}
	return calibration{wall: time.Since(start), simS: w.simS, workGiBS: w.workGiBS}, nil
}

// estimateLine is one experiment's estimate and what it rests on.
type estimateLine struct {
	name  string
	work  work
	wall  time.Duration
	basis string
}

// estimate is the time an invocation will take, per experiment.
type estimate struct {
	lines []estimateLine
	total time.Duration
	par   int
}

// estimateRun estimates each experiment of list from its plan: the
// core-seconds per GiB-second of its last run here in the same mode,
// else in the other mode, else of a calibration run (made once, by cal,
// only if needed), times its planned work, over the runs going at once.
func estimateRun(list []canon.Experiment, plans map[string][]canon.Input, t *notebookTiming, quick bool, workers int, cal func() (calibration, error)) (estimate, error) {
	est := estimate{par: parallel(workers, runtime.NumCPU())}
	seen := map[string]bool{}
	var c *calibration
	for _, x := range list {
		w, err := workOf(plans[x.Name], seen)
		if err != nil {
			return est, fmt.Errorf("experiment %s: %w", x.Name, err)
		}
		l := estimateLine{name: x.Name, work: w}
		rec, mode, ok := lastRun(t, x.Name, quick)
		switch {
		case w.workGiBS == 0:
			l.basis = "reads runs made before it"
		case ok:
			coreS := rec.WallS * float64(parallel(rec.Workers, rec.CPUs)) / rec.WorkGiBS
			l.wall = time.Duration(coreS * w.workGiBS / float64(est.par) * 1e9)
			l.basis = fmt.Sprintf("its last %s run here (%s, %.0f s)", mode, rec.Finished[:min(10, len(rec.Finished))], rec.WallS)
			if mode != canon.Mode(quick) || rec.WorkGiBS != w.workGiBS {
				l.basis += ", scaled by simulated time x machine memory"
			}
		default:
			if c == nil {
				cc, err := cal()
				if err != nil {
					return est, err
				}
				c = &cc
			}
			l.wall = time.Duration(c.wall.Seconds() * w.workGiBS / c.workGiBS / float64(est.par) * 1e9)
			l.basis = fmt.Sprintf("never run here: the default scenario's %.0f simulated s took %.2f s, scaled by simulated time x machine memory", c.simS, c.wall.Seconds())
		}
		est.lines = append(est.lines, l)
		est.total += l.wall
	}
	return est, nil
}

// lastRun is the record that calibrates an experiment: its last run in
// the mode asked for, else in the other one, if it simulated anything.
func lastRun(t *notebookTiming, name string, quick bool) (experimentTiming, string, bool) {
	for _, mode := range []string{canon.Mode(quick), canon.Mode(!quick)} {
		if r, ok := t.Experiments[name][mode]; ok && r.WorkGiBS > 0 && r.WallS > 0 {
			return r, mode, true
		}
	}
	return experimentTiming{}, "", false
}

// print writes the estimate: a headline, then a line per experiment.
func (e estimate) print(w io.Writer, what string) {
	var runs int
	var simS float64
	for _, l := range e.lines {
		runs += l.work.runs
		simS += l.work.simS
	}
	fmt.Fprintf(w, "%s: %d runs, %s simulated, %d at once; estimated %s\n", what, runs, roughDuration(time.Duration(simS*1e9)), e.par, roughDuration(e.total))
	for _, l := range e.lines {
		fmt.Fprintf(w, "  %-16s %5d runs %9s simulated  %8s  %s\n", l.name, l.work.runs, roughDuration(time.Duration(l.work.simS*1e9)), roughDuration(l.wall), l.basis)
	}
}

// roughDuration rounds d for reading: to a tenth of a second below a
// minute, to the second below an hour, to the minute above.
func roughDuration(d time.Duration) string {
	switch {
	case d >= time.Hour:
		return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	case d >= time.Minute:
		return d.Round(time.Second).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

// record keeps x's wall time and simulated work as its last run in its
// mode.
func (t *notebookTiming) record(name string, quick bool, wall time.Duration, workers int, w work, finished time.Time) {
	if t.Experiments[name] == nil {
		t.Experiments[name] = map[string]experimentTiming{}
	}
	t.Experiments[name][canon.Mode(quick)] = experimentTiming{
		WallS: wall.Seconds(), Workers: workers, CPUs: runtime.NumCPU(),
		Runs: w.runs, SimS: w.simS, WorkGiBS: w.workGiBS,
		Finished: finished.UTC().Format(time.RFC3339), Version: buildinfo.Current().String(),
	}
}
