package output

import (
	"github.com/sbmpsim/sbmpsim/experiments/world"

	"strings"
	"testing"
)

func TestMetricsOpenMetrics(t *testing.T) {
	s := &world.Summary{Scenario: "x", Seed: 3, Allocs: 10, Frees: 4, FallbackCount: 2, TierAllocs: world.TierCounts{Tier0: 7}}
	b, err := MetricsOpenMetrics(s)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{
		"# TYPE sbmpsim_allocs counter\n",
		`sbmpsim_allocs_total{scenario="x",seed="3"} 10.0` + "\n",
		`sbmp_fallback_count_total{scenario="x",seed="3"} 2.0` + "\n",
		`sbmpsim_tier_allocs_total{scenario="x",seed="3",tier="0"} 7.0` + "\n",
		"# TYPE sbmpsim_bytes_requested_peak gauge\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics.om lacks %q", want)
		}
	}
	if !strings.HasSuffix(text, "# EOF\n") {
		t.Error("metrics.om does not end with # EOF")
	}
	again, _ := MetricsOpenMetrics(s)
	if string(again) != text {
		t.Error("two renderings differ")
	}
}
