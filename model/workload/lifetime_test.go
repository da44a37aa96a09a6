package workload

import (
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

func mustLifetime(t *testing.T, l Lifetime, err error) Lifetime {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// drawLifetimes draws n lifetimes from a fresh stream, failing t on a
// draw out of range or never freed.
func drawLifetimes(t *testing.T, l Lifetime, name string, n int) []float64 {
	t.Helper()
	life := testStream("lifetime/" + name)
	xs := make([]float64, n)
	for i := range xs {
		v, freed := l.Draw(&life, nil)
		if !freed || v < 1 || v > MaxLifetimeNs {
			t.Fatalf("draw %d = %d, freed %v", i, v, freed)
		}
		xs[i] = float64(v)
	}
	return xs
}

// TestLifetimeMeans compares sample means with the analytic means; the
// standard errors come from the analytic variances (for Pareto the sample
// variance is itself heavy-tailed).
func TestLifetimeMeans(t *testing.T) {
	const n = 400_000
	exp, err := ExponentialLifetime(1e6)
	exp = mustLifetime(t, exp, err)
	ln, err := LognormalLifetime(LognormalLifetimeParams{MedianNs: 1e6, Sigma: 1})
	ln = mustLifetime(t, ln, err)
	par3, err := ParetoLifetime(ParetoLifetimeParams{Alpha: 3, ScaleNs: 1e5})
	par3 = mustLifetime(t, par3, err)
	par5, err := ParetoLifetime(ParetoLifetimeParams{Alpha: 5, ScaleNs: 2e3})
	par5 = mustLifetime(t, par5, err)
	tests := []struct {
		name     string
		l        Lifetime
		mean, sd float64
	}{
		{"exponential", exp, 1e6, 1e6},
		{"lognormal", ln, 1e6 * math.Exp(0.5), 1e6 * math.Sqrt((math.E-1)*math.E)},
		{"pareto alpha 3", par3, 1.5e5, 1e5 * math.Sqrt(3.0/4)},
		{"pareto alpha 5", par5, 2.5e3, 2e3 * math.Sqrt(5.0/16/3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if math.Abs(tt.l.Mean()-tt.mean) > 1e-9*tt.mean {
				t.Errorf("Mean() = %.12g, want %.12g", tt.l.Mean(), tt.mean)
			}
			m, _ := meanSD(drawLifetimes(t, tt.l, tt.name, n))
			// Slack 1.5 ns: rounding to whole ns and the 1 ns floor.
			checkMean(t, tt.l.String(), m, tt.mean, tt.sd/math.Sqrt(n), 1.5)
		})
	}
}

// TestLifetimeKS checks each distribution's shape against gonum's CDF and
// quantiles, including Pareto tails too heavy to have a mean.
func TestLifetimeKS(t *testing.T) {
	const n = 100_000
	type dist interface {
		CDF(float64) float64
		Quantile(float64) float64
	}
	build := func(l Lifetime, err error) Lifetime { return mustLifetime(t, l, err) }
	tests := []struct {
		name string
		l    Lifetime
		want dist
	}{
		{"exponential", build(ExponentialLifetime(5e5)), distuv.Exponential{Rate: 1 / 5e5}},
		{"lognormal", build(LognormalLifetime(LognormalLifetimeParams{MedianNs: 2e6, Sigma: 1.7})), distuv.LogNormal{Mu: math.Log(2e6), Sigma: 1.7}},
		{"pareto alpha 1.5", build(ParetoLifetime(ParetoLifetimeParams{Alpha: 1.5, ScaleNs: 1e4})), distuv.Pareto{Xm: 1e4, Alpha: 1.5}},
		{"pareto alpha 0.7", build(ParetoLifetime(ParetoLifetimeParams{Alpha: 0.7, ScaleNs: 1e6})), distuv.Pareto{Xm: 1e6, Alpha: 0.7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			xs := drawLifetimes(t, tt.l, tt.name+"/ks", n)
			checkQuantiles(t, tt.l.String(), xs, tt.want.Quantile)
			checkKS(t, tt.l.String(), xs, tt.want.CDF)
		})
	}
	// Power: alpha 1.5 against 1.45 must fail.
	xs := drawLifetimes(t, tests[2].l, "pareto alpha 1.5/ks", n)
	if d, c := ksStat(xs, distuv.Pareto{Xm: 1e4, Alpha: 1.45}.CDF), ksCritical(n, pTol); d <= c {
		t.Errorf("power: KS of alpha 1.5 draws against alpha 1.45 is %.5f <= %.5f", d, c)
	}
}

func TestParetoInfiniteMean(t *testing.T) {
	for _, alpha := range []float64{0.5, 1} {
		l, err := ParetoLifetime(ParetoLifetimeParams{Alpha: alpha, ScaleNs: 1e3})
		if err != nil {
			t.Fatal(err)
		}
		if !math.IsInf(l.Mean(), 1) {
			t.Errorf("alpha %g: Mean() = %v, want +Inf", alpha, l.Mean())
		}
	}
	l, _ := ParetoLifetime(ParetoLifetimeParams{Alpha: 0.05, ScaleNs: 1e9})
	life := testStream("lifetime/pareto-cap")
	capped := 0
	for range 10_000 {
		v, freed := l.Draw(&life, nil)
		if !freed || v < 1e9 || v > MaxLifetimeNs {
			t.Fatalf("draw %d, freed %v: want [1e9, MaxLifetimeNs]", v, freed)
		}
		if v == MaxLifetimeNs {
			capped++
		}
	}
	// P(X > 2⁶²) = (1e9/2⁶²)^0.05 ≈ 0.34.
	if capped < 3000 || capped > 3800 {
		t.Errorf("%d of 10000 draws cut at MaxLifetimeNs, want about 3400", capped)
	}
}

// TestLeak checks the leaked fraction, and that adding a leak leaves the
// lifetimes of the objects still freed, and the life stream, untouched.
func TestLeak(t *testing.T) {
	const n = 200_000
	base, err := LognormalLifetime(LognormalLifetimeParams{MedianNs: 1e6, Sigma: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, frac := range []float64{0, 0.3, 1} {
		leaky, err := base.WithLeak(frac)
		if err != nil {
			t.Fatal(err)
		}
		lifeA, lifeB := testStream("lifetime/leak"), testStream("lifetime/leak")
		leak := testStream("lifetime/leak-bernoulli")
		leaked := 0
		for i := range n {
			want, _ := base.Draw(&lifeA, nil)
			got, freed := leaky.Draw(&lifeB, &leak)
			if !freed {
				leaked++
				continue
			}
			if got != want {
				t.Fatalf("leak %g: object %d lives %d, %d without the leak", frac, i, got, want)
			}
		}
		if lifeA.Uint64() != lifeB.Uint64() {
			t.Errorf("leak %g: the life stream advanced differently", frac)
		}
		se := math.Sqrt(frac * (1 - frac) / n)
		got := float64(leaked) / n
		t.Logf("leak %g: leaked fraction %.5f (%.2f SE)", frac, got, (got-frac)/max(se, 1e-300))
		if math.Abs(got-frac) > zTol*se {
			t.Errorf("leak %g: leaked fraction %.5f, want %g ± %.5f", frac, got, frac, zTol*se)
		}
		if leaky.LeakFraction() != frac || leaky.Mean() != base.Mean() {
			t.Errorf("leak %g: LeakFraction %v, Mean %v", frac, leaky.LeakFraction(), leaky.Mean())
		}
	}
}

func TestForeverLifetime(t *testing.T) {
	l, err := ForeverLifetime().WithLeak(0.5)
	if err != nil {
		t.Fatal(err)
	}
	life, leak := testStream("forever"), testStream("forever-leak")
	life0, leak0 := life, leak
	for range 100 {
		if v, freed := l.Draw(&life, &leak); freed || v != 0 {
			t.Fatalf("forever: Draw = %d, %v", v, freed)
		}
	}
	if life.Uint64() != life0.Uint64() || leak.Uint64() != leak0.Uint64() {
		t.Error("forever: Draw advanced a stream")
	}
	if !math.IsInf(l.Mean(), 1) {
		t.Errorf("forever: Mean() = %v, want +Inf", l.Mean())
	}
}

// TestLifetimeFloor checks that lifetimes far below 1 ns come out as 1.
func TestLifetimeFloor(t *testing.T) {
	l, _ := ExponentialLifetime(0.1)
	life := testStream("floor")
	for range 1000 {
		if v, freed := l.Draw(&life, nil); v < 1 || !freed {
			t.Fatalf("Draw = %d, %v; want >= 1, freed", v, freed)
		}
	}
}

func TestLifetimeDeterminism(t *testing.T) {
	exp, _ := ExponentialLifetime(1e6)
	ln, _ := LognormalLifetime(LognormalLifetimeParams{MedianNs: 1e6, Sigma: 2})
	par, _ := ParetoLifetime(ParetoLifetimeParams{Alpha: 1.2, ScaleNs: 1e3})
	par, _ = par.WithLeak(0.1)
	for _, l := range []Lifetime{exp, ln, par} {
		lifeA, leakA := testStream("det"), testStream("det-leak")
		lifeB, leakB := lifeA, leakA
		for i := range 10_000 {
			x, fx := l.Draw(&lifeA, &leakA)
			y, fy := l.Draw(&lifeB, &leakB)
			if x != y || fx != fy {
				t.Fatalf("%s: draw %d: (%d, %v) then (%d, %v)", l.String(), i, x, fx, y, fy)
			}
		}
	}
}

func TestLifetimeErrors(t *testing.T) {
	errOf := func(_ Lifetime, err error) error { return err }
	exp, _ := ExponentialLifetime(1)
	tests := []struct {
		err  error
		want string
	}{
		{errOf(ExponentialLifetime(0)), "exponential lifetime: mean_ns must be in (0, 4611686018427387904], got 0"},
		{errOf(ExponentialLifetime(math.NaN())), "mean_ns must be in (0, 4611686018427387904], got NaN"},
		{errOf(ExponentialLifetime(1e19)), "mean_ns must be in"},
		{errOf(LognormalLifetime(LognormalLifetimeParams{MedianNs: 1, Sigma: -1})), "lognormal lifetime: sigma must be > 0 and finite, got -1"},
		{errOf(LognormalLifetime(LognormalLifetimeParams{MedianNs: -1, Sigma: 1})), "lognormal lifetime: median_ns must be in"},
		{errOf(ParetoLifetime(ParetoLifetimeParams{Alpha: 0, ScaleNs: 1})), "pareto lifetime: alpha must be > 0 and finite, got 0"},
		{errOf(ParetoLifetime(ParetoLifetimeParams{Alpha: 2, ScaleNs: 0})), "pareto lifetime: scale_ns must be in"},
		{errOf(exp.WithLeak(-0.1)), "leak: fraction must be in [0, 1], got -0.1"},
		{errOf(exp.WithLeak(1.5)), "leak: fraction must be in [0, 1], got 1.5"},
		{errOf(exp.WithLeak(math.NaN())), "got NaN"},
		{errOf(Lifetime{}.WithLeak(0.5)), "leak: the lifetime is unset"},
	}
	for i, tt := range tests {
		if tt.err == nil || !strings.Contains(tt.err.Error(), tt.want) {
			t.Errorf("case %d: error %v, want it to contain %q", i, tt.err, tt.want)
		}
	}
}
