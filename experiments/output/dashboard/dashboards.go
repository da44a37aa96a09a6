// Package dashboard builds sbmpsim's Grafana dashboards, in Go with the
// Grafana Foundation SDK's typed builders, over the metrics that
// metrics.om carries (experiments/output): one for a single run
// (sbmpsim-run) and one for an A/B experiment (sbmpsim-ab, from `ab
// --metrics`). `sbmpsim dashboard --out DIR` writes them as provisionable
// JSON with example provisioning files; the repository keeps a copy in
// dashboards/, which a test keeps current.
//
// Both open on the first ten minutes after output.DefaultMetricsEpoch in
// UTC, where simulated time 0 lies by default, and take the window of
// their rates from the rate_window variable: simulated runs are sampled
// every 100 ms to 1 s and last about a minute, far from what Grafana's
// $__rate_interval assumes. SPEC 4.4's SLO panels use its 5
// minute window as well (over a shorter run, that is the run so far).
package dashboard

// The SDK marks its classic dashboard model deprecated in favour of
// dashboardv2, Grafana 12's resource schema, which a file provider loads
// only with Grafana 12's new-layout feature flags. The classic JSON model
// is what every Grafana provisions, so the dashboards use it.
//
//lint:file-ignore SA1019 the classic dashboard JSON is the provisionable one (see above)

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// The time range a dashboard opens on: output.DefaultMetricsEpoch and the
// ten minutes after it.
const (
	timeFrom = "2026-01-01T00:00:00.000Z"
	timeTo   = "2026-01-01T00:10:00.000Z"
)

// runSel selects one run's series: no arm or point label, so an A/B
// experiment or a sweep in the same Prometheus is left out.
const runSel = `scenario="$scenario",seed="$seed",arm="",point=""`

// abSel selects the chosen arms' and seeds' series of an A/B experiment.
const abSel = `scenario="$scenario",arm=~"$arm",seed=~"$seed"`

// newDashboard is a dashboard with the settings both share.
func newDashboard(uid, title, description string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).Uid(uid).Description(description).Tags([]string{"sbmpsim"}).
		Time(timeFrom, timeTo).Timezone("utc").Tooltip(dashboard.DashboardCursorSyncCrosshair).Editable()
}

