package workload

import (
	"fmt"
	"math"

	"github.com/sbmpsim/sbmpsim/sim"
)

// MaxSizeBytes is the largest size any Size draws (256 TiB): larger than
// any machine's memory, and small enough that 2¹⁵ such objects still sum
// within int64. It bounds an unclamped lognormal's tail and every size a
// constructor or histogram accepts.
const MaxSizeBytes int64 = 1 << 48

// maxTableRows bounds the entries of a discrete size or the rows of a
// histogram, so a garbage file cannot make a table of any size.
const maxTableRows = 1 << 20

type sizeKind uint8

const (
	sizeFixed sizeKind = iota + 1
	sizeTable
	sizeLognormal
)

// Size draws allocation sizes in bytes, each in [1, MaxSizeBytes]. Build
// one with FixedSize, DiscreteSize, LognormalSize or HistogramSize; the
// zero Size is not usable. A Size is immutable: share it freely.
type Size struct {
	kind  sizeKind
	name  string
	fixed int64
	// sizeTable: an alias table over rows; row i draws uniformly from
	// [lo[i], lo[i]+span[i]] (span 0: exactly lo[i]).
	table aliasTable
	lo    []int64
	span  []uint64
	// sizeLognormal: ln X ~ N(mu, sigma²); draws round X to whole bytes
	// and clamp to [minBytes, maxBytes].
	mu, sigma          float64
	minBytes, maxBytes int64
	mean               float64
}

// FixedSize returns a Size that always draws sizeBytes.
func FixedSize(sizeBytes int64) (Size, error) {
	if err := checkSizeBytes("fixed size", "size_bytes", sizeBytes); err != nil {
		return Size{}, err
	}
	return Size{kind: sizeFixed, name: "fixed", fixed: sizeBytes, mean: float64(sizeBytes)}, nil
}

// DiscreteSize returns a Size that draws sizesBytes[i] with probability
// weights[i] / sum(weights), in O(1) by an alias table. The slices must
// have the same length (1 to 2²⁰); sizes repeat freely (their weights
// add); weights are finite, >= 0, and at least one is > 0. The Size keeps
// no reference to either slice.
func DiscreteSize(sizesBytes []int64, weights []float64) (Size, error) {
	const what = "discrete size"
	if len(sizesBytes) == 0 {
		return Size{}, fmt.Errorf("%s: sizes_bytes is empty; give at least one size", what)
	}
	if len(weights) != len(sizesBytes) {
		return Size{}, fmt.Errorf("%s: sizes_bytes has %d entries but weights has %d; give one weight per size",
			what, len(sizesBytes), len(weights))
	}
	if len(sizesBytes) > maxTableRows {
		return Size{}, fmt.Errorf("%s: sizes_bytes has %d entries, more than the limit %d", what, len(sizesBytes), maxTableRows)
	}
	rows := make([]HistogramRow, len(sizesBytes))
	for i, s := range sizesBytes {
		if err := checkSizeBytes(what, fmt.Sprintf("sizes_bytes[%d]", i), s); err != nil {
			return Size{}, err
		}
		rows[i] = HistogramRow{LoBytes: s, HiBytes: s, Weight: weights[i]}
	}
	if err := checkWeights(what, "weights[%d]", rows); err != nil {
		return Size{}, err
	}
	return tableSize("discrete", rows), nil
}

// HistogramSize returns a Size that draws from an empirical histogram
// (see ParseHistogram): a row with weight w is chosen with probability
// w / (sum of weights), then a size uniform over its [LoBytes, HiBytes].
// Rows may overlap; the distribution is then their mixture.
func HistogramSize(h Histogram) (Size, error) {
	const what = "histogram size"
	if len(h.Rows) == 0 {
		return Size{}, fmt.Errorf("%s: the histogram has no rows", what)
	}
	if len(h.Rows) > maxTableRows {
		return Size{}, fmt.Errorf("%s: the histogram has %d rows, more than the limit %d", what, len(h.Rows), maxTableRows)
	}
	for i, row := range h.Rows {
		if err := checkSizeBytes(what, fmt.Sprintf("rows[%d].lo_bytes", i), row.LoBytes); err != nil {
			return Size{}, err
		}
		if err := checkSizeBytes(what, fmt.Sprintf("rows[%d].hi_bytes", i), row.HiBytes); err != nil {
			return Size{}, err
		}
		if row.HiBytes < row.LoBytes {
			return Size{}, fmt.Errorf("%s: rows[%d]: hi_bytes %d is below lo_bytes %d", what, i, row.HiBytes, row.LoBytes)
		}
	}
	if err := checkWeights(what, "rows[%d].weight", h.Rows); err != nil {
		return Size{}, err
	}
	return tableSize("histogram", h.Rows), nil
}

