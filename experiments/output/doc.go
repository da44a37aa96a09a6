// Package output writes a run's files (summary.json, timeseries.csv,
// scenario.toml, the figures) and its metrics, for Prometheus and
// Grafana:
//
// metrics.om is the run's whole time series in the OpenMetrics text
// format, one sample per series per output interval, with timestamps.
// Simulated time t is put at epoch + t, to the millisecond. The epoch is
// DefaultMetricsEpoch, 2026-01-01T00:00:00Z, unless --metrics-epoch says
// otherwise (an RFC 3339 time, or "now"): with the default every run
// starts at the same instant, so runs line up, and the file is the same
// bytes every time. `promtool tsdb create-blocks-from openmetrics
// metrics.om DIR` turns it into Prometheus blocks. `ab --metrics` and
// `sweep --metrics` write one such file over all their runs.
//
// Names follow the OpenMetrics specification: a family's unit is the last
// word of its name and is declared by # UNIT, in base units (seconds,
// bytes; pages are converted to bytes); a counter's samples end in
// _total; every family has a # HELP; the file ends with # EOF. SPEC
// 4.1's two metrics keep their names as far as that allows:
// sbmp_fallback_count is the counter family sbmp_fallback_count, whose
// samples are sbmp_fallback_count_total, and sbmp_alloc_stall_ns becomes
// sbmp_alloc_stall_seconds_total. metricfamilies.go maps every time
// series column to its family.
//
// Labels: every series carries its run's labels first (scenario and seed;
// arm and arm_name for an A/B experiment; sweep and point for a sweep),
// then its own: node and kind (memory by NUMA node), cpu (Tier-0 free
// slots), tier, workload (a Go program's runtime figures) and le (the
// latency histogram's buckets). The time series has no per-cgroup
// columns, so no series has a cgroup label.
//
// metrics.prom is the end of the run in the Prometheus text format (which
// `promtool check metrics` lints): every family of metrics.om at its last
// sample, and a few totals of the summary, without timestamps.
package output
