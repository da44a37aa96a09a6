package stats

import (
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// requireAMD64Reference skips unless this process computes the reference
// values the portable functions reproduce: amd64 built without fusion
// (GOAMD64 v1, the default) on a CPU with FMA, where math.Exp takes
// exp_amd64.s's FMA path.
func requireAMD64Reference(t *testing.T) {
	t.Helper()
	if runtime.GOARCH != "amd64" {
		t.Skipf("the reference values are amd64's; this is %s (TestSameBitsOnEveryArchitecture checks it)", runtime.GOARCH)
	}
	if v := os.Getenv("GOAMD64"); v != "" && v != "v1" {
		t.Skipf("GOAMD64=%s fuses gonum's and math's Go code; the reference is v1", v)
	}
	// An argument where exp_amd64.s's paths with and without FMA differ.
	if math.Exp(-449.42087897598736) != 6.591620695620688e-196 {
		t.Skip("this CPU has no FMA, so math.Exp takes exp_amd64.s's other path")
	}
}

// elementaryCase compares a portable function with the library function
// it reproduces on count arguments drawn by arg. arg rounds its products
// before adding (float64(...)) and calls no math function that differs
// between architectures, so that TestSameBitsOnEveryArchitecture gets the
// same arguments everywhere.
type elementaryCase struct {
	name     string
	got      func(float64) float64
	want     func(float64) float64
	arg      func(r *rand.Rand, i int) float64
	specials []float64
}

func elementaryCases() []elementaryCase {
	lgamma := func(x float64) float64 { v, _ := math.Lgamma(x); return v }
	return []elementaryCase{
		{"exp", exp, math.Exp, func(r *rand.Rand, i int) float64 {
			switch i % 4 {
			case 0:
				return float64(r.Float64()*80) - 40
			case 1:
				return float64(r.Float64()*1530) - 810 // overflow, subnormal and zero results too
			case 2:
				return math.Ldexp(float64(r.Float64()*2)-1, -r.IntN(60))
			default:
				return float64(r.Float64()*40) - 760
			}
		}, []float64{0, math.Copysign(0, -1), 1, -1, 709.78, 709.782712893384, 709.7827128933841, -745.1332191019411, -745.2, -800, -1e300, 1e300, math.Inf(1), math.Inf(-1)}},
		{"log", log, math.Log, func(r *rand.Rand, i int) float64 {
			if i%2 == 0 {
				return r.Float64()
			}
			// Normal numbers only: amd64's assembly is wrong for subnormals.
			return math.Ldexp(1+r.Float64(), r.IntN(2040)-1020)
		}, []float64{1, 2, 0.5, math.MaxFloat64, math.SmallestNonzeroFloat64 * (1 << 52), 0, math.Inf(1)}},
		{"erfc", erfc, math.Erfc, func(r *rand.Rand, i int) float64 {
			if i%2 == 0 {
				return float64(r.Float64()*14) - 7
			}
			return float64(r.Float64()*70) - 35
		}, []float64{0, 0.84375, 1.25, 1 / 0.35, 6, -6, 28, -28, 1e-20, -1e-20, math.Inf(1), math.Inf(-1)}},
		{"normalQuantile", normalQuantile, distuv.UnitNormal.Quantile, func(r *rand.Rand, i int) float64 {
			switch i % 3 {
			case 0:
				return r.Float64()
			case 1:
				return math.Ldexp(0.5+r.Float64()/2, -r.IntN(1000))
			default:
				return float64(1+r.IntN(19999)) / 20000 // the bootstrap's tie-adjusted fractions
			}
		}, []float64{0, 1, 0.5, 0.025, 0.975, 0.075, 0.925, 1 - (1-0.95)/2}},
		{"normalCDF", normalCDF, distuv.UnitNormal.CDF, func(r *rand.Rand, i int) float64 {
			return float64(r.Float64()*20) - 10
		}, []float64{0, -1.959963984540054, 1.959963984540054, 40, -40}},
		{"pow15", pow15, func(x float64) float64 { return math.Pow(x, 1.5) }, func(r *rand.Rand, i int) float64 {
			return math.Ldexp(1+r.Float64(), r.IntN(1300)-650)
		}, []float64{1, 2, 4, 0.25, 1e-300, 1e300}},
		{"lnFactorial", func(x float64) float64 { return lnFactorial(int(x)) }, func(x float64) float64 { return lgamma(x + 1) }, func(r *rand.Rand, i int) float64 {
			if i < 200_000 {
				return float64(i)
			}
			return float64(r.IntN(1 << 40))
		}, nil},
	}
}

// TestElementaryMatchesAMD64 shows that the portable functions compute
// what the statistics computed on amd64 with the library functions, bit
// for bit, so replacing them changed no result on amd64.
func TestElementaryMatchesAMD64(t *testing.T) {
	requireAMD64Reference(t)
	const count = 300_000
	for _, c := range elementaryCases() {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(15, 4))
			args := append([]float64(nil), c.specials...)
			for i := range count {
				args = append(args, c.arg(r, i))
			}
			bad := 0
			for _, x := range args {
				got, want := c.got(x), c.want(x)
				if math.Float64bits(got) == math.Float64bits(want) || math.IsNaN(got) && math.IsNaN(want) {
					continue
				}
				if bad++; bad <= 5 {
					t.Errorf("%s(%v) = %v (%#x), library gives %v (%#x)", c.name, x, got, math.Float64bits(got), want, math.Float64bits(want))
				}
			}
			if bad > 0 {
				t.Errorf("%s: %d of %d arguments differ", c.name, bad, len(args))
			}
		})
	}
}
