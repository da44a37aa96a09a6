package tomlfile

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// at is a position without its offset, for the tables below.
type at struct {
	line, col int
	element   bool
}

// checkScan compares Scan(doc) with want and checks that doc is TOML the
// decoder accepts (Scan's input always is).
func checkScan(t *testing.T, doc string, want map[string]at) {
	t.Helper()
	var raw map[string]any
	if _, err := toml.Decode(doc, &raw); err != nil {
		t.Fatalf("the test document must be valid TOML: %v", err)
	}
	got := Scan([]byte(doc))
	for _, k := range slices.Sorted(maps.Keys(got)) {
		o := got[k]
		w, ok := want[k]
		switch {
		case !ok:
			t.Errorf("unexpected key %q at %d:%d (element %v)", k, o.Line, o.Col, o.Element)
		case o.Line != w.line || o.Col != w.col || o.Element != w.element:
			t.Errorf("%s at %d:%d (element %v), want %d:%d (element %v)", k, o.Line, o.Col, o.Element, w.line, w.col, w.element)
		}
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			t.Errorf("key %q not found", k)
		}
	}
}

func TestScan(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want map[string]at
	}{
		{"tables", "a = 1\n[run]   # trailing\nseed = 1\n[ kernel ]\r\n  swappiness = 0\r\n",
			map[string]at{"a": {1, 1, false}, "run": {2, 2, false}, "run.seed": {3, 1, false}, "kernel": {4, 3, false}, "kernel.swappiness": {5, 3, false}}},
		{"arrays of tables", "[[workload]]\nrate_per_s = 1\n[[workload]] # second\n[workload.sub]\nx = 1\n[[workload.fault]]\n[[ workload.fault ]]\ny = 2\n",
			map[string]at{
				"workload": {1, 3, false}, "workload.0": {1, 1, false}, "workload.0.rate_per_s": {2, 1, false},
				"workload.1": {3, 1, false}, "workload.1.sub": {4, 11, false}, "workload.1.sub.x": {5, 1, false},
				"workload.1.fault": {6, 12, false}, "workload.1.fault.0": {6, 1, false}, "workload.1.fault.1": {7, 1, false},
				"workload.1.fault.1.y": {8, 1, false},
			}},
		{"dotted keys", "[sbmp]\ntier0 . capacity.slots = 1\ntier0.other = 2\n",
			map[string]at{"sbmp": {1, 2, false}, "sbmp.tier0": {2, 1, false}, "sbmp.tier0.capacity": {2, 9, false},
				"sbmp.tier0.capacity.slots": {2, 18, false}, "sbmp.tier0.other": {3, 7, false}}},
		{"inline tables", "kernel = { swappiness = 1, bad = {x = 2} }\nworkload = [{}, {cpus = \"1\", x = 2}]\n",
			map[string]at{"kernel": {1, 1, false}, "kernel.swappiness": {1, 12, false}, "kernel.bad": {1, 28, false}, "kernel.bad.x": {1, 35, false},
				"workload": {2, 1, false}, "workload.0": {2, 13, true}, "workload.1": {2, 17, true},
				"workload.1.cpus": {2, 18, false}, "workload.1.x": {2, 30, false}}},
		{"quoted keys", "[policy]\n\"re fill\" = 1\n'lit.eral' = 2\n\"swap\\u0070iness\" = 3\n\"\" = 4\n",
			map[string]at{"policy": {1, 2, false}, `policy."re fill"`: {2, 1, false}, `policy."lit.eral"`: {3, 1, false},
				"policy.swappiness": {4, 1, false}, `policy.""`: {5, 1, false}}},
		{"multi-line strings", "[run]\nname = \"\"\"\nfake = 1 [kernel] \"\"\"\nseed = 1\nx = '''a\ny = ''''\nz = \"\"\"\"\"\"\n",
			map[string]at{"run": {1, 2, false}, "run.name": {2, 1, false}, "run.seed": {4, 1, false}, "run.x": {5, 1, false}, "run.z": {7, 1, false}}},
		{"array elements", "q = [ # x ]\n  '''x\n]''',\n  {b = 2, c = [1,\n 2]},\n [[], [3]], # ,]\n]\n",
			map[string]at{"q": {1, 1, false}, "q.0": {2, 3, true}, "q.1": {4, 3, true}, "q.1.b": {4, 4, false}, "q.1.c": {4, 11, false},
				"q.1.c.0": {4, 16, true}, "q.1.c.1": {5, 2, true}, "q.2": {6, 2, true}, "q.2.0": {6, 3, true}, "q.2.1": {6, 7, true}, "q.2.1.0": {6, 8, true}}},
		{"sweep axes", "[[axis]]\nkey = \"x\"\n[[axis]]\n  values = [\n\"a=b\",\n]\n",
			map[string]at{"axis": {1, 3, false}, "axis.0": {1, 1, false}, "axis.0.key": {2, 1, false}, "axis.1": {3, 1, false},
				"axis.1.values": {4, 3, false}, "axis.1.values.0": {5, 1, true}}},
		{"values that look like syntax", "x = \"\\\"q = 1\" # not a key\nn = 1979-05-27 07:32:00Z\nm = [\"]\", '[', \"{\"]\n",
			map[string]at{"x": {1, 1, false}, "n": {2, 1, false}, "m": {3, 1, false}, "m.0": {3, 6, true}, "m.1": {3, 11, true}, "m.2": {3, 16, true}}},
		{"byte order mark", "\xef\xbb\xbfa = 1\nb = 2\n", map[string]at{"a": {1, 1, false}, "b": {2, 1, false}}},
		{"first occurrence wins", "a.b = 1\na.c = 2\n", map[string]at{"a": {1, 1, false}, "a.b": {1, 3, false}, "a.c": {2, 3, false}}},
		{"multi-line inline table", "t = {\n  a = 1, # one\n  b = [2],\n}\n",
			map[string]at{"t": {1, 1, false}, "t.a": {2, 3, false}, "t.b": {3, 3, false}, "t.b.0": {3, 8, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkScan(t, tt.doc, tt.want) })
	}
}

