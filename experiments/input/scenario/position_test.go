package scenario

import (
	"sort"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

func TestKeyPositions(t *testing.T) {
	doc := "\xef\xbb\xbf# comment [not] = a table\n" + // 1 (BOM is skipped)
		"[run]   # trailing\n" + // 2
		`name = """` + "\n" + // 3
		`fake = 1 [kernel] """` + "\n" + // 4: inside the string
		"seed = 1\n" + // 5
		"[ kernel ]\r\n" + // 6
		"\"swap\\u0070iness\" = 0\r\n" + // 7
		"'swap_mb' = '''x\n" + // 8
		"y = '''\n" + // 9
		"[[workload]]\n" + // 10
		"  a.b.c = [1, [2, {d = 3}],\n" + // 11
		"   {e = 4}]\n" + // 12
		"[[workload]] # second\n" + // 13
		"x = \"\\\"q = 1\" # not a key\n" + // 14
		"[workload.sub]\n" + // 15
		"z = {y = {w = \"\"\"a\"\"\"\"\"}, v = 1}\n" + // 16
		"m = \"\"\"\"\"\"\n" + // 17: empty multi-line string
		"n = 1979-05-27 07:32:00Z\n" // 18
	want := map[string][2]int{
		"run":                    {2, 2},
		"run.name":               {3, 1},
		"run.seed":               {5, 1},
		"kernel":                 {6, 3},
		"kernel.swappiness":      {7, 1},
		"kernel.swap_mb":         {8, 1},
		"workload":               {10, 3},
		"workload.0":             {10, 1},
		"workload.0.a":           {11, 3},
		"workload.0.a.b":         {11, 5},
		"workload.0.a.b.c":       {11, 7},
		"workload.0.a.b.c.1.1.d": {11, 20},
		"workload.0.a.b.c.2.e":   {12, 5},
		"workload.1":             {13, 1},
		"workload.1.x":           {14, 1},
		"workload.1.sub":         {15, 11},
		"workload.1.sub.z":       {16, 1},
		"workload.1.sub.z.y":     {16, 6},
		"workload.1.sub.z.y.w":   {16, 11},
		"workload.1.sub.z.v":     {16, 27},
		"workload.1.sub.m":       {17, 1},
		"workload.1.sub.n":       {18, 1},
	}
	var raw map[string]any
	if _, err := toml.Decode(doc, &raw); err != nil {
		t.Fatalf("the test document must be valid TOML: %v", err)
	}
	got := keyPositions(doc)
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w, ok := want[k]
		if !ok {
			t.Errorf("unexpected key %q at %d:%d", k, got[k].line, got[k].col)
			continue
		}
		if got[k].line != w[0] || got[k].col != w[1] {
			t.Errorf("%s at %d:%d, want %d:%d", k, got[k].line, got[k].col, w[0], w[1])
		}
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			t.Errorf("key %q not found", k)
		}
	}
}

// TestKeyPositionsTolerant feeds the scanner text that is not TOML: it
// must neither panic nor loop.
func TestKeyPositionsTolerant(t *testing.T) {
	for _, in := range []string{
		"", "[", "[[", "[[]]", "a", "a =", "a = [", "a = {", "a = \"", "a = '''", `a = """`, "\"", "'",
		"a.", "a . = 1", "= = =", "]]]", "a = [[[[[[[[", strings.Repeat("a = [", 100),
		strings.Repeat("{", 200), "x = \"\\", "\"\\u12\" = 1", "\"\\U0011FFFF\" = 1", "a = \"\"\"\n\"\"\"\"\"\"",
	} {
		keyPositions(in)
	}
}

func TestUnescapeBasic(t *testing.T) {
	for in, want := range map[string]string{
		`plain`: "plain", `a\tb`: "a\tb", `\"\\`: `"\`, `\u0041\U0001F600`: "A\U0001F600",
		`\x41`: "A", `\e`: "\x1b", `\u12`: `\u12`, `\UFFFFFFFF`: `\UFFFFFFFF`, `end\`: `end\`,
	} {
		if got := unescapeBasic(in); got != want {
			t.Errorf("unescapeBasic(%q) = %q, want %q", in, got, want)
		}
	}
}
