package output

import (
	"github.com/sbmpsim/sbmpsim/experiments/world"

	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// MetricsOpenMetrics renders a run's end-of-run counters in the OpenMetrics
// text format (metrics.om), labelled with the scenario and seed, so that
// runs can be pushed to or compared in Prometheus. sbmp_fallback_count and
// sbmp_alloc_stall_ns are the metrics SPEC 4.1 names; as counters they
// carry OpenMetrics' _total suffix.
func MetricsOpenMetrics(s *world.Summary) ([]byte, error) {
	labels := []*dto.LabelPair{
		{Name: ptr("scenario"), Value: ptr(s.Scenario)},
		{Name: ptr("seed"), Value: ptr(strconv.FormatUint(s.Seed, 10))},
	}
	counter := func(name, help string, v float64) *dto.MetricFamily {
		return family(name+"_total", help, dto.MetricType_COUNTER, &dto.Metric{Label: labels, Counter: &dto.Counter{Value: &v}})
	}
	gauge := func(name, help string, v float64) *dto.MetricFamily {
		return family(name, help, dto.MetricType_GAUGE, &dto.Metric{Label: labels, Gauge: &dto.Gauge{Value: &v}})
	}
	tiers := family("sbmpsim_tier_allocs_total", "Allocations served by each SBMP tier.", dto.MetricType_COUNTER)
	for i, v := range []uint64{s.TierAllocs.Tier0, s.TierAllocs.Tier1, s.TierAllocs.Tier2} {
		f := float64(v)
		l := append(slices.Clone(labels), &dto.LabelPair{Name: ptr("tier"), Value: ptr(strconv.Itoa(i))})
		tiers.Metric = append(tiers.Metric, &dto.Metric{Label: l, Counter: &dto.Counter{Value: &f}})
	}
	fams := []*dto.MetricFamily{
		counter("sbmpsim_events", "Events the engine executed.", float64(s.Events)),
		gauge("sbmpsim_sim_time_seconds", "Simulated time covered by the run.", float64(s.SimTimeNs)/1e9),
		counter("sbmpsim_allocs", "Allocations requested by the workloads.", float64(s.Allocs)),
		counter("sbmpsim_frees", "Frees issued by the workloads.", float64(s.Frees)),
		counter("sbmpsim_alloc_failures", "Allocations that failed.", float64(s.AllocFailures)),
		gauge("sbmpsim_bytes_requested_live", "Requested bytes live at the end of the run.", float64(s.BytesRequestedLiveEnd)),
		gauge("sbmpsim_bytes_requested_peak", "Peak requested bytes live.", float64(s.BytesRequestedPeak)),
		gauge("sbmpsim_objects_live_time_avg", "Time-averaged number of live objects.", s.ObjectsLiveTimeAvg),
		tiers,
		counter("sbmp_fallback_count", "Times the fast path fell back to the slow path (SPEC 4.1).", float64(s.FallbackCount)),
		counter("sbmp_alloc_stall_ns", "Nanoseconds stalled in the allocation slow path (SPEC 4.1).", float64(s.AllocStallNs)),
		counter("sbmpsim_oom_kills", "OOM kills.", float64(s.OOMKills)),
	}
	slices.SortFunc(fams, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeOpenMetrics))
	for _, f := range fams {
		if err := enc.Encode(f); err != nil {
			return nil, fmt.Errorf("encode metric %s: %w", f.GetName(), err)
		}
	}
	if c, ok := enc.(expfmt.Closer); ok {
		if err := c.Close(); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

func family(name, help string, t dto.MetricType, ms ...*dto.Metric) *dto.MetricFamily {
	return &dto.MetricFamily{Name: ptr(name), Help: ptr(help), Type: &t, Metric: ms}
}

func ptr[T any](v T) *T { return &v }
