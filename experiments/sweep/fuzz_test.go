package sweep

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse: any sweep file text either parses or gives an *Error naming
// the file; it never panics, and a parsed file's axes are well formed.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"scenario = \"oom-crisis\"\nseeds = 4\n[[axis]]\nkey = \"kernel.swappiness\"\nvalues = [0, 60]\n",
		"scenario = \"steady\"\nseeds = 2\nset = [\"run.duration_ms=100\"]\n[[axis]]\nkeys = [\"policy.degrade\", \"policy.degrade_wait_ms\"]\nvalues = [[\"wait-refill\", 2]]\n",
		"name = \"x\"\nscenario = \"a.toml\"\nseeds = 0\n",
		"[[axis]]\nkey = 1\n",
		"scenario = \"oom-crisis\"\nseeds = 1\n[[axis]]\nkey = \"k\"\nvalues = [1, 1]\n",
		"\xff\xfe",
		"scenario = \"oom-crisis\"\nseeds = 1\n[[axis]]\nkey = \"policy\"\nvalues = [{degrade = \"fail-fast\"}, {degrade = \"wait-refill\", degrade_wait_ms = 2}]\n",
		"scenario = \"x\"\nseeds = 1\n[[axis]]\nkey = \"k\"\nvalues = [0, 6x]\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		file, err := Parse("fuzz.toml", []byte(src))
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.File != "fuzz.toml" {
				t.Fatalf("error %v (%T) is not an *Error naming the file", err, err)
			}
			if !strings.HasPrefix(err.Error(), "fuzz.toml") {
				t.Fatalf("error %q does not start with the file name", err)
			}
			return
		}
		if file.Source != "fuzz.toml" {
			t.Fatalf("source %q", file.Source)
		}
	})
}

// FuzzParseShard: --shard I/N either parses to 0 <= I < N or is an error.
func FuzzParseShard(f *testing.F) {
	for _, s := range []string{"0/1", "1/2", "3/2", "-1/4", "a/b", "1/0", "", "2/3/4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sh, err := ParseShard(s)
		if err == nil && (sh.Count < 1 || sh.Index < 0 || sh.Index >= sh.Count) {
			t.Fatalf("ParseShard(%q) = %+v without an error", s, sh)
		}
	})
}
