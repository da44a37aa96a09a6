package output

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/internal/buildinfo"
)

// DefaultMetricsEpoch is the instant simulated time 0 is put at in
// metrics.om, so that every run's series start at the same place on the
// time axis and the file is the same bytes every time.
const DefaultMetricsEpoch = "2026-01-01T00:00:00Z"

// ParseMetricsEpoch reads a --metrics-epoch value: an RFC 3339 time, or
// "now", for which it calls now (the one place a wall clock enters
// metrics.om, and only when asked). The epoch is kept to the
// millisecond, Prometheus' resolution, and must not lie before 1970.
func ParseMetricsEpoch(s string, now func() time.Time) (time.Time, error) {
	var t time.Time
	if s == "now" {
		t = now()
	} else {
		var err error
		if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return t, fmt.Errorf("metrics epoch %q: want an RFC 3339 time such as %s, or now", s, DefaultMetricsEpoch)
		}
	}
	if t.Before(time.Unix(0, 0)) {
		return t, fmt.Errorf("metrics epoch %q: before 1970-01-01T00:00:00Z", s)
	}
	return time.UnixMilli(t.UnixMilli()).UTC(), nil
}

// Label is one label of a run's series in metrics.om, such as
// scenario="oom-crisis".
type Label struct{ Name, Value string }

// MetricsRun is one run's time series and the labels that tell it from
// the other runs of a file (scenario and seed; arm or point for A/B
// experiments and sweeps).
type MetricsRun struct {
	Labels     []Label
	Timeseries *world.Timeseries
}

// RunLabels are the labels of a single run: scenario and seed.
func RunLabels(s *world.Summary) []Label {
	return []Label{{"scenario", s.Scenario}, {"seed", strconv.FormatUint(s.Seed, 10)}}
}

// WriteOpenMetrics writes runs' time series to w in the OpenMetrics text
// format with timestamps (metrics.om): simulated time t is epoch + t, to
// the millisecond (a sample that falls in the same millisecond as the
// next one is left out). Each family is written once, holding the series
// of every run in the order given, each series' samples in time order,
// and the file ends with # EOF. The output depends only on the inputs.
func WriteOpenMetrics(w io.Writer, runs []MetricsRun, epoch time.Time) error {
	type runFams struct {
		labels string
		fams   []familyCols
		ts     *world.Timeseries
		rows   []int
	}
	rs := make([]runFams, len(runs))
	defs := map[string]familyDef{}
	for i, r := range runs {
		fams, err := families(r.Timeseries)
		if err != nil {
			return err
		}
		rs[i] = runFams{labels: renderRunLabels(r.Labels), fams: fams, ts: r.Timeseries, rows: keptRows(r.Timeseries)}
		for _, f := range fams {
			defs[f.def.name] = f.def
		}
	}
	bw := bufio.NewWriter(w)
	var buf []byte
	epochMs := epoch.UnixMilli()
	for _, name := range sortedKeys(defs) {
		writeDescriptors(bw, defs[name])
		for _, r := range rs {
			i := slices.IndexFunc(r.fams, func(f familyCols) bool { return f.def.name == name })
			if i < 0 {
				continue
			}
			for _, s := range r.fams[i].series {
				for _, row := range r.rows {
					vals := r.ts.Rows[row]
					stamp := formatStamp(epochMs + int64(vals[0])/1e6)
					buf = appendSeriesSamples(buf[:0], defs[name], r.labels, &s, vals, stamp)
					bw.Write(buf)
				}
			}
		}
	}
	// The build that wrote the file, as a series per run at the run's
	// first and last timestamps, so that it spans the run.
	writeDescriptors(bw, buildInfoDef)
	build := buildLabels()
	for _, r := range rs {
		if len(r.rows) == 0 {
			continue
		}
		for _, row := range []int{r.rows[0], r.rows[len(r.rows)-1]} {
			buf = append(buf[:0], buildInfoDef.name...)
			buf = appendLabels(buf, r.labels, nil, build)
			buf = append(buf, " 1 "...)
			buf = append(buf, formatStamp(epochMs+int64(r.ts.Rows[row][0])/1e6)...)
			buf = append(buf, '\n')
			bw.Write(buf)
			if len(r.rows) == 1 {
				break
			}
		}
	}
	bw.WriteString("# EOF\n")
	return bw.Flush()
}

