package ab

import (
	"fmt"
	"math"
	"strings"
)

// Verdicts are one-line readings of a paired interval, computed from it
// mechanically: the interval excludes 0 or it does not. They say nothing
// the numbers beside them do not.

// oomVerdict reads the Newcombe interval of P(OOM | B) - P(OOM | A).
func oomVerdict(exp Experiment, p PairedOOM) string {
	pts := func(x float64) string { return fmt.Sprintf("%.1f", 100*x) }
	lo, hi := p.CI95Newcombe[0], p.CI95Newcombe[1]
	b := armLabel(exp.B)
	switch {
	case hi < 0:
		return fmt.Sprintf("%s lowers OOM probability vs %s by %s points [%s, %s] (95%% Newcombe)",
			b, armLabel(exp.A), pts(-p.Difference), pts(-hi), pts(-lo))
	case lo > 0:
		return fmt.Sprintf("%s raises OOM probability vs %s by %s points [%s, %s] (95%% Newcombe)",
			b, armLabel(exp.A), pts(p.Difference), pts(lo), pts(hi))
	default:
		return fmt.Sprintf("no significant difference in OOM probability (b - a = %s points [%s, %s], 95%% Newcombe)",
			pts(p.Difference), pts(lo), pts(hi))
	}
}

// metricVerdict reads the bootstrap interval of the mean paired
// difference of one metric.
func metricVerdict(exp Experiment, def metricDef, p PairedMetric) string {
	lo, hi := p.CI95Bootstrap[0], p.CI95Bootstrap[1]
	f := func(x float64) string { return formatValue(def.unit, x) }
	b := armLabel(exp.B)
	switch {
	case hi < 0:
		return fmt.Sprintf("%s lowers %s vs %s by %s%s [%s, %s] (95%% bootstrap, mean of paired differences)",
			b, def.name, armLabel(exp.A), f(-p.MeanDifference), relative(p), f(-hi), f(-lo))
	case lo > 0:
		return fmt.Sprintf("%s raises %s vs %s by %s%s [%s, %s] (95%% bootstrap, mean of paired differences)",
			b, def.name, armLabel(exp.A), f(p.MeanDifference), relative(p), f(lo), f(hi))
	default:
		return fmt.Sprintf("no significant difference in %s (b - a = %s [%s, %s], 95%% bootstrap)",
			def.name, f(p.MeanDifference), f(lo), f(hi))
	}
}

// tradeOff reads the OOM interval and every metric's together. Each
// metric is one where less is better (failures, fallbacks, stall,
// latency, footprint, memory stall), so a metric whose interval lies
// above zero is a cost of B and one below zero a gain; a metric whose
// interval holds zero is left out. Like the other verdicts it says only
// what the intervals beside it say.
func tradeOff(exp Experiment, p *Paired) string {
	var costs, gains []string
	for m, pm := range p.Metrics.all() {
		def := metricDefs[m]
		d := formatValue(def.unit, pm.MeanDifference)
		if !strings.HasPrefix(d, "-") {
			d = "+" + d
		}
		switch lo, hi := pm.CI95Bootstrap[0], pm.CI95Bootstrap[1]; {
		case lo > 0:
			costs = append(costs, def.name+" "+d)
		case hi < 0:
			gains = append(gains, def.name+" "+d)
		}
	}
	b, a := armLabel(exp.B), armLabel(exp.A)
	pts := 100 * p.OOM.Difference
	var s string
	switch lo, hi := p.OOM.CI95Newcombe[0], p.OOM.CI95Newcombe[1]; {
	case hi < 0:
		s = fmt.Sprintf("%s avoids OOM kills that %s has (%+.1f points)", b, a, pts)
	case lo > 0:
		s = fmt.Sprintf("%s has OOM kills that %s avoids (%+.1f points)", b, a, pts)
	default:
		s = fmt.Sprintf("%s and %s do not differ measurably in OOM kills (%+.1f points)", b, a, pts)
	}
	switch {
	case len(costs) == 0 && len(gains) == 0:
		return "Trade-off: " + s + "; no other outcome differs measurably."
	case len(costs) == 0:
		s += "; at no measurable cost"
	default:
		s += "; at a cost of " + strings.Join(costs, ", ")
	}
	if len(gains) > 0 {
		s += "; gaining " + strings.Join(gains, ", ")
	}
	return "Trade-off: " + s + " (means per run, B - A, where the 95% interval excludes 0)."
}

// relative formats the relative difference, if there is one.
func relative(p PairedMetric) string {
	if p.RelativeDifference == nil {
		return ""
	}
	return fmt.Sprintf(" (%.1f%%)", 100*math.Abs(*p.RelativeDifference))
}

// armLabel names an arm in prose: "B" or `B "wait-refill"`.
func armLabel(a Arm) string {
	k := strings.ToUpper(a.Key)
	if a.Name == "" || a.Name == a.Key {
		return k
	}
	return fmt.Sprintf("%s %q", k, a.Name)
}

// formatValue prints x in the metric's unit with four significant digits.
func formatValue(u unit, x float64) string {
	switch u {
	case unitNs:
		return formatNs(x)
	case unitBytes:
		return formatBytes(x)
	case unitCount:
		return fmt.Sprintf("%.6g", x)
	default:
		return fmt.Sprintf("%.4g", x)
	}
}

// formatNs prints a duration given in nanoseconds in a readable unit.
func formatNs(ns float64) string {
	a := math.Abs(ns)
	switch {
	case a >= 1e9:
		return fmt.Sprintf("%.4g s", ns/1e9)
	case a >= 1e6:
		return fmt.Sprintf("%.4g ms", ns/1e6)
	case a >= 1e3:
		return fmt.Sprintf("%.4g µs", ns/1e3)
	default:
		return fmt.Sprintf("%.4g ns", ns)
	}
}

// formatBytes prints a byte count in binary units.
func formatBytes(b float64) string {
	a := math.Abs(b)
	switch {
	case a >= 1<<30:
		return fmt.Sprintf("%.4g GiB", b/(1<<30))
	case a >= 1<<20:
		return fmt.Sprintf("%.4g MiB", b/(1<<20))
	case a >= 1<<10:
		return fmt.Sprintf("%.4g KiB", b/(1<<10))
	default:
		return fmt.Sprintf("%.4g B", b)
	}
}
