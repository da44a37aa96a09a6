package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"unicode"

	"github.com/sbmpsim/sbmpsim/internal/buildinfo"
)

// benchText is a file in Go's benchmark format
// (golang.org/design/14313-benchmark-format), which benchstat reads:
// configuration lines ("key: value"), unit metadata lines ("Unit UNIT
// better=higher"), then one line per measurement. `sbmpsim bench all
// --out FILE` writes one, so that `benchstat old.txt new.txt` compares
// two builds.
type benchText struct {
	// Config are the file's configuration lines, in order.
	Config []benchConfig
	// Units says which way is better for each custom unit.
	Units []benchUnit
	// Lines are the measurements, one per repeat.
	Lines []benchLine
}

// benchConfig is one "key: value" line. benchstat splits its tables by
// every key whose values differ between the files compared, so keys
// that name the build (revision, version) are not config lines: they are
// written as comments.
type benchConfig struct{ Key, Value string }

// benchUnit is one "Unit UNIT better=BETTER" line.
type benchUnit struct{ Unit, Better string }

// benchLine is one measurement: "Benchmark" + Name + "-" + Procs, the
// iterations (operations timed) and the metrics.
type benchLine struct {
	Name    string
	Procs   int
	Iters   int64
	Metrics []benchMetric
}

// benchMetric is one value with its unit ("ns/op", "ops/s", ...).
type benchMetric struct {
	Value float64
	Unit  string
}

// benchHeader returns the configuration lines Go's testing package
// writes (goos, goarch, pkg, cpu), plus the Go version; cpu is left out
// when this system does not say.
func benchHeader() []benchConfig {
	c := []benchConfig{
		{"goos", runtime.GOOS}, {"goarch", runtime.GOARCH},
		{"pkg", "github.com/sbmpsim/sbmpsim/cmd/sbmpsim"},
	}
	if cpu := cpuModel(); cpu != "" {
		c = append(c, benchConfig{"cpu", cpu})
	}
	return c
}

// cpuModel returns the processor's model name from /proc/cpuinfo, or ""
// when there is none (not Linux, or no such line).
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// benchName makes s usable as part of a benchmark name: no white space
// (a file name may have some).
func benchName(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return '_'
		}
		return r
	}, s)
}

// WriteTo writes t in the benchmark format. It checks every line against
// the format's grammar, and fails rather than write one that benchstat
// would misread.
func (t *benchText) WriteTo(w io.Writer) (int64, error) {
	var b bytes.Buffer
	v := buildinfo.Current()
	fmt.Fprintf(&b, "# sbmpsim %s\n", v)
	for _, c := range t.Config {
		if !validConfigKey(c.Key) || strings.ContainsAny(c.Value, "\n\r") {
			return 0, fmt.Errorf("benchmark format: bad configuration line %q: %q", c.Key, c.Value)
		}
		fmt.Fprintf(&b, "%s: %s\n", c.Key, strings.TrimSpace(c.Value))
	}
	for _, u := range t.Units {
		if !validField(u.Unit) || (u.Better != "higher" && u.Better != "lower") {
			return 0, fmt.Errorf("benchmark format: bad unit line %q better=%q", u.Unit, u.Better)
		}
		fmt.Fprintf(&b, "Unit %s better=%s\n", u.Unit, u.Better)
	}
	for _, l := range t.Lines {
		if err := l.check(); err != nil {
			return 0, err
		}
		fmt.Fprintf(&b, "Benchmark%s-%d\t%d", l.Name, l.Procs, l.Iters)
		for _, m := range l.Metrics {
			fmt.Fprintf(&b, "\t%s %s", formatMetric(m.Value), m.Unit)
		}
		b.WriteByte('\n')
	}
	return b.WriteTo(w)
}

// check reports what makes l not a benchmark line.
func (l benchLine) check() error {
	switch {
	case l.Name == "" || !validField(l.Name) || unicode.IsLower(rune(l.Name[0])):
		return fmt.Errorf("benchmark format: bad name %q (no white space, and not starting in lower case)", l.Name)
	case l.Procs < 1 || l.Iters < 1:
		return fmt.Errorf("benchmark format: %s: %d procs, %d iterations: want at least 1 of each", l.Name, l.Procs, l.Iters)
	case len(l.Metrics) == 0:
		return fmt.Errorf("benchmark format: %s has no metrics", l.Name)
	}
	for _, m := range l.Metrics {
		if !validField(m.Unit) || math.IsNaN(m.Value) || math.IsInf(m.Value, 0) {
			return fmt.Errorf("benchmark format: %s: bad metric %v %q", l.Name, m.Value, m.Unit)
		}
	}
	return nil
}

// validConfigKey: a key starts with a lower-case letter and holds no
// white space or colon.
func validConfigKey(k string) bool {
	return k != "" && unicode.IsLower(rune(k[0])) && validField(k) && !strings.Contains(k, ":")
}

// validField: one non-empty field, no white space.
func validField(s string) bool {
	return s != "" && strings.IndexFunc(s, unicode.IsSpace) < 0
}

// formatMetric prints v with four significant digits, or as a whole
// number from 10,000 on (rates per second).
func formatMetric(v float64) string {
	if math.Abs(v) >= 1e4 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}
