package canon

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
	"github.com/sbmpsim/sbmpsim/experiments/sweep"
	"github.com/sbmpsim/sbmpsim/experiments/world"
)

// Input is one scenario an experiment simulates and the seeds it runs
// it on. An Env records the Inputs of every run it is asked for (RunSeeds,
// RunAll, RunSweep, Run); an experiment's Plan lists the same Inputs
// without running them, so that `experiment run` can say beforehand how
// much it will simulate and `experiment manifest` can record the inputs
// of outputs already on disk.
type Input struct {
	// Scenario is the resolved scenario. Its run.seed is not part of the
	// input: Seeds is.
	Scenario *scenario.Scenario
	Seeds    []uint64
	// StopAtNs is the simulated time the runs stop at when it is before
	// the scenario's end (world.Options.StopAtNs); 0 runs them whole.
	StopAtNs int64
	// Sweep is the hash of the sweep plan the runs belong to, "" outside
	// a sweep: the experiments of one Env share a sweep's runs (RunSweep),
	// so a second experiment reading it simulates nothing.
	Sweep string
}

// SimNs is the simulated time of each of the input's runs.
func (in Input) SimNs() int64 {
	d := in.Scenario.Run.DurationMs * 1e6
	if in.StopAtNs > 0 && in.StopAtNs < d {
		return in.StopAtNs
	}
	return d
}

// ScenarioInputs are the inputs of running each of scs once on its own
// run.seed, as RunAll runs them.
func ScenarioInputs(scs []*scenario.Scenario) []Input {
	out := make([]Input, len(scs))
	for i, sc := range scs {
		out[i] = Input{Scenario: sc, Seeds: []uint64{sc.Run.Seed}}
	}
	return out
}

// SweepInputs are the inputs of the sweep p: each point on the plan's
// seeds, as RunSweep runs them.
func SweepInputs(p *sweep.Plan) []Input {
	seeds := make([]uint64, p.Seeds)
	for i := range seeds {
		seeds[i] = p.SeedFirst + uint64(i)
	}
	out := make([]Input, len(p.Points))
	for i := range p.Points {
		out[i] = Input{Scenario: p.PointScenario(i, p.SeedFirst), Seeds: seeds, Sweep: p.Hash}
	}
	return out
}

// VariantScenarios loads every variant of the embedded scenario base,
// with the common overrides first, as RunVariants runs them.
func VariantScenarios(base string, common []string, vs []Variant) ([]*scenario.Scenario, error) {
	out := make([]*scenario.Scenario, len(vs))
	for i, v := range vs {
		sc, err := Load(base, append(append([]string(nil), common...), v.Sets...)...)
		if err != nil {
			return nil, fmt.Errorf("variant %s: %w", v.Name, err)
		}
		out[i] = sc
	}
	return out, nil
}

// VariantInputs are the inputs of RunVariants(base, common, vs, seeds).
func VariantInputs(base string, common []string, vs []Variant, seeds []uint64) ([]Input, error) {
	scs, err := VariantScenarios(base, common, vs)
	if err != nil {
		return nil, err
	}
	out := make([]Input, len(scs))
	for i, sc := range scs {
		out[i] = Input{Scenario: sc, Seeds: seeds}
	}
	return out, nil
}

// recorder keeps the inputs of the runs an Env was asked for, in the
// order asked.
type recorder struct {
	mu     sync.Mutex
	inputs []Input
}

func (r *recorder) add(in ...Input) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inputs = append(r.inputs, in...)
}

// take returns the inputs recorded so far and forgets them.
func (r *recorder) take() []Input {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	in := r.inputs
	r.inputs = nil
	return in
}

// Run runs sc once on its own seed with opt, as world.Run does, and
// records it as an input of the experiment.
func (e *Env) Run(sc *scenario.Scenario, opt world.Options) (*world.Result, error) {
	e.rec.add(Input{Scenario: sc, Seeds: []uint64{sc.Run.Seed}, StopAtNs: opt.StopAtNs})
	return world.Run(e.Ctx, sc, opt)
}

// RunExperiment runs x with env into a new Out, which keeps the inputs
// x asked env to run (Out.Inputs). Experiments run with one Env must run
// one after the other.
func RunExperiment(env *Env, x Experiment) (*Out, error) {
	o := NewOut(x)
	env.rec.take()
	err := x.Run(env, o)
	o.inputs = env.rec.take()
	return o, err
}

