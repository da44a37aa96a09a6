package workload

import (
	"fmt"
	"math"

	"github.com/sbmpsim/sbmpsim/sim"
)

// MaxLifetimeNs is the longest lifetime Draw returns, 2⁶² ns (about 146
// years): far beyond any run, so an object that lives that long is in
// effect never freed, and its free time cannot overflow int64 when added
// to a simulated time below 2⁶² ns. Heavy tails (Pareto, lognormal with a
// large sigma) are cut there.
const MaxLifetimeNs int64 = 1 << 62

type lifetimeKind uint8

const (
	lifetimeExponential lifetimeKind = iota + 1
	lifetimeLognormal
	lifetimePareto
	lifetimeForever
)

// Lifetime draws how long an allocated object lives before it is freed,
// in nanoseconds, or that it is never freed. Build one with
// ExponentialLifetime, LognormalLifetime, ParetoLifetime or
// ForeverLifetime, and add a leak with WithLeak; the zero Lifetime is not
// usable. A Lifetime is immutable: share it freely.
type Lifetime struct {
	kind lifetimeKind
	// lifetimeExponential: scale is the mean. lifetimeLognormal: ln X ~
	// N(mu, sigma²). lifetimePareto: X = scale·e^(E/alpha), E ~ Exp(1),
	// which is Pareto(alpha, scale) without a call to math.Pow.
	scale, mu, sigma, alpha float64
	// leak is the fraction never freed; a leak draw is a Uint64 below
	// leakBelow.
	leak      float64
	leakBelow uint64
	mean      float64
}

// LognormalLifetimeParams are the parameters of LognormalLifetime.
type LognormalLifetimeParams struct {
	// MedianNs is the median lifetime, e^mu; > 0 and at most
	// MaxLifetimeNs.
	MedianNs float64
	// Sigma is the standard deviation of the lifetime's logarithm; > 0.
	Sigma float64
}

// ParetoLifetimeParams are the parameters of ParetoLifetime.
type ParetoLifetimeParams struct {
	// Alpha is the tail index; > 0. The smaller, the heavier the tail:
	// P(X > x) = (ScaleNs/x)^Alpha.
	Alpha float64
	// ScaleNs is the minimum lifetime x_m; > 0 and at most MaxLifetimeNs.
	ScaleNs float64
}

// ExponentialLifetime returns exponential lifetimes with mean meanNs.
func ExponentialLifetime(meanNs float64) (Lifetime, error) {
	if err := checkNs("exponential lifetime", "mean_ns", meanNs); err != nil {
		return Lifetime{}, err
	}
	return Lifetime{kind: lifetimeExponential, scale: meanNs, mean: meanNs}, nil
}

// LognormalLifetime returns lognormal lifetimes: ln X ~ N(ln MedianNs,
// Sigma²), with mean MedianNs·e^(Sigma²/2).
func LognormalLifetime(p LognormalLifetimeParams) (Lifetime, error) {
	const what = "lognormal lifetime"
	if err := checkNs(what, "median_ns", p.MedianNs); err != nil {
		return Lifetime{}, err
	}
	if !(p.Sigma > 0) || math.IsInf(p.Sigma, 0) {
		return Lifetime{}, fmt.Errorf("%s: sigma must be > 0 and finite, got %v", what, p.Sigma)
	}
	return Lifetime{
		kind:  lifetimeLognormal,
		mu:    math.Log(p.MedianNs),
		sigma: p.Sigma,
		mean:  p.MedianNs * math.Exp(p.Sigma*p.Sigma/2),
	}, nil
}

// ParetoLifetime returns Pareto lifetimes, a heavy tail: X >= ScaleNs and
// P(X > x) = (ScaleNs/x)^Alpha. The mean is Alpha·ScaleNs/(Alpha-1) for
// Alpha > 1 and infinite for Alpha <= 1 (Mean returns +Inf); the variance
// is infinite for Alpha <= 2, so sample means converge slowly there.
func ParetoLifetime(p ParetoLifetimeParams) (Lifetime, error) {
	const what = "pareto lifetime"
	if !(p.Alpha > 0) || math.IsInf(p.Alpha, 0) {
		return Lifetime{}, fmt.Errorf("%s: alpha must be > 0 and finite, got %v", what, p.Alpha)
	}
	if err := checkNs(what, "scale_ns", p.ScaleNs); err != nil {
		return Lifetime{}, err
	}
	mean := math.Inf(1)
	if p.Alpha > 1 {
		mean = p.Alpha * p.ScaleNs / (p.Alpha - 1)
	}
	return Lifetime{kind: lifetimePareto, alpha: p.Alpha, scale: p.ScaleNs, mean: mean}, nil
}

