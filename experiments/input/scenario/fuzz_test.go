package scenario

import (
	"errors"
	"reflect"
	"testing"

	"github.com/sbmpsim/sbmpsim/experiments/input/scenarios"
)

// fuzzSeeds are inputs that reach the interesting corners of the decoder
// and the position scanner.
var fuzzSeeds = []string{
	"",
	"[kernel]\nswapiness = 0\n",
	"[kernel]\nswappiness = \"zero\"\n",
	"[[workload]]\n[[workload]]\nrate_per_s = 1e5\ncpus = \"0-3,8\"\n",
	"workload = [{cpus = \"1\"}, {lifetime = \"forever\"}]\n",
	"kernel = { swappiness = 1 }\n[sbmp]\nslot_sizes = [8, 16]\n",
	"[run]\nname = \"\"\"a\nb\"\"\"\nseed = 9223372036854775807\n",
	"\"run\".'seed' = 2\n",
	"[[workload]]\nrate_per_s = nan\n",
	"[[workload]]\nname = \"\\u00e9\\t\"\n",
	"[machine]\npreset = \"\"\nnodes = 2\nnode_ids = [0, 8]\ncpus = [\"0-1\", \"\"]\nmemory_mb = [64, 32]\n" +
		"distances = [[10, 40], [40, 10]]\nmedia_latency_ns = [0, 100]\n[[workload]]\n",
	"[machine]\npreset = \"tiered\"\nremote_latency_ns = 150\nsockets = []\n[[workload]]\n",
	"[policy]\nrefill = \"adaptive-batch\"\nrefill_min_batch = 8\nmerge_delay_ms = 0\n[[workload]]\n",
	"policy = {degrade = \"wait-refill\", degrade_wait_ms = 2.5}\n[[workload]]\n",
}

// FuzzParse checks that Parse never panics, that its errors are *Error
// values for the file, deterministic, and that a scenario which parses and
// validates survives Encode and Parse unchanged.
func FuzzParse(f *testing.F) {
	for _, name := range scenarios.Names() {
		data, err := scenarios.Read(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.toml", data)
		if err != nil {
			checkErrors(t, err, "fuzz.toml")
			if _, err2 := Parse("fuzz.toml", data); err2 == nil || err2.Error() != err.Error() {
				t.Fatalf("errors differ between two parses:\n%v\n---\n%v", err, err2)
			}
			return
		}
		if err := s.Validate(); err != nil {
			checkErrors(t, err, "fuzz.toml")
			return
		}
		enc, err := s.Encode()
		if err != nil {
			t.Fatalf("Encode of a valid scenario: %v", err)
		}
		back, err := Parse("fuzz.toml", enc)
		if err != nil {
			t.Fatalf("Parse(Encode(s)): %v\n%s", err, enc)
		}
		if got, want := exported(back), exported(s); !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip changed the scenario:\n got %#v\nwant %#v\n%s", got, want, enc)
		}
		if err := back.Validate(); err != nil {
			t.Fatalf("re-parsed scenario does not validate: %v", err)
		}
		if again, err := back.Encode(); err != nil || string(again) != string(enc) {
			t.Fatalf("Encode not stable (%v):\n%s\n---\n%s", err, enc, again)
		}
	})
}

// checkErrors asserts that err is made of *Error values about file, or the
// "... and N more" summary.
func checkErrors(t *testing.T, err error, file string) {
	t.Helper()
	list := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	}
	for i, e := range list {
		var se *Error
		if !errors.As(e, &se) {
			if i == maxErrors {
				continue
			}
			t.Fatalf("error %d is %T, not *Error: %v", i, e, e)
		}
		if se.File != file || se.Msg == "" || se.Line < 0 || se.Col < 0 || (se.Line == 0 && se.Col != 0) {
			t.Fatalf("malformed error %#v", se)
		}
	}
}

// FuzzSet checks that Set never panics and that a failed Set changes
// nothing.
func FuzzSet(f *testing.F) {
	for _, a := range []string{
		"kernel.swappiness=60", "workload.0.rate_per_s=5e4", "sbmp.slot_sizes=[64,128]",
		"policy.refill=adaptive-batch", "workload=[{cpus=\"1\"}]", "kernel={swappiness=1}", "x", "workload.9.x=1",
		"policy.refill_batch=32", "policy={degrade=\"wait-refill\", degrade_wait_ms=2}", "policy.merge_threshold=0",
	} {
		f.Add(a)
	}
	f.Fuzz(func(t *testing.T, assignment string) {
		s, err := Load(scenarios.Default)
		if err != nil {
			t.Fatal(err)
		}
		before := exported(s)
		if err := s.Set(assignment); err != nil {
			checkErrors(t, err, SetSource)
			if !reflect.DeepEqual(exported(s), before) {
				t.Fatalf("failed Set(%q) changed the scenario", assignment)
			}
			return
		}
		if s.Validate() == nil {
			roundTrip(t, s)
		}
	})
}
