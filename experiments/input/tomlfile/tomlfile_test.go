package tomlfile

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// testFormat has two embedded files and a data directory.
func testFormat() Format {
	return Format{Noun: "widget", Embedded: fstest.MapFS{
		"big.toml":      {Data: []byte("a = 1\n")},
		"small.toml":    {Data: []byte("b = 2\n")},
		"notes.txt":     {Data: []byte("x")},
		"data/x.toml":   {Data: []byte("c = 3\n")},
		"data/y/z.toml": {Data: []byte("d = 4\n")},
	}}
}

func TestEmbedded(t *testing.T) {
	f := testFormat()
	if got := f.Names(); !slices.Equal(got, []string{"big", "small"}) {
		t.Fatalf("Names() = %v", got)
	}
	for _, name := range []string{"big", "big.toml"} {
		if b, err := f.ReadEmbedded(name); err != nil || string(b) != "a = 1\n" || !f.HasEmbedded(name) {
			t.Errorf("ReadEmbedded(%q) = %q, %v", name, b, err)
		}
	}
	for _, tt := range []struct{ name, want string }{
		{"nope", `embedded widget "nope": no such widget (known: big, small)`},
		{"data/x", `embedded widget "data/x": not a widget name (known: big, small)`},
		{"..", `embedded widget "..": not a widget name (known: big, small)`},
		{"", `embedded widget "": not a widget name (known: big, small)`},
		{".toml", `embedded widget ".toml": not a widget name (known: big, small)`},
	} {
		if _, err := f.ReadEmbedded(tt.name); err == nil || err.Error() != tt.want {
			t.Errorf("ReadEmbedded(%q) = %v, want %s", tt.name, err, tt.want)
		}
		if f.HasEmbedded(tt.name) {
			t.Errorf("HasEmbedded(%q) = true", tt.name)
		}
	}
}

func TestRead(t *testing.T) {
	f := testFormat()
	dir := t.TempDir()
	t.Chdir(dir)
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("mine.toml", "m = 1\n")
	write("small", "a file wins over an embedded one\n")
	write("huge.toml", strings.Repeat("#", MaxBytes+1))
	if err := os.Mkdir("big.toml", 0o755); err != nil { // e.g. an --out directory named after the scenario
		t.Fatal(err)
	}
	tests := []struct {
		path, source, data, err string
	}{
		{path: "mine.toml", source: "mine.toml", data: "m = 1\n"},
		{path: "big", source: "embedded:big", data: "a = 1\n"},

		{path: "big.toml", source: "embedded:big", data: "a = 1\n"}, // the directory big.toml is no file
		{path: "embedded:big", source: "embedded:big", data: "a = 1\n"},
		{path: "small", source: "small", data: "a file wins over an embedded one\n"},
		{path: "embedded:small", source: "embedded:small", data: "b = 2\n"},
		{path: "./big", err: "load widget ./big: no such file, and no embedded widget of that name (embedded: big, small)"},
		{path: "nope.toml", err: "load widget nope.toml: no such file, and no embedded widget of that name (embedded: big, small)"},
		{path: "embedded:nope", err: `load widget: embedded widget "nope": no such widget (known: big, small)`},
		{path: "huge.toml", err: "load widget huge.toml: file is larger than 1048576 bytes"},
		{path: dir, err: "load widget " + dir + ": read " + dir + ": is a directory"},
	}
	for _, tt := range tests {
		source, data, err := f.Read(tt.path)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("Read(%q) = %v, want %s", tt.path, err, tt.err)
			}
			continue
		}
		if err != nil || source != tt.source || string(data) != tt.data {
			t.Errorf("Read(%q) = %q, %q, %v; want %q, %q", tt.path, source, data, err, tt.source, tt.data)
		}
	}
}

func TestDecode(t *testing.T) {
	f := testFormat()
	raw, pos, err := f.Decode("x.toml", []byte("[[w]]\n[[w]]\nrate = 1\n"))
	if err != nil || len(raw["w"].([]map[string]any)) != 2 || pos["w.1.rate"].Line != 3 {
		t.Fatalf("Decode = %v, %v, %v", raw, pos, err)
	}
	tests := []struct{ in, want string }{
		{"[run\nseed = 1\n", "x.toml:1:5: run: invalid TOML: expected '.' or ']' to end table name, but got '\\n' instead"},
		{"[[w]]\n[[w]]\nrate = 1x\n", "x.toml:3:9: w.1.rate: invalid TOML: expected a top-level item to end"},
		{"a = 1\na = 2\n", "x.toml:2:1: a: invalid TOML: Key 'a' has already been defined."},
		{"t = {a = [1, {b = \"\x01\"}]}\n", "x.toml:1:19: t.a.1.b: invalid TOML: TOML files cannot contain control characters: '0x01'"},
		{"\xef\xbb\xbf\n[run]\nx = tru\n", "x.toml:3:5: run.x: invalid TOML: expected value but found \"tru\" instead"},
		{strings.Repeat("#", MaxBytes+1), "x.toml: widget is larger than 1048576 bytes"},
	}
	for _, tt := range tests {
		_, _, err := f.Decode("x.toml", []byte(tt.in))
		var e *Error
		if err == nil || !errors.As(err, &e) || e.File != "x.toml" || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Decode(%q) = %v\nwant %s", tt.in, err, tt.want)
		}
	}
}

func TestBaseName(t *testing.T) {
	for in, want := range map[string]string{
		"dir/my-run.toml": "my-run", "embedded:oom-crisis": "oom-crisis", "x": "x",
		"": "fallback", ".toml": "fallback", "/": "fallback", "dir/": "dir",
	} {
		if got := BaseName(in, "fallback"); got != want {
			t.Errorf("BaseName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestError(t *testing.T) {
	for _, tt := range []struct {
		e    Error
		want string
	}{
		{Error{File: "x.toml", Line: 4, Col: 1, Key: "kernel.swapiness", Msg: "unknown key"}, "x.toml:4:1: kernel.swapiness: unknown key"},
		{Error{File: "s.toml", Line: 3, Key: "seeds", Msg: "m"}, "s.toml:3: seeds: m"},
		{Error{File: "x.toml", Col: 7, Msg: "m"}, "x.toml: m"},
		{Error{Key: "k", Msg: "m"}, "k: m"},
		{Error{Msg: "m"}, "m"},
	} {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%+v.Error() = %q, want %q", tt.e, got, tt.want)
		}
	}
}

func TestClosest(t *testing.T) {
	keys := []string{"swappiness", "swap_mb", "seeds", "seed"}
	for in, want := range map[string]string{
		"swapiness": "swappiness", "Swappiness": "swappiness", "swap_mbb": "swap_mb", "sedds": "seeds",
		"seedz": "seeds", "zzz": "", "": "", strings.Repeat("s", 100): "",
	} {
		if got := Closest(in, keys); got != want {
			t.Errorf("Closest(%q) = %q, want %q", in, got, want)
		}
	}
	for _, tt := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"a", "", 1}, {"kitten", "sitting", 3}, {"flaw", "lawn", 2}, {strings.Repeat("a", 65), "a", int(^uint(0) >> 1)}} {
		if got := EditDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
