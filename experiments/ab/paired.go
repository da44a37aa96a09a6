package ab

import (
	"fmt"

	"github.com/sbmpsim/sbmpsim/experiments/stats"
)

// paired compares the arms seed by seed. Package stats takes differences
// as first argument minus second, so every call passes B first: the
// report's differences are B - A throughout.
func paired(exp Experiment, recsA, recsB []record, bootSeed uint64) (Paired, error) {
	p := Paired{
		Difference: Difference,
		Bootstrap:  BootstrapInfo{Method: stats.BootstrapBCa.String(), Resamples: BootstrapResamples, Seed: bootSeed, Level: Level},
	}
	var err error
	if p.OOM, err = pairedOOM(exp, recsA, recsB); err != nil {
		return p, err
	}
	opts := stats.BootstrapOptions{Resamples: BootstrapResamples, Seed: bootSeed, Level: Level, Method: stats.BootstrapBCa}
	out := p.Metrics.all()
	for m, def := range metricDefs {
		if *out[m], err = pairedMetric(exp, def, column(recsA, m), column(recsB, m), opts); err != nil {
			return p, fmt.Errorf("paired %s: %w", def.name, err)
		}
	}
	p.TradeOff = tradeOff(exp, &p)
	return p, nil
}

// pairedOOM builds the 2×2 table of OOM outcomes and compares the arms'
// OOM probabilities: McNemar's exact test and Newcombe's interval for
// P(OOM | B) - P(OOM | A).
func pairedOOM(exp Experiment, recsA, recsB []record) (PairedOOM, error) {
	oomA, oomB := make([]bool, len(recsA)), make([]bool, len(recsB))
	for i := range recsA {
		oomA[i], oomB[i] = recsA[i].oom(), recsB[i].oom()
	}
	t, err := stats.PairedBinaryTable(oomA, oomB)
	if err != nil {
		return PairedOOM{}, fmt.Errorf("paired oom: %w", err)
	}
	// ComparePairedBinary reports its first arm minus its second; give
	// it B as the first arm. McNemar's p is symmetric in the arms.
	swapped := stats.PairedBinary{Both: t.Both, OnlyA: t.OnlyB, OnlyB: t.OnlyA, Neither: t.Neither}
	res, err := stats.ComparePairedBinary(swapped, Level)
	if err != nil {
		return PairedOOM{}, fmt.Errorf("paired oom: %w", err)
	}
	po := PairedOOM{
		Table:         OOMTable{Both: t.Both, OnlyA: t.OnlyA, OnlyB: t.OnlyB, Neither: t.Neither},
		ProbabilityA:  res.PB,
		ProbabilityB:  res.PA,
		Difference:    res.Diff,
		CI95Newcombe:  [2]float64{res.CI.Lo, res.CI.Hi},
		McNemarExactP: res.P,
	}
	po.Verdict = oomVerdict(exp, po)
	return po, nil
}

// pairedMetric compares one metric: a[i] and b[i] are its values on seed
// i under A and B.
func pairedMetric(exp Experiment, def metricDef, a, b []float64, opts stats.BootstrapOptions) (PairedMetric, error) {
	d, err := stats.PairedMeanDiff(b, a, opts)
	if err != nil {
		return PairedMetric{}, err
	}
	st, err := stats.SignTest(b, a)
	if err != nil {
		return PairedMetric{}, err
	}
	wx, err := stats.WilcoxonSignedRank(b, a)
	if err != nil {
		return PairedMetric{}, err
	}
	pm := PairedMetric{
		MeanA: meanOf(a), MeanB: meanOf(b), MeanDifference: d.MeanDiff,
		CI95Bootstrap: [2]float64{d.CI.Lo, d.CI.Hi},
		SignTest:      SignTest{BHigher: st.Positive, BLower: st.Negative, Ties: st.Zero, P: st.P},
		Wilcoxon:      Wilcoxon{N: wx.N, Zeros: wx.Zeros, WPlus: wx.WPlus, Z: wx.Z, P: wx.P, Exact: wx.Exact},
	}
	if pm.MeanA != 0 {
		rel := pm.MeanDifference / pm.MeanA
		pm.RelativeDifference = &rel
	}
	pm.Verdict = metricVerdict(exp, def, pm)
	return pm, nil
}
