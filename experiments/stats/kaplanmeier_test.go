package stats

import (
	"fmt"
	"testing"
)

// Freireich et al. (1963), Blood 21:699–716: remission times in weeks of
// 21 acute-leukaemia patients on 6-mercaptopurine (false = censored) and
// 21 on placebo (no censoring). The classic Kaplan–Meier teaching data
// (Klein & Moeschberger 2003, §4.2; Kleinbaum & Klein, ch. 2; R's
// MASS::gehan).
var (
	freireich6MP = []Observation{
		{6, true}, {6, true}, {6, true}, {6, false}, {7, true}, {9, false}, {10, true},
		{10, false}, {11, false}, {13, true}, {16, true}, {17, false}, {19, false}, {20, false},
		{22, true}, {23, true}, {25, false}, {32, false}, {32, false}, {34, false}, {35, false},
	}
	freireichPlacebo = []Observation{
		{1, true}, {1, true}, {2, true}, {2, true}, {3, true}, {4, true}, {4, true},
		{5, true}, {5, true}, {8, true}, {8, true}, {8, true}, {8, true}, {11, true},
		{11, true}, {12, true}, {12, true}, {15, true}, {17, true}, {22, true}, {23, true},
	}
)

// The 6-MP survival estimates are exact products (18/21, ·16/17, ·14/15,
// ·11/12, ·10/11, ·6/7, ·5/6); the Greenwood standard errors are the
// published ones (Klein & Moeschberger §4.2; R survfit's std.err column:
// 0.0764 0.0869 0.0963 0.1068 0.1141 0.1282 0.1346).
func TestKaplanMeierFreireich6MP(t *testing.T) {
	c, err := KaplanMeier(freireich6MP)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		time           float64
		atRisk, events int
		survival, se   float64
	}{
		{6, 21, 3, 18.0 / 21, 0.0764},
		{7, 17, 1, 18.0 / 21 * 16 / 17, 0.0869},
		{10, 15, 1, 18.0 / 21 * 16 / 17 * 14 / 15, 0.0963},
		{13, 12, 1, 18.0 / 21 * 16 / 17 * 14 / 15 * 11 / 12, 0.1068},
		{16, 11, 1, 18.0 / 21 * 16 / 17 * 14 / 15 * 11 / 12 * 10 / 11, 0.1141},
		{22, 7, 1, 18.0 / 21 * 16 / 17 * 14 / 15 * 11 / 12 * 10 / 11 * 6 / 7, 0.1282},
		{23, 6, 1, 18.0 / 21 * 16 / 17 * 14 / 15 * 11 / 12 * 10 / 11 * 6 / 7 * 5 / 6, 0.1346},
	}
	if len(c.Steps) != len(want) || c.N != 21 || c.Events != 9 || c.MaxTime != 35 {
		t.Fatalf("curve N=%d events=%d max=%v steps=%d, want 21/9/35/7", c.N, c.Events, c.MaxTime, len(c.Steps))
	}
	for i, w := range want {
		s := c.Steps[i]
		name := fmt.Sprintf("t=%v", w.time)
		if s.Time != w.time || s.AtRisk != w.atRisk || s.Events != w.events {
			t.Errorf("%s: step %+v, want at risk %d, events %d", name, s, w.atRisk, w.events)
		}
		checkNear(t, name+" S", s.Survival, w.survival, 1e-12)
		checkNear(t, name+" SE", s.StdErr, w.se, 0.00005)
	}
	// Censored at exactly an event time stays at risk: 6 has one censoring.
	if c.Steps[0].Censored != 1 {
		t.Errorf("censored at t=6: %d, want 1", c.Steps[0].Censored)
	}
	checkNear(t, "S(5.9)", c.SurvivalAt(5.9), 1, 0)
	checkNear(t, "S(9)", c.SurvivalAt(9), want[1].survival, 1e-12)
	checkNear(t, "S(23)", c.SurvivalAt(23), want[6].survival, 1e-12)
	checkNear(t, "S(40)", c.SurvivalAt(40), want[6].survival, 1e-12)
}

// Median 23 weeks for 6-MP and 8 weeks for placebo are the published
// medians (Freireich data, e.g. Kleinbaum & Klein ch. 2). The
// Brookmeyer–Crowley limits are hand computed from the step table:
// 6-MP: S - 1.96·SE first <= 0.5 at t = 13 (0.6902 - 0.2093 = 0.481);
// S + 1.96·SE never < 0.5 (0.4482 + 0.2638 at t = 23), so the upper limit
// is not reached within 35 weeks. Placebo (no censoring, SE =
// sqrt(S(1-S)/21)): lower at t = 4 (0.6667 - 0.2016 = 0.465), upper at
// t = 11 (0.2857 + 0.1932 = 0.479).
func TestKaplanMeierMedianFreireich(t *testing.T) {
	for _, c := range []struct {
		name        string
		obs         []Observation
		median, lo  Bound
		hi          Bound
		wantMaxTime float64
	}{
		{"6-MP", freireich6MP, Bound{23, true}, Bound{13, true}, Bound{35, false}, 35},
		{"placebo", freireichPlacebo, Bound{8, true}, Bound{4, true}, Bound{11, true}, 23},
	} {
		curve, err := KaplanMeier(c.obs)
		if err != nil {
			t.Fatal(err)
		}
		m, err := curve.Median(0.95)
		if err != nil {
			t.Fatal(err)
		}
		if m.Median != c.median || m.Lo != c.lo || m.Hi != c.hi || m.Level != 0.95 {
			t.Errorf("%s: median %+v CI [%+v, %+v], want %+v [%+v, %+v]", c.name, m.Median, m.Lo, m.Hi, c.median, c.lo, c.hi)
		}
	}
}

func TestKaplanMeierEdges(t *testing.T) {
	// All censored: no steps; the median and both limits are not reached.
	c, err := KaplanMeier([]Observation{{5, false}, {3, false}})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := c.Median(0.9)
	if len(c.Steps) != 0 || m.Median != (Bound{5, false}) || m.Lo != (Bound{5, false}) {
		t.Errorf("all censored: steps %v, median %+v lo %+v", c.Steps, m.Median, m.Lo)
	}
	// Curve exactly at 0.5: the median is the smallest t with S(t) <= 0.5.
	c, _ = KaplanMeier([]Observation{{2, false}, {1, true}})
	m, _ = c.Median(0.95)
	if m.Median != (Bound{1, true}) {
		t.Errorf("S = 0.5 at t=1: median %+v, want 1", m.Median)
	}
	// Last unit has the event: S drops to 0 with StdErr 0.
	c, _ = KaplanMeier([]Observation{{1, true}, {2, true}})
	last := c.Steps[len(c.Steps)-1]
	if last.Survival != 0 || last.StdErr != 0 {
		t.Errorf("final step %+v, want S = 0, SE = 0", last)
	}
	_, err = KaplanMeier(nil)
	checkErr(t, "empty", err, ErrEmpty)
	_, err = KaplanMeier([]Observation{{-1, true}})
	checkErr(t, "negative time", err, ErrInvalid)
	_, err = KaplanMeier([]Observation{{nan(), true}})
	checkErr(t, "NaN time", err, ErrInvalid)
	_, err = c.Median(0)
	checkErr(t, "level", err, ErrInvalid)
}