// ForeverLifetime returns a Lifetime whose objects are never freed.
func ForeverLifetime() Lifetime {
	return Lifetime{kind: lifetimeForever, mean: math.Inf(1)}
}

// WithLeak returns l with a leak: each object is, with probability
// fraction (0 <= fraction <= 1), never freed whatever l's distribution
// says. It replaces any leak l had.
//
// The leak draw comes from its own stream (Draw's leak argument) and the
// lifetime is drawn from the life stream for leaked objects too, so the
// life stream advances the same way whatever the fraction: adding or
// changing a leak changes which objects are freed, never the lifetimes of
// the others (common random numbers across a leak sweep).
func (l Lifetime) WithLeak(fraction float64) (Lifetime, error) {
	if !(fraction >= 0 && fraction <= 1) {
		return Lifetime{}, fmt.Errorf("leak: fraction must be in [0, 1], got %v", fraction)
	}
	if l.kind == 0 {
		return Lifetime{}, fmt.Errorf("leak: the lifetime is unset; build it first")
	}
	l.leak = fraction
	l.leakBelow = fractionThreshold(fraction)
	return l, nil
}

// Draw returns one object's lifetime in ns, in [1, MaxLifetimeNs], with
// freed true; or freed false for an object that is never freed (a
// forever lifetime, or a leaked object). The distribution's draw (rounded
// to whole ns) comes from life: nothing for forever, one normal for
// lognormal, one exponential (ziggurat) otherwise. When the leak fraction
// is > 0 and the kind is not forever, one Uint64 comes from leak; leak is
// never touched otherwise and may then be nil.
func (l *Lifetime) Draw(life, leak *sim.Stream) (lifeNs int64, freed bool) {
	var x float64
	switch l.kind {
	case lifetimeExponential:
		x = life.Exp(l.scale)
	case lifetimeLognormal:
		x = math.Exp(l.mu + float64(l.sigma*normal(life)))
	case lifetimePareto:
		x = l.scale * math.Exp(life.Exp(1)/l.alpha)
	case lifetimeForever:
		return 0, false
	default:
		panic("workload: Draw on a zero Lifetime; build one with ExponentialLifetime, LognormalLifetime, ParetoLifetime or ForeverLifetime")
	}
	if l.leak > 0 && leak.Uint64() < l.leakBelow {
		return 0, false
	}
	return wholeNs(x), true
}

// Mean returns the mean lifetime of the objects that are freed, in ns:
// the distribution's analytic mean, ignoring the leak (a fraction
// LeakFraction of objects are never freed), the rounding to whole ns and
// the floor of 1 ns (together within 1.5 ns) and the cut at MaxLifetimeNs.
// It is +Inf for forever lifetimes and Pareto with Alpha <= 1.
func (l *Lifetime) Mean() float64 { return l.mean }

// LeakFraction returns the fraction of objects never freed by the leak.
func (l *Lifetime) LeakFraction() float64 { return l.leak }

// String describes the distribution, for logs and errors.
func (l *Lifetime) String() string {
	var s string
	switch l.kind {
	case lifetimeExponential:
		s = fmt.Sprintf("exponential(mean %.6g ns)", l.scale)
	case lifetimeLognormal:
		s = fmt.Sprintf("lognormal(median %.6g ns, sigma %g)", math.Exp(l.mu), l.sigma)
	case lifetimePareto:
		s = fmt.Sprintf("pareto(alpha %g, scale %.6g ns)", l.alpha, l.scale)
	case lifetimeForever:
		s = "forever"
	default:
		return "unset lifetime"
	}
	if l.leak > 0 {
		s += fmt.Sprintf(" with leak %g", l.leak)
	}
	return s
}

// wholeNs rounds a lifetime to whole ns in [1, MaxLifetimeNs], comparing
// as floats first so a huge draw never overflows the conversion.
func wholeNs(x float64) int64 {
	if x < 1.5 {
		return 1
	}
	if x >= float64(MaxLifetimeNs) {
		return MaxLifetimeNs
	}
	return int64(math.Round(x))
}

// checkNs checks a duration parameter: > 0, finite, at most
// MaxLifetimeNs.
func checkNs(what, param string, v float64) error {
	if !(v > 0 && v <= float64(MaxLifetimeNs)) {
		return fmt.Errorf("%s: %s must be in (0, %d], got %v", what, param, MaxLifetimeNs, v)
	}
	return nil
}
