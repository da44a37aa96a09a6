package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/input/scenarios"
	"github.com/sbmpsim/sbmpsim/experiments/input/tomlfile"
)

// PlanSchema names the version of plan.json's layout.
const PlanSchema = "sbmpsim.sweep-plan/v1"

// PlanFile is plan.json: the resolved sweep, everything that fixes its
// runs and its aggregate, without the scenario itself (which Hash
// covers). Every directory of a sweep holds the same plan.json; merge
// reads it to rebuild the aggregate without the sweep file.
//
// Points are numbered in grid order: the first axis varies slowest and
// the last fastest, as in nested loops written in file order. Runs are
// numbered point-major, seeds ascending within a point: run i is point
// i / Seeds with seed SeedFirst + i % Seeds.
type PlanFile struct {
	Schema string `json:"schema"`
	// Sweep is the sweep's name.
	Sweep string `json:"sweep"`
	// Hash is the SHA-256 (hex) of the resolved sweep: name, base
	// scenario (its canonical TOML after the fixed overrides), seeds,
	// overrides and axes. Equal hashes, same runs.
	Hash string `json:"hash"`
	// Scenario is the base scenario's run.name; Source names it as the
	// sweep file does ("embedded:NAME" or a path relative to the file).
	Scenario string `json:"scenario"`
	Source   string `json:"source"`
	// SeedFirst and Seeds give each point's seeds: SeedFirst ..
	// SeedFirst+Seeds-1.
	SeedFirst uint64 `json:"seed_first"`
	Seeds     int    `json:"seeds"`
	// Overrides apply to every point, before its own.
	Overrides []string `json:"overrides"`
	Axes      []Axis   `json:"axes"`
	// Points are the grid points in order.
	Points []PlanPoint `json:"points"`
	// Runs is len(Points) * Seeds.
	Runs int `json:"runs"`
}

// PlanPoint is one grid point: its id and its overrides (one KEY=VALUE
// per axis key, in axis order), as `sbmpsim run --set` takes them.
type PlanPoint struct {
	ID        string   `json:"id"`
	Overrides []string `json:"overrides"`
}

// Run names one run of a sweep.
type Run struct {
	// Index is the run's place in the fixed run order, 0-based.
	Index int
	// ID is "p<point>-s<seed>", zero-padded so that ids sort in run order:
	// "p003-s07". Its run file is runs/ID.json.
	ID    string
	Point int
	Seed  uint64
}

// Run returns run i of the plan, 0 <= i < p.Runs.
func (p *PlanFile) Run(i int) Run {
	point, k := i/p.Seeds, i%p.Seeds
	seed := p.SeedFirst + uint64(k)
	last := p.SeedFirst + uint64(p.Seeds-1)
	id := p.Points[point].ID + "-s" + pad(seed, len(strconv.FormatUint(last, 10)))
	return Run{Index: i, ID: id, Point: point, Seed: seed}
}

// pad formats v zero-padded to width digits.
func pad(v uint64, width int) string {
	s := strconv.FormatUint(v, 10)
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}

// Plan is a sweep resolved against its base scenario, every point
// validated: ready to run.
type Plan struct {
	PlanFile
	// BasePath is where the base scenario was loaded from, relative to
	// the working directory: what a replay command names.
	BasePath string
	// points holds each point's validated scenario.
	points []*scenario.Scenario
	// fileSets counts the fixed overrides the sweep file wrote; the
	// others came from --set (File.AddSet).
	fileSets int
}

// PointScenario returns a copy of point i's scenario with run.seed set to seed.
func (p *Plan) PointScenario(point int, seed uint64) *scenario.Scenario {
	sc := p.points[point].Clone()
	sc.Run.Seed = seed
	return sc
}

