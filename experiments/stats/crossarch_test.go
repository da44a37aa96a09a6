package stats

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"go/ast"
	"go/parser"
	"go/token"
	"hash"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// bitsDigest hashes the exact bits of every value a group computes.
type bitsDigest struct{ h hash.Hash }

func (d bitsDigest) add(vs ...float64) {
	for _, v := range vs {
		d.h.Write(binary.LittleEndian.AppendUint64(nil, math.Float64bits(v)))
	}
}

func (d bitsDigest) interval(iv Interval, err error) {
	if err != nil {
		panic(err)
	}
	d.add(iv.Lo, iv.Hi)
}

// pairedSample draws n pairs whose differences tie often (small
// integers) or never (continuous), so the tests take both their exact
// and their normal-approximation paths. Like every input here it uses
// only Float64 and IntN, and rounds products before adding:
// rand.NormFloat64 and ExpFloat64 are computed with fused multiply-adds
// on arm64.
func pairedSample(r *rand.Rand, n int, ties bool) (a, b []float64) {
	a, b = make([]float64, n), make([]float64, n)
	for i := range a {
		if ties {
			a[i], b[i] = float64(r.IntN(6)), float64(r.IntN(6))
		} else {
			a[i], b[i] = float64(r.Float64()*6)-2, r.Float64()*r.Float64()*5
		}
	}
	return a, b
}

// crossArchGroups are the computations whose digests must not depend on
// the architecture. want is the digest on amd64 (first 16 hex digits).
var crossArchGroups = []struct {
	name string
	want string
	run  func(d bitsDigest)
}{
	{"elementary functions", "e846f75a1206794a", func(d bitsDigest) {
		for _, c := range elementaryCases() {
			r := rand.New(rand.NewPCG(15, 5))
			for i := range 20_000 {
				d.add(c.got(c.arg(r, i)))
			}
		}
	}},
	{"wilson intervals", "4170eff1d5e9fd35", func(d bitsDigest) {
		for _, level := range []float64{0.8, 0.95, 0.99} {
			for n := 1; n <= 150; n++ {
				for k := 0; k <= n; k++ {
					d.interval(WilsonInterval(k, n, level))
					d.interval(WilsonCCInterval(k, n, level))
				}
			}
		}
	}},
	{"clopper-pearson intervals", "47bb109c858d584d", func(d bitsDigest) {
		for n := 1; n <= 24; n++ {
			for k := 0; k <= n; k++ {
				d.interval(ClopperPearsonInterval(k, n, 0.95))
			}
		}
		d.interval(ClopperPearsonInterval(37, 500, 0.9))
	}},
	{"paired binary (mcnemar, newcombe)", "e6f57abee29a6c47", func(d bitsDigest) {
		for n := 1; n <= 10; n++ {
			for a := 0; a <= n; a++ {
				for b := 0; a+b <= n; b++ {
					for c := 0; a+b+c <= n; c++ {
						res, err := ComparePairedBinary(PairedBinary{Both: a, OnlyA: b, OnlyB: c, Neither: n - a - b - c}, 0.95)
						d.interval(res.CI, err)
						d.add(res.PA, res.PB, res.Diff, res.P)
					}
				}
			}
		}
	}},
	{"sign and wilcoxon tests", "6aa1ccc3ab2c0904", func(d bitsDigest) {
		r := rand.New(rand.NewPCG(15, 6))
		for n := 2; n <= 80; n++ {
			for _, ties := range []bool{true, false} {
				a, b := pairedSample(r, n, ties)
				st, err := SignTest(a, b)
				if err != nil {
					panic(err)
				}
				wx, err := WilcoxonSignedRank(a, b)
				if err != nil {
					panic(err)
				}
				d.add(st.P, wx.WPlus, wx.WMinus, wx.Z, wx.P)
			}
		}
	}},
	{"bootstrap intervals", "fbc17cd2ba1e7d30", func(d bitsDigest) {
		r := rand.New(rand.NewPCG(15, 7))
		for i, n := range []int{2, 3, 4, 6, 10, 25} {
			for _, ties := range []bool{true, false} {
				a, b := pairedSample(r, n, ties)
				for _, m := range []BootstrapMethod{BootstrapPercentile, BootstrapBCa} {
					res, err := PairedMeanDiff(a, b, BootstrapOptions{Resamples: 2000, Seed: uint64(i), Method: m})
					d.interval(res.CI, err)
					d.add(res.MeanDiff, res.Z0, res.Accel)
				}
			}
		}
	}},
	{"kaplan-meier, quantiles, latency histogram", "8319eb3d4e5a14f3", func(d bitsDigest) {
		r := rand.New(rand.NewPCG(15, 8))
		for n := 1; n <= 40; n++ {
			obs := make([]Observation, n)
			xs := make([]float64, n)
			for i := range obs {
				obs[i] = Observation{Time: float64(r.IntN(20)) * 1.5e9, Event: r.IntN(3) > 0}
				xs[i] = r.Float64() * r.Float64() * 1e6
			}
			km, err := KaplanMeier(obs)
			if err != nil {
				panic(err)
			}
			for _, s := range km.Steps {
				d.add(s.Survival, s.StdErr)
			}
			med, err := km.Median(0.95)
			if err != nil {
				panic(err)
			}
			d.add(med.Median.Value, med.Lo.Value, med.Hi.Value)
			qs, err := Quantiles(xs, []float64{0, 0.1, 0.25, 0.5, 0.9, 0.99, 0.999, 1})
			if err != nil {
				panic(err)
			}
			d.add(qs...)
		}
		var h LatencyHist
		for range 10_000 {
			h.Record(int64(r.Float64() * r.Float64() * 1e6))
		}
		h.Record(math.MaxInt64)
		d.add(h.MeanNs())
	}},
}

