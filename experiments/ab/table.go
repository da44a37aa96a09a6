package ab

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteTable prints the report as a compact table for a terminal: the
// arms, one row per outcome with each arm's value and the paired
// difference B - A with its 95 % interval and p-values, then the
// verdicts.
func (r *Report) WriteTable(w io.Writer) error {
	a, b := &r.Arms.A, &r.Arms.B
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s (%s): %d seeds from %d, paired", r.Scenario, r.Source, r.Seeds, r.SeedFirst)
	if len(r.Common) > 0 {
		fmt.Fprintf(&sb, "; both arms: %s", strings.Join(r.Common, " "))
	}
	fmt.Fprintf(&sb, "\n  A %q: %s\n  B %q: %s\n\n", a.Name, overridesText(a.Overrides), b.Name, overridesText(b.Overrides))
	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\tA\tB\tB - A [95% CI]\tp")
	po := &r.Paired.OOM
	fmt.Fprintf(tw, "OOM runs\t%s\t%s\t%+.1f pts [%.1f, %.1f]\tMcNemar %.3g\n",
		oomCell(a), oomCell(b), 100*po.Difference, 100*po.CI95Newcombe[0], 100*po.CI95Newcombe[1], po.McNemarExactP)
	fmt.Fprintf(tw, "median time to first OOM\t%s\t%s\t\t\n", medianCell(&a.TimeToFirstOOM), medianCell(&b.TimeToFirstOOM))
	ma, mb, mp := a.Metrics.all(), b.Metrics.all(), r.Paired.Metrics.all()
	for m, def := range metricDefs {
		f := func(x float64) string { return formatValue(def.unit, x) }
		p := mp[m]
		fmt.Fprintf(tw, "%s (mean)\t%s\t%s\t%s [%s, %s]\tsign %.3g, Wilcoxon %.3g\n",
			def.name, f(ma[m].Mean), f(mb[m].Mean), f(p.MeanDifference), f(p.CI95Bootstrap[0]), f(p.CI95Bootstrap[1]),
			p.SignTest.P, p.Wilcoxon.P)
	}
	fmt.Fprintf(tw, "degrade SLI (pooled)\t%s\t%s\t\t\n", sliCell(&a.DegradeSLI), sliCell(&b.DegradeSLI))
	if err := tw.Flush(); err != nil {
		return err
	}
	sb.WriteString("\n" + r.Paired.TradeOff + "\n\n" + po.Verdict + "\n")
	for _, p := range mp {
		sb.WriteString(p.Verdict + "\n")
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

// overridesText lists an arm's overrides, or says it has none.
func overridesText(o []string) string {
	if len(o) == 0 {
		return "(the scenario as is)"
	}
	return strings.Join(o, " ")
}

// oomCell is "k/n p% [lo, hi]" with the Wilson interval.
func oomCell(a *ArmReport) string {
	return fmt.Sprintf("%d/%d %.1f%% [%.1f, %.1f]", a.OOMRuns, a.Runs, 100*a.OOMProbability, 100*a.OOMCI95Wilson[0], 100*a.OOMCI95Wilson[1])
}

// medianCell is the Kaplan–Meier median with its interval, "> t" where
// the curve never got there.
func medianCell(t *TimeToOOM) string {
	bound := func(ns int64, reached bool) string {
		if reached {
			return formatNs(float64(ns))
		}
		return ">" + formatNs(float64(ns))
	}
	return fmt.Sprintf("%s [%s, %s]", bound(t.MedianNs, t.MedianReached), bound(t.CI95LoNs, t.CI95LoReached), bound(t.CI95HiNs, t.CI95HiReached))
}

// sliCell is "unharmed/met = rate" of an arm's pooled degrade SLI.
func sliCell(s *PooledSLI) string {
	if s.Rate == nil {
		return "none met degrade"
	}
	return fmt.Sprintf("%d/%d = %.1f%%", s.Unharmed, s.Met, 100**s.Rate)
}