// LognormalSizeParams are the parameters of LognormalSize.
type LognormalSizeParams struct {
	// MedianBytes is the median of the unclamped distribution, e^mu;
	// 1 <= MedianBytes <= MaxSizeBytes.
	MedianBytes float64
	// Sigma is the standard deviation of the size's logarithm; > 0.
	Sigma float64
	// MinBytes and MaxBytes clamp the draws: a size below MinBytes is
	// drawn as MinBytes, one above MaxBytes as MaxBytes. 0 means no clamp
	// (then 1 and MaxSizeBytes bound the draws).
	MinBytes, MaxBytes int64
}

// LognormalSize returns a Size whose draws are a lognormal variable X
// (ln X ~ N(ln MedianBytes, Sigma²)) rounded to whole bytes and clamped to
// [max(1, MinBytes), MaxBytes or MaxSizeBytes].
//
// Unclamped, the mean is MedianBytes·e^(Sigma²/2). Clamped to [lo, hi]
// it is lo·P(X < lo-½) + hi·P(X >= hi+½) + E[X; lo-½ <= X < hi+½], where
// the last term is MedianBytes·e^(Sigma²/2)·(Φ(b-Sigma) - Φ(a-Sigma)) with
// a, b the standardised logarithms of lo-½ and hi+½. Mean computes this in
// closed form; it is the mean of what Draw returns to within half a byte
// (the rounding), and the ½s put the clamps exactly where rounding does.
func LognormalSize(p LognormalSizeParams) (Size, error) {
	const what = "lognormal size"
	if !(p.MedianBytes >= 1 && p.MedianBytes <= float64(MaxSizeBytes)) {
		return Size{}, fmt.Errorf("%s: median_bytes must be in [1, %d], got %v", what, MaxSizeBytes, p.MedianBytes)
	}
	if !(p.Sigma > 0) || math.IsInf(p.Sigma, 0) {
		return Size{}, fmt.Errorf("%s: sigma must be > 0 and finite, got %v", what, p.Sigma)
	}
	if p.MinBytes != 0 {
		if err := checkSizeBytes(what, "min_bytes", p.MinBytes); err != nil {
			return Size{}, err
		}
	}
	if p.MaxBytes != 0 {
		if err := checkSizeBytes(what, "max_bytes", p.MaxBytes); err != nil {
			return Size{}, err
		}
	}
	lo, hi := max(1, p.MinBytes), MaxSizeBytes
	if p.MaxBytes != 0 {
		hi = p.MaxBytes
	}
	if hi < lo {
		return Size{}, fmt.Errorf("%s: max_bytes %d is below min_bytes %d", what, hi, lo)
	}
	s := Size{
		kind:     sizeLognormal,
		name:     "lognormal",
		mu:       math.Log(p.MedianBytes),
		sigma:    p.Sigma,
		minBytes: lo,
		maxBytes: hi,
	}
	s.mean = clampedLognormalMean(s.mu, s.sigma, float64(lo), float64(hi))
	return s, nil
}

// clampedLognormalMean is E[clamp(X, lo, hi)] for ln X ~ N(mu, sigma²)
// with the clamps moved out by half a unit, as rounding moves them. The
// partial expectation is computed in logarithms, so a huge sigma gives a
// finite answer instead of ∞·0.
func clampedLognormalMean(mu, sigma, lo, hi float64) float64 {
	a := (math.Log(lo-0.5) - mu) / sigma
	b := (math.Log(hi+0.5) - mu) / sigma
	below := normalCDF(a)
	above := normalCDF(-b)
	var inside float64
	if m := normalMass(a-sigma, b-sigma); m > 0 {
		inside = math.Exp(mu + float64(sigma*sigma/2) + math.Log(m))
	}
	return float64(lo*below) + float64(hi*above) + inside
}

