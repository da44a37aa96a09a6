// Package scripttest runs scenario scripts in the style of
// github.com/cockroachdb/datadriven (STYLE.md): a script is commands,
// each followed by a "----" line and the output it must print, ending at
// the next blank line. Lines starting with # are comments. With rewrite
// set, the expected outputs are regenerated from what the commands
// print; commit only diffs you understand.
//
// A package's tests supply the commands (a Runner) and their own
// -rewrite flag; Args parses a command's key=value arguments so that an
// unknown argument is an error and a typo cannot pass silently.
package scripttest

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Runner executes one command line of a script and returns its output.
// Errors should be output too ("error: ..."), so that scripts can show
// expected failures.
type Runner func(line string) string

// RunDir runs every file matching glob as a script, each with a fresh
// Runner from newRunner, as a subtest named after the file.
func RunDir(t *testing.T, glob string, rewrite bool, newRunner func() Runner) {
	t.Helper()
	files, err := filepath.Glob(glob)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no scripts match %s", glob)
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			RunFile(t, path, rewrite, newRunner())
		})
	}
}

// Case is one command of a script with the output it expects.
type Case struct {
	Pre      []string // comments and blank lines before the command, kept verbatim
	Line     int      // 1-based line of the command
	Cmd      string
	Expected []string
}

// Parse splits a script into cases. A trailing run of comments and
// blank lines is returned as the tail.
func Parse(path string, text string) (cases []Case, tail []string, err error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	var pre []string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			pre = append(pre, l)
			continue
		}
		if i+1 >= len(lines) || lines[i+1] != "----" {
			return nil, nil, fmt.Errorf("%s:%d: command %q is not followed by a ---- line", path, i+1, l)
		}
		c := Case{Pre: pre, Line: i + 1, Cmd: l}
		pre = nil
		i += 2
		for i < len(lines) && strings.TrimSpace(lines[i]) != "" {
			c.Expected = append(c.Expected, lines[i])
			i++
		}
		i-- // the blank line (or EOF) belongs to what follows
		cases = append(cases, c)
	}
	return cases, pre, nil
}

// RunFile runs the script at path with run, comparing every command's
// output with the script's, or rewriting the script when rewrite is set.
func RunFile(t *testing.T, path string, rewrite bool, run Runner) {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cases, tail, err := Parse(path, string(text))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, c := range cases {
		got := run(c.Cmd)
		gotLines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
		if got == "" {
			gotLines = nil
		}
		for _, l := range gotLines {
			if strings.TrimSpace(l) == "" {
				t.Fatalf("%s:%d: %s: output has a blank line, which the script format cannot hold:\n%s", path, c.Line, c.Cmd, got)
			}
		}
		if !rewrite && !slices.Equal(gotLines, c.Expected) {
			t.Errorf("%s:%d: %s\nexpected:\n%s\ngot:\n%s", path, c.Line, c.Cmd, strings.Join(c.Expected, "\n"), strings.Join(gotLines, "\n"))
		}
		for _, l := range c.Pre {
			out.WriteString(l + "\n")
		}
		out.WriteString(c.Cmd + "\n----\n")
		for _, l := range gotLines {
			out.WriteString(l + "\n")
		}
	}
	for _, l := range tail {
		out.WriteString(l + "\n")
	}
	if rewrite && out.String() != string(text) {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %s", path)
	}
}

// Args are a command's key=value arguments and bare words.
type Args struct {
	kv    map[string]string
	words []string
	used  map[string]bool
	// wordsTaken is set once a handler read the bare words.
	wordsTaken bool
}

// ParseArgs splits fields into key=value arguments and bare words.
func ParseArgs(fields []string) *Args {
	a := &Args{kv: map[string]string{}, used: map[string]bool{}}
	for _, f := range fields {
		if k, v, ok := strings.Cut(f, "="); ok {
			a.kv[k] = v
		} else {
			a.words = append(a.words, f)
		}
	}
	return a
}

// Int returns key's value; a missing key is an error unless def is given.
func (a *Args) Int(key string, def ...int64) (int64, error) {
	a.used[key] = true
	v, ok := a.kv[key]
	if !ok {
		if len(def) > 0 {
			return def[0], nil
		}
		return 0, fmt.Errorf("missing %s=", key)
	}
	n, err := strconv.ParseInt(v, 0, 64)
	if err != nil {
		return 0, fmt.Errorf("%s=%s: %w", key, v, err)
	}
	return n, nil
}

// String returns key's value; a missing key is an error unless def is
// given.
func (a *Args) String(key string, def ...string) (string, error) {
	a.used[key] = true
	v, ok := a.kv[key]
	if !ok {
		if len(def) > 0 {
			return def[0], nil
		}
		return "", fmt.Errorf("missing %s=", key)
	}
	return v, nil
}

// Has reports whether key was given, marking it read.
func (a *Args) Has(key string) bool {
	a.used[key] = true
	_, ok := a.kv[key]
	return ok
}

// Words returns the bare words, marking them read.
func (a *Args) Words() []string {
	a.wordsTaken = true
	return a.words
}

// Unused reports an argument no handler read: a typo.
func (a *Args) Unused() error {
	if len(a.words) > 0 && !a.wordsTaken {
		return fmt.Errorf("unexpected word(s) %v", a.words)
	}
	for _, k := range slices.Sorted(maps.Keys(a.kv)) {
		if !a.used[k] {
			return fmt.Errorf("unknown argument %s=", k)
		}
	}
	return nil
}
