package real

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sbmpsim/sbmpsim/experiments/output"
)

// Write writes a real run's files into dir, creating it if needed:
// scenario.toml (the resolved scenario), real.csv (the time series) and,
// last, real.json, each through a temporary file renamed into place, so
// that a directory with a real.json holds a complete run.
func Write(dir string, res *Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	js, err := SummaryJSON(&res.Summary)
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
	}{
		{"scenario.toml", res.Scenario},
		{"real.csv", output.TimeseriesCSV(&res.Timeseries)},
		{"real.json", js},
	}
	for _, f := range files {
		if err := output.WriteFileAtomic(filepath.Join(dir, f.name), f.data); err != nil {
			return err
		}
	}
	return nil
}

// SummaryJSON encodes a summary as indented JSON with a final newline.
func SummaryJSON(s *Summary) ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode real.json: %w", err)
	}
	return append(b, '\n'), nil
}
