package workload

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/sim"
)

// must returns a, failing t if err is not nil.
func must[T any](t *testing.T) func(a T, err error) T {
	return func(a T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
}

// windowCounts runs a from time 0 until endNs and counts its arrivals in
// windows of windowNs, failing t unless every arrival is strictly after
// the one before. It also reports whether the process said it had no
// more arrivals before endNs.
func windowCounts(t *testing.T, a *Arrivals, r *sim.Stream, endNs, windowNs int64) (counts []int, ended bool) {
	t.Helper()
	counts = make([]int, (endNs+windowNs-1)/windowNs)
	now := int64(0)
	prev := int64(-1)
	for {
		at, ok := a.Next(r, now)
		if !ok {
			return counts, true
		}
		if at <= prev || at < now {
			t.Fatalf("arrival at %d after %d (now %d)", at, prev, now)
		}
		if at >= endNs {
			return counts, false
		}
		counts[at/windowNs]++
		prev, now = at, at
	}
}

func sum(xs []int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s
}

// dispersion returns the index of dispersion (variance / mean) of counts.
func dispersion(counts []int) float64 {
	xs := make([]float64, len(counts))
	for i, c := range counts {
		xs[i] = float64(c)
	}
	m, sd := meanSD(xs)
	return sd * sd / m
}

// TestPoissonArrivals checks the count against rate·T and that windowed
// counts have index of dispersion 1 (within the sampling error of a
// variance over m windows, √(2/(m-1))).
func TestPoissonArrivals(t *testing.T) {
	a := must[*Arrivals](t)(NewPoisson(1e6))
	r := testStream("arrivals/poisson")
	counts, ended := windowCounts(t, a, &r, 1e9, 1e6)
	if ended {
		t.Fatal("poisson ended")
	}
	checkCount(t, "poisson 1e6/s over 1 s", sum(counts), 1e6, 1e6)
	idc := dispersion(counts)
	se := math.Sqrt(2.0 / float64(len(counts)-1))
	t.Logf("poisson: index of dispersion %.4f (1 ± %.4f)", idc, se)
	if math.Abs(idc-1) > zTol*se {
		t.Errorf("poisson: index of dispersion %.4f, want 1 ± %.4f", idc, zTol*se)
	}
	if got := a.MeanRate(0, 1e9); got != 1e6 {
		t.Errorf("MeanRate = %v, want 1e6", got)
	}
}

// mmppTheory returns the stationary rate (per ns) and Var N(w) of an MMPP
// over a window of w ns: λ̄w + 2π₀π₁Δ²/a²·(aw - 1 + e^(-aw)), a the sum of
// the switching rates.
func mmppTheory(p MMPPParams, w float64) (ratePerNs, variance float64) {
	l0, l1 := p.RateLowPerS/1e9, p.RateHighPerS/1e9
	pi1 := p.MeanHighNs / (p.MeanLowNs + p.MeanHighNs)
	pi0 := 1 - pi1
	rate := pi0*l0 + pi1*l1
	a := 1/p.MeanLowNs + 1/p.MeanHighNs
	d := l1 - l0
	return rate, rate*w + 2*pi0*pi1*d*d/(a*a)*(a*w-1+math.Exp(-a*w))
}

// TestMMPPArrivals checks an MMPP's long-run rate against
// (r_low·m_low + r_high·m_high)/(m_low + m_high), with the count's
// tolerance from its MMPP variance, and its burstiness: the index of
// dispersion of 10 ms counts against theory, far above 1.
func TestMMPPArrivals(t *testing.T) {
	tests := []MMPPParams{
		{RateLowPerS: 1e5, RateHighPerS: 1e6, MeanLowNs: 0.9e6, MeanHighNs: 0.1e6},
		{RateLowPerS: 0, RateHighPerS: 5e5, MeanLowNs: 2e6, MeanHighNs: 0.5e6}, // on/off
	}
	const endNs, windowNs = 20e9, 10e6
	for _, p := range tests {
		a := must[*Arrivals](t)(NewMMPP(p))
		r := testStream("arrivals/mmpp")
		counts, ended := windowCounts(t, a, &r, endNs, windowNs)
		if ended {
			t.Fatal("mmpp ended")
		}
		want := (p.RateLowPerS*p.MeanLowNs + p.RateHighPerS*p.MeanHighNs) / (p.MeanLowNs + p.MeanHighNs)
		if got := a.MeanRate(0, 1); math.Abs(got-want) > 1e-9*want {
			t.Errorf("%+v: MeanRate = %v, want %v", p, got, want)
		}
		rate, variance := mmppTheory(p, endNs)
		checkCount(t, a.String(), sum(counts), rate*endNs, variance)
		_, wVar := mmppTheory(p, windowNs)
		wantIDC := wVar / (rate * windowNs)
		idc := dispersion(counts)
		// The sample variance of m counts is off by about √(2/(m-1)) of
		// itself (more for skewed counts: allow 20%).
		t.Logf("%s: index of dispersion %.2f, theory %.2f", a.String(), idc, wantIDC)
		if idc < 2 || math.Abs(idc/wantIDC-1) > 0.2 {
			t.Errorf("%s: index of dispersion %.2f, want %.2f ± 20%% (and bursty, > 2)", a.String(), idc, wantIDC)
		}
	}
}

// TestDiurnalArrivals checks counts in windows of a twentieth of a period
// against the integral of the rate, each within 5 SE, and all together by
// chi-square.
func TestDiurnalArrivals(t *testing.T) {
	tests := []DiurnalParams{
		{MeanRatePerS: 1e6, Amplitude: 0.8, PeriodNs: 100e6, PhaseRad: 0.3},
		{MeanRatePerS: 2e5, Amplitude: 1, PeriodNs: 37e6, PhaseRad: -2},
		{MeanRatePerS: 5e5, Amplitude: 0, PeriodNs: 1e6},
	}
	for _, p := range tests {
		a := must[*Arrivals](t)(NewDiurnal(p))
		r := testStream("arrivals/diurnal")
		window := int64(p.PeriodNs / 20)
		end := 20 * window * 10 // about 10 periods
		counts, ended := windowCounts(t, a, &r, end, window)
		if ended {
			t.Fatal("diurnal ended")
		}
		expected := make([]float64, len(counts))
		worst := 0.0
		for i := range counts {
			t0, t1 := int64(i)*window, int64(i+1)*window
			expected[i] = a.MeanRate(t0, t1) * float64(t1-t0) / 1e9
			z := (float64(counts[i]) - expected[i]) / math.Sqrt(max(expected[i], 1))
			worst = max(worst, math.Abs(z))
		}
		stat, crit := chiSquare(counts, expected)
		t.Logf("%s: %d windows, %d arrivals, worst window %.2f SE, chi-square %.1f (critical %.1f)",
			a.String(), len(counts), sum(counts), worst, stat, crit)
		if worst > zTol || stat > crit {
			t.Errorf("%s: worst window %.2f SE, chi-square %.1f > %.1f", a.String(), worst, stat, crit)
		}
	}
}

// TestDiurnalMeanRate checks MeanRate against a midpoint-rule integral of
// the rate, and that a whole period averages to the mean.
func TestDiurnalMeanRate(t *testing.T) {
	p := DiurnalParams{MeanRatePerS: 1e4, Amplitude: 0.6, PeriodNs: 1e9, PhaseRad: 1}
	a := must[*Arrivals](t)(NewDiurnal(p))
	rate := func(tNs float64) float64 {
		return p.MeanRatePerS * (1 + p.Amplitude*math.Sin(2*math.Pi*tNs/p.PeriodNs+p.PhaseRad))
	}
	for _, w := range [][2]int64{{0, 1e9}, {3e8, 7e8}, {123456789, 123456789 + 2e9 + 5e8}, {0, 1e6}} {
		const steps = 100_000
		h := float64(w[1]-w[0]) / steps
		var integral float64
		for i := range steps {
			integral += rate(float64(w[0])+(float64(i)+0.5)*h) * h
		}
		want := integral / float64(w[1]-w[0])
		if got := a.MeanRate(w[0], w[1]); math.Abs(got-want) > 1e-6*want {
			t.Errorf("MeanRate(%d, %d) = %.9g, numeric %.9g", w[0], w[1], got, want)
		}
	}
	if got := a.MeanRate(0, 1e9); math.Abs(got-1e4) > 1e-6 {
		t.Errorf("MeanRate over a period = %v, want 1e4", got)
	}
	if got, want := a.MeanRate(25e7, 25e7), rate(25e7); math.Abs(got-want) > 1e-9*want {
		t.Errorf("instantaneous MeanRate = %v, want %v", got, want)
	}
}

// TestPhaseArrivals runs a schedule with silences, a 1 µs burst and a
// phase that starts late, checks each phase's count against rate·length,
// that silent phases have no arrivals, and that a schedule ending in
// silence ends.
func TestPhaseArrivals(t *testing.T) {
	const ms = int64(1e6)
	phases := []Phase{
		{StartNs: 5 * ms, RatePerS: 1e6},      // silence before 5 ms
		{StartNs: 105 * ms, RatePerS: 0},      // silence
		{StartNs: 155 * ms, RatePerS: 2e5},    //
		{StartNs: 255 * ms, RatePerS: 1e8},    // 1 µs burst: 100 expected
		{StartNs: 255*ms + 1000, RatePerS: 0}, // silence
		{StartNs: 300 * ms, RatePerS: 3e6},    //
		{StartNs: 300*ms + 7, RatePerS: 5e5},  // 7 ns phase
		{StartNs: 400 * ms, RatePerS: 0},      // the end
	}
	a := must[*Arrivals](t)(NewPhases(phases))
	r := testStream("arrivals/phases")
	var times []int64
	now := int64(0)
	for {
		at, ok := a.Next(&r, now)
		if !ok {
			break
		}
		if len(times) > 0 && at <= times[len(times)-1] || at < now {
			t.Fatalf("arrival at %d after %v (now %d)", at, times[max(0, len(times)-1):], now)
		}
		times = append(times, at)
		now = at
	}
	if _, ok := a.Next(&r, now); ok {
		t.Error("Next after the end returned an arrival")
	}
	bounds := []int64{0}
	for _, ph := range phases {
		bounds = append(bounds, ph.StartNs)
	}
	bounds = append(bounds, 500*ms)
	for i := 0; i+1 < len(bounds); i++ {
		lo, hi := bounds[i], bounds[i+1]
		n := 0
		for _, at := range times {
			// Arrivals round up to whole ns: one in (lo-1, lo] belongs
			// to the phase starting at lo.
			if at > lo && at <= hi || at == 0 && lo == 0 {
				n++
			}
		}
		want := a.MeanRate(lo, hi) * float64(hi-lo) / 1e9
		if want == 0 {
			if n != 0 {
				t.Errorf("silent window [%d, %d): %d arrivals", lo, hi, n)
			}
			continue
		}
		checkCount(t, "phase window ["+itoa(lo)+", "+itoa(hi)+")", n, want, want)
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// TestPhasesMeanRate checks MeanRate across phase boundaries by hand.
func TestPhasesMeanRate(t *testing.T) {
	a := must[*Arrivals](t)(NewPhases([]Phase{{StartNs: 100, RatePerS: 1e6}, {StartNs: 300, RatePerS: 0}, {StartNs: 400, RatePerS: 4e6}}))
	tests := []struct {
		t0, t1 int64
		want   float64
	}{
		{0, 100, 0},
		{0, 200, 0.5e6},
		{100, 300, 1e6},
		{200, 500, (100*1e6 + 100*4e6) / 300},
		{1000, 2000, 4e6},
		{150, 150, 1e6}, // instantaneous
		{50, 50, 0},
		{300, 300, 0},
	}
	for _, tt := range tests {
		if got := a.MeanRate(tt.t0, tt.t1); math.Abs(got-tt.want) > 1e-9*tt.want {
			t.Errorf("MeanRate(%d, %d) = %v, want %v", tt.t0, tt.t1, got, tt.want)
		}
	}
}

// TestPhasesLastRateHolds checks that the last phase's rate holds forever
// when it is not 0.
func TestPhasesLastRateHolds(t *testing.T) {
	a := must[*Arrivals](t)(NewPhases([]Phase{{StartNs: 0, RatePerS: 0}, {StartNs: 1e6, RatePerS: 1e5}}))
	r := testStream("arrivals/phases-last")
	counts, ended := windowCounts(t, a, &r, 1e9+1e6, 1e6)
	if ended {
		t.Fatal("the schedule ended although its last rate is 1e5/s")
	}
	if counts[0] != 0 {
		t.Errorf("%d arrivals in the silent first ms", counts[0])
	}
	checkCount(t, "last phase over 1 s", sum(counts), 1e5, 1e5)
}

// TestLoad checks that WithLoad scales every kind's rate and counts, and
// starts a fresh process.
func TestLoad(t *testing.T) {
	build := must[*Arrivals](t)
	kinds := []*Arrivals{
		build(NewPoisson(2e5)),
		build(NewMMPP(MMPPParams{RateLowPerS: 1e5, RateHighPerS: 4e5, MeanLowNs: 1e5, MeanHighNs: 1e5})),
		build(NewDiurnal(DiurnalParams{MeanRatePerS: 2e5, Amplitude: 0.5, PeriodNs: 1e8})),
		build(NewPhases([]Phase{{0, 2e5}, {5e8, 1e5}})),
	}
	const load = 2.5
	for _, a := range kinds {
		r := testStream("arrivals/load")
		a.Next(&r, 0) // the copy must not inherit this state
		b, err := a.WithLoad(load)
		if err != nil {
			t.Fatal(err)
		}
		if b.Load() != load || a.Load() != 1 {
			t.Errorf("%s: Load %v and %v", b.String(), a.Load(), b.Load())
		}
		if got, want := b.MeanRate(0, 1e9), load*a.MeanRate(0, 1e9); math.Abs(got-want) > 1e-9*want {
			t.Errorf("%s: MeanRate %v, want %v", b.String(), got, want)
		}
		counts, _ := windowCounts(t, b, &r, 1e9, 1e9)
		want := b.MeanRate(0, 1e9)
		// MMPP counts vary more than Poisson: take the MMPP variance.
		variance := want
		if b.kind == arrivalMMPP {
			_, v := mmppTheory(MMPPParams{RateLowPerS: 2.5e5, RateHighPerS: 1e6, MeanLowNs: 1e5, MeanHighNs: 1e5}, 1e9)
			variance = v
		}
		checkCount(t, b.String(), counts[0], want, variance)
	}
}

// TestArrivalsDeterminism checks that a copy of a process and of its
// stream, taken mid-run, replays the same arrivals, for every kind.
func TestArrivalsDeterminism(t *testing.T) {
	build := must[*Arrivals](t)
	kinds := []*Arrivals{
		build(NewPoisson(1e6)),
		build(NewMMPP(MMPPParams{RateLowPerS: 0, RateHighPerS: 1e6, MeanLowNs: 1e5, MeanHighNs: 1e5})),
		build(NewDiurnal(DiurnalParams{MeanRatePerS: 1e6, Amplitude: 1, PeriodNs: 1e6})),
		build(NewPhases([]Phase{{0, 1e6}, {1e6, 0}, {2e6, 3e6}})),
	}
	for _, a := range kinds {
		r := testStream("arrivals/determinism")
		now := int64(0)
		for range 1000 {
			now, _ = a.Next(&r, now)
		}
		b, rb := *a, r
		nowB := now
		for i := range 10_000 {
			x, okx := a.Next(&r, now)
			y, oky := b.Next(&rb, nowB)
			if x != y || okx != oky {
				t.Fatalf("%s: arrival %d: %d, %v then %d, %v", a.String(), i, x, okx, y, oky)
			}
			now, nowB = x, y
		}
		// A fresh process from a fresh stream gives what the first did.
		c, _ := a.WithLoad(1)
		rc, rd := testStream("arrivals/determinism"), testStream("arrivals/determinism")
		d, _ := a.WithLoad(1)
		for range 100 {
			x, _ := c.Next(&rc, 0)
			y, _ := d.Next(&rd, 0)
			if x != y {
				t.Fatalf("%s: fresh copies differ", a.String())
			}
		}
	}
}

// TestArrivalsNowJump checks that a now past the last arrival moves the
// process forward: the next arrival is at or after it.
func TestArrivalsNowJump(t *testing.T) {
	a := must[*Arrivals](t)(NewMMPP(MMPPParams{RateLowPerS: 1e3, RateHighPerS: 1e6, MeanLowNs: 1e6, MeanHighNs: 1e6}))
	r := testStream("arrivals/jump")
	at, _ := a.Next(&r, 0)
	for _, now := range []int64{5e9, 5e9, 7e9 + 3} {
		got, ok := a.Next(&r, now)
		if !ok || got < now || got <= at {
			t.Errorf("Next(%d) = %d, %v after %d", now, got, ok, at)
		}
		at = got
	}
	p := must[*Arrivals](t)(NewPhases([]Phase{{0, 1e6}, {1e9, 0}, {2e9, 1e6}}))
	if got, _ := p.Next(&r, 1e9+5); got < 2e9 {
		t.Errorf("phases: Next(1e9+5) = %d, inside the silence", got)
	}
}

// TestArrivalsResolution checks that rounding arrivals to whole ns does
// not slow a fast process (the exact clock carries the fractions), and
// that at one per ns arrivals are still strictly increasing.
func TestArrivalsResolution(t *testing.T) {
	fast := must[*Arrivals](t)(NewPoisson(1e8))
	r := testStream("arrivals/resolution")
	counts, _ := windowCounts(t, fast, &r, 1e7, 1e7)
	checkCount(t, "poisson 1e8/s over 10 ms", counts[0], 1e6, 1e6)
	limit := must[*Arrivals](t)(NewPoisson(MaxRatePerS))
	counts, _ = windowCounts(t, limit, &r, 1e6, 1e6)
	// Gaps below 1 ns are stretched, so at most 1e6 come, but the clock
	// keeps the exact times, so the lag stays small.
	t.Logf("poisson at 1e9/s: %d arrivals in 1 ms", counts[0])
	if counts[0] > 1e6 || counts[0] < 0.99e6 {
		t.Errorf("%d arrivals in 1 ms at 1e9/s, want 990000 to 1000000", counts[0])
	}
}

func TestArrivalsErrors(t *testing.T) {
	errOf := func(_ *Arrivals, err error) error { return err }
	p, _ := NewPoisson(1e8)
	tests := []struct {
		err  error
		want string
	}{
		{errOf(NewPoisson(0)), "poisson: rate_per_s must be > 0 and finite, got 0"},
		{errOf(NewPoisson(math.NaN())), "poisson: rate_per_s must be > 0 and finite, got NaN"},
		{errOf(NewPoisson(2e9)), "poisson: rate_per_s 2e+09 times load 1 is 2e+09, above the limit 1e+09"},
		{errOf(p.WithLoad(20)), "poisson: rate_per_s 1e+08 times load 20 is 2e+09, above the limit"},
		{errOf(p.WithLoad(0)), "load: must be > 0 and finite, got 0"},
		{errOf(p.WithLoad(math.Inf(1))), "load: must be > 0 and finite, got +Inf"},
		{errOf(NewMMPP(MMPPParams{RateLowPerS: -1, RateHighPerS: 1, MeanLowNs: 1, MeanHighNs: 1})), "mmpp: rate_low_per_s must be >= 0 and finite, got -1"},
		{errOf(NewMMPP(MMPPParams{RateLowPerS: 0, RateHighPerS: 0, MeanLowNs: 1, MeanHighNs: 1})), "mmpp: rate_high_per_s must be > 0 and finite, got 0"},
		{errOf(NewMMPP(MMPPParams{RateLowPerS: 5, RateHighPerS: 1, MeanLowNs: 1, MeanHighNs: 1})), "mmpp: rate_high_per_s 1 is below rate_low_per_s 5; swap them"},
		{errOf(NewMMPP(MMPPParams{RateLowPerS: 1, RateHighPerS: 2, MeanLowNs: 0, MeanHighNs: 1})), "mmpp: mean_low_ns must be in (0, "},
		{errOf(NewMMPP(MMPPParams{RateLowPerS: 1, RateHighPerS: 2, MeanLowNs: 1, MeanHighNs: math.Inf(1)})), "mmpp: mean_high_ns must be in (0, "},
		{errOf(NewDiurnal(DiurnalParams{MeanRatePerS: 0, PeriodNs: 1})), "diurnal: mean_rate_per_s must be > 0 and finite, got 0"},
		{errOf(NewDiurnal(DiurnalParams{MeanRatePerS: 6e8, Amplitude: 1, PeriodNs: 1})), "diurnal: mean_rate_per_s 6e+08 times load 2 is 1.2e+09, above"},
		{errOf(NewDiurnal(DiurnalParams{MeanRatePerS: 1, Amplitude: 1.1, PeriodNs: 1})), "diurnal: amplitude must be in [0, 1], got 1.1"},
		{errOf(NewDiurnal(DiurnalParams{MeanRatePerS: 1, Amplitude: -0.1, PeriodNs: 1})), "diurnal: amplitude must be in [0, 1], got -0.1"},
		{errOf(NewDiurnal(DiurnalParams{MeanRatePerS: 1, PeriodNs: 0})), "diurnal: period_ns must be > 0 and finite, got 0"},
		{errOf(NewDiurnal(DiurnalParams{MeanRatePerS: 1, PeriodNs: 1, PhaseRad: math.NaN()})), "diurnal: phase_rad must be finite, got NaN"},
		{errOf(NewPhases(nil)), "phases: the schedule is empty"},
		{errOf(NewPhases([]Phase{{-1, 1}})), "phases: phase 0: start_ns must be in [0, 4611686018427387904), got -1"},
		{errOf(NewPhases([]Phase{{0, 1}, {0, 2}})), "phases: phase 1: start_ns 0 is not after phase 0's 0; starts must increase"},
		{errOf(NewPhases([]Phase{{0, 1}, {5, -2}})), "phases: phase 1: rate_per_s must be >= 0 and finite, got -2"},
		{errOf(NewPhases(make([]Phase, maxPhases+1))), "phases: 65537 phases, more than the limit 65536"},
	}
	for i, tt := range tests {
		if tt.err == nil || !strings.Contains(tt.err.Error(), tt.want) {
			t.Errorf("case %d: error %v, want it to contain %q", i, tt.err, tt.want)
		}
	}
}
