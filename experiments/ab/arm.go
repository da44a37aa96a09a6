package ab

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
)

// Arm is one side of an A/B experiment: the base scenario with the arm's
// overrides applied and validated.
type Arm struct {
	// Key is "a" or "b": where the arm sits in ab.json and runs.csv.
	Key string
	// Name labels the arm in reports ("wait-refill"); defaults to Key.
	Name string
	// Overrides are the arm's own KEY=VALUE assignments, in the order
	// given, applied after the overrides common to both arms.
	Overrides []string
	// Scenario is the resolved, validated scenario the arm runs. Its
	// run.seed is the experiment's first seed; the runner replaces it
	// per run.
	Scenario *scenario.Scenario
}

// ArmError is a problem with one arm's definition: an override that does
// not apply, or a scenario its overrides make invalid. It is the caller's
// usage error, found before anything runs.
type ArmError struct {
	Key  string // "a" or "b"
	Name string // the arm's label
	Err  error
}

func (e *ArmError) Error() string {
	return fmt.Sprintf("arm %s (%q): %v", e.Key, e.Name, e.Err)
}

func (e *ArmError) Unwrap() error { return e.Err }

// NewArm applies overrides to a clone of base, which must already be
// valid, and validates the result. base is not modified. Because base is
// valid, any error is the arm's: it comes back as an *ArmError naming the
// arm and, through the wrapped *scenario.Error, the key at fault.
//
// An arm may not set run.seed: both arms run on the same seeds, chosen
// for the experiment as a whole (--seed).
func NewArm(base *scenario.Scenario, key, name string, overrides []string) (Arm, error) {
	if name == "" {
		name = key
	}
	arm := Arm{Key: key, Name: name, Overrides: overrides, Scenario: base.Clone()}
	fail := func(err error) (Arm, error) { return Arm{}, &ArmError{Key: key, Name: name, Err: err} }
	for _, o := range overrides {
		k, _, _ := strings.Cut(o, "=")
		if strings.TrimSpace(k) == "run.seed" {
			return fail(fmt.Errorf("--%s %s: run.seed: both arms run on the same seeds; set the first seed with --seed", key, o))
		}
		if err := arm.Scenario.Set(o); err != nil {
			// The error is this override's, which the message names
			// already: drop the "--set" its source would print.
			var se *scenario.Error
			if errors.As(err, &se) && se == err && se.File == scenario.SetSource {
				relabelled := *se
				relabelled.File = ""
				err = &relabelled
			}
			return fail(fmt.Errorf("--%s %s: %w", key, o, err))
		}
	}
	if err := arm.Scenario.Validate(); err != nil {
		return fail(fmt.Errorf("with --%s %s: %w", key, strings.Join(overrides, " --"+key+" "), err))
	}
	return arm, nil
}

// overrideStart matches the start of a KEY=VALUE assignment: a dotted
// bare key followed by "=".
var overrideStart = regexp.MustCompile(`^\s*[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\s*=`)

// SplitOverrides splits one --a/--b argument into assignments, so that
// both "--a k1=v1 --a k2=v2" and "--a k1=v1,k2=v2" work (ARCHITECTURE.md
// writes the latter). A comma splits only outside brackets, braces and
// quotes, and only when what follows it starts a new KEY=; so values such
// as "workload.0.cpus=0-3,8-11" and "workload.0.sizes_bytes=[64,128]"
// stay whole.
func SplitOverrides(arg string) ([]string, error) {
	var out []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(arg); i++ {
		c := arg[i]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			depth--
		case c == ',' && depth == 0 && overrideStart.MatchString(arg[i+1:]):
			out = append(out, arg[start:i])
			start = i + 1
		}
	}
	out = append(out, arg[start:])
	for _, o := range out {
		if !strings.Contains(o, "=") {
			return nil, fmt.Errorf("%q is not KEY=VALUE (for example policy.degrade=wait-refill)", o)
		}
	}
	return out, nil
}

// errArmNames is returned when both arms carry the same label.
var errArmNames = errors.New("the two arms need different names")

// CheckNames reports an error if the arms' labels would be ambiguous in
// a report.
func CheckNames(a, b Arm) error {
	if a.Name == b.Name {
		return fmt.Errorf("--a-name and --b-name are both %q: %w", a.Name, errArmNames)
	}
	return nil
}