// NewPlan resolves f's base scenario (relative to f), applies the fixed
// overrides, builds every grid point and validates its scenario, so that
// any mistake shows before the first run. Errors are *Error values (joined
// when there are several) naming the sweep file, the line and the axis
// value at fault, with the scenario's own error after it.
func NewPlan(f *File) (*Plan, error) {
	errs := errorList{file: f.Source, lines: f.lines}
	base, loadPath, source, err := resolveBase(f)
	if err != nil {
		errs.at("scenario", "%v", err)
		return nil, errs.err()
	}
	fileSets := len(f.Set) - f.cliSets
	for i, s := range f.Set {
		if err := base.Set(s); err != nil {
			errs.at(setKey(i, fileSets), "%v", err)
		}
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	p := &Plan{BasePath: loadPath, fileSets: fileSets, PlanFile: PlanFile{
		Schema: PlanSchema, Sweep: f.Name, Scenario: base.Run.Name, Source: source,
		SeedFirst: base.Run.Seed, Seeds: f.Seeds, Overrides: append([]string{}, f.Set...), Axes: f.Axes,
	}}
	if f.HasSeed {
		p.SeedFirst = f.Seed
	}
	if p.SeedFirst > math.MaxInt64-uint64(f.Seeds-1) {
		errs.at("seeds", "seeds %d..%d+%d pass the largest seed %d", p.SeedFirst, p.SeedFirst, f.Seeds-1, int64(math.MaxInt64))
		return nil, errs.err()
	}
	checkAxes(&errs, base, f.Axes)
	if err := errs.err(); err != nil {
		return nil, err
	}
	p.buildPoints(&errs, base)
	if err := errs.err(); err != nil {
		return nil, err
	}
	p.Runs = len(p.Points) * p.Seeds
	if p.Hash, err = planHash(&p.PlanFile, base); err != nil {
		return nil, err
	}
	return p, nil
}

// resolveBase loads the base scenario f names. It returns the scenario,
// the path it was loaded from and its canonical source: "embedded:NAME",
// or the path as the sweep file writes it, which does not depend on the
// working directory.
func resolveBase(f *File) (*scenario.Scenario, string, string, error) {
	ref := strings.TrimSpace(f.Scenario)
	load := func(path, source string) (*scenario.Scenario, string, string, error) {
		sc, err := scenario.Load(path)
		if err != nil {
			return nil, "", "", err
		}
		if source == "" {
			source = sc.Source
		}
		return sc, path, source, nil
	}
	bare := !strings.ContainsAny(ref, `/\`)
	switch {
	case strings.HasPrefix(ref, tomlfile.EmbeddedPrefix):
		return load(ref, "")
	case strings.HasPrefix(f.Source, tomlfile.EmbeddedPrefix):
		if !bare {
			return nil, "", "", fmt.Errorf("%q: an embedded sweep names embedded scenarios only", ref)
		}
		return load(tomlfile.EmbeddedPrefix+ref, "")
	}
	path := ref
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(f.Source), ref)
	}
	if _, err := os.Stat(path); err == nil {
		return load(path, filepath.ToSlash(filepath.Clean(ref)))
	}
	if bare && scenarios.Has(ref) {
		return load(tomlfile.EmbeddedPrefix+ref, "")
	}
	return nil, "", "", fmt.Errorf("%q: no file %s (paths are relative to the sweep file) and no embedded scenario of that name (embedded: %s)",
		ref, path, strings.Join(scenarios.Names(), ", "))
}

// axisProblem is one axis value that does not apply to the base
// scenario.
type axisProblem struct {
	key string // "axis.A.values.V"
	set string // the override that failed, KEY=VALUE
	err error  // the scenario's error
}

// checkAxes applies each axis value alone to base, catching unknown keys
// and type errors at the value that has them. An error every value of a
// one-key axis shares (an unknown key) is reported once, at the key.
func checkAxes(errs *errorList, base *scenario.Scenario, axes []Axis) {
	for ai, a := range axes {
		at := "axis." + strconv.Itoa(ai)
		var problems []axisProblem
		for vi, vals := range a.Values {
			c := base.Clone()
			for ki, k := range a.Keys {
				if err := c.Set(k + "=" + vals[ki]); err != nil {
					problems = append(problems, axisProblem{fmt.Sprintf("%s.values.%d", at, vi), k + "=" + vals[ki], err})
					break
				}
			}
		}
		if len(problems) == len(a.Values) && len(a.Keys) == 1 && sameError(problems) {
			errs.at(at+".key", "%v", problems[0].err)
			continue
		}
		for _, pr := range problems {
			errs.at(pr.key, "%s: %v", pr.set, pr.err)
		}
	}
}

// sameError reports whether every problem has the same scenario error.
func sameError(problems []axisProblem) bool {
	for _, p := range problems[1:] {
		if p.err.Error() != problems[0].err.Error() {
			return false
		}
	}
	return true
}

// buildPoints builds and validates every grid point into p.Points and
// p.points. A problem is reported at the axis value (or fixed override)
// that set the key the scenario complains about, else at the point; the
// same scenario error is reported once, for the first point that has it.
func (p *Plan) buildPoints(errs *errorList, base *scenario.Scenario) {
	n := 1
	for _, a := range p.Axes {
		n *= len(a.Values)
	}
	width := max(3, len(strconv.Itoa(n-1)))
	seen := map[string]bool{}
	idx := make([]int, len(p.Axes))
	for pi := 0; pi < n && !errs.full(); pi++ {
		// Mixed radix, last axis fastest.
		for ai, rest := len(p.Axes)-1, pi; ai >= 0; ai-- {
			idx[ai] = rest % len(p.Axes[ai].Values)
			rest /= len(p.Axes[ai].Values)
		}
		pt := PlanPoint{ID: "p" + pad(uint64(pi), width), Overrides: []string{}}
		var origin []string // origin[j]: where Overrides[j] was written
		c := base.Clone()
		var failed error
		failedAt := ""
		for ai, a := range p.Axes {
			for ki, k := range a.Keys {
				o := k + "=" + a.Values[idx[ai]][ki]
				pt.Overrides = append(pt.Overrides, o)
				at := fmt.Sprintf("axis.%d.values.%d", ai, idx[ai])
				origin = append(origin, at)
				if failed == nil {
					if err := c.Set(o); err != nil {
						failed, failedAt = fmt.Errorf("%s: %w", o, err), at
					}
				}
			}
		}
		if failed == nil {
			if err := c.Validate(); err != nil {
				failed, failedAt = err, p.blame(err, pt.Overrides, origin)
			}
		}
		if failed != nil {
			if !seen[failed.Error()] {
				seen[failed.Error()] = true
				errs.at(failedAt, "point %s (%s): %v", pt.ID, strings.Join(pt.Overrides, " "), failed)
			}
			continue
		}
		p.Points = append(p.Points, pt)
		p.points = append(p.points, c)
	}
}

// blame returns where the override that set the key a validation error
// names was written: an axis value, a fixed override, or "" (the point
// as a whole) when no override set it.
func (p *Plan) blame(err error, overrides, origin []string) string {
	var se *scenario.Error
	if !errors.As(err, &se) || se.File != scenario.SetSource || se.Key == "" {
		return ""
	}
	covers := func(o string) bool {
		k, _, _ := strings.Cut(o, "=")
		k = strings.TrimSpace(k)
		return se.Key == k || strings.HasPrefix(se.Key, k+".")
	}
	for j := len(overrides) - 1; j >= 0; j-- {
		if covers(overrides[j]) {
			return origin[j]
		}
	}
	for j := len(p.Overrides) - 1; j >= 0; j-- {
		if covers(p.Overrides[j]) {
			return setKey(j, p.fileSets)
		}
	}
	return ""
}

// planHash is the SHA-256 of everything that fixes the sweep's runs: the
// plan's fields and the canonical TOML of the base scenario after the
// fixed overrides (so an edited scenario file changes the hash).
func planHash(pf *PlanFile, base *scenario.Scenario) (string, error) {
	toml, err := base.Encode()
	if err != nil {
		return "", err
	}
	in := struct {
		Plan *PlanFile `json:"plan"`
		Base string    `json:"base_scenario"`
	}{pf, string(toml)}
	b, err := json.Marshal(in)
	if err != nil {
		return "", fmt.Errorf("hash sweep plan: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
