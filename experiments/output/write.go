package output

import (
	"github.com/sbmpsim/sbmpsim/experiments/world"

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
// gctrace-NAME.txt) and, last, summary.json. Each file is written to a
// temporary name and renamed into place, so a reader never sees a
// half-written file, and a directory with a summary.json holds a
// complete run.
func WriteRun(dir string, res *world.Result, opts WriteOptions) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	summary, err := SummaryJSON(&res.Summary)
	if err != nil {
		return err
	}
	svg, png, err := figureLive(res.Summary.Scenario, res.Summary.Seed, &res.Timeseries)
	if err != nil {
		return err
	}
	var om bytes.Buffer
	if err := WriteOpenMetrics(&om, []MetricsRun{{RunLabels(&res.Summary), &res.Timeseries}}, opts.Epoch()); err != nil {
		return err
	}
	prom, err := MetricsText(&res.Summary, &res.Timeseries)
	if err != nil {
		return err
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
	for _, f := range files {
		if err := WriteFileAtomic(filepath.Join(dir, f.name), f.data); err != nil {
			return err
		}
	}
	return nil
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