// Inputs returns the inputs of the runs the experiment asked for, when
// it was run by RunExperiment.
func (o *Out) Inputs() []Input { return o.inputs }

// InputEntry is the manifest's record of one input: a resolved scenario
// and the seeds it ran on. Equal scenarios run for equally long are one
// entry, whatever the experiment's batches.
type InputEntry struct {
	// Scenario names where it came from ("embedded:oom-crisis").
	Scenario string `json:"scenario"`
	// Name is its run.name.
	Name string `json:"name"`
	// SHA256 is the hash of its canonical TOML (what `sbmpsim run --out`
	// writes as scenario.toml) with run.seed = 0.
	SHA256 string `json:"sha256"`
	// SimNs is the simulated time of each run.
	SimNs int64 `json:"sim_ns"`
	// Runs counts its runs.
	Runs int `json:"runs"`
	// Seeds lists their seeds, ascending, runs of consecutive seeds as
	// ranges: "1-100", "1,3".
	Seeds string `json:"seeds"`
}

// InputEntries groups inputs into the manifest's entries, in a fixed
// order (scenario, name, hash, simulated time): the same runs give the
// same entries in whatever order they were asked for.
func InputEntries(inputs []Input) ([]InputEntry, error) {
	type key struct {
		source, name, sum string
		simNs             int64
	}
	seeds := map[key][]uint64{}
	var keys []key
	for _, in := range inputs {
		sum, err := ScenarioHash(in.Scenario)
		if err != nil {
			return nil, err
		}
		k := key{in.Scenario.Source, in.Scenario.Run.Name, sum, in.SimNs()}
		if _, ok := seeds[k]; !ok {
			keys = append(keys, k)
		}
		seeds[k] = append(seeds[k], in.Seeds...)
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmpAll(strings.Compare(a.source, b.source), strings.Compare(a.name, b.name), strings.Compare(a.sum, b.sum), cmp.Compare(a.simNs, b.simNs))
	})
	out := make([]InputEntry, len(keys))
	for i, k := range keys {
		out[i] = InputEntry{Scenario: k.source, Name: k.name, SHA256: k.sum, SimNs: k.simNs, Runs: len(seeds[k]), Seeds: SeedRanges(seeds[k])}
	}
	return out, nil
}

// cmpAll is the first non-zero comparison.
func cmpAll(cs ...int) int {
	for _, c := range cs {
		if c != 0 {
			return c
		}
	}
	return 0
}

// ScenarioHash is the SHA-256 (hex) of sc's canonical TOML with run.seed
// = 0, so that the runs of one scenario on many seeds share it.
func ScenarioHash(sc *scenario.Scenario) (string, error) {
	c := sc.Clone()
	c.Run.Seed = 0
	b, err := c.Encode()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// SeedRanges writes seeds as sorted, distinct runs of consecutive
// numbers: 1,2,3,5 is "1-3,5".
func SeedRanges(seeds []uint64) string {
	s := slices.Clone(seeds)
	slices.Sort(s)
	s = slices.Compact(s)
	var parts []string
	for i := 0; i < len(s); {
		j := i
		for j+1 < len(s) && s[j+1] == s[j]+1 {
			j++
		}
		p := strconv.FormatUint(s[i], 10)
		if j > i {
			p += "-" + strconv.FormatUint(s[j], 10)
		}
		parts = append(parts, p)
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// InputsDiff compares the inputs an experiment planned with those it
// ran, as the manifest records them: "" when they agree, else a line
// per entry found on one side only.
func InputsDiff(planned, ran []Input) (string, error) {
	p, err := InputEntries(planned)
	if err != nil {
		return "", err
	}
	r, err := InputEntries(ran)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	side := func(what string, a, other []InputEntry) {
		for _, e := range a {
			if !slices.Contains(other, e) {
				fmt.Fprintf(&b, "%s: %s (%s, sha256 %.12s, %d ns) seeds %s\n", what, e.Scenario, e.Name, e.SHA256, e.SimNs, e.Seeds)
			}
		}
	}
	side("planned, not run", p, r)
	side("run, not planned", r, p)
	return b.String(), nil
}
