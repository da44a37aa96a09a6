package sweep

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// parse parses text as sweep file "s.toml".
func parse(text string) (*File, error) { return Parse("s.toml", []byte(text)) }

func TestParseErrorsNameFileLineAndKey(t *testing.T) {
	const head = "scenario = \"steady\"\nseeds = 2\n"
	tests := []struct {
		name, text string
		want       []string // substrings of the error, in order
	}{
		{"syntax", head + "seed = \n", []string{"s.toml:3:8: seed: invalid TOML: expected value"}},
		{"syntax in an array", head + "[[axis]]\nkey = \"kernel.swappiness\"\nvalues = [0, 6x]\n", []string{"s.toml:5:15: axis.0.values: invalid TOML: expected a comma"}},
		{"unknown key that needs quotes", head + "\"se eds\" = 3\n", []string{`s.toml:3: "se eds": unknown key (did you mean "seeds"?)`}},
		{"unknown top key", head + "sedds = 3\n", []string{`s.toml:3: sedds: unknown key (did you mean "seeds"?)`}},
		{"keys are case-sensitive", "scenario = \"steady\"\nSeeds = 2\n", []string{`s.toml:2: Seeds: unknown key (did you mean "seeds"?)`, "seeds: required"}},
		{"wrong type", "scenario = \"steady\"\nseeds = \"2\"\n", []string{`s.toml:2: seeds: want an integer, got string "2"`}},
		{"out of range", "scenario = \"steady\"\nseeds = 0\n", []string{"s.toml:2: seeds: must be 1..100000, got 0"}},
		{"scenario required", "seeds = 2\n", []string{"s.toml: scenario: required"}},
		{"set not an assignment", head + "set = [\n  \"run.duration_ms=5\",\n  \"oops\",\n]\n", []string{`s.toml:5: set.1: "oops" is not KEY=VALUE`}},
		{"set run.seed", head + "set = [\"run.seed=4\"]\n", []string{"s.toml:3: set.0: run.seed: set the seeds with seed and seeds"}},
		{"unknown axis key", head + "[[axis]]\nkey = \"kernel.swappiness\"\nvalues = [0]\n[[axis]]\nkey = \"x.y\"\nvaluse = [1]\n",
			[]string{`s.toml:8: axis.1.valuse: unknown key (did you mean "values"?)`}},
		{"key and keys", head + "[[axis]]\nkey = \"a.b\"\nkeys = [\"a.b\"]\nvalues = [1]\n", []string{"s.toml:5: axis.0.keys: give key (one scenario key) or keys"}},
		{"no key", head + "[[axis]]\nvalues = [1]\n", []string{"s.toml:3: axis.0: key: required"}},
		{"no values", head + "[[axis]]\nkey = \"a.b\"\n", []string{"s.toml:3: axis.0: values: required"}},
		{"empty values", head + "[[axis]]\nkey = \"a.b\"\nvalues = []\n", []string{"s.toml:5: axis.0.values: empty"}},
		{"repeated value", head + "[[axis]]\nkey = \"kernel.swappiness\"\nvalues = [\n  0,\n  60,\n  0,\n]\n",
			[]string{"s.toml:8: axis.0.values.2: repeats value 0 (0)"}},
		{"tuple of the wrong length", head + "[[axis]]\nkeys = [\"policy.degrade\", \"policy.degrade_wait_ms\"]\nvalues = [\n  [\"wait-refill\", 2],\n  [\"fail-fast\"],\n]\n",
			[]string{`s.toml:7: axis.0.values.1: want an array of 2 values, one per key`}},
		{"axis sets run.seed", head + "[[axis]]\nkey = \"run.seed\"\nvalues = [1, 2]\n", []string{"s.toml:4: axis.0.key: run.seed"}},
		{"key in set and an axis", head + "set = [\"kernel.swappiness=1\"]\n[[axis]]\nkey = \"kernel.swappiness\"\nvalues = [0]\n",
			[]string{"s.toml:4: axis.0: kernel.swappiness is set by set.0 already"}},
		{"date-time value", head + "[[axis]]\nkey = \"run.name\"\nvalues = [1979-05-27T07:32:00Z]\n", []string{"s.toml:5: axis.0.values.0: a date-time is no scenario value"}},
		{"axis is a table", head + "[axis]\nkey = \"a\"\n", []string{"s.toml:3: axis: want an array, got a table"}},
		{"seeds past the largest seed", head + "seed = 9223372036854775807\n", []string{"s.toml:3: seed: seeds 9223372036854775807..9223372036854775807+1 pass"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(tt.text)
			if err == nil {
				t.Fatalf("no error for\n%s", tt.text)
			}
			msg := err.Error()
			at := 0
			for _, w := range tt.want {
				i := strings.Index(msg[at:], w)
				if i < 0 {
					t.Fatalf("error\n%s\nlacks (in order) %q", msg, w)
				}
				at += i + len(w)
			}
		})
	}
}

