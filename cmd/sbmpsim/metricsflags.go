package main

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/sbmpsim/sbmpsim/experiments/output"
)

// addMetricsEpochFlag adds --metrics-epoch to a command that writes
// metrics.om.
func addMetricsEpochFlag(fl *pflag.FlagSet, epoch *string) {
	fl.StringVar(epoch, "metrics-epoch", output.DefaultMetricsEpoch,
		`where simulated time 0 lies in metrics.om: an RFC 3339 time, or "now" (the wall clock, so the output differs run to run)`)
}

// parseMetricsEpoch reads --metrics-epoch; a bad value is a usage error.
// Only "now" reads the wall clock.
func parseMetricsEpoch(s string) (time.Time, error) {
	t, err := output.ParseMetricsEpoch(s, time.Now)
	if err != nil {
		return t, usageError{fmt.Errorf("--metrics-epoch: %w", err)}
	}
	return t, nil
}
