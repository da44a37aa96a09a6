// Package sweep runs parameter sweeps: one base scenario run over a grid
// of overrides (the cross product of a few axes, each a scenario key with a
// list of values) and a range of seeds, with every run's summary kept in
// its own file so that a sweep can stop, resume, be split into shards
// across machines and be merged again.
//
// The pipeline is Load (or Parse) a sweep file → NewPlan, which resolves
// the base scenario and validates every point before anything runs →
// Execute (one shard, or all of it) → Aggregate, which reads the run files
// back and writes sweep.json and sweep.csv; Merge combines the directories
// of several shards into one.
//
// Determinism: a run's file depends only on its point's scenario and its
// seed (wall times are zeroed), runs are keyed by run id and never by
// completion order, and the aggregate is a pure function of the run files
// read in run-id order. So a sweep gives byte-identical directories for
// any number of workers, any interruption and resumption, and any split
// into shards merged afterwards.
package sweep

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/input/sweeps"
	"github.com/sbmpsim/sbmpsim/experiments/input/tomlfile"
)

// Limits on one sweep. A typo such as seeds = 1e6 is an error, not a month
// of computing.
const (
	MaxFileBytes     = tomlfile.MaxBytes
	MaxAxes          = 16
	MaxValuesPerAxis = 1000
	MaxPoints        = 10_000
	MaxSeeds         = 100_000
	MaxRuns          = 1_000_000
)

// File is a parsed sweep file: what it says, checked for form (keys and
// types) but not yet resolved against its scenario (see NewPlan).
type File struct {
	// Source is the path the file was read from, or "embedded:NAME".
	Source string
	// Name labels the sweep in its outputs; the file name without .toml
	// unless the file sets name.
	Name string
	// Scenario is the base scenario as the file names it: an embedded
	// scenario's name, "embedded:NAME", or a path relative to the file.
	Scenario string
	// Seed is the first seed when HasSeed; otherwise the base scenario's
	// run.seed is.
	Seed    uint64
	HasSeed bool
	// Seeds is the number of seeds each point runs on.
	Seeds int
	// Set are overrides applied to every point before the axes', as
	// `sbmpsim run --set` takes them.
	Set []string
	// Axes span the grid, in file order.
	Axes []Axis

	lines map[string]int
	// cliSets counts the overrides at the end of Set that AddSet added.
	cliSets int
}

// Axis is one dimension of the grid: one scenario key and its values, or
// several keys set together (a value is then one entry per key).
type Axis struct {
	// Keys are the scenario keys this axis sets, as `--set` takes them.
	Keys []string `json:"keys"`
	// Values holds one entry per grid value, each the TOML text of every
	// key's value, in Keys order.
	Values [][]string `json:"values"`
}

// Load reads and parses the sweep file at path. When no file exists at
// path and path names an embedded sweep ("swap-load", "swap-load.toml" or
// "embedded:swap-load"), that one is parsed instead.
func Load(path string) (*File, error) {
	source, data, err := sweeps.Format().Read(path)
	if err != nil {
		return nil, err
	}
	return Parse(source, data)
}

// Parse reads a sweep file's text. source names it in errors (a path, or
// "embedded:NAME"). Unknown keys, keys in the wrong case, wrong types and
// malformed TOML are *Error values naming the file, the line and the
// dotted key.
//
// The document is decoded into a generic map and checked against the
// format here, rather than decoded into a struct with MetaData.Undecoded
// catching unknown keys, because toml.Decode matches struct fields
// case-insensitively and Undecoded cannot say which [[axis]] table an
// unknown key sits in.
func Parse(source string, data []byte) (*File, error) {
	raw, positions, err := sweeps.Format().Decode(source, data)
	if err != nil {
		return nil, err
	}
	d := &fileDecoder{f: &File{Source: source, Name: tomlfile.BaseName(source, "sweep")}}
	d.f.lines = make(map[string]int, len(positions))
	for k, p := range positions {
		d.f.lines[k] = p.Line
	}
	d.errs = errorList{file: source, lines: d.f.lines}
	d.top(raw)
	if err := d.errs.err(); err != nil {
		return nil, err
	}
	return d.f, nil
}

// fileDecoder checks a decoded document against the sweep format.
type fileDecoder struct {
	f    *File
	errs errorList
}

// topKeys are the keys a sweep file may have at its top level.
var topKeys = []string{"name", "scenario", "seed", "seeds", "set", "axis"}

// axisKeys are the keys of one [[axis]] table.
var axisKeys = []string{"key", "keys", "values"}