func TestParseReadsEveryKey(t *testing.T) {
	f, err := parse(`name = "grid"
scenario = "steady"   # embedded
seed = 7
seeds = 3
set = ["run.duration_ms=100"]

[[axis]]
key = "kernel.swappiness"
values = [0, 60]

[[axis]]
keys = ["policy.degrade", "policy.degrade_wait_ms"]
values = [["immediate-tier2", 0], ["wait-refill", 2.5]]

[[axis]]
key = "workload.0.cpus"
values = ["0-3", "4-7"]
`)
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "grid" || f.Scenario != "steady" || f.Seed != 7 || !f.HasSeed || f.Seeds != 3 || !slices.Equal(f.Set, []string{"run.duration_ms=100"}) {
		t.Fatalf("file = %+v", f)
	}
	want := []Axis{
		{Keys: []string{"kernel.swappiness"}, Values: [][]string{{"0"}, {"60"}}},
		{Keys: []string{"policy.degrade", "policy.degrade_wait_ms"}, Values: [][]string{{"immediate-tier2", "0"}, {"wait-refill", "2.5"}}},
		{Keys: []string{"workload.0.cpus"}, Values: [][]string{{`"0-3"`}, {`"4-7"`}}},
	}
	if len(f.Axes) != len(want) {
		t.Fatalf("axes = %+v", f.Axes)
	}
	for i := range want {
		if !slices.Equal(f.Axes[i].Keys, want[i].Keys) || !slices.EqualFunc(f.Axes[i].Values, want[i].Values, slices.Equal) {
			t.Errorf("axis %d = %+v, want %+v", i, f.Axes[i], want[i])
		}
	}
}

