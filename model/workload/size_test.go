package workload

import (
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

func mustSize(t *testing.T, s Size, err error) Size {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const histogramText = `# test histogram
size_bytes,weight
16,40
32,20 # small
33,64,10
4096,5
65,1024,25
`

func testHistogram(t *testing.T) Histogram {
	t.Helper()
	h, err := ParseHistogram("test.csv", strings.NewReader(histogramText))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestSizeMeans compares the sample mean of every size distribution with
// Mean, and checks every draw is in bounds.
func TestSizeMeans(t *testing.T) {
	const n = 400_000
	fixed, err := FixedSize(64)
	fixed = mustSize(t, fixed, err)
	disc, err := DiscreteSize([]int64{16, 32, 64, 4096, 100}, []float64{4, 3, 2, 1, 0})
	disc = mustSize(t, disc, err)
	hist, err := HistogramSize(testHistogram(t))
	hist = mustSize(t, hist, err)
	ln, err := LognormalSize(LognormalSizeParams{MedianBytes: 256, Sigma: 1})
	ln = mustSize(t, ln, err)
	lnClamped, err := LognormalSize(LognormalSizeParams{MedianBytes: 256, Sigma: 1.5, MinBytes: 64, MaxBytes: 4096})
	lnClamped = mustSize(t, lnClamped, err)
	lnSmall, err := LognormalSize(LognormalSizeParams{MedianBytes: 2, Sigma: 2})
	lnSmall = mustSize(t, lnSmall, err)
	tests := []struct {
		name     string
		size     Size
		min, max int64
		analytic float64 // the textbook mean, where there is one; 0 if none
		slack    float64 // systematic error Mean may have (rounding)
	}{
		{"fixed", fixed, 64, 64, 64, 0},
		{"discrete", disc, 16, 4096, (16*4 + 32*3 + 64*2 + 4096*1) / 10.0, 0},
		{"histogram", hist, 16, 4096, (16*40 + 32*20 + 48.5*10 + 4096*5 + 544.5*25) / 100.0, 0},
		{"lognormal", ln, 1, MaxSizeBytes, 256 * math.Exp(0.5), 0.5},
		{"lognormal clamped", lnClamped, 64, 4096, 0, 0.5},
		{"lognormal small", lnSmall, 1, MaxSizeBytes, 0, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.analytic != 0 && math.Abs(tt.size.Mean()-tt.analytic) > 1e-9*tt.analytic {
				t.Errorf("Mean() = %.12g, want the analytic %.12g", tt.size.Mean(), tt.analytic)
			}
			r := testStream("size/" + tt.name)
			xs := make([]float64, n)
			for i := range xs {
				v := tt.size.Draw(&r)
				if v < tt.min || v > tt.max {
					t.Fatalf("draw %d = %d, outside [%d, %d]", i, v, tt.min, tt.max)
				}
				xs[i] = float64(v)
			}
			m, sd := meanSD(xs)
			checkMean(t, tt.size.String(), m, tt.size.Mean(), max(sd, 1e-12)/math.Sqrt(n), tt.slack)
		})
	}
}

// TestLognormalSizeMeanExact checks the closed-form clamped mean against
// the exact mean of the rounded, clamped variable, summed over every size
// it can take from the lognormal CDF: the difference is the rounding,
// which the doc comment bounds by half a byte.
func TestLognormalSizeMeanExact(t *testing.T) {
	tests := []LognormalSizeParams{
		{MedianBytes: 256, Sigma: 1.5, MinBytes: 64, MaxBytes: 4096},
		{MedianBytes: 2, Sigma: 2, MaxBytes: 100_000},
		{MedianBytes: 1, Sigma: 0.3, MaxBytes: 10},
		{MedianBytes: 1000, Sigma: 0.1, MinBytes: 990, MaxBytes: 1001},
	}
	for _, p := range tests {
		s, err := LognormalSize(p)
		if err != nil {
			t.Fatal(err)
		}
		d := distuv.LogNormal{Mu: math.Log(p.MedianBytes), Sigma: p.Sigma}
		lo, hi := max(1, p.MinBytes), p.MaxBytes
		exact := float64(lo)*d.CDF(float64(lo)+0.5) + float64(hi)*(1-d.CDF(float64(hi)-0.5))
		for k := lo + 1; k < hi; k++ {
			exact += float64(k) * (d.CDF(float64(k)+0.5) - d.CDF(float64(k)-0.5))
		}
		t.Logf("%+v: Mean %.6f, exact mean of the rounded draws %.6f", p, s.Mean(), exact)
		if math.Abs(s.Mean()-exact) > 0.5 {
			t.Errorf("%+v: Mean %.6f, exact %.6f: more than half a byte apart", p, s.Mean(), exact)
		}
	}
}

// TestLognormalSizeKS checks an unclamped lognormal against gonum's CDF
// and quantiles, and that a sigma 5% off fails (power).
func TestLognormalSizeKS(t *testing.T) {
	const n = 100_000
	s, err := LognormalSize(LognormalSizeParams{MedianBytes: 4096, Sigma: 0.8})
	if err != nil {
		t.Fatal(err)
	}
	r := testStream("size/lognormal-ks")
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = float64(s.Draw(&r))
	}
	want := distuv.LogNormal{Mu: math.Log(4096), Sigma: 0.8}
	checkKS(t, "lognormal size", xs, want.CDF)
	checkQuantiles(t, "lognormal size", xs, want.Quantile)
	wrong := distuv.LogNormal{Mu: math.Log(4096), Sigma: 0.84}
	if d, c := ksStat(xs, wrong.CDF), ksCritical(n, pTol); d <= c {
		t.Errorf("power: KS against sigma 0.84 is %.5f <= critical %.5f; the test cannot tell 5%%", d, c)
	}
}

// checkQuantiles checks the fraction of sorted xs at or below the
// quantiles of a few probabilities, each within zTol binomial standard
// errors.
func checkQuantiles(t *testing.T, what string, xs []float64, quantile func(float64) float64) {
	t.Helper()
	n := float64(len(xs))
	for _, p := range []float64{0.01, 0.1, 0.5, 0.9, 0.99} {
		q := quantile(p)
		below := 0
		for _, x := range xs {
			if x <= q {
				below++
			}
		}
		got := float64(below) / n
		se := math.Sqrt(p * (1 - p) / n)
		if math.Abs(got-p) > zTol*se {
			t.Errorf("%s: %.5f of draws <= the %g quantile %.6g; want %g ± %.5f", what, got, p, q, p, zTol*se)
		}
	}
}

// TestDiscreteSizeChiSquare checks the frequencies of a discrete size by
// chi-square, that a zero weight is never drawn, and (power) that weights
// 2% off fail.
func TestDiscreteSizeChiSquare(t *testing.T) {
	const n = 200_000
	sizes := []int64{8, 16, 24, 32, 48, 64, 128, 256, 512, 1000}
	weights := []float64{10, 20, 5, 0, 8, 12, 30, 1, 0.5, 13.5}
	s, err := DiscreteSize(sizes, weights)
	if err != nil {
		t.Fatal(err)
	}
	index := map[int64]int{}
	for i, v := range sizes {
		index[v] = i
	}
	r := testStream("size/discrete-chi2")
	counts := make([]int, len(sizes))
	for range n {
		counts[index[s.Draw(&r)]]++
	}
	if counts[3] != 0 {
		t.Errorf("size 32 has weight 0 but was drawn %d times", counts[3])
	}
	expected := make([]float64, len(sizes))
	for i, w := range weights {
		expected[i] = n * w / 100
	}
	stat, crit := chiSquare(counts, expected)
	t.Logf("discrete: chi-square %.2f, critical %.2f (df %d, p=%g)", stat, crit, len(sizes)-2, pTol)
	if stat > crit {
		t.Errorf("discrete: chi-square %.2f > critical %.2f; counts %v, expected %v", stat, crit, counts, expected)
	}
	// Power: move 2% of the mass from size 16 to size 128.
	expected[1] -= 0.02 * n
	expected[6] += 0.02 * n
	if stat, crit := chiSquare(counts, expected); stat <= crit {
		t.Errorf("power: chi-square against weights 2%% off is %.2f <= %.2f", stat, crit)
	}
}

// TestHistogramSizeRanges checks a histogram's rows by chi-square, and
// that a range row is uniform over its sizes.
func TestHistogramSizeRanges(t *testing.T) {
	const n = 400_000
	s, err := HistogramSize(testHistogram(t))
	if err != nil {
		t.Fatal(err)
	}
	r := testStream("size/histogram-chi2")
	rows := make([]int, 5) // 16, 32, 33..64, 4096, 65..1024
	inRange := make([]int, 64-33+1)
	for range n {
		switch v := s.Draw(&r); {
		case v == 16:
			rows[0]++
		case v == 32:
			rows[1]++
		case v >= 33 && v <= 64:
			rows[2]++
			inRange[v-33]++
		case v == 4096:
			rows[3]++
		case v >= 65 && v <= 1024:
			rows[4]++
		default:
			t.Fatalf("draw %d is in no row", v)
		}
	}
	stat, crit := chiSquare(rows, []float64{n * .40, n * .20, n * .10, n * .05, n * .25})
	t.Logf("histogram rows: chi-square %.2f, critical %.2f", stat, crit)
	if stat > crit {
		t.Errorf("histogram rows: chi-square %.2f > critical %.2f; counts %v", stat, crit, rows)
	}
	uniform := make([]float64, len(inRange))
	for i := range uniform {
		uniform[i] = float64(rows[2]) / float64(len(inRange))
	}
	stat, crit = chiSquare(inRange, uniform)
	t.Logf("histogram range 33..64: chi-square %.2f, critical %.2f", stat, crit)
	if stat > crit {
		t.Errorf("histogram range 33..64 is not uniform: chi-square %.2f > %.2f", stat, crit)
	}
}

// TestSizeDeterminism checks that the same stream state gives the same
// sizes, and that a fixed size draws nothing.
func TestSizeDeterminism(t *testing.T) {
	disc, _ := DiscreteSize([]int64{1, 2, 3}, []float64{1, 1, 1})
	hist, _ := HistogramSize(testHistogram(t))
	ln, _ := LognormalSize(LognormalSizeParams{MedianBytes: 100, Sigma: 2, MaxBytes: 1 << 20})
	for _, s := range []Size{disc, hist, ln} {
		a := testStream("size/determinism")
		b := a
		for i := range 10_000 {
			if x, y := s.Draw(&a), s.Draw(&b); x != y {
				t.Fatalf("%s: draw %d: %d then %d from the same stream state", s.String(), i, x, y)
			}
		}
	}
	fixed, _ := FixedSize(7)
	one, _ := DiscreteSize([]int64{9}, []float64{3})
	for _, s := range []Size{fixed, one} {
		a := testStream("size/fixed")
		b := a
		s.Draw(&a)
		if a.Uint64() != b.Uint64() {
			t.Errorf("%s: Draw advanced the stream", s.String())
		}
	}
}

func TestSizeErrors(t *testing.T) {
	build := func(f func() (Size, error)) error { _, err := f(); return err }
	tests := []struct {
		err  error
		want string
	}{
		{build(func() (Size, error) { return FixedSize(0) }), "fixed size: size_bytes must be in [1, 281474976710656], got 0"},
		{build(func() (Size, error) { return FixedSize(MaxSizeBytes + 1) }), "size_bytes must be in"},
		{build(func() (Size, error) { return DiscreteSize(nil, nil) }), "discrete size: sizes_bytes is empty"},
		{build(func() (Size, error) { return DiscreteSize([]int64{1, 2}, []float64{1}) }), "sizes_bytes has 2 entries but weights has 1"},
		{build(func() (Size, error) { return DiscreteSize([]int64{1, -2}, []float64{1, 1}) }), "sizes_bytes[1] must be in [1, 281474976710656], got -2"},
		{build(func() (Size, error) { return DiscreteSize([]int64{1, 2}, []float64{1, -1}) }), "weights[1] must be finite and >= 0, got -1"},
		{build(func() (Size, error) { return DiscreteSize([]int64{1, 2}, []float64{math.NaN(), 1}) }), "weights[0] must be finite and >= 0, got NaN"},
		{build(func() (Size, error) { return DiscreteSize([]int64{1, 2}, []float64{math.Inf(1), 1}) }), "weights[0] must be finite"},
		{build(func() (Size, error) { return DiscreteSize([]int64{1, 2}, []float64{0, 0}) }), "every weight is 0"},
		{build(func() (Size, error) { return DiscreteSize([]int64{1, 2}, []float64{math.MaxFloat64, math.MaxFloat64}) }), "sum to infinity"},
		{build(func() (Size, error) { return HistogramSize(Histogram{}) }), "histogram size: the histogram has no rows"},
		{build(func() (Size, error) { return HistogramSize(Histogram{Rows: []HistogramRow{{5, 4, 1}}}) }), "rows[0]: hi_bytes 4 is below lo_bytes 5"},
		{build(func() (Size, error) { return HistogramSize(Histogram{Rows: []HistogramRow{{0, 4, 1}}}) }), "rows[0].lo_bytes must be in"},
		{build(func() (Size, error) { return HistogramSize(Histogram{Rows: []HistogramRow{{1, 4, -1}}}) }), "rows[0].weight must be finite and >= 0, got -1"},
		{build(func() (Size, error) { return LognormalSize(LognormalSizeParams{MedianBytes: 64, Sigma: -1}) }), "lognormal size: sigma must be > 0 and finite, got -1"},
		{build(func() (Size, error) { return LognormalSize(LognormalSizeParams{MedianBytes: 64, Sigma: math.Inf(1)}) }), "sigma must be > 0 and finite, got +Inf"},
		{build(func() (Size, error) { return LognormalSize(LognormalSizeParams{MedianBytes: 0.5, Sigma: 1}) }), "lognormal size: median_bytes must be in [1, 281474976710656], got 0.5"},
		{build(func() (Size, error) { return LognormalSize(LognormalSizeParams{MedianBytes: math.NaN(), Sigma: 1}) }), "median_bytes must be in [1, 281474976710656], got NaN"},
		{build(func() (Size, error) {
			return LognormalSize(LognormalSizeParams{MedianBytes: 64, Sigma: 1, MinBytes: -1})
		}), "min_bytes must be in"},
		{build(func() (Size, error) {
			return LognormalSize(LognormalSizeParams{MedianBytes: 64, Sigma: 1, MaxBytes: -1})
		}), "max_bytes must be in"},
		{build(func() (Size, error) {
			return LognormalSize(LognormalSizeParams{MedianBytes: 64, Sigma: 1, MinBytes: 100, MaxBytes: 10})
		}), "max_bytes 10 is below min_bytes 100"},
	}
	for i, tt := range tests {
		if tt.err == nil || !strings.Contains(tt.err.Error(), tt.want) {
			t.Errorf("case %d: error %v, want it to contain %q", i, tt.err, tt.want)
		}
	}
}

// TestSizeHugeWeights checks that weights near MaxFloat64 neither
// overflow the mean nor the alias table.
func TestSizeHugeWeights(t *testing.T) {
	s, err := DiscreteSize([]int64{8, 24, 40}, []float64{1e308, 0, 5e307})
	if err != nil {
		t.Fatal(err)
	}
	if want := (8*2 + 40) / 3.0; math.Abs(s.Mean()-want) > 1e-12*want {
		t.Errorf("Mean() = %v, want %v", s.Mean(), want)
	}
	r := testStream("size/huge")
	counts := map[int64]int{}
	for range 30_000 {
		counts[s.Draw(&r)]++
	}
	if counts[24] != 0 || counts[8] < 19_000 || counts[8] > 21_000 {
		t.Errorf("counts %v, want about 20000 of 8, 10000 of 40, none of 24", counts)
	}
}