// byLine returns m's keys in the order they are written (keys without a
// known line last, sorted).
func (d *fileDecoder) byLine(prefix string, m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	line := func(k string) int {
		if n, ok := d.f.lines[prefix+k]; ok {
			return n
		}
		return math.MaxInt
	}
	slices.SortFunc(keys, func(a, b string) int {
		if la, lb := line(a), line(b); la != lb {
			if la < lb {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	return keys
}

func (d *fileDecoder) top(raw map[string]any) {
	for _, k := range d.byLine("", raw) {
		v := raw[k]
		switch k {
		case "name":
			if s, ok := d.str(k, v); ok {
				if err := checkName(s); err != nil {
					d.errs.at(k, "%v", err)
				}
				d.f.Name = s
			}
		case "scenario":
			if s, ok := d.str(k, v); ok {
				if strings.TrimSpace(s) == "" {
					d.errs.at(k, "empty: name an embedded scenario (sbmpsim scenarios) or a file relative to the sweep file")
				}
				d.f.Scenario = s
			}
		case "seed":
			if n, ok := d.integer(k, v, 0, math.MaxInt64); ok {
				d.f.Seed, d.f.HasSeed = uint64(n), true
			}
		case "seeds":
			if n, ok := d.integer(k, v, 1, MaxSeeds); ok {
				d.f.Seeds = int(n)
			}
		case "set":
			d.set(v)
		case "axis":
			d.axes(v)
		default:
			d.errs.at(tomlfile.Key(k), "unknown key%s", suggest(k, topKeys))
		}
	}
	if _, ok := raw["scenario"]; !ok {
		d.errs.at("scenario", "required: the base scenario, an embedded name (sbmpsim scenarios) or a file relative to the sweep file")
	}
	if _, ok := raw["seeds"]; !ok {
		d.errs.at("seeds", "required: how many seeds each point runs on (seeds = 20)")
	}
	if d.f.HasSeed && d.f.Seeds > 0 && d.f.Seed > math.MaxInt64-uint64(d.f.Seeds-1) {
		d.errs.at("seed", "seeds %d..%d+%d pass the largest seed %d", d.f.Seed, d.f.Seed, d.f.Seeds-1, int64(math.MaxInt64))
	}
	d.checkKeysUnique()
}

func (d *fileDecoder) str(key string, v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		d.errs.at(key, "want a string, got %s", describe(v))
	}
	return s, ok
}

func (d *fileDecoder) integer(key string, v any, lo, hi int64) (int64, bool) {
	n, ok := v.(int64)
	if !ok {
		d.errs.at(key, "want an integer, got %s", describe(v))
		return 0, false
	}
	if n < lo || n > hi {
		d.errs.at(key, "must be %d..%d, got %d", lo, hi, n)
		return 0, false
	}
	return n, true
}

// list returns v as a generic array.
func (d *fileDecoder) list(key string, v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case []map[string]any:
		out := make([]any, len(x))
		for i, m := range x {
			out[i] = m
		}
		return out, true
	}
	d.errs.at(key, "want an array, got %s", describe(v))
	return nil, false
}

func (d *fileDecoder) set(v any) {
	items, ok := d.list("set", v)
	if !ok {
		return
	}
	for i, item := range items {
		key := "set." + strconv.Itoa(i)
		s, ok := d.str(key, item)
		if !ok {
			continue
		}
		k, _, found := strings.Cut(s, "=")
		switch k = strings.TrimSpace(k); {
		case !found || k == "":
			d.errs.at(key, "%q is not KEY=VALUE (for example \"kernel.swappiness=60\")", s)
		case k == "run.seed":
			d.errs.at(key, "run.seed: set the seeds with seed and seeds")
		default:
			d.f.Set = append(d.f.Set, s)
		}
	}
}

func (d *fileDecoder) axes(v any) {
	items, ok := d.list("axis", v)
	if !ok {
		return
	}
	if len(items) > MaxAxes {
		d.errs.at("axis", "%d axes: at most %d", len(items), MaxAxes)
		return
	}
	for i, item := range items {
		key := "axis." + strconv.Itoa(i)
		m, ok := item.(map[string]any)
		if !ok {
			d.errs.at(key, "want a table ([[axis]]), got %s", describe(item))
			continue
		}
		if a, ok := d.axis(key, m); ok {
			d.f.Axes = append(d.f.Axes, a)
		}
	}
	if d.f.Seeds > 0 && !d.errs.full() {
		points := 1
		for _, a := range d.f.Axes {
			points *= len(a.Values) // each <= MaxValuesPerAxis: no overflow before the check below
			if points > MaxPoints {
				d.errs.at("axis", "the grid has more than %d points: split the sweep", MaxPoints)
				return
			}
		}
		if points*d.f.Seeds > MaxRuns {
			d.errs.at("seeds", "%d points x %d seeds = %d runs: at most %d", points, d.f.Seeds, points*d.f.Seeds, MaxRuns)
		}
	}
}

// axis decodes one [[axis]] table.
func (d *fileDecoder) axis(key string, m map[string]any) (Axis, bool) {
	var a Axis
	ok := true
	for _, k := range d.byLine(key+".", m) {
		switch k {
		case "key":
			if s, good := d.str(key+".key", m[k]); good {
				a.Keys = []string{strings.TrimSpace(s)}
			} else {
				ok = false
			}
		case "keys":
			items, good := d.list(key+".keys", m[k])
			ok = ok && good
			for j, item := range items {
				if s, good := d.str(key+".keys."+strconv.Itoa(j), item); good {
					a.Keys = append(a.Keys, strings.TrimSpace(s))
				} else {
					ok = false
				}
			}
		case "values":
		default:
			d.errs.at(key+"."+tomlfile.Key(k), "unknown key%s", suggest(k, axisKeys))
			ok = false
		}
	}
	_, hasKey := m["key"]
	_, hasKeys := m["keys"]
	switch {
	case hasKey && hasKeys:
		d.errs.at(key+".keys", "give key (one scenario key) or keys (several set together), not both")
		return a, false
	case !hasKey && !hasKeys:
		d.errs.at(key, "key: required: the scenario key this axis sets, as --set takes it (key = \"kernel.swappiness\")")
		return a, false
	case hasKeys && ok && len(a.Keys) == 0:
		d.errs.at(key+".keys", "empty: name at least one scenario key")
		return a, false
	}
	for j, k := range a.Keys {
		at := key + ".key"
		if hasKeys {
			at = key + ".keys." + strconv.Itoa(j)
		}
		switch {
		case k == "":
			d.errs.at(at, "empty scenario key")
			ok = false
		case k == "run.seed":
			d.errs.at(at, "run.seed: the seeds are set with seed and seeds, for every point alike")
			ok = false
		case strings.ContainsAny(k, "= "):
			d.errs.at(at, "%q: a key, without =VALUE (the values go in values)", k)
			ok = false
		}
	}
	values, present := m["values"]
	if !present {
		d.errs.at(key, "values: required: the values of %s, for example values = [0, 60, 100]", strings.Join(a.Keys, ", "))
		return a, false
	}
	a.Values, ok = d.values(key+".values", values, hasKeys, len(a.Keys), ok)
	return a, ok
}

// values decodes an axis's values: each one value, or with keys (tuple)
// an array of n values.
func (d *fileDecoder) values(key string, v any, tuple bool, n int, ok bool) ([][]string, bool) {
	items, good := d.list(key, v)
	if !good {
		return nil, false
	}
	switch {
	case len(items) == 0:
		d.errs.at(key, "empty: give at least one value")
		return nil, false
	case len(items) > MaxValuesPerAxis:
		d.errs.at(key, "%d values: at most %d", len(items), MaxValuesPerAxis)
		return nil, false
	}
	out := make([][]string, 0, len(items))
	first := map[string]int{}
	for i, item := range items {
		at := key + "." + strconv.Itoa(i)
		parts := []any{item}
		if tuple {
			arr, isArr := item.([]any)
			if !isArr || len(arr) != n {
				d.errs.at(at, "want an array of %d values, one per key, got %s", n, describe(item))
				ok = false
				continue
			}
			parts = arr
		}
		texts := make([]string, len(parts))
		for j, p := range parts {
			s, err := literal(p)
			if err != nil {
				d.errs.at(at, "%v", err)
				ok = false
			}
			texts[j] = s
		}
		id := strings.Join(texts, "\x00")
		if j, dup := first[id]; dup {
			d.errs.at(at, "repeats value %d (%s): every point would run twice", j, strings.Join(texts, ", "))
			ok = false
			continue
		}
		first[id] = i
		out = append(out, texts)
	}
	return out, ok
}

// checkKeysUnique rejects a key set twice: by two axes, or by an axis and
// set (the axis would silently win).
func (d *fileDecoder) checkKeysUnique() {
	owner := map[string]string{}
	for i, s := range d.f.Set {
		k, _, _ := strings.Cut(s, "=")
		owner[strings.TrimSpace(k)] = "set." + strconv.Itoa(i)
	}
	for i, a := range d.f.Axes {
		for _, k := range a.Keys {
			at := "axis." + strconv.Itoa(i)
			if prev, dup := owner[k]; dup {
				d.errs.at(at, "%s is set by %s already: a key belongs to one axis or to set", k, prev)
				continue
			}
			owner[k] = at
		}
	}
}

// checkName applies the scenario rules for names to the sweep's name.
func checkName(s string) error {
	if s == "" || len(s) > 128 {
		return fmt.Errorf("must be 1..128 bytes, got %d", len(s))
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%q holds a control character", s)
		}
	}
	return nil
}

// suggest returns ` (did you mean "x"?)` for the known key closest to k,
// or lists the known keys when none is close.
func suggest(k string, known []string) string {
	if best := tomlfile.Closest(k, known); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return fmt.Sprintf(" (known: %s)", strings.Join(known, ", "))
}
