package sweep

import (
	"strconv"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
)

// AddSet appends overrides given on the command line (`sbmpsim sweep
// --set KEY=VALUE`) to the file's set: they apply to the base scenario of
// every point after the file's own, and are part of the plan as the
// file's are (its hash, plan.json, replay commands), so a sweep directory
// resumes only with the same ones. Each is checked against the base
// scenario as `sbmpsim run --set` checks it; an error is the scenario's
// *Error (File "--set", the key, "did you mean"), and f is then
// unchanged. run.seed is refused: a sweep's seeds are its seed and seeds
// keys. When the base scenario itself cannot be loaded, only that check
// is made; NewPlan reports the base.
func (f *File) AddSet(sets []string) error {
	base, _, _, err := resolveBase(f)
	if err == nil {
		for _, s := range f.Set {
			_ = base.Set(s) // the file's own mistakes are NewPlan's to report
		}
	}
	for _, s := range sets {
		if k, _, _ := strings.Cut(s, "="); strings.TrimSpace(k) == "run.seed" {
			return &Error{File: scenario.SetSource, Key: "run.seed", Msg: "a sweep's seeds are its file's seed and seeds keys"}
		}
		if base == nil {
			continue
		}
		if err := base.Set(s); err != nil {
			return err
		}
	}
	f.Set = append(f.Set, sets...)
	f.cliSets += len(sets)
	return nil
}

// setKey names fixed override i of a plan whose first fileSets
// overrides are the file's set (the others came from --set) in errors.
func setKey(i, fileSets int) string {
	if i >= fileSets {
		return scenario.SetSource
	}
	return "set." + strconv.Itoa(i)
}