// Run is the dashboard of one run (`sbmpsim run --out DIR`'s metrics.om).
func Run() (dashboard.Dashboard, error) {
	b := newDashboard("sbmpsim-run", "sbmpsim: one run",
		"One sbmpsim run from its metrics.om: memory by kind per NUMA node, SBMP's tiers, Tier-0 per CPU, degrade episodes and SPEC 4.4's SLOs; OOM kills are annotations.")
	for _, v := range []cog.Builder[dashboard.VariableModel]{
		datasourceVar(),
		queryVar("scenario", "Scenario", `label_values(sbmpsim_allocs_total{arm="",point=""}, scenario)`, false),
		queryVar("seed", "Seed", `label_values(sbmpsim_allocs_total{scenario="$scenario",arm="",point=""}, seed)`, false),
		queryVar("node", "NUMA node", `label_values(sbmpsim_node_memory_bytes{scenario="$scenario",seed="$seed"}, node)`, true),
		rateWindowVar(),
	} {
		b = b.WithVariable(v)
	}
	b = b.Annotation(oomAnnotation(runSel, "OOM kill"))
	id := uint32(0)
	next := func() uint32 { id++; return id }
	b = b.WithRow(dashboard.NewRowBuilder("Memory").Id(next())).
		WithPanel(lines(next(), panelSpec{title: "Memory by kind, node $node", unit: "bytes", stack: true, repeat: "node",
			description: "free: the buddy allocator's; file: page cache; anon: evictable anonymous memory; kernel: the rest of the node's managed pages (kernel memory, SBMP's kernel-placed blocks, mlocked pages).",
			targets:     []target{{`sbmpsim_node_memory_bytes{` + runSel + `,node=~"$node"}`, "{{kind}}"}}})).
		WithPanel(lines(next(), panelSpec{title: "Memory pressure (PSI)", unit: "percentunit",
			description: "Share of time some task (some) or every task (full) was stalled on memory, as /proc/pressure/memory.",
			targets: []target{
				{`rate(sbmpsim_pressure_memory_waiting_seconds_total{` + runSel + `}[$rate_window])`, "some"},
				{`rate(sbmpsim_pressure_memory_stalled_seconds_total{` + runSel + `}[$rate_window])`, "full"},
			}}))
	b = b.WithRow(dashboard.NewRowBuilder("SBMP").Id(next())).
		WithPanel(lines(next(), panelSpec{title: "Allocations per second by tier", unit: "ops",
			description: "Tier 0: the CPU's cache; tier 1: after a refill from Tier-1; tier 2: the page allocator. failed: allocations that failed for good.",
			targets: []target{
				{`sum by (tier) (rate(sbmp_tier_allocs_total{` + runSel + `}[$rate_window]))`, "tier {{tier}}"},
				{`sum(rate(sbmpsim_alloc_failures_total{` + runSel + `}[$rate_window]))`, "failed"},
			}})).
		WithPanel(heat(next(), "Tier-0 free slots per CPU",
			"Free slots of the smallest class in each CPU's Tier-0 cache (cpuN_tier0_free). Every CPU with output.per_cpu=true; CPU 0 only otherwise.",
			`sbmp_tier0_free_slots{`+runSel+`}`, "")).
		WithPanel(lines(next(), panelSpec{title: "Degrade episodes", unit: "short",
			description: "SBMP processes whose allocator is degraded, and how often an allocator entered degrade.",
			targets: []target{
				{`sum(sbmp_degraded_processes{` + runSel + `})`, "processes in degrade"},
				{`sum(increase(sbmp_degrade_entries_total{` + runSel + `}[$rate_window]))`, "entries per $rate_window"},
			}})).
		WithPanel(lines(next(), panelSpec{title: "Slow path (SPEC 4.1)", unit: "ops",
			description: "sbmp_fallback_count per second: allocations that left the fast path.",
			targets:     []target{{`sum(rate(sbmp_fallback_count_total{` + runSel + `}[$rate_window]))`, "sbmp_fallback_count /s"}}}))
	b = b.WithRow(dashboard.NewRowBuilder("SLO (SPEC 4.4)").Id(next())).
		WithPanel(lines(next(), panelSpec{title: "Error rate (SLO: 5 min error rate <= 0.5 %)", unit: "percentunit", slo: sloErrorRate,
			description: "Failed allocations over all allocations asked for (failed + successful), over 5 minutes as SPEC 4.4 says, and over $rate_window.",
			targets:     []target{{errorRate(runSel, "", "5m"), "5 min"}, {errorRate(runSel, "", "$rate_window"), "$rate_window"}}})).
		WithPanel(lines(next(), panelSpec{title: "p95 allocation latency (SLO <= 1.2 s)", unit: "s", slo: sloP95Seconds,
			description: "From the latency histogram of successful allocations (waits included), over 5 minutes and over $rate_window.",
			targets:     []target{{p95(runSel, "", "5m"), "5 min"}, {p95(runSel, "", "$rate_window"), "$rate_window"}}})).
		WithPanel(lines(next(), panelSpec{title: "OOM kills", unit: "short",
			targets: []target{{`sum(sbmpsim_oom_kills_total{` + runSel + `})`, "OOM kills so far"}}}))
	return b.Build()
}