// TestScanTolerant feeds Scan text that is not TOML: it must neither
// panic nor loop, and keeps what comes before the error.
func TestScanTolerant(t *testing.T) {
	for _, in := range []string{
		"", "[", "[[", "[[]]", "a", "a =", "a = [", "a = {", "a = \"", "a = '''", `a = """`, "\"", "'",
		"a.", "a . = 1", "= = =", "]]]", "a = [[[[[[[[", strings.Repeat("a = [", 100),
		strings.Repeat("{", 200), "x = \"\\", "\"\\u12\" = 1", "\"\\U0011FFFF\" = 1", "a = \"\"\"\n\"\"\"\"\"\"",
		"v = " + strings.Repeat("[", 100) + strings.Repeat("]", 100),
	} {
		Scan([]byte(in))
	}
	got := Scan([]byte("a = 1\nb = [\n"))
	if _, ok := got["a"]; !ok || len(got) != 1 {
		t.Errorf("Scan of a truncated document = %v, want a only", got)
	}
}

func TestScanDeepNesting(t *testing.T) {
	doc := "v = " + strings.Repeat("[", 100) + "1" + strings.Repeat("]", 100) + "\nw = 2\n"
	got := Scan([]byte(doc))
	if o, ok := got["w"]; !ok || o.Line != 2 {
		t.Fatalf("the key after a deep array: %+v, %v", o, ok)
	}
	if _, ok := got["v"+strings.Repeat(".0", maxScanDepth+1)]; ok {
		t.Errorf("elements deeper than %d recorded", maxScanDepth)
	}
}

func TestNearest(t *testing.T) {
	p := Scan([]byte("[[workload]]\ncpus = \"0\"\n"))
	for key, want := range map[string]int{"workload.0.cpus": 2, "workload.0.rate_per_s": 1, "workload.3": 1, "run.seed": 0} {
		o, ok := p.Nearest(key)
		if o.Line != want || ok != (want > 0) {
			t.Errorf("Nearest(%q) = %+v, %v; want line %d", key, o, ok, want)
		}
	}
}

func TestKeyAt(t *testing.T) {
	tests := []struct {
		doc    string
		offset int // -1: the end
		want   string
	}{
		{"[run\nseed = 1\n", 4, "run"},
		{"[[workload]]\n[[workload]]\nrate_per_s = 1x\n", 40, "workload.1.rate_per_s"},
		{"[[workload]]\n[[workload]]\nname = \"\x01\"\n", 33, "workload.1.name"},
		{"[[workload]]\n[[workload]]\n[[workload\n", 36, "workload.2"},
		{"[kernel]\nswappiness = 1\nswappiness = 2\n", 24, ""}, // nothing written on line 3 before the offset
		{"workload = [{}, {cpus = 1x}]\n", 25, "workload.1.cpus"},
		{"kernel = { swappiness = \"zero }\n", 31, "kernel.swappiness"},
		{"workload = [{cpus = \"1\"},#{x = 1}]\n", 34, "workload.0.cpus"},
		{"[[workload]]\n[[workload]]\x01\n", 24, "workload.1"},
		{"t = {a = [1, {b = 1e", 20, "t.a.1.b"},
		{"t = {a = [1, {b", 15, "t.a.1.b"},
		{"\"run\".'seed", 11, "run.seed"},
		{"\xef\xbb\xbf[run]\nseed = 1x\n", 17, "run.seed"},
		{"[t]\n\"a=b\" = \"\x01\"\n", 13, "t.\"a=b\""},
		{"a = [\n1,\n2x\n", 10, ""},
		{"x", 1, "x"},
		{"\"a\\u12\" = 1", 7, ""},
	}
	for _, tt := range tests {
		off := tt.offset
		if off < 0 {
			off = len(tt.doc)
		}
		got, ok := KeyAt([]byte(tt.doc), off)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("KeyAt(%q, %d) = %q, %v; want %q", tt.doc, off, got, ok, tt.want)
		}
	}
}

func ExampleScan() {
	p := Scan([]byte("[[workload]]\n[[workload]]\nrate_per_s = 1e5\n"))
	o := p["workload.1.rate_per_s"]
	fmt.Println(o.Line, o.Col)
	// Output: 3 1
}

// TestScanLongKeys: keys of more than maxKeySegments segments are not
// recorded (recording every prefix would cost the square of the length),
// and the keys after them still are.
func TestScanLongKeys(t *testing.T) {
	long := strings.Repeat("a.", 100000) + "a"
	doc := long + " = 1\nb = 2\n[" + long + "]\nc = 1\n[d]\ne = 1\n"
	got := Scan([]byte(doc))
	for key, line := range map[string]int{"a": 1, "b": 2, "d": 5, "d.e": 6} {
		if got[key].Line != line {
			t.Errorf("%s at %+v, want line %d", key, got[key], line)
		}
	}
	if len(got) != maxKeySegments+3 {
		t.Errorf("%d keys recorded, want the first %d segments of the long key and 3 more", len(got), maxKeySegments)
	}
	if k, ok := KeyAt([]byte(long+" = \"\x01"), len(long)+4); !ok || k != "a"+strings.Repeat(".a", maxKeySegments-1) {
		t.Errorf("KeyAt on a long key = %q, %v", k[:min(len(k), 20)], ok)
	}
}
