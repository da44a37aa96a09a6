package workload

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Histogram is an empirical size distribution: rows of sizes with
// weights. ParseHistogram reads one from a file; HistogramSize samples it.
//
// The file format, one row per line:
//
//	# sizes seen in production, 2024-05-01       <- comment
//	size_bytes,weight                            <- optional header
//	64,1200                                      <- exactly 64 bytes
//	128,800   # a comment may end any line
//	129,256,300                                  <- uniform over 129..256
//
// The rules:
//   - A row is "size_bytes,weight" (one exact size) or
//     "lo_bytes,hi_bytes,weight" (every whole size from lo to hi,
//     inclusive, equally likely). The two kinds mix freely.
//   - Sizes are decimal integers in [1, MaxSizeBytes], lo <= hi. A weight
//     is a decimal number (1, 0.25, 3e6), finite and >= 0; weights are
//     relative and need not sum to 1. At least one must be > 0.
//   - Rows may repeat sizes or overlap: the distribution is their
//     mixture, each row chosen with probability weight / total.
//   - '#' starts a comment that runs to the end of the line. Blank lines
//     are skipped. Spaces and tabs around fields are ignored. Lines end
//     in LF or CRLF; a leading UTF-8 byte-order mark is skipped.
//   - The first row may instead be a header, exactly "size_bytes,weight"
//     or "lo_bytes,hi_bytes,weight" (spreadsheets write one). It is
//     skipped and constrains nothing; a header anywhere else is an error.
//   - Limits: 4096 bytes per line, 2²⁰ rows.
type Histogram struct {
	// Source is the name the histogram was parsed under.
	Source string
	// Rows are the rows in file order.
	Rows []HistogramRow
}

// HistogramRow is one row of a Histogram: sizes LoBytes..HiBytes
// (inclusive; equal for one exact size), chosen with relative weight
// Weight.
type HistogramRow struct {
	LoBytes, HiBytes int64
	Weight           float64
}

// maxLineBytes bounds a histogram line, so a binary file fed by mistake
// fails fast instead of filling memory.
const maxLineBytes = 4096

// ParseError is a problem with a histogram file, at line Line (1-based)
// of File. Line is 0 for problems with the file as a whole, such as having
// no rows. Err is the underlying read error, if any.
type ParseError struct {
	File string
	Line int
	Msg  string
	Err  error
}

// Error formats e as "FILE:LINE: MSG", or "FILE: MSG" when Line is 0.
func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Unwrap returns the read error behind e, if any.
func (e *ParseError) Unwrap() error { return e.Err }

// ParseHistogram reads a histogram in the format Histogram documents from
// r; name is the file name errors report. It returns a *ParseError for any
// problem, and never panics. The rows it returns always satisfy
// HistogramSize.
func ParseHistogram(name string, r io.Reader) (Histogram, error) {
	h := Histogram{Source: name}
	sc := bufio.NewScanner(r)
	// Room for the longest line allowed plus its CRLF, so the length
	// check below, not the scanner, reports long lines when it can.
	sc.Buffer(make([]byte, 0, 512), maxLineBytes+2)
	fail := func(line int, format string, args ...any) (Histogram, error) {
		return Histogram{}, &ParseError{File: name, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	line := 0
	var total float64
	sawRow := false // a row or a header came before: no header after it
	for sc.Scan() {
		line++
		text := sc.Bytes()
		if line == 1 {
			text = bytes.TrimPrefix(text, []byte("\uFEFF"))
		}
		if len(text) > maxLineBytes {
			return fail(line, "line is %d bytes long, more than the limit %d", len(text), maxLineBytes)
		}
		if i := bytes.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		s := strings.TrimSpace(string(text))
		if s == "" {
			continue
		}
		fields := strings.Split(s, ",")
		for i := range fields {
			fields[i] = strings.TrimSpace(fields[i])
		}
		if isHeader(fields) {
			if sawRow {
				return fail(line, "header %q is allowed only as the first row", s)
			}
			sawRow = true
			continue
		}
		sawRow = true
		row, msg := parseRow(fields)
		if msg != "" {
			return fail(line, "%s", msg)
		}
		if len(h.Rows) == maxTableRows {
			return fail(line, "more than %d rows; merge rows into ranges", maxTableRows)
		}
		total += row.Weight
		if math.IsInf(total, 0) {
			return fail(line, "the weights sum to more than %g; scale them down", math.MaxFloat64)
		}
		h.Rows = append(h.Rows, row)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fail(line+1, "line is longer than the limit %d bytes", maxLineBytes)
		}
		return Histogram{}, &ParseError{File: name, Line: line + 1, Msg: "read: " + err.Error(), Err: err}
	}
	if len(h.Rows) == 0 {
		return fail(0, "no rows; write lines of size_bytes,weight or lo_bytes,hi_bytes,weight")
	}
	if !(total > 0) {
		return fail(0, "every weight is 0; give at least one row a positive weight")
	}
	return h, nil
}

// isHeader reports whether fields are one of the two header rows.
func isHeader(fields []string) bool {
	switch len(fields) {
	case 2:
		return fields[0] == "size_bytes" && fields[1] == "weight"
	case 3:
		return fields[0] == "lo_bytes" && fields[1] == "hi_bytes" && fields[2] == "weight"
	}
	return false
}

// parseRow parses a row's trimmed fields, returning a message saying what
// to fix if they are not a valid row.
func parseRow(fields []string) (HistogramRow, string) {
	var row HistogramRow
	var msg string
	switch len(fields) {
	case 2:
		if row.LoBytes, msg = parseSize("size_bytes", fields[0]); msg != "" {
			return row, msg
		}
		row.HiBytes = row.LoBytes
	case 3:
		if row.LoBytes, msg = parseSize("lo_bytes", fields[0]); msg != "" {
			return row, msg
		}
		if row.HiBytes, msg = parseSize("hi_bytes", fields[1]); msg != "" {
			return row, msg
		}
		if row.HiBytes < row.LoBytes {
			return row, fmt.Sprintf("hi_bytes %d is below lo_bytes %d", row.HiBytes, row.LoBytes)
		}
	default:
		return row, fmt.Sprintf("%d fields; want size_bytes,weight or lo_bytes,hi_bytes,weight", len(fields))
	}
	w := fields[len(fields)-1]
	v, err := strconv.ParseFloat(w, 64)
	if !onlyBytes(w, "0123456789.eE+-") || err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return row, fmt.Sprintf("weight %s is not a finite number >= 0", quote(w))
	}
	row.Weight = v
	return row, ""
}

// parseSize parses a size field named param.
func parseSize(param, field string) (int64, string) {
	v, err := strconv.ParseInt(field, 10, 64)
	if !onlyBytes(field, "0123456789") || err != nil || v < 1 || v > MaxSizeBytes {
		return 0, fmt.Sprintf("%s %s is not a whole number of bytes in [1, %d]", param, quote(field), MaxSizeBytes)
	}
	return v, ""
}

// onlyBytes reports whether s is made of bytes from set only. It keeps
// to plain decimal what strconv would also accept: signs on sizes, and
// hexadecimal, underscores, "inf" and "nan" in weights.
func onlyBytes(s, set string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(set, s[i]) < 0 {
			return false
		}
	}
	return true
}

// quote quotes a field for an error message, cut to 40 bytes so a long
// garbage line does not flood the message.
func quote(s string) string {
	if len(s) > 40 {
		return strconv.Quote(s[:40]) + "..."
	}
	return strconv.Quote(s)
}
