package stats

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// survivalHalfTolerance absorbs rounding in the product-limit estimate
// when deciding S(t) <= 0.5: a curve that is 0.5 algebraically may be
// 0.5000000000000001 in float64.
const survivalHalfTolerance = 1e-12

// Observation is one unit's time to first event (e.g. one seed's time to
// first OOM). Event false means the unit was censored: it was followed to
// Time without the event happening (the run ended first).
type Observation struct {
	Time  float64 // time of the event or of censoring; finite, >= 0
	Event bool    // true: the event happened at Time; false: censored at Time
}

// KMStep is the Kaplan–Meier estimate just after one distinct event time.
type KMStep struct {
	Time     float64 // distinct time at which at least one event happened
	AtRisk   int     // units with Time >= this time
	Events   int     // events at this time
	Censored int     // units censored at exactly this time (counted at risk here)
	Survival float64 // S(t) for t in [Time, next step's Time)
	// StdErr is Greenwood's standard error of Survival. It is 0 where
	// Survival is 0 (Greenwood's formula is 0·∞ there).
	StdErr float64
}

// KMCurve is a Kaplan–Meier survival curve: S(t) = 1 before the first
// step, and Steps[j].Survival on [Steps[j].Time, Steps[j+1].Time).
// Beyond MaxTime the curve is unknown.
type KMCurve struct {
	N       int      // units observed
	Events  int      // units with Event true
	MaxTime float64  // largest Time observed (event or censored)
	Steps   []KMStep // one per distinct event time, ascending
}

// KaplanMeier computes the product-limit estimate of the survival function
// from right-censored observations. At each distinct event time t_j with
// n_j units at risk and d_j events:
//
//	S(t) = Π_{t_j <= t} (1 - d_j/n_j)
//	Var[S(t)] = S(t)² · Σ_{t_j <= t} d_j / (n_j (n_j - d_j))   (Greenwood)
//
// Units censored at t_j are counted at risk at t_j (events are taken to
// precede censorings at equal times, the usual convention). obs is not
// modified.
//
// References: E. L. Kaplan and P. Meier, "Nonparametric estimation from
// incomplete observations", JASA 53:457–481 (1958); M. Greenwood, "The
// natural duration of cancer", Reports on Public Health and Medical
// Subjects 33, HMSO (1926); J. P. Klein and M. L. Moeschberger, "Survival
// Analysis", 2nd ed., Springer (2003), §4.2.
//
// Errors: ErrEmpty for no observations; ErrInvalid for a negative or
// non-finite Time.
func KaplanMeier(obs []Observation) (*KMCurve, error) {
	if len(obs) == 0 {
		return nil, fmt.Errorf("kaplan-meier: %w", ErrEmpty)
	}
	for i, o := range obs {
		if !(o.Time >= 0) || math.IsInf(o.Time, 0) {
			return nil, fmt.Errorf("kaplan-meier: observation %d time %v: want a finite time >= 0: %w", i, o.Time, ErrInvalid)
		}
	}
	sorted := slices.Clone(obs)
	slices.SortStableFunc(sorted, func(x, y Observation) int { return cmp.Compare(x.Time, y.Time) })
	c := &KMCurve{N: len(sorted), MaxTime: sorted[len(sorted)-1].Time}
	survival, greenwood := 1.0, 0.0
	for i := 0; i < len(sorted); {
		t := sorted[i].Time
		atRisk := len(sorted) - i
		events, censored := 0, 0
		for ; i < len(sorted) && sorted[i].Time == t; i++ {
			if sorted[i].Event {
				events++
			} else {
				censored++
			}
		}
		if events == 0 {
			continue
		}
		c.Events += events
		survival *= 1 - float64(events)/float64(atRisk)
		stdErr := 0.0
		if events < atRisk {
			greenwood += float64(events) / (float64(atRisk) * float64(atRisk-events))
			stdErr = survival * math.Sqrt(greenwood)
		} else {
			survival = 0
		}
		c.Steps = append(c.Steps, KMStep{Time: t, AtRisk: atRisk, Events: events, Censored: censored, Survival: survival, StdErr: stdErr})
	}
	return c, nil
}

// SurvivalAt returns S(t), the estimated probability of no event by time
// t. Beyond MaxTime it returns the last estimate, which is only a
// plateau by convention: the data say nothing there.
func (c *KMCurve) SurvivalAt(t float64) float64 {
	// Index of the first step with Time > t; the step before it applies.
	j, _ := slices.BinarySearchFunc(c.Steps, t, func(s KMStep, t float64) int {
		if s.Time <= t {
			return -1
		}
		return 1
	})
	if j == 0 {
		return 1
	}
	return c.Steps[j-1].Survival
}

// Bound is a time that may lie beyond the end of follow-up. If Reached is
// true, Value is the time itself. If Reached is false, the data only show
// the time is later than Value (= KMCurve.MaxTime): report it as
// "> Value" or "not reached". Bound has no infinities, so it encodes
// cleanly as JSON.
type Bound struct {
	Value   float64
	Reached bool
}

// MedianSurvival is the median time to event with a confidence interval.
type MedianSurvival struct {
	Median Bound   // smallest t with S(t) <= 0.5
	Lo, Hi Bound   // Brookmeyer–Crowley confidence limits
	Level  float64 // confidence level of [Lo, Hi]
}

// Median returns the median survival time, the smallest event time t with
// S(t) <= 0.5 (Klein & Moeschberger 2003, §4.5), and its
// Brookmeyer–Crowley confidence interval at the given level, obtained by
// inverting the test of S(t) = 0.5 with Greenwood's variance on the plain
// (linear) scale:
//
//	CI = { t : |S(t) - 0.5| <= z · SE(t) },   z = Φ⁻¹(1 - α/2)
//
// Because S steps down, the lower limit is the first event time where
// S - z·SE <= 0.5 and the upper limit is the first event time where
// S + z·SE < 0.5. A limit (or the median) that the curve never reaches
// before MaxTime is returned with Reached = false and Value = MaxTime.
// Note R's survfit differs in two details: its default CI uses a log
// transform of S, and it takes the midpoint of a flat stretch where S is
// exactly 0.5.
//
// Reference: R. Brookmeyer and J. Crowley, "A confidence interval for the
// median survival time", Biometrics 38:29–41 (1982).
//
// Errors: ErrInvalid for a level outside (0, 1).
func (c *KMCurve) Median(level float64) (MedianSurvival, error) {
	if err := checkLevel(level); err != nil {
		return MedianSurvival{}, fmt.Errorf("kaplan-meier median: %w", err)
	}
	z := zTwoSided(level)
	m := MedianSurvival{Level: level}
	m.Median = c.firstStep(func(s KMStep) bool { return s.Survival <= 0.5+survivalHalfTolerance })
	m.Lo = c.firstStep(func(s KMStep) bool { return s.Survival-float64(z*s.StdErr) <= 0.5+survivalHalfTolerance })
	m.Hi = c.firstStep(func(s KMStep) bool { return s.Survival+float64(z*s.StdErr) < 0.5-survivalHalfTolerance })
	return m, nil
}

// firstStep returns the time of the first step satisfying ok, or an
// unreached Bound at MaxTime.
func (c *KMCurve) firstStep(ok func(KMStep) bool) Bound {
	for _, s := range c.Steps {
		if ok(s) {
			return Bound{Value: s.Time, Reached: true}
		}
	}
	return Bound{Value: c.MaxTime, Reached: false}
}