func TestLiteralReadsBackAsTheSameValue(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{int64(-3), "-3"},
		{1.0, "1.0"},
		{0.25, "0.25"},
		{1e21, "1e+21"},
		{true, "true"},
		{"wait-refill", "wait-refill"},
		{"0-7", `"0-7"`},
		{"true", `"true"`},
		{"inf", `"inf"`},
		{"a b", `"a b"`},
		{"q\"\n", `"q\"\u000A"`},
		{[]any{int64(64), int64(128)}, "[64, 128]"},
		{[]any{"x"}, `["x"]`},
		{map[string]any{"swap_mb": int64(0), "swappiness": int64(1)}, "{swap_mb = 0, swappiness = 1}"},
	}
	for _, tt := range tests {
		got, err := literal(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("literal(%#v) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestPlanErrorsNameTheAxisValue(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, text string
		want       []string
	}{
		{"unknown scenario", "scenario = \"nope/x.toml\"\nseeds = 1\n", []string{"s.toml:1: scenario: \"nope/x.toml\": no file"}},
		{"bad fixed override", "scenario = \"steady\"\nseeds = 1\nset = [\"kernel.swapiness=1\"]\n", []string{"s.toml:3: set.0: --set: kernel.swapiness: unknown key"}},
		{"unknown axis key", "scenario = \"steady\"\nseeds = 1\n[[axis]]\nkey = \"kernel.swapiness\"\nvalues = [0, 1]\n",
			[]string{"s.toml:4: axis.0.key: --set: kernel.swapiness: unknown key"}},
		{"type error in one value", "scenario = \"steady\"\nseeds = 1\n[[axis]]\nkey = \"kernel.swappiness\"\nvalues = [\n 0,\n 1.5,\n]\n",
			[]string{"s.toml:7: axis.0.values.1: kernel.swappiness=1.5: --set: kernel.swappiness"}},
		{"value out of range", "scenario = \"steady\"\nseeds = 1\n[[axis]]\nkey = \"workload.0.rate_per_s\"\nvalues = [1000]\n[[axis]]\nkey = \"kernel.swappiness\"\nvalues = [\n 0,\n 300,\n]\n",
			[]string{"s.toml:10: axis.1.values.1: point p001 (workload.0.rate_per_s=1000 kernel.swappiness=300):", "kernel.swappiness: must be"}},
		{"combination", "scenario = \"steady\"\nseeds = 1\n[[axis]]\nkey = \"policy.degrade_wait_ms\"\nvalues = [0, 2]\n",
			[]string{"s.toml:5: axis.0.values.0: point p000 (policy.degrade_wait_ms=0):", `degrade policy "immediate-tier2" has no parameter "wait_ms" (it has policy.degrade_min_dwell_ms, policy.degrade_exit_refills, policy.degrade_carve_small)`}},
		{"parameter range", "scenario = \"steady\"\nseeds = 1\n[[axis]]\nkey = \"policy.refill_batch\"\nvalues = [\n 32,\n 0,\n]\n",
			[]string{"s.toml:7: axis.0.values.1: point p001 (policy.refill_batch=0):", "policy.refill_batch: must be an integer in 1..65536, got 0"}},
		{"workload index out of range", "scenario = \"steady\"\nseeds = 1\n[[axis]]\nkey = \"workload.3.load_factor\"\nvalues = [1]\n",
			[]string{"s.toml:4: axis.0.key: --set: workload.3: index 3 is out of range"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "s.toml")
			if err := os.WriteFile(path, []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = NewPlan(f)
			if err == nil {
				t.Fatal("no error")
			}
			msg := strings.ReplaceAll(err.Error(), path, "s.toml")
			at := 0
			for _, w := range tt.want {
				i := strings.Index(msg[at:], w)
				if i < 0 {
					t.Fatalf("error\n%s\nlacks (in order) %q", msg, w)
				}
				at += i + len(w)
			}
		})
	}
}

func TestBaseScenarioRelativeToTheSweepFile(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sweeps")
	if err := os.MkdirAll(filepath.Join(dir, "scenarios"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	sc := "[run]\nduration_ms = 100\n[[workload]]\ncpus = \"0-1\"\nrate_per_s = 1000\n"
	if err := os.WriteFile(filepath.Join(dir, "scenarios", "mine.toml"), []byte(sc), 0o644); err != nil {
		t.Fatal(err)
	}
	text := "scenario = \"../scenarios/mine.toml\"\nseeds = 1\n"
	if err := os.WriteFile(filepath.Join(sub, "a.toml"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Load(filepath.Join(sub, "a.toml"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlan(f)
	if err != nil {
		t.Fatal(err)
	}
	// The source is as the sweep file writes it, whatever the working
	// directory: the plan, and so the hash, do not depend on where the
	// sweep was started.
	if p.Source != "../scenarios/mine.toml" || p.Scenario != "mine" || p.BasePath != filepath.Join(sub, "../scenarios/mine.toml") {
		t.Fatalf("source %q scenario %q base path %q", p.Source, p.Scenario, p.BasePath)
	}
}

func TestEmbeddedSweepsAreValid(t *testing.T) {
	for _, name := range []string{"swap-load", "degrade-refill"} {
		f, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		p, err := NewPlan(f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if f.Source != "embedded:"+name || p.Sweep != name || p.Runs == 0 {
			t.Errorf("%s: source %q sweep %q runs %d", name, f.Source, p.Sweep, p.Runs)
		}
	}
}