// tableSize builds a table Size from validated rows.
func tableSize(name string, rows []HistogramRow) Size {
	s := Size{kind: sizeTable, name: name}
	weights := make([]float64, len(rows))
	s.lo = make([]int64, len(rows))
	s.span = make([]uint64, len(rows))
	var sum float64
	for i, row := range rows {
		weights[i] = row.Weight
		s.lo[i] = row.LoBytes
		s.span[i] = uint64(row.HiBytes - row.LoBytes)
		sum += row.Weight
	}
	// Normalise before multiplying: weights near MaxFloat64 times sizes
	// would overflow.
	for _, row := range rows {
		s.mean += float64(row.Weight / sum * (float64(float64(row.LoBytes)/2) + float64(float64(row.HiBytes)/2)))
	}
	s.table = newAliasTable(weights)
	if sizeFixedTable(s) {
		s.kind, s.fixed = sizeFixed, s.lo[0]
	}
	return s
}

// sizeFixedTable reports whether a table has one row of one size, which
// Draw then serves without touching the stream, as FixedSize does.
func sizeFixedTable(s Size) bool { return len(s.lo) == 1 && s.span[0] == 0 }

// Draw returns one size in bytes. Fixed sizes draw nothing from r; a
// discrete size or histogram row of one size draws one Uint64; a
// histogram range row draws one more (sometimes two, by rejection); a
// lognormal draws one normal (usually one Uint64, by ziggurat).
func (s *Size) Draw(r *sim.Stream) int64 {
	switch s.kind {
	case sizeFixed:
		return s.fixed
	case sizeTable:
		i := s.table.draw(r)
		if s.span[i] == 0 {
			return s.lo[i]
		}
		return s.lo[i] + int64(uniformBelow(r, s.span[i]+1))
	case sizeLognormal:
		x := math.Exp(s.mu + float64(s.sigma*normal(r)))
		// Compare as floats before converting, so a huge x never
		// overflows int64; the ½s match clampedLognormalMean.
		if x < float64(s.minBytes)-0.5 {
			return s.minBytes
		}
		if x >= float64(s.maxBytes)+0.5 {
			return s.maxBytes
		}
		return int64(math.Round(x))
	}
	panic("workload: Draw on a zero Size; build one with FixedSize, DiscreteSize, LognormalSize or HistogramSize")
}

// Mean returns the mean of the sizes Draw returns, in bytes: exact (to
// float64 rounding) for fixed, discrete and histogram sizes, and for a
// lognormal the closed form LognormalSize documents.
func (s *Size) Mean() float64 { return s.mean }

// String describes the distribution, for logs and errors.
func (s *Size) String() string {
	switch s.kind {
	case sizeFixed:
		return fmt.Sprintf("%s(%d B)", s.name, s.fixed)
	case sizeTable:
		return fmt.Sprintf("%s(%d rows, mean %.6g B)", s.name, len(s.lo), s.mean)
	case sizeLognormal:
		return fmt.Sprintf("lognormal(median %.6g B, sigma %g, clamp [%d, %d] B)", math.Exp(s.mu), s.sigma, s.minBytes, s.maxBytes)
	}
	return "unset size"
}

func checkSizeBytes(what, param string, v int64) error {
	if v < 1 || v > MaxSizeBytes {
		return fmt.Errorf("%s: %s must be in [1, %d], got %d", what, param, MaxSizeBytes, v)
	}
	return nil
}

// checkWeights checks that rows' weights are finite, non-negative and sum
// to a positive finite total. param is the weight's name in errors, with
// a %d for the row index.
func checkWeights(what, param string, rows []HistogramRow) error {
	var sum float64
	for i, row := range rows {
		w := row.Weight
		if !(w >= 0) || math.IsInf(w, 0) {
			return fmt.Errorf("%s: %s must be finite and >= 0, got %v", what, fmt.Sprintf(param, i), w)
		}
		sum += w
	}
	if !(sum > 0) {
		return fmt.Errorf("%s: every weight is 0; give at least one a positive weight", what)
	}
	if math.IsInf(sum, 0) {
		return fmt.Errorf("%s: the weights sum to infinity; scale them down", what)
	}
	return nil
}
