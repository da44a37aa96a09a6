package output

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/sbmpsim/sbmpsim/experiments/world"
	"github.com/sbmpsim/sbmpsim/internal/buildinfo"
)

// summaryFamilies are the end-of-run values metrics.prom has beyond the
// time series' last sample.
var summaryFamilies = []struct {
	def   familyDef
	value func(*world.Summary) float64
}{
	{familyDef{"sbmpsim_simulated_events", "", "Events the engine executed.", counter}, func(s *world.Summary) float64 { return float64(s.Events) }},
	{familyDef{"sbmpsim_simulated_time_seconds", "seconds", "Simulated time the run covered.", gauge}, func(s *world.Summary) float64 { return float64(s.SimTimeNs) / 1e9 }},
	{familyDef{"sbmpsim_requested_peak_bytes", "bytes", "The most bytes the workloads' live objects requested at once.", gauge}, func(s *world.Summary) float64 { return float64(s.BytesRequestedPeak) }},
	{familyDef{"sbmpsim_objects_live_peak", "", "The most objects the workloads held at once.", gauge}, func(s *world.Summary) float64 { return float64(s.ObjectsLivePeak) }},
	{familyDef{"sbmpsim_objects_live_time_average", "", "Time-averaged number of live objects.", gauge}, func(s *world.Summary) float64 { return s.ObjectsLiveTimeAvg }},
	{familyDef{"sbmpsim_footprint_peak_bytes", "bytes", "The most memory the SBMP processes held from the kernel at once.", gauge}, func(s *world.Summary) float64 { return float64(s.FootprintPeakBytes) }},
}

// MetricsText renders a run's end-of-run values as metrics.prom, in the
// Prometheus text format (which `promtool check metrics` reads): every
// family of metrics.om at the time series' last sample, and a few
// totals of the summary, labelled with the scenario and the seed, with
// no timestamps.
func MetricsText(s *world.Summary, ts *world.Timeseries) ([]byte, error) {
	run := RunLabels(s)
	var fams []*dto.MetricFamily
	if len(ts.Rows) > 0 {
		fcs, err := families(ts)
		if err != nil {
			return nil, err
		}
		last := ts.Rows[len(ts.Rows)-1]
		for _, fc := range fcs {
			f := dtoFamily(fc.def)
			for i := range fc.series {
				f.Metric = append(f.Metric, dtoMetric(fc.def.typ, run, &fc.series[i], last))
			}
			fams = append(fams, f)
		}
	}
	for _, sf := range summaryFamilies {
		f := dtoFamily(sf.def)
		f.Metric = append(f.Metric, dtoValue(sf.def.typ, dtoLabels(run, nil), sf.value(s)))
		fams = append(fams, f)
	}
	build := dtoFamily(buildInfoDef)
	v := buildinfo.Current()
	build.Metric = append(build.Metric, dtoValue(gauge, dtoLabels(append(slices.Clone(run), Label{"module", v.Module}, Label{"version", v.Version},
		Label{"revision", v.Revision}, Label{"modified", strconv.FormatBool(v.Modified)}, Label{"goversion", v.Go}), nil), 1))
	fams = append(fams, build)
	slices.SortFunc(fams, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range fams {
		if err := enc.Encode(f); err != nil {
			return nil, fmt.Errorf("encode metric %s: %w", f.GetName(), err)
		}
	}
	return b.Bytes(), nil
}

// dtoFamily is an empty family of d, named as the text format names it
// (a counter with its _total).
func dtoFamily(d familyDef) *dto.MetricFamily {
	name := d.name
	t := dto.MetricType_GAUGE
	switch d.typ {
	case counter:
		name, t = name+"_total", dto.MetricType_COUNTER
	case histogram:
		t = dto.MetricType_HISTOGRAM
	}
	return &dto.MetricFamily{Name: ptr(name), Help: ptr(d.help), Type: &t}
}

// dtoMetric is series s of a family of type t at row vals.
func dtoMetric(t metricType, run []Label, s *seriesCols, vals []float64) *dto.Metric {
	labels := dtoLabels(run, s.labels)
	if t != histogram {
		return dtoValue(t, labels, s.scale(vals[s.col]))
	}
	h := &dto.Histogram{SampleCount: ptr(uint64(vals[s.count])), SampleSum: ptr(s.sumScale(vals[s.sum]))}
	for _, bk := range s.buckets {
		h.Bucket = append(h.Bucket, &dto.Bucket{UpperBound: ptr(bk.le), CumulativeCount: ptr(uint64(vals[bk.col]))})
	}
	return &dto.Metric{Label: labels, Histogram: h}
}

// dtoValue is a gauge's or a counter's metric with value v.
func dtoValue(t metricType, labels []*dto.LabelPair, v float64) *dto.Metric {
	if t == counter {
		return &dto.Metric{Label: labels, Counter: &dto.Counter{Value: &v}}
	}
	return &dto.Metric{Label: labels, Gauge: &dto.Gauge{Value: &v}}
}

// dtoLabels are the run's labels followed by a series' own.
func dtoLabels(run []Label, own []label) []*dto.LabelPair {
	var out []*dto.LabelPair
	for _, l := range run {
		out = append(out, &dto.LabelPair{Name: ptr(l.Name), Value: ptr(l.Value)})
	}
	for _, l := range own {
		out = append(out, &dto.LabelPair{Name: ptr(l.name), Value: ptr(l.value)})
	}
	return out
}

func ptr[T any](v T) *T { return &v }
