package fieldref

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// Family is one metric family as an exposition (metrics.prom in the
// Prometheus text format, metrics.om in OpenMetrics) declares it.
type Family struct {
	Name string
	Type string // counter, gauge, histogram, ...
	Unit string // OpenMetrics' # UNIT, "" when not declared
	Help string
	// Labels are the label names its samples carry, sorted.
	Labels []string
}

// ParseExposition reads the metric families of a text exposition with
// prometheus/common's decoders, sorted by name (the text decoder keeps
// no order). An
// exposition is OpenMetrics when it ends with "# EOF" (OpenMetrics
// requires that line; the Prometheus text format has no such thing),
// and the Prometheus text format otherwise. Family names are as the
// format has them: OpenMetrics names a counter without its samples'
// _total, the text format with it.
func ParseExposition(text []byte) ([]Family, error) {
	format := expfmt.NewFormat(expfmt.TypeTextPlain)
	if bytes.HasSuffix(bytes.TrimRight(text, "\n"), []byte("# EOF")) {
		format = expfmt.NewFormat(expfmt.TypeOpenMetrics)
		// The OpenMetrics decoder checks every line against the grammar
		// (about 1.5 ms a line); a time series has many samples of each
		// series, and the families need only one.
		text = firstSamples(text)
	}
	dec := expfmt.NewDecoder(bytes.NewReader(text), format)
	var out []Family
	index := map[string]int{}
	for {
		var mf dto.MetricFamily
		err := dec.Decode(&mf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("decode %s: %w", string(format), err)
		}
		i, ok := index[mf.GetName()]
		if !ok {
			i = len(out)
			index[mf.GetName()] = i
			out = append(out, Family{Name: mf.GetName(), Type: strings.ToLower(mf.GetType().String()), Unit: mf.GetUnit(), Help: mf.GetHelp()})
		}
		f := &out[i]
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if !slices.Contains(f.Labels, l.GetName()) {
					f.Labels = append(f.Labels, l.GetName())
				}
			}
		}
		slices.Sort(f.Labels)
	}
	slices.SortFunc(out, func(a, b Family) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// firstSamples keeps the metadata lines of an exposition and the first
// sample of each series (a series: the line without its value and
// timestamp), in their order.
func firstSamples(text []byte) []byte {
	var out bytes.Buffer
	seen := map[string]bool{}
	for line := range strings.Lines(string(text)) {
		if !strings.HasPrefix(line, "#") {
			key := seriesKey(line)
			if seen[key] {
				continue
			}
			seen[key] = true
		}
		out.WriteString(line)
	}
	return out.Bytes()
}

// seriesKey is a sample line without its value and timestamp: the
// trailing fields that parse as numbers, at most two.
func seriesKey(line string) string {
	key := strings.TrimRight(line, "\n")
	for range 2 {
		i := strings.LastIndexByte(key, ' ')
		if i <= 0 {
			break
		}
		if _, err := strconv.ParseFloat(key[i+1:], 64); err != nil {
			break
		}
		key = strings.TrimRight(key[:i], " ")
	}
	return key
}
