package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sbmpsim/sbmpsim/experiments/input/tomlfile"
)

// usageError marks errors in how the command was called or in what it
// was given to read (exit code 2), as opposed to errors in what it was
// asked to do (exit code 1).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitCodes is the exit-code table of the root command's --help; exitCode
// is the one place that applies it.
const exitCodes = `Exit codes (every command):
  0  done. A comparison, check or validation that measures something bad
     has still done its work: a failing check seed is 1, a miss is not.
  1  the work failed: a run stopped by its event limit or an invariant,
     a check seed that failed, a run of a sweep or A/B that failed, an
     output that could not be written, an interrupt.
  2  bad invocation or input: an unknown command or flag, a missing or
     extra argument, a flag value out of range (--seed, --seeds,
     --workers, --at, ...), an unknown scenario, sweep, experiment or case
     name, a scenario or sweep file that does not parse or validate
     (errors name the file, line and key), a bad --set.`

// exitCode returns the exit code for the error a command line ended
// with. started reports whether the command's own work began (cobra had
// parsed its flags and checked its arguments): anything that fails before
// that is a bad invocation. Afterwards, an error is a usage error when it
// is marked so or names a place in an input file (a *tomlfile.Error, the
// type of every scenario and sweep error).
func exitCode(err error, started bool) int {
	var fe *tomlfile.Error
	switch {
	case err == nil:
		return 0
	case !started, errors.As(err, &usageError{}), errors.As(err, &fe):
		return 2
	}
	return 1
}

// flagError rewrites a flag parsing error as a usage error that names
// the flag first ("--seed: want ..., got -1"), in words rather than in
// strconv's.
func flagError(_ *cobra.Command, err error) error {
	var ive *pflag.InvalidValueError
	if !errors.As(err, &ive) {
		return usageError{err}
	}
	f, cause := ive.GetFlag(), ive.Unwrap()
	var ne *strconv.NumError
	if errors.As(cause, &ne) {
		what := map[string]string{"bool": "true or false", "float64": "a number", "duration": "a duration such as 500ms"}[f.Value.Type()]
		if what == "" {
			what = "a whole number"
		}
		cause = fmt.Errorf("want %s, got %q", what, ive.GetValue())
		if errors.Is(ne.Err, strconv.ErrRange) {
			cause = fmt.Errorf("%s is out of range for a %s", ive.GetValue(), f.Value.Type())
		}
	}
	return usageError{fmt.Errorf("--%s: %w", f.Name, cause)}
}

// maxSeed is the largest seed: run.seed is written back as a TOML
// integer, which is signed 64-bit.
const maxSeed = math.MaxInt64

// seedFlag is the value of a --seed flag: a seed as a scenario's run.seed
// holds it, a whole number 0..2^63-1. A value outside is refused when the
// flag is parsed, naming the flag.
type seedFlag uint64

func (s *seedFlag) String() string { return strconv.FormatUint(uint64(*s), 10) }
func (s *seedFlag) Type() string   { return "uint" }
func (s *seedFlag) Set(v string) error {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n > maxSeed {
		return fmt.Errorf("want a whole number 0..%d (the range of run.seed), got %s", uint64(maxSeed), v)
	}
	*s = seedFlag(n)
	return nil
}

// checkSeedRange refuses n seeds from first when the last would pass
// maxSeed.
func checkSeedRange(first uint64, n int) error {
	if n > 0 && uint64(n-1) > maxSeed-first {
		return usageError{fmt.Errorf("--seeds %d from seed %d: the seeds must stay within 0..%d", n, first, uint64(maxSeed))}
	}
	return nil
}

// countFlag is the value of a count that must be at least 1 (--seeds).
type countFlag int

func (c *countFlag) String() string { return strconv.Itoa(int(*c)) }
func (c *countFlag) Type() string   { return "int" }
func (c *countFlag) Set(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return fmt.Errorf("want a whole number of at least 1, got %s", v)
	}
	*c = countFlag(n)
	return nil
}

// seedVar defines a --seed flag on fs that stores into p.
func seedVar(fs *pflag.FlagSet, p *uint64, value uint64, usage string) {
	*p = value
	fs.Var((*seedFlag)(p), "seed", usage)
}

// seedsVar defines a --seeds flag on fs (at least 1) that stores into p.
func seedsVar(fs *pflag.FlagSet, p *int, value int, usage string) {
	*p = value
	fs.Var((*countFlag)(p), "seeds", usage)
}

// deprecatedScenarioFlag defines --scenario, which check and bench e2e
// took before a scenario became every command's argument: hidden, and
// still honoured, with a deprecation note on standard error naming the
// command line to use instead.
func deprecatedScenarioFlag(cmd *cobra.Command, p *string, instead string) {
	cmd.Flags().StringVar(p, "scenario", "", "the scenario (deprecated: give it as the argument)")
	if err := cmd.Flags().MarkDeprecated("scenario", "give the scenario as the argument: "+instead); err != nil {
		panic(err) // the flag was just defined
	}
	// pflag writes the note to the flag set's output, which cobra then
	// prints on the command's standard output, where it would corrupt
	// `bench e2e`'s JSON. With ContinueOnError, pflag writes nothing
	// else there.
	cmd.Flags().SetOutput(stderrOf{cmd})
}

// stderrOf writes to a command's standard error as it is when written
// to (the root's, set after the command was built).
type stderrOf struct{ cmd *cobra.Command }

func (w stderrOf) Write(p []byte) (int, error) { return w.cmd.ErrOrStderr().Write(p) }

// scenarioArg returns the scenario a command line names: its argument,
// or the deprecated --scenario flag's value; "" when neither is given.
// Both at once is a usage error.
func scenarioArg(args []string, flag string) (string, error) {
	switch {
	case len(args) > 0 && flag != "":
		return "", usageError{fmt.Errorf("the scenario is given twice, as %q and as --scenario %q: give it once, as the argument", args[0], flag)}
	case len(args) > 0:
		return args[0], nil
	}
	return flag, nil
}
