package heaptrack

import "fmt"

// Error reports a problem with the trace at a given line. Line counts the
// lines of the decompressed text from 1; it is the line being read when a
// decompression or I/O error interrupted reading. zstd decodes whole blocks
// (up to 128 KiB of text), so damage is reported at the first line of the
// block that holds it, which can be before the damaged line.
type Error struct {
	File string // the name given to NewReader or the path given to Open
	Line int    // 1-based line number in the decompressed text
	Msg  string // what is wrong, in words meant for the person holding the file
	Err  error  // the underlying error, if a read or decompression failed
}

// Error formats the error as FILE:LINE: message.
func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Unwrap returns the underlying read or decompression error, if any.
func (e *Error) Unwrap() error {
	return e.Err
}

// errorf builds an *Error at the current line.
func (r *Reader) errorf(format string, args ...any) *Error {
	return &Error{File: r.name, Line: r.lineNo, Msg: fmt.Sprintf(format, args...)}
}

// ioError wraps a read or decompression error at the current line.
func (r *Reader) ioError(err error) *Error {
	return &Error{File: r.name, Line: r.lineNo, Msg: "reading trace: " + err.Error(), Err: err}
}

// quoteField shows a piece of a line in an error message, shortened so that
// a huge corrupt line does not produce a huge message.
func quoteField(b []byte) string {
	const maxShownBytes = 40
	if len(b) > maxShownBytes {
		return fmt.Sprintf("%q...", b[:maxShownBytes])
	}
	return fmt.Sprintf("%q", b)
}
