package scenario

import (
	"errors"
	"fmt"
	"sort"

	"github.com/sbmpsim/sbmpsim/experiments/input/tomlfile"
)

// SetSource is the Error.File of errors about --set overrides, and the
// origin Validate reports for values an override supplied.
const SetSource = "--set"

// maxErrors bounds how many errors Parse and Validate report at once; the
// rest are summarised in one line, so a garbage file cannot flood stderr.
const maxErrors = 20

// Error is one problem with a scenario, located as precisely as is known:
// "FILE:LINE:COL: KEY: MSG". Parse, Set and Validate return it (or several
// of them, joined with errors.Join and retrievable with errors.As); File is
// the scenario's Source, or SetSource for --set overrides.
type Error = tomlfile.Error

// errorList collects errors in the order they are found.
type errorList struct {
	errs []*Error
}

// add appends a new error.
func (l *errorList) add(file string, o origin, key, format string, args ...any) {
	l.errs = append(l.errs, &Error{File: file, Line: o.line, Col: o.col, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// err returns nil, the only error, or all of them joined, sorted by
// position (errors without a line last, in the order they were found) and
// capped at maxErrors.
func (l *errorList) err() error {
	switch len(l.errs) {
	case 0:
		return nil
	case 1:
		return l.errs[0]
	}
	sorted := make([]*Error, len(l.errs))
	copy(sorted, l.errs)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if (a.Line == 0) != (b.Line == 0) {
			return a.Line != 0
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	var joined []error
	for i, e := range sorted {
		if i == maxErrors {
			joined = append(joined, fmt.Errorf("... and %d more errors", len(sorted)-maxErrors))
			break
		}
		joined = append(joined, e)
	}
	return errors.Join(joined...)
}

// KeyError returns an *Error about key located as Validate locates its
// own: at the key's position in the file, at its enclosing table when
// the key kept its default, or at SetSource when an override supplied
// it. Runners that refuse a valid scenario for reasons of their own (a
// real run needs every workload in a cgroup with a memory limit) report
// the refusal this way, so it reads like any other scenario error.
func (s *Scenario) KeyError(key, format string, args ...any) *Error {
	file, o := s.originOf(key, true)
	return &Error{File: file, Line: o.line, Col: o.col, Key: key, Msg: fmt.Sprintf(format, args...)}
}
