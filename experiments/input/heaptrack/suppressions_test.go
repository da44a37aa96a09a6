package heaptrack

import "testing"

func TestTemplateMatch(t *testing.T) {
	cases := []struct {
		templ, str string
		want       bool
	}{
		{"foo", "xfooy", true}, // pieces match anywhere
		{"foo", "fo", false},
		{"^foo", "xfoo", false},
		{"^foo", "foox", true},
		{"foo$", "xfoo", true},
		{"foo$", "foox", false},
		{"a*b", "axxb", true},
		{"a*b", "ba", false},
		{"^a*c$", "abc", true},
		{"*", "x", true},
		{"x", "", false}, // an empty string never matches
		{"^", "abc", true},
		{"a*$", "abc", true},
		{"$", "a", false},
		{"dl_open_worker", "_dl_open_worker_begin", true},
	}
	for _, tc := range cases {
		if got := templateMatch(tc.templ, tc.str); got != tc.want {
			t.Errorf("templateMatch(%q, %q) = %v, want %v", tc.templ, tc.str, got, tc.want)
		}
	}
	if !matchesSuppression("a\x00b", "a\x00b") {
		t.Error("equal strings must match")
	}
}

func TestParseSuppression(t *testing.T) {
	cases := []struct {
		text    string
		pattern string
		ok      bool
	}{
		{"leak:foo", "foo", true},
		{" \tleak:foo bar \r", "foo bar", true},
		{"# comment", "", false},
		{"", "", false},
		{"leak:", "", false},
		{"c leak:foo", "", false}, // how heaptrack 1.4 writes them: "S LEN TEXT"
		{"called_from_lib:foo", "", false},
	}
	for _, tc := range cases {
		pattern, ok := parseSuppression([]byte(tc.text))
		if pattern != tc.pattern || ok != tc.ok {
			t.Errorf("parseSuppression(%q) = %q, %v; want %q, %v", tc.text, pattern, ok, tc.pattern, tc.ok)
		}
	}
}
