package dashboard

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// SPEC 4.4's service level objectives.
const (
	sloErrorRate  = 0.005 // 5 min error rate <= 0.5 %
	sloP95Seconds = 1.2   // p95 latency <= 1.2 s
)

// datasource is the dashboards' Prometheus: the one the datasource
// variable names.
func datasource() common.DataSourceRef {
	return common.DataSourceRef{Type: ptr("prometheus"), Uid: ptr("${datasource}")}
}

// target is one PromQL query of a panel, drawn with legend.
type target struct{ expr, legend string }

// targets builds a panel's queries, with reference ids A, B, ...
func targets(ts []target) []cog.Builder[variants.Dataquery] {
	out := make([]cog.Builder[variants.Dataquery], len(ts))
	for i, t := range ts {
		out[i] = prometheus.NewDataqueryBuilder().Expr(t.expr).LegendFormat(t.legend).Range().
			RefId(string(rune('A' + i))).Datasource(datasource())
	}
	return out
}

// panelSpec is what a time series panel shows.
type panelSpec struct {
	title, description, unit string
	targets                  []target
	// stack stacks the series (memory by kind); bars draws bars
	// (counts per window); slo, if not zero, draws the objective as a
	// red dashed line.
	stack, bars bool
	slo         float64
	// repeat repeats the panel for each value of a variable.
	repeat string
	width  uint32
}

// lines builds a time series panel.
func lines(id uint32, p panelSpec) *timeseries.PanelBuilder {
	b := timeseries.NewPanelBuilder().Id(id).Title(p.title).Description(p.description).Unit(p.unit).
		Datasource(datasource()).Targets(targets(p.targets)).Height(8).Span(max(p.width, 12)).
		LineWidth(1).FillOpacity(10).ShowPoints(common.VisibilityModeNever).
		Legend(common.NewVizLegendOptionsBuilder().ShowLegend(true).DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom)).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderNone))
	if p.stack {
		b = b.Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).FillOpacity(60)
	}
	if p.bars {
		b = b.DrawStyle(common.GraphDrawStyleBars).FillOpacity(80)
	}
	if p.slo != 0 {
		b = b.Thresholds(dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps([]dashboard.Threshold{
			{Value: nil, Color: "green"}, {Value: ptr(p.slo), Color: "red"},
		})).ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed))
	}
	if p.repeat != "" {
		b = b.Repeat(p.repeat).RepeatDirection(dashboard.PanelRepeatDirectionH).MaxPerRow(2)
	}
	return b
}

// heat builds a heatmap whose rows are the series of expr, one per CPU
// (the legend, a number, names the row).
func heat(id uint32, title, description, expr, repeat string) *heatmap.PanelBuilder {
	b := heatmap.NewPanelBuilder().Id(id).Title(title).Description(description).Datasource(datasource()).
		Targets(targets([]target{{expr, "{{cpu}}"}})).Height(8).Span(12).
		Calculate(false).
		RowsFrame(heatmap.NewRowsHeatmapOptionsBuilder().Layout(common.HeatmapCellLayoutUnknown).Value("free slots")).
		YAxis(heatmap.NewYAxisConfigBuilder().AxisLabel("CPU")).
		Color(heatmap.NewHeatmapColorOptionsBuilder().Mode(heatmap.HeatmapColorModeScheme).Scheme("Turbo").
			Scale(heatmap.HeatmapColorScaleLinear).Steps(64)).
		Tooltip(heatmap.NewHeatmapTooltipBuilder().Mode(common.TooltipDisplayModeSingle).YHistogram(false))
	if repeat != "" {
		b = b.Repeat(repeat).RepeatDirection(dashboard.PanelRepeatDirectionH).MaxPerRow(2)
	}
	return b
}

// oomAnnotation marks each OOM kill of the series sel selects: the
// window in which sbmpsim_oom_kills_total rose.
func oomAnnotation(sel, title string) *dashboard.AnnotationQueryBuilder {
	expr := fmt.Sprintf("changes(sbmpsim_oom_kills_total{%s}[$rate_window]) > 0", sel)
	return dashboard.NewAnnotationQueryBuilder().Name("OOM kills").Datasource(datasource()).Enable(true).
		IconColor("red").Expr(expr).TitleFormat(title).TextFormat("sbmpsim_oom_kills_total rose within $rate_window").
		Step("$rate_window").
		Target(prometheus.NewDataqueryBuilder().Expr(expr).Range().RefId("Anno").Datasource(datasource()))
}

func ptr[T any](v T) *T { return &v }
