package workload

import (
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/sim"
)

// sink keeps the compiler from dropping the draws.
var sink int64

func benchSize(b *testing.B, s Size, err error) {
	if err != nil {
		b.Fatal(err)
	}
	r := sim.NewStream(1, "bench")
	b.ReportAllocs()
	for b.Loop() {
		sink += s.Draw(&r)
	}
}

func BenchmarkSizeFixed(b *testing.B) {
	s, err := FixedSize(64)
	benchSize(b, s, err)
}

func BenchmarkSizeDiscrete(b *testing.B) {
	sizes := []int64{8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 512, 1024}
	weights := []float64{9, 8, 7, 6, 5, 4, 3, 2, 1, 1, 1, 1, 1, 1, 0.5, 0.25}
	s, err := DiscreteSize(sizes, weights)
	benchSize(b, s, err)
}

func BenchmarkSizeHistogram(b *testing.B) {
	h, err := ParseHistogram("bench.csv", strings.NewReader(histogramText))
	if err != nil {
		b.Fatal(err)
	}
	s, err := HistogramSize(h)
	benchSize(b, s, err)
}

func BenchmarkSizeLognormal(b *testing.B) {
	s, err := LognormalSize(LognormalSizeParams{MedianBytes: 256, Sigma: 1})
	benchSize(b, s, err)
}

func BenchmarkSizeLognormalClamped(b *testing.B) {
	s, err := LognormalSize(LognormalSizeParams{MedianBytes: 256, Sigma: 1.5, MinBytes: 16, MaxBytes: 4096})
	benchSize(b, s, err)
}

func benchLifetime(b *testing.B, l Lifetime, err error) {
	if err != nil {
		b.Fatal(err)
	}
	life, leak := sim.NewStream(1, "bench"), sim.NewStream(1, "bench-leak")
	b.ReportAllocs()
	for b.Loop() {
		v, _ := l.Draw(&life, &leak)
		sink += v
	}
}

func BenchmarkLifetimeExponential(b *testing.B) {
	l, err := ExponentialLifetime(1e6)
	benchLifetime(b, l, err)
}

func BenchmarkLifetimeLognormal(b *testing.B) {
	l, err := LognormalLifetime(LognormalLifetimeParams{MedianNs: 1e6, Sigma: 1})
	benchLifetime(b, l, err)
}

func BenchmarkLifetimePareto(b *testing.B) {
	l, err := ParetoLifetime(ParetoLifetimeParams{Alpha: 1.5, ScaleNs: 1e4})
	benchLifetime(b, l, err)
}

func BenchmarkLifetimeForever(b *testing.B) {
	benchLifetime(b, ForeverLifetime(), nil)
}

func BenchmarkLifetimeExponentialLeak(b *testing.B) {
	l, err := ExponentialLifetime(1e6)
	if err == nil {
		l, err = l.WithLeak(0.01)
	}
	benchLifetime(b, l, err)
}

// benchArrivals measures one Next, the way the event loop calls it: now
// is the arrival being handled.
func benchArrivals(b *testing.B, a *Arrivals, err error) {
	if err != nil {
		b.Fatal(err)
	}
	r := sim.NewStream(1, "bench")
	now := int64(0)
	b.ReportAllocs()
	for b.Loop() {
		at, ok := a.Next(&r, now)
		if !ok {
			b.Fatal("no more arrivals")
		}
		now = at
	}
	sink += now
}

func BenchmarkArrivalsPoisson(b *testing.B) {
	a, err := NewPoisson(1e5)
	benchArrivals(b, a, err)
}

func BenchmarkArrivalsMMPP(b *testing.B) {
	a, err := NewMMPP(MMPPParams{RateLowPerS: 1e4, RateHighPerS: 2e5, MeanLowNs: 9e8, MeanHighNs: 1e8})
	benchArrivals(b, a, err)
}

func BenchmarkArrivalsDiurnal(b *testing.B) {
	a, err := NewDiurnal(DiurnalParams{MeanRatePerS: 1e5, Amplitude: 0.5, PeriodNs: 86.4e12})
	benchArrivals(b, a, err)
}

func BenchmarkArrivalsPhases(b *testing.B) {
	// 1000 phases of 1 ms at 5e5/s, 1e6/s, 5e5/s and silence in turn,
	// then 1e6/s for ever:
	// the benchmark crosses many boundaries.
	phases := make([]Phase, 1000)
	for i := range phases {
		phases[i] = Phase{StartNs: int64(i) * 1e6, RatePerS: float64(i%2+1) * 5e5}
		if i%4 == 3 {
			phases[i].RatePerS = 0
		}
	}
	phases = append(phases, Phase{StartNs: 1000 * 1e6, RatePerS: 1e6})
	a, err := NewPhases(phases)
	benchArrivals(b, a, err)
}