// buildInfoDef is the family that says which build wrote a metrics file:
// value 1, the build in its labels (Prometheus' *_build_info convention).
var buildInfoDef = familyDef{"sbmpsim_build_info", "", "The sbmpsim build that wrote this file (sbmpsim version), in its labels; the value is always 1.", gauge}

// buildLabels renders the running build as labels: module, version,
// revision, modified and goversion.
func buildLabels() string {
	v := buildinfo.Current()
	return renderRunLabels([]Label{{"module", v.Module}, {"version", v.Version}, {"revision", v.Revision},
		{"modified", strconv.FormatBool(v.Modified)}, {"goversion", v.Go}})
}

// keptRows are the rows of ts whose millisecond differs from the next
// row's: Prometheus keeps milliseconds, and a series may hold one sample
// per timestamp.
func keptRows(ts *world.Timeseries) []int {
	var out []int
	for i, r := range ts.Rows {
		if i+1 < len(ts.Rows) && int64(ts.Rows[i+1][0])/1e6 == int64(r[0])/1e6 {
			continue
		}
		out = append(out, i)
	}
	return out
}

// writeDescriptors writes a family's HELP, TYPE and UNIT lines.
func writeDescriptors(w *bufio.Writer, d familyDef) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", d.name, escapeOM(d.help), d.name, d.typ)
	if d.unit != "" {
		fmt.Fprintf(w, "# UNIT %s %s\n", d.name, d.unit)
	}
}

// appendSeriesSamples appends one MetricPoint of series s at one
// timestamp: one sample for a gauge or a counter, the buckets (with
// +Inf), count and sum for a histogram.
func appendSeriesSamples(b []byte, d familyDef, runLabels string, s *seriesCols, vals []float64, stamp string) []byte {
	sample := func(suffix string, labels []label, extra string, v float64) {
		b = append(b, d.name...)
		b = append(b, suffix...)
		b = appendLabels(b, runLabels, labels, extra)
		b = append(b, ' ')
		b = appendNumber(b, v)
		b = append(b, ' ')
		b = append(b, stamp...)
		b = append(b, '\n')
	}
	switch d.typ {
	case gauge:
		sample("", s.labels, "", s.scale(vals[s.col]))
	case counter:
		sample("_total", s.labels, "", s.scale(vals[s.col]))
	case histogram:
		for _, bk := range s.buckets {
			sample("_bucket", s.labels, `le="`+strconv.FormatFloat(bk.le, 'g', -1, 64)+`"`, vals[bk.col])
		}
		sample("_bucket", s.labels, `le="+Inf"`, vals[s.count])
		sample("_count", s.labels, "", vals[s.count])
		sample("_sum", s.labels, "", s.sumScale(vals[s.sum]))
	}
	return b
}

// renderRunLabels renders a run's labels as name="value" pairs joined by
// commas, with the values escaped.
func renderRunLabels(ls []Label) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = l.Name + `="` + escapeLabel(l.Value) + `"`
	}
	return strings.Join(parts, ",")
}

// appendLabels appends {run labels, series labels, extra}, or nothing
// when all are empty.
func appendLabels(b []byte, run string, ls []label, extra string) []byte {
	if run == "" && len(ls) == 0 && extra == "" {
		return b
	}
	b = append(b, '{')
	sep := false
	add := func(s string) {
		if sep {
			b = append(b, ',')
		}
		b = append(b, s...)
		sep = true
	}
	if run != "" {
		add(run)
	}
	for _, l := range ls {
		add(l.name + `="` + escapeLabel(l.value) + `"`)
	}
	if extra != "" {
		add(extra)
	}
	return append(b, '}')
}

// formatStamp formats a Unix time in milliseconds as OpenMetrics
// seconds with three decimals.
func formatStamp(ms int64) string {
	return strconv.FormatInt(ms/1000, 10) + "." + fmt.Sprintf("%03d", ms%1000)
}

// escapeLabel escapes a label value (and escapeOM a HELP text) as the
// OpenMetrics text format asks: backslash, double quote and newline.
func escapeLabel(s string) string { return escapeOM(s) }

func escapeOM(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// sortedKeys returns m's keys in increasing order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
