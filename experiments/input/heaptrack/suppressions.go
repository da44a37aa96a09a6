package heaptrack

import (
	"bytes"
	"strings"
)

// builtinSuppressions returns heaptrack 1.4's built-in leak suppressions
// (src/analyze/suppressions.cpp), in its order. A new slice each call keeps
// the package free of mutable globals.
func builtinSuppressions() []string {
	return []string{
		// libc
		"__nss_module_allocate",
		"__gconv_read_conf",
		"__new_exitfn",
		"tzset_internal",
		// dynamic linker
		"dl_open_worker",
		// glib event loop
		"g_main_context_new",
		"g_main_context_new",
		"g_thread_self",
	}
}

// parseSuppression turns the text of an "S" line into a pattern, as
// heaptrack's parseSuppression does: trim, skip comments, require the LSAN
// "leak:" prefix. ok is false when the line yields no pattern.
//
// heaptrack 1.4 writes "S LEN TEXT" (the text is length-prefixed) but
// parses the whole "LEN TEXT", which never starts with "leak:", so
// embedded suppressions have no effect with it. We keep that behaviour so
// that our totals match heaptrack_print's.
func parseSuppression(text []byte) (pattern string, ok bool) {
	text = bytes.TrimFunc(text, isCSpace)
	if len(text) == 0 || text[0] == '#' {
		return "", false
	}
	rest, found := bytes.CutPrefix(text, []byte("leak:"))
	if !found || len(rest) == 0 {
		return "", false
	}
	return string(rest), true
}

// isCSpace is std::isspace in the "C" locale.
func isCSpace(c rune) bool {
	switch c {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}

// matchesSuppression reports whether pattern suppresses a string, as
// heaptrack's matchesSuppression: equality, or LLVM's TemplateMatch.
func matchesSuppression(pattern, s string) bool {
	return pattern == s || templateMatch(cString(pattern), cString(s))
}

// cString cuts s at its first NUL byte, as C string functions see it.
func cString(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// templateMatch ports TemplateMatch from LLVM's sanitizer_common, which
// heaptrack uses: '*' matches any run of characters, a leading '^' anchors
// the start, '$' anchors the end, and otherwise a piece may match anywhere
// (substring search).
func templateMatch(templ, str string) bool {
	if str == "" {
		return false
	}
	start := false
	if strings.HasPrefix(templ, "^") {
		start = true
		templ = templ[1:]
	}
	asterisk := false
	for templ != "" {
		if templ[0] == '*' {
			templ = templ[1:]
			start = false
			asterisk = true
			continue
		}
		if templ[0] == '$' {
			return str == "" || asterisk
		}
		if str == "" {
			return false
		}
		piece, rest, last := templ, "", true
		if i := strings.IndexAny(templ, "*$"); i >= 0 {
			piece, rest, last = templ[:i], templ[i:], false
		}
		pos := strings.Index(str, piece)
		if pos < 0 {
			return false
		}
		if start && pos != 0 {
			return false
		}
		if last {
			return true
		}
		str = str[pos+len(piece):]
		templ = rest
		start = false
		asterisk = false
	}
	return true
}
