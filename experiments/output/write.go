package output

import (
	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/internal/buildinfo"

	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// WriteOptions are choices about a run's files.
type WriteOptions struct {
	// MetricsEpoch is the instant simulated time 0 is put at in
	// metrics.om; the zero value is DefaultMetricsEpoch.
	MetricsEpoch time.Time
}

// Epoch is MetricsEpoch, or DefaultMetricsEpoch when it is zero.
func (o WriteOptions) Epoch() time.Time {
	if o.MetricsEpoch.IsZero() {
		t, _ := time.Parse(time.RFC3339, DefaultMetricsEpoch)
		return t
	}
	return o.MetricsEpoch
}

// WriteRun writes a run's files into dir, creating it if needed:
// scenario.toml (the resolved scenario), timeseries.csv, metrics.om (the
// time series in OpenMetrics, with timestamps), metrics.prom (the
// end-of-run values in the Prometheus text format), the figure live.svg
// and live.png, the run's further files (Result.Files, such as
// gctrace-NAME.txt) and, last, summary.json, and returns the names
// written, in that order. Each file is written to a temporary name and
// renamed into place, so a reader never sees a half-written file, and a
// directory with a summary.json holds a whole run (one that a limit
// stopped says so: summary.json's incomplete and stopped_by).
func WriteRun(dir string, res *world.Result, opts WriteOptions) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create output directory: %w", err)
	}
	summary, err := SummaryJSON(&res.Summary)
	if err != nil {
		return nil, err
	}
	svg, png, err := figureLive(res)
	if err != nil {
		return nil, err
	}
	var om bytes.Buffer
	if err := WriteOpenMetrics(&om, []MetricsRun{{RunLabels(&res.Summary), &res.Timeseries}}, opts.Epoch()); err != nil {
		return nil, err
	}
	prom, err := MetricsText(&res.Summary, &res.Timeseries)
	if err != nil {
		return nil, err
	}
	type file struct {
		name string
		data []byte
	}
	files := []file{
		{"scenario.toml", res.Scenario},
		{"timeseries.csv", TimeseriesCSV(&res.Timeseries)},
		{"metrics.om", om.Bytes()},
		{"metrics.prom", prom},
		{"live.svg", svg},
		{"live.png", png},
	}
	for _, name := range slices.Sorted(maps.Keys(res.Files)) {
		files = append(files, file{name, res.Files[name]})
	}
	files = append(files, file{"summary.json", summary})
	names := make([]string, len(files))
	for i, f := range files {
		if err := WriteFileAtomic(filepath.Join(dir, f.name), f.data); err != nil {
			return nil, err
		}
		names[i] = f.name
	}
	return names, nil
}

// TimingName is the file the CLI writes a command's wall-clock figures
// to. It is the one output file outside the determinism promise.
const TimingName = "timing.json"

// TimingSchema names the version of timing.json's layout.
const TimingSchema = "sbmpsim.timing/v1"

// Timing is timing.json: how long a command took on the wall clock. No
// other output holds a wall-clock figure, so that two runs with the same
// inputs write identical files except this one.
type Timing struct {
	// Schema names the layout of this file: "sbmpsim.timing/v1".
	Schema string `json:"schema"`
	// Command is the sbmpsim command that wrote it ("run", "run --seeds",
	// "ab").
	Command string `json:"command"`
	// WallNs is the command's wall time, from the start of the first run
	// to the end of the last.
	WallNs int64 `json:"wall_ns"`
	// Workers is the number of goroutines that ran replications.
	Workers int `json:"workers"`
	// Runs is the number of simulation runs it made.
	Runs int `json:"runs"`
	// Version is the build that ran it.
	Version buildinfo.Version `json:"version"`
}

// WriteTiming writes t as dir/timing.json, filling in its schema and the
// build.
func WriteTiming(dir string, t Timing) error {
	t.Schema, t.Version = TimingSchema, buildinfo.Current()
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return fmt.Errorf("encode timing: %w", err)
	}
	return WriteFileAtomic(filepath.Join(dir, TimingName), append(b, '\n'))
}

// SummaryJSON encodes a summary as indented JSON with a final newline.
// Map keys come out sorted, so the bytes are deterministic.
func SummaryJSON(s *world.Summary) ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode summary: %w", err)
	}
	return append(b, '\n'), nil
}

// WriteFileAtomic writes data to path through a temporary file in the same
// directory, synced and then renamed over path.
func WriteFileAtomic(path string, data []byte) error {
	return WriteAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteAtomic is WriteFileAtomic for a file too large to hold in memory:
// write writes its content to w.
func WriteAtomic(path string, write func(w io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	err = write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