// AB is the dashboard of an A/B experiment (`sbmpsim ab --metrics`'s
// metrics.om): each panel by arm, over the chosen seeds.
func AB() (dashboard.Dashboard, error) {
	b := newDashboard("sbmpsim-ab", "sbmpsim: A/B experiment",
		"An sbmpsim A/B experiment from `ab --metrics`'s metrics.om: the two arms side by side, each a mean (or sum, as titled) over the chosen seeds.")
	for _, v := range []cog.Builder[dashboard.VariableModel]{
		datasourceVar(),
		queryVar("scenario", "Scenario", `label_values(sbmpsim_allocs_total{arm!=""}, scenario)`, false),
		queryVar("arm", "Arm", `label_values(sbmpsim_allocs_total{scenario="$scenario",arm!=""}, arm)`, true),
		queryVar("seed", "Seeds", `label_values(sbmpsim_allocs_total{scenario="$scenario",arm!=""}, seed)`, true),
		queryVar("node", "NUMA node", `label_values(sbmpsim_node_memory_bytes{scenario="$scenario",arm!=""}, node)`, true),
		rateWindowVar(),
	} {
		b = b.WithVariable(v)
	}
	b = b.Annotation(oomAnnotation(abSel, "OOM kill: arm {{arm}}, seed {{seed}}"))
	id := uint32(0)
	next := func() uint32 { id++; return id }
	b = b.WithRow(dashboard.NewRowBuilder("Memory").Id(next())).
		WithPanel(lines(next(), panelSpec{title: "Memory by kind, node $node (mean over seeds)", unit: "bytes", repeat: "node",
			targets: []target{{`avg by (arm, kind) (sbmpsim_node_memory_bytes{` + abSel + `,node=~"$node"})`, "{{arm}} {{kind}}"}}})).
		WithPanel(lines(next(), panelSpec{title: "Memory pressure, PSI some (mean over seeds)", unit: "percentunit",
			targets: []target{{`avg by (arm) (rate(sbmpsim_pressure_memory_waiting_seconds_total{` + abSel + `}[$rate_window]))`, "{{arm}}"}}}))
	b = b.WithRow(dashboard.NewRowBuilder("SBMP").Id(next())).
		WithPanel(lines(next(), panelSpec{title: "Allocations per second by tier (mean over seeds)", unit: "ops",
			targets: []target{{`avg by (arm, tier) (rate(sbmp_tier_allocs_total{` + abSel + `}[$rate_window]))`, "{{arm}} tier {{tier}}"}}})).
		WithPanel(heat(next(), "Tier-0 free slots per CPU, arm $arm (mean over seeds)",
			"Free slots of the smallest class in each CPU's Tier-0 cache (cpuN_tier0_free), one panel per arm.",
			`avg by (cpu) (sbmp_tier0_free_slots{`+abSel+`})`, "arm")).
		WithPanel(lines(next(), panelSpec{title: "Degrade episodes (sum over seeds)", unit: "short",
			targets: []target{
				{`sum by (arm) (sbmp_degraded_processes{` + abSel + `})`, "{{arm}} processes in degrade"},
				{`sum by (arm) (increase(sbmp_degrade_entries_total{` + abSel + `}[$rate_window]))`, "{{arm}} entries per $rate_window"},
			}})).
		WithPanel(lines(next(), panelSpec{title: "sbmp_fallback_count per second (mean over seeds)", unit: "ops",
			targets: []target{{`avg by (arm) (rate(sbmp_fallback_count_total{` + abSel + `}[$rate_window]))`, "{{arm}}"}}}))
	b = b.WithRow(dashboard.NewRowBuilder("SLO (SPEC 4.4) and OOM").Id(next())).
		WithPanel(lines(next(), panelSpec{title: "Error rate (SLO: 5 min error rate <= 0.5 %)", unit: "percentunit", slo: sloErrorRate,
			description: "Failed allocations over all allocations asked for, over the chosen seeds together.",
			targets:     []target{{errorRate(abSel, "arm", "5m"), "{{arm}} 5 min"}, {errorRate(abSel, "arm", "$rate_window"), "{{arm}} $rate_window"}}})).
		WithPanel(lines(next(), panelSpec{title: "p95 allocation latency (SLO <= 1.2 s)", unit: "s", slo: sloP95Seconds,
			targets: []target{{p95(abSel, "arm", "5m"), "{{arm}} 5 min"}, {p95(abSel, "arm", "$rate_window"), "{{arm}} $rate_window"}}})).
		WithPanel(lines(next(), panelSpec{title: "Runs with an OOM kill so far (share of seeds)", unit: "percentunit",
			targets: []target{{`avg by (arm) (clamp_max(sbmpsim_oom_kills_total{` + abSel + `}, 1))`, "{{arm}}"}}}))
	return b.Build()
}

// errorRate is SPEC 4.4's error rate over window: failed allocations over
// all asked for, by the labels in by.
func errorRate(sel, by, window string) string {
	sum := "sum"
	if by != "" {
		sum = "sum by (" + by + ")"
	}
	failed := sum + " (increase(sbmpsim_alloc_failures_total{" + sel + "}[" + window + "]))"
	ok := sum + " (increase(sbmpsim_allocs_total{" + sel + "}[" + window + "]))"
	return failed + " / (" + ok + " + " + failed + ")"
}

// p95 is the 95th percentile of the allocation latency over window, by
// the labels in by.
func p95(sel, by, window string) string {
	labels := "le"
	if by != "" {
		labels = by + ", le"
	}
	return "histogram_quantile(0.95, sum by (" + labels + ") (rate(sbmpsim_alloc_latency_seconds_bucket{" + sel + "}[" + window + "])))"
}

// datasourceVar picks the Prometheus that holds the backfilled blocks.
func datasourceVar() *dashboard.DatasourceVariableBuilder {
	return dashboard.NewDatasourceVariableBuilder("datasource").Label("Prometheus").Type("prometheus")
}

// queryVar is a variable whose values are a label's, from Prometheus;
// multi allows several values and All.
func queryVar(name, label, query string, multi bool) *dashboard.QueryVariableBuilder {
	b := dashboard.NewQueryVariableBuilder(name).Label(label).Datasource(datasource()).
		Query(dashboard.StringOrMap{String: ptr(query)}).Definition(query).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).Sort(dashboard.VariableSortNaturalAsc)
	if multi {
		b = b.Multi(true).IncludeAll(true)
	}
	return b
}

// rateWindowVar is the window of the rates: a few samples of a run.
func rateWindowVar() *dashboard.IntervalVariableBuilder {
	return dashboard.NewIntervalVariableBuilder("rate_window").Label("Rate window").
		Values(dashboard.StringOrMap{String: ptr("1s,5s,30s,1m,5m")}).
		Current(dashboard.VariableOption{Selected: ptr(true), Text: stringOrArray("5s"), Value: stringOrArray("5s")})
}

func stringOrArray(s string) dashboard.StringOrArrayOfString {
	return dashboard.StringOrArrayOfString{String: &s}
}
