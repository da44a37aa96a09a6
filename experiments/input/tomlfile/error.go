package tomlfile

import (
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Error is one problem with an input file, located as precisely as is
// known. Scenarios and sweeps report their problems as Error values (or
// several of them, joined with errors.Join and retrievable with
// errors.As).
type Error struct {
	// File is the file's source (a path, or "embedded:NAME"), or "--set"
	// for scenario overrides.
	File string
	// Line and Col are 1-based; 0 when unknown, for example for a value
	// that kept its default. Col counts bytes.
	Line, Col int
	// Key is the dotted key at fault, with array indices counted from 0
	// ("workload.1.rate_per_s", "axis.0.values.2"); empty for errors not
	// about one key.
	Key string
	// Msg says what is wrong and, where it can, what to write instead.
	Msg string
}

// Error formats e as "FILE:LINE:COL: KEY: MSG", leaving out the parts that
// are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
		if e.Col > 0 {
			b.WriteString(":" + strconv.Itoa(e.Col))
		}
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// syntaxError converts an error of the TOML decoder into an *Error
// naming the key the error is about, with array indices. The line and
// column are recomputed from the byte offset of the error, because the
// decoder's line is one too far for errors at a line's end.
func syntaxError(file string, data []byte, err error) *Error {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return &Error{File: file, Msg: "invalid TOML: " + err.Error()}
	}
	line, col, key := pe.Position.Line, pe.Position.Col, pe.LastKey
	// The decoder skips a byte order mark and counts offsets after it.
	text := trimBOM(data)
	if start := pe.Position.Start; start > 0 && start <= len(text) {
		line = 1 + strings.Count(string(text[:start]), "\n")
		col = start - (strings.LastIndexByte(string(text[:start]), '\n') + 1) + 1
		if k, ok := KeyAt(text, start); ok {
			key = k
		}
	}
	return &Error{File: file, Line: line, Col: col, Key: key, Msg: "invalid TOML: " + pe.Message}
}

// maxSuggestDistance is the largest edit distance at which Closest
// suggests a key.
const maxSuggestDistance = 2

// Closest returns the candidate nearest to key, ignoring case, when it is
// within two edits (a typo: "swapiness" for "swappiness"), the first of
// equally near ones; or "" when none is that near.
func Closest(key string, candidates []string) string {
	best, bestDist := "", maxSuggestDistance+1
	for _, c := range candidates {
		if d := EditDistance(strings.ToLower(key), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// maxEditBytes bounds the strings EditDistance compares; longer ones are
// not worth suggesting for, and the bound keeps the work small.
const maxEditBytes = 64

// EditDistance is the Levenshtein distance between a and b, in bytes;
// math.MaxInt when either is longer than 64 bytes.
func EditDistance(a, b string) int {
	if len(a) > maxEditBytes || len(b) > maxEditBytes {
		return math.MaxInt
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