// TestSameBitsOnEveryArchitecture computes the package's results over
// many inputs and compares a digest of their bits with the one amd64
// gives. On amd64 it pins the results; run on arm64 (.ci/run runs this
// package's tests under qemu-aarch64-static) it shows that fused
// multiply-adds and architecture-specific math change nothing.
func TestSameBitsOnEveryArchitecture(t *testing.T) {
	for _, g := range crossArchGroups {
		d := bitsDigest{sha256.New()}
		g.run(d)
		if got := hex.EncodeToString(d.h.Sum(nil))[:16]; got != g.want {
			t.Errorf("%s: digest %s on %s, amd64 gives %s: a result's bits differ. A product that is added without float64(...), or a math or gonum function, makes results depend on the architecture (see the package doc); a formula changed on purpose needs the new digest here, once arm64 agrees", g.name, got, runtime.GOARCH, g.want)
		}
	}
}

// exactMath are the functions of package math whose results are fixed by
// IEEE 754 or by their definition, so every architecture computes the
// same bits (math.FMA rounds once everywhere, in hardware or software).
var exactMath = map[string]bool{
	"Abs": true, "Ceil": true, "Copysign": true, "FMA": true, "Float64bits": true, "Float64frombits": true,
	"Floor": true, "Frexp": true, "Inf": true, "IsInf": true, "IsNaN": true, "Ldexp": true, "Max": true,
	"Min": true, "NaN": true, "Nextafter": true, "Round": true, "RoundToEven": true, "Signbit": true,
	"Sqrt": true, "Trunc": true,
}

// TestNoArchitectureDependentFunctions reads the non-test Go files of the
// packages that compute ab.json, sweep.json and replications.json and
// fails for a call of a math function outside exactMath (math.Exp, Log,
// Pow, Erfc, Lgamma, Exp2, ... are assembly or fused Go, and differ
// between architectures) and for an import of gonum: use the portable
// functions of elementary.go and normal.go instead.
func TestNoArchitectureDependentFunctions(t *testing.T) {
	fset := token.NewFileSet()
	files := 0
	for _, dir := range []string{".", "../ab", "../sweep"} {
		names, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			files++
			for _, imp := range f.Imports {
				if path, _ := strconv.Unquote(imp.Path.Value); strings.HasPrefix(path, "gonum.org/") {
					t.Errorf("%s: imports %s, whose floating-point code differs between architectures", fset.Position(imp.Pos()), path)
				}
			}
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "math" && !exactMath[sel.Sel.Name] {
					t.Errorf("%s: math.%s differs between architectures; use a portable function (elementary.go)", fset.Position(call.Pos()), sel.Sel.Name)
				}
				return true
			})
		}
	}
	if files < 20 {
		t.Fatalf("read only %d files", files)
	}
}
