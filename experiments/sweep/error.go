package sweep

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sbmpsim/sbmpsim/experiments/input/tomlfile"
)

// maxErrors bounds how many problems one Parse or NewPlan reports; the
// rest are counted in a last line, so a broken grid cannot flood stderr.
const maxErrors = 20

// Error is one problem with a sweep file, located as precisely as is
// known: "FILE:LINE:COL: KEY: MSG", leaving out what is unknown; the same
// type as a scenario's errors (File is the sweep file's Source, Key the
// dotted key with array indices counted from 0, "axis.1.values.2"). Parse
// and NewPlan return it, or several joined with errors.Join (errors.As
// finds the first).
type Error = tomlfile.Error

// errorList collects the problems of one file.
type errorList struct {
	file  string
	lines map[string]int
	errs  []*Error
	seen  map[string]bool
}

// at records a problem with key, located at the key's line or, when the
// key itself has none (a value that was not written), its nearest written
// parent's.
func (l *errorList) at(key, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	e := &Error{File: l.file, Line: l.line(key), Key: key, Msg: msg}
	if l.seen == nil {
		l.seen = map[string]bool{}
	}
	if id := e.Error(); !l.seen[id] {
		l.seen[id] = true
		l.errs = append(l.errs, e)
	}
}

func (l *errorList) line(key string) int {
	for k := key; k != ""; {
		if n, ok := l.lines[k]; ok {
			return n
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return 0
}

// full reports whether enough problems have been found to stop looking.
func (l *errorList) full() bool { return len(l.errs) > maxErrors }

// err returns nil, the only problem, or them all joined in line order
// (problems without a line last, in the order found), capped at maxErrors.
func (l *errorList) err() error {
	switch len(l.errs) {
	case 0:
		return nil
	case 1:
		return l.errs[0]
	}
	sorted := slices.Clone(l.errs)
	slices.SortStableFunc(sorted, func(a, b *Error) int {
		if (a.Line == 0) != (b.Line == 0) {
			if a.Line == 0 {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.Line, b.Line)
	})
	var joined []error
	for i, e := range sorted {
		if i == maxErrors {
			joined = append(joined, fmt.Errorf("... and more problems"))
			break
		}
		joined = append(joined, e)
	}
	return errors.Join(joined...)
}
