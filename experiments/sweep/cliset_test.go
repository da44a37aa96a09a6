package sweep

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenario"
)

// TestAddSet: command-line overrides are checked against the base
// scenario as run --set checks them, join the plan (and its hash), and
// their range errors are blamed on --set rather than on the file.
func TestAddSet(t *testing.T) {
	const text = "scenario = \"steady\"\nseeds = 1\nset = [\"kernel.swappiness=10\"]\n[[axis]]\nkey = \"kernel.swap_mb\"\nvalues = [0, 64]\n"
	for _, tt := range []struct {
		name string
		sets []string
		want string // "" for no error from AddSet
	}{
		{"unknown key", []string{"kernel.swapiness=1"}, "--set: kernel.swapiness: unknown key (did you mean kernel.swappiness?)"},
		{"not an assignment", []string{"kernel.swappiness"}, "is not KEY=VALUE"},
		{"seed", []string{"run.seed=3"}, "--set: run.seed: a sweep's seeds are its file's seed and seeds keys"},
		{"workload index", []string{"workload.5.rate_per_s=1"}, "--set: workload.5: index 5 is out of range"},
		{"fine", []string{"run.duration_ms=200"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parse(text)
			if err != nil {
				t.Fatal(err)
			}
			err = f.AddSet(tt.sets)
			var se *scenario.Error
			switch {
			case tt.want == "" && err != nil:
				t.Fatal(err)
			case tt.want != "" && (err == nil || !errors.As(err, &se) || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("AddSet(%q) = %v, want a *scenario.Error with %q", tt.sets, err, tt.want)
			case tt.want != "" && len(f.Set) != 1:
				t.Fatalf("a failed AddSet changed the file's set: %q", f.Set)
			}
		})
	}
	plain, _ := parse(text)
	withSet, _ := parse(text)
	if err := withSet.AddSet([]string{"run.duration_ms=200"}); err != nil {
		t.Fatal(err)
	}
	p0, err0 := NewPlan(plain)
	p1, err1 := NewPlan(withSet)
	if err0 != nil || err1 != nil {
		t.Fatal(err0, err1)
	}
	if !slices.Equal(p1.Overrides, []string{"kernel.swappiness=10", "run.duration_ms=200"}) || p0.Hash == p1.Hash {
		t.Errorf("overrides %q, hashes %s %s: --set must join the plan and change its hash", p1.Overrides, p0.Hash, p1.Hash)
	}
	if d := p1.PointScenario(1, 1).Run.DurationMs; d != 200 {
		t.Errorf("point 1 runs %d ms, want the --set 200", d)
	}
	bad, _ := parse(text)
	if err := bad.AddSet([]string{"kernel.swappiness=300"}); err != nil {
		t.Fatal(err) // a range error is Validate's, at the points
	}
	_, err := NewPlan(bad)
	if err == nil || !strings.Contains(err.Error(), "s.toml: --set: point p000") || strings.Contains(err.Error(), "set.1") {
		t.Errorf("NewPlan = %v; want the range error blamed on --set", err)
	}
}
