package ab

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/sbmpsim/sbmpsim/experiments/output"
	"github.com/sbmpsim/sbmpsim/experiments/world"
)

// JSON encodes the report as ab.json: indented, with a final newline.
// The encoding of a report is deterministic.
func (r *Report) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode ab.json: %w", err)
	}
	return append(b, '\n'), nil
}

// runsHeader is runs.csv's header line.
const runsHeader = "arm,seed,oom,oom_kills,first_oom_ns,sim_time_ns,allocs,alloc_failures,fallback_count,fallback_rate," +
	"alloc_stall_ns,alloc_latency_p50_ns,alloc_latency_p99_ns,alloc_latency_p999_ns,footprint_peak_bytes,memory_stall_some_us," +
	"degrade_met,degrade_unharmed,degrade_failed,degrade_over_slo,trace_hash,tier1_merges,blocks_to_tier2\n"

// RunsCSV is runs.csv: one row per seed and arm (seed-major, arm a
// first), with the per-run values the report is built from. first_oom_ns
// is empty for a run without an OOM kill.
func RunsCSV(runs *Runs) []byte {
	var b bytes.Buffer
	b.WriteString(runsHeader)
	row := func(arm string, s *world.Summary) {
		oom, first := "0", ""
		if t := s.FirstOOMNs(); t >= 0 {
			oom, first = "1", strconv.FormatInt(t, 10)
		}
		var sli world.SLICounts
		if s.DegradeSLI != nil {
			sli = s.DegradeSLI.SLICounts
		}
		fmt.Fprintf(&b, "%s,%d,%s,%d,%s,%d,%d,%d,%d,%s,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%s,%d,%d\n",
			arm, s.Seed, oom, s.OOMKills, first, s.SimTimeNs, s.Allocs, s.AllocFailures, s.FallbackCount,
			strconv.FormatFloat(fallbackRate(s), 'g', -1, 64), s.AllocStallNs,
			s.AllocLatencyNs.P50, s.AllocLatencyNs.P99, s.AllocLatencyNs.P999, s.FootprintPeakBytes, s.MemoryPressure.SomeTotalUs,
			sli.Met, sli.Unharmed, sli.Failed, sli.OverSLO, s.TraceHash, sbmpOf(s).Tier1Merges, sbmpOf(s).BlocksToTier2)
	}
	for i := range runs.Seeds {
		row("a", &runs.A[i])
		row("b", &runs.B[i])
	}
	return b.Bytes()
}

// Write writes an experiment's files into dir, creating it if needed:
// a.toml and b.toml (each arm's resolved scenario, seeded with the first
// seed), runs.csv, metrics.om when runs holds the time series (every
// run's, labelled scenario, arm, arm_name and seed, with simulated time
// 0 at opts.MetricsEpoch; otherwise an old metrics.om is removed) and,
// last, ab.json. Any ab.json already there
// is removed first and every file is written to a temporary name and
// renamed into place, so a directory holding an ab.json holds one
// complete experiment.
func Write(dir string, exp Experiment, runs *Runs, report *Report, opts output.WriteOptions) error {
	abJSON, err := report.JSON()
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
	}{
		{"a.toml", nil},
		{"b.toml", nil},
		{"runs.csv", RunsCSV(runs)},
		{"ab.json", abJSON},
	}
	for i, arm := range []Arm{exp.A, exp.B} {
		sc := arm.Scenario.Clone()
		sc.Run.Seed = runs.Seeds[0]
		if files[i].data, err = sc.Encode(); err != nil {
			return fmt.Errorf("encode arm %s scenario: %w", arm.Key, err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	if err := os.Remove(filepath.Join(dir, "ab.json")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stale ab.json: %w", err)
	}
	for _, f := range files[:len(files)-1] {
		if err := output.WriteFileAtomic(filepath.Join(dir, f.name), f.data); err != nil {
			return err
		}
	}
	if runs.SeriesA == nil {
		// A metrics.om of an earlier experiment would pass for this one's.
		if err := os.Remove(filepath.Join(dir, "metrics.om")); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove stale metrics.om: %w", err)
		}
	} else {
		mr := MetricsRuns(exp, runs)
		err := output.WriteAtomic(filepath.Join(dir, "metrics.om"), func(w io.Writer) error {
			return output.WriteOpenMetrics(w, mr, opts.Epoch())
		})
		if err != nil {
			return err
		}
	}
	return output.WriteFileAtomic(filepath.Join(dir, "ab.json"), abJSON)
}

// MetricsRuns are the runs' time series with their labels, seed-major
// and arm a first, as runs.csv orders them.
func MetricsRuns(exp Experiment, runs *Runs) []output.MetricsRun {
	var out []output.MetricsRun
	for i, seed := range runs.Seeds {
		for _, arm := range []struct {
			a  Arm
			ts *world.Timeseries
		}{{exp.A, runs.SeriesA[i]}, {exp.B, runs.SeriesB[i]}} {
			out = append(out, output.MetricsRun{Labels: []output.Label{
				{Name: "scenario", Value: exp.Scenario}, {Name: "arm", Value: arm.a.Key},
				{Name: "arm_name", Value: arm.a.Name}, {Name: "seed", Value: strconv.FormatUint(seed, 10)},
			}, Timeseries: arm.ts})
		}
	}
	return out
}
