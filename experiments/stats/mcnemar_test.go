package stats

import (
	"testing"
)

// Published paired 2×2 examples:
//   - Cavo et al. (2012) complete response before/after consolidation,
//     table [[59, 6], [16, 80]], from Fagerland, Lydersen & Laake,
//     "Statistical Analysis of Contingency Tables" (2017), ch. 8: Newcombe
//     square-and-add 95% CI -0.1186 to -0.0046 (as asserted in the R
//     package contingencytables' tests) and exact conditional McNemar
//     p = 0.052 (2·Σ_{i<=6} C(22, i)/2^22 = 0.052478790283203125 exactly).
//   - Altman et al., "Statistics with Confidence" (2000), Table 6.2,
//     [[14, 5], [0, 22]]: difference 5/41 = 0.122, 95% CI 0.011 to 0.226;
//     McNemar exact p = 2/2^5 = 0.0625 (hand computed).
//   - Bentur et al. (2009), [[1, 1], [7, 12]]: McNemar exact p =
//     2·(1 + 8)/2^8 = 0.0703125 (hand computed; Fagerland et al. report
//     0.070). Its Newcombe interval -0.5069 to -0.0256 is not a published
//     value: it comes from an independent script of the same formula.
func TestPairedBinaryPublished(t *testing.T) {
	for _, c := range []struct {
		name    string
		table   PairedBinary
		diff    float64
		ci      Interval
		ciTol   float64
		p, pTol float64
	}{
		{"Cavo 2012", PairedBinary{Both: 59, OnlyA: 6, OnlyB: 16, Neither: 80}, -10.0 / 161, Interval{-0.1186, -0.0046}, 0.00005, 0.052478790283203125, 1e-15},
		{"Altman 6.2", PairedBinary{Both: 14, OnlyA: 5, OnlyB: 0, Neither: 22}, 5.0 / 41, Interval{0.011, 0.226}, 0.0005, 0.0625, 1e-15},
		{"Bentur 2009", PairedBinary{Both: 1, OnlyA: 1, OnlyB: 7, Neither: 12}, -6.0 / 21, Interval{-0.5069, -0.0256}, 0.00005, 0.0703125, 1e-15},
	} {
		r, err := ComparePairedBinary(c.table, 0.95)
		if err != nil {
			t.Fatal(err)
		}
		checkNear(t, c.name+" diff", r.Diff, c.diff, 1e-15)
		checkNear(t, c.name+" PA - PB", r.PA-r.PB, c.diff, 1e-15)
		checkInterval(t, c.name+" CI", r.CI, c.ci, c.ciTol)
		checkNear(t, c.name+" McNemar p", r.P, c.p, c.pTol)
		if !(r.CI.Lo <= r.Diff && r.Diff <= r.CI.Hi) {
			t.Errorf("%s: CI %+v does not contain the difference %v", c.name, r.CI, r.Diff)
		}
	}
}

func TestPairedBinaryTable(t *testing.T) {
	a := []bool{true, true, false, false, true}
	b := []bool{true, false, true, false, false}
	tab, err := PairedBinaryTable(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if tab != (PairedBinary{Both: 1, OnlyA: 2, OnlyB: 1, Neither: 1}) || tab.N() != 5 {
		t.Errorf("table %+v", tab)
	}
	_, err = PairedBinaryTable(a, b[:2])
	checkErr(t, "length", err, ErrMismatch)
	_, err = PairedBinaryTable(nil, nil)
	checkErr(t, "empty", err, ErrEmpty)
}

// No discordant pairs: McNemar p = 1, difference 0, and the interval is
// symmetric about 0 (swapping arms negates it).
func TestPairedBinaryNoDiscordant(t *testing.T) {
	r, err := ComparePairedBinary(PairedBinary{Both: 3, Neither: 7}, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	if r.P != 1 || r.Diff != 0 || !(r.CI.Lo < 0 && r.CI.Hi > 0) {
		t.Errorf("no discordant pairs: %+v", r)
	}
	checkNear(t, "symmetric", r.CI.Lo, -r.CI.Hi, 1e-15)
	// Swapping the arms negates the interval.
	x, _ := NewcombePairedDiff(PairedBinary{Both: 2, OnlyA: 9, OnlyB: 3, Neither: 30}, 0.9)
	y, _ := NewcombePairedDiff(PairedBinary{Both: 2, OnlyA: 3, OnlyB: 9, Neither: 30}, 0.9)
	checkInterval(t, "swap", x, Interval{-y.Hi, -y.Lo}, 1e-15)
	_, err = NewcombePairedDiff(PairedBinary{}, 0.95)
	checkErr(t, "empty", err, ErrEmpty)
	_, err = NewcombePairedDiff(PairedBinary{OnlyA: -1, Neither: 3}, 0.95)
	checkErr(t, "negative", err, ErrInvalid)
}
